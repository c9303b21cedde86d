"""Experiment 9 (LN paper Table 1, live): the computed invariance table equals the paper's."""
from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from normviz.experiments import invariances as inv


@pytest.fixture(scope="module", params=[0, 1])
def results(request):
    return inv.run(seed=request.param)


def test_computed_table_equals_paper_table_1(results):
    assert results["table"] == inv.PAPER_TABLE
    holds, sentence = inv.claim(results)
    assert holds, sentence
    assert "all 24 cells" in sentence


def test_yes_and_no_cells_are_far_apart_at_eps_zero(results):
    c0 = results["change_eps0"]
    cells = [(k, t) for k in inv.NORM_KEYS for t in inv.TRANSFORMS]
    yes = [c0[k][t] for k, t in cells if inv.PAPER_TABLE[k][t]]
    no = [c0[k][t] for k, t in cells if not inv.PAPER_TABLE[k][t]]
    assert max(yes) < 1e-12  # round-off only
    assert min(no) > 0.1     # a real change, 11 orders of magnitude above


def test_eps_makes_rescaling_invariance_approximate(results):
    ce = results["change_eps"]
    # With ε = 1e-5 the rescaling cells move, but only a little ...
    for k, t in (("batch", "data_rescale"), ("layer", "single_rescale"), ("rms", "w_matrix_rescale")):
        assert 1e-9 < ce[k][t] < 1e-3
    # ... re-centering involves no scale, so ε plays no role there.
    assert ce["batch"]["data_recenter"] < 1e-12 and ce["layer"]["w_matrix_recenter"] < 1e-12
    # The smaller the data scale δ, the larger ε/δ² and the larger the change.
    cav = results["eps_caveat"]
    for k in ("batch", "layer", "rms"):
        seq = [r[k] for r in cav]
        assert seq[0] < 1e-12 and all(b > a for a, b in zip(seq[1:], seq[2:]))
        assert seq[-1] > 0.3


def test_eps_rescaling_identity_is_exact():
    rng = np.random.default_rng(3)
    u, W = rng.normal(size=(8, 6)), rng.normal(size=(5, 6))
    for norm in ("batch", "layer", "rms"):
        for delta in (0.1, 0.5, 4.0):
            a = inv.layer_output(delta * u, W, norm, eps=1e-5)
            b = inv.layer_output(u, W, norm, eps=1e-5 / delta ** 2)
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


def test_claim_reports_a_mismatch():
    r = inv.run(seed=0, quick=True)
    bad = copy.deepcopy(r)
    bad["table"]["layer"]["data_recenter"] = True
    holds, sentence = inv.claim(bad)
    assert not holds and "LayerNorm / dataset re-centering" in sentence


def test_quick_run_is_json_and_figures_have_titles():
    r = inv.run(seed=5, quick=True)
    back = json.loads(json.dumps(r))
    assert back["table"] == inv.PAPER_TABLE
    figs = inv.figure(back)
    assert len(figs) == 2
    for f in figs:
        assert f.layout.title.text and f.layout.xaxis.title.text and f.layout.yaxis.title.text


def test_unknown_transformation_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown transformation 'flip'"):
        inv.transform(np.ones((2, 2)), np.ones((2, 2)), "flip", np.random.default_rng(0))
