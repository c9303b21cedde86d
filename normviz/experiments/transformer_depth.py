"""Transformer 4: no norm at all — how deep it still trains, and where it diverges.

The tiny transformer without any norm and with pre-LN, at 2, 4 and 6 blocks, over a sweep of
learning rates without warm-up (300 steps each): which runs train, the largest rate that does
per depth, and the final accuracy. Also the residual stream's norm after each block at the end
of training: without a norm nothing rescales the stream; pre-LN lets it grow too (its blocks add
to it un-normalized) but each block reads a normalized copy.
"""
from __future__ import annotations

from normviz.experiments.base import Experiment, PaperTable
from normviz.transformer.study import largest_trained, trained  # pure Python: no torch at import

DEFAULTS = dict(depths=(2, 4, 6), lrs=(1e-2, 3e-2, 1e-1), steps=300, log_every=50, n_test=256)
QUICK = dict(depths=(2, 4), lrs=(3e-3,), steps=40, log_every=20, n_test=64)
NORMS = ("none", "layer")  # the two this experiment trains
LABELS = {"none": "no norm", "layer": "pre-LN"}


def run(seed: int = 0, quick: bool = False, progress=None, **overrides) -> dict:
    from normviz.transformer import TransformerConfig
    from normviz.transformer.study import summary

    c = {**DEFAULTS, **(QUICK if quick else {}), **overrides}
    total, done = len(NORMS) * len(c["depths"]) * len(c["lrs"]), 0
    runs = {n: {} for n in NORMS}
    for n in NORMS:
        for d in c["depths"]:
            rows = []
            for lr in c["lrs"]:
                if progress:
                    progress(done / total, f"{LABELS[n]}, {d} blocks, lr {lr:g}")
                rows.append(summary(TransformerConfig(norm=n, depth=d, lr=lr, steps=c["steps"], log_every=c["log_every"],
                                                      n_test=c["n_test"], seed=seed), keep_history=True))
                done += 1
            runs[n][str(d)] = {"rows": rows}
    if progress:
        progress(1.0, "done")
    return {"config": {**c, "depths": list(c["depths"]), "lrs": list(c["lrs"]), "seed": seed, "quick": quick},
            "runs": runs}


def _best_acc(cell: dict) -> float:
    return max((r["test_acc"] for r in cell["rows"] if trained(r)), default=0.0)


def _fmt(lr):
    return "none" if lr is None else f"{lr:g}"


def claim(results: dict) -> tuple[bool, str]:
    """Without a norm the deepest model trains at a smaller largest lr than pre-LN, or not at all."""
    depths = [str(d) for d in results["config"]["depths"]]
    r = results["runs"]
    parts = [f"{d} blocks: largest lr that trained {_fmt(largest_trained(r['none'][d]['rows']))} without a norm, "
             f"{_fmt(largest_trained(r['layer'][d]['rows']))} with pre-LN; best accuracy {_best_acc(r['none'][d]):.3f} vs "
             f"{_best_acc(r['layer'][d]):.3f}" for d in depths]
    deep_none, deep_ln = largest_trained(r["none"][depths[-1]]["rows"]), largest_trained(r["layer"][depths[-1]]["rows"])
    holds = deep_ln is not None and (deep_none is None or deep_none < deep_ln)
    return holds, ". ".join(parts) + "."


def headline(results: dict) -> dict:
    out = {}
    for n in NORMS:
        for d, cell in results["runs"][n].items():
            out[f"{LABELS[n]}, {d} blocks: largest lr that trained"] = largest_trained(cell["rows"])
            out[f"{LABELS[n]}, {d} blocks: best test accuracy"] = round(_best_acc(cell), 3)
    return out


def facts(results: dict) -> list:
    depths = [str(d) for d in results["config"]["depths"]]
    r = results["runs"]
    lt = {n: [largest_trained(r[n][d]["rows"]) or 0.0 for d in depths] for n in NORMS}
    acc = {n: [_best_acc(r[n][d]) for d in depths] for n in NORMS}
    return [
        (f"Without a norm the {depths[0]}-block model trains at the smallest swept lr", trained(r["none"][depths[0]]["rows"][0])),
        (f"Without a norm the {depths[-1]}-block model trains at the smallest swept lr", trained(r["none"][depths[-1]]["rows"][0])),
        ("Without a norm the largest lr that trains shrinks (or stays) as blocks are added",
         all(b <= a for a, b in zip(lt["none"], lt["none"][1:]))),
        ("At every depth pre-LN trains at a learning rate at least as large as no norm",
         all(b >= a for a, b in zip(lt["none"], lt["layer"]))),
        ("At every depth pre-LN's best accuracy beats no norm's", all(b > a for a, b in zip(acc["none"], acc["layer"]))),
        ("Without a norm the best accuracy falls as blocks are added", all(b < a for a, b in zip(acc["none"], acc["none"][1:]))),
    ]


def figure(results: dict) -> list:
    import plotly.graph_objects as go

    from normviz.palette import colour

    f = go.Figure()
    dashes = ["solid", "dash", "dot", "dashdot"]
    for i, n in enumerate(NORMS):
        for j, (d, cell) in enumerate(results["runs"][n].items()):
            rows = cell["rows"]
            f.add_trace(go.Scatter(x=[x["lr"] for x in rows], y=[x["test_acc"] for x in rows], mode="lines+markers",
                                   name=f"{LABELS[n]}, {d} blocks", line=dict(color=colour(i), dash=dashes[j % 4]),
                                   marker=dict(size=10, symbol=["circle" if trained(x) else "x" for x in rows]),
                                   text=[x["message"] for x in rows],
                                   hovertemplate="lr %{x}: %{y:.3f}<br>%{text}<extra></extra>"))
    f.update_layout(title="Final test accuracy by learning rate and depth (× = diverged or stalled)", xaxis_type="log",
                    xaxis_title="learning rate (Adam, no warm-up)", yaxis_title="test accuracy per token",
                    yaxis_range=[0, 1.02], legend_title="norm, depth")
    g = go.Figure()
    for i, n in enumerate(NORMS):
        d = str(results["config"]["depths"][-1])
        row = results["runs"][n][d]["rows"][0]
        g.add_trace(go.Bar(x=["embeddings"] + [f"block {b}" for b in range(1, int(d) + 1)],
                           y=row["history"]["resid_norm"][-1], name=LABELS[n], marker_color=colour(i)))
    g.update_layout(title=f"Residual stream norm after each block, {d} blocks, end of training (lr {results['config']['lrs'][0]:g})",
                    barmode="group", xaxis_title="position in the network", yaxis_title="mean per-token ‖x‖₂",
                    legend_title="norm")
    return [f, g]


SPEC = Experiment(
    key="transformer_depth",
    title="Transformers without a norm: how deep, how fast",
    question="transformer",
    echoes="Xiong et al. 2020 and Zhang & Sennrich 2019 (norms as what keeps deep transformers trainable); "
           "Zhu et al. 2025 (a norm-free transformer needs a replacement such as DyT)",
    paper=(PaperTable(
        source="Zhu et al. 2025, §1 and §7: removing normalization from a transformer",
        columns=("setting", "what the paper reports"),
        rows=(("norm layers simply removed", "training is unstable or fails without special initialisation or "
                                             "other changes (their discussion of prior norm-free work)"),
              ("norm replaced by DyT", "matches LN across ViT, ConvNeXt, LLaMA and others")),
        note="qualitative",
    ),),
    look_for="Which crosses appear without a norm as depth grows, and at which rates? How big does the residual "
             "stream get after the last block?",
    recommendation="Keep a norm in a transformer of any depth; without one, lower the learning rate and expect worse "
                   "results as blocks are added.",
    claim_text="At the largest depth, the largest swept learning rate at which the model trains without a norm is "
               "smaller than with pre-LN (or none trains).",
    how="Sorting 8 digits, d_model 32, 2 heads, batch 64, Adam without warm-up, 300 steps; 2, 4 and 6 blocks; lr "
        "0.01, 0.03, 0.1; GPT-2 initialisation (residual projections scaled by 1/√(2·depth)), no norm vs pre-LN.",
    notes="The scaled initialisation already tames depth at the start; deeper no-norm models here are still shallow "
          "by any modern standard.",
    full_seconds=90,
    related=("transformer_lab",),
    run_fn=run,
    claim_fn=claim,
    figure_fn=figure,
    headline_fn=headline,
    facts_fn=facts,
)
