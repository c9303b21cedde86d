"""Experiment 4 (norms in an RNN): claims on the shipped 2-seed runs, a live quick recheck, and
the mechanics (per-step BN keeps statistics per step, LN has no batch dependence)."""
from __future__ import annotations

import json

import pytest
import torch

from normviz.experiments import rnn as er
from normviz.experiments import get
from tests.shipped import shipped_results


@pytest.fixture(scope="module")
def shipped():
    return shipped_results("rnn")


@pytest.mark.parametrize("idx", [0, 1])
def test_shipped_claim_holds_with_margins(shipped, idx):
    res = shipped["runs"][str(shipped["seeds"][idx])]["results"]
    holds, sentence = er.claim(res)
    assert holds, sentence
    big, small = res["runs"]["32"], res["runs"]["4"]
    assert big["layer"]["eval_acc"] >= big["bn_shared"]["eval_acc"]
    # LN computes the same thing in training and eval mode: no gap at all, at any batch size.
    assert er.gap(big["layer"]) == 0.0 and er.gap(small["layer"]) == 0.0
    # With 4 sequences per batch both BN variants fall well behind LN and show a large gap.
    for n in ("bn_shared", "bn_step"):
        assert small["layer"]["eval_acc"] >= small[n]["eval_acc"] + 0.05
        assert er.gap(small[n]) >= 0.05
    # Shared BN's running statistics fit step 1 far worse than per-step BN's do.
    assert big["bn_shared"]["stat_mismatch"][0] >= 5 * big["bn_step"]["stat_mismatch"][0]
    # LN barely notices the small batch.
    assert big["layer"]["eval_acc"] - small["layer"]["eval_acc"] < 0.05


def test_live_quick_recheck():
    res = json.loads(json.dumps(er.run(seed=4, quick=True, steps=80, batches=(4,))))
    small = res["runs"]["4"]
    assert er.gap(small["layer"]) == 0.0
    assert er.gap(small["bn_shared"]) > 0.02 and er.gap(small["bn_step"]) > 0.02
    assert len(get("rnn").figure(res)) == 3
    # Shared BN's single running average fits the late steps better than the first one.
    mm = res["runs"]["4"]["bn_shared"]["stat_mismatch"]
    assert len(mm) == er.T and mm[0] > mm[-1]
    assert res["runs"]["4"]["layer"]["stat_mismatch"] == []


def test_per_step_bn_has_one_module_per_step_and_reuses_the_last():
    model = er._rnn_class()("bn_step", 16)
    assert len(model.norms) == er.T
    assert model.norm_at(9) is model.norms[-1]
    x = torch.randn(6, er.T, er.D)
    model(x)
    means = torch.stack([m.running_mean for m in model.norms])
    assert not torch.allclose(means[0], means[-1])  # each step keeps its own statistics
    shared = er._rnn_class()("bn_shared", 16)
    assert len(shared.norms) == 1 and int(shared.norms[0].num_batches_tracked) == 0
    shared(x)
    assert int(shared.norms[0].num_batches_tracked) == er.T  # one EMA update per time step


def test_layer_norm_rnn_output_does_not_depend_on_batch_mates():
    torch.manual_seed(0)
    model = er._rnn_class()("layer", 16)
    x = torch.randn(5, er.T, er.D)
    alone = model(x[:1])
    together = model(x)[:1]
    torch.testing.assert_close(alone, together, rtol=0, atol=1e-6)
    bn = er._rnn_class()("bn_shared", 16)
    assert not torch.allclose(bn(x[:2])[:1], bn(x)[:1], atol=1e-4)
