"""Benchmark ``normviz.norms.normalize`` against torch and a memory-bandwidth bound.

Shaped like nanoGPT's bench.py: fixed seed, burn-in runs, timed repeats, medians. Each
contender runs once per repeat, in turn, so a noisy neighbour slows all of them alike.

Contenders, on the same N×C×H×W float32 array (default 8×3×1024×1024, 100 MB):

* ``numpy``    ``normalize(x, norm)`` (numpy is single-threaded);
* ``torch``    the functional op (F.batch_norm training=True without running stats,
               F.layer_norm over (C, H, W), F.instance_norm, F.group_norm, F.rms_norm) with
               torch's default number of threads;
* ``torch-1``  the same op after ``torch.set_num_threads(1)``;
* ``bound``    the three-pass bandwidth bound, measured in the same run:
               ``bound = 2·t(x.sum()) + t(np.multiply(x, 1.0, out=out))``,
               i.e. two full read passes (what the two-pass moments cost at best) plus one
               read-and-write pass into a preallocated array (what applying the affine map
               costs at best). A normalizer that reads x three times and writes the result once
               cannot beat it; the output allocation (page faults) is not included, but
               ``alloc`` (a read/write pass into a fresh array minus one into a reused array:
               the kernel zeroing new pages) is printed next to it, because every contender,
               torch included, pays it on every call.

Wall-clock medians are what a user sees but depend on the machine's load; the second table gives
the calling thread's CPU time (``time.thread_time``) for the single-threaded contenders, which a
busy neighbour disturbs much less. Ratios are numpy / contender: < 1 means numpy is faster. Run: ``python bench/bench_normalize.py``
(``--shape 8,3,256,256 --repeats 5`` for a quick look).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere, no install
from normviz.norms import normalize  # noqa: E402

EPS = 1e-5
NORMS = {  # key -> (normalize kwargs, torch op)
    "batch": ({}, lambda t: F.batch_norm(t, None, None, training=True, eps=EPS)),
    "layer": ({}, lambda t: F.layer_norm(t, t.shape[1:], eps=EPS)),
    "instance": ({}, lambda t: F.instance_norm(t, eps=EPS)),
    "group": ({"groups": 3}, lambda t: F.group_norm(t, 3, eps=EPS)),
    "rms": ({}, lambda t: F.rms_norm(t, t.shape[1:], eps=EPS)),
}


def run_round(fns: dict, repeats: int, burn_in: int) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall and thread-CPU milliseconds of each function; one call of each per repeat, in turn."""
    wall: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    for r in range(burn_in + repeats):
        for name, fn in fns.items():
            t0, c0 = time.perf_counter(), time.thread_time()
            fn()
            dt, dc = (time.perf_counter() - t0) * 1e3, (time.thread_time() - c0) * 1e3
            if r >= burn_in:
                wall[name].append(dt)
                cpu[name].append(dc)
    return ({k: statistics.median(v) for k, v in wall.items()},
            {k: statistics.median(v) for k, v in cpu.items()})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", default="8,3,1024,1024")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--burn-in", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--norms", default=",".join(NORMS))
    args = ap.parse_args()

    shape = tuple(int(s) for s in args.shape.split(","))
    rng = np.random.default_rng(args.seed)
    # A non-zero mean per channel, as real activations have.
    x = (rng.standard_normal(shape, dtype=np.float32) * 2.0
         + rng.normal(0.5, 1.0, size=(1, shape[1], 1, 1)).astype(np.float32))
    t = torch.from_numpy(x)  # shares memory with x
    out = np.empty_like(x)
    threads = torch.get_num_threads()

    def torch_1(op):
        def fn():
            torch.set_num_threads(1)
            try:
                op(t)
            finally:
                torch.set_num_threads(threads)
        return fn

    print(f"normalize on {'×'.join(map(str, shape))} float32 ({x.nbytes / 2**20:.0f} MiB); "
          f"numpy {np.__version__}, torch {torch.__version__} ({threads} threads by default); "
          f"median of {args.repeats} after {args.burn_in} burn-in; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    bound_parts, bound_cpu = run_round({"read": lambda: x.sum(), "copy": lambda: np.multiply(x, 1.0, out=out),
                                        "fresh": lambda: np.multiply(x, 1.0)}, args.repeats, args.burn_in)
    bound = 2 * bound_parts["read"] + bound_parts["copy"]
    bound_c = 2 * bound_cpu["read"] + bound_cpu["copy"]
    print(f"bandwidth bound: 2 × read pass {bound_parts['read']:.1f} ms + read/write pass "
          f"{bound_parts['copy']:.1f} ms = {bound:.1f} ms (thread CPU {bound_c:.1f} ms); "
          f"output allocation adds {bound_parts['fresh'] - bound_parts['copy']:.1f} ms "
          f"(thread CPU {bound_cpu['fresh'] - bound_cpu['copy']:.1f} ms)\n")

    header = (f"{'norm':<9} {'numpy ms':>9} {'torch ms':>9} {'torch-1 ms':>10} {'bound ms':>9}"
              f" {'np/torch':>9} {'np/torch-1':>10} {'np/bound':>9} {'max|Δ|':>9}")
    print(header)
    print("-" * len(header))
    cpu_rows = []
    for key in args.norms.split(","):
        kw, op = NORMS[key]
        with torch.no_grad():
            ms, cpu = run_round({"numpy": lambda: normalize(x, key, **kw), "torch": lambda: op(t),
                                 "torch-1": torch_1(op)}, args.repeats, args.burn_in)
            diff = float(np.abs(normalize(x, key, **kw) - op(t).numpy()).max())
        print(f"{key:<9} {ms['numpy']:9.1f} {ms['torch']:9.1f} {ms['torch-1']:10.1f} {bound:9.1f}"
              f" {ms['numpy'] / ms['torch']:8.2f}× {ms['numpy'] / ms['torch-1']:9.2f}×"
              f" {ms['numpy'] / bound:8.2f}× {diff:9.1e}")
        cpu_rows.append((key, cpu))

    print(f"\nthread CPU time (single-threaded contenders; bound {bound_c:.1f} ms)")
    header = f"{'norm':<9} {'numpy ms':>9} {'torch-1 ms':>10} {'np/torch-1':>10} {'np/bound':>9}"
    print(header)
    print("-" * len(header))
    for key, cpu in cpu_rows:
        print(f"{key:<9} {cpu['numpy']:9.1f} {cpu['torch-1']:10.1f} {cpu['numpy'] / cpu['torch-1']:9.2f}×"
              f" {cpu['numpy'] / bound_c:8.2f}×")


if __name__ == "__main__":
    main()
