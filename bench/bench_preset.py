"""BN Figure 1 preset: the page's time vs the library's, and 8 sessions pressing it vs one.

1. Page vs library. The page (AppTest of app_pages/training_lab.py, no browser): press "Run BN
   Figure 1" and let the page tick (each tick polls the TrainingService, as the live fragment
   does) until both runs have ended. The library: the same two TrainConfigs (taken from the
   page's own session state, so they are the configs the page ran) trained with
   ``normviz.training.train`` in this process, one after the other, in portable numerics as the
   service's workers run them. Each rep uses a new seed (a new run key: the service computes it,
   never serves it from its cache). Medians and the ratio page/library (target <= 1.3x).
2. 8 sessions vs 1: a fresh TrainingService; 8 owners (threads) submit the preset's two runs at
   the same moment and poll every 0.1 s until done, vs one owner on another fresh service.
   Identical configs are keyed once, so the 8 join the same two runs. Wall time until the last
   owner sees both runs done; ratio 8/1 (target <= 1.5x).

The preset fixes its runs (3000 steps each); every part of the bench trains those configs.

Run: nice .venv/bin/python bench/bench_preset.py [--reps 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from normviz.numerics import use_portable  # noqa: E402

use_portable()  # before torch: the library side runs the kernels the workers run

from normviz.training import TrainConfig, jobs, train  # noqa: E402
from normviz.training.service import TrainingService  # noqa: E402

PAGE = str(ROOT / "app_pages" / "training_lab.py")


def page_run(seed: int) -> tuple[float, list[TrainConfig]]:
    """Seconds from the preset button to both runs ended, through the page; the configs it ran."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["seed"] = str(seed)
    at.run()
    t0 = time.perf_counter()
    at.button(key="training:preset_bn").click().run()
    while at.session_state["training:running"]:
        time.sleep(0.1)
        at.run()
    seconds = time.perf_counter() - t0
    assert not at.exception, at.exception
    runs = at.session_state["training:runs"]
    assert all(j.status == "done" for j in runs), [(j.status, j.message) for j in runs]
    return seconds, [j.config for j in runs]


def library_run(configs: list[TrainConfig]) -> float:
    t0 = time.perf_counter()
    for cfg in configs:
        for _ in train(cfg):
            pass
    return time.perf_counter() - t0


def sessions(n: int, configs: list[TrainConfig]) -> float:
    """Wall seconds until each of ``n`` owners, submitting together, sees both runs done."""
    service = TrainingService()
    start, ends = threading.Barrier(n + 1), []

    def owner(name: str) -> None:
        start.wait()
        tickets = [service.submit(jobs.TARGET, {"config": c.to_dict()}, owner=name) for c in configs]
        # view every ticket on every poll, as the page does: a ticket not viewed for ttl is released
        while any([service.view(t).status in ("queued", "running") for t in tickets]):
            time.sleep(0.1)
        statuses = [(service.view(t).status, service.view(t).message) for t in tickets]
        assert all(s == "done" for s, _ in statuses), statuses
        ends.append(time.perf_counter())

    threads = [threading.Thread(target=owner, args=(f"session-{i}",)) for i in range(n)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    service.close()
    assert len(ends) == n
    return max(ends) - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    res = {"page": [], "library": [], "1 session": [], "8 sessions": []}
    for rep in range(args.reps):
        seconds, configs = page_run(100 + rep)
        res["page"].append(seconds)
        res["library"].append(library_run(configs))
        print(f"rep {rep}: page {seconds:.2f} s, library {res['library'][-1]:.2f} s", flush=True)
        # new seeds again, so neither service has the runs cached
        fresh = [c.replace(seed=200 + rep) for c in configs]
        res["1 session"].append(sessions(1, fresh))
        res["8 sessions"].append(sessions(8, [c.replace(seed=300 + rep) for c in configs]))
        print(f"rep {rep}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in res.items()), flush=True)
    med = {k: statistics.median(v) for k, v in res.items()}
    print(f"BN Figure 1 preset ({configs[0].steps} steps x 2 runs, {args.reps} reps, medians): page {med['page']:.2f} s, "
          f"library in this process {med['library']:.2f} s -> page/library {med['page'] / med['library']:.2f}x "
          f"(target <= 1.3x)")
    print(f"8 sessions pressing it together {med['8 sessions']:.2f} s vs 1 session {med['1 session']:.2f} s -> "
          f"{med['8 sessions'] / med['1 session']:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
