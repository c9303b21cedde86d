"""Precompute: run an experiment for each seed in its numerics mode and ship the results.

    python -m normviz.experiments --precompute KEY [KEY ...] [--seeds 0 1] [--quick]

Each experiment runs in a fresh interpreter whose environment selects its numerics mode
(``normviz.numerics``: portable unless it times this CPU's kernels), so a live re-run in that
mode gives the shipped numbers exactly; the file records how it was made.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import platform
import sys
import time
from pathlib import Path

from normviz.experiments import EXPERIMENTS, get
from normviz.experiments.base import Experiment, jsonable

# --------------------------------------------------------------------------------------------
# Precompute: python -m normviz.experiments --precompute KEY [--seeds 0 1]


def precompute(key: str, seeds: tuple[int, ...] = (0, 1), quick: bool = False,
               path: Path | None = None) -> dict:
    """Run an experiment for each seed and write ``data/experiments/KEY.json``.

    The file records how it was made: the command, seeds, date, seconds per seed, versions,
    and each seed's results and claim verdict.
    """
    spec = get(key)
    if spec.load_fn is not None and path is None:
        raise ValueError(f"{key}'s shipped results are made elsewhere (loaded by {spec.load_fn.__module__}); "
                         f"for gn_figure1 run `python -m normviz.training.sweeps --out data/gn_batch_sweep.json`.")
    runs, seconds = {}, {}
    for seed in seeds:
        t0 = time.perf_counter()
        res = jsonable(spec.run(seed=seed, quick=quick))
        seconds[str(seed)] = round(time.perf_counter() - t0, 2)
        holds, sentence = spec.claim(res)
        runs[str(seed)] = {"results": res, "claim": {"holds": holds, "sentence": sentence}}
        print(f"{key} seed {seed}: {seconds[str(seed)]} s; claim {'holds' if holds else 'FAILS'}: {sentence}",
              file=sys.stderr)
    try:
        import torch
        torch_version = torch.__version__
    except ImportError:  # pragma: no cover
        torch_version = None
    from normviz.numerics import describe

    doc = {
        "key": key,
        "title": spec.title,
        "made_by": f"python -m normviz.experiments --precompute {key} --seeds {' '.join(map(str, seeds))}"
                   + (" --quick" if quick else ""),
        "how": spec.how,
        "seeds": list(seeds),
        "quick": quick,
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": seconds,
        "machine": f"{platform.machine()}, python {platform.python_version()}, torch {torch_version}",
        "numerics": describe(),
        "runs": runs,
    }
    out = path or spec.data_path
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1) + "\n")
    return doc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m normviz.experiments", description=__doc__.split("\n")[0])
    ap.add_argument("--list", action="store_true", help="list the registered experiments")
    ap.add_argument("--precompute", nargs="+", metavar="KEY", help="run and write data/experiments/KEY.json")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--in-this-process", action="store_true",
                    help="(internal) precompute here instead of in a fresh process per experiment")
    args = ap.parse_args(argv)
    if args.list or not args.precompute:
        for e in EXPERIMENTS.values():
            print(f"{e.key:16s} [{e.question}] {e.title}")
        return 0
    if args.in_this_process:
        from normviz import numerics

        if numerics.mode() == "portable":  # the parent asked for it through the environment
            numerics.use_portable()
        for key in args.precompute:
            precompute(key, tuple(args.seeds), quick=args.quick)
        return 0
    for key in args.precompute:
        _precompute_in_fresh_process(get(key), tuple(args.seeds), args.quick)
    return 0


def _precompute_in_fresh_process(spec: Experiment, seeds: tuple[int, ...], quick: bool) -> None:
    """torch fixes its kernels when it starts, so each experiment runs in its own interpreter
    whose environment selects its numerics mode."""
    import os
    import subprocess

    from normviz.numerics import PORTABLE_ENV, ROOT

    env = {k: v for k, v in os.environ.items() if k not in PORTABLE_ENV}
    if spec.numerics == "portable":
        env.update(PORTABLE_ENV)
    cmd = [sys.executable, "-m", "normviz.experiments", "--precompute", spec.key, "--in-this-process",
           "--seeds", *map(str, seeds)] + (["--quick"] if quick else [])
    subprocess.run(cmd, cwd=str(ROOT), env=env, check=True)
