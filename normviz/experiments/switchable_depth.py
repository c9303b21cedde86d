"""Switchable Norm by depth: does a deeper net pick IN early, BN in the middle and LN last?

The seed says so: "IN … earlier layers, BN … middle, LN … last". Switchable Norm (Luo et al.
2019) learns, per layer, softmax weights over the IN, LN and BN statistics — ``w`` for the mean
and ``w'`` for the variance — so a trained SN net reports which statistics each depth prefers.

Here a 6-block CNN on digits (3×3 convs 16, 16, 32, 32, 32, 32 channels at 8×8, each followed by
SN and ReLU, then pool and linear) trains with SGD at batch 32, and the learned weights are read
per layer. Depth thirds: layers 1–2 "early", 3–4 "middle", 5–6 "last". A statement of the seed's
pattern holds for a third when that norm's weight, averaged over the third's layers, is the
largest of the three — checked for the mean weights and the variance weights separately.
The paper's own per-block figure (ResNet-50, 8 GPUs × 32) is shown beside it: there block 1's
mean weights lean on LN, not IN.
"""
from __future__ import annotations

import numpy as np

from normviz.experiments.base import Experiment, PaperTable

DEFAULTS = dict(steps=800, batch_size=32, lr=0.05)
QUICK = dict(steps=60)
WIDTHS = (16, 16, 32, 32, 32, 32)
KINDS = ("IN", "LN", "BN")  # SwitchableNorm's order
THIRDS = {"early": (0, 1), "middle": (2, 3), "last": (4, 5)}
SEED_PATTERN = {"early": "IN", "middle": "BN", "last": "LN"}
SEED_QUOTE = "IN … earlier layers, BN … middle, LN … last"


def run(seed: int = 0, quick: bool = False, progress=None, **overrides) -> dict:
    from normviz.experiments import loop
    from normviz.norms.torch_modules import SwitchableNorm

    cfg = {**DEFAULTS, **(QUICK if quick else {}), **overrides}
    data = loop.digits("cnn")
    model = loop.cnn("switchable", widths=WIDTHS, seed=seed)
    if progress:
        progress(0.05, f"training the 6-block SN net, {cfg['steps']} steps")
    log = loop.fit(model, data, steps=cfg["steps"], batch_size=cfg["batch_size"], lr=cfg["lr"], seed=seed,
                   log_every=max(1, cfg["steps"] // 4))
    layers = [m for m in model.modules() if isinstance(m, SwitchableNorm)]
    if progress:
        progress(1.0, "done")
    return {"config": {**cfg, "seed": seed, "quick": quick, "widths": list(WIDTHS)},
            "mean_weights": [[float(v) for v in m.mean_weights] for m in layers],
            "var_weights": [[float(v) for v in m.var_weights] for m in layers],
            "val_error": log["val_error"][-1]}


def third_winner(weights: list[list[float]], third: str) -> str:
    """The norm (IN/LN/BN) with the largest weight averaged over a depth third's layers."""
    avg = np.mean([weights[i] for i in THIRDS[third]], axis=0)
    return KINDS[int(np.argmax(avg))]


def facts(results: dict) -> list:
    out = []
    for which, label in (("mean_weights", "mean (w)"), ("var_weights", "variance (w′)")):
        for third, norm in SEED_PATTERN.items():
            winner = third_winner(results[which], third)
            out.append((f"{label}: {norm} has the largest weight in the {third} layers", winner == norm))
    return out


def claim(results: dict) -> tuple[bool, str]:
    fs = facts(results)
    held = sum(h for _, h in fs)
    winners = {w: ", ".join(f"{t} {third_winner(results[w], t)}" for t in THIRDS) for w in ("mean_weights", "var_weights")}
    holds = held == len(fs)
    text = (f"The seed's pattern (“{SEED_QUOTE}”) {'appears' if holds else 'does not appear'}: {held} of {len(fs)} "
            f"statements hold. Largest weight by depth — mean: {winners['mean_weights']}; variance: "
            f"{winners['var_weights']} (final validation error {results['val_error']:.1f} %).")
    return holds, text


def headline(results: dict) -> dict:
    """The weight of the seed's norm for each depth third (averaged over its layers), mean and variance."""
    out = {}
    for which, tag in (("mean_weights", "w"), ("var_weights", "w′")):
        for third, norm in SEED_PATTERN.items():
            avg = np.mean([results[which][i] for i in THIRDS[third]], axis=0)
            out[f"{third} layers: {norm}'s {tag}"] = round(float(avg[KINDS.index(norm)]), 3)
    out["validation error %"] = round(results["val_error"], 2)
    return out


def figure(results: dict) -> list:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    colors = {"IN": "#E69F00", "LN": "#009E73", "BN": "#0072B2"}
    fig = make_subplots(rows=1, cols=2, subplot_titles=("mean weights w", "variance weights w′"), shared_yaxes=True)
    layers = [f"layer {i + 1}" for i in range(len(results["mean_weights"]))]
    for col, which in ((1, "mean_weights"), (2, "var_weights")):
        for k, norm in enumerate(KINDS):
            fig.add_trace(go.Bar(x=layers, y=[w[k] for w in results[which]], name=norm, marker_color=colors[norm],
                                 showlegend=col == 1, legendgroup=norm), row=1, col=col)
    fig.update_layout(barmode="stack", title="Switchable Norm's learned weights by depth (stacked, each layer sums "
                                             "to 1)", yaxis_title="weight", legend_title="statistics")
    return [fig]


SPEC = Experiment(
    key="switchable_depth",
    title="Switchable Norm by depth: IN early, BN middle, LN last?",
    question="cnn",
    echoes="Luo et al. 2019 (Switchable Norm), the figure of learned ratios per ResNet-50 block",
    paper=(PaperTable(
        source="Luo et al. 2019, learned ratios by ResNet-50 block at 8 GPUs × 32 images (≈, read off the figure)",
        columns=("block", "BN w", "IN w", "LN w", "BN w′", "IN w′", "LN w′"),
        rows=((1, 0.17, 0.17, 0.65, 0.66, 0.13, 0.21), (2, 0.56, 0.15, 0.29, 0.58, 0.26, 0.16),
              (3, 0.51, 0.22, 0.27, 0.41, 0.37, 0.22), (4, 0.60, 0.17, 0.24, 0.41, 0.26, 0.33),
              (5, 0.42, 0.09, 0.49, 0.13, 0.03, 0.84)),
        note="the paper's own figure: block 1's mean weights lean on LN and its variance weights on BN; the last "
             "block leans on LN",
    ),),
    look_for="Which colour dominates the first, middle and last layers, for the means and for the variances "
             "separately; compare with the paper's blocks.",
    recommendation="Do not hand-assign IN early, BN middle, LN late from this rule of thumb: what a layer prefers "
                   "depends on the task and the batch; if it matters, let SN (or BIN) learn it and read the weights.",
    claim_text=f"The seed's pattern (“{SEED_QUOTE}”) appears in Switchable Norm's learned weights: IN largest early, "
               "BN in the middle, LN last, for both the mean and the variance weights.",
    how="Digits 8×8, CNN of 6 conv 3×3 blocks (16, 16, 32, 32, 32, 32 channels) with Switchable Norm, ReLU, pool, "
        "linear; SGD lr 0.05 momentum 0.9, batch 32, 800 steps. Thirds: layers 1–2, 3–4, 5–6.",
    notes=f"The seed: “{SEED_QUOTE}”. The SN paper reports ratios per block, not this rule, and its own figure does "
          "not follow it (block 1 leans on LN for the mean).",
    full_seconds=150,
    run_fn=run,
    claim_fn=claim,
    figure_fn=figure,
    headline_fn=headline,
    facts_fn=facts,
)
