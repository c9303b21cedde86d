"""GN paper Figure 1 as an experiment: the training lab's batch-size sweep (BN vs GN vs LN).

Its full results are the sweep's (``normviz.training.sweeps``, shipped in
``data/gn_batch_sweep.json``); figures from ``normviz.training.figures``.
"""
from __future__ import annotations

from normviz.experiments.base import GN_FIGURE1 as _GN_FIG1
from normviz.experiments.base import Experiment

QUICK_SAMPLES = 480  # samples seen per sweep cell in a quick run
# Points of test error. "Flat" is within the noise of one cell: a single cell's error moves by up to
# 1.95 points across CPU kernel paths and 1.67 across seeds (data/numerics_spread.json), so a
# range of 2.5 points (9 of 359 test images) is what "flat" can mean at this scale.
GN_FLAT, BN_CLIFF, BN_NEAR = 2.5, 10.0, 1.5


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
    holds = c["gn_spread"] <= GN_FLAT and c["bn_drop"] >= BN_CLIFF
    sentence = (f"Eval-mode test error, batch {max(bs)} → {min(bs)}: BN {s['batch']['eval'][hi]:.1f} % → "
                f"{s['batch']['eval'][lo]:.1f} % (+{c['bn_drop']:.1f} points; claim ≥ {BN_CLIFF:g}), GN "
                f"{s['group']['eval'][hi]:.1f} % → {s['group']['eval'][lo]:.1f} % (spread over all batch sizes "
                f"{c['gn_spread']:.1f} points; claim ≤ {GN_FLAT:g}, the noise of one cell).")
    return holds, sentence


def _errors(results: dict) -> tuple[dict, list]:
    from normviz.training.sweeps import summarize

    return summarize(results), results["batch_sizes"]


def headline(results: dict) -> dict:
    from normviz.training.sweeps import claims

    s, bs = _errors(results)
    out = {f"BN eval error at batch {b} (%)": round(s["batch"]["eval"][bs.index(b)], 2) for b in bs}
    out.update({f"BN train-mode error at batch {b} (%)": round(s["batch"]["train_mode"][bs.index(b)], 2)
                for b in bs[-2:]})
    out[f"GN eval error at batch {bs[0]} (%)"] = round(s["group"]["eval"][0], 2)
    out[f"GN eval error at batch {bs[-1]} (%)"] = round(s["group"]["eval"][-1], 2)
    out["GN spread over batch sizes (points)"] = round(claims(results)["gn_spread"], 2)
    return out


def facts(results: dict) -> list:
    from normviz.training.sweeps import claims

    s, bs = _errors(results)
    bn_ev, bn_tm = s["batch"]["eval"], s["batch"]["train_mode"]
    c = claims(results)
    return [
        (f"GN's eval error stays within {GN_FLAT} points across batch sizes {bs[0]} … {bs[-1]}", c["gn_spread"] <= GN_FLAT),
        (f"BN's eval error at batch {bs[-1]} is at least {BN_CLIFF:.0f} points above batch {bs[0]}", c["bn_drop"] >= BN_CLIFF),
        (f"BN's eval error at batch {bs[-2]} is still within {BN_NEAR} points of batch {bs[0]} (a cliff at "
         f"{bs[-1]}, not a gradual climb)", abs(bn_ev[-2] - bn_ev[0]) <= BN_NEAR),
        (f"At batch {bs[-2]} BN's train-mode error is already above its eval error", bn_tm[-2] > bn_ev[-2]),
    ]


def figure(results: dict) -> list:
    from normviz.training.figures import sweep_figure

    return [sweep_figure(results)]


def precomputed() -> dict | None:
    """The shipped sweep (``data/gn_batch_sweep.json``, both seeds) in the registry's file format."""
    from normviz.training.sweeps import DATA_PATH, load_sweep

    if not DATA_PATH.exists():
        return None
    sweep = load_sweep()
    runs = {}
    for seed in sweep["seeds"]:
        one = {**sweep, "seeds": [seed], "cells": [c for c in sweep["cells"] if c["seed"] == seed]}
        holds, sentence = claim(one)
        runs[str(seed)] = {"results": one, "claim": {"holds": holds, "sentence": sentence}}
    return {"key": "gn_figure1", "made_by": sweep.get("command", ""), "how": sweep.get("what", ""),
            "seeds": sweep["seeds"], "date": sweep.get("date", ""), "quick": False,
            "seconds": {"all": sweep.get("seconds")}, "numerics": sweep.get("numerics"),
            "machine": f"python {sweep.get('python')}, torch {sweep.get('torch')}", "runs": runs}


SPEC = Experiment(
    key="gn_figure1",
    title="GN paper Figure 1: BN's error grows as the batch shrinks, GN's does not",
    question="batch",
    echoes="Wu & He 2018, Figure 1 (error vs batch size, BN vs GN)",
    paper=(_GN_FIG1,),
    look_for="Read the eval-mode error against the batch size, for BN and for GN and LN, and where BN's "
             "train-mode error leaves its eval error. At batch 2 BatchNorm sees two samples per feature, so every "
             "output is (x₁ − x₂)/|x₁ − x₂| = ±1: all magnitude is lost. That two-sample case is its own cliff, not "
             "the gradual 'noisy statistics' of small batches.",
    recommendation="With two samples per device BN's outputs are ±1 and it fails; GN does not depend on the batch. "
                   "The paper's ResNet-50 degrades gradually from 8 images per GPU down.",
    claim_text=f"In each seed, GN's eval error varies by at most {GN_FLAT:g} points across batch sizes (the noise of "
               f"one cell at this scale), while BN's eval error at batch 2 is at least {BN_CLIFF:g} points above batch 64.",
    how="The training lab's batch-size sweep (normviz.training.sweeps), samples seen held fixed, lr "
        "scaled with the batch size.",
    full_seconds=240,
    related=("training_lab",),
    run_fn=run,
    claim_fn=claim,
    figure_fn=figure,
    load_fn=precomputed,
    headline_fn=headline,
    facts_fn=facts,
)
