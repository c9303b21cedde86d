"""live_chart vs st.plotly_chart: first render and rerun round trip in Chromium, as ratios to a
trivial app.

Three apps are served side by side in one run (the same machine noise for all):
  trivial:      a number input "selected w" and a markdown echo of its value;
  plotly_chart: the trivial app + ONE small scatter3d whose title echoes w, so the figure
                changes on every rerun, drawn with st.plotly_chart (Streamlit 1.67 re-mounts a
                changed figure: new div, new WebGL context; see bench_cube.py, "floor");
  live_chart:   the same figure drawn with app_pages._live_chart.live_chart (Plotly.react into
                the same div).
first render: a fresh browser context (empty cache, so live_chart also downloads plotly.js
              from the app) from page.goto until the chart shows "w = 0" and the script is idle
              (trivial: until the echo shows);
rerun:        click "+" of the number input, until the chart title shows the new w and the
              script is idle (trivial: until the echo changes).
Medians of the repetitions; ratios to the trivial app.

Run: .venv/bin/python bench/bench_live_chart.py [--reps 10] [--first 5]
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
v = st.number_input("selected w", 0, 10000, key="w")
st.write(f"echo {v}")
'''
FIGURE = '''fig = {"data": [{"type": "scatter3d", "x": [0, 1, 2, 3], "y": [0, 1, 0, 1], "z": [0, 0, 1, 1], "mode": "markers"}],
       "layout": {"height": 500, "title": {"text": f"w = {v}"}}}
'''
APPS = {
    "trivial": TRIVIAL,
    "plotly_chart": TRIVIAL + FIGURE + 'st.plotly_chart(fig, key="c3d", theme=None)\n',
    "live_chart": (f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nfrom app_pages._live_chart import live_chart\n"
                   + TRIVIAL + FIGURE + 'live_chart(fig, key="c3d", alt="four points")\n'),
}
TITLE_IS = "t => document.querySelector('.gtitle')?.textContent === t"
ECHO_IS = "t => [...document.querySelectorAll('[data-testid=stMarkdown]')].some(e => e.innerText === t)"


def shown(page, name: str, w: int, timeout: float = 60000) -> None:
    """Until the app shows w (the chart title, or the trivial app's echo) and the script is idle."""
    if name == "trivial":
        page.wait_for_function(ECHO_IS, arg=f"echo {w}", timeout=timeout, polling="raf")
    else:
        page.wait_for_function(TITLE_IS, arg=f"w = {w}", timeout=timeout, polling="raf")
    page.locator(IDLE).wait_for(state="attached", timeout=timeout)


def first_render(browser, name: str, url: str) -> tuple[float, str]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    t0 = time.perf_counter()
    page.goto(url)
    shown(page, name, 0)
    dt = time.perf_counter() - t0
    js = page.evaluate("""() => performance.getEntriesByType('resource').filter(r => /plotly/i.test(r.name))
        .map(r => `${r.name.split('/').pop().split('?')[0]} ${(r.transferSize / 1e6).toFixed(2)} MB ${r.duration.toFixed(0)} ms`)
        .join(', ')""")
    ctx.close()
    return dt, js


def rerun(page, name: str, w: int) -> float:
    page.bring_to_front()  # a background tab gets no animation frames (raf polling would stall)
    page.locator(IDLE).wait_for(state="attached", timeout=30000)
    page.wait_for_timeout(300)
    button = page.locator('[data-testid="stNumberInput"]').get_by_test_id("stNumberInputStepUp")
    t0 = time.perf_counter()
    button.click()
    shown(page, name, w)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=10, help="reruns per app")
    ap.add_argument("--first", type=int, default=5, help="first renders per app (fresh contexts)")
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    servers = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for name, code in APPS.items():
                (Path(tmp) / f"{name}.py").write_text(code)
                servers[name] = start_streamlit(Path(tmp) / f"{name}.py", cwd=ROOT)
            urls = {name: s[1] for name, s in servers.items()}
            first = {name: [] for name in APPS}
            again = {name: [] for name in APPS}
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for name in APPS:  # warm-up: server imports, first script run
                    first_render(browser, name, urls[name])
                assets = {}
                for _ in range(args.first):
                    for name in APPS:
                        dt, assets[name] = first_render(browser, name, urls[name])
                        first[name].append(dt)
                ctx = browser.new_context(viewport={"width": 1280, "height": 800})
                pages = {}
                for name in APPS:
                    pages[name] = ctx.new_page()
                    pages[name].goto(urls[name])
                    pages[name].bring_to_front()
                    shown(pages[name], name, 0)
                for i in range(args.reps):
                    for name in APPS:
                        again[name].append(rerun(pages[name], name, i + 1))
                browser.close()
        finally:
            for proc, _, log in servers.values():
                stop_streamlit(proc)
                log.unlink(missing_ok=True)

    for what, res in (("first render", first), ("rerun", again)):
        med = {k: statistics.median(v) for k, v in res.items()}
        for k, v in res.items():
            print(f"{what:12s} {k:12s} median {med[k] * 1e3:6.0f} ms   runs: " + ", ".join(f"{x * 1e3:.0f}" for x in v))
        print(f"{what:12s} ratios to trivial: " + " / ".join(f"{k} {med[k] / med['trivial']:.2f}x" for k in res)
              + f"   (live_chart / plotly_chart: {med['live_chart'] / med['plotly_chart']:.2f}x)")
    for name in ("plotly_chart", "live_chart"):
        print(f"plotly.js for {name} (cold cache): {assets[name] or 'none listed'}")
    print(f"({args.reps} reruns, {args.first} first renders per app, medians, same run, headless Chromium "
          "with software WebGL)")


if __name__ == "__main__":
    main()
