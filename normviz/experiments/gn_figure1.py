"""GN paper Figure 1 as an experiment: the training lab's batch-size sweep (BN vs GN vs LN).

Its full results are the sweep's (``normviz.training.sweeps``, shipped in
``data/gn_batch_sweep.json``); figures from ``normviz.training.figures``.
"""
from __future__ import annotations

from normviz.experiments.base import GN_FIGURE1 as _GN_FIG1
from normviz.experiments.base import Experiment

QUICK_SAMPLES = 480  # samples seen per sweep cell in a quick run

def run(seed: int = 0, quick: bool = False, progress=None) -> dict:
    """The sweep of ``normviz.training.sweeps`` for one seed (quick: batch 32 and 2, 480 samples seen per cell)."""
    from normviz.training.sweeps import BATCH_SIZES, SAMPLES, run_sweep

    if quick:
        return run_sweep(seeds=(seed,), batch_sizes=(32, 2), samples=QUICK_SAMPLES, progress=progress)
    return run_sweep(seeds=(seed,), batch_sizes=BATCH_SIZES, samples=SAMPLES, progress=progress)


def claim(results: dict) -> tuple[bool, str]:
    """GN's eval-error spread over batch sizes ≤ 1.5 points; BN's at batch 2 ≥ 10 points worse than at 64."""
    from normviz.training.sweeps import claims, summarize

    c = claims(results)
    s = summarize(results)
    bs = results["batch_sizes"]
    lo, hi = bs.index(min(bs)), bs.index(max(bs))
    holds = c["gn_spread"] <= 1.5 and c["bn_drop"] >= 10
    sentence = (f"Eval-mode test error, batch {max(bs)} → {min(bs)}: BN {s['batch']['eval'][hi]:.1f} % → "
                f"{s['batch']['eval'][lo]:.1f} % (+{c['bn_drop']:.1f} points; claim ≥ 10), GN "
                f"{s['group']['eval'][hi]:.1f} % → {s['group']['eval'][lo]:.1f} % (spread over all batch sizes "
                f"{c['gn_spread']:.1f} points; claim ≤ 1.5). Mean over seeds {', '.join(map(str, results['seeds']))}.")
    return holds, sentence


def figure(results: dict) -> list:
    from normviz.training.figures import sweep_figure

    return [sweep_figure(results)]


def precomputed() -> dict | None:
    """The shipped sweep (``data/gn_batch_sweep.json``, both seeds) in the registry's file format."""
    from normviz.training.sweeps import DATA_PATH, load_sweep

    if not DATA_PATH.exists():
        return None
    sweep = load_sweep()
    holds, sentence = claim(sweep)
    return {"key": "gn_figure1", "made_by": sweep.get("command", ""), "how": sweep.get("what", ""),
            "seeds": sweep["seeds"], "date": sweep.get("date", ""), "seconds": {"all": sweep.get("seconds")},
            "machine": f"python {sweep.get('python')}, torch {sweep.get('torch')}",
            "runs": {"all": {"results": sweep, "claim": {"holds": holds, "sentence": sentence}}}}


SPEC = Experiment(
    key="gn_figure1",
    title="GN paper Figure 1: BN's error grows as the batch shrinks, GN's does not",
    question="batch",
    echoes="Wu & He 2018, Figure 1 (error vs batch size, BN vs GN)",
    paper=(_GN_FIG1,),
    look_for="Read the eval-mode error: BN's climbs at batch 4 and 2 while GN and LN stay "
             "flat. BN's train-mode error at batch 2 is an artefact (its output is ±1).",
    claim_text="GN's error spread across batch sizes is at most 1.5 points; BN's eval error at "
               "batch 2 is at least 10 points worse than at 64.",
    how="The training lab's batch-size sweep (normviz.training.sweeps), samples seen held fixed, lr "
        "scaled with the batch size.",
    full_seconds=240,
    related=("training_lab",),
    run_fn=run,
    claim_fn=claim,
    figure_fn=figure,
    load_fn=precomputed,
)
