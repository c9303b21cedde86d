"""Classroom modes in Chromium: the cube walkthrough's step= link and ←/→ keys, ?embed=true on every
page (no sidebar, the page renders), and presenter mode (present=1) at 1280×720 (screenshots in
artifacts/screenshots/)."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect
from browser_utils import assert_no_exception, draw_every_chart, goto, screenshot, wait_for_app

pytestmark = pytest.mark.browser

PAGES = {"": "normviz", "image_lab": "Image lab", "cube": "Cube explorer", "training": "Training lab",
         "experiments": "Experiments", "guide": "Guide", "glossary": "Glossary"}


def heading(page):
    """The step heading on screen (every step's block is on the page; CSS hides all but one)."""
    return page.locator('[data-testid="stMarkdown"] strong', has_text=re.compile(r"^Step \d+ of \d+")) \
        .filter(visible=True)


# Counts script runs from now on: Streamlit sets data-test-script-state="running" for each run.
COUNT_RUNS = """() => {
  window.__runs = 0;
  window.__runObserver?.disconnect();
  const app = document.querySelector('[data-testid="stApp"]');
  window.__runObserver = new MutationObserver(() => {
    if (app.getAttribute("data-test-script-state") === "running") window.__runs += 1;
  });
  window.__runObserver.observe(app, { attributes: true, attributeFilter: ["data-test-script-state"] });
}"""
# What the page shows right now, read in the same task as the key press (before any rerun could start).
ON_SCREEN = r"""() => {
  const shown = [...document.querySelectorAll('[data-testid="stMarkdown"] strong')]
    .filter((e) => /^Step \d+ of/.test(e.textContent) && e.getClientRects().length > 0).map((e) => e.textContent);
  const chart = window.__liveCharts?.get("cube.walk_figure");
  return { shown, runs: window.__runs, step: new URLSearchParams(location.search).get("step"),
           frame: window.__liveChartFrames?.["cube.walk_figure"], title: chart?.querySelector(".gtitle")?.textContent,
           status: document.querySelector(".normviz-walk-status")?.textContent };
}"""


def query_of(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def query(page) -> dict:
    return query_of(page.url)


def wait_step(page, n: int, of: int) -> None:
    heading(page).filter(has_text=f"Step {n} of {of}:").first.wait_for(timeout=30000)
    wait_for_app(page)


def press(page, key: str) -> None:
    # The component's JS module loads after the first render; wait until it listens.
    page.wait_for_function("() => !!window.__normvizStepListener && !!document.querySelector('.normviz-walk[data-step]')",
                           timeout=30000)
    page.locator("h1").first.click()  # focus on the page, not on a control that owns the arrows
    page.keyboard.press(key)


def test_step_link_and_arrow_keys_walk_instance_norm_in_the_browser(page, app_url):
    goto(page, f"{app_url}/cube?norm=instance&step=3")
    wait_step(page, 3, 7)
    assert "The mean μ" in heading(page).first.inner_text() and heading(page).count() == 1
    assert page.locator(".katex", has_text="μS").count() >= 1 or page.locator(".katex").count() >= 2
    page.evaluate(COUNT_RUNS)
    press(page, "ArrowRight")
    now = page.evaluate(ON_SCREEN)  # the same moment: no script has run, the step is already there
    assert now["shown"] == ["Step 4 of 7: The variance σ²"] and now["runs"] == 0, now
    assert now["step"] == "4" and now["frame"] == 3 and now["status"].startswith("Step 4 of 7, The variance σ²"), now
    # the chart drew frame 4 (once in view: a chart off screen is drawn when it comes near)
    page.evaluate("() => window.__liveCharts.get('cube.walk_figure').scrollIntoView({block: 'nearest'})")
    page.wait_for_function("() => window.__liveCharts.get('cube.walk_figure').querySelector('.gtitle')"
                           "?.textContent.startsWith('The variance')", timeout=30000)
    # A burst of steps (Back, Back: the buttons) is one rerun, after the pause, that keeps the step.
    # Both clicks in one task: two Playwright clicks on a loaded CI machine came > 0.7 s apart (two
    # bursts, three runs), which is the pause working, not a burst.
    back = page.locator(".normviz-walk button", has_text="Back")
    back.evaluate("b => { b.click(); b.click(); }")
    now = page.evaluate(ON_SCREEN)
    assert now["shown"] == ["Step 2 of 7: Light up its set"], now
    # The URL too; step 4's sync, if it ends now, writes step=4 for a frame before the bar puts 2 back
    # (keepUrl; the frames are counted by test_the_url_keeps_the_step_on_screen_while_an_earlier_step_syncs).
    page.wait_for_function("() => new URLSearchParams(location.search).get('step') === '2'", timeout=5000)
    # Python has heard the step (an earlier sync, for step 4, may still be on its way: it must not count).
    page.wait_for_function("() => { const w = document.querySelector('.normviz-walk')?.walk;"
                           " return window.__runs >= 1 && w && w.server === w.step; }", timeout=30000)
    wait_for_app(page)
    now = page.evaluate(ON_SCREEN)
    assert now["runs"] <= 2 and now["shown"] == ["Step 2 of 7: Light up its set"], now  # step 4's sync, the burst's
    assert query(page)["step"] == "2" and query(page)["norm"] == "instance"
    assert page.locator(".normviz-walk button", has_text="Back").is_enabled()
    back.click()
    assert page.locator(".normviz-walk button", has_text="Back").is_disabled()  # step 1: nothing before it
    page.locator(".normviz-walk button", has_text="Next").click()
    wait_step(page, 2, 7)
    # Arrows typed into a number input change the input, not the step.
    page.get_by_label("selected h").first.focus()
    page.keyboard.press("ArrowUp")
    page.wait_for_timeout(1000)
    wait_for_app(page)
    assert query(page)["step"] == "2" and heading(page).first.inner_text().startswith("Step 2 of 7")
    # A rerun for another reason (the norm) keeps the step the browser is on.
    page.evaluate(COUNT_RUNS)
    press(page, "ArrowRight")
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Norm").first.click()
    page.get_by_role("option", name="LayerNorm", exact=True).click()
    wait_step(page, 3, 7)
    page.wait_for_timeout(1000)  # past the bar's pause: its sync rerun, if any, has started
    wait_for_app(page)
    assert query(page)["step"] == "3" and query(page)["norm"] == "layer"
    assert heading(page).first.inner_text().startswith("Step 3 of 7")
    # Close is a round trip: the walkthrough and step= go.
    page.locator(".normviz-walk button", has_text="Close").click()
    page.get_by_role("button", name=re.compile("Walk through LayerNorm")).wait_for(timeout=30000)
    wait_for_app(page)
    assert "step" not in query(page) and heading(page).count() == 0
    assert_no_exception(page)


# Every frame from the first: the step headings on screen. A fresh browser loads Streamlit's renderers
# lazily, and the CSS that hides the other steps must apply before any of them is drawn.
WATCH_HEADINGS = r"""(() => {
  window.__headingsSeen = new Set();
  const look = () => {
    for (const e of document.querySelectorAll('[data-testid="stMarkdown"] strong'))
      if (/^Step \d+ of/.test(e.textContent) && e.getClientRects().length > 0) window.__headingsSeen.add(e.textContent);
    requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
})();"""


def test_the_step_link_opens_the_same_step_in_a_fresh_browser(page, app_url, browser):
    goto(page, f"{app_url}/cube?norm=batch_renorm&step=6")
    wait_step(page, 6, 9)
    text = heading(page).first.inner_text()
    assert "r and d" in text
    fresh = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    try:
        fresh.add_init_script(WATCH_HEADINGS)
        goto(fresh, page.url)
        wait_step(fresh, 6, 9)
        fresh.wait_for_function("() => !!document.querySelector('.normviz-walk[data-step]')", timeout=30000)
        assert heading(fresh).all_inner_texts() == [text]
        assert fresh.evaluate("() => [...window.__headingsSeen]") == [text]  # no other step, in any frame
    finally:
        fresh.context.close()


# Whether the sidebar took any of the screen in any frame from the first.
WATCH_SIDEBAR = r"""(() => {
  window.__sidebarShown = false;
  const look = () => {
    const s = document.querySelector('section[data-testid="stSidebar"]'), r = s?.getBoundingClientRect();
    if (r && r.width > 0 && r.right > 1 && getComputedStyle(s).display !== "none") window.__sidebarShown = true;
    const open = document.querySelector('[data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"]');
    if (open?.checkVisibility()) window.__sidebarShown = true;
    requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
})();"""


# Every frame: the step= in the URL, against the step the bar shows (after __urlWatch starts).
WATCH_URL = """() => {
  window.__urlFrames = [];
  const tick = () => {
    const bar = document.querySelector('.normviz-walk');
    if (bar?.walk) window.__urlFrames.push([new URLSearchParams(location.search).get('step'), String(bar.walk.step)]);
    window.__urlWatch = requestAnimationFrame(tick);
  };
  tick();
}"""


def test_the_url_keeps_the_step_on_screen_while_an_earlier_step_syncs(page, app_url):
    """Stepping on while Python reruns for an earlier step: that run's URL writer must not put the
    older step back into the URL (a link copied then would open the wrong step)."""
    goto(page, f"{app_url}/cube?norm=layer&step=2")
    wait_step(page, 2, 7)
    press(page, "ArrowRight")  # step 3; its sync rerun starts after the pause
    page.wait_for_function("() => document.querySelector('[data-testid=stApp]')"
                           ".getAttribute('data-test-script-state') === 'running'", timeout=30000, polling="raf")
    page.keyboard.press("ArrowRight")  # steps 4 and 5 while the run for step 3 is going
    page.keyboard.press("ArrowRight")
    page.evaluate(WATCH_URL)
    page.wait_for_function("() => { const w = document.querySelector('.normviz-walk')?.walk;"
                           " return w && w.server === 5 && w.step === 5; }", timeout=30000)
    wait_for_app(page)
    frames = page.evaluate("() => { cancelAnimationFrame(window.__urlWatch); return window.__urlFrames; }")
    stale = [f for f in frames if f[0] != f[1]]
    assert frames and len(stale) <= 2, f"{len(stale)} of {len(frames)} frames showed another step in the URL: {stale[:5]}"
    assert query(page)["step"] == "5" and heading(page).first.inner_text().startswith("Step 5 of 7")


@pytest.mark.parametrize("path", list(PAGES))
def test_embed_works_on_every_page(page, app_url, path):
    """An embedded page is the page alone: no sidebar and no button to open one, in no frame from the
    first (CSS could hide them only after Streamlit's lazy HTML renderer had loaded: a flash)."""
    page.add_init_script(WATCH_SIDEBAR)
    goto(page, f"{app_url}/{path}?embed=true")
    page.locator("h1", has_text=PAGES[path]).first.wait_for(timeout=60000)
    wait_for_app(page)
    assert page.locator('[data-testid="stSidebar"]').count() == 0
    assert not page.evaluate("() => window.__sidebarShown")
    assert_no_exception(page)


def test_an_embedded_cube_keeps_its_controls_in_a_popover(page, app_url):
    goto(page, f"{app_url}/cube?embed=true&norm=layer")
    page.get_by_test_id("stPopover").get_by_role("button", name="Controls").click()
    panel = page.get_by_test_id("stPopoverBody")
    panel.get_by_test_id("stSelectbox").filter(has_text="Norm").click()
    page.get_by_role("option", name="InstanceNorm", exact=True).click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('norm') === 'instance'", timeout=30000)
    wait_for_app(page)
    assert page.locator("strong", has_text="InstanceNorm pools").first.is_visible()  # the cube's sentence
    assert page.locator('[data-testid="stSidebar"]').count() == 0  # a rerun keeps the page alone
    assert_no_exception(page)


def test_the_offered_embed_link_works_in_a_course_pages_iframe(page, app_url):
    """The embed link from "Link to this view", in an iframe of another page: the cube renders there
    alone, draws its charts, and a click in the unfolded view selects a cell."""
    goto(page, f"{app_url}/cube?norm=layer")
    page.get_by_test_id("stSidebar").get_by_role("button", name="Link to this view").click()
    link = page.get_by_test_id("stPopoverBody").get_by_test_id("stCode").nth(2).inner_text().strip()
    assert link.startswith(f"{app_url}/cube?") and query_of(link) == {"norm": "layer", "embed": "true"}
    page.set_content(f'<h2>Lesson 3</h2><iframe title="normviz cube" src="{link}" width="1000" height="800"></iframe>')
    frame = page.frame_locator("iframe")
    frame.locator("h1", has_text="Cube explorer").wait_for(timeout=60000)
    selected_n = frame.get_by_label("selected n")
    assert selected_n.input_value() == "0"
    not_pooled = frame.locator(".live-chart[tabindex] g.trace.scatter").nth(1).locator("path.point").last
    for attempt in range(5):  # plotly binds its click handler only after the chart's first draw
        not_pooled.click(force=True)  # LayerNorm pools sample 0: the last cell not pooled is in sample 1
        try:
            expect(selected_n).to_have_value("1", timeout=8000)
            break
        except AssertionError:
            if attempt == 4:
                raise
    assert frame.locator('[data-testid="stSidebar"]').count() == 0
    assert frame.locator('[data-testid="stException"]').count() == 0
    screenshot(page, "embed_in_iframe", full_page=False)


def test_presenter_mode_follows_a_link_to_another_page(page, app_url):
    """The home page's cards link to pages with no query string: the projector stays in presenter
    mode, and the URL gets present=1 back (a reload keeps it)."""
    page.add_init_script(WATCH_SIDEBAR)
    goto(page, f"{app_url}/?present=1")
    page.get_by_text("Open Cube").first.click()
    page.locator("h1", has_text="Cube explorer").first.wait_for(timeout=60000)
    page.wait_for_function("() => new URLSearchParams(location.search).get('present') === '1'", timeout=30000)
    wait_for_app(page)
    assert page.evaluate("() => getComputedStyle(document.documentElement).fontSize") == "22px"
    assert not page.evaluate("() => window.__sidebarShown")


def test_presenter_mode_at_1280x720(browser, app_url):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    context.add_init_script(WATCH_SIDEBAR)
    page = context.new_page()
    try:
        goto(page, f"{app_url}/cube?present=1&norm=layer&step=5")
        wait_step(page, 5, 7)
        assert page.evaluate("() => getComputedStyle(document.documentElement).fontSize") == "22px"
        assert not page.evaluate("() => window.__sidebarShown")  # a projector never sees it, not even at first
        # The cube and the unfolded view are stacked: each chart spans (nearly) the whole width.
        boxes = [page.locator('.live-chart').nth(i).bounding_box() for i in range(2)]
        assert all(b["width"] > 1000 for b in boxes) and boxes[1]["y"] > boxes[0]["y"] + boxes[0]["height"] - 5
        # One figure per screen: each chart, and plotly's drawing in it, nearly fills the 720 px viewport.
        draw_every_chart(page)
        page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollTo(0, 0)")
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


# The formulas on screen under ``within`` (a CSS selector) that are wider than their box (they would scroll sideways).
OVERFLOWING = """(within) => [...document.querySelectorAll(`${within} .katex-display`)]
  .filter((e) => e.getClientRects().length > 0 && e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent)"""
WALK_STEPS = '[class*="st-key-cube-walk-step-"]'


@pytest.mark.parametrize("norm", ["group", "rms", "weight", "switchable", "ghost_batch"])
def test_every_walkthrough_formula_fits_a_phone_screen(browser, app_url, norm):
    """At 390 px a listed sum is ~2x the screen: it must wrap at its operators, not scroll. So must
    the page's own formula (GroupNorm's set in words was 441 px in a 358 px box)."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        goto(page, f"{app_url}/cube?norm={norm}&step=1")
        page.wait_for_function("() => !!document.querySelector('.normviz-walk[data-step]')", timeout=30000)
        wait_for_app(page)
        assert page.evaluate(OVERFLOWING, "body") == []
        count = int(re.search(r"of (\d+)", heading(page).first.inner_text()).group(1))
        for k in range(1, count + 1):
            assert heading(page).first.inner_text().startswith(f"Step {k} of {count}")
            assert page.evaluate(OVERFLOWING, WALK_STEPS) == [], f"step {k}"
            if k < count:
                page.locator(".normviz-walk button", has_text="Next").click()
    finally:
        context.close()
