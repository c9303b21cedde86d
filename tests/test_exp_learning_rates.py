"""Experiments learning_rates and input_scaling: the sweep's bookkeeping on hand-made logs, the
largest-learning-rate rule, the input transformations against numpy, and the claims and facts on
both shipped seeds with sentences from the data."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

from normviz.experiments import get
from normviz.experiments import input_scaling as eis
from normviz.experiments import learning_rates as elr
from normviz.experiments.seeds import facts as seed_facts
from tests.shipped import shipped_results


@pytest.fixture(scope="module")
def shipped_lr():
    return shipped_results("learning_rates")


@pytest.fixture(scope="module")
def shipped_is():
    return shipped_results("input_scaling")


def test_final_error_and_largest_lr_rules():
    log = {"loss": [None, 2.0, 1.0, 0.5], "val_error": [90.0, 30.0, 9.0, 8.0, 7.0]}
    assert elr.final_error(log) == pytest.approx(8.0)  # mean of the last 3 logs
    assert elr.final_error(dict(log, loss=[None, 2.0, float("nan"), 0.5])) == 100.0  # diverged once: diverged
    assert elr.final_error(dict(log, loss=[None, math.inf])) == 100.0
    sweep = {"lr": [0.01, 0.1, 1.0], "error": [12.0, 9.9, 100.0]}
    assert elr.largest_lr(sweep) == 0.1
    assert elr.largest_lr(dict(sweep, error=[50.0, 50.0, 50.0])) is None


@pytest.mark.parametrize("idx", [0, 1])
def test_learning_rates_shipped_claim_and_sentence(shipped_lr, idx):
    res = shipped_lr["runs"][str(shipped_lr["seeds"][idx])]["results"]
    holds, sentence = elr.claim(res)
    big = {k: elr.largest_lr(res["sweeps"][k]) for k in elr.NORMS}
    for k in elr.NORMS:
        assert f"{elr.LABELS[k]} {elr._fmt(big[k])}" in sentence
        # The rule, recomputed by hand from the stored errors.
        ok = [lr for lr, e in zip(res["sweeps"][k]["lr"], res["sweeps"][k]["error"]) if e <= 10.0]
        assert big[k] == (max(ok) if ok else None)
        assert len(res["sweeps"][k]["error"]) == len(elr.LRS)
    assert holds == (big["batch"] is not None and (big["none"] is None or big["batch"] > big["none"]))
    assert ("holds" in sentence) == holds
    # The largest grid point diverges for every norm: the grid reaches past the stable range.
    assert all(res["sweeps"][k]["error"][-1] > 50 for k in elr.NORMS)


def test_learning_rates_facts_counted_over_seeds(shipped_lr):
    fs = seed_facts(get("learning_rates"), shipped_lr)
    assert len(fs) == 5 and {f.statement for f in fs} == {t for t, _ in elr.facts(shipped_lr["runs"]["0"]["results"])}


def test_learning_rates_claim_can_fail(shipped_lr):
    bad = copy.deepcopy(shipped_lr["runs"]["0"]["results"])
    bad["sweeps"]["batch"]["error"] = [100.0] * len(elr.LRS)
    holds, sentence = elr.claim(bad)
    assert not holds and "BatchNorm none of the grid" in sentence and "does not hold" in sentence


def test_input_transformations_match_numpy():
    from normviz.experiments.loop import digits

    data = digits("mlp")
    Xtr = data[0].numpy()
    idx = eis.scaled_features(data[0])
    assert idx == sorted(np.argsort(-Xtr.var(0), kind="stable")[:eis.N_SCALED].tolist())
    raw = eis.make_data("raw", data)[0].numpy()
    np.testing.assert_allclose(raw[:, idx], Xtr[:, idx] * 100, rtol=1e-6)
    others = [j for j in range(64) if j not in idx]
    np.testing.assert_array_equal(raw[:, others], Xtr[:, others])
    std = eis.make_data("standardized", data)[0].numpy()
    varying = Xtr.std(0) > 0
    np.testing.assert_allclose(std.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(std[:, varying].std(0, ddof=1), 1, rtol=1e-4)
    assert data[0].max() <= 1.0 and eis.make_data("clean", data) is data  # the original pixels, untouched


def test_bn_first_has_bn_in_the_first_block_only():
    from normviz.norms.torch_modules import BatchNorm

    model = eis.build("bn_first", seed=0)
    assert isinstance(model[0][1], BatchNorm)
    assert not any(isinstance(m, BatchNorm) for m in model[1:].modules())
    assert not any(isinstance(m, BatchNorm) for m in eis.build("raw", seed=0).modules())
    assert eis.build("raw", seed=0)(torch.zeros(2, 64)).shape == (2, 10)


@pytest.mark.parametrize("idx", [0, 1])
def test_input_scaling_shipped_sentence_states_what_was_measured(shipped_is, idx):
    res = shipped_is["runs"][str(shipped_is["seeds"][idx])]["results"]
    holds, sentence = eis.claim(res)
    big = eis._largest(res)
    assert all(f"{eis.LABELS[k]} {eis._fmt(big[k])}" in sentence for k in eis.SETUPS)
    assert ("both allow a larger learning rate than the scaled pixels alone: holds" in sentence) == holds
    # What this experiment teaches on every seed: standardizing the inputs undoes the ×100 completely,
    # i.e. it trains to 90 % at least at the original pixels' largest learning rate.
    assert big["standardized"] is not None and big["standardized"] >= big["clean"]
    assert res["scaled_features"] == sorted(res["scaled_features"]) and res["factor"] == 100.0


def test_input_scaling_facts_counted_over_seeds(shipped_is):
    fs = seed_facts(get("input_scaling"), shipped_is)
    assert len(fs) == 7
    assert fs[1].all  # standardized inputs beat the scaled pixels in both seeds


@pytest.mark.recompute
def test_live_recheck_of_one_sweep_cell_in_portable_mode(shipped_lr):
    """The shipped sweep was made in portable mode: one of its cells re-run there gives its number exactly."""
    from normviz.numerics import run_portable

    sweep = shipped_lr["runs"]["1"]["results"]["sweeps"]["batch"]
    j = sweep["lr"].index(0.3)  # BN's largest learning rate that still trains: the cell the claim rests on
    got = run_portable("normviz.experiments.learning_rates:sweep_point", norm="batch", lr=0.3, seed=1)
    assert got == sweep["error"][j]
