"""The batch-size sweep of the Group Norm paper (Wu & He 2018, Figure 1), at CPU scale.

BN vs GN vs LN on scikit-learn's digits for batch sizes 64, 32, 16, 8, 4, 2. As the paper
holds the number of epochs fixed, the number of *samples seen* is held fixed here (steps =
samples / batch size), and the learning rate follows the linear scaling rule
(lr = base_lr · B / 16). Each cell reports two errors on the test set:

- **eval-mode error**: the network as it is deployed (BN uses its running statistics);
- **train-mode error**: the same test images fed in mini-batches of the training batch size
  in training mode (BN uses the mini-batch statistics). At B = 2 BatchNorm's training-mode
  output is ±1 for every feature (``(x₁ − x₂)/|x₁ − x₂|``, norm-spec §2.1), so train mode
  looks fine while the running statistics it has to rely on in eval do not match it.

The model is the recipe of norm-spec §6.2: an MLP 64 → 128 → 128 → 10 with ReLU, the norm
before each ReLU, SGD with momentum 0.9. Results take minutes, so they ship precomputed::

    python -m normviz.training.sweeps --out data/gn_batch_sweep.json

and ``load_sweep()`` reads them back. The command runs in portable numerics mode
(``normviz.numerics``), so ``sweep_cell`` run in that mode (``run_portable``) gives the shipped
numbers bit for bit on any x86-64 CPU; run natively, a cell moves by a few test images.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import platform
import sys
import time
from pathlib import Path

from normviz.numerics import ROOT, use_portable
from normviz.training.config import TrainConfig
from normviz.training.loop import final_snapshot

DATA_PATH = ROOT / "data" / "gn_batch_sweep.json"
BATCH_SIZES = (64, 32, 16, 8, 4, 2)
NORMS = ("batch", "group", "layer")
SEEDS = (0, 1)
SAMPLES = 24_000  # samples seen per run (≈ 17 epochs of the 1 438 training digits)

# norm-spec §6.2: MLP 64→128→128→10, ReLU, momentum 0.9, lr = 0.05 · B / 16.
BASE = TrainConfig(model="mlp", activation="relu", hidden=128, depth=2, groups=8, init_std=None,
                   momentum=0.9, lr=0.05, lr_rule="linear", lr_batch=16, steps=1, log_every=1)


def cell_config(norm: str, batch_size: int, seed: int, *, samples: int = SAMPLES,
                base: TrainConfig = BASE) -> TrainConfig:
    """The training config of one cell: ``samples // batch_size`` steps at the scaled lr."""
    if batch_size < 2:
        raise ValueError(f"batch_size must be at least 2 (BatchNorm needs two values per feature), got {batch_size}.")
    steps = max(1, samples // batch_size)
    return base.replace(norm=norm, batch_size=batch_size, seed=seed, steps=steps, log_every=steps)


def sweep_cell(norm: str, batch_size: int, seed: int, *, samples: int = SAMPLES,
               base: TrainConfig = BASE) -> dict:
    """Train one cell and return its errors (in %), steps and seconds.

    Keys: norm, batch_size, seed, steps, lr, eval_error, train_mode_error, seconds, diverged, and
    ``test_loss``: the final cross-entropy on the test images to all 17 digits, a fingerprint of
    the whole run (one flipped bit anywhere in training changes it).
    """
    cfg = cell_config(norm, batch_size, seed, samples=samples, base=base)
    t0 = time.perf_counter()
    snap = final_snapshot(cfg)
    return {"norm": norm, "batch_size": batch_size, "seed": seed, "steps": cfg.steps,
            "lr": cfg.effective_lr, "eval_error": round(100 * (1 - snap.test_acc), 4),
            "train_mode_error": round(100 * (1 - snap.train_mode_acc), 4),
            "seconds": round(time.perf_counter() - t0, 2), "diverged": snap.diverged,
            "test_loss": snap.test_loss}


def run_sweep(*, norms=NORMS, batch_sizes=BATCH_SIZES, seeds=SEEDS, samples: int = SAMPLES,
              progress=None) -> dict:
    """Every cell, plus how they were made (config, seeds, date, torch version, seconds)."""
    import torch

    from normviz.numerics import describe

    cells, t0 = [], time.perf_counter()
    todo = [(n, b, s) for n in norms for b in batch_sizes for s in seeds]
    for i, (n, b, s) in enumerate(todo):
        cells.append(sweep_cell(n, b, s, samples=samples))
        if progress is not None:
            progress((i + 1) / len(todo), f"{n} B={b} seed {s}: eval error {cells[-1]['eval_error']:.1f} %")
    return {
        "what": "GN paper Figure 1 at CPU scale: test error (%) vs batch size for BN, GN, LN on "
                "scikit-learn's 8×8 digits (359 test images), samples seen held fixed, lr scaled linearly.",
        "recipe": {"samples_seen": samples, "lr_rule": "lr = 0.05 · B / 16", "momentum": BASE.momentum,
                   "model": "MLP 64→128→128→10, norm before each ReLU", "groups": BASE.G,
                   "base_config": {k: v for k, v in BASE.to_dict().items()
                                   if k not in ("norm", "batch_size", "seed", "steps", "log_every")}},
        "norms": list(norms), "batch_sizes": list(batch_sizes), "seeds": list(seeds),
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "torch": torch.__version__, "python": platform.python_version(), "numerics": describe(),
        "seconds": round(time.perf_counter() - t0, 1),
        "command": "python -m normviz.training.sweeps --out data/gn_batch_sweep.json",
        "cells": cells,
    }


def load_sweep(path: str | Path = DATA_PATH) -> dict:
    """The shipped sweep results (see ``run_sweep`` for the keys)."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"No sweep results at {path}; make them with "
                         f"`python -m normviz.training.sweeps --out {path}` (takes a few minutes).")
    return json.loads(path.read_text())


def summarize(sweep: dict) -> dict:
    """Mean errors over seeds: ``{norm: {"eval": [..per batch..], "train_mode": [...]}}``."""
    out = {}
    for norm in sweep["norms"]:
        ev, tm = [], []
        for b in sweep["batch_sizes"]:
            cs = [c for c in sweep["cells"] if c["norm"] == norm and c["batch_size"] == b]
            ev.append(sum(c["eval_error"] for c in cs) / len(cs))
            tm.append(sum(c["train_mode_error"] for c in cs) / len(cs))
        out[norm] = {"eval": ev, "train_mode": tm}
    return out


def claims(sweep: dict) -> dict:
    """The two statements the page makes, measured on the data.

    ``gn_spread``: max − min of GN's mean eval error over batch sizes (points);
    ``bn_drop``: BN's mean eval error at the smallest batch minus at the largest (points).
    """
    s = summarize(sweep)
    bs = sweep["batch_sizes"]
    gn = s["group"]["eval"]
    bn = s["batch"]["eval"]
    return {"gn_spread": max(gn) - min(gn),
            "bn_drop": bn[bs.index(min(bs))] - bn[bs.index(max(bs))]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(DATA_PATH), help="where to write the JSON results")
    ap.add_argument("--samples", type=int, default=SAMPLES, help="samples seen per run")
    ap.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    args = ap.parse_args(argv)
    use_portable()  # before torch is imported: the shipped numbers must reproduce on any CPU

    def progress(frac, text):
        print(f"[{frac:4.0%}] {text}", flush=True)

    result = run_sweep(seeds=tuple(args.seeds), samples=args.samples, progress=progress)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    c = claims(result)
    print(f"wrote {args.out} in {result['seconds']} s; GN spread {c['gn_spread']:.2f} points, "
          f"BN eval error at B=2 minus B=64: {c['bn_drop']:.2f} points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
