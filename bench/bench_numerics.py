"""What portable numerics cost: seconds per training step, portable vs native, same machine.

Each (model, mode) is timed in its own fresh interpreter (torch fixes its kernels at start-up),
the two modes alternating over ``ROUNDS`` rounds so that a change in machine load hits both
sides; the ratio is portable / native of the median step time.

    python bench/bench_numerics.py
"""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from normviz.numerics import cpu_isa, run_fresh  # noqa: E402

ROUNDS = 3
CASES = {
    "MLP 3×100 sigmoid, BN (BN Figure 1)": dict(norm="batch"),
    "MLP 2×128 ReLU, GN (GN sweep cell)": dict(norm="group", activation="relu", hidden=128, depth=2, groups=8,
                                               init_std=None, momentum=0.9, lr=0.05, batch_size=64),
    "CNN 3 conv ×16, BN": dict(model="cnn", norm="batch", momentum=0.9, lr=0.05, batch_size=32, init_std=None),
    "CNN 3 conv ×16, IN": dict(model="cnn", norm="instance", momentum=0.9, lr=0.05, batch_size=32, init_std=None),
}


def seconds_per_step(config: dict, steps: int = 300) -> float:
    """Mean wall seconds of a training step after a 30-step warm-up (no snapshots)."""
    import time

    from normviz.training import TrainConfig, final_snapshot

    final_snapshot(TrainConfig(**config, steps=30, log_every=30))
    t0 = time.perf_counter()
    final_snapshot(TrainConfig(**config, steps=steps, log_every=steps))
    return (time.perf_counter() - t0) / steps


def main() -> int:
    print(f"bench_numerics: {cpu_isa()} CPU, {ROUNDS} rounds, portable / native seconds per step")
    for name, config in CASES.items():
        times = {"native": [], "portable": []}
        for _ in range(ROUNDS):
            for mode in times:
                times[mode].append(run_fresh("bench.bench_numerics:seconds_per_step", mode, config=config))
        nat, por = statistics.median(times["native"]), statistics.median(times["portable"])
        spread = max(times["portable"]) / min(times["portable"]), max(times["native"]) / min(times["native"])
        print(f"  {name:40s} native {1e3 * nat:6.2f} ms  portable {1e3 * por:6.2f} ms  "
              f"ratio {por / nat:4.2f}×  (max/min over rounds: {spread[1]:.2f}, {spread[0]:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
