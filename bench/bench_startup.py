"""Cold start to first render: the home page (and the cube page) vs a one-line Streamlit app.

For each repetition (alternating the two apps) a fresh `streamlit run` server is started
and a fresh Chromium context opens it; we time
  serve:  process start -> /_stcore/health answers "ok"
  render: navigation -> script finished (data-test-script-state="notRunning") and the
          page's last element visible (home: the norms table; trivial: "hello")
and report medians and the page/trivial ratios (target <= 1.3x, design.md §5). The cube
page (ready = its plotly chart) is measured too once app.py lists app_pages/cube.py.
Also times `python -c "import normviz"` against `python -c "pass"` and checks that it
imports no torch, sklearn or streamlit.

Run: .venv/bin/python bench/bench_startup.py [--reps 5]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import CHROMIUM, CHROMIUM_ARGS, start_streamlit, stop_streamlit  # noqa: E402

IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
HEAVY = ("torch", "sklearn", "streamlit")


def time_first_render(browser, url: str, ready: str) -> float:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.locator(ready).first.wait_for(state="visible", timeout=60000)
    page.locator(IDLE).wait_for(state="attached", timeout=60000)
    dt = time.perf_counter() - t0
    assert page.locator('[data-testid="stException"]').count() == 0, f"exception on {url}"
    context.close()
    return dt


def one_cold_start(browser, script: Path, ready: str, path: str = "") -> tuple[float, float]:
    t0 = time.perf_counter()
    proc, url, _log = start_streamlit(script, cwd=ROOT)  # same .streamlit/config.toml
    serve = time.perf_counter() - t0
    try:
        render = time_first_render(browser, url + path, ready)
    finally:
        stop_streamlit(proc)
    return serve, render


def import_time(code: str, reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()

    # 1. import normviz stays light.
    probe = ("import json, sys, normviz, normviz.norms; "
             f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))")
    heavy = json.loads(subprocess.run([sys.executable, "-c", probe], cwd=ROOT, check=True,
                                      capture_output=True, text=True).stdout)
    t_pass = import_time("pass", args.reps)
    t_nv = import_time("import normviz", args.reps)
    print(f"python -c 'import normviz': {t_nv * 1e3:.0f} ms vs 'pass' {t_pass * 1e3:.0f} ms "
          f"(+{(t_nv - t_pass) * 1e3:.0f} ms); heavy modules imported: {heavy or 'none'}")
    assert not heavy, f"import normviz pulled in {heavy}"

    # 2. cold start, alternating home and trivial.
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        trivial = Path(tmp) / "hello_app.py"
        trivial.write_text('import streamlit as st\nst.write("hello")\n')
        apps = {"home": (ROOT / "app.py", "table", ""), "trivial": (trivial, "text=hello", "")}
        if "app_pages/cube.py" in (ROOT / "app.py").read_text():
            apps["cube"] = (ROOT / "app.py", ".live-chart .main-svg", "/cube")
        res = {name: {"serve": [], "render": []} for name in apps}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            one_cold_start(browser, *apps["trivial"])  # warm the OS file cache once
            for _ in range(args.reps):
                for name, (script, ready, path) in apps.items():
                    serve, render = one_cold_start(browser, script, ready, path)
                    res[name]["serve"].append(serve)
                    res[name]["render"].append(render)
            browser.close()

    med = {n: {k: statistics.median(v) for k, v in r.items()} for n, r in res.items()}
    for n in apps:
        m = med[n]
        print(f"{n:8s} serve {m['serve']:.2f} s  first render {m['render']:.2f} s  "
              f"total {m['serve'] + m['render']:.2f} s   (render runs: "
              + ", ".join(f"{x:.2f}" for x in res[n]["render"]) + ")")
    t = med["trivial"]
    for n in apps:
        if n == "trivial":
            continue
        h = med[n]
        r_render = h["render"] / t["render"]
        r_total = (h["serve"] + h["render"]) / (t["serve"] + t["render"])
        print(f"ratio {n}/trivial: first render {r_render:.2f}x, serve+render {r_total:.2f}x "
              f"(target <= 1.3x; {args.reps} cold starts each, medians)")

if __name__ == "__main__":
    main()
