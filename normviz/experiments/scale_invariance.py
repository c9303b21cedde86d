"""Scale invariance and the effective learning rate (van Laarhoven 2017; Zhang et al. 2019).

A conv or linear layer followed by BN computes the same function for weights ``w`` and ``k·w``
(k > 0): BN divides the scale out (exactly at ε = 0) and subtracts any bias. So the loss ``L``
satisfies ``L(k·w) = L(w)``, hence ``∇L(k·w) = ∇L(w)/k`` and ``w · ∇L(w) = 0``. A plain SGD step
``w′ = w − η∇L`` can then only lengthen w: ``‖w′‖² = ‖w‖² + η²‖∇L‖²``. The direction ``w/‖w‖``,
the only thing the function depends on, moves by about ``η‖∇L(ŵ)‖/‖w‖²``: the effective learning
rate is ``η/‖w‖²``. Without weight decay ‖w‖ grows and the effective rate decays; weight decay
``λ`` shrinks w by ``(1 − ηλ)`` per step until the two balance, and keeps the effective rate up.

The seed says normalization keeps weights "restricted to a certain range". Measured here: the
same BN CNN on the digits, plain SGD (no momentum, so the growth law is exact) with and without
weight decay, ‖w‖ of each conv before a BN over training and ``η/‖w‖²``, beside Weight Norm's
‖v‖ (the same law, norm-spec §2.2), and the invariance itself (scale w by k, compare outputs).
"""
from __future__ import annotations

from normviz.experiments.base import Experiment, PaperTable

RUNS = ("bn", "bn_wd", "wn")
LABELS = {"bn": "BN, no weight decay", "bn_wd": "BN, weight decay", "wn": "Weight Norm ‖v‖, no weight decay"}
SETTINGS = dict(widths=(16, 32), batch_size=32, lr=0.1, momentum=0.0, weight_decay=1e-2)
STEPS, QUICK_STEPS = 1500, 20
SCALES = (0.5, 2.0, 10.0, 100.0)
EPS0 = 1e-30  # "ε = 0": torch refuses ε ≤ 0 in training; 1e-30 is far below float64 resolution of any variance here
SETTLE = 0.25  # "settles": the change of ‖w‖ over this last fraction of training


def weight_norms(model) -> list[float]:
    """‖w‖ of every conv weight that a BN follows, or ‖v‖ of every Weight Norm layer, in order."""
    from torch import nn

    from normviz.norms.torch_modules import BatchNorm, WeightNorm

    out, mods = [], list(model.modules())
    for i, m in enumerate(mods):
        if isinstance(m, WeightNorm):
            out.append(float(m.v.detach().norm()))
        elif isinstance(m, nn.Conv2d) and any(isinstance(n, BatchNorm) for n in mods[i + 1:i + 2]):
            out.append(float(m.weight.detach().norm()))
    return out


def invariance_check(seed: int = 0, batch: int = 32) -> dict:
    """Scale the first conv's weight and bias by k: max |Δ output| of the whole net (float64,
    train mode) at ε = 0 (``EPS0``) and at BN's ε = 1e-5, ``k·‖∇w(k·w)‖ / ‖∇w(w)‖`` (1 if ∇ ∝ 1/k), and the
    cosine between w and ∇w (0 if w ⊥ ∇w)."""
    import copy

    import torch
    import torch.nn.functional as F

    from normviz.experiments.loop import cnn, digits
    from normviz.norms.torch_modules import BatchNorm

    X, y = digits("cnn")[:2]
    idx = torch.randperm(len(X), generator=torch.Generator().manual_seed(seed))[:batch]
    X, y = X[idx].double(), y[idx]
    base = cnn("batch", widths=SETTINGS["widths"], seed=seed).double().train()

    def forward(model, k, eps):
        m = copy.deepcopy(model)
        for mod in m.modules():
            if isinstance(mod, BatchNorm):
                mod.eps = eps
        with torch.no_grad():
            m[0][0].weight.mul_(k)
            m[0][0].bias.mul_(k)
        out = m(X)
        F.cross_entropy(out, y).backward()
        return out.detach(), m[0][0].weight

    res = {"k": list(SCALES), "max_delta_eps0": [], "max_delta_eps": [], "grad_ratio": []}
    for eps_key, eps in (("max_delta_eps0", EPS0), ("max_delta_eps", 1e-5)):
        ref, w = forward(base, 1.0, eps)
        if eps == EPS0:
            wd, g = w.detach(), w.grad
            res["cosine_w_grad"] = float((wd * g).sum() / (wd.norm() * g.norm()))
            res["output_scale"] = float(ref.abs().max())
        for k in SCALES:
            out, wk = forward(base, k, eps)
            res[eps_key].append(float((out - ref).abs().max()))
            if eps == EPS0:
                res["grad_ratio"].append(float(k * wk.grad.norm() / w.grad.norm()))
    return res


def run(seed: int = 0, quick: bool = False, progress=None) -> dict:
    from normviz.experiments.loop import cnn, digits, fit

    steps = QUICK_STEPS if quick else STEPS
    data = digits("cnn")
    out = {"seed": seed, "quick": quick, "settings": dict(SETTINGS, steps=steps, widths=list(SETTINGS["widths"])),
           "runs": {}}
    for i, name in enumerate(RUNS):
        model = cnn("weight" if name == "wn" else "batch", widths=SETTINGS["widths"], seed=seed)
        sub = (lambda f, t, i=i: progress((i + f) / len(RUNS), t)) if progress else None
        log = fit(model, data, steps=steps, batch_size=SETTINGS["batch_size"], lr=SETTINGS["lr"],
                  momentum=SETTINGS["momentum"], seed=seed, log_every=max(1, steps // (3 if quick else 30)),
                  measure=weight_norms, progress=sub, label=LABELS[name],
                  weight_decay=SETTINGS["weight_decay"] if name == "bn_wd" else 0.0)
        log["w_norm"] = log.pop("measure")  # logs × layers
        log["effective_lr"] = [[SETTINGS["lr"] / n ** 2 for n in row] for row in log["w_norm"]]
        out["runs"][name] = log
    out["invariance"] = invariance_check(seed)
    return out


def _series(results: dict, name: str, layer: int) -> list[float]:
    return [row[layer] for row in results["runs"][name]["w_norm"]]


def _monotone(series: list[float]) -> bool:
    return all(b >= a * (1 - 1e-6) for a, b in zip(series, series[1:]))


def _late_change(series: list[float]) -> float:
    """Relative change of ‖w‖ over the last ``SETTLE`` of the logs."""
    start = series[int(len(series) * (1 - SETTLE))]
    return abs(series[-1] - start) / start


def _final_error(results: dict, name: str, last: int = 5) -> float:
    """Test error (%) of one run, mean of its last ``last`` logs (one eval alone is noisy)."""
    v = results["runs"][name]["val_error"][-last:]
    return sum(v) / len(v)


def _n_layers(results: dict) -> int:
    return len(results["runs"]["bn"]["w_norm"][0])


def claim(results: dict) -> tuple[bool, str]:
    """Exact invariance at ε = 0; without weight decay ‖w‖ never shrinks and has grown; with it
    ‖w‖ ends smaller and the effective learning rate larger, in every layer."""
    inv = results["invariance"]
    exact = max(inv["max_delta_eps0"]) < 1e-10 * max(1.0, inv["output_scale"])
    grows = decays = True
    parts = []
    for layer in range(_n_layers(results)):
        a, b = _series(results, "bn", layer), _series(results, "bn_wd", layer)
        grows &= _monotone(a) and a[-1] > a[0]
        decays &= b[-1] < a[-1]
        lr = results["settings"]["lr"]
        parts.append(f"layer {layer + 1}: ‖w‖ {a[0]:.2f} → {a[-1]:.2f} without weight decay, → {b[-1]:.2f} with "
                     f"(effective lr η/‖w‖² {lr / a[-1] ** 2:.3g} vs {lr / b[-1] ** 2:.3g})")
    v = _series(results, "wn", 0)
    sentence = (f"Scaling w by k ∈ {{{', '.join(f'{k:g}' for k in inv['k'])}}} changes the output by at most "
                f"{max(inv['max_delta_eps0']):.1e} at ε = 0 ({max(inv['max_delta_eps']):.1e} at ε = 1e-5), and "
                f"k·‖∇(kw)‖/‖∇w‖ is {min(inv['grad_ratio']):.6f}–{max(inv['grad_ratio']):.6f}. "
                f"Without weight decay ‖w‖ only grows ({'holds' if grows else 'fails'}); with weight decay "
                f"{results['settings']['weight_decay']:g} it ends smaller ({'holds' if decays else 'fails'}): "
                + "; ".join(parts) + f". Weight Norm's ‖v‖, layer 1: {v[0]:.2f} → {v[-1]:.2f}.")
    return exact and grows and decays, sentence


def headline(results: dict) -> dict:
    out = {}
    for layer in range(_n_layers(results)):
        for name in ("bn", "bn_wd"):
            s = _series(results, name, layer)
            out[f"{LABELS[name]}, layer {layer + 1}: ‖w‖ end / start"] = round(s[-1] / s[0], 3)
            out[f"{LABELS[name]}, layer {layer + 1}: change over the last quarter (%)"] = round(
                100 * _late_change(s), 2)
    v = _series(results, "wn", 0)
    out["Weight Norm, layer 1: ‖v‖ end / start"] = round(v[-1] / v[0], 3)
    for name in RUNS:
        out[f"{LABELS[name]}: final test error (%), mean of the last 5 logs"] = round(_final_error(results, name), 2)
    out["max |Δ output| over k at ε = 0"] = float(f"{max(results['invariance']['max_delta_eps0']):.2e}")
    return out


def facts(results: dict) -> list:
    n = _n_layers(results)
    a = [_series(results, "bn", i) for i in range(n)]
    b = [_series(results, "bn_wd", i) for i in range(n)]
    v = [_series(results, "wn", i) for i in range(len(results["runs"]["wn"]["w_norm"][0]))]
    err = {k: _final_error(results, k) for k in RUNS}
    inv = results["invariance"]
    return [
        ("Scaling the weights before BN leaves the output unchanged to round-off at ε = 0",
         max(inv["max_delta_eps0"]) < 1e-10 * max(1.0, inv["output_scale"])),
        ("The gradient shrinks as 1/k when the weights are scaled by k (to 1e-6)",
         all(abs(r - 1) < 1e-6 for r in inv["grad_ratio"])),
        ("Without weight decay ‖w‖ never shrinks under plain SGD, in every layer", all(_monotone(s) for s in a)),
        ("With weight decay ‖w‖ ends smaller than without, in every layer", all(y[-1] < x[-1] for x, y in zip(a, b))),
        ("With weight decay ‖w‖ changes less over the last quarter of training than without, in every layer",
         all(_late_change(y) < _late_change(x) for x, y in zip(a, b))),
        ("Weight Norm's ‖v‖ never shrinks either (the same law)", all(_monotone(s) for s in v)),
        ("BN with weight decay ends with a lower test error than without (mean of the last 5 logs)", err["bn_wd"] < err["bn"]),
    ]


def figure(results: dict) -> list:
    import plotly.graph_objects as go

    from normviz.palette import OKABE_ITO as COLORS

    runs = results["runs"]
    dashes = ("solid", "dash", "dot")
    fig1, fig2 = go.Figure(), go.Figure()
    for i, name in enumerate(RUNS):
        for layer in range(len(runs[name]["w_norm"][0])):
            kw = dict(mode="lines", name=f"{LABELS[name]}, layer {layer + 1}", line_color=COLORS[i],
                      line_dash=dashes[layer % 3])
            fig1.add_scatter(x=runs[name]["step"], y=[r[layer] for r in runs[name]["w_norm"]], **kw)
            if name != "wn":
                fig2.add_scatter(x=runs[name]["step"], y=[r[layer] for r in runs[name]["effective_lr"]], **kw)
    fig1.update_layout(title="‖w‖ of the weights before each BN (and Weight Norm's ‖v‖) over training",
                       xaxis_title="step", yaxis_title="‖w‖")
    fig2.update_layout(title="Effective learning rate η/‖w‖²: it decays without weight decay",
                       xaxis_title="step", yaxis_title="η/‖w‖²", yaxis_type="log")
    inv = results["invariance"]
    fig3 = go.Figure()
    floor = 1e-18  # zero differences drawn at the floor of the log axis
    for j, (key, label) in enumerate((("max_delta_eps0", "ε = 0"), ("max_delta_eps", "ε = 1e-5"))):
        fig3.add_scatter(x=inv["k"], y=[max(d, floor) for d in inv[key]], mode="lines+markers", name=label,
                         line_color=COLORS[3 + j])
    fig3.update_layout(title="Scale w before BN by k: max |Δ output| (float64)", xaxis_title="k",
                       yaxis_title="max |Δ|", xaxis_type="log", yaxis_type="log")
    return [fig1, fig2, fig3]


SPEC = Experiment(
    key="scale_invariance",
    title="Scale invariance and the effective learning rate",
    question="why",
    echoes="van Laarhoven 2017 (effective learning rate η/‖w‖² under BN); Zhang et al. 2019 (weight decay keeps "
           "it up)",
    paper=(PaperTable(
        source="van Laarhoven 2017 (L2 Regularization versus Batch and Weight Normalization); Zhang, Wang, Xu & "
               "Grosse 2019 (Three Mechanisms of Weight Decay Regularization)",
        columns=("paper", "finding"),
        rows=(("van Laarhoven 2017", "with BN, L2 has no regularizing effect on the function; it scales ‖w‖, and the "
                                     "effective learning rate is ∝ η/‖w‖²"),
              ("Zhang et al. 2019", "weight decay's benefit in BN nets comes mainly from the larger effective learning "
                                    "rate it keeps, not from regularization")),
        note="statements of the papers, no numbers quoted",
    ),),
    look_for="‖w‖ without weight decay only climbs, so η/‖w‖² falls; with weight decay ‖w‖ levels off and the "
             "effective rate stays higher. Weight Norm's ‖v‖ follows the same law. The invariance: scaling w by k "
             "moves the output only through ε.",
    recommendation="With BN, treat weight decay as a knob on the effective learning rate (η/‖w‖²), not as a "
                   "regularizer of the function; tune η and λ together.",
    claim_text="Scaling the weights before BN leaves the output unchanged (ε = 0); under plain SGD their norm only "
               "grows without weight decay, and ends smaller with it, in every layer.",
    how="CNN conv 16 → conv 32 at 8×8, BN, GAP, linear, on the digits; batch 32, plain SGD lr 0.1 (no momentum), "
        "1500 steps, weight decay 0 and 0.01; Weight Norm CNN the same without decay. Invariance on 32 images in "
        "float64, first conv's weight and bias scaled by k.",
    notes="The seed says normalization keeps weights \"restricted to a certain range\". It does the opposite for the "
          "weights before it: nothing bounds their norm, which grows without weight decay; what normalization "
          "bounds is the layer's output. The runs use plain SGD so that the growth law is exact; the Weight Norm "
          "run is there for ‖v‖, and at this learning rate it learns slowly (its error is in the table).",
    full_seconds=70,
    related=("weight_norm",),
    run_fn=run,
    claim_fn=claim,
    figure_fn=figure,
    headline_fn=headline,
    facts_fn=facts,
)
