"""Measure how training numbers move across CPU kernel paths: the data behind the tolerances.

Runs the same cells under several numerics settings, each in a fresh interpreter (torch fixes
its kernels when it starts), and writes ``data/numerics_spread.json``:

- ``traces``: the loss of each of the first 30 steps of three runs (a BN and a GN cell of the
  GN batch-size sweep, and the image CNN with InstanceNorm), per setting. How far these drift
  apart between kernel paths, against how far a deliberate bug moves them, sets the tolerance
  of the native-mode test (tests/test_reproducibility.py).
- ``finals``: the final errors of two sweep cells per seed and setting: how much a whole run's
  result moves across kernel paths, next to how much it moves across seeds.

Settings: ``native`` (this CPU's best kernels), ``aten_default`` (ATen's portable kernels only),
``mkl_cbwr`` (MKL's reproducible BLAS only), ``portable`` (normviz.numerics: all pins), ``bug``
(portable, with BatchNorm's batch statistics computed without the batch's first sample), and,
with ``--emulate CPU ...`` (needs Debian's qemu-user), ``portable`` on emulated CPUs such as
Nehalem (SSE4.2, no FMA) and Haswell-v4 (AVX2 + FMA). Emulation is slow (minutes per run).

    python scripts/measure_numerics.py [--emulate Nehalem Haswell-v4]
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from normviz.numerics import PORTABLE_ENV, cpu_isa, cpu_name  # noqa: E402

OUT = ROOT / "data" / "numerics_spread.json"
TRACE_STEPS = 30
SETTINGS = {
    "native": {},
    "aten_default": {"ATEN_CPU_CAPABILITY": "default"},
    "mkl_cbwr": {"MKL_CBWR": "COMPATIBLE"},
    "portable": PORTABLE_ENV,
    "bug": PORTABLE_ENV,
}
TRACE_CELLS = {  # name -> (target, kwargs)
    "sweep batch B=64 seed 0": ("sweep", {"norm": "batch", "batch_size": 64, "seed": 0}),
    "sweep group B=64 seed 0": ("sweep", {"norm": "group", "batch_size": 64, "seed": 0}),
    "cnn instance brightness seed 0": ("cnn", {"norm": "instance", "seed": 0}),
}
FINAL_CELLS = [("group", 64, 0), ("group", 64, 1), ("batch", 64, 0), ("batch", 64, 1)]


def _config(kind: str, kw: dict) -> dict:
    if kind == "sweep":
        from normviz.training.sweeps import cell_config

        return cell_config(kw["norm"], kw["batch_size"], kw["seed"]).to_dict()
    from normviz.experiments.batch_instance import BRIGHTNESS_STEPS, _config as bin_config

    return bin_config(norm=kw["norm"], dataset="digits_brightness", steps=BRIGHTNESS_STEPS, seed=kw["seed"]).to_dict()


def inject_batch_stat_bug() -> None:
    """The deliberate bug: in training, BatchNorm's mean and variance skip the batch's first sample."""
    import torch
    import torch.nn.functional as F

    exact = F.batch_norm

    def off_by_one(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
        if not training:
            return exact(x, running_mean, running_var, weight, bias, training, momentum, eps)
        dims = [0] + list(range(2, x.dim()))
        shape = [1, -1] + [1] * (x.dim() - 2)
        mu, var = x[1:].mean(dims), x[1:].var(dims, unbiased=False)
        with torch.no_grad():
            running_mean.mul_(1 - momentum).add_(momentum * mu)
            running_var.mul_(1 - momentum).add_(momentum * x[1:].var(dims))
        y = (x - mu.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
        return y * weight.reshape(shape) + bias.reshape(shape) if weight is not None else y

    F.batch_norm = off_by_one


def child(setting: str, out: str) -> None:
    """Everything one setting measures, in this (fresh) interpreter."""
    from normviz import numerics

    if setting in ("portable", "bug") or setting.startswith("portable@"):
        numerics.use_portable()
    if setting == "bug":
        inject_batch_stat_bug()
    from normviz.training.sweeps import sweep_cell
    from normviz.training import loss_trace

    traces = {name: loss_trace(_config(kind, kw), TRACE_STEPS) for name, (kind, kw) in TRACE_CELLS.items()}
    finals = {} if setting == "bug" else {
        f"{n} B={b} seed {s}": {k: v for k, v in sweep_cell(n, b, s).items()
                               if k in ("eval_error", "train_mode_error", "test_loss")}
        for n, b, s in FINAL_CELLS}
    Path(out).write_text(json.dumps({"describe": numerics.describe(), "traces": traces, "finals": finals}))


def run_setting(name: str, env_extra: dict, emulate: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in PORTABLE_ENV and k not in ("ATEN_CPU_CAPABILITY", "MKL_CBWR")}
    env.update(env_extra)
    env["PYTHONPATH"] = str(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        cmd = [sys.executable, __file__, "--child", name, str(out)]
        if emulate:
            cmd = ["qemu-x86_64", "-cpu", emulate] + cmd
        subprocess.run(cmd, env=env, check=True, cwd=str(ROOT), stderr=subprocess.DEVNULL if emulate else None)
        return json.loads(out.read_text())


def summarize(results: dict) -> dict:
    """The numbers the tests' tolerances cite."""
    import numpy as np

    ref = results["portable"]["traces"]
    paths = [s for s in results if s not in ("portable", "bug")]
    gap = {}
    for s in paths + ["bug"]:
        gap[s] = {cell: float(np.max(np.abs(np.subtract(results[s]["traces"][cell][:20], ref[cell][:20]))
                                     / np.abs(ref[cell][:20])))
                  for cell in ref if s != "bug" or "batch" in cell}
    kernel_max = max(v for s in paths for v in gap[s].values())
    bug_first = {cell: float(abs(results["bug"]["traces"][cell][0] - ref[cell][0]) / abs(ref[cell][0]))
                 for cell in gap["bug"]}
    finals = {cell: {s: results[s]["finals"][cell]["eval_error"] for s in results if results[s]["finals"]}
              for cell in results["portable"]["finals"]}
    path_spread = max(max(v.values()) - min(v.values()) for v in finals.values())
    seed_spread = max(abs(finals[f"{n} B={b} seed 0"]["portable"] - finals[f"{n} B={b} seed 1"]["portable"])
                      for n, b, _ in FINAL_CELLS)
    return {"trace_steps_compared": 20,
            "trace_max_rel_gap_by_setting": gap,
            "trace_max_rel_gap_kernel_paths": kernel_max,
            "trace_rel_gap_of_bug_at_step_1": bug_first,
            "final_eval_error_by_setting": finals,
            "final_eval_spread_across_paths_points": path_spread,
            "final_eval_spread_across_seeds_points": seed_spread}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--child", nargs=2, metavar=("SETTING", "OUT"), help=argparse.SUPPRESS)
    ap.add_argument("--emulate", nargs="*", default=[], metavar="CPU", help="qemu-x86_64 CPU models")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    if args.emulate and not shutil.which("qemu-x86_64"):
        ap.error("--emulate needs qemu-x86_64 (Debian: apt-get install qemu-user)")
    results = {}
    for name, env_extra in SETTINGS.items():
        print(f"measuring {name} ...", flush=True)
        results[name] = run_setting(name, env_extra)
    for cpu in args.emulate:
        name = f"portable@{cpu}"
        print(f"measuring {name} under emulation (slow) ...", flush=True)
        results[name] = run_setting(name, PORTABLE_ENV, emulate=cpu)
    doc = {"made_by": "python scripts/measure_numerics.py" + (" --emulate " + " ".join(args.emulate) if args.emulate else ""),
           "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "host": {"cpu": cpu_name(), "cpu_isa": cpu_isa()},
           "summary": summarize(results), "results": results}
    Path(args.out).write_text(json.dumps(doc, indent=1) + "\n")
    s = doc["summary"]
    print(f"wrote {args.out}: kernel paths differ by ≤ {s['trace_max_rel_gap_kernel_paths']:.1e} over 20 steps; "
          f"the bug by {min(s['trace_rel_gap_of_bug_at_step_1'].values()):.1e} at step 1; final eval error moves "
          f"{s['final_eval_spread_across_paths_points']:.2f} points across paths, "
          f"{s['final_eval_spread_across_seeds_points']:.2f} across seeds")
    identical = [k for k in results if k.startswith("portable@")
                 and results[k]["traces"] == results["portable"]["traces"] and results[k]["finals"] == results["portable"]["finals"]]
    if args.emulate:
        print(f"portable mode bit-identical on: {', '.join(identical) or 'none of the emulated CPUs'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
