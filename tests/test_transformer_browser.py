"""Transformer lab in Chromium: the Quick preset, shortened through the URL, trains live and draws its charts."""
from __future__ import annotations

import pytest
from browser_utils import assert_no_exception, screenshot, wait_for_app
from lab_utils import open_link, wait_for_runs_to_end

pytestmark = pytest.mark.browser

CHART = ".live-chart"  # the in-place chart component (app_pages/_live_chart)


def test_quick_runs_show_live_charts_and_switch_views(app_url, page):
    open_link(page, f"{app_url}/transformer?steps=60")
    assert page.locator(CHART).count() == 0  # nothing runs on page load
    page.get_by_role("button", name="Run", exact=True).click()
    page.locator(CHART).first.wait_for(state="visible", timeout=240000)  # worker start-up on a loaded machine
    page.get_by_text("Finished 60 steps").first.wait_for(timeout=240000)
    wait_for_runs_to_end(page)
    assert page.get_by_text("Finished 60 steps").count() == 3  # the three runs of the default (Quick) set
    page.get_by_text("Gradient per block", exact=True).first.click()
    page.get_by_text("Gradient norm per block over training").first.wait_for(timeout=30000)
    wait_for_app(page)
    assert_no_exception(page)
    assert "view=gradients" in page.url
    page.locator(CHART).first.scroll_into_view_if_needed()
    screenshot(page, "transformer_lab_gradients", full_page=False)
