"""Ghost BN experiment (issue 14 item 6): the shipped runs on both seeds, the sentence generated
from their numbers (and saying so when the claim does not reproduce), equal epochs per arm, and
the ghost arm's norm really normalizing per chunk (checked against torch's batch_norm)."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from normviz.experiments import EXPERIMENTS, loop
from normviz.experiments import ghost_bn as eg
from tests.shipped import shipped_results


@pytest.fixture(scope="module")
def shipped():
    return shipped_results("ghost_bn")


def test_shipped_runs_cover_two_seeds_and_record_how_they_were_made(shipped):
    assert shipped["made_by"].startswith("python -m normviz.experiments --precompute ghost_bn")
    assert shipped["numerics"]["mode"] == "portable" and shipped["numerics"]["threads"] == 1
    assert set(shipped["runs"]) >= {"0", "1"}


@pytest.mark.parametrize("seed", ["0", "1"])
def test_every_arm_trains_the_same_epochs_and_its_summary_comes_from_its_curve(shipped, seed):
    res = shipped["runs"][seed]["results"]
    assert set(res["arms"]) == set(eg.ARMS) and res["epochs"] == eg.EPOCHS
    for arm, (norm, batch, ghost) in eg.ARMS.items():
        r = res["arms"][arm]
        assert (r["norm"], r["batch"], r["ghost_size"]) == (norm, batch, ghost)
        assert r["steps"] == res["epochs"] * res["n_train"] // batch and r["step"][-1] == r["steps"]
        assert r["lr"] == pytest.approx(eg.LR * np.sqrt(batch / eg.SMALL))
        tail = np.array(r["val_error"][-eg.LAST:])
        assert r["final_val"] == pytest.approx(tail.mean()) and r["spread"] == pytest.approx(np.ptp(tail))
        assert all(0 <= e <= 100 for e in r["val_error"])


@pytest.mark.parametrize("seed", ["0", "1"])
def test_sentence_and_facts_are_generated_from_the_seed_numbers(shipped, seed):
    res = shipped["runs"][seed]["results"]
    holds, sentence = EXPERIMENTS["ghost_bn"].claim(res)
    assert (holds, sentence) == (shipped["runs"][seed]["claim"]["holds"], shipped["runs"][seed]["claim"]["sentence"])
    for arm in eg.ARMS:
        assert f"{res['arms'][arm]['final_val']:.2f} %" in sentence
    lg = res["arms"]["large"]["final_val"] - res["arms"]["ghost"]["final_val"]
    noise = max(res["arms"]["large"]["spread"], res["arms"]["ghost"]["spread"])
    assert holds == (lg > noise)  # computed here from the numbers, independently of claim()
    assert ("does not reproduce" in sentence) == (not holds)
    facts = dict(EXPERIMENTS["ghost_bn"].facts(res))
    assert len(facts) == 3 and any(v == holds for k, v in facts.items() if "Ghost batches" in k)


def test_a_run_where_ghost_batches_do_not_help_is_reported_as_not_reproducing(shipped):
    res = copy.deepcopy(shipped["runs"]["0"]["results"])
    res["arms"]["ghost"], res["arms"]["large"] = res["arms"]["large"], res["arms"]["ghost"]
    res["arms"]["ghost"]["final_val"] = res["arms"]["large"]["final_val"] + 5.0
    holds, sentence = eg.claim(res)
    assert not holds and "does not reproduce here" in sentence


def test_ghost_arm_normalizes_each_chunk_of_the_batch_like_torch_batch_norm():
    model = loop.cnn("ghost_batch", seed=0, norm_opts={"ghost_size": eg.GHOST})
    conv, norm = model[0][0], model[0][1]
    x = conv(torch.randn(2 * eg.GHOST, 1, 8, 8, generator=torch.Generator().manual_seed(3)))
    norm.train()
    with torch.no_grad():
        got = norm(x)
        want = torch.cat([F.batch_norm(c, None, None, training=True, eps=norm.eps) for c in x.split(eg.GHOST)])
        whole = F.batch_norm(x, None, None, training=True, eps=norm.eps)
    assert torch.allclose(got, want, atol=1e-5)
    assert not torch.allclose(got, whole, atol=1e-3)  # it is not plain BN over the whole batch
