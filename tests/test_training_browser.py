"""Training lab in Chromium: a short preset run shows live charts; the GN sweep shows at once."""
from __future__ import annotations

import pytest

from browser_utils import assert_no_exception, draw_every_chart, screenshot, wait_for_app
from lab_utils import open_link, wait_for_runs_to_end

pytestmark = pytest.mark.browser

CHART = ".live-chart:has(.main-svg)"  # a live_chart (app_pages/_live_chart) that plotly has drawn


def test_short_bn_preset_run_shows_live_charts(app_url, page):
    # The BN Figure 1 preset, shortened through the URL (steps=100), started with Run.
    open_link(page, f"{app_url}/training?preset=bn_fig1&steps=100")
    assert page.locator(CHART).count() == 0  # nothing runs on page load
    page.get_by_role("button", name="Run", exact=True).click()
    page.locator(CHART).first.wait_for(state="visible", timeout=90000)
    page.get_by_text("step 100 / 100").first.wait_for(timeout=120000)
    wait_for_runs_to_end(page)
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert "BN paper Figure 1" in text and "Steps to 90 % test accuracy" in text
    assert page.locator(CHART).count() >= 1
    assert page.get_by_role("button", name="Run log (CSV)").count() == 1
    page.locator(CHART).first.scroll_into_view_if_needed()
    screenshot(page, "training_lab_bn_preset", full_page=False)


def test_gn_sweep_shows_at_once(app_url, page):
    open_link(page, f"{app_url}/training")
    page.get_by_role("button", name="Show GN Figure 1").click()
    page.locator(CHART).first.wait_for(state="visible", timeout=30000)
    wait_for_app(page)
    assert_no_exception(page)
    assert "preset=gn_fig1" in page.url and "view=sweep" in page.url
    assert "How it was made" in page.locator('[data-testid="stMain"]').inner_text()
    page.locator(CHART).first.scroll_into_view_if_needed()
    screenshot(page, "training_lab_gn_sweep", full_page=False)


def test_no_affine_and_weight_decay_from_the_link_train_and_show_gamma_beta(app_url, page):
    # Run 1: BN without γ, β and weight decay 0.01; run 2: BN with γ, β. The overview shows γ, β of run 2 only.
    open_link(page, f"{app_url}/training?preset=custom&view=overview&steps=100&norm=batch,batch&affine=0,1&wd=0.01,0")
    boxes = page.get_by_role("checkbox", name="Learn γ, β (affine)")
    boxes.nth(1).wait_for(timeout=30000)  # the second run's controls render after the first's
    assert boxes.count() == 2
    assert [boxes.nth(i).is_checked() for i in range(2)] == [False, True]
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_text("γ, β at the last snapshot").first.wait_for(timeout=120000)
    page.get_by_text("step 100 / 100").first.wait_for(timeout=120000)
    wait_for_app(page)
    assert_no_exception(page)
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert "no γ, β · wd=0.01" in text  # run 1's label says what it trained
    assert draw_every_chart(page) >= 2
    assert page.locator(".live-chart .gtitle").filter(has_text="Learned γ").count() == 1  # run 2's γ, β chart
    assert "affine=0%2C1" in page.url or "affine=0,1" in page.url
    screenshot(page, "training_lab_affine_wd", full_page=False)
