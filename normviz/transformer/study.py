"""Building blocks of the transformer experiments (``normviz.experiments.transformer_*``): a run
reduced to its summary, gradient norms at initialisation, learning-rate sweeps, step timing.

JSON-ready dicts in and out; torch is imported inside the functions.
"""
from __future__ import annotations

import math
import statistics
import time

from normviz.transformer.config import TransformerConfig


def summary(cfg: TransformerConfig, *, keep_history: bool = False, keep_last: bool = False) -> dict:
    """Train ``cfg``; its final numbers (and, if asked, the per-snapshot history and last snapshot).

    ``trained``: see :func:`trained`.
    """
    from normviz.transformer.train import run

    snaps = run(cfg)
    last = snaps[-1]
    out = {"lr": cfg.lr, "warmup": cfg.warmup, "depth": cfg.depth, "norm": cfg.norm, "placement": cfg.placement,
           "test_acc": last["test_acc"], "seq_acc": last["seq_acc"], "diverged": last["diverged"],
           "stopped_at": last["step"], "message": last["message"],
           "sec_per_step": last["sec_per_step"]}
    out["trained"] = trained(out)
    if keep_history:
        out["history"] = {k: [s[k] for s in snaps] for k in ("step", "loss", "test_acc", "grad_norm", "resid_norm")}
        out["history"]["learned"] = [s["learned"] for s in snaps]
    if keep_last:
        out["last"] = {k: last[k] for k in ("scatter", "norm_stats", "learned") if k in last}
    return out


def init_grad_norms(cfg: TransformerConfig, n_batches: int = 8) -> list[float]:
    """‖∂loss/∂θ_block‖₂ per block at initialisation, averaged over ``n_batches`` fresh batches
    (Xiong et al. 2020, Figure 3: the same quantity for a 6-layer Transformer)."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from normviz.training import threads
    from normviz.transformer.model import build
    from normviz.transformer.task import sort_batch
    from normviz.transformer.train import _block_grad_norms

    with threads(1):
        torch.manual_seed(cfg.seed)
        model = build(cfg)
        rng = np.random.default_rng(cfg.seed)
        total = np.zeros(cfg.depth)
        for _ in range(n_batches):
            x, y = (torch.from_numpy(a) for a in sort_batch(rng, cfg.batch_size, cfg.seq_len, cfg.vocab))
            model.zero_grad(set_to_none=True)
            F.cross_entropy(model(x).reshape(-1, cfg.vocab), y.reshape(-1)).backward()
            total += np.array(_block_grad_norms(model))
        return (total / n_batches).tolist()


def trained_accuracy(seq_len: int = 8, vocab: int = 10) -> float:
    """The test accuracy a run must reach to count as trained: halfway from chance (the best guess of
    each sorted position without attention, ``task.chance_accuracy``, ≈ 0.339 for 8 digits) to 1."""
    from normviz.transformer.task import chance_accuracy

    return (chance_accuracy(seq_len, vocab) + 1) / 2


def trained(r: dict) -> bool:
    """A run (a :func:`summary`) trained: it did not diverge or stall, and its final per-token test
    accuracy is at least :func:`trained_accuracy` (a run that only learned where small and large
    digits go, without attention, stays near chance and does not count)."""
    return not r["diverged"] and r["test_acc"] >= trained_accuracy()


def largest_trained(rows: list[dict]) -> float | None:
    """The largest lr among ``rows`` (one lr each) that trained (:func:`trained`), counting only the lrs
    below the first failure (a run that trains again above a failure is luck, not stability); None if
    none did."""
    best = None
    for r in sorted(rows, key=lambda r: r["lr"]):
        if not trained(r):
            break
        best = r["lr"]
    return best


def time_steps(configs: dict[str, TransformerConfig], *, repeats: int = 7, steps: int = 30) -> dict:
    """Seconds per training step (forward, backward, Adam) of each config, measured in interleaved
    rounds so that load from other processes hits every config alike.

    Returns ``{name: [seconds per step, one per round]}``; compare medians, and quote the spread.
    """
    import numpy as np
    import torch
    import torch.nn.functional as F

    from normviz.training import threads
    from normviz.transformer.model import build
    from normviz.transformer.task import sort_batch

    with threads(1):
        setups = {}
        for name, cfg in configs.items():
            torch.manual_seed(cfg.seed)
            model = build(cfg)
            opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
            x, y = (torch.from_numpy(a) for a in sort_batch(np.random.default_rng(0), cfg.batch_size, cfg.seq_len,
                                                             cfg.vocab))
            setups[name] = (model, opt, x, y, cfg.vocab)

        def step(model, opt, x, y, V):
            loss = F.cross_entropy(model(x).reshape(-1, V), y.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        for s in setups.values():  # warm up allocators and caches
            for _ in range(5):
                step(*s)
        out = {name: [] for name in configs}
        for _ in range(repeats):
            for name, s in setups.items():
                t0 = time.perf_counter()
                for _ in range(steps):
                    step(*s)
                out[name].append((time.perf_counter() - t0) / steps)
        return out


def ratio_with_spread(num: list[float], den: list[float]) -> dict:
    """Median of the per-round ratios num/den, and their min and max (the noise)."""
    r = [a / b for a, b in zip(num, den)]
    return {"median": statistics.median(r), "min": min(r), "max": max(r), "rounds": len(r)}


def linear_and_tanh_fit(x: list[float], y: list[float]) -> dict:
    """R² of the best line y ≈ a·x + c and of the best y ≈ a·tanh(b·x) + c (b on a grid), for the
    S-shaped scatter of a norm layer's input and output (Zhu et al. 2025, Figure 2)."""
    import numpy as np

    x, y = np.asarray(x, float), np.asarray(y, float)
    ss = float(((y - y.mean()) ** 2).sum()) or 1.0

    def r2(feature):
        A = np.stack([feature, np.ones_like(feature)], 1)
        coef, *_ = np.linalg.lstsq(A, y, rcond=None)
        return 1 - float(((A @ coef - y) ** 2).sum()) / ss

    scale = float(np.std(x)) or 1.0
    grid = [b / scale for b in np.geomspace(0.05, 5, 40)]
    best_b = max(grid, key=lambda b: r2(np.tanh(b * x)))
    return {"linear_r2": r2(x), "tanh_r2": r2(np.tanh(best_b * x)), "tanh_b": best_b * 1.0,
            "finite": bool(math.isfinite(ss))}


def time_norm_layers(norms: list[str], *, d_model: int = 32, tokens: int = 512, repeats: int = 7,
                     calls: int = 200) -> dict:
    """Seconds per forward + backward of one norm layer alone on (tokens, d_model), interleaved
    rounds as :func:`time_steps`. Returns ``{norm: [seconds per call, one per round]}``."""
    import torch

    from normviz.training import threads
    from normviz.transformer.model import TokenNorm

    with threads(1):
        torch.manual_seed(0)
        x = torch.randn(1, tokens, d_model, requires_grad=True)
        mods = {n: TokenNorm(n, d_model) for n in norms}
        grad = torch.randn(1, tokens, d_model)

        def call(m):
            m(x).backward(grad)

        for m in mods.values():
            for _ in range(20):
                call(m)
        out = {n: [] for n in norms}
        for _ in range(repeats):
            for n, m in mods.items():
                t0 = time.perf_counter()
                for _ in range(calls):
                    call(m)
                out[n].append((time.perf_counter() - t0) / calls)
        return out


def final_summary(config: dict) -> dict:
    """:func:`summary` with JSON in (TransformerConfig fields), so ``normviz.numerics.run_portable``
    can re-run a shipped cell in a fresh portable process."""
    return summary(TransformerConfig(**config))
