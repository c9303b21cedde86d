"""Experiment scale_invariance: the invariance and the 1/k gradient law checked by hand, the
growth law ‖w′‖² = ‖w‖² + η²‖∇‖² on one SGD step, and the claim and facts on both shipped seeds."""
from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from normviz.experiments import get
from normviz.experiments import scale_invariance as es
from normviz.experiments.seeds import facts as seed_facts
from tests.shipped import shipped_results


@pytest.fixture(scope="module")
def shipped():
    return shipped_results("scale_invariance")


@pytest.mark.parametrize("idx", [0, 1])
def test_shipped_claim_holds_and_sentence_quotes_the_data(shipped, idx):
    res = shipped["runs"][str(shipped["seeds"][idx])]["results"]
    holds, sentence = es.claim(res)
    assert holds, sentence
    a = es._series(res, "bn", 0)
    assert f"‖w‖ {a[0]:.2f} → {a[-1]:.2f}" in sentence
    # Effective learning rate is η/‖w‖², row by row.
    lr = res["settings"]["lr"]
    for row_w, row_e in zip(res["runs"]["bn_wd"]["w_norm"], res["runs"]["bn_wd"]["effective_lr"]):
        assert row_e == pytest.approx([lr / w ** 2 for w in row_w], rel=1e-12)
    # Without weight decay ‖w‖ grows by a visible amount, not just round-off.
    assert a[-1] > 1.1 * a[0]
    inv = res["invariance"]
    assert abs(inv["cosine_w_grad"]) < 1e-8  # w ⊥ ∇w
    assert max(inv["max_delta_eps"]) > 100 * max(inv["max_delta_eps0"])  # ε is what breaks the invariance


def test_facts_are_worded_alike_on_both_seeds(shipped):
    fs = seed_facts(get("scale_invariance"), shipped)
    assert len(fs) == 7 and fs[0].all and fs[2].all


def test_one_sgd_step_lengthens_w_by_the_growth_law():
    """‖w′‖² = ‖w‖² + η²‖∇w‖² for the weights before BN (ε → 0, float64)."""
    from normviz.experiments.loop import cnn, digits

    X, y = digits("cnn")[:2]
    model = cnn("batch", seed=2).double().train()
    for m in model.modules():
        if hasattr(m, "eps"):
            m.eps = es.EPS0
    F.cross_entropy(model(X[:32].double()), y[:32]).backward()
    w = model[0][0].weight
    lr = 0.3
    before, g = w.detach().clone(), w.grad.detach().clone()
    after = before - lr * g
    assert float(after.norm()) ** 2 == pytest.approx(float(before.norm()) ** 2 + lr ** 2 * float(g.norm()) ** 2, rel=1e-12)
    assert after.norm() > before.norm()


def test_weight_norms_reads_the_convs_before_bn_and_wn_v():
    from normviz.experiments.loop import cnn

    bn = cnn("batch", seed=0)
    assert es.weight_norms(bn) == pytest.approx([float(bn[i][0].weight.detach().norm()) for i in range(2)])
    wn = cnn("weight", seed=0)
    assert es.weight_norms(wn) == pytest.approx([float(wn[i][0].v.detach().norm()) for i in range(2)])
    assert es.weight_norms(cnn("none", seed=0)) == []  # no BN after the convs, nothing scale-invariant


def test_claim_reports_a_shrinking_norm(shipped):
    bad = copy.deepcopy(shipped["runs"]["0"]["results"])
    bad["runs"]["bn"]["w_norm"][-1][0] = bad["runs"]["bn"]["w_norm"][0][0] * 0.5
    holds, sentence = es.claim(bad)
    assert not holds and "only grows (fails)" in sentence


def test_invariance_check_live_matches_torch_scaling():
    got = es.invariance_check(seed=1, batch=16)
    assert max(got["max_delta_eps0"]) < 1e-10 * max(1.0, got["output_scale"])
    assert got["grad_ratio"] == pytest.approx([1.0] * len(es.SCALES), abs=1e-9)
    net = copy.deepcopy(torch.nn.Linear(3, 2))  # without BN the same scaling changes the output
    x = torch.randn(4, 3)
    out = net(x)
    with torch.no_grad():
        net.weight.mul_(10)
        net.bias.mul_(10)
    assert (net(x) - out).abs().max() > 0.1
