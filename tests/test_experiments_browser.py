"""Chromium: open an experiment from the guide and by URL, see its figure; screenshots."""
from __future__ import annotations

import pytest

from browser_utils import goto, screenshot, wait_for_app, assert_no_exception

pytestmark = pytest.mark.browser
DRAWN = ".live-chart:has(.main-svg)"  # a live_chart (app_pages/_live_chart) that plotly has drawn


def test_open_experiment_and_see_its_figure(page, app_url):
    goto(page, f"{app_url}/experiments?exp=batch_instance")
    assert page.get_by_test_id("stSidebarNavLink").filter(has_text="Guide").count() == 1
    chart = page.locator(DRAWN).first  # a live_chart that plotly has drawn
    chart.wait_for(timeout=60000)
    assert chart.locator(".main-svg").count() >= 1  # plotly drew it
    assert page.get_by_text("the claim holds").count() >= 1
    assert "exp=batch_instance" in page.url
    path = screenshot(page, "experiments-batch_instance-1280x800")
    assert path.stat().st_size > 10_000


def test_guide_link_opens_the_experiment(page, app_url):
    goto(page, f"{app_url}/guide")
    page.locator('a[href*="exp=switchable"]').first.click()
    page.wait_for_url("**/experiments?exp=switchable", timeout=30000)
    wait_for_app(page)
    assert_no_exception(page)
    page.locator(DRAWN).first.wait_for(timeout=60000)
    assert page.get_by_role("heading", name="Switchable Norm: what it learns").count() >= 1
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "experiments-switchable-390x844")
