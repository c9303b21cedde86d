"""The cube's unfolded view walked with the keyboard in Chromium: Tab reaches the chart (with a
focus ring), → ↓ Shift+→ move the selected w, h, c (the number inputs follow), the focus stays
on the chart across the reruns, and the open walkthrough (which steps on ← / → at the document)
does not step.
"""
from __future__ import annotations

import pytest

from browser_utils import assert_no_exception, goto, screenshot, wait_for_app

pytestmark = pytest.mark.browser

UNFOLDED = ".live-chart[tabindex]"  # the only focusable live chart on the cube page
FOCUSED = "() => document.activeElement?.matches('.live-chart[tabindex]') ?? false"


def selected(page) -> list[str]:
    return [page.get_by_label(f"selected {a}").input_value() for a in "nchw"]


def wait_selected(page, want: list[str]) -> None:
    """Wait for the number inputs to show ``want`` (the rerun a key press started)."""
    js = ("(want) => ['n', 'c', 'h', 'w'].every((a, i) => "
          "document.querySelector(`input[aria-label='selected ${a}']`)?.value === want[i])")
    page.wait_for_function(js, arg=want, timeout=30000)
    wait_for_app(page)


def test_tab_then_arrows_walk_the_unfolded_view_and_keep_focus(page, app_url):
    goto(page, f"{app_url}/cube?norm=group&G=3&step=1")
    page.locator(UNFOLDED).locator("path.point").first.wait_for(timeout=30000)
    step = page.get_by_text("Step 1 of 7:")
    assert step.is_visible()
    assert selected(page) == ["0", "0", "0", "0"]
    chart = page.locator(UNFOLDED)
    assert "Shift+←/→ move c" in chart.get_attribute("aria-label")

    # Tab on from the last selection input until the unfolded view has focus (a keyboard user's way).
    page.get_by_label("selected w").focus()
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED):
            break
    assert page.evaluate(FOCUSED), "Tab never reached the unfolded view"
    assert chart.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"  # the focus ring

    for key, want in [("ArrowRight", ["0", "0", "0", "1"]), ("ArrowDown", ["0", "0", "1", "1"]),
                      ("Shift+ArrowRight", ["0", "1", "1", "1"])]:
        page.keyboard.press(key)
        wait_selected(page, want)
        assert page.evaluate(FOCUSED), f"focus left the chart after {key}"
    # Held at the edge: ← twice from w = 1 stops at w = 0.
    page.keyboard.press("ArrowLeft")
    wait_selected(page, ["0", "1", "1", "0"])
    page.keyboard.press("ArrowLeft")
    wait_for_app(page)
    assert selected(page) == ["0", "1", "1", "0"] and page.evaluate(FOCUSED)

    assert page.get_by_text("Step 1 of 7:").is_visible()  # the walkthrough did not step on → / ←
    assert "step=1" in page.url and "c=1" in page.url and "h=1" in page.url and "w=" not in page.url  # 0 = default
    status = page.locator(".live-chart-status")
    assert status.get_attribute("aria-live") == "polite"
    assert status.text_content().startswith("Selected (n, c, h, w) = (0, 1, 1, 0), x = ")
    assert_no_exception(page)
    chart.scroll_into_view_if_needed()
    shot = screenshot(page, "cube_keyboard_focus", full_page=False)
    assert shot.stat().st_size > 10_000

    # Away from the chart the walkthrough's → still steps (its listener is intact).
    page.evaluate("() => document.activeElement.blur()")
    page.keyboard.press("ArrowRight")
    page.get_by_text("Step 2 of 7:").wait_for(timeout=30000)
    assert selected(page) == ["0", "1", "1", "0"]
