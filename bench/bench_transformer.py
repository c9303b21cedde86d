"""Transformer lab: a training step of the default model, the instrumentation overhead, the Quick preset.

1. Step time: seconds per training step (forward, backward, Adam) of the default model (2 blocks,
   d_model 32, 2 heads, batch 64, 8 tokens) under each norm, interleaved rounds on one thread;
   medians and ratios to no norm in the same process (``normviz.transformer.study.time_steps``).
2. Instrumentation overhead: the default config trained with snapshots every ``log_every`` = 20
   steps (the page's setting) vs one snapshot at the start and one at the end
   (``log_every = steps``), interleaved; minimum and median ratios, wall and CPU (target ≤ 1.15×).
3. The Quick preset's three runs one after another, instrumented (target: ≤ 15 s on 2 cores, where
   the page's two workers run them two at a time).

Run: .venv/bin/python bench/bench_transformer.py [--reps 5]
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

from normviz.transformer import PRESETS, TransformerConfig  # noqa: E402
from normviz.transformer.config import PRESET_STEPS  # noqa: E402
from normviz.transformer.study import time_steps  # noqa: E402
from normviz.transformer.train import train  # noqa: E402


def timed(cfg: TransformerConfig) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in train(cfg):
        pass
    return time.perf_counter() - t0, time.process_time() - c0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args(argv)
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    print(f"load average at start: {load:.2f}")
    base = TransformerConfig()

    norms = ["none", "layer", "rms", "dyt"]
    sec = time_steps({n: base.replace(norm=n) for n in norms}, repeats=args.reps, steps=50)
    none = statistics.median(sec["none"])
    print("\n1. seconds per training step (median of interleaved rounds), ratio to no norm")
    for n in norms:
        m = statistics.median(sec[n])
        print(f"   {n:6s} {m * 1e3:7.3f} ms   {m / none:5.2f}×   rounds {min(sec[n]) * 1e3:.3f}–{max(sec[n]) * 1e3:.3f} ms")

    print(f"\n2. instrumentation overhead, {base.steps} steps, snapshots every {base.log_every} vs start and end only")
    timed(base.replace(steps=50))  # burn-in
    on, off = [], []
    for _ in range(args.reps):
        off.append(timed(base.replace(log_every=base.steps)))
        on.append(timed(base))
    for i, kind in enumerate(("wall", "cpu")):
        a, b = min(t[i] for t in on), min(t[i] for t in off)
        print(f"   {kind}: instrumented {a:.2f} s, bare {b:.2f} s, ratio of minima {a / b:.3f}×")
    print(f"   ratio of wall medians {statistics.median(t[0] for t in on) / statistics.median(t[0] for t in off):.3f}× "
          "(target ≤ 1.15×)")

    print(f"\n3. Quick preset ({PRESET_STEPS['quick']} steps), its runs one after another")
    total, total_cpu = 0.0, 0.0
    for r in PRESETS["quick"][1]:
        w, c = timed(base.replace(**r, steps=PRESET_STEPS["quick"]))
        total, total_cpu = total + w, total_cpu + c
        print(f"   {base.replace(**r).label():40s} wall {w:.2f} s, CPU {c:.2f} s")
    print(f"   total wall {total:.2f} s, CPU {total_cpu:.2f} s, one after another (the page runs them in two "
          "workers; CPU time is the work whatever else the machine runs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
