"""Helpers for Playwright tests of the Streamlit app (see tests/conftest.py)."""
from __future__ import annotations

import re
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "artifacts" / "screenshots"

APP_IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
EXCEPTION = '[data-testid="stException"]'


def wait_for_app(page, timeout: float = 60000) -> None:
    """Wait until the script run has finished and the app stays idle.

    Streamlit flips ``data-test-script-state`` to "running" on every rerun, and a page
    may rerun right after its first render (query params, session seeding), so the idle
    state is required to hold for a short settle time, not just to appear once.
    """
    deadline = time.monotonic() + timeout / 1000
    idle = page.locator(APP_IDLE)
    while True:
        left_ms = max(1000.0, (deadline - time.monotonic()) * 1000)
        idle.wait_for(state="attached", timeout=left_ms)
        page.wait_for_timeout(250)
        if idle.count() == 1 and page.locator('[data-testid="stStatusWidget"]').count() == 0:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"app did not settle within {timeout:.0f} ms")


def assert_no_exception(page) -> None:
    """Fail with the exception text if the page shows a Streamlit exception box."""
    exc = page.locator(EXCEPTION)
    n = exc.count()
    assert n == 0, f"page shows {n} exception(s): {exc.first.inner_text()[:2000]}"


def goto(page, url: str, timeout: float = 60000) -> None:
    """Open url, wait until the app is idle, and assert it shows no exception."""
    page.goto(url, wait_until="domcontentloaded", timeout=timeout)
    wait_for_app(page, timeout=timeout)
    assert_no_exception(page)


# A live_chart is drawn only while on or near the screen (live_chart.js). True once every shown
# chart (not in a closed expander or an unselected tab) has drawn; until then it scrolls the first
# undrawn one into view, as a reader would. An expression, to use inside a polled function.
SCROLL_TO_UNDRAWN = """(() => {
  const undrawn = [...document.querySelectorAll('.live-chart')]
    .find(d => d.checkVisibility() && !(d.querySelector('.main-svg') && d._fullData));
  undrawn?.scrollIntoView({block: 'center'});
  return !undrawn; })()"""


def draw_every_chart(page, timeout: float = 60000) -> int:
    """Scroll through the page until every shown live_chart has drawn; how many live_charts it has."""
    page.wait_for_function(f"() => {SCROLL_TO_UNDRAWN}", timeout=timeout, polling=250)
    return page.locator(".live-chart").count()


def screenshot(page, name: str, full_page: bool = True) -> Path:
    """Save a screenshot to artifacts/screenshots/NAME.png and return its path."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{safe}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def drag_camera(page, chart, tries: int = 10) -> dict:
    """Rotate the 3D scene of the first live chart with the mouse (dragging across ``chart``, its
    locator), as a user does; return the camera eye the scene shows.

    A drag, not Plotly.relayout: uirevision keeps only what the user changed in the GUI (plotly
    records those edits in _fullLayout._preGUI); a camera set by code is the figure's to replace.
    """
    eye_now = "() => document.querySelector('.live-chart')._fullLayout.scene._scene.getCamera().eye"
    before = eye = page.evaluate(eye_now)
    for _ in range(tries):  # right after a render, a rerun or a resize the scene takes a moment to take mouse input
        box = chart.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        for i in range(1, 11):  # sideways only: an upward drag each try would tip the eye onto the pole,
            page.mouse.move(x + 15 * i, y)  # where no further drag moves it
        page.mouse.up()
        page.wait_for_timeout(300)  # the orbit camera eases out for a few frames
        eye = page.evaluate(eye_now)
        if max(abs(eye[k] - before[k]) for k in "xyz") > 0.2:
            return eye
        page.wait_for_timeout(700)
    raise AssertionError(f"dragging never moved the camera: {before} -> {eye}")
