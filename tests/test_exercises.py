"""Exercises: every answer is computed by the library and checked against it (or torch); the checker
accepts right answers and rejects wrong ones; the result code round-trips and catches typos; the page
scores answers."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as hs
from streamlit.testing.v1 import AppTest

from normviz.classroom import exercises as ex
from normviz.norms import NORMS
from tests.conftest import ROOT

CAT = ex.catalogue()
IDS = [e.id for e in CAT]


def test_every_partition_norm_gets_exercises_and_ids_are_unique():
    assert len(IDS) == len(set(IDS))
    for key, spec in NORMS.items():
        if spec.is_partition and not spec.is_weight:
            assert f"pool-{key}-0" in IDS and f"which-{key}" in IDS
    assert {e.kind for e in CAT} == set(ex.KINDS)


@pytest.mark.parametrize("norm, dims", [("batch", (0, 2, 3)), ("layer", (1, 2, 3)), ("instance", (2, 3))])
def test_pool_answers_match_torch_reduction_sets(norm, dims):
    # The cells sharing μ with the marked one are those with equal indices on the axes torch keeps.
    for j, idx in enumerate(ex.MARKED):
        e = ex.get(f"pool-{norm}-{j}")
        kept = [a for a in range(4) if a not in dims]
        want = {ex.cell_label(i) for i in np.ndindex(*ex.POOL_SHAPE) if all(i[a] == idx[a] for a in kept)}
        assert e.answer == want


def test_group_pool_answer_is_the_group():
    e = ex.get("pool-group-0")  # marked (0, 1, 0, 1), C = 4, G = 2: channels 0 and 1 of sample 0
    assert e.answer == {ex.cell_label(i) for i in np.ndindex(*ex.POOL_SHAPE) if i[0] == 0 and i[1] in (0, 1)}


@pytest.mark.parametrize("e", [e for e in CAT if e.kind == "change"], ids=lambda e: e.id)
def test_change_answers_agree_with_torch(e):
    _, change, norm, mode = e.id.split("-")
    x = torch.from_numpy(ex.change_batch())
    y = torch.from_numpy(ex.changed_batch(ex.change_batch(), change))
    if mode == "eval":
        mu, var = x.mean((0, 2, 3)), x.var((0, 2, 3), unbiased=False)
        f = lambda t: torch.nn.functional.batch_norm(t, mu, var, training=False)  # noqa: E731
    else:
        f = {"instance": torch.nn.functional.instance_norm, "layer": lambda t: torch.nn.functional.layer_norm(
            t, t.shape[1:]), "group": lambda t: torch.nn.functional.group_norm(t, 3),
             "batch": lambda t: torch.nn.functional.batch_norm(t, None, None, training=True)}[norm]
    delta = (f(x)[0] - f(y)[0]).abs().max().item()
    assert ("changes" in e.answer) == (delta > ex.CHANGE_TOL)
    assert delta > 0.05 or delta < ex.CHANGE_TOL / 2  # never a borderline answer


def test_race_answer_comes_from_the_shipped_run():
    from normviz.experiments import EXPERIMENTS

    steps = EXPERIMENTS["bn_figure1"].precomputed()["runs"]["0"]["results"]["steps_to_target"]
    e = ex.get("race-bn_fig1")
    assert (NORMS["batch"].name in e.answer) == (steps["batch"] < steps["none"])


@given(hs.sampled_from([e for e in CAT if e.multi]), hs.data())
def test_pool_checker_accepts_only_the_exact_set(e, data):
    assert e.check(e.answer).correct
    others = sorted(set(e.options) - e.answer)
    extra = data.draw(hs.sets(hs.sampled_from(others), min_size=1, max_size=3))
    v = e.check(e.answer | extra)
    assert not v.correct and set(v.wrong) == extra and not v.missing
    drop = data.draw(hs.sampled_from(sorted(e.answer)))
    v = e.check(e.answer - {drop})
    assert not v.correct and v.missing == (drop,)


def test_single_choice_checker_and_unknown_option():
    e = ex.get("which-group")
    assert e.check(next(iter(e.answer))).correct
    wrong = next(o for o in e.options if o not in e.answer)
    assert not e.check(wrong).correct
    with pytest.raises(ValueError, match="not options"):
        e.check("Banana Norm")


@given(hs.dictionaries(hs.sampled_from(IDS), hs.booleans(), max_size=20))
def test_result_code_round_trips(results):
    assert ex.read_result_code(ex.result_code(results)) == results


def test_result_code_catches_a_typo():
    code = ex.result_code({"pool-batch-0": True, "which-layer": False, "race-bn_fig1": True})
    body = code[3:]
    i = next(k for k, ch in enumerate(body) if ch not in "-")
    typo = code[:3] + body[:i] + ("B" if body[i] != "B" else "C") + body[i + 1:]
    with pytest.raises(ValueError, match="mistyped|not a result code|does not have"):
        ex.read_result_code(typo)
    for k in range(3, len(code)):  # a wrong letter anywhere, the last one included
        if code[k] != "-":
            bad = code[:k] + ("Q" if code[k] != "Q" else "R") + code[k + 1:]
            with pytest.raises(ValueError):
                ex.read_result_code(bad)
    with pytest.raises(ValueError, match="starts with NV-"):
        ex.read_result_code("hello")


def _page(**query):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in query.items():
        at.query_params[k] = v
    at.switch_page("app_pages/exercises.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_locked_link_right_then_wrong_answer_and_result_code():
    at = _page(ex="which-group", lock="1")
    assert not at.selectbox  # locked: no way to pick another exercise
    assert "GroupNorm" in at.radio(key="exercises:a:which-group").options
    at.radio(key="exercises:a:which-group").set_value("GroupNorm")
    at.button[0].click().run()
    assert at.success and "Right." in at.success[0].value
    code = at.code[0].value
    assert ex.read_result_code(code) == {"which-group": True}
    at.radio(key="exercises:a:which-group").set_value("LayerNorm")
    at.button[0].click().run()
    assert at.error and "GroupNorm" in at.error[0].value
    assert ex.read_result_code(at.code[0].value) == {"which-group": False}


def test_pool_exercise_reveals_wrong_and_missing_cells():
    at = _page(ex="pool-batch-0", lock="1")
    e = ex.get("pool-batch-0")
    some = sorted(e.answer)[:-1] + [next(o for o in e.options if o not in e.answer)]
    at.multiselect(key="exercises:a:pool-batch-0").set_value(some)
    at.button[0].click().run()
    assert at.error and "1 marked cell(s) are not in the set and 1" in at.error[0].value
    assert len(at.get("plotly_chart")) == 2  # the question's grid and the reveal


def test_unknown_exercise_link_says_so():
    at = _page(ex="nope")
    assert at.warning and "does not exist" in at.warning[0].value


def test_teacher_reads_a_code_and_a_typo():
    at = _page()
    code = ex.result_code({"pool-layer-1": True, "race-bn_fig1": False})
    at.text_input(key="exercises:read").set_value(code).run()
    assert any("1 of 2 right" in m.value for m in at.markdown)
    at.text_input(key="exercises:read").set_value(code[:-1] + ("A" if code[-1] != "A" else "B")).run()
    assert at.error
