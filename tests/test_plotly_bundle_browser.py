"""The partial plotly.js bundle in Chromium: it registers exactly the trace types it lists, and
every page's live charts draw with it, each trace with its module, and no console error.

Every page of the navigation is opened in its default state; then, for each bundled trace type
that those pages do not draw, the first experiment that draws it (found with AppTest), so every
bundled type is drawn at least once. tests/test_plotly_bundle.py checks the types statically and
in the payloads of every experiment and exercise.
"""
from __future__ import annotations

from urllib.parse import urlparse

import pytest
from browser_utils import SCROLL_TO_UNDRAWN, assert_no_exception, goto, screenshot, wait_for_app
from streamlit.testing.v1 import AppTest

from app_pages._live_chart import BUNDLE_TRACES, BUNDLE_VERSION, payload
from normviz.experiments import EXPERIMENTS

pytestmark = pytest.mark.browser

# Per live chart: its label, the trace types it drew, and those it was asked for but drew as
# something else. plotly.js coerces a type it has no module for to its default, "scatter", and
# says so only at logging level 2: a missing "violin" would silently draw as scattered points.
# Read in the same moment as the check that every chart has drawn (null until then): a rerun or a
# fragment tick may add a chart between a separate check and the read.
# A chart off screen is drawn when it comes near (live_chart.js): SCROLL_TO_UNDRAWN scrolls to it.
CHARTS = """() => { const c = [...document.querySelectorAll('.live-chart')].filter(d => d.checkVisibility());
  if (!""" + SCROLL_TO_UNDRAWN + """) return null;
  return c.map(d => ({
    label: d.getAttribute('aria-label'),
    drawn: d._fullData.map(t => t.type),
    unknown: d.data.map((t, i) => [t.type || 'scatter', d._fullData.find(f => f.index === i)?.type])
                   .filter(([asked, drew]) => asked !== drew).map(([asked, drew]) => `${asked} drawn as ${drew}`),
  })); }"""


def _failed_response(response) -> str | None:
    # Opened at a deep link (/cube), Streamlit's frontend first looks for its server one level up
    # (/cube/_stcore/health, /cube/_stcore/host-config): two 404s on every such load, main too.
    path = urlparse(response.url).path
    if response.status < 400 or path.endswith(("/_stcore/health", "/_stcore/host-config")):
        return None
    return f"HTTP {response.status}: {response.url}"


def listen(page) -> list[str]:
    """Collect console errors, uncaught exceptions and failed responses of the page."""
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and not m.text.startswith("Failed to load resource")
            and errors.append(f"console: {m.text}"))  # a failed resource is reported from its response
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("response", lambda r: (bad := _failed_response(r)) and errors.append(bad))
    return errors


def charts_drawn(page) -> list[dict]:
    """Until the script is idle and every live chart on the page has drawn; their traces."""
    wait_for_app(page)
    page.wait_for_function(CHARTS, timeout=60000)
    wait_for_app(page)
    assert_no_exception(page)
    return page.wait_for_function(CHARTS, timeout=60000).json_value()


def first_experiment_drawing(types: set[str]) -> dict[str, str]:
    """{trace type: key of the first experiment whose live charts draw it}, for ``types``."""
    at = AppTest.from_file("../app_pages/experiments.py", default_timeout=120)
    at.run()
    found: dict[str, str] = {}
    for key in EXPERIMENTS:
        at.selectbox(key="experiments.exp").set_value(key).run()
        assert not at.exception, key
        for el in at.get("bidi_component"):
            for trace in payload(el)["figure"]["data"]:
                if trace.get("type", "scatter") in types:
                    found.setdefault(trace.get("type", "scatter"), key)
        if set(found) == types:
            break
    return found


def test_bundle_registers_exactly_its_listed_trace_types(page, app_url):
    errors = listen(page)
    goto(page, app_url + "/cube")
    charts_drawn(page)
    got = page.evaluate("() => [Plotly.version, Object.keys(Plotly.PlotSchema.get().traces).sort()]")
    assert got == [BUNDLE_VERSION, sorted(BUNDLE_TRACES)]
    # What the page test looks for: a type the bundle lacks draws as a scatter (no error).
    drew = page.evaluate("""async () => { const d = document.createElement('div'); document.body.append(d);
        await Plotly.newPlot(d, [{type: 'violin', y: [1, 2, 3]}, {type: 'box', y: [1, 2, 3]}]);
        const m = d._fullData.map(t => t.type); Plotly.purge(d); d.remove(); return m; }""")
    assert drew == ["scatter", "box"]
    assert not errors, errors


def test_every_page_draws_its_live_charts_with_the_bundle(page, app_url):
    errors = listen(page)
    goto(page, app_url)
    links = page.get_by_test_id("stSidebarNavLink")
    n = links.count()
    assert n >= 6
    drawn: dict[str, set[str]] = {}
    unknown: dict[str, list[str]] = {}

    def record(where: str) -> None:
        for chart in charts_drawn(page):
            drawn.setdefault(where, set()).update(chart["drawn"])
            if chart["unknown"]:
                unknown[f"{where}: {chart['label']}"] = chart["unknown"]

    for i in range(n):  # switch pages as a user does (one page load)
        links.nth(i).click()
        page.wait_for_timeout(300)
        record(urlparse(page.url).path.rsplit("/", 1)[-1] or "home")
    assert drawn.get("cube", set()) >= {"scatter3d", "scatter", "heatmap"}, drawn
    missing = set(BUNDLE_TRACES) - set().union(*drawn.values())
    for trace_type, key in sorted(first_experiment_drawing(missing).items()):
        goto(page, f"{app_url}/experiments?exp={key}")
        record(f"experiments?exp={key}")
        if trace_type == "scattergl":
            screenshot(page, "plotly_bundle-experiments-scattergl")
    assert not unknown, f"traces of types the bundle lacks (drawn as scatter): {unknown}"
    assert set().union(*drawn.values()) == set(BUNDLE_TRACES), drawn
    assert not errors, errors
