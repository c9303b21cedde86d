"""Switchable Norm by depth: the verdict on the seed's pattern follows the learned weights."""
from __future__ import annotations

from normviz.experiments import EXPERIMENTS
from normviz.experiments import switchable_depth as sd


def test_shipped_runs_have_six_layers_of_weights_summing_to_one():
    doc = EXPERIMENTS["switchable_depth"].precomputed()
    assert doc is not None and len(doc["runs"]) >= 2 and not doc["quick"]
    for run in doc["runs"].values():
        r = run["results"]
        for which in ("mean_weights", "var_weights"):
            assert len(r[which]) == 6 and all(abs(sum(w) - 1) < 1e-6 for w in r[which])
        holds, sentence = sd.claim(r)
        assert ("does not appear" in sentence) == (not holds)


def test_verdict_reads_the_weights():
    early_in = [[0.6, 0.2, 0.2]] * 2
    middle_bn = [[0.2, 0.2, 0.6]] * 2
    last_ln = [[0.2, 0.6, 0.2]] * 2
    pattern = {"mean_weights": early_in + middle_bn + last_ln, "var_weights": early_in + middle_bn + last_ln,
               "val_error": 5.0}
    holds, sentence = sd.claim(pattern)
    assert holds and "6 of 6" in sentence
    flipped = {**pattern, "var_weights": last_ln + middle_bn + early_in}
    holds, sentence = sd.claim(flipped)
    assert not holds and "4 of 6" in sentence and "variance: early LN, middle BN, last IN" in sentence
