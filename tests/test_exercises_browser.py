"""Exercises and lessons in Chromium: a locked exercise link answered by clicking is scored at
once and gives a result code that decodes to that answer; a lesson's link opens its exercise.
Screenshots of both pages at 1280×800 and 390×844 go to artifacts/screenshots/."""
from __future__ import annotations

import re

import pytest

from browser_utils import assert_no_exception, goto, screenshot, wait_for_app
from normviz.classroom import exercises as E
from normviz.classroom.lessons import lessons

pytestmark = pytest.mark.browser


def test_locked_exercise_is_scored_in_the_browser(page, app_url):
    ex = E.by_id("change-batch-mate")
    goto(page, f"{app_url}{E.locked_link(ex.id)}")
    assert page.locator('[data-testid="stSelectbox"]').count() == 0  # the chooser is hidden
    page.get_by_text(ex.answer, exact=True).click()
    page.get_by_role("button", name="Check").click()
    page.locator('[data-testid="stAlertContentSuccess"]').wait_for(timeout=30000)
    wait_for_app(page)
    assert_no_exception(page)
    assert "1 of 1 correct" in page.locator('[data-testid="stMarkdown"]', has_text="Score").inner_text()
    code = page.locator('[data-testid="stCode"]').first.inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7-]+", code) and E.decode_result(code) == {ex.id: True}
    screenshot(page, "exercises_1280x800")
    page.set_viewport_size({"width": 390, "height": 844})
    wait_for_app(page)
    screenshot(page, "exercises_390x844")


def test_set_exercise_draws_every_cell(page, app_url):
    goto(page, f"{app_url}{E.locked_link('set-group')}")
    points = page.locator('.live-chart path.point')
    points.first.wait_for(timeout=30000)
    assert points.count() == len(E.all_cells())
    # a click on a grey cell picks it: it appears in the answer box and is drawn as "your pick"
    page.locator('.live-chart g.trace.scatter').last.locator("path.point").first.click(force=True)
    page.locator('[data-testid="stMultiSelect"] span', has_text="n0 c0 h0 w0").first.wait_for(timeout=30000)
    wait_for_app(page)
    assert_no_exception(page)
    assert page.locator('.live-chart text.legendtext', has_text="your pick").count() == 1
    screenshot(page, "exercises_set_1280x800")
    # a second click on the same cell takes it out again
    page.locator('.live-chart g.trace.scatter').nth(1).locator("path.point").first.click(force=True)
    page.locator('[data-testid="stMultiSelect"] span', has_text="n0 c0 h0 w0").first.wait_for(state="detached",
                                                                                             timeout=30000)
    wait_for_app(page)
    assert page.locator('.live-chart text.legendtext', has_text="your pick").count() == 0


def test_lesson_link_opens_its_exercise(page, app_url):
    goto(page, f"{app_url}/lessons")
    screenshot(page, "lessons_1280x800")
    step = next(s for s in lessons()[0].steps if s.page == "exercises")
    link = page.locator(f'a[href="{step.link}"]')
    assert link.count() == 1  # Streamlit opens markdown links in a new tab; follow it here
    goto(page, f"{app_url}{link.get_attribute('href')}")
    assert E.by_id(step.query["ex"]).title in page.locator("h3").first.inner_text()
    page.set_viewport_size({"width": 390, "height": 844})
    goto(page, f"{app_url}/lessons")
    screenshot(page, "lessons_390x844")
