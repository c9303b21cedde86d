"""Transformer 1: where LayerNorm goes — pre-LN vs post-LN (Xiong et al. 2020).

The tiny transformer (``normviz.transformer``) sorting 8 digits, 4 blocks, d_model 32, 2 heads,
Adam β = (0.9, 0.98). Measured:

- the gradient norm of each block's parameters at initialisation (mean over 8 batches), the
  quantity of Xiong et al.'s Figure 3, and over training at the smallest learning rate;
- a learning-rate sweep without warm-up for both placements (300 steps each): which runs train
  (no divergence, no stall), the largest that does, and the final accuracy;
- post-LN at the smallest swept lr where it failed and pre-LN trained, with linear warm-ups.
"""
from __future__ import annotations

from normviz.experiments.base import Experiment, PaperTable
from normviz.transformer.study import largest_trained, trained  # pure Python: no torch at import

DEFAULTS = dict(depth=4, steps=300, log_every=25, n_test=256, lrs=(3e-3, 1e-2, 3e-2, 1e-1), warmups=(50, 150))
QUICK = dict(depth=2, steps=40, log_every=20, n_test=64, lrs=(1e-1,), warmups=(20,))
PLACES = ("pre", "post")
LABELS = {"pre": "pre-LN", "post": "post-LN"}


def _cfg(c: dict, seed: int, **kw):
    from normviz.transformer import TransformerConfig

    return TransformerConfig(norm="layer", depth=c["depth"], steps=c["steps"], log_every=c["log_every"],
                             n_test=c["n_test"], seed=seed, **kw)


def run(seed: int = 0, quick: bool = False, progress=None, **overrides) -> dict:
    from normviz.transformer.study import init_grad_norms, summary

    c = {**DEFAULTS, **(QUICK if quick else {}), **overrides}
    total = 2 + 2 * len(c["lrs"]) + len(c["warmups"])
    done = 0

    def tick(text):
        nonlocal done
        if progress:
            progress(done / total, text)
        done += 1

    init = {}
    for p in PLACES:
        tick(f"{LABELS[p]}: gradients at initialisation")
        init[p] = init_grad_norms(_cfg(c, seed, placement=p, lr=c["lrs"][0]))
    sweep = {p: [] for p in PLACES}
    for p in PLACES:
        for i, lr in enumerate(c["lrs"]):
            tick(f"{LABELS[p]}: lr {lr:g}, no warm-up")
            sweep[p].append(summary(_cfg(c, seed, placement=p, lr=lr), keep_history=i == 0))
    # The warm-up post-LN needs: at the smallest lr where post-LN failed and pre-LN trained.
    gap = next((r["lr"] for r, q in zip(sweep["post"], sweep["pre"]) if not trained(r) and trained(q)), None)
    warm = []
    if gap is not None:
        for w in c["warmups"]:
            tick(f"post-LN: lr {gap:g}, warm-up {w}")
            warm.append(summary(_cfg(c, seed, placement="post", lr=gap, warmup=w)))
    if progress:
        progress(1.0, "done")
    return {"config": {**c, "lrs": list(c["lrs"]), "warmups": list(c["warmups"]), "seed": seed, "quick": quick},
            "init_grad": init, "sweep": sweep, "warmup_lr": gap, "warmup": warm}


def _largest(results: dict) -> dict:
    """Per placement, the largest swept lr that trained without warm-up (recomputed from the runs)."""
    return {p: largest_trained(results["sweep"][p]) for p in PLACES}


def _spread(g: list[float]) -> float:
    """max/min of the per-block gradient norms: 1 = every block gets the same gradient."""
    return max(g) / min(g)


def _fmt(lr):
    return "none of the swept rates" if lr is None else f"{lr:g}"


def claim(results: dict) -> tuple[bool, str]:
    """Pre-LN trains at a larger lr without warm-up than post-LN, and post-LN's gap is closed by warm-up."""
    best, warm = _largest(results), results["warmup"]
    pre, post = best["pre"], best["post"]
    warm_ok = [w for w in warm if trained(w)]
    holds = pre is not None and (post is None or pre > post) and bool(warm_ok)
    text = (f"Without warm-up the largest swept learning rate that trained was {_fmt(pre)} for pre-LN and "
            f"{_fmt(post)} for post-LN.")
    if results["warmup_lr"] is not None:
        text += " At lr {:g} post-LN with warm-up: {}.".format(results["warmup_lr"], "; ".join(
            f"{w['warmup']} steps → {'trained, test accuracy ' + format(w['test_acc'], '.3f') if trained(w) else 'failed'}"
            for w in warm))
    return holds, text


def headline(results: dict) -> dict:
    out = {}
    for p in PLACES:
        out[f"{LABELS[p]}: largest lr that trained without warm-up"] = _largest(results)[p]
        out[f"{LABELS[p]}: gradient-norm spread over blocks at init (max/min)"] = round(_spread(results["init_grad"][p]), 2)
        for r in results["sweep"][p]:
            out[f"{LABELS[p]}: test accuracy at lr {r['lr']:g}"] = round(r["test_acc"], 3)
    for w in results["warmup"]:
        out[f"post-LN at lr {results['warmup_lr']:g}, warm-up {w['warmup']}: test accuracy"] = round(w["test_acc"], 3)
    return out


def facts(results: dict) -> list:
    best, init = _largest(results), results["init_grad"]
    pre, post = best["pre"], best["post"]
    gp, gq = init["post"], init["pre"]
    warm = results["warmup"]
    return [
        ("Without warm-up, pre-LN trains at a larger learning rate than post-LN",
         pre is not None and (post is None or pre > post)),
        ("Post-LN with warm-up trains at a learning rate where it fails without",
         any(trained(w) for w in warm)),
        ("The longest warm-up gives post-LN its best accuracy there",
         bool(warm) and trained(warm[-1]) and warm[-1]["test_acc"] >= max(w["test_acc"] for w in warm)),
        ("At initialisation pre-LN's gradient norm is about the same in every block (max/min < 1.5)",
         _spread(gq) < 1.5),
        ("At initialisation post-LN's gradient norm differs across blocks more than pre-LN's", _spread(gp) > _spread(gq)),
        ("At initialisation post-LN's gradient norm grows with the block index (Xiong et al.'s Figure 3)",
         all(b >= a for a, b in zip(gp, gp[1:])) and gp[-1] > gp[0]),
    ]


def figure(results: dict) -> list:
    import plotly.graph_objects as go

    from normviz.palette import colour

    figs = []
    f = go.Figure()
    for i, p in enumerate(PLACES):
        g = results["init_grad"][p]
        f.add_trace(go.Bar(x=[f"block {b}" for b in range(1, len(g) + 1)], y=g, name=LABELS[p], marker_color=colour(i)))
    f.update_layout(title="Gradient norm per block at initialisation (mean of 8 batches)", barmode="group",
                    xaxis_title="block (1 = next to the embeddings)", yaxis_title="‖∂loss/∂θ_block‖₂",
                    yaxis_type="log", legend_title="placement")
    figs.append(f)
    f = go.Figure()
    for i, p in enumerate(PLACES):
        r = results["sweep"][p]
        f.add_trace(go.Scatter(x=[x["lr"] for x in r], y=[x["test_acc"] for x in r], name=LABELS[p], mode="lines+markers",
                               marker=dict(symbol=["circle" if trained(x) else "x" for x in r], size=11),
                               line=dict(color=colour(i)), text=[x["message"] for x in r],
                               hovertemplate="lr %{x}: accuracy %{y:.3f}<br>%{text}<extra></extra>"))
    f.update_layout(title="Learning-rate sweep without warm-up (× = diverged or stalled)", xaxis_type="log",
                    xaxis_title="learning rate (Adam)", yaxis_title="final test accuracy per token", yaxis_range=[0, 1.02],
                    legend_title="placement")
    figs.append(f)
    f = go.Figure()
    for i, p in enumerate(PLACES):
        h = results["sweep"][p][0]["history"]
        blocks = len(h["grad_norm"][0])
        for b in range(blocks):
            f.add_trace(go.Scatter(x=h["step"], y=[g[b] for g in h["grad_norm"]], name=f"{LABELS[p]}, block {b + 1}",
                                   line=dict(color=colour(i), dash=["solid", "dash", "dot", "dashdot", "longdash",
                                                                    "longdashdot"][b % 6])))
    f.update_layout(title=f"Gradient norm per block over training (lr {results['config']['lrs'][0]:g})",
                    xaxis_title="step", yaxis_title="‖∂loss/∂θ_block‖₂", yaxis_type="log", legend_title="run, block")
    figs.append(f)
    return figs


def cell_config(results: dict, placement: str, lr: float):
    """The exact run behind one sweep cell of ``results`` (for a live re-run beside the shipped number)."""
    c = results["config"]
    return _cfg(c, c["seed"], placement=placement, lr=lr)


def cell(results: dict, placement: str, lr: float) -> dict:
    """The shipped summary of one sweep cell."""
    return next(r for r in results["sweep"][placement] if r["lr"] == lr)


SPEC = Experiment(
    key="transformer_placement",
    title="Transformers: pre-LN vs post-LN, learning rate and warm-up",
    question="transformer",
    echoes="Xiong et al. 2020 (On Layer Normalization in the Transformer Architecture), Figure 3 and §3",
    paper=(PaperTable(
        source="Xiong et al. 2020 (On Layer Normalization in the Transformer Architecture): abstract, §3 and Figure 3",
        columns=("placement", "learning-rate warm-up", "gradient at initialisation (their Theorem 1, Figure 3)"),
        rows=(("post-LN", "needed: without it training is unstable (the original Transformer, Vaswani et al. "
                          "2017, warms up over 4000 steps)", "large for the parameters near the output"),
              ("pre-LN", "can be removed: comparable results with less training time and tuning",
               "well-behaved, scaling like 1/√L with depth L")),
        note="qualitative: the paper's claims in words; its BLEU curves are not read off here",
    ),),
    look_for="The cross marks in the learning-rate sweep: where does each placement stop training? Then the "
             "warm-up runs: does post-LN train at that rate when the rate rises gradually?",
    recommendation="Pre-LN (or pre-RMSNorm): it trains without warm-up at larger learning rates; post-LN needs a "
                   "warm-up.",
    claim_text="Without warm-up, the largest swept learning rate at which pre-LN trains is larger than post-LN's, "
               "and post-LN trains at the rate where it failed once the rate is warmed up.",
    how="Sorting 8 digits (0–9) with a 4-block encoder, d_model 32, 2 heads, batch 64, Adam β=(0.9, 0.98), "
        "300 steps per run; lr 0.003, 0.01, 0.03, 0.1 without warm-up; warm-ups of 50 and 150 steps.",
    notes="A 4-block model on a toy task: the gradient profile at initialisation depends on the init (GPT-2's, "
          "with scaled residual projections) and need not match the paper's 6-layer translation model; the "
          "facts below say which parts reproduce.",
    full_seconds=60,
    related=("transformer_lab",),
    run_fn=run,
    claim_fn=claim,
    figure_fn=figure,
    headline_fn=headline,
    facts_fn=facts,
)

