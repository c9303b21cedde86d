"""Distributed, what really differs: parameters identical on every rank, statistics not.

The shipped runs (2 seeds) are checked fact by fact; a live quick run in real gloo processes must
show the same, and the comparison itself must catch one changed number on one rank.
"""
from __future__ import annotations

import numpy as np
from normviz.experiments import EXPERIMENTS
from normviz.experiments import distributed_params as dp
from normviz.experiments.seeds import facts


def test_shipped_facts_hold_on_every_seed():
    spec = EXPERIMENTS["distributed_params"]
    doc = spec.precomputed()
    assert doc is not None and len(doc["runs"]) >= 2 and not doc["quick"]
    for f in facts(spec, doc):
        assert f.all, f.sentence()
    for run in doc["runs"].values():
        r = run["results"]
        assert r["broadcast"]["param_checksums"][0] == r["broadcast"]["param_checksums"][1]
        assert r["no_broadcast"]["buffer_checksums"][0] != r["no_broadcast"]["buffer_checksums"][1]


def test_live_quick_run_in_real_processes_agrees():
    res = dp.run(seed=2, quick=True)
    holds, sentence = dp.claim(res)
    assert holds, sentence
    assert "identical on every rank" in sentence and "NOT" not in sentence


def test_rank_comparison_catches_one_changed_number():
    state = {"0.1.weight": [1.0, 2.0], "0.1.bias": [0.0, 0.5], "0.1.running_mean": [0.1, 0.2],
             "0.1.running_var": [1.0, 1.0], "1.weight": [3.0]}
    other = {k: list(v) for k, v in state.items()}
    other["0.1.bias"][1] = np.nextafter(0.5, 1.0)  # one ulp on one rank
    params = sorted(n for n in state if not dp.is_buffer(n))
    assert dp.affine_names(state) == ["0.1.bias", "0.1.weight"]
    assert dp.rank_gap([state, state], params) == 0.0
    assert 0 < dp.rank_gap([state, other], params) < 1e-15
    assert dp.rank_gap([state, other], dp.affine_names(state)) > 0
    assert dp.checksum(state, params) != dp.checksum(other, params)
