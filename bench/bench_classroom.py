"""A class on one server: many browser sessions at once against one app process, on loopback.

    .venv/bin/python bench/bench_classroom.py [--sessions 30] [--preset 8] [--clicks 6]

Each session is a Chromium context (one browser, like a lab of machines sharing a server) that
follows lesson 1's interactions on the cube: open the page, then step the selected channel
``--clicks`` times (each a server round trip: a rerun that redraws the set, the numbers and the
formula). Latency is click → the page shows the new selection with the app idle again.
Meanwhile ``--preset`` of the sessions open the training lab and press "Run BN Figure 1" (the
same deterministic run for all, so the training service computes it once and shares it).

The browsers do not draw the charts (plotly.js is not served to them; everything else is): in a
class every student's own machine draws its charts, while here all sessions share the server's two
cores, so thirty software-WebGL cubes would measure Chromium, not the server. The server does all of
its work (scripts, figures, payloads, training) as it would for drawing browsers. ``--draw`` lets the
browsers draw too.

Printed: p50/p95 interaction latency alone (one session) and in the class, their ratio (goal
≤ 2×), how long the shared preset took for the class vs for one session, and the server's peak
resident memory (app process plus its training workers). Nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.async_api import TimeoutError as PlaywrightTimeout  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402

from tests.browser_utils import APP_IDLE  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, start_streamlit, stop_streamlit  # noqa: E402

TIMEOUT_MS = 120_000  # a click with no finished run by then counts as lost
SELECTED_C = "selected c"
# Counts finished script runs: Streamlit sets data-test-script-state to "notRunning" when a run ends.
COUNT_RUNS = """() => {
  window.__nvRuns = 0;
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') === 'notRunning') window.__nvRuns += 1;
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


def rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants (KiB), from /proc."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmRSS:")))
            for task in Path(f"/proc/{p}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration):
            continue
    return total


class PeakMemory(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.2)


async def idle(page, timeout_ms: float = 300_000) -> None:
    await page.wait_for_selector(APP_IDLE, state="attached", timeout=timeout_ms)


async def settled(page) -> None:
    """Idle for 300 ms: a click during a run would be folded into it (no run of its own to time)."""
    while True:
        await idle(page)
        await page.wait_for_timeout(300)
        if await page.locator(APP_IDLE).count():
            return


DRAW = False  # set by --draw
ARRIVE = 15.0  # set by --arrive


async def new_context(browser):
    """A browser context that, unless ``--draw``, is refused plotly.js (see the module docstring)."""
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    if not DRAW:
        await ctx.route("**/plotly*.min.js*", lambda route: route.abort())
    return ctx


LOADS: list[float] = []  # seconds from goto to the cube's controls, per session that got them
NOT_LOADED = [0]  # sessions whose page never showed its controls (within the timeout)
PRESET_TIMEOUT_MS = 420_000  # a preset whose exports have not appeared by then counts as unfinished
UNFINISHED: list[str] = []  # screenshots of preset sessions that never finished
SHOTS = ROOT / "artifacts" / "screenshots"
EXCEPTIONS = [0]  # sessions whose cube page showed a Python exception at their last step


async def cube_session(browser, url: str, clicks: int, arrive: float = 0.0) -> list[float]:
    """Open the cube ``arrive`` s from now and step the selected channel; the seconds each step took."""
    await asyncio.sleep(arrive)
    ctx = await new_context(browser)
    page = await ctx.new_page()
    t_open = time.perf_counter()
    try:
        await page.goto(f"{url}/cube?norm=group", wait_until="domcontentloaded", timeout=300_000)
        await idle(page)
        await page.get_by_label(SELECTED_C).wait_for(timeout=300_000)
    except PlaywrightTimeout:  # reported, not hidden: a student who never got the page
        NOT_LOADED[0] += 1
        await ctx.close()
        return []
    LOADS.append(time.perf_counter() - t_open)
    await page.evaluate(COUNT_RUNS)
    box = page.get_by_label(SELECTED_C).locator("xpath=../..")
    # up, down, up, ...: every click changes c (stepping up only runs into the last channel)
    steps = (box.get_by_test_id("stNumberInputStepUp"), box.get_by_test_id("stNumberInputStepDown"))
    times = []
    for i in range(clicks):
        plus = steps[i % 2]
        await settled(page)
        runs = await page.evaluate("window.__nvRuns")
        t0 = time.perf_counter()
        await plus.click()
        # done = a run that ended after the click, and the app idle
        try:
            await page.wait_for_function(f"window.__nvRuns > {runs} && document.querySelector('{APP_IDLE}')",
                                         timeout=TIMEOUT_MS, polling=20)
        except PlaywrightTimeout:  # reported as a lost click, not hidden in the percentiles
            times.append(float("inf"))
            continue
        times.append(time.perf_counter() - t0)
    if await page.get_by_test_id("stException").count():
        EXCEPTIONS[0] += 1
    await ctx.close()
    return times


async def preset_session(browser, url: str, arrive: float = 0.0) -> float:
    """Open the training lab, press the BN Figure 1 preset, wait for its exports; seconds."""
    await asyncio.sleep(arrive)
    ctx = await new_context(browser)
    page = await ctx.new_page()
    await page.goto(f"{url}/training", wait_until="domcontentloaded", timeout=300_000)
    run = page.get_by_role("button", name="Run BN Figure 1")
    try:  # the app reads idle before its first run starts: wait for the button itself
        await run.wait_for(timeout=300_000)
        await idle(page)
    except PlaywrightTimeout:
        NOT_LOADED[0] += 1
        await ctx.close()
        return float("inf")
    t0 = time.perf_counter()
    await run.click()
    try:
        await page.get_by_test_id("stDownloadButton").first.wait_for(timeout=PRESET_TIMEOUT_MS)
    except PlaywrightTimeout:  # reported with a screenshot of what the student saw, not hidden
        UNFINISHED.append(str(SHOTS / f"bench_classroom_preset_unfinished_{len(UNFINISHED)}.png"))
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=UNFINISHED[-1], full_page=True)
        await ctx.close()
        return float("inf")
    took = time.perf_counter() - t0
    await ctx.close()
    return took


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


async def alone(url: str, clicks: int) -> tuple[list[float], float]:
    """One session on its own server: cube steps, then the preset."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        await cube_session(browser, url, 1)  # warm the caches
        steps = await cube_session(browser, url, clicks)
        preset = await preset_session(browser, url)
        await browser.close()
    return steps, preset


async def in_class(url: str, sessions: int, preset: int, clicks: int) -> tuple[list[float], list[float], float]:
    """All sessions at once on a fresh server (the preset is not cached yet)."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        await cube_session(browser, url, 1)  # warm the caches: the class is not the first visitor
        t0 = time.perf_counter()
        # students arrive over ARRIVE seconds (one every ARRIVE / sessions), not in the same millisecond
        gap = ARRIVE / max(sessions, 1)
        results = await asyncio.gather(
            *[cube_session(browser, url, clicks, i * gap) for i in range(sessions - preset)],
            *[preset_session(browser, url, (sessions - preset + i) * gap) for i in range(preset)])
        wall = time.perf_counter() - t0
        await browser.close()
    steps = [t for r in results if isinstance(r, list) for t in r]
    return steps, [r for r in results if isinstance(r, float)], wall


def served(fn, *args):
    """Run ``fn(url, *args)`` against a fresh app server; (its result, the server's peak RSS KiB)."""
    proc, url, _log = start_streamlit("app.py")
    mem = PeakMemory(proc.pid)
    mem.start()
    try:
        return asyncio.run(fn(url, *args)), mem.peak
    finally:
        mem.done.set()
        stop_streamlit(proc)


def class_arguments(doc: str) -> argparse.ArgumentParser:
    """The options every class bench takes (this one and bench_class_ws.py): its size and pace."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--preset", type=int, default=8)
    ap.add_argument("--clicks", type=int, default=6)
    ap.add_argument("--arrive", type=float, default=15.0, help="seconds over which the class opens its pages")
    return ap


def main() -> None:
    ap = class_arguments(__doc__)
    ap.add_argument("--draw", action="store_true", help="let every browser draw its charts (software WebGL)")
    args = ap.parse_args()
    global DRAW, ARRIVE
    DRAW, ARRIVE = args.draw, args.arrive
    (steps_alone, preset_alone), _ = served(alone, args.clicks)
    loads_alone = list(LOADS)
    LOADS.clear()
    (steps, presets, wall), peak = served(in_class, args.sessions, args.preset, args.clicks)
    lost = sum(t == float("inf") for t in steps_alone + steps)
    steps_alone, steps = [t for t in steps_alone if t < float("inf")], [t for t in steps if t < float("inf")]
    a50, a95 = statistics.median(steps_alone), pct(steps_alone, 0.95)
    c50, c95 = statistics.median(steps), pct(steps, 0.95)
    print(f"cube step, one session:          p50 {a50:.2f} s, p95 {a95:.2f} s ({len(steps_alone)} clicks)")
    print(f"cube step, {args.sessions} sessions at once: p50 {c50:.2f} s, p95 {c95:.2f} s "
          f"({len(steps)} clicks, {args.preset} of the sessions training)")
    print(f"ratio class / alone:             p50 {c50 / a50:.2f}x, p95 {c95 / a95:.2f}x (goal <= 2x)")
    print(f"preset sessions with no exports within {PRESET_TIMEOUT_MS / 1000:.0f} s: {len(UNFINISHED)} {UNFINISHED}")
    presets = [t for t in presets if t < float("inf")]
    if presets:
        print(f"BN Figure 1 preset: one session {preset_alone:.1f} s; {args.preset} sessions at once: "
              f"median {statistics.median(presets):.1f} s, max {max(presets):.1f} s "
              f"(ratio {max(presets) / preset_alone:.2f}x)")
    print(f"cube page load (goto to controls): alone median {statistics.median(loads_alone):.1f} s; in class "
          f"median {statistics.median(LOADS):.1f} s, max {max(LOADS):.1f} s over {len(LOADS)} sessions "
          f"arriving over {ARRIVE:.0f} s; pages that never loaded: {NOT_LOADED[0]}")
    print(f"cube sessions showing an exception after their clicks: {EXCEPTIONS[0]}")
    print(f"clicks with no finished run within {TIMEOUT_MS / 1000:.0f} s (lost): {lost}")
    print("browsers drew their charts" if DRAW else "browsers did not draw charts (plotly.js refused; see the docstring)")
    print(f"whole class wall time {wall:.1f} s; server peak RSS (app + workers) {peak / 1024:.0f} MiB")

if __name__ == "__main__":
    main()
