"""Cube page: figure bytes for the default shape, and the rerun round trip in Chromium.

1. Bytes of the figures the page sends for the default state (the 3D cube must stay <= ~150 KB,
   design.md §5), and the time to build them (ms, median), also for the largest shape.
2. Rerun round trip: in one run, a trivial Streamlit app (a selectbox and a number input that
   echo their value) and the cube page are served side by side; for each repetition we time
   from the widget change to the changed content being on screen with the script idle:
     norm:      type a new norm into the "Norm" selectbox + Enter, until the URL holds it (the
                page writes the URL as the last step of its script) and the app is idle
                (trivial: a selectbox, until its echo shows the new value);
     selection: click "+" or "−" of "selected w", until the URL holds the new w (trivial: "+"
                of a number input, until its echo changes).
   The script time alone (AppTest, no browser) is printed too, to separate server work from
   the browser's drawing (plotly; in headless Chromium WebGL is software-rendered).
   First render: a fresh context until every chart on the first screen is drawn (a chart below
   the fold is drawn when scrolled near, live_chart.js), then the grid of every norm scrolled to.
   Reported as medians and cube/trivial ratios (target <= 1.3x). The in-figure LN|GN|IN|BN
   buttons need no round trip at all (tests/test_cube_browser.py checks that no request is made).
3. Page switch: a reader on the home page opens the cube from the sidebar, until its first screen is
   drawn, against opening the glossary (text only). plotly.js is already loaded then
   (app.py preloads it on every page).
4. The floor: the trivial app plus the cube page's own two charts (the 3D cube and the unfolded
   view of the default state, selected w = the number input mod W), drawn with live_chart side by
   side, and nothing else: no sidebar, formulas, walkthrough or grid. Timed like the cube: a
   selection rerun until the 3D chart has reacted, and a first render until both are drawn. What
   is left between the cube and this floor is the rest of the page; what is between the floor and
   the trivial app is what drawing these two charts costs in this (software-WebGL) Chromium.
5. The 3D chart's first draw alone, in a static page with the app's plotly.js: the cube's figure
   against a 4-point scatter3d, whose time is WebGL start-up (context, shaders) in this Chromium.

Run: .venv/bin/python bench/bench_cube.py [--reps 8]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from conftest import CHROMIUM, CHROMIUM_ARGS, start_streamlit, stop_streamlit  # noqa: E402

IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
TRIVIAL = '''import streamlit as st
choice = st.selectbox("Norm", ["alpha", "beta", "gamma", "delta"], key="norm")
v = st.number_input("selected w", 0, 1000, key="w")
st.write(f"echo {choice} {v}")
'''
CHARTS_ONLY = f"""import sys
sys.path.insert(0, {str(ROOT)!r})
""" + TRIVIAL + """from dataclasses import replace

from app_pages._live_chart import live_chart
from app_pages.views.cube.controls import spec_of
from normviz.cube import figures, numbers
from normviz.state import CubeState


@st.cache_resource(max_entries=64)
def charts(w: int):
    state = replace(CubeState(), w=w % CubeState().shape[3])
    spec = spec_of(state)
    x = numbers.data_for(spec, state.data, state.seed)
    return figures.cube_figure_dict(spec, x), figures.unfolded_figure_dict(spec, x)  # as the page does


cube, flat = charts(v)
left, right = st.columns([1.1, 1])
with left:
    live_chart(cube, key="cube3d", alt="3D cube")
with right:
    live_chart(flat, key="unfolded", alt="unfolded view")
"""
NORM_CYCLE = [("LayerNorm", "layer"), ("InstanceNorm", "instance"), ("BatchNorm", "batch"), ("GroupNorm", None)]
TRIVIAL_CYCLE = [("beta", "echo beta"), ("gamma", "echo gamma"), ("delta", "echo delta"), ("alpha", "echo alpha")]


def as_sent(fig) -> dict:
    """``fig`` as live_chart sends it: typed arrays, and plotly's template (a dict has none)."""
    import plotly.io as pio

    from app_pages._live_chart import figure_spec

    spec = figure_spec(fig)
    spec["layout"] = {**spec["layout"], "template": pio.templates["plotly"].to_plotly_json()}
    return spec


def figure_bytes() -> None:
    """Bytes and build time of each figure as the page sends it (the ``*_dict`` plotly dicts, see
    :func:`as_sent`), and the build time of its go.Figure twin (which the page no longer makes)."""
    import plotly.io as pio

    from normviz.cube import figures
    from normviz.cube.numbers import CubeSpec, make_data
    from normviz.state import CubeState

    def median_ms(build) -> float:
        build()
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            build()
            times.append(time.perf_counter() - t0)
        return statistics.median(times) * 1e3

    s, _ = CubeState.from_query({})
    for label, spec in (("default", CubeSpec(norm=s.norm, shape=s.shape, index=s.index, groups=s.G)),
                        ("largest 8×32×16×16", CubeSpec(norm="group", shape=(8, 32, 16, 16), groups=4))):
        x = make_data(spec.shape)
        for name, title in (("cube_figure", "cube 3D"), ("unfolded_figure", "unfolded"),
                            ("small_multiples_figure", "small multiples")):
            args = (spec,) if name == "small_multiples_figure" else (spec, x)
            as_dict, as_figure = getattr(figures, f"{name}_dict"), getattr(figures, name)
            size = len(pio.json.to_json_plotly(as_sent(as_dict(*args))).encode())
            sent_ms = median_ms(lambda: pio.json.to_json_plotly(as_sent(as_dict(*args))))
            figure_ms = median_ms(lambda: pio.json.to_json_plotly(as_sent(as_figure(*args))))
            print(f"{label:20s} {title:16s} {size / 1024:7.1f} KB  build + JSON {sent_ms:6.1f} ms (as a go.Figure {figure_ms:6.1f} ms)"
                  + ("   (target <= 150 KB)" if name == "cube_figure" and label == "default" else ""))


def wait_text(page, text: str, timeout: float = 30000) -> None:
    """Until a markdown text contains ``text`` and the app is idle."""
    page.wait_for_function(
        "t => [...document.querySelectorAll('[data-testid=stMarkdown]')].some(e => e.innerText.includes(t))",
        arg=text, timeout=timeout, polling="raf")
    page.locator(IDLE).wait_for(state="attached", timeout=timeout)


def wait_url(page, key: str, value: str | None, timeout: float = 30000) -> None:
    """Until the URL holds key=value (value None: key absent, i.e. the default). The page writes
    the URL as the last step of its script, so this marks the end of the whole rerun."""
    page.wait_for_function(
        "([k, v]) => { const q = new URLSearchParams(location.search); return v === null ? !q.has(k) : q.get(k) === v; }",
        arg=[key, value], timeout=timeout, polling="raf")
    page.locator(IDLE).wait_for(state="attached", timeout=timeout)


def change_select(page, label: str, option: str, until) -> float:
    box = page.get_by_role("combobox", name=label).first
    box.click()
    box.fill(option)
    t0 = time.perf_counter()
    box.press("Enter")
    until()
    return time.perf_counter() - t0


def step(page, label: str, up: bool, until) -> float:
    button = page.locator('[data-testid="stNumberInput"]', has_text=label).get_by_test_id(
        "stNumberInputStepUp" if up else "stNumberInputStepDown")
    t0 = time.perf_counter()
    button.click()
    until()
    return time.perf_counter() - t0


def server_times(reps: int) -> None:
    """Script time alone (AppTest, no browser): the cube page vs the trivial app."""
    from streamlit.testing.v1 import AppTest

    cube = AppTest.from_file(str(ROOT / "app_pages" / "cube.py"), default_timeout=120)
    cube.run()
    triv = AppTest.from_string(TRIVIAL)
    triv.run()
    res = {"cube norm": [], "cube selection": [], "cube new cell": [], "trivial": []}
    norms = ["layer", "instance", "batch", "group"]
    cells = [(h, w) for h in range(1, 4) for w in range(2, 4)]  # never selected above: built afresh
    for i in range(reps):
        t0 = time.perf_counter()
        cube.selectbox(key="cube.norm").set_value(norms[i % 4]).run()
        res["cube norm"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        cube.number_input(key="cube.w").set_value((i + 1) % 2).run()
        res["cube selection"].append(time.perf_counter() - t0)
        h, w = cells[i % len(cells)]
        t0 = time.perf_counter()
        cube.number_input(key="cube.h").set_value(h)
        cube.number_input(key="cube.w").set_value(w).run()
        res["cube new cell"].append(time.perf_counter() - t0)
        cube.number_input(key="cube.h").set_value(0)  # back (untimed): the next norm rerun sees its usual cell
        cube.number_input(key="cube.w").set_value((i + 1) % 2).run()
        t0 = time.perf_counter()
        triv.number_input(key="w").set_value(i + 1).run()
        res["trivial"].append(time.perf_counter() - t0)
    assert not cube.exception
    print("script time alone (AppTest): " + ", ".join(
        f"{k} {statistics.median(v) * 1e3:.0f} ms" for k, v in res.items()))


def settle(page) -> None:
    page.bring_to_front()  # a background tab gets no animation frames (raf polling would stall)
    page.locator(IDLE).wait_for(state="attached", timeout=30000)
    page.wait_for_timeout(300)


# Records, per page load, when each live_chart first has a drawn plotly figure and how many
# WebGL contexts were made (performance.now() ms since navigation start).
WATCH = """
window.benchMarks = {drawn: [], webgl: 0};
const getContext = HTMLCanvasElement.prototype.getContext;
HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
  if (/webgl/.test(kind) && !this.__counted) { this.__counted = true; window.benchMarks.webgl += 1; }
  return getContext.call(this, kind, ...rest);
};
new MutationObserver(() => {
  document.querySelectorAll('.live-chart').forEach((d) => {
    if (!d.__drawn && d.querySelector('.main-svg')) { d.__drawn = true; window.benchMarks.drawn.push(performance.now()); }
  });
}).observe(document, {subtree: true, childList: true});
"""


# The live_charts on screen. A chart off screen is drawn when it comes near the viewport
# (live_chart.js), so "every chart drawn" would wait for a scroll that never comes.
ON_SCREEN = ("[...document.querySelectorAll('.live-chart')].filter(d => { const r = d.getBoundingClientRect();"
             " return r.width > 0 && r.top < innerHeight && r.bottom > 0; })")


def all_drawn(page, timeout: float = 60000) -> None:
    """Until every live_chart on screen is drawn and the script is idle."""
    page.wait_for_function(
        f"() => {{ const c = {ON_SCREEN}; return c.length > 0 && c.every(d => d.querySelector('.main-svg')); }}",
        timeout=timeout, polling="raf")
    page.locator(IDLE).wait_for(state="attached", timeout=timeout)


def grid_after_scroll(page) -> float:
    """Scroll the grid of every norm (below the fold, not drawn yet) into view: until it is drawn."""
    t0 = time.perf_counter()
    page.evaluate("() => window.__liveCharts.get('cube.grid').scrollIntoView()")
    page.wait_for_function("() => window.__liveCharts.get('cube.grid').querySelector('.main-svg')",
                           timeout=30000, polling="raf")
    return time.perf_counter() - t0


def first_render(browser, url_app: str, url_triv: str, url_floor: str, reps: int) -> dict:
    """Fresh context each time (empty cache, as a new visitor): goto until the first screen is drawn
    (every chart on it); then the grid below the fold, scrolled to."""
    res = {"cube first render": [], "trivial first render": [], "charts-only first render": [],
           "grid drawn after scroll": []}
    marks = []
    for _ in range(reps):
        for name, url, until in (("trivial first render", url_triv, lambda pg: wait_text(pg, "echo alpha 0")),
                                 ("charts-only first render", url_floor, all_drawn),
                                 ("cube first render", url_app + "/cube", all_drawn)):
            ctx = browser.new_context(viewport={"width": 1280, "height": 800})
            ctx.add_init_script(WATCH)
            pg = ctx.new_page()
            t0 = time.perf_counter()
            pg.goto(url, wait_until="commit")
            until(pg)
            res[name].append(time.perf_counter() - t0)
            if name.startswith("cube"):
                marks.append(pg.evaluate("""() => { const r = performance.getEntriesByType('resource')
                      .find(e => /plotly[^/]*\\.min\\.js/.test(e.name));
                    return {drawn: benchMarks.drawn, webgl: benchMarks.webgl, charts: document.querySelectorAll('.live-chart').length,
                            plotly_file: r ? new URL(r.name).pathname.split('/').pop() : null, plotly_start: r ? r.startTime : null, plotly_end: r ? r.responseEnd : null,
                            plotly_kb: r ? r.encodedBodySize / 1024 : null,
                            ready: [...document.querySelectorAll('.live-chart')].map(d => d.liveChart.plotlyReadyAt),
                            react: [...document.querySelectorAll('.live-chart')].map(d => d.liveChart.reactMs)}; }"""))
                res["grid drawn after scroll"].append(grid_after_scroll(pg))
            ctx.close()
    m = marks[len(marks) // 2]
    print(f"cube first render breakdown (median rep): {m['charts']} live charts, {m['webgl']} WebGL context(s); "
          f"plotly.js ({m['plotly_file']}) requested at {m['plotly_start']:.0f} ms, loaded at {m['plotly_end']:.0f} ms "
          f"({m['plotly_kb']:.0f} KB on the wire), evaluated (window.Plotly ready) at {min(m['ready']):.0f} ms; "
          "Plotly.react took " + ", ".join("-" if t is None else f"{t:.0f}" for t in m["react"]) + " ms per chart (3D cube first; - : off screen, not drawn); "
          "charts drawn at " + ", ".join(f"{t:.0f}" for t in m["drawn"]) + " ms")
    return res


def page_switch(browser, url_app: str, reps: int) -> dict:
    """A reader on the home page (2 s: time enough for the entry point's plotly.js preload) opens a page
    from the sidebar: until its first screen is drawn. The cube against the glossary (text, no chart)."""
    res = {"home -> cube": [], "home -> glossary": []}
    for _ in range(reps):
        for name, link in (("home -> cube", "Cube"), ("home -> glossary", "Glossary")):
            ctx = browser.new_context(viewport={"width": 1280, "height": 800})
            pg = ctx.new_page()
            pg.goto(url_app)
            pg.locator(IDLE).wait_for(state="attached", timeout=60000)
            pg.wait_for_timeout(2000)
            t0 = time.perf_counter()
            pg.get_by_test_id("stSidebarNavLink").filter(has_text=link).click()
            if link == "Cube":
                pg.wait_for_function("() => location.pathname.endsWith('/cube')", timeout=30000, polling="raf")
                all_drawn(pg)
            else:
                pg.get_by_role("heading", name="Glossary").first.wait_for(timeout=30000)
                pg.locator(IDLE).wait_for(state="attached", timeout=30000)
            res[name].append(time.perf_counter() - t0)
            ctx.close()
    return res


def rerun_drawn(page, label: str, up: bool) -> float:
    """Click +/- of ``label`` until the 3D cube has reacted (its render count went up) and the app is idle."""
    n = page.evaluate("() => document.querySelector('.live-chart').liveChart.renders")
    return step(page, label, up, lambda: (page.wait_for_function(
        "n => document.querySelector('.live-chart').liveChart.renders > n", arg=n, timeout=30000, polling="raf"),
        all_drawn(page)))


def first_3d_draw(browser, reps: int) -> dict:
    """The first draw of a 3D chart alone, in a static page with the app's plotly.js: the cube's
    figure (default state) against a 4-point scatter3d. What is left of the cube's first render
    beyond the tiny chart's is ours; the tiny chart's is WebGL start-up (context, shaders) in this
    Chromium (software WebGL, no GPU)."""
    import functools
    import http.server
    import threading

    import plotly.io as pio

    from app_pages._live_chart import BUNDLE
    from normviz.cube.figures import cube_figure_dict
    from normviz.cube.numbers import CubeSpec, data_for

    spec = CubeSpec()
    cube = as_sent(cube_figure_dict(spec, data_for(spec)))
    tiny = as_sent({"data": [{"type": "scatter3d", "x": [0, 1, 2, 3], "y": [0, 1, 0, 1], "z": [0, 0, 1, 1],
                              "mode": "markers"}], "layout": {"height": 500}})
    res = {"cube 3D first draw (static page)": [], "4-point scatter3d first draw": []}
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "plotly.js").write_bytes(BUNDLE.read_bytes())
        for name, fig in (("cube", cube), ("tiny", tiny)):
            (Path(tmp) / f"{name}.html").write_text(
                '<html><body><div id="g" style="width:700px;height:500px"></div><script src="plotly.js"></script>'
                f"<script>const fig = {pio.json.to_json_plotly(fig)};"
                "window.draw = async () => { const t0 = performance.now(); await Plotly.react('g', fig.data, fig.layout);"
                " await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));"
                " return performance.now() - t0; };</script></body></html>")

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args) -> None:  # one line per request would bury the results
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=tmp))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            for _ in range(reps):
                for name, key in (("cube", "cube 3D first draw (static page)"), ("tiny", "4-point scatter3d first draw")):
                    ctx = browser.new_context()
                    pg = ctx.new_page()
                    pg.goto(f"http://127.0.0.1:{server.server_port}/{name}.html")
                    pg.wait_for_function("() => window.Plotly && window.draw")
                    res[key].append(pg.evaluate("() => window.draw()") / 1e3)
                    ctx.close()
        finally:
            server.shutdown()
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=8)
    args = ap.parse_args()
    figure_bytes()
    server_times(args.reps)

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        trivial = Path(tmp) / "trivial_app.py"
        trivial.write_text(TRIVIAL)
        (Path(tmp) / "charts_only.py").write_text(CHARTS_ONLY)
        p_app, url_app, _ = start_streamlit("app.py", cwd=ROOT)
        p_triv, url_triv, _ = start_streamlit(trivial, cwd=ROOT)
        p_floor, url_floor, _ = start_streamlit(Path(tmp) / "charts_only.py", cwd=ROOT)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                ctx = browser.new_context(viewport={"width": 1280, "height": 800})
                cube, triv = ctx.new_page(), ctx.new_page()
                cube.goto(url_app + "/cube")
                cube.bring_to_front()
                wait_text(cube, "GroupNorm (G = 2) pools")
                triv.goto(url_triv)
                triv.bring_to_front()
                wait_text(triv, "echo alpha 0")
                floor = ctx.new_page()
                floor.goto(url_floor)
                floor.bring_to_front()
                wait_text(floor, "echo alpha 0")
                all_drawn(floor)
                res = {k: [] for k in ("cube norm", "trivial norm", "cube selection", "trivial selection",
                                       "cube selection drawn", "charts-only selection drawn")}
                for i in range(args.reps):
                    opt, expect = NORM_CYCLE[i % len(NORM_CYCLE)]
                    settle(cube)
                    res["cube norm"].append(change_select(cube, "Norm", opt, lambda v=expect: wait_url(cube, "norm", v)))
                    opt, expect = TRIVIAL_CYCLE[i % len(TRIVIAL_CYCLE)]
                    settle(triv)
                    res["trivial norm"].append(change_select(triv, "Norm", opt, lambda t=expect: wait_text(triv, t)))
                    settle(cube)
                    up = True  # w = 0 -> 1 here, back to 0 (the default: not in the URL) in the drawn rerun below
                    res["cube selection"].append(step(
                        cube, "selected w", up, lambda u=up: wait_url(cube, "w", "1" if u else None)))
                    settle(cube)
                    res["cube selection drawn"].append(rerun_drawn(cube, "selected w", not up))
                    settle(floor)
                    res["charts-only selection drawn"].append(rerun_drawn(floor, "selected w", True))
                    settle(triv)
                    before = triv.locator("text=/echo /").inner_text()
                    res["trivial selection"].append(step(
                        triv, "selected w", True,
                        lambda b=before: (triv.wait_for_function(
                            "b => ![...document.querySelectorAll('[data-testid=stMarkdown]')]"
                            ".some(e => e.innerText === b)", arg=b, timeout=30000, polling="raf"),
                            triv.locator(IDLE).wait_for(state="attached"))))
                res.update(first_render(browser, url_app, url_triv, url_floor, max(3, args.reps // 2)))
                res.update(page_switch(browser, url_app, max(3, args.reps // 2)))
                res.update(first_3d_draw(browser, max(3, args.reps // 2)))
                browser.close()
        finally:
            stop_streamlit(p_app)
            stop_streamlit(p_triv)
            stop_streamlit(p_floor)

    med = {k: statistics.median(v) for k, v in res.items()}
    for k, v in res.items():
        print(f"{k:18s} median {med[k] * 1e3:6.0f} ms   runs: " + ", ".join(f"{x * 1e3:.0f}" for x in v))
    for what in ("norm", "selection"):
        print(f"ratio cube/trivial rerun after a {what} change: {med['cube ' + what] / med['trivial ' + what]:.2f}x "
              f"(target <= 1.3x; {args.reps} reps, medians, same run)")
    print(f"ratio cube/trivial rerun, until the 3D cube has re-drawn (Plotly.react): "
          f"{med['cube selection drawn'] / med['trivial selection']:.2f}x (target <= 2x)")
    print(f"ratio cube/trivial first render (fresh context, until every chart on the first screen is drawn): "
          f"{med['cube first render'] / med['trivial first render']:.2f}x (target <= 1.5x)")
    print(f"ratio page switch home -> cube / home -> glossary (first screen drawn; plotly.js preloaded on the "
          f"home page): {med['home -> cube'] / med['home -> glossary']:.2f}x")
    print(f"floor, the trivial app + the cube's two charts (live_chart) and nothing else: rerun until the 3D chart "
          f"has reacted {med['charts-only selection drawn'] / med['trivial selection']:.2f}x trivial, first render "
          f"{med['charts-only first render'] / med['trivial first render']:.2f}x trivial; the cube page over that "
          f"floor: rerun {med['cube selection drawn'] / med['charts-only selection drawn']:.2f}x, first render "
          f"{med['cube first render'] / med['charts-only first render']:.2f}x")
    print(f"3D first draw in a static page (Plotly.react + two frames): the cube's figure "
          f"{med['cube 3D first draw (static page)'] * 1e3:.0f} ms, a 4-point scatter3d "
          f"{med['4-point scatter3d first draw'] * 1e3:.0f} ms (WebGL start-up in this Chromium)")


if __name__ == "__main__":
    main()
