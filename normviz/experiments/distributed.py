"""Experiment 7: BatchNorm across devices, for real (torch.distributed, gloo, localhost).

``world`` CPU processes (default 2) each see ``per_device`` samples per step (default 2, at
most 4) of the same global batch, and train the same MLP (digits, 64 → 64 → 64 → 10, ReLU)
with PyTorch's ``DistributedDataParallel`` (gradients averaged over the processes) in three
ways:

* ``local`` — per-device BN: each process normalizes with the statistics of its own
  ``per_device`` samples (what ``nn.BatchNorm1d`` does under DDP);
* ``sync``  — synchronized BN: the per-channel sum and sum of squared deviations are
  all-reduced, so every process normalizes with the statistics of the whole global batch, and
  the backward pass all-reduces the two gradient sums it needs (:class:`SyncBatchNorm`; torch's
  ``nn.SyncBatchNorm`` refuses CPU tensors in torch 2.13, so normviz has its own);
* ``group`` — GroupNorm (8 groups), which needs no batch statistics at all.

.. note:: DDP's default ``broadcast_buffers=True`` copies rank 0's buffers (BN's
   ``running_mean``/``running_var``) to every process at the start of each forward pass.
   So with per-device BN the running statistics that survive are rank 0's alone: an EMA of
   statistics of ``per_device`` samples, not of the global batch.

Beside it, the **simulated** version runs in one process on the global batch: Ghost BN with
``ghost_size = per_device`` (≈ per-device BN) and BN over the full batch (≈ synchronized BN).
The first forward and backward must agree to float round-off (float64): Ghost BN's output
equals the per-device outputs, full-batch BN's equals synchronized BN's, and so do the
averaged gradients. Only the running statistics differ by design: Ghost BN averages the ghost
batches' statistics, DDP keeps rank 0's.

Running-statistics quality: the distance of each BN layer's running mean and variance to the
statistics of the layer's input over the whole training set (computed with full-batch
normalization), in units of the population standard deviation.

The processes are forked from the calling process (which has torch imported already, so no
worker pays the 2–5 s import again), on a free localhost port, and always stopped: on success
they exit after ``destroy_process_group()``; on error or timeout the parent kills every one it
started, and the kernel kills them if the parent dies. A forked worker inherits the parent's
numerics mode (``normviz.numerics``) and uses one thread.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from normviz.experiments.base import GN_FIGURE1 as _GN_FIG1
from normviz.experiments.base import Experiment

MODES = ("local", "sync", "group")
MODE_LABELS = {"local": "per-device BN", "sync": "synchronized BN", "group": "GroupNorm",
               "ghost": "Ghost BN (simulated per-device)", "full": "full-batch BN (simulated sync)"}
SIM_OF = {"local": "ghost", "sync": "full", "group": "group"}

DEFAULTS = dict(world=2, per_device=2, steps=1500, lr=0.02, momentum=0.9, hidden=64, depth=2,
                groups=8, log_every=100, timeout=60.0)
QUICK = dict(steps=80, log_every=20)
# The same three runs at a per-device batch people actually use (16 images per device), shorter.
REALISTIC = dict(per_device=16, steps=400, log_every=100)
REALISTIC_QUICK = dict(per_device=16, steps=40, log_every=20)


class DistributedRunError(ValueError):
    """The distributed run could not start or finish (its processes have been stopped).

    A ``ValueError`` so that pages show its sentence like any other library error.
    """


class PortInUseError(DistributedRunError):
    """The chosen localhost port is taken by another program."""


# --------------------------------------------------------------------------------------------
# Synchronized BatchNorm (works on CPU with gloo)


def _all_reduce(t):
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(t)
    return t


def _make_sync_function():
    import torch

    class _SyncBatchNormFn(torch.autograd.Function):
        r"""y = γ x̂ + β with x̂ = (x − μ)·invstd, μ and invstd over *all* processes' samples.

        Backward (the BN identity of norm-spec §2.1, with global means):
        ∂L/∂x = invstd·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)), ĝ = γ·∂L/∂y, the two means all-reduced.
        """

        @staticmethod
        def forward(ctx, x, weight, bias, mean, invstd, count):
            shape = (1, -1) + (1,) * (x.dim() - 2)
            xhat = (x - mean.view(shape)) * invstd.view(shape)
            ctx.save_for_backward(xhat, invstd, weight)
            ctx.count = count
            return xhat * weight.view(shape) + bias.view(shape)

        @staticmethod
        def backward(ctx, gy):
            xhat, invstd, weight = ctx.saved_tensors
            dims = (0,) + tuple(range(2, gy.dim()))
            shape = (1, -1) + (1,) * (gy.dim() - 2)
            g = gy * weight.view(shape)  # ĝ = ∂L/∂x̂
            sums = _all_reduce(torch.cat([g.sum(dims), (g * xhat).sum(dims)]))
            C = g.shape[1]
            mean_g, mean_gx = sums[:C] / ctx.count, sums[C:] / ctx.count
            gx = invstd.view(shape) * (g - mean_g.view(shape) - xhat * mean_gx.view(shape))
            # γ, β gradients stay local: DDP averages them over the processes like any other.
            return gx, (gy * xhat).sum(dims), gy.sum(dims), None, None, None

    return _SyncBatchNormFn


_SYNC_FN = None


def sync_batch_norm(x, weight, bias, eps: float = 1e-5):
    """Training-mode BN with statistics over every process's samples; returns (y, mean, unbiased var).

    Without an initialized process group (or world size 1) it is plain training-mode BN.

    Shape:
        x: (N, C) or (N, C, H, W) local samples; weight, bias: (C,) -> y like x; mean, var (C,).
    """
    import torch

    global _SYNC_FN
    if _SYNC_FN is None:
        _SYNC_FN = _make_sync_function()
    dims = (0,) + tuple(range(2, x.dim()))
    shape = (1, -1) + (1,) * (x.dim() - 2)
    with torch.no_grad():
        # Two passes (sum, then squared deviations), both all-reduced: exact, no E[x²] − E[x]².
        local_n = x.numel() // x.shape[1]
        s = _all_reduce(torch.cat([x.sum(dims), x.new_tensor([float(local_n)])]))
        count = float(s[-1])
        if count < 2:
            raise ValueError(f"Synchronized BN needs more than 1 value per channel over all processes, got {count:g}.")
        mean = s[:-1] / count
        sq = _all_reduce(((x - mean.view(shape)) ** 2).sum(dims))
        var = sq / count
        invstd = 1.0 / torch.sqrt(var + eps)
    y = _SYNC_FN.apply(x, weight, bias, mean, invstd, count)
    return y, mean, var * count / (count - 1)


def _sync_module_class():
    import torch
    from torch import nn

    class SyncBatchNorm(nn.Module):
        """BatchNorm whose training statistics are all-reduced over the processes (SyncBN).

        Same buffers and momentum rule as ``nn.BatchNorm1d`` (running variance unbiased, over
        the global batch); eval mode uses the running statistics, with no communication.

        Shape:
            Input (N, C) or (N, C, H, W); output the same.
        """

        def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1):
            super().__init__()
            self.eps, self.momentum = eps, momentum
            self.weight = nn.Parameter(torch.ones(num_features))
            self.bias = nn.Parameter(torch.zeros(num_features))
            self.register_buffer("running_mean", torch.zeros(num_features))
            self.register_buffer("running_var", torch.ones(num_features))

        def forward(self, x):
            if not self.training:
                return torch.nn.functional.batch_norm(x, self.running_mean, self.running_var, self.weight,
                                                      self.bias, False, 0.0, self.eps)
            y, mean, var = sync_batch_norm(x, self.weight, self.bias, self.eps)
            with torch.no_grad():
                self.running_mean.mul_(1 - self.momentum).add_(mean, alpha=self.momentum)
                self.running_var.mul_(1 - self.momentum).add_(var, alpha=self.momentum)
            return y

    return SyncBatchNorm


# --------------------------------------------------------------------------------------------
# Model, data, one training run (shared by the workers and the simulated version)


def _train_config(cfg: dict, norm: str):
    from normviz.training import TrainConfig

    return TrainConfig(norm=norm, model="mlp", activation="relu", hidden=cfg["hidden"], depth=cfg["depth"],
                       groups=cfg["groups"], ghost_size=cfg["per_device"], batch_size=cfg["world"] * cfg["per_device"],
                       steps=cfg["steps"], lr=cfg["lr"], momentum=cfg["momentum"], init_std=None, seed=cfg["seed"])


def build(cfg: dict, mode: str):
    """The model for ``mode`` (local/sync/group/ghost/full), float64, via ``normviz.training``."""
    import torch

    from normviz.training import build_model

    norm = {"local": "batch", "sync": "batch", "full": "batch", "group": "group", "ghost": "ghost_batch"}[mode]
    model = build_model(_train_config(cfg, norm))
    if mode == "sync":
        cls = _sync_module_class()
        for block in list(model)[:-1]:
            old = block[1]
            new = cls(old.num_features, eps=old.eps, momentum=old.momentum)
            with torch.no_grad():
                new.weight.copy_(old.weight)
                new.bias.copy_(old.bias)
            block[1] = new
    return model.double()


def _data(cfg: dict):
    """Digits via ``normviz.training.load_data``; workers read the parent's copy (no sklearn import)."""
    import torch

    if cfg.get("data_path"):
        with np.load(cfg["data_path"]) as z:
            Xtr, ytr, Xte, yte = (torch.from_numpy(z[k]) for k in ("Xtr", "ytr", "Xte", "yte"))
    else:
        from normviz.training import load_data

        Xtr, ytr, Xte, yte = load_data(_train_config(cfg, "batch"))
    return Xtr.double(), ytr, Xte.double(), yte


def batches(cfg: dict) -> np.ndarray:
    """Global batch indices per step (steps × world·per_device), the same in every process."""
    n_train = 1437
    rng = np.random.default_rng(1000 + cfg["seed"])
    B = cfg["world"] * cfg["per_device"]
    return np.stack([rng.choice(n_train, B, replace=False) for _ in range(cfg["steps"])])


def _norm_modules(model):
    return [block[1] for block in list(model)[:-1]]


def population_stats(model, X):
    """Per BN layer: mean and (biased) variance of its input over all of X, layers normalized
    with full-batch statistics and the layer's own γ, β (the 'ideal' running statistics)."""
    import torch
    import torch.nn.functional as F

    out = []
    h = X
    with torch.no_grad():
        for block in list(model)[:-1]:
            a = block[0](h)
            out.append((a.mean(0), a.var(0, unbiased=False)))
            norm = block[1]
            h = block[2](F.batch_norm(a, None, None, norm.weight, norm.bias, True, 0.0, norm.eps))
    return out


def running_stats_error(model, X) -> dict:
    """How far the running statistics are from the population statistics (0 = perfect).

    mean_error: RMS over channels of (running_mean − μ)/σ; std_error: RMS of log(running σ / σ).
    Averaged over the BN layers.
    """
    import torch

    me, se = [], []
    for norm, (mu, var) in zip(_norm_modules(model), population_stats(model, X)):
        sd = torch.sqrt(var + norm.eps)
        me.append(float(torch.sqrt((((norm.running_mean - mu) / sd) ** 2).mean())))
        se.append(float(torch.sqrt(((0.5 * torch.log((norm.running_var + norm.eps) / (var + norm.eps))) ** 2).mean())))
    return {"mean_error": float(np.mean(me)), "std_error": float(np.mean(se)), "per_layer_mean": me, "per_layer_std": se}


def _accuracy(model, X, y) -> float:
    import torch

    was = model.training
    model.eval()
    with torch.no_grad():
        acc = float((model(X).argmax(1) == y).double().mean())
    model.train(was)
    return acc


def train_run(cfg: dict, mode: str, *, rank: int = 0, world: int = 1, ddp: bool = False) -> dict:
    """Train one model; in a worker (``ddp=True``) each rank takes its slice of the global batch.

    Returns loss curve (mean over the global batch), eval accuracy curve (rank 0), the first
    step's outputs on the local samples and first-step averaged gradients (for the agreement
    check), final running-statistics error and buffers.
    """
    import torch
    import torch.nn.functional as F

    torch.manual_seed(cfg["seed"])
    model = build(cfg, mode)
    net = model
    if ddp:
        from torch.nn.parallel import DistributedDataParallel

        # DDP's default (True), said explicitly; distributed_params also runs it off.
        net = DistributedDataParallel(model, broadcast_buffers=cfg.get("broadcast_buffers", True))
    Xtr, ytr, Xte, yte = _data(cfg)
    opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"], momentum=cfg["momentum"])
    b = cfg["per_device"]
    steps, losses, accs, first, every, step_seconds = [], [], [], {}, [], []
    for step, idx in enumerate(batches(cfg)):
        t0 = time.perf_counter()
        if ddp:
            idx = idx[rank * b:(rank + 1) * b]
        xb, yb = Xtr[idx], ytr[idx]
        logits = net(xb)
        loss = F.cross_entropy(logits, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if step == 0:
            first = {"logits": logits.detach().tolist(),
                     "grads": torch.cat([p.grad.reshape(-1) for p in model.parameters()]).tolist()}
            if cfg.get("record_state"):  # this rank's batch statistics of the first norm layer's input
                with torch.no_grad():
                    a = list(model)[0][0](xb)
                first["batch_mean"], first["batch_var"] = a.mean(0).tolist(), a.var(0, unbiased=False).tolist()
        opt.step()
        step_seconds.append(time.perf_counter() - t0)
        lv = loss.detach().clone().reshape(1)
        if ddp:
            _all_reduce(lv)  # the global-batch mean loss, comparable with the simulated run
            lv /= world
        every.append(float(lv))
        if step % cfg["log_every"] == 0 or step == cfg["steps"] - 1:
            steps.append(step)
            losses.append(float(lv))
            accs.append(_accuracy(model, Xte, yte) if rank == 0 else None)
    # A step's wall time (forward, backward with DDP's gradient all-reduce, update), median and
    # quartiles over the steps after the first 10 (warm-up): the noise the comparisons must exceed.
    q1, med, q3 = np.percentile(step_seconds[10:] or step_seconds, [25, 50, 75]).tolist()
    res = {"steps": steps, "loss": losses, "acc": accs, "first": first, "loss_every_step": every,
           "final_acc": _accuracy(model, Xte, yte), "step_seconds": [med, q1, q3]}
    if cfg.get("record_state"):  # every parameter and buffer as this rank holds it at the end ...
        def floats():
            return {n: t.detach().reshape(-1).tolist() for n, t in model.state_dict().items() if t.is_floating_point()}

        res["state"] = floats()
        if ddp:  # ... and after one eval-mode forward through DDP (which broadcasts buffers if asked to)
            model.eval()
            with torch.no_grad():
                net(Xte[:b])
            res["state_after_eval_forward"] = floats()
    if mode != "group":
        res["running"] = running_stats_error(model, Xtr)
        res["buffers"] = [norm.running_mean.tolist() for norm in _norm_modules(model)]
        # Accuracy if the running statistics were exactly the population statistics.
        import copy

        ideal = copy.deepcopy(model)
        for norm, (mu, var) in zip(_norm_modules(ideal), population_stats(model, Xtr)):
            norm.running_mean.copy_(mu)
            norm.running_var.copy_(var)
        res["acc_population_stats"] = _accuracy(ideal, Xte, yte)
    return res


# --------------------------------------------------------------------------------------------
# Worker process and launcher


def _die_with_parent() -> None:
    """Linux: ask the kernel to kill this worker if the parent dies (even by SIGKILL)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):  # not Linux: the parent's finally-block still stops us
        pass


def _forked_worker(rank: int, world: int, port: int, cfg: dict, out: str, log: str) -> None:
    """Entry of a forked worker: its output goes to ``log``; its exit code says how it went."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    try:
        code = _worker(rank, world, port, cfg, out)
    except BaseException:  # noqa: BLE001 - the parent reads the log's last lines
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # no atexit handlers of the parent's copy (servers, pytest) in the child


def _worker(rank: int, world: int, port: int, cfg: dict, out: str) -> int:
    import datetime

    import torch
    import torch.distributed as dist

    _die_with_parent()
    # One thread: also keeps the child out of the OpenMP pool it inherited from the fork.
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=cfg["timeout"]))
    try:
        results = {}
        for mode in cfg.get("modes", MODES):
            t0 = time.perf_counter()
            results[mode] = train_run(cfg, mode, rank=rank, world=world, ddp=True)
            results[mode]["seconds"] = time.perf_counter() - t0
        dist.barrier()
        Path(out).write_text(json.dumps({"rank": rank, "pid": os.getpid(), "results": results}))
    finally:
        dist.destroy_process_group()
    return 0


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_distributed(cfg: dict, *, port: int | None = None, timeout: float | None = None) -> dict:
    """Start ``cfg['world']`` worker processes, wait for them, stop them; rank results + pids.

    Raises ``PortInUseError`` if ``port`` is taken, ``DistributedRunError`` with the workers' last
    error lines if one fails or the run exceeds ``timeout`` seconds. Every process started here
    has exited (killed if need be) when this returns or raises.
    """
    world = cfg["world"]
    if port is None:
        port = free_port()
    elif not port_is_free(port):
        raise PortInUseError(
            f"Port {port} on 127.0.0.1 is already in use by another program, so the distributed "
            f"run cannot start its rendezvous there. Leave the port empty to pick a free one, or "
            f"choose another port.")
    timeout = timeout if timeout is not None else 30.0 + 10.0 * world + cfg["steps"] * 0.15
    import multiprocessing

    # Imported here, once per process, so every forked worker inherits them: torch (2–5 s) and
    # torch._dynamo, which DistributedDataParallel's constructor imports (3–4 s, measured).
    import torch  # noqa: F401
    import torch._dynamo  # noqa: F401
    from torch.nn.parallel import DistributedDataParallel  # noqa: F401

    ctx = multiprocessing.get_context("fork")
    procs, logs = [], []
    with tempfile.TemporaryDirectory(prefix="normviz-dist-") as tmp:
        data_path = Path(tmp) / "digits.npz"
        np.savez(data_path, **dict(zip(("Xtr", "ytr", "Xte", "yte"), (t.numpy() for t in _data(cfg)))))
        run_cfg = {**cfg, "data_path": str(data_path)}
        try:
            for rank in range(world):
                logs.append(Path(tmp) / f"rank{rank}.log")
                p = ctx.Process(target=_forked_worker, daemon=False,
                                args=(rank, world, port, run_cfg, str(Path(tmp) / f"rank{rank}.json"), str(logs[-1])))
                p.start()
                procs.append(p)
            deadline = time.monotonic() + timeout
            while any(p.exitcode is None for p in procs):
                failed = [r for r, p in enumerate(procs) if p.exitcode not in (None, 0)]
                if failed:
                    raise DistributedRunError(_failure_message(failed, logs, port))
                if time.monotonic() > deadline:
                    raise DistributedRunError(
                        f"The distributed run did not finish within {timeout:.0f} s (world={world}, "
                        f"port {port}); its processes were stopped. Try quick mode or fewer steps.")
                time.sleep(0.02)
            failed = [r for r, p in enumerate(procs) if p.exitcode != 0]
            if failed:
                raise DistributedRunError(_failure_message(failed, logs, port))
            ranks = [json.loads((Path(tmp) / f"rank{r}.json").read_text()) for r in range(world)]
        finally:
            for p in procs:
                if p.exitcode is None:
                    p.kill()
                p.join(timeout=10)
    return {"port": port, "pids": [p.pid for p in procs], "ranks": ranks}


def _failure_message(failed: list[int], logs: list[Path], port: int) -> str:
    tails = []
    for r in failed:
        text = logs[r].read_text(errors="replace") if logs[r].exists() else ""
        lines = [ln for ln in text.splitlines() if ln.strip()]
        tails.append(f"rank {r}: " + " | ".join(lines[-3:]))
    text = "; ".join(tails)
    if "address already in use" in text.lower() or "EADDRINUSE" in text:
        raise PortInUseError(f"Port {port} on 127.0.0.1 was taken while the processes started; "
                             f"run again to pick another free port. ({text})")
    if "timed out" in text.lower() or "timeout" in text.lower():
        return (f"The processes could not meet at 127.0.0.1:{port} in time (init timed out); they "
                f"were stopped. ({text})")
    return f"A distributed worker failed and all were stopped: {text}"


def run_simulated(cfg: dict) -> dict:
    """Ghost BN (ghost size = per-device batch), full-batch BN and GN in this one process."""
    from normviz.training import threads

    out = {}
    with threads(1):
        for mode in ("ghost", "full", "group"):
            t0 = time.perf_counter()
            out[mode] = train_run(cfg, mode)
            out[mode]["seconds"] = time.perf_counter() - t0
    return out


def _max_diff(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))))


def _steps_in_agreement(a, b, tol: float = 1e-9) -> int:
    """Number of leading steps whose losses agree to ``tol`` (round-off grows chaotically later)."""
    d = np.abs(np.asarray(a) - np.asarray(b))
    bad = np.flatnonzero(d > tol)
    return int(bad[0]) if bad.size else int(d.size)


def run(seed: int = 0, quick: bool = False, progress=None, *, port: int | None = None, **overrides) -> dict:
    """Distributed run + simulated run + agreement checks; plain JSON-able results."""
    cfg = {**DEFAULTS, **(QUICK if quick else {}), **overrides, "seed": seed}
    if not 1 <= cfg["per_device"] <= 4:
        raise ValueError(f"per_device must be 1 to 4 samples per process, got {cfg['per_device']}.")
    if not 2 <= cfg["world"] <= 4:
        raise ValueError(f"world must be 2 to 4 processes (this machine has {os.cpu_count()} cores), got {cfg['world']}.")
    if progress:
        progress(0.05, f"starting {cfg['world']} processes (gloo, localhost)")
    t0 = time.perf_counter()
    dist_out = run_distributed(cfg, port=port)
    t_dist = time.perf_counter() - t0
    if progress:
        progress(0.7, "simulating the same runs in one process")
    sim = run_simulated(cfg)
    if progress:
        progress(0.85, "the same runs at 16 samples per process")
    real_cfg = {**cfg, **(REALISTIC_QUICK if quick else REALISTIC)}
    real_ranks = [r["results"] for r in run_distributed(real_cfg, port=None)["ranks"]]
    realistic = {"per_device": real_cfg["per_device"], "steps": real_cfg["steps"],
                 "acc": {m: real_ranks[0][m]["final_acc"] for m in MODES},
                 "step_seconds": {m: real_ranks[0][m]["step_seconds"] for m in MODES}}
    ranks = [r["results"] for r in dist_out["ranks"]]
    r0 = ranks[0]
    agree = {}
    for mode in MODES:
        s = sim[SIM_OF[mode]]
        logits = sum((rk[mode]["first"]["logits"] for rk in ranks), [])
        agree[mode] = {"first_forward": _max_diff(logits, s["first"]["logits"]),
                       "first_grads": _max_diff(r0[mode]["first"]["grads"], s["first"]["grads"]),
                       "loss_curve": _max_diff(r0[mode]["loss"], s["loss"]),
                       "steps_in_agreement": _steps_in_agreement(r0[mode]["loss_every_step"], s["loss_every_step"])}
    # DDP's broadcast_buffers: after the last step the ranks' BN buffers differ by their own last
    # local update (the next forward would overwrite them with rank 0's).
    buf_gap = _max_diff(ranks[0]["local"]["buffers"][0], ranks[1]["local"]["buffers"][0])
    strip = lambda d: {k: v for k, v in d.items() if k not in ("first", "buffers", "loss_every_step")}  # noqa: E731
    return {
        "config": cfg,
        "port": dist_out["port"],
        "pids": dist_out["pids"],
        "seconds": {"distributed": t_dist, "simulated": sum(v["seconds"] for v in sim.values())},
        "distributed": {m: strip(r0[m]) for m in MODES},
        "simulated": {m: strip(v) for m, v in sim.items()},
        "agreement": agree,
        "rank_buffer_gap_local": buf_gap,
        "sync_buffer_gap": _max_diff(ranks[0]["sync"]["buffers"][0], ranks[1]["sync"]["buffers"][0]),
        "realistic": realistic,
    }


def claim(results: dict) -> tuple[bool, str]:
    """Synced BN beats per-device BN, GN is unaffected, and the simulation agrees with the real run."""
    d, agree = results["distributed"], results["agreement"]
    acc = {m: d[m]["final_acc"] for m in MODES}
    run_err = {m: d[m]["running"]["std_error"] for m in ("local", "sync")}
    worst_fwd = max(max(a["first_forward"], a["first_grads"]) for a in agree.values())
    cfg = results["config"]
    holds = (acc["sync"] >= acc["local"] + 0.02 and acc["group"] >= acc["local"] + 0.02
             and run_err["sync"] < run_err["local"] and worst_fwd < 1e-9)
    text = (f"{cfg['world']} processes × {cfg['per_device']} samples: per-device BN {acc['local']:.3f}, "
            f"synchronized BN {acc['sync']:.3f}, GroupNorm {acc['group']:.3f} test accuracy; the one-process "
            f"simulation matches the first step to {worst_fwd:.1e}.")
    return holds, text


def _slower(a: list, b: list) -> bool:
    """Step time a ([median, q1, q3]) above b's beyond the noise: a's first quartile above b's third."""
    return a[1] > b[2]


def headline(results: dict) -> dict:
    d, cfg = results["distributed"], results["config"]
    out = {f"{cfg['per_device']} per device: {MODE_LABELS[m]} test accuracy": round(d[m]["final_acc"], 3) for m in MODES}
    r = results.get("realistic")
    if r:
        out.update({f"{r['per_device']} per device: {MODE_LABELS[m]} test accuracy": round(r["acc"][m], 3)
                    for m in MODES})
        out.update({f"{r['per_device']} per device: {MODE_LABELS[m]} ms per step (median)":
                    round(1e3 * r["step_seconds"][m][0], 2) for m in MODES})
    out["running-mean error, per-device BN (rank 0's)"] = round(d["local"]["running"]["mean_error"], 3)
    out["running-mean error, synchronized BN"] = round(d["sync"]["running"]["mean_error"], 3)
    return out


def facts(results: dict) -> list:
    d, agree, cfg = results["distributed"], results["agreement"], results["config"]
    acc = {m: d[m]["final_acc"] for m in MODES}
    worst = max(max(a["first_forward"], a["first_grads"]) for a in agree.values())
    out = [
        (f"At {cfg['per_device']} samples per device, synchronized BN beats per-device BN by at least 0.02",
         acc["sync"] >= acc["local"] + 0.02),
        (f"At {cfg['per_device']} samples per device, GroupNorm beats per-device BN by at least 0.02",
         acc["group"] >= acc["local"] + 0.02),
        ("Synchronized running statistics are closer to the full-data statistics than rank 0's",
         d["sync"]["running"]["std_error"] < d["local"]["running"]["std_error"]),
        ("The one-process simulation reproduces the real run's first forward and gradients to 1e-9", worst < 1e-9),
    ]
    r = results.get("realistic")
    if r:
        out += [
            (f"At {r['per_device']} samples per device, per-device BN is within 0.01 of synchronized BN",
             abs(r["acc"]["sync"] - r["acc"]["local"]) <= 0.01),
            (f"At {r['per_device']} samples per device, a synchronized BN step is slower than a per-device one "
             f"beyond the timing noise (its all-reduce per BN layer and step)",
             _slower(r["step_seconds"]["sync"], r["step_seconds"]["local"])),
        ]
    return out


def figure(results: dict) -> list:
    """Eval accuracy over steps (real runs solid, simulated dotted) and the running-stats errors."""
    import plotly.graph_objects as go

    colors = {"local": "#D55E00", "sync": "#0072B2", "group": "#009E73"}
    acc = go.Figure()
    for m in MODES:
        r = results["distributed"][m]
        acc.add_trace(go.Scatter(x=r["steps"], y=r["acc"], name=f"{MODE_LABELS[m]} ({results['config']['world']} processes)",
                                 line=dict(color=colors[m])))
        s = results["simulated"][SIM_OF[m]]
        sim_label = MODE_LABELS[SIM_OF[m]] + (" (simulated)" if m == "group" else "")
        acc.add_trace(go.Scatter(x=s["steps"], y=s["acc"], name=sim_label,
                                 line=dict(color=colors[m], dash="dot")))
    acc.update_layout(title="Test accuracy (eval mode): real processes (solid) vs one-process simulation (dotted)",
                      xaxis_title="step", yaxis_title="test accuracy", yaxis_range=[0, 1], legend_title="run")
    rs = go.Figure()
    names = ["per-device BN (rank 0's stats)", "synchronized BN", "Ghost BN (simulated)", "full-batch BN (simulated)"]
    runs = [results["distributed"]["local"], results["distributed"]["sync"],
            results["simulated"]["ghost"], results["simulated"]["full"]]
    for key, label in (("mean_error", "mean error (in σ)"), ("std_error", "log-σ error")):
        rs.add_trace(go.Bar(x=names, y=[r["running"][key] for r in runs], name=label))
    rs.update_layout(title="Running statistics vs full-data statistics (lower is better)", barmode="group",
                     xaxis_title="run", yaxis_title="error", legend_title="measure")
    return [acc, rs]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m normviz.experiments.distributed")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    res = run(seed=args.seed, quick=args.quick)
    print(json.dumps({k: v for k, v in res.items() if k in ("agreement", "seconds")}, indent=1))
    print(claim(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())


SPEC = Experiment(
    key="distributed",
    title="Distributed training, for real: per-device BN vs synchronized BN vs GN",
    question="distributed",
    echoes="Wu & He 2018, Figure 1 (batch per GPU) and the SyncBN practice",
    paper=(_GN_FIG1,),
    look_for="Compare per-device BN, synchronized BN and GroupNorm at 2 samples per device and at 16, the "
             "running statistics each leaves behind, and what synchronizing costs per step.",
    recommendation="With 16–32 images per device, per-device BN is standard and works; with a handful, synchronize "
                   "BN (SyncBN) or use GroupNorm. SyncBN combines the count, Σx and Σ(x − μ)² of all devices "
                   "(averaging per-device variances would drop the spread between device means) and costs an "
                   "all-reduce per BN layer per step.",
    claim_text="Synced BN and GN beat per-device BN by at least 0.02 test accuracy, synced running "
               "statistics are closer to the full-data ones, and the one-process simulation "
               "reproduces the first forward and gradients to 1e-9.",
    how="2 CPU processes (torch.distributed, gloo, localhost) × 2 samples each, DDP with its default "
        "broadcast_buffers=True; MLP 64 → 64 → 64 → 10 ReLU, float64, SGD lr 0.02 momentum 0.9, "
        "1500 steps. Simulated: Ghost BN (ghost size 2) and BN on the global batch of 4. Then the same three "
        "real runs at 16 samples per device (400 steps), with each step's wall time.",
    notes="PyTorch's DDP broadcasts rank 0's buffers at every forward (broadcast_buffers=True), so "
          "per-device BN keeps rank 0's running statistics only. torch.nn.SyncBatchNorm refuses CPU "
          "tensors, so normviz all-reduces the statistics itself: the sample count and Σx, then Σ(x − μ)² "
          "around the global mean (two exact passes). The processes are forked from the one "
          "already running, so they do not import torch again.",
    full_seconds=150,
    run_fn=run,
    claim_fn=claim,
    figure_fn=figure,
    headline_fn=headline,
    facts_fn=facts,
)
