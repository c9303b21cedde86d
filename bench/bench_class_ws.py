"""A class on one server, measured without browsers: websocket sessions against one app process.

    .venv/bin/python bench/bench_class_ws.py [--sessions 30] [--preset 8] [--clicks 6] [--arrive 15]

bench_classroom.py drives 30 headless Chromium contexts; on a 2-core machine those browsers are
most of the load, so the server never gets the cores a real class's server has (the students'
machines run their own browsers). Here each session is a :class:`ws_session.WsSession`: the
websocket protocol a tab speaks (rerun requests with widget values, the server's deltas back),
so the server does all of its work (scripts, figures, payloads, training) and the load generator
almost none.

A session follows lesson 1 on the cube (GroupNorm): open the page, then change "selected c"
``--clicks`` times (up, down, up, ...: every change is a rerun that redraws the set, numbers and
formula), ``--think`` seconds apart (0: the next change as soon as the last one returned, a
saturation test; a class reads and talks between clicks). Latency is the change → the server's "script finished" (the page's content has been
sent). ``--preset`` of the sessions open the training lab instead and press "Run BN Figure 1",
then poll the page's run_every fragment as a tab does until the run's exports are there.

Two fresh servers: one session alone (after one warm-up visit), then the class arriving over
``--arrive`` seconds (after the same warm-up; the preset is not cached). Printed: p50/p95 step
latency alone and in class and their ratio (goal ≤ 2×), the preset's time alone and for each
class member, page-open times, exceptions seen, and the server's peak resident memory.
Nothing here asserts a time.
"""
from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_classroom import class_arguments, pct, served  # noqa: E402
from ws_session import WsSession  # noqa: E402

SELECTED_C = "selected c"
PRESET = "Run BN Figure 1"
PRESET_TIMEOUT = 900.0  # seconds; a preset with no exports by then counts as unfinished
EXCEPTIONS: list[str] = []
OPENS: list[float] = []


async def cube_session(url: str, clicks: int, arrive: float = 0.0, think: float = 0.0) -> list[float]:
    """Open the cube ``arrive`` s from now and change the selected channel, ``think`` s apart;
    seconds per change."""
    await asyncio.sleep(arrive)
    s = WsSession(url)
    OPENS.append(await s.open("cube", "norm=group"))
    times = []
    for i in range(clicks):
        await asyncio.sleep(think)  # a student reads the answer before the next change
        s.set(SELECTED_C, 1 if i % 2 == 0 else 0)
        times.append(await s.rerun())
    EXCEPTIONS.extend(s.exceptions)
    await s.close()
    return times


async def preset_session(url: str, arrive: float = 0.0) -> float:
    """Open the training lab, press the BN Figure 1 preset, poll until its exports; seconds."""
    await asyncio.sleep(arrive)
    s = WsSession(url)
    OPENS.append(await s.open("training"))
    s.press(PRESET)
    t0 = time.perf_counter()
    await s.rerun()
    try:
        await s.poll_until(lambda s: "download_button" in s.kinds, timeout=PRESET_TIMEOUT)
    except TimeoutError:
        return float("inf")
    finally:
        EXCEPTIONS.extend(s.exceptions)
        await s.close()
    return time.perf_counter() - t0


async def alone(url: str, clicks: int, think: float) -> tuple[list[float], float]:
    await cube_session(url, 1)  # warm the caches
    steps = await cube_session(url, clicks, think=think)
    return steps, await preset_session(url)


async def in_class(url: str, sessions: int, preset: int, clicks: int, arrive: float, think: float):
    await cube_session(url, 1)  # the class is not the server's first visitor
    gap = arrive / max(sessions, 1)
    t0 = time.perf_counter()
    results = await asyncio.gather(*[cube_session(url, clicks, i * gap, think) for i in range(sessions - preset)],
                                   *[preset_session(url, (sessions - preset + i) * gap) for i in range(preset)])
    wall = time.perf_counter() - t0
    return [t for r in results if isinstance(r, list) for t in r], [r for r in results if isinstance(r, float)], wall


def main() -> None:
    ap = class_arguments(__doc__)
    ap.add_argument("--think", type=float, default=0.0,
                    help="seconds a session waits between changes (0: every change as soon as the last returns)")
    args = ap.parse_args()
    (steps_alone, preset_alone), peak_alone = served(alone, args.clicks, args.think)
    opens_alone = OPENS[1:]  # not the warm-up
    OPENS.clear()
    (steps, presets, wall), peak = served(in_class, args.sessions, args.preset, args.clicks, args.arrive, args.think)
    a50, a95 = statistics.median(steps_alone), pct(steps_alone, 0.95)
    c50, c95 = statistics.median(steps), pct(steps, 0.95)
    print(f"cube step, one session:            p50 {a50 * 1000:.0f} ms, p95 {a95 * 1000:.0f} ms "
          f"({len(steps_alone)} changes)")
    print(f"cube step, {args.sessions} sessions ({args.preset} training, {args.think:g} s between changes): p50 {c50 * 1000:.0f} ms, "
          f"p95 {c95 * 1000:.0f} ms ({len(steps)} changes)")
    print(f"ratio class / alone:               p50 {c50 / a50:.2f}x, p95 {c95 / a95:.2f}x (goal <= 2x)")
    done = [t for t in presets if t < float("inf")]
    print(f"BN Figure 1 preset: alone {preset_alone:.1f} s; in class median "
          f"{statistics.median(done) if done else float('nan'):.1f} s, max {max(done) if done else float('nan'):.1f} s "
          f"({len(done)} of {len(presets)} finished within {PRESET_TIMEOUT:.0f} s; "
          f"max/alone {max(done) / preset_alone if done else float('nan'):.2f}x)")
    print(f"page open (first run): alone median {statistics.median(opens_alone):.2f} s; in class median "
          f"{statistics.median(OPENS[1:]):.2f} s, max {max(OPENS[1:]):.2f} s, arriving over {args.arrive:.0f} s")
    print(f"exceptions seen by any session: {len(EXCEPTIONS)} {EXCEPTIONS[:3]}")
    print(f"class wall time {wall:.1f} s; server peak RSS (app + workers): alone {peak_alone / 1024:.0f} MiB, "
          f"class {peak / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
