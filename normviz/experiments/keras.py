"""Experiment 6 — the Keras BN-vs-LN comparison, as commonly written and as a fair comparison.

A common Keras pattern puts ``BatchNormalization()`` in one CNN and
``LayerNormalization(axis=3)`` in another and compares them. Two things differ from what the
names suggest:

1. **Keras defaults.** ``BatchNormalization(momentum=0.99, epsilon=1e-3)``. Keras' momentum is
   the weight of the *old* running value, ``r ← m·r + (1 − m)·batch``; PyTorch's momentum is
   the weight of the *new* batch value, ``r ← (1 − p)·r + p·batch``. So Keras m = 0.99 is
   PyTorch p = 1 − m = 0.01 (PyTorch's default is p = 0.1, ε = 1e-5). With p = 0.01 the
   running statistics forget their start (μ = 0, σ² = 1) with a time constant of ~100 steps,
   so in a short run eval-mode BN uses statistics that are still partly the initial ones.
2. **``LayerNormalization(axis=3)`` on NHWC images normalizes over the channels of each
   pixel** — per (n, h, w) over C, which is Positional Normalization (PONO), not LN over
   (C, H, W) as in the LN paper and PyTorch's ``LayerNorm([C, H, W])``.

Here the same CNN (conv 16 → conv 32 at 8×8, GAP, linear) is trained on the digits four
times with the same steps and data order: "as written" (BN with p = 0.01, ε = 1e-3; LN over
C per pixel, ε = 1e-3) and "fair" (BN with PyTorch's p = 0.1, ε = 1e-5; LN over C, H, W).
"""
from __future__ import annotations

from normviz.experiments.base import Experiment, PaperTable

RUNS = {
    # key: (label, modules key, constructor options)
    "written_bn": ("as written: BN, Keras momentum 0.99 (p = 0.01), ε 1e-3", "batch",
                   {"momentum": 0.01, "eps": 1e-3}),
    "written_ln": ("as written: LayerNormalization(axis=3) = over C per pixel, ε 1e-3", "pono", {"eps": 1e-3}),
    "fair_bn": ("fair: BN, PyTorch p = 0.1, ε 1e-5", "batch", {}),
    "fair_ln": ("fair: LN over (C, H, W), ε 1e-5", "layer", {}),
}
SETTINGS = dict(widths=(16, 32), batch_size=32, lr=0.1, momentum=0.9)
STEPS, QUICK_STEPS, LOG_EVERY = 600, 30, 20
KERAS_MOMENTUM = 0.99


def keras_to_torch_momentum(m: float) -> float:
    """Keras ``momentum`` m (weight of the old value) → PyTorch ``momentum`` p = 1 − m."""
    return 1.0 - m


def axis3_check(seed: int = 0) -> dict:
    """Max-abs difference of Keras-style LN(axis=3) (per pixel over C) to PONO and to LN(C,H,W).

    Computed on a random NCHW tensor with normviz's numpy reference (``normalize``), ε = 1e-3.
    """
    import numpy as np

    from normviz.norms import normalize

    x = np.random.default_rng(seed).normal(1.0, 2.0, size=(4, 6, 5, 5))
    nhwc = x.transpose(0, 2, 3, 1)  # (N, H, W, C): Keras' layout
    mu = nhwc.mean(axis=3, keepdims=True)
    var = nhwc.var(axis=3, keepdims=True)
    keras = ((nhwc - mu) / np.sqrt(var + 1e-3)).transpose(0, 3, 1, 2)  # back to NCHW
    return {"vs_pono": float(np.abs(keras - normalize(x, "pono", eps=1e-3)).max()),
            "vs_layer": float(np.abs(keras - normalize(x, "layer", eps=1e-3)).max())}


def _running_mean_share(model) -> float:
    # Fraction of the running statistics' memory that is still the initial value: (1 − p)^t.
    from torch import nn

    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            return float((1 - m.momentum) ** int(m.num_batches_tracked))
    return 0.0


def run(seed: int = 0, quick: bool = False, progress=None) -> dict:
    from normviz.experiments.loop import cnn, digits, fit

    steps = QUICK_STEPS if quick else STEPS
    data = digits("cnn")
    out = {"seed": seed, "quick": quick, "settings": dict(SETTINGS, steps=steps, widths=list(SETTINGS["widths"])),
           "keras_momentum": KERAS_MOMENTUM, "torch_momentum": keras_to_torch_momentum(KERAS_MOMENTUM),
           "axis3": axis3_check(seed), "runs": {}}
    for i, (key, (label, norm, opts)) in enumerate(RUNS.items()):
        model = cnn(norm, widths=SETTINGS["widths"], seed=seed, norm_opts=opts)
        sub = (lambda f, t, i=i: progress((i + f) / len(RUNS), t)) if progress else None
        log = fit(model, data, steps=steps, batch_size=SETTINGS["batch_size"], lr=SETTINGS["lr"],
                  momentum=SETTINGS["momentum"], seed=seed, log_every=min(LOG_EVERY, steps),
                  measure=_running_mean_share if norm == "batch" else None, progress=sub, label=label)
        log["label"] = label
        log["norm"] = norm
        log["options"] = opts
        out["runs"][key] = log
    return out


def claim(results: dict) -> tuple[bool, str]:
    """Keras' LN(axis=3) is per-pixel (PONO), not LN; and Keras' BN momentum leaves eval-mode
    BN behind early on: its mean eval error over the first half of the run exceeds PyTorch-
    momentum BN's."""
    ax = results["axis3"]
    runs = results["runs"]
    is_pono = ax["vs_pono"] < 1e-9 and ax["vs_layer"] > 0.1
    half = len(runs["written_bn"]["val_error"]) // 2

    def early(key):
        v = runs[key]["val_error"][1:half + 1]
        return sum(v) / len(v)

    e_keras, e_torch = early("written_bn"), early("fair_bn")
    lag = e_keras > e_torch
    share = runs["written_bn"]["measure"][half]
    final = {k: sum(runs[k]["val_error"][-5:]) / len(runs[k]["val_error"][-5:]) for k in runs}  # last 5 logs
    sentence = (
        f"LayerNormalization(axis=3) equals per-pixel normalization over C (max difference "
        f"{ax['vs_pono']:.1e}) and not LN over (C, H, W) (max difference {ax['vs_layer']:.2f}). "
        f"With Keras' momentum 0.99 (PyTorch p = 0.01) BN's mean eval error over the first "
        f"{runs['written_bn']['step'][half]} steps is {e_keras:.1f} % vs {e_torch:.1f} % with p = 0.1 "
        f"(at step {runs['written_bn']['step'][half]} {share:.0%} of its running statistics are still the "
        f"initial μ = 0, σ² = 1). Eval error over the last 5 logs: BN as written {final['written_bn']:.1f} %, LN as written "
        f"{final['written_ln']:.1f} %, BN fair {final['fair_bn']:.1f} %, LN fair {final['fair_ln']:.1f} %."
    )
    return is_pono and lag, sentence


RUN_LABELS = {"written_bn": "BN as written", "written_ln": "LN as written (per pixel)", "fair_bn": "BN fair",
              "fair_ln": "LN fair (C, H, W)"}


def _final(runs: dict, key: str) -> float:
    v = runs[key]["val_error"][-5:]  # the last 5 logs
    return sum(v) / len(v)


def _early(runs: dict, key: str) -> float:
    half = len(runs[key]["val_error"]) // 2
    v = runs[key]["val_error"][1:half + 1]
    return sum(v) / len(v)


def headline(results: dict) -> dict:
    runs = results["runs"]
    out = {f"{RUN_LABELS[k]}: eval error, last 5 logs (%)": round(_final(runs, k), 2) for k in runs}
    out.update({f"{RUN_LABELS[k]}: eval error, first half (%)": round(_early(runs, k), 2) for k in ("written_bn", "fair_bn")})
    out["axis=3 vs per-pixel normalization (max diff)"] = results["axis3"]["vs_pono"]
    out["axis=3 vs LN over (C, H, W) (max diff)"] = round(results["axis3"]["vs_layer"], 3)
    return out


def facts(results: dict) -> list:
    ax, runs = results["axis3"], results["runs"]
    return [
        ("LayerNormalization(axis=3) equals normalizing each pixel's channels (ConvNeXt's channels-last LN)",
         ax["vs_pono"] < 1e-9),
        ("It differs from LN over (C, H, W)", ax["vs_layer"] > 0.1),
        ("With Keras' momentum (p = 0.01) BN's eval error over the first half is higher than with PyTorch's p = 0.1",
         _early(runs, "written_bn") > _early(runs, "fair_bn")),
        ("The per-pixel LN ('as written') ends with lower eval error than LN over (C, H, W) ('fair')",
         _final(runs, "written_ln") < _final(runs, "fair_ln")),
        ("With fair settings BN ends with lower eval error than LN (the GN paper's ordering)",
         _final(runs, "fair_bn") < _final(runs, "fair_ln")),
    ]


def figure(results: dict) -> list:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from normviz.palette import OKABE_ITO as COLORS

    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=("as written", "fair comparison"))
    style = {"written_bn": (COLORS[3], "solid", "circle", 1), "written_ln": (COLORS[0], "dash", "square", 1),
             "fair_bn": (COLORS[3], "solid", "circle", 2), "fair_ln": (COLORS[0], "dash", "square", 2)}
    for key, log in results["runs"].items():
        colour, dash, symbol, col = style[key]
        fig.add_scatter(x=log["step"], y=log["val_error"], mode="lines+markers", name=log["label"],
                        line_color=colour, line_dash=dash, marker_symbol=symbol, row=1, col=col)
    fig.update_yaxes(title_text="test error % (eval mode)", type="log", col=1)
    fig.update_xaxes(title_text="step")
    fig.update_layout(title="Keras BN vs LN on digits: as written and fair", height=460,
                      legend=dict(orientation="h", y=-0.25))

    fig2 = go.Figure()
    for key in ("written_bn", "fair_bn"):
        log = results["runs"][key]
        fig2.add_scatter(x=log["step"], y=log["measure"], mode="lines+markers", name=log["label"],
                         line_color=COLORS[3] if key == "written_bn" else COLORS[2],
                         line_dash="solid" if key == "written_bn" else "dot")
    fig2.update_layout(title="Share of BN's running statistics still at their initial value, (1 − p)^t",
                       xaxis_title="step", yaxis_title="share", yaxis_range=[0, 1.02],
                       legend=dict(orientation="h", y=-0.25))
    return [fig, fig2]


SPEC = Experiment(
    key="keras",
    title="The Keras BN-vs-LN example, as written and as a fair comparison",
    question="cnn",
    echoes="The Keras example comparing BatchNormalization and LayerNormalization on MNIST",
    paper=(
        PaperTable(
            source="Wu & He 2018 (GN paper): a fair BN vs LN comparison, ResNet-50 ImageNet, 32 images/GPU",
            columns=("norm", "val error %"),
            rows=(("BN", 23.6), ("LN", 25.3), ("GN", 24.1), ("IN", 28.4)),
        ),
        PaperTable(
            source="The Keras example the seed quotes (KMNIST): what differed besides the norm",
            columns=("network", "epochs", "batch", "filters", "dropout"),
            rows=(("BatchNormalization net", 25, "250", "32, 64", "no"),
                  ("LayerNormalization net", 1, "(default)", "10", "yes")),
            note="as described in the seed; a difference in its accuracy cannot be put on the norm",
        ),
        PaperTable(
            source="Defaults that differ between the frameworks (Keras docs, torch.nn)",
            columns=("setting", "Keras", "PyTorch"),
            rows=(("BN momentum", "0.99 (keeps 99 % of the old running value)",
                   "0.1 (takes 10 % of the new batch value); Keras 0.99 ↔ p = 0.01"),
                  ("BN ε", "1e-3", "1e-5"),
                  ("LN axes", "LayerNormalization(axis=3) on NHWC: C of each pixel",
                   "LayerNorm([C, H, W]): all of C, H, W per sample")),
            note="Keras' momentum m corresponds to PyTorch's p = 1 − m",
        ),
    ),
    look_for="Two things besides the norm change between the Keras-style runs and the fair ones: BN's momentum "
             "(Keras 0.99 is PyTorch p = 0.01, which leaves the running statistics near their start for hundreds of "
             "steps) and what LayerNormalization(axis=3) pools (each pixel's channels, as ConvNeXt's channels-last "
             "LayerNorm does: a legitimate layer, just not LN over C, H, W). Compare the four curves.",
    recommendation="Compare norms with everything else equal. The example the seed quotes was not: its BN net and "
                   "LN net differed in epochs, batch size, filters and dropout, on KMNIST.",
    claim_text="LayerNormalization(axis=3) equals per-pixel normalization over C, not LN over "
               "(C, H, W); with Keras' momentum BN's eval error over the first half of the run is "
               "higher than with PyTorch's.",
    how="Keras BatchNormalization(momentum=0.99, epsilon=1e-3) ↦ PyTorch momentum p = 1 − 0.99 = "
        "0.01, eps 1e-3. Same CNN for all four runs (conv 16 → conv 32 at 8×8, GAP, linear), "
        "batch 32, SGD lr 0.1, momentum 0.9, 600 steps, same data order.",
    full_seconds=60,
    run_fn=run,
    claim_fn=claim,
    figure_fn=figure,
    headline_fn=headline,
    facts_fn=facts,
)
