"""A small plain training loop for experiments that look inside a model the training lab builds
differently (Keras-style norm options, ‖v‖ of Weight Norm, percentiles of a chosen layer).

Data come from ``normviz.training.load_data`` (the digits and their variants, same split);
norms from ``normviz.norms.torch_modules``. Deterministic (one thread, seeded init and data order).
"""
from __future__ import annotations

import time
from typing import Callable


def digits(model: str = "cnn", dataset: str = "digits"):
    """(X_train, y_train, X_test, y_test) tensors, images (N, 1, 8, 8) for "cnn", (N, 64) for "mlp"."""
    from normviz.training import TrainConfig, load_data

    return load_data(TrainConfig(model=model, dataset=dataset))


def cnn(norm: str, *, widths=(16, 32), seed: int = 0, norm_opts: dict | None = None):
    """conv 3×3 (padding 1) → norm → ReLU per width, at 8×8, then global average pool → linear(10).

    ``norm`` is a key of ``normviz.norms.torch_modules.normed_layer``; ``norm_opts`` go to the norm's
    constructor (e.g. ``momentum``, ``eps``, ``groups``). Returns ``nn.Sequential``; block i is
    ``Sequential(conv, norm, ReLU)``.
    """
    import torch
    from torch import nn

    from normviz.norms.torch_modules import normed_layer

    torch.manual_seed(seed)
    blocks, c_in = [], 1
    for c in widths:
        layer, nm = normed_layer(norm, nn.Conv2d(c_in, c, 3, padding=1), c, dims=2, **(norm_opts or {}))
        blocks.append(nn.Sequential(layer, nm, nn.ReLU()))
        c_in = c
    return nn.Sequential(*blocks, nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, 10)))


def error(model, X, y, batch: int = 512) -> float:
    """Error in % of ``model`` in eval mode (restores the mode it found)."""
    import torch

    was = model.training
    model.eval()
    with torch.no_grad():
        wrong = sum((model(X[i:i + batch]).argmax(1) != y[i:i + batch]).sum().item()
                    for i in range(0, len(y), batch))
    model.train(was)
    return 100.0 * wrong / len(y)


def fit(model, data, *, steps: int, batch_size: int, lr: float, momentum: float = 0.9, seed: int = 0,
        log_every: int = 50, measure: Callable | None = None, progress: Callable | None = None,
        label: str = "", weight_decay: float = 0.0) -> dict:
    """Train with SGD on mini-batches; every ``log_every`` steps log errors and ``measure(model)``.

    ``weight_decay`` is torch's L2 term (``g ← g + λ·w``) on every parameter.

    Returns ``{"step", "train_error", "val_error", "loss", "sec_per_step", "measure"}`` lists:
    ``train_error`` is the train-mode error on the mini-batches since the last log (as the GN
    paper's training curves), ``val_error`` the eval-mode error on the test images.
    """
    import torch
    import torch.nn.functional as F

    from normviz.norms.torch_modules import clip_gates

    Xtr, ytr, Xte, yte = data
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        gen = torch.Generator().manual_seed(seed + 7919)
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
        log = {"step": [], "train_error": [], "val_error": [], "loss": [], "sec_per_step": [], "measure": []}

        def record(step, wrong, seen, loss_sum, n, secs):
            log["step"].append(step)
            log["train_error"].append(100.0 * wrong / seen if seen else error(model, Xtr, ytr))
            log["val_error"].append(error(model, Xte, yte))
            log["loss"].append(loss_sum / n if n else None)
            log["sec_per_step"].append(secs / n if n else None)
            log["measure"].append(measure(model) if measure else None)

        record(0, 0, 0, 0.0, 0, 0.0)
        n_batches = len(ytr) // batch_size
        pos, perm = n_batches, None
        wrong = seen = n = 0
        loss_sum = secs = 0.0
        model.train()
        for step in range(1, steps + 1):
            if pos >= n_batches:
                perm, pos = torch.randperm(len(ytr), generator=gen), 0
            idx = perm[pos * batch_size:(pos + 1) * batch_size]
            pos += 1
            t0 = time.perf_counter()
            out = model(Xtr[idx])
            loss = F.cross_entropy(out, ytr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            clip_gates(model)
            secs += time.perf_counter() - t0
            wrong += (out.argmax(1) != ytr[idx]).sum().item()
            seen += len(idx)
            loss_sum += loss.item()
            n += 1
            if step % log_every == 0 or step == steps:
                record(step, wrong, seen, loss_sum, n, secs)
                wrong = seen = n = 0
                loss_sum = secs = 0.0
                if progress:
                    progress(step / steps, f"{label} step {step} of {steps}")
        return log
    finally:
        torch.set_num_threads(before)


def mlp(norm: str, *, widths=(64, 64), seed: int = 0, n_in: int = 64, norm_opts: dict | None = None):
    """linear → norm → ReLU per width, then linear(10), on flat (N, ``n_in``) inputs.

    ``norm`` as in :func:`cnn` (``dims=1``: BN per feature over the batch, LN over a sample's
    features, GN over groups of features). Returns ``nn.Sequential``; block i is
    ``Sequential(linear, norm, ReLU)``.
    """
    import torch
    from torch import nn

    from normviz.norms.torch_modules import normed_layer

    torch.manual_seed(seed)
    blocks, d_in = [], n_in
    for d in widths:
        layer, nm = normed_layer(norm, nn.Linear(d_in, d), d, dims=1, **(norm_opts or {}))
        blocks.append(nn.Sequential(layer, nm, nn.ReLU()))
        d_in = d
    return nn.Sequential(*blocks, nn.Linear(d_in, 10))
