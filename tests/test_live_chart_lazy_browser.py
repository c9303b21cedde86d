"""live_chart draws a chart only when it is on or near the screen (live_chart.js): one far below the
fold or in a closed expander is drawn when it comes near, with the newest figure; reruns do not
redraw it while it is away; printing draws every chart. Demo app: tests/apps/lazy_chart_demo.py.
And plotly.js is loaded by every page before a chart needs it (preload_plotly, in the real app),
without moving the page's title."""
from __future__ import annotations

from pathlib import Path

import pytest
from browser_utils import assert_no_exception, goto, wait_for_app
from conftest import serve

from app_pages._live_chart import PRELOAD_KEY

pytestmark = pytest.mark.browser

DEMO = Path(__file__).parent / "apps" / "lazy_chart_demo.py"


@pytest.fixture(scope="module")
def demo_url():
    yield from serve(DEMO)


def drawn(page, key: str) -> dict:
    """How often the chart ``key`` was drawn, and the title it shows (None: never drawn)."""
    return page.evaluate("""k => { const d = window.__liveCharts.get(k);
        return {renders: d.liveChart.renders, title: d._fullLayout?.title?.text ?? null}; }""", key)


def wait_title(page, key: str, text: str) -> None:
    page.wait_for_function("([k, t]) => window.__liveCharts?.get(k)?._fullLayout?.title?.text === t",
                           arg=[key, text], timeout=30000, polling="raf")


def open_demo(page, url: str) -> None:
    goto(page, url)
    wait_title(page, "top", "top 0")
    wait_for_app(page)
    page.wait_for_timeout(500)  # time enough to draw the others, were they drawn eagerly


def test_a_chart_far_below_is_drawn_when_scrolled_to_with_its_newest_figure(page, demo_url):
    open_demo(page, demo_url)
    assert drawn(page, "below") == {"renders": 0, "title": None}
    page.get_by_role("figure", name="The chart far below.").scroll_into_view_if_needed()
    wait_title(page, "below", "below 0")
    page.evaluate("() => window.scrollTo(0, 0)")
    page.get_by_role("button", name="Next").click()
    wait_title(page, "top", "top 1")
    wait_for_app(page)
    page.wait_for_timeout(500)
    assert drawn(page, "below") == {"renders": 1, "title": "below 0"}  # not redrawn while away
    page.get_by_role("figure", name="The chart far below.").scroll_into_view_if_needed()
    wait_title(page, "below", "below 1")
    assert drawn(page, "below")["renders"] == 2
    assert_no_exception(page)


def test_a_chart_in_a_closed_expander_is_drawn_when_it_opens(page, demo_url):
    open_demo(page, demo_url)
    assert drawn(page, "hidden") == {"renders": 0, "title": None}
    page.get_by_text("More charts").click()
    wait_title(page, "hidden", "hidden 0")
    box = page.get_by_role("figure", name="The chart in the expander.").bounding_box()
    assert box["width"] > 300  # drawn at its shown width, not at the 0 px of a closed expander
    assert page.evaluate("() => window.__liveCharts.get('hidden')._fullLayout.width") == pytest.approx(box["width"], abs=2)
    assert_no_exception(page)


def test_printing_draws_every_chart(page, demo_url):
    open_demo(page, demo_url)
    page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    wait_title(page, "below", "below 0")
    wait_title(page, "hidden", "hidden 0")
    assert_no_exception(page)


def test_every_page_loads_plotly_before_its_charts_need_it(page, app_url):
    """The entry point's preload_plotly: the home page (no chart) loads plotly.js, takes no room for
    it, and a switch to the cube finds it loaded (one request for the whole visit)."""
    requested = []
    page.on("request", lambda r: "plotly-normviz.min.js" in r.url and requested.append(r.url))
    goto(page, app_url)
    page.wait_for_function("() => typeof window.Plotly?.react === 'function'", timeout=30000)
    assert page.locator(".live-chart").count() == 0
    # Its CSS comes with Streamlit's lazy HTML renderer, which may load after plotly.js has.
    page.wait_for_function("k => getComputedStyle(document.querySelector(`.st-key-${k}`)).display === 'none'",
                           arg=PRELOAD_KEY, timeout=30000)
    page.get_by_test_id("stSidebarNavLink").filter(has_text="Cube").click()
    wait_drawn(page, "cube.cube3d")
    wait_for_app(page)
    assert len(requested) == 1, requested
    assert_no_exception(page)


def wait_drawn(page, key: str) -> None:
    page.wait_for_function("k => window.__liveCharts?.get(k)?.querySelector('.main-svg')", arg=key, timeout=30000)


# From the title's first paint: its distinct tops on screen, one per frame that moved it.
WATCH_TITLE = r"""(() => {
  window.__titleTops = [];
  const look = () => {
    const top = document.querySelector('h1')?.getBoundingClientRect().top;
    if (top !== undefined && window.__titleTops.at(-1) !== Math.round(top)) window.__titleTops.push(Math.round(top));
    requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
})();"""


@pytest.mark.parametrize("path", ["", "cube"])
def test_the_title_stays_put_while_the_page_css_and_preloader_arrive(page, app_url, path):
    """The page's CSS and the preloader come first and draw nothing, but Streamlit draws them only
    once its lazy HTML renderer has loaded: in the page's flow they pushed the title down by 96 px
    and it jumped up ~0.2 s after it was drawn (every first load)."""
    page.add_init_script(WATCH_TITLE)
    goto(page, f"{app_url}/{path}")
    page.wait_for_function("() => typeof window.Plotly?.react === 'function'", timeout=30000)
    page.wait_for_function("k => getComputedStyle(document.querySelector(`.st-key-${k}`)).display === 'none'",
                           arg=PRELOAD_KEY, timeout=30000)
    page.wait_for_timeout(300)
    tops = page.evaluate("() => window.__titleTops")
    assert len(tops) == 1, f"the title moved: tops {tops} px"
