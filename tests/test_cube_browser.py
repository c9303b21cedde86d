"""The cube page in Chromium: the 3D cube renders (WebGL canvas), the in-figure buttons switch
the highlighted norm without a rerun, a click in the unfolded view moves the selection, the
caption and the URL, and that URL reopens the same view in a fresh browser context.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from browser_utils import APP_IDLE, assert_no_exception, drag_camera, goto, screenshot, wait_for_app

pytestmark = pytest.mark.browser

CHART = ".live-chart"  # the graph div of app_pages/_live_chart
SENTENCE = re.compile(r"pools .* values")


def open_cube(page, app_url: str, query: str = "") -> None:
    goto(page, f"{app_url}/cube{query}")
    page.locator(CHART).nth(1).locator("path.point").first.wait_for(timeout=30000)


def sentence(page) -> str:
    return page.locator('[data-testid="stMarkdown"] strong', has_text=SENTENCE).first.inner_text()


def charts(page):
    return page.locator(CHART)


def test_cube_renders_and_buttons_switch_norm_in_the_browser(page, app_url):
    open_cube(page, app_url)
    cube = charts(page).nth(0)
    cube.locator("canvas").first.wait_for(timeout=30000)
    assert cube.locator("canvas").count() >= 1
    assert "GroupNorm" in cube.locator(".gtitle").text_content()
    # The LN button restyles the figure client-side: the title changes, the script never runs.
    runs_before = page.evaluate("() => performance.getEntriesByType('resource').length")
    cube.locator(".updatemenu-button", has_text="LN").click()
    page.wait_for_timeout(300)
    assert "LayerNorm" in cube.locator(".gtitle").text_content()
    assert page.locator(APP_IDLE).count() == 1
    assert page.evaluate("() => performance.getEntriesByType('resource').length") == runs_before
    assert "norm=" not in page.url  # the server never heard of it
    assert_no_exception(page)


def test_click_in_unfolded_view_moves_selection_caption_and_url(page, app_url, browser):
    open_cube(page, app_url, "?norm=group&G=3")
    before = sentence(page)
    assert "channels c = 0–1" in before and "sample n = 0" in before
    flat = charts(page).nth(1)
    # The last "not pooled" cell is (n, c, h, w) = (1, 5, 3, 3): far from the selected one.
    moved = "() => [...document.querySelectorAll('[data-testid=stMarkdown] strong')]" \
            ".some(e => e.innerText.includes('sample n = 1'))"
    for attempt in range(5):  # plotly binds its click handler only after the chart's first draw
        flat.locator("g.trace.scatter").nth(1).locator("path.point").last.click(force=True)
        try:
            page.wait_for_function(moved, timeout=8000)
            break
        except Exception:
            if attempt == 4:
                raise
    wait_for_app(page)
    after = sentence(page)
    assert "channels c = 4–5 (group 2 of 3) in sample n = 1" in after, after
    assert "(1, 5, 3, 3)" in charts(page).nth(0).locator(".gtitle").text_content()  # the 3D cube follows
    q = parse_qs(urlparse(page.url).query)
    assert q["n"] == ["1"] and q["c"] == ["5"] and q["h"] == ["3"] and q["w"] == ["3"] and q["G"] == ["3"]
    assert page.locator('[data-testid="stNumberInput"] input').nth(0).input_value() != ""
    shot = screenshot(page, "cube_after_click", full_page=False)
    assert shot.stat().st_size > 10_000
    # The link reproduces the view in a fresh context (a colleague opening it).
    url = page.url
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        other = ctx.new_page()
        goto(other, url)
        other.locator(CHART).nth(1).locator("path.point").first.wait_for(timeout=30000)
        assert sentence(other) == after
        assert parse_qs(urlparse(other.url).query) == q
        screenshot(other, "cube_link_mobile", full_page=False)
    finally:
        ctx.close()


def test_a_norm_change_updates_the_cube_in_place_and_keeps_the_camera(page, app_url):
    open_cube(page, app_url)
    cube = charts(page).nth(0)
    cube.locator("canvas").first.wait_for(timeout=30000)
    assert "GroupNorm" in page.evaluate("() => document.querySelector('.live-chart')._fullLayout.title.text")
    page.evaluate("() => { document.querySelector('.live-chart').tagged = 'before the rerun'; }")
    eye = drag_camera(page, cube)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_test_id("stSelectbox").filter(has_text="Norm").first.click()
    page.get_by_role("option", name="LayerNorm", exact=True).click()
    page.wait_for_function("() => document.querySelector('.live-chart')._fullLayout.title.text.includes('LayerNorm')",
                           timeout=30000)
    wait_for_app(page)
    got = page.evaluate("""() => { const d = document.querySelector('.live-chart');
        return {tag: d.tagged, renders: d.liveChart.renders, count: document.querySelectorAll('.live-chart').length,
                layout: d.layout.scene.camera.eye, gl: d._fullLayout.scene._scene.getCamera().eye,
                norms: d.data.map(t => t.meta && t.meta.norm)}; }""")
    assert got["tag"] == "before the rerun"  # the same graph div, not a new one
    assert got["renders"] >= 2 and "layer" in got["norms"]  # reacted with the new figure
    assert got["layout"] == pytest.approx(eye, abs=1e-6) and got["gl"] == pytest.approx(eye, abs=1e-3), got
    assert "norm=layer" in page.url
    assert_no_exception(page)
