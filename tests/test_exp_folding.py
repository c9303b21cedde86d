"""Folding at inference: the shipped runs fold exactly on every seed; a live quick run does too."""
from __future__ import annotations

from normviz.experiments import EXPERIMENTS
from normviz.experiments import folding as ef
from normviz.experiments.seeds import facts
from normviz.norms import NORMS


def test_shipped_folds_are_exact_on_every_seed():
    spec = EXPERIMENTS["folding"]
    doc = spec.precomputed()
    assert doc is not None and len(doc["runs"]) >= 2 and not doc["quick"]
    exact = facts(spec, doc)[:2]  # the timing facts describe the CPU that made them (numerics "native")
    assert all(f.all for f in exact), [f.sentence() for f in exact]
    for run in doc["runs"].values():
        holds, sentence = spec.claim(run["results"])
        assert holds, sentence


def test_live_quick_run_folds_exactly():
    res = ef.run(seed=3, quick=True)
    holds, sentence = ef.claim(res)
    assert holds, sentence
    assert res["folds"]["batch"]["predictions_changed"] == 0


def test_recommendation_table_follows_the_registry():
    rows = {r["norm"]: r for r in ef.recommendation_table({})}
    assert set(rows) == {s.name for s in NORMS.values()}
    for spec in NORMS.values():
        assert (rows[spec.name]["folds at inference"] == "yes") == spec.folds_at_inference
    assert rows[NORMS["batch"].name]["train step vs none (CPU)"] > 1.0  # from the cost experiment's data
