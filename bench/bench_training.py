"""Training lab: the cost of instrumentation, and the BN Figure 1 preset's wall time.

1. Instrumentation overhead: the same config trained with snapshots at the default
   ``log_every`` (``train(cfg)``) and without any (``train(cfg, instrument=False)``: the same
   loop, one snapshot at the end), interleaved in one run after a burn-in; medians and their
   ratio (target <= 1.15x, design.md §5). MLP with and without BN, and the CNN with GN.
2. The BN Figure 1 preset (none and BN, MLP 3×100 sigmoid, batch 60, lr 0.5, 3000 steps each,
   fully instrumented): wall seconds for the two runs (target: seconds, not minutes).

Run: .venv/bin/python bench/bench_training.py [--reps 5] [--steps 1000]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from normviz.training import TrainConfig, train  # noqa: E402


def timed(cfg: TrainConfig, instrument: bool) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one run."""
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in train(cfg, instrument=instrument):
        pass
    return time.perf_counter() - t0, time.process_time() - c0


def overhead(cfg: TrainConfig, reps: int) -> dict:
    """Instrumented vs uninstrumented, interleaved. On a shared machine wall time is noisy, so
    the minimum over repetitions is reported, for wall time and for CPU time (the runs use one
    thread, so CPU time is the work done, whatever else the machine runs)."""
    timed(cfg.replace(steps=100), True)  # burn-in: imports, data, allocator
    on, off = [], []
    for _ in range(reps):  # interleaved, so load changes hit both alike
        off.append(timed(cfg, False))
        on.append(timed(cfg, True))
    res = {}
    for i, kind in enumerate(("wall", "cpu")):
        a, b = min(t[i] for t in on), min(t[i] for t in off)
        res[kind] = (a, b, a / b)
    res["wall_median_ratio"] = statistics.median(t[0] for t in on) / statistics.median(t[0] for t in off)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--steps", type=int, default=1000)
    args = ap.parse_args(argv)
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    print(f"# bench_training: {os.cpu_count()} CPUs, load average {load:.1f}")
    cases = [("MLP, no norm", TrainConfig(norm="none", steps=args.steps)),
             ("MLP, BatchNorm", TrainConfig(norm="batch", steps=args.steps)),
             ("CNN, GroupNorm", TrainConfig(model="cnn", norm="group", init_std=None, lr=0.1, momentum=0.9,
                                            steps=args.steps // 2))]
    default_every = TrainConfig().log_every
    for name, cfg in cases:
        r = overhead(cfg, args.reps)
        (wa, wb, wr), (ca, cb, cr) = r["wall"], r["cpu"]
        print(f"instrumentation  {name:30s} {cfg.steps:5d} steps, log_every {cfg.log_every:3d}: "
              f"CPU {ca:5.2f} s vs {cb:5.2f} s = {cr:.3f}x; wall (min) {wa:5.2f} s vs {wb:5.2f} s = {wr:.3f}x; "
              f"wall (median) {r['wall_median_ratio']:.3f}x "
              f"(target <= 1.15x{' at the default log_every ' + str(default_every) if cfg.log_every == default_every else ''})")
    t0 = time.perf_counter()
    finals = {}
    for norm in ("none", "batch"):
        for snap in train(TrainConfig(norm=norm)):
            pass
        finals[norm] = snap.test_acc
    total = time.perf_counter() - t0
    print(f"BN Figure 1 preset (2 runs x 3000 steps, instrumented): {total:.1f} s "
          f"(final test accuracy none {finals['none']:.3f}, BN {finals['batch']:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
