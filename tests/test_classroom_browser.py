"""Classroom modes in Chromium: the cube walkthrough's step= link and ←/→ keys, ?embed=true on every
page (no sidebar, the page renders), and presenter mode (present=1) at 1280×720 (screenshots in
artifacts/screenshots/)."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from browser_utils import assert_no_exception, goto, screenshot, wait_for_app

pytestmark = pytest.mark.browser

PAGES = {"": "normviz", "image_lab": "Image lab", "cube": "Cube explorer", "training": "Training lab",
         "experiments": "Experiments", "guide": "Guide", "glossary": "Glossary"}


def heading(page):
    return page.locator('[data-testid="stMarkdown"] strong', has_text=re.compile(r"^Step \d+ of \d+"))


def query(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def wait_step(page, n: int, of: int) -> None:
    heading(page).filter(has_text=f"Step {n} of {of}:").first.wait_for(timeout=30000)
    wait_for_app(page)


def press(page, key: str) -> None:
    # The component's JS module loads after the first render; wait until it listens.
    page.wait_for_function("() => !!window.__normvizStepListener && !!document.querySelector('[data-normviz-walk]')",
                           timeout=30000)
    page.locator("h1").first.click()  # focus on the page, not on a control that owns the arrows
    page.keyboard.press(key)


def test_step_link_and_arrow_keys_walk_instance_norm(page, app_url):
    goto(page, f"{app_url}/cube?norm=instance&step=3")
    wait_step(page, 3, 7)
    assert "The mean μ" in heading(page).first.inner_text()
    assert page.locator(".katex", has_text="μS").count() >= 1 or page.locator(".katex").count() >= 2
    press(page, "ArrowRight")
    wait_step(page, 4, 7)
    assert query(page)["step"] == "4"
    press(page, "ArrowLeft")
    wait_step(page, 3, 7)
    press(page, "ArrowLeft")
    wait_step(page, 2, 7)
    assert query(page)["step"] == "2" and query(page)["norm"] == "instance"
    # Arrows typed into a number input change the input, not the step.
    page.get_by_label("selected h").first.focus()
    page.keyboard.press("ArrowUp")
    page.wait_for_timeout(500)
    wait_for_app(page)
    assert query(page)["step"] == "2"
    assert_no_exception(page)


def test_the_step_link_opens_the_same_step_in_a_fresh_browser(page, app_url, browser):
    goto(page, f"{app_url}/cube?norm=batch_renorm&step=6")
    wait_step(page, 6, 9)
    text = heading(page).first.inner_text()
    assert "r and d" in text
    fresh = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    try:
        goto(fresh, page.url)
        wait_step(fresh, 6, 9)
        assert heading(fresh).first.inner_text() == text
    finally:
        fresh.context.close()


@pytest.mark.parametrize("path", list(PAGES))
def test_embed_works_on_every_page(page, app_url, path):
    goto(page, f"{app_url}/{path}?embed=true")
    sidebar = page.locator('[data-testid="stSidebar"]')
    if sidebar.count():  # the hiding style arrives with the script run's first elements
        sidebar.first.wait_for(state="hidden", timeout=20000)
    assert page.locator('[data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"]') \
        .filter(visible=True).count() == 0
    page.locator("h1", has_text=PAGES[path]).first.wait_for(timeout=60000)
    assert_no_exception(page)


def test_presenter_mode_at_1280x720(browser, app_url):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        goto(page, f"{app_url}/cube?present=1&norm=layer&step=5")
        wait_step(page, 5, 7)
        assert page.evaluate("() => getComputedStyle(document.documentElement).fontSize") == "22px"
        assert page.locator('[data-testid="stSidebar"]').filter(visible=True).count() == 0
        # The cube and the unfolded view are stacked: each chart spans (nearly) the whole width.
        boxes = [page.locator('.live-chart').nth(i).bounding_box() for i in range(2)]
        assert all(b["width"] > 1000 for b in boxes) and boxes[1]["y"] > boxes[0]["y"] + boxes[0]["height"] - 5
        # One figure per screen: each chart, and plotly's drawing in it, nearly fills the 720 px viewport.
        page.wait_for_function("() => [...document.querySelectorAll('.live-chart')].slice(0, 2).every("
                               "(d) => d._fullLayout && Math.abs(d._fullLayout.height - d.clientHeight) < 2)",
                               timeout=30000)
        assert all(500 < b["height"] <= 720 for b in boxes), boxes
        body = page.locator('[data-testid="stMarkdown"] p').first
        assert float(page.evaluate("(el) => parseFloat(getComputedStyle(el).fontSize)", body.element_handle())) >= 20
        screenshot(page, "present_cube_top", full_page=False)
        heading(page).first.scroll_into_view_if_needed()
        screenshot(page, "present_cube_walkthrough", full_page=False)
        press(page, "ArrowRight")
        wait_step(page, 6, 7)
        assert query(page).get("present") == "1" and query(page)["step"] == "6"
        for path in ("", "experiments"):
            goto(page, f"{app_url}/{path}?present=1")
            assert page.locator('[data-testid="stSidebar"]').filter(visible=True).count() == 0
            screenshot(page, f"present_{path or 'home'}", full_page=False)
        assert_no_exception(page)
    finally:
        context.close()
