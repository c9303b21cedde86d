"""Exercises: every answer recomputed independently (torch, or the definition of the sets), the
checkers accept the right answer and reject wrong ones, the result code round-trips and catches typos."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from normviz.classroom import exercises as E
from normviz.norms import NORMS

CAT = E.catalogue()


def test_every_norm_gets_exercises():
    for k in NORMS:
        assert f"set-{k}" in {e.id for e in CAT} and f"which-{k}" in {e.id for e in CAT}
    assert len({e.id for e in CAT}) == len(CAT)
    assert {e.kind for e in CAT} == {"set", "change", "race", "which"}


def _torch_set(norm: str) -> set:
    """The set by torch: cells whose perturbation moves the mean the marked output uses."""
    x = torch.randn(E.SHAPE, dtype=torch.float64, generator=torch.Generator().manual_seed(0), requires_grad=True)
    n, c, h, w = E.MARKED
    if norm in ("batch", "batch_renorm"):
        mu = x.mean(dim=(0, 2, 3))[c]
    elif norm in ("layer",):
        mu = x.mean(dim=(1, 2, 3))[n]
    elif norm in ("instance", "ghost_batch"):  # ghost batch of 1 sample = one sample's channel
        mu = x.mean(dim=(2, 3))[n, c]
    elif norm == "group":
        mu = x.reshape(2, 2, 2, 2, 2).mean(dim=(2, 3, 4))[n, c // 2]
    else:
        raise AssertionError(f"no torch recomputation for {norm}")
    mu.backward()
    return {tuple(ix) for ix in zip(*np.nonzero(x.grad.numpy()))}


@pytest.mark.parametrize("norm", ["batch", "layer", "instance", "group", "ghost_batch", "batch_renorm"])
def test_set_answers_match_torch(norm):
    assert set(E.by_id(f"set-{norm}").answer) == _torch_set(norm)


def test_set_sizes_from_the_axes():
    # every partition norm's set size is the product of the pooled axes' sizes
    sizes = dict(zip("NCHW", E.SHAPE))
    for k, spec in NORMS.items():
        if not spec.is_partition or spec.is_weight:
            continue
        expect = 1
        for a in spec.axes:
            expect *= {"C/G": E.SHAPE[1] // E.GROUPS, "N/g": 1}.get(a, sizes.get(a, 1))
        assert len(E.by_id(f"set-{k}").answer) == expect, k
    assert E.by_id("set-dyt").answer == {E.MARKED}


@given(st.sets(st.sampled_from(E.all_cells()), max_size=12), st.sampled_from(sorted(NORMS)))
@settings(max_examples=60, deadline=None)
def test_set_checker(clicked, norm):
    ex = E.by_id(f"set-{norm}")
    v = ex.check(clicked)
    assert v.correct == (set(clicked) | {E.MARKED} == set(ex.answer))
    assert set(v.wrong) == set(clicked) - set(ex.answer)
    assert set(v.missing) == set(ex.answer) - set(clicked) - {E.MARKED}
    assert ex.check(ex.answer).correct and ex.check(set(ex.answer) - {E.MARKED}).correct


def _torch_norm(x, norm, running):
    t = torch.from_numpy(x)
    if norm == "instance":
        return torch.nn.functional.instance_norm(t).numpy()
    if norm == "layer":
        return torch.nn.functional.layer_norm(t, t.shape[1:]).numpy()
    if norm == "group":
        return torch.nn.functional.group_norm(t, 3).numpy()
    if norm == "batch":
        return torch.nn.functional.batch_norm(t, None, None, training=True).numpy()
    mean, var = (torch.from_numpy(a) for a in running)
    return torch.nn.functional.batch_norm(t, mean, var, training=False).numpy()


@pytest.mark.parametrize("norm,edit", list(itertools.product(E.CHANGE_NORMS, E.EDITS)))
def test_change_answers_match_torch(norm, edit):
    x = E.image_batch()
    running = (x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3)))
    delta = np.abs(_torch_norm(x, norm, running)[0] - _torch_norm(E.edited(x, edit), norm, running)[0]).max()
    ex = E.by_id(f"change-{norm}-{edit}")
    assert ex.answer == ("changes" if delta > E.CHANGE_TOL else "stays")
    # no answer sits near the tolerance: the verdict does not hinge on float noise
    assert delta < E.CHANGE_TOL / 10 or delta > E.CHANGE_TOL * 10
    assert ex.check(ex.answer).correct
    assert not ex.check(next(o for o in ex.options if o != ex.answer)).correct


def test_change_answers_follow_the_theory():
    # IN erases per-channel affine edits of its own image; BN train sees every edit of the batch
    for edit in ("contrast", "brightness", "cast"):
        assert E.by_id(f"change-instance-{edit}").answer == "stays"
    assert E.by_id("change-layer-cast").answer == "changes"
    assert E.by_id("change-batch-mate").answer == "changes"
    assert E.by_id("change-batch_eval-mate").answer == "stays"


def test_race_answer_from_shipped_data():
    doc = E.shipped("bn_figure1")
    winners = set()
    for run in doc["runs"].values():
        steps = run["results"]["steps_to_target"]
        winners.add(min((v, k) for k, v in steps.items() if v is not None)[1])
    ex = E.by_id("race-bn_figure1")
    assert ex.answer == (winners.pop() if len(winners) == 1 else "seeds disagree")
    assert ex.check(ex.answer).correct
    for wrong in (o for o in ex.options if o != ex.answer):
        assert not ex.check(wrong).correct
    # the message quotes the shipped step counts of every seed
    for seed, run in doc["runs"].items():
        assert f"seed {seed}:" in ex.check(ex.answer).message


@pytest.mark.parametrize("norm", sorted(NORMS))
def test_which_checker(norm):
    ex = E.by_id(f"which-{norm}")
    w = E.pooling_weights(E.SHAPE, norm, E.MARKED, **E._kwargs(norm))
    for option in ex.options:
        same = np.allclose(E.pooling_weights(E.SHAPE, option, E.MARKED, **E._kwargs(option)), w)
        assert ex.check(option).correct == same, option
    assert norm in ex.answer


@given(st.dictionaries(st.sampled_from([e.id for e in CAT]), st.booleans(), max_size=len(CAT)))
@settings(max_examples=80, deadline=None)
def test_result_code_round_trips(answers):
    code = E.encode_result(answers)
    assert E.decode_result(code) == answers
    assert E.decode_result(code.lower().replace("-", " ")) == answers


@given(st.dictionaries(st.sampled_from([e.id for e in CAT]), st.booleans(), min_size=1, max_size=20),
       st.data())
@settings(max_examples=80, deadline=None)
def test_result_code_detects_a_typo(answers, data):
    code = E.encode_result(answers).replace("-", "")
    i = data.draw(st.integers(0, len(code) - 1))
    c = data.draw(st.sampled_from([a for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" if a != code[i]]))
    typo = code[:i] + c + code[i + 1:]
    try:
        decoded = E.decode_result(typo)
    except ValueError as err:
        assert "code" in str(err)
    else:  # the last character may carry only padding bits, which base32 ignores
        assert decoded == answers


@pytest.mark.parametrize("bad", ["", "AAAQ-ARF3-W1", "AAAQ-ARF3", "ZZZZ-ZZZZ-ZZ"])
def test_bad_codes_explained(bad):
    with pytest.raises(ValueError, match="code"):
        E.decode_result(bad)


def test_grid_clicks_map_back_to_cells():
    from normviz.classroom.figures import cell_xy, xy_cell

    assert all(xy_cell(*cell_xy(c)) == c for c in E.all_cells())
    gap = cell_xy((0, 0, E.SHAPE[2] - 1, E.SHAPE[3] - 1))[0] + 1  # the column between the panels
    assert xy_cell(gap, 0) is None
