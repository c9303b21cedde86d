"""The exercises page under AppTest: a locked link opens its exercise without the chooser; right
and wrong answers are scored at once; the result code shown decodes to the answers given."""
from __future__ import annotations

from functools import partial

import page_utils
from app_pages._live_chart import payload
from normviz.classroom import exercises as E

open_page = partial(page_utils.open_page, "exercises.py")


def code_shown(at) -> str:
    return [c.value for c in at.code if "-" in c.value and "/" not in c.value][0]


def test_locked_link_hides_the_chooser_and_scores_right_then_wrong():
    ex = E.by_id("change-batch-mate")
    at = open_page(ex=ex.id, lock="ex")
    assert not at.selectbox and ex.title in [s.value for s in at.subheader]
    at.radio[0].set_value(ex.answer)
    at.button[0].click().run()
    assert not at.exception and at.success and not at.error
    assert at.success[0].value.startswith("Right")
    assert "1 of 1 correct" in " ".join(m.value for m in at.markdown)
    assert E.decode_result(code_shown(at)) == {ex.id: True}


def test_wrong_set_answer_shows_wrong_and_missing_cells():
    ex = E.by_id("set-group")
    at = open_page(ex=ex.id, lock="ex")
    wrong = next(c for c in E.all_cells() if c not in ex.answer)
    at.multiselect[0].set_value([wrong])
    at.button[0].click().run()
    assert not at.exception and at.error and not at.success
    assert f"1 cell(s) do not share μ, {len(ex.answer) - 1} cell(s)" in at.error[0].value
    names = {t["name"] for t in payload(page_utils.live_chart_elements(at)[0])["figure"]["data"]}
    assert {"clicked, not in the set", "in the set, not clicked"} <= names
    assert E.decode_result(code_shown(at)) == {ex.id: False}


def test_chooser_and_teacher_decoding():
    at = open_page()
    assert at.selectbox[0].value == E.catalogue()[0].id
    at.selectbox[0].set_value("race-bn_figure1").run()
    ex = E.by_id("race-bn_figure1")
    at.radio[0].set_value(ex.answer)
    at.button[0].click().run()
    assert at.success[0].value.startswith("Right")
    code = E.encode_result({"race-bn_figure1": True, "set-batch": False})
    at.text_input[0].set_value(code).run()
    assert "1 of 2 correct" in " ".join(m.value for m in at.markdown)
    at.text_input[0].set_value(code[:-1] + ("A" if code[-1] != "A" else "B")).run()
    assert not at.exception and any("code" in e.value for e in at.error)


def test_unknown_exercise_in_the_url_is_explained():
    at = open_page(ex="no-such-thing", lock="ex")
    assert any("'ex'" in w.value for w in at.warning)
