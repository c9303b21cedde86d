"""Training the tiny transformer with its instruments, as a stream of snapshots.

:func:`train` yields one JSON-ready dict per ``log_every`` steps (and the last step); the page
runs :func:`snapshots` in a TrainingService worker (portable numerics) and draws them live.
Each snapshot holds

- ``step``, ``loss`` (the mini-batch's, before the update), ``test_loss``, ``test_acc``
  (per token), ``seq_acc`` (whole sequence sorted right), ``lr`` (after warm-up);
- ``grad_norm``: ‖∂loss/∂θ‖₂ over each block's parameters, from this step's backward (at step
  0: the gradient at initialisation, Xiong et al.'s Figure 3 quantity);
- ``resid_norm``: the residual stream's mean per-token L2 norm ‖x‖₂ on the probe sequences,
  after the embeddings (index 0) and after each block;
- ``norm_stats``: per norm layer, the mean over probe tokens of its input's per-token μ and σ
  (over D), and for the first probe sequence each token's μ and σ;
- ``learned``: per norm layer, what it learns beyond γ, β (DyT's α);
- ``sec_per_step`` (mean since the last snapshot, instruments excluded), ``elapsed``,
  ``diverged``, ``message``.

The last snapshot also has ``scatter``: input and output of the last block's first norm for
four channels of every probe token (the DyT paper's Figure 2 view), and ``attention``: the first
probe sequence's attention weights in each block, (H, T, T).
"""
from __future__ import annotations

import math
import time
from typing import Iterator

import numpy as np

from normviz.transformer.config import TransformerConfig
from normviz.transformer.task import sort_batch, test_set

SCATTER_CHANNELS = 4


def _block_grad_norms(model) -> list[float]:
    out = []
    for b in model.blocks:
        sq = sum(float((p.grad.detach() ** 2).sum()) for p in b.parameters() if p.grad is not None)
        out.append(math.sqrt(sq))
    return out


def trace(model, idx) -> dict:
    """One forward in eval mode recording the residual stream and every norm's input and output.

    Returns ``{"resid": [(B, T, D) after the embeddings, after block 1, ...],
    "norms": {name: (input, output)}, "logits": (B, T, V)}``.
    """
    import torch

    seen, hooks = {}, []
    for name, mod in model.norms():
        hooks.append(mod.register_forward_hook(
            lambda m, inp, out, name=name: seen.__setitem__(name, (inp[0].detach(), out.detach()))))
    try:
        with torch.no_grad():
            B, T = idx.shape
            x = model.tok(idx) + model.pos(torch.arange(T))
            resid = [x]
            for b in model.blocks:
                x = b(x)
                resid.append(x)
            logits = model.head(model.norm_f(x))
    finally:
        for h in hooks:
            h.remove()
    return {"resid": resid, "norms": seen, "logits": logits}


def _divergence(cfg: TransformerConfig, loss: float, start: float, step: int) -> str:
    """'' while the run is healthy, else the sentence that says why it stopped."""
    if not math.isfinite(loss):
        return f"Diverged at step {step}: the loss became {loss} (lr {cfg.lr:g}, warm-up {cfg.warmup} steps)."
    limit = min(cfg.diverge_factor * start, max(cfg.diverge_ceiling, 2 * start))
    if loss > limit:
        return (f"Diverged at step {step}: loss {loss:.3g} exceeds {limit:.3g} (start {start:.3g}); "
                f"lr {cfg.lr:g}, warm-up {cfg.warmup} steps.")
    if step >= cfg.steps // 2 and step >= 50 and loss > cfg.stall_fraction * start:
        return (f"Stalled: at step {step} the loss {loss:.3g} is still above {cfg.stall_fraction:g}× its start "
                f"{start:.3g} (lr {cfg.lr:g}, warm-up {cfg.warmup} steps): the run never trained, counted as diverged.")
    return ""


def train(cfg: TransformerConfig) -> Iterator[dict]:
    """Train ``cfg`` and yield a snapshot every ``log_every`` steps and at the end (or at divergence)."""
    import torch
    import torch.nn.functional as F

    from normviz.training import threads
    from normviz.transformer.model import build

    with threads(1):
        torch.manual_seed(cfg.seed)
        model = build(cfg)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, betas=(0.9, 0.98))
        rng = np.random.default_rng(cfg.seed)
        Xte, Yte = (torch.from_numpy(a) for a in test_set(cfg.seed, cfg.n_test, cfg.seq_len, cfg.vocab))
        probe = Xte[:cfg.n_probe]
        start, t_train, n_timed, t0 = None, 0.0, 0, time.perf_counter()
        for step in range(cfg.steps):
            lr = cfg.lr * min(1.0, (step + 1) / cfg.warmup) if cfg.warmup else cfg.lr
            for g in opt.param_groups:
                g["lr"] = lr
            x, y = (torch.from_numpy(a) for a in sort_batch(rng, cfg.batch_size, cfg.seq_len, cfg.vocab))
            ts = time.perf_counter()
            logits = model(x)                                             # (B, T, V)
            loss = F.cross_entropy(logits.reshape(-1, cfg.vocab), y.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            t_train += time.perf_counter() - ts
            loss_v = float(loss.detach())
            start = loss_v if start is None else start
            message = _divergence(cfg, loss_v, start, step)
            last = step == cfg.steps - 1 or bool(message)
            if step % cfg.log_every == 0 or last:
                snap = _snapshot(cfg, model, step, loss_v, lr, Xte, Yte, probe, last)
                snap.update(sec_per_step=t_train / max(n_timed, 1) if n_timed else None,
                            elapsed=time.perf_counter() - t0, diverged=bool(message), message=message)
                if last and not message:
                    snap["message"] = (f"Finished {cfg.steps} steps: test accuracy {snap['test_acc']:.3f} per token, "
                                       f"{snap['seq_acc']:.3f} of sequences sorted exactly.")
                yield snap
                if message:
                    return
            ts = time.perf_counter()
            opt.step()
            t_train += time.perf_counter() - ts
            n_timed += 1


def _snapshot(cfg, model, step, loss, lr, Xte, Yte, probe, last) -> dict:
    import torch
    import torch.nn.functional as F

    grads = _block_grad_norms(model)
    model.eval()
    with torch.no_grad():
        logits = model(Xte)
        test_loss = float(F.cross_entropy(logits.reshape(-1, cfg.vocab), Yte.reshape(-1)))
        right = logits.argmax(-1) == Yte
    tr = trace(model, probe)
    model.train()
    stats, learned = [], []
    for name, mod in model.norms():
        inp = tr["norms"][name][0]                                         # (n_probe, T, D)
        mu, sd = inp.mean(-1), inp.std(-1, unbiased=False)                 # (n_probe, T): per token
        stats.append({"layer": name, "mu_mean": float(mu.mean()), "sigma_mean": float(sd.mean()),
                      "sigma_min": float(sd.min()), "sigma_max": float(sd.max()),
                      "mu_token": mu[0].tolist(), "sigma_token": sd[0].tolist()})
        learned.append({"layer": name, **(mod.inner.learned() if hasattr(mod.inner, "learned") else {})})
    snap = {"step": step, "loss": loss, "test_loss": test_loss, "test_acc": float(right.float().mean()),
            "seq_acc": float(right.all(-1).float().mean()), "lr": lr, "grad_norm": grads,
            "resid_norm": [float(r.norm(dim=-1).mean()) for r in tr["resid"]],
            "norm_stats": stats, "learned": learned}
    if last:
        snap["scatter"] = _scatter(model, tr)
        snap["attention"] = _attention(model, probe[:1])
    return snap


def _scatter(model, tr) -> dict:
    """Input and output of the last block's first norm, for SCATTER_CHANNELS channels of every probe
    token (empty when the model has no norm)."""
    names = [n for n, _ in model.norms() if n.startswith(f"block {len(model.blocks)} ")]
    if not names:
        return {}
    inp, out = tr["norms"][names[0]]                                        # (n_probe, T, D) each
    D = inp.shape[-1]
    channels = [round(i * (D - 1) / (SCATTER_CHANNELS - 1)) for i in range(SCATTER_CHANNELS)]
    return {"layer": names[0], "channels": channels,
            "x": [inp[..., c].reshape(-1).tolist() for c in channels],
            "y": [out[..., c].reshape(-1).tolist() for c in channels]}


def _attention(model, seq) -> list:
    """Per block, the attention weights of one sequence: (H, T, T) as nested lists."""
    import torch

    for b in model.blocks:
        b.attn.keep_weights = True
    try:
        model.eval()
        with torch.no_grad():
            model(seq)
        return [b.attn.last_weights[0].tolist() for b in model.blocks]
    finally:
        model.train()
        for b in model.blocks:
            b.attn.keep_weights, b.attn.last_weights = False, None


def snapshots(config: dict) -> Iterator[dict]:
    """:func:`train` for a worker process: config fields in, snapshot dicts out."""
    yield from train(TransformerConfig(**config))


def run(cfg: TransformerConfig) -> list[dict]:
    """Every snapshot of a run (for experiments and tests)."""
    return list(train(cfg))
