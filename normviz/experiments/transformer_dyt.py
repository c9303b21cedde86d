"""Transformer 3: Dynamic Tanh vs LayerNorm (Zhu, Chen, He, LeCun & Liu 2025).

Pre-norm, 2 blocks, d_model 32, 400 steps, Adam at two learning rates; DyT's α starts at 0.5
(the paper's default). Measured: the final accuracy of each; α of every DyT layer over
training; and the input–output scatter of the last block's first norm layer on the probe
tokens (four channels): the paper's Figure 2 shows LN's scatter in deep layers as an S-shaped
curve, which is what motivated tanh. We fit both a line and a tanh to each scatter (R²).
"""
from __future__ import annotations

from normviz.experiments.base import Experiment, PaperTable

DEFAULTS = dict(depth=2, steps=400, log_every=25, n_test=512, lrs=(3e-3, 1e-2))
QUICK = dict(steps=60, log_every=20, n_test=64, lrs=(3e-3,))
NORMS = ("layer", "dyt")  # the two norms this experiment trains
LABELS = {"layer": "pre-LN", "dyt": "pre-DyT"}


def run(seed: int = 0, quick: bool = False, progress=None, **overrides) -> dict:
    import numpy as np

    from normviz.transformer import TransformerConfig
    from normviz.transformer.study import linear_and_tanh_fit, summary

    c = {**DEFAULTS, **(QUICK if quick else {}), **overrides}
    runs, total = {n: [] for n in NORMS}, len(NORMS) * len(c["lrs"])
    for n in NORMS:
        for lr in c["lrs"]:
            if progress:
                progress(sum(map(len, runs.values())) / total, f"{LABELS[n]}, lr {lr:g}")
            r = summary(TransformerConfig(norm=n, depth=c["depth"], steps=c["steps"], log_every=c["log_every"],
                                          n_test=c["n_test"], seed=seed, lr=lr), keep_history=True, keep_last=True)
            sc = r["last"]["scatter"]
            r["fit"] = linear_and_tanh_fit(np.ravel(sc["x"]).tolist(), np.ravel(sc["y"]).tolist())
            stats = next(s for s in r["last"]["norm_stats"] if s["layer"] == sc["layer"])
            r["token_sigma_range"] = [stats["sigma_min"], stats["sigma_max"]]
            runs[n].append(r)
    if progress:
        progress(1.0, "done")
    return {"config": {**c, "lrs": list(c["lrs"]), "seed": seed, "quick": quick}, "runs": runs}


def alphas(r: dict) -> list[list[float]]:
    """α of each DyT layer at each snapshot: [layer][snapshot]."""
    per_snap = [[v for d in s for k, v in d.items() if k != "layer"] for s in r["history"]["learned"]]
    return [list(col) for col in zip(*per_snap)]


def _acc(results, n, i=0):
    return results["runs"][n][i]["test_acc"]


def _best(results, n):
    return max(r["test_acc"] for r in results["runs"][n])


def claim(results: dict) -> tuple[bool, str]:
    """DyT reaches LN's accuracy within 0.02 at the first learning rate."""
    lrs = results["config"]["lrs"]
    a = ", ".join(f"lr {lr:g}: DyT {_acc(results, 'dyt', i):.3f} vs LN {_acc(results, 'layer', i):.3f}"
                  for i, lr in enumerate(lrs))
    al = alphas(results["runs"]["dyt"][0])
    fit = results["runs"]["layer"][0]["fit"]
    text = (f"Test accuracy per token, {a}. DyT's α went from {al[0][0]:.2f} to "
            f"{', '.join(f'{x[-1]:.2f}' for x in al)} (one per layer) at lr {lrs[0]:g}. LN's input–output scatter: "
            f"R² {fit['linear_r2']:.3f} for a line, {fit['tanh_r2']:.3f} for a tanh.")
    return _acc(results, "dyt") >= _acc(results, "layer") - 0.02, text


def headline(results: dict) -> dict:
    out = {}
    for n in NORMS:
        for r in results["runs"][n]:
            out[f"{LABELS[n]}, lr {r['lr']:g}: test accuracy"] = round(r["test_acc"], 3)
    for i, x in enumerate(alphas(results["runs"]["dyt"][0]), 1):
        out[f"DyT layer {i}: final α (start 0.5)"] = round(x[-1], 3)
    for n in NORMS:
        f = results["runs"][n][0]["fit"]
        out[f"{LABELS[n]} scatter: R² line"] = round(f["linear_r2"], 4)
        out[f"{LABELS[n]} scatter: R² tanh"] = round(f["tanh_r2"], 4)
    lo, hi = results["runs"]["layer"][0]["token_sigma_range"]
    out["LN input: per-token σ, largest / smallest"] = round(hi / lo, 2)
    return out


def facts(results: dict) -> list:
    lrs = results["config"]["lrs"]
    fl, fd = results["runs"]["layer"][0]["fit"], results["runs"]["dyt"][0]["fit"]
    lo, hi = results["runs"]["layer"][0]["token_sigma_range"]
    al = alphas(results["runs"]["dyt"][0])
    return [
        (f"At lr {lrs[0]:g} DyT is within 0.02 of LN's test accuracy", _acc(results, "dyt") >= _acc(results, "layer") - 0.02),
        ("At its better learning rate DyT is within 0.02 of LN at its better one",
         _best(results, "dyt") >= _best(results, "layer") - 0.02),
        ("DyT's α moved more than 10 % away from its start 0.5 in some layer", any(abs(x[-1] - 0.5) > 0.05 for x in al)),
        ("Across tokens, LN's input σ differs by at least 2× (so its scatter is not one line)", hi >= 2 * lo),
        ("A tanh fits LN's input–output scatter better than a line (R² higher by 0.01 or more)",
         fl["tanh_r2"] >= fl["linear_r2"] + 0.01),
        ("DyT's own scatter is more tanh-like than LN's (higher tanh R²)", fd["tanh_r2"] > fl["tanh_r2"]),
    ]


def figure(results: dict) -> list:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from normviz.palette import colour

    lr0 = results["config"]["lrs"][0]
    f = go.Figure()
    for i, n in enumerate(NORMS):
        for j, r in enumerate(results["runs"][n]):
            h = r["history"]
            f.add_trace(go.Scatter(x=h["step"], y=h["test_acc"], name=f"{LABELS[n]}, lr {r['lr']:g}",
                                   line=dict(color=colour(i), dash="solid" if j == 0 else "dash")))
    f.update_layout(title="Test accuracy while training", xaxis_title="step", yaxis_title="test accuracy per token",
                    yaxis_range=[0, 1.02], legend_title="norm, lr")
    a = go.Figure()
    r = results["runs"]["dyt"][0]
    for i, x in enumerate(alphas(r)):
        a.add_trace(go.Scatter(x=r["history"]["step"], y=x, name=f"DyT layer {i + 1}", line=dict(color=colour(i))))
    a.update_layout(title=f"DyT's α over training (lr {lr0:g}; starts at 0.5)", xaxis_title="step", yaxis_title="α",
                    legend_title="layer (forward order)")
    s = make_subplots(rows=1, cols=2, subplot_titles=[LABELS[n] for n in NORMS], horizontal_spacing=0.1)
    for k, n in enumerate(NORMS, 1):
        sc = results["runs"][n][0]["last"]["scatter"]
        for i, (x, y, ch) in enumerate(zip(sc["x"], sc["y"], sc["channels"])):
            s.add_trace(go.Scattergl(x=x, y=y, mode="markers", marker=dict(size=4, color=colour(i), opacity=0.6),
                                     name=f"channel {ch}", legendgroup=str(ch), showlegend=k == 1), 1, k)
        s.update_xaxes(title_text=f"input ({sc['layer']})", row=1, col=k)
    s.update_yaxes(title_text="output (after γ, β)", row=1, col=1)
    s.update_layout(title=f"Norm layer input vs output per token, four channels (lr {lr0:g}, end of training)",
                    legend_title="channel")
    return [f, a, s]


SPEC = Experiment(
    key="transformer_dyt",
    title="Transformers: Dynamic Tanh vs LayerNorm",
    question="transformer",
    echoes="Zhu, Chen, He, LeCun & Liu 2025 (Transformers without Normalization), Figure 2 and Table 1",
    paper=(PaperTable(
        source="Zhu et al. 2025, Table 1: ImageNet-1K top-1 accuracy %, supervised",
        columns=("model", "LN", "DyT"),
        rows=(("ViT-B", 82.3, 82.5), ("ViT-L", 83.1, 83.6), ("ConvNeXt-B", 83.7, 83.7), ("ConvNeXt-L", 84.3, 84.4)),
        note="as reported in the paper's Table 1",
    ),),
    look_for="Does DyT's accuracy curve follow LN's? How far does α move from 0.5? In the scatter, LN's points "
             "per channel: one line or an S?",
    recommendation="LayerNorm (or RMSNorm) by default; DyT is a drop-in to try where statistics are costly, checking "
                   "its α initialisation and learning rate.",
    claim_text="At lr 3e-3, pre-DyT's test accuracy is within 0.02 of pre-LN's at equal settings.",
    how="Sorting 8 digits, 2 blocks, d_model 32, 2 heads, batch 64, Adam lr 3e-3 and 1e-2, 400 steps, DyT α₀ = 0.5; "
        "scatter of the last block's first norm on 16 probe sequences (128 tokens) × 4 channels.",
    notes="The paper's models have 12–80 layers and millions of tokens; a 2-block model on a toy task may not show "
          "the deep layers' S-curve, and DyT's result here says nothing about those scales.",
    full_seconds=30,
    related=("transformer_lab",),
    run_fn=run,
    claim_fn=claim,
    figure_fn=figure,
    headline_fn=headline,
    facts_fn=facts,
)
