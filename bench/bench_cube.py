"""Cube page: figure bytes for the default shape, and the rerun round trip in Chromium.

1. Bytes of the figures the page sends for the default state (the 3D cube must stay <= ~150 KB,
   design.md §5), and the time to build them (ms, median), also for the largest shape.
2. Rerun round trip: in one run, a trivial Streamlit app (a selectbox and a number input that
   echo their value) and the cube page are served side by side; for each repetition we time
   from the widget change to the changed content being on screen with the script idle:
     norm:      type a new norm into the "Norm" selectbox + Enter, until the summary sentence
                names it (trivial: a selectbox, until its echo shows the new value);
     selection: click "+" of "selected w", until the URL holds the new w (trivial: "+" of a
                number input, until its echo changes).
   Reported as medians and cube/trivial ratios (target <= 1.3x). The in-figure LN|GN|IN|BN
   buttons need no round trip at all (tests/test_cube_browser.py checks that no request is made).

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
NORM_CYCLE = [("LayerNorm", "LayerNorm pools"), ("InstanceNorm", "InstanceNorm pools"),
              ("BatchNorm", "BatchNorm pools"), ("GroupNorm", "GroupNorm (G = 2) pools")]
TRIVIAL_CYCLE = [("beta", "echo beta"), ("gamma", "echo gamma"), ("delta", "echo delta"), ("alpha", "echo alpha")]


def figure_bytes() -> None:
    from normviz.cube import cube_figure, small_multiples_figure, unfolded_figure
    from normviz.cube_numbers import CubeSpec, make_data
    from normviz.state import CubeState

    s, _ = CubeState.from_query({})
    for label, spec in (("default", CubeSpec(norm=s.norm, shape=s.shape, index=s.index, groups=s.G)),
                        ("largest 8×32×16×16", CubeSpec(norm="group", shape=(8, 32, 16, 16), groups=4))):
        x = make_data(spec.shape)
        for name, build in (("cube 3D", lambda: cube_figure(spec, x)), ("unfolded", lambda: unfolded_figure(spec, x)),
                            ("small multiples", lambda: small_multiples_figure(spec))):
            build()
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                fig = build()
                times.append(time.perf_counter() - t0)
            size = len(fig.to_json().encode())
            print(f"{label:20s} {name:16s} {size / 1024:7.1f} KB  build {statistics.median(times) * 1e3:6.1f} ms"
                  + ("   (target <= 150 KB)" if name == "cube 3D" and label == "default" else ""))


def wait_text(page, text: str, timeout: float = 30000) -> None:
    page.wait_for_function("t => document.body.innerText.includes(t)", arg=text, timeout=timeout, polling="raf")
    page.locator(IDLE).wait_for(state="attached", timeout=timeout)


def change_select(page, label: str, option: str, expect: str) -> float:
    box = page.get_by_label(label, exact=True)
    box.click()
    box.fill(option)
    t0 = time.perf_counter()
    box.press("Enter")
    wait_text(page, expect)
    return time.perf_counter() - t0


def step_up(page, label: str, until) -> float:
    button = page.locator('[data-testid="stNumberInput"]', has_text=label).get_by_test_id("stNumberInputStepUp")
    t0 = time.perf_counter()
    button.click()
    until()
    return time.perf_counter() - t0


def settle(page) -> None:
    page.locator(IDLE).wait_for(state="attached", timeout=30000)
    page.wait_for_timeout(300)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=8)
    args = ap.parse_args()
    figure_bytes()

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        trivial = Path(tmp) / "trivial_app.py"
        trivial.write_text(TRIVIAL)
        p_app, url_app, _ = start_streamlit("app.py", cwd=ROOT)
        p_triv, url_triv, _ = start_streamlit(trivial, cwd=ROOT)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                ctx = browser.new_context(viewport={"width": 1280, "height": 800})
                cube, triv = ctx.new_page(), ctx.new_page()
                cube.goto(url_app)  # the root first: the server then routes /cube through app.py
                settle(cube)
                cube.goto(url_app + "/cube")
                wait_text(cube, "GroupNorm (G = 2) pools")
                triv.goto(url_triv)
                wait_text(triv, "echo alpha 0")
                res = {k: [] for k in ("cube norm", "trivial norm", "cube selection", "trivial selection")}
                for i in range(args.reps):
                    opt, expect = NORM_CYCLE[i % len(NORM_CYCLE)]
                    settle(cube)
                    res["cube norm"].append(change_select(cube, "Norm", opt, expect))
                    opt, expect = TRIVIAL_CYCLE[i % len(TRIVIAL_CYCLE)]
                    settle(triv)
                    res["trivial norm"].append(change_select(triv, "Norm", opt, expect))
                    settle(cube)
                    w = i % 3 + 1 if i % 4 != 3 else None
                    target = f"w={(i % 4) + 1}" if (i % 4) + 1 <= 3 else None
                    if target is None:  # back to w = 0 with the minus buttons, untimed
                        for _ in range(3):
                            cube.locator('[data-testid="stNumberInput"]', has_text="selected w") \
                                .get_by_test_id("stNumberInputStepDown").click()
                            settle(cube)
                        target = "w=1"
                    res["cube selection"].append(step_up(
                        cube, "selected w",
                        lambda t=target: (cube.wait_for_function("t => location.search.includes(t)", arg=t,
                                                                 timeout=30000, polling="raf"),
                                          cube.locator(IDLE).wait_for(state="attached"))))
                    del w
                    settle(triv)
                    before = triv.locator("text=/echo /").inner_text()
                    res["trivial selection"].append(step_up(
                        triv, "selected w",
                        lambda b=before: (triv.wait_for_function(
                            "b => ![...document.querySelectorAll('[data-testid=stMarkdown]')]"
                            ".some(e => e.innerText === b)", arg=b, timeout=30000, polling="raf"),
                            triv.locator(IDLE).wait_for(state="attached"))))
                browser.close()
        finally:
            stop_streamlit(p_app)
            stop_streamlit(p_triv)

    med = {k: statistics.median(v) for k, v in res.items()}
    for k, v in res.items():
        print(f"{k:18s} median {med[k] * 1e3:6.0f} ms   runs: " + ", ".join(f"{x * 1e3:.0f}" for x in v))
    for what in ("norm", "selection"):
        print(f"ratio cube/trivial rerun after a {what} change: {med['cube ' + what] / med['trivial ' + what]:.2f}x "
              f"(target <= 1.3x; {args.reps} reps, medians, same run)")


if __name__ == "__main__":
    main()
