"""Experiment affine (γ and β): the identity check against torch, the γ/β summaries against the
parameters, and the claim and facts on both shipped seeds, with sentences from the data."""
from __future__ import annotations

import copy

import pytest
import torch

from normviz.experiments import affine as ea
from normviz.experiments import get
from normviz.experiments.seeds import facts as seed_facts
from tests.shipped import shipped_results


@pytest.fixture(scope="module")
def shipped():
    return shipped_results("affine")


@pytest.mark.parametrize("idx", [0, 1])
def test_shipped_claim_holds_and_sentence_quotes_the_data(shipped, idx):
    res = shipped["runs"][str(shipped["seeds"][idx])]["results"]
    holds, sentence = ea.claim(res)
    assert holds, sentence
    assert f"{res['identity']['float64']:.1e}" in sentence
    err = ea._final(res)
    assert f"{err['affine']:.1f} %" in sentence and f"{err['no_affine']:.1f} %" in sentence
    # The no-affine run really has no γ, β; the affine run logs both layers at every log.
    assert all(row == [] for row in res["runs"]["no_affine"]["gamma_beta"])
    gb = res["runs"]["affine"]["gamma_beta"]
    assert len(gb) == len(res["runs"]["affine"]["step"]) and all(len(row) == 2 for row in gb)
    assert gb[0] == [[1.0, 0.0, 0.0, 0.0]] * 2  # γ starts at 1, β at 0
    assert res["identity"]["float32"] < 1e-5 * res["identity"]["float32_input_scale"]


def test_facts_are_worded_alike_on_both_seeds(shipped):
    fs = seed_facts(get("affine"), shipped)
    assert len(fs) == 5 and fs[0].all  # the identity holds in both seeds


def test_identity_check_against_torch_batch_norm():
    got = ea.identity_check(seed=3, batch=16)
    assert got["float64"] < 1e-12 * max(1.0, got["float64_input_scale"])
    # The check is not vacuous: γ = 1, β = 0 (torch's own BN) changes the input by O(1).
    x = torch.randn(16, 4, 8, 8, dtype=torch.float64) * 3 + 2
    assert (torch.nn.functional.batch_norm(x, None, None, training=True) - x).abs().max() > 1.0


def test_gamma_beta_summaries_match_the_parameters():
    from normviz.experiments.loop import cnn

    model = cnn("batch", seed=0)
    with torch.no_grad():
        for i, block in enumerate(model[:2]):
            block[1].weight.copy_(torch.linspace(0.5, 1.5 + i, block[1].num_features))
            block[1].bias.fill_(0.25 * (i + 1))
    got = ea.gamma_beta(model)
    for i, (g, gs, b, bs) in enumerate(got):
        w = model[i][1].weight.detach().double()
        assert g == pytest.approx(float(w.mean())) and gs == pytest.approx(float(w.std()))
        assert b == pytest.approx(0.25 * (i + 1)) and bs == pytest.approx(0.0, abs=1e-15)
    assert ea.gamma_beta(cnn("batch", seed=0, norm_opts={"affine": False})) == []


def test_claim_reports_a_failed_identity(shipped):
    bad = copy.deepcopy(shipped["runs"]["0"]["results"])
    bad["identity"]["float64"] = 0.5
    holds, sentence = ea.claim(bad)
    assert not holds and "(fails)" in sentence
