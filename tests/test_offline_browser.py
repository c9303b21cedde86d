"""Offline: with every non-loopback request aborted, every page of the navigation renders
completely (its charts drawn by plotly, no exception) and no request fails or goes elsewhere.

The app ships everything it needs: plotly.js from the installed plotly package (live_chart),
Streamlit's own bundle and fonts from the Streamlit server. A request to a CDN or a font host
would show here as a blocked URL.
"""
from __future__ import annotations

from urllib.parse import urlparse

import pytest

from browser_utils import assert_no_exception, draw_every_chart, goto, wait_for_app

pytestmark = pytest.mark.browser

LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


def test_every_page_renders_offline(page, app_url):
    blocked, failed = [], []

    def only_loopback(route):
        if urlparse(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_loopback)
    page.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))
    goto(page, app_url)
    links = page.get_by_test_id("stSidebarNavLink")
    names = [links.nth(i).inner_text().strip() for i in range(links.count())]
    assert len(names) >= 6, names  # home, image lab, cube, training lab, experiments, guide, ...
    drawn = {}
    for i, name in enumerate(names):  # switch pages as a user does (one page load, no unload)
        links.nth(i).click()
        page.wait_for_timeout(300)
        wait_for_app(page)
        n_charts = draw_every_chart(page)  # every live_chart on the page drawn by plotly
        static = page.get_by_test_id("stPlotlyChart")  # the guide's never-changing figures
        for j in range(static.count()):
            static.nth(j).locator(".main-svg").first.wait_for(state="attached", timeout=60000)
        wait_for_app(page)
        assert_no_exception(page)
        drawn[urlparse(page.url).path.rsplit("/", 1)[-1]] = n_charts + static.count()
    assert not blocked, f"requests that left the machine: {blocked}"
    assert not failed, f"failed requests: {failed}"
    assert drawn["cube"] >= 3, drawn  # the cube, the unfolded view and the open panel's chart
