"""live_chart in Chromium, on the demo app tests/apps/live_chart_demo.py: a changed figure updates
the same div (no new WebGL context), the 3D camera survives a rerun, a click reaches Python (also
inside a fragment), an unmounted chart is purged, the chart draws with every non-loopback request
blocked, and it is labelled.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_utils import assert_no_exception, drag_camera, goto, screenshot, wait_for_app
from conftest import serve

from app_pages._live_chart import ASSETS, BUNDLE

pytestmark = pytest.mark.browser

DEMO = Path(__file__).parent / "apps" / "live_chart_demo.py"
CHART = ".live-chart"
# Counts WebGL contexts as they are created (a canvas asked twice returns its context again).
COUNT_WEBGL = """
window.webglContexts = 0;
const getContext = HTMLCanvasElement.prototype.getContext;
const seen = new WeakSet();
HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
  const ctx = getContext.call(this, kind, ...rest);
  if (ctx && /webgl/.test(kind) && !seen.has(ctx)) { seen.add(ctx); window.webglContexts += 1; }
  return ctx;
};
"""


@pytest.fixture(scope="module")
def demo_url():
    yield from serve(DEMO)


def chart(page, i: int):
    return page.locator(CHART).nth(i)


def title(page, i: int) -> str:
    return page.evaluate("i => document.querySelectorAll('.live-chart')[i]._fullLayout.title.text", i)


def wait_title(page, i: int, text: str) -> None:
    page.wait_for_function("([i, t]) => document.querySelectorAll('.live-chart')[i]?._fullLayout?.title.text === t",
                           arg=[i, text], timeout=30000)
    wait_for_app(page)


def open_demo(page, url: str) -> None:
    page.add_init_script(COUNT_WEBGL)
    goto(page, url)
    for i, text in enumerate(("rerun 0", "heatmap 0", "fragment 0")):
        wait_title(page, i, text)
    chart(page, 0).locator("canvas").first.wait_for(timeout=30000)


def markdown(page, prefix: str) -> str:
    return page.locator('[data-testid="stMarkdown"]', has_text=re.compile("^" + re.escape(prefix))).first.inner_text()


def test_a_changed_figure_updates_the_same_div_and_webgl_context(page, demo_url):
    open_demo(page, demo_url)
    before = page.evaluate("""() => { const d = document.querySelector('.live-chart');
        window.tagged = [d, d.querySelector('canvas')];
        return {contexts: window.webglContexts, canvases: document.querySelectorAll('canvas').length,
                renders: d.liveChart.renders}; }""")
    assert before["contexts"] >= 1 and before["renders"] == 1
    for n in (1, 2):
        page.get_by_role("button", name="Next").click()
        wait_title(page, 0, f"rerun {n}")
    after = page.evaluate("""() => { const d = document.querySelector('.live-chart');
        return {sameDiv: window.tagged[0] === d && d.isConnected, sameCanvas: window.tagged[1] === d.querySelector('canvas'),
                contexts: window.webglContexts, canvases: document.querySelectorAll('canvas').length,
                renders: d.liveChart.renders, x0: d._fullData[0].x[0]}; }""")
    assert after["sameDiv"] and after["sameCanvas"], "the chart was re-mounted"
    assert after["contexts"] == before["contexts"], "a rerun created a WebGL context"
    assert after["canvases"] == before["canvases"]
    assert after["renders"] == 3 and after["x0"] == 2  # reacted twice, with the new data
    assert markdown(page, "echo") == "echo 2, script runs 3"
    assert_no_exception(page)


def camera(page) -> dict:
    return page.evaluate("""() => { const d = document.querySelector('.live-chart');
        return {layout: d.layout.scene.camera.eye, gl: d._fullLayout.scene._scene.getCamera().eye}; }""")


def test_the_3d_camera_survives_reruns_and_resizes(page, demo_url):
    open_demo(page, demo_url)
    eye = drag_camera(page, chart(page, 0))
    page.get_by_role("button", name="Next").click()
    wait_title(page, 0, "rerun 1")
    cam = camera(page)
    assert cam["layout"] == pytest.approx(eye, abs=1e-6) and cam["gl"] == pytest.approx(eye, abs=1e-3), cam
    # After the container resizes, a new drag must survive the next rerun too.
    width = page.evaluate("() => document.querySelector('.live-chart')._fullLayout.width")
    page.set_viewport_size({"width": 600, "height": 800})  # the centred column narrows
    page.wait_for_function("w => document.querySelector('.live-chart')._fullLayout.width < w", arg=width, timeout=10000)
    eye = drag_camera(page, chart(page, 0))
    page.get_by_role("button", name="Next").click()
    wait_title(page, 0, "rerun 2")
    cam = camera(page)
    assert cam["layout"] == pytest.approx(eye, abs=1e-6) and cam["gl"] == pytest.approx(eye, abs=1e-3), cam
    assert_no_exception(page)


def test_a_click_on_a_point_reaches_python(page, demo_url):
    open_demo(page, demo_url)
    page.get_by_role("button", name="Next").click()  # n = 1: the heatmap holds 1 .. 12
    wait_title(page, 1, "heatmap 1")
    chart(page, 1).scroll_into_view_if_needed()
    # The centre of cell (x="c", y="q") in page pixels, from the heatmap's own axes.
    xy = page.evaluate("""() => { const d = document.querySelectorAll('.live-chart')[1], fl = d._fullLayout,
                                      box = d.getBoundingClientRect();
        return [box.left + fl.xaxis._offset + fl.xaxis.d2p('c'), box.top + fl.yaxis._offset + fl.yaxis.d2p('q')]; }""")
    page.mouse.move(*xy)
    page.mouse.click(*xy)
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stMarkdown]')]"
                           ".some(e => e.innerText.startsWith('clicked: {'))", timeout=30000)
    wait_for_app(page)
    assert markdown(page, "clicked") == ("clicked: {'curveNumber': 0, 'pointNumber': [1, 2], 'pointIndex': [1, 2], "
                                         "'x': 'c', 'y': 'q', 'z': 7, 'customdata': 'cell 12'}")
    assert markdown(page, "echo") == "echo 1, script runs 3"  # the click reran the whole script
    assert_no_exception(page)


def test_a_click_inside_a_fragment_reruns_only_the_fragment(page, demo_url):
    open_demo(page, demo_url)
    chart(page, 2).scroll_into_view_if_needed()
    xy = page.evaluate("""() => { const d = document.querySelectorAll('.live-chart')[2], fl = d._fullLayout,
                                      box = d.getBoundingClientRect();
        return [box.left + fl.xaxis._offset + fl.xaxis.d2p(2), box.top + fl.yaxis._offset + fl.yaxis.d2p(-1)]; }""")
    page.mouse.move(*xy)
    page.mouse.click(*xy)
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stMarkdown]')]"
                           ".some(e => e.innerText === 'fragment click: 2')", timeout=30000)
    wait_for_app(page)
    assert markdown(page, "echo") == "echo 0, script runs 1"
    assert_no_exception(page)


def test_draws_with_every_non_loopback_request_blocked(page, demo_url):
    blocked, plotly_js = [], []

    def only_loopback(route):
        host = route.request.url.split("/")[2].split(":")[0]
        if host in ("127.0.0.1", "localhost"):
            if "plotly-normviz.min.js" in route.request.url:
                plotly_js.append(route.request.url)
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_loopback)
    open_demo(page, demo_url)
    drawn = page.evaluate("() => [...document.querySelectorAll('.live-chart')].map(d => d.querySelectorAll('.main-svg').length)")
    assert all(n >= 1 for n in drawn) and len(drawn) == 3
    assert chart(page, 0).locator("canvas").count() == 1  # the scatter3d's WebGL canvas
    assert len(plotly_js) == 1, f"plotly.js should load once per page, not per chart: {plotly_js}"
    assert f"/_stcore/bidi-components/{ASSETS}/plotly-normviz.min.js?v=" in plotly_js[0]
    served = page.request.get(plotly_js[0]).body()
    assert served == BUNDLE.read_bytes()
    # Nothing the chart needs came from elsewhere (a blocked request, if any, was not plotly's).
    assert not [u for u in blocked if "plotly" in u], blocked
    assert_no_exception(page)


def test_an_unmounted_chart_is_purged(page, demo_url):
    open_demo(page, demo_url)
    page.evaluate("() => { window.tagged = document.querySelector('.live-chart'); }")
    page.get_by_text("Show the 3D chart").click()
    page.wait_for_function("() => !window.tagged.isConnected", timeout=30000)
    wait_for_app(page)
    page.wait_for_function("() => !('_fullLayout' in window.tagged)", timeout=10000)  # Plotly.purge ran
    assert page.locator(CHART).count() == 2
    assert page.evaluate("() => window.tagged.querySelectorAll('canvas').length") == 0
    assert_no_exception(page)


def test_charts_are_labelled_images(page, demo_url):
    open_demo(page, demo_url)
    cube = chart(page, 0)
    assert cube.get_attribute("role") == "figure"
    assert cube.get_attribute("aria-label") == "40 random points in 3D; point 0 sits at (0, 0, 0)."
    page.get_by_role("button", name="Next").click()
    wait_title(page, 0, "rerun 1")
    assert cube.get_attribute("aria-label") == "40 random points in 3D; point 0 sits at (1, 1, 1)."
    assert page.get_by_role("figure", name="A 3 by 4 heatmap of the numbers n to n + 11.").count() == 1
    screenshot(page, "live_chart_demo")
    assert_no_exception(page)


def test_the_wheel_over_a_3d_chart_scrolls_the_page(page, demo_url):
    """scrollZoom is off: the wheel over the 3D scene scrolls the page (plotly's camera took it)."""
    open_demo(page, demo_url)
    canvas = chart(page, 0).locator("canvas").first
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    eye = page.evaluate("() => document.querySelector('.live-chart')._fullLayout.scene._scene.getCamera().eye")
    page.mouse.wheel(0, 300)
    page.wait_for_function("() => document.querySelector('[data-testid=stMain]').scrollTop > 100", timeout=5000)
    after = page.evaluate("() => document.querySelector('.live-chart')._fullLayout.scene._scene.getCamera().eye")
    assert after == pytest.approx(eye)  # the camera did not zoom
