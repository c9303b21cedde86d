"""BatchNorm's running statistics and eval mode, with PyTorch's conventions (and Keras' momentum).

Shapes: activations (N, C, H, W); running statistics (C,).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from normviz.norms.kernel import _affine_per_nc, _pool, instance_moments
from normviz.validate import check_array, check_batch_values, check_eps


def keras_to_torch_momentum(m: float) -> float:
    """Keras ``r ← m·r + (1 − m)·s`` equals PyTorch ``r ← (1 − p)·r + p·s`` with p = 1 − m."""
    if not 0 <= m <= 1:
        raise ValueError(f"Keras momentum must lie in [0, 1], got {m}.")
    return 1.0 - m


torch_to_keras_momentum = keras_to_torch_momentum  # the map p ↔ 1 − p is its own inverse


@dataclass(frozen=True)
class RunningStats:
    """BatchNorm's running buffers, PyTorch conventions: start at μ = 0, σ² = 1.

    Shape: mean, var (C,).
    """

    mean: np.ndarray
    var: np.ndarray
    num_batches_tracked: int = 0

    @classmethod
    def initial(cls, C: int) -> "RunningStats":
        return cls(np.zeros(C), np.ones(C), 0)


def update_running(stats: RunningStats, x, *, momentum: float | None = 0.1) -> RunningStats:
    r"""One training step's update of BN's running statistics, exactly as PyTorch does it.

    .. math::  r \leftarrow (1 - p)\,r + p\,s

    with s the batch mean, and for the variance the **unbiased** batch variance
    ``n/(n − 1)·σ²_B`` (n = N·H·W), although the forward pass normalizes with the biased one.
    ``momentum=None`` gives the cumulative average ``r ← r + (s − r)/t``.

    Shape: x (N, C, H, W); stats (C,) -> new stats (C,).
    """
    x = check_array(x)
    check_batch_values(x.shape)
    N, C, H, W = x.shape
    mean, var = _pool(*instance_moments(x), axis=0)
    mean, var = mean.reshape(C), var.reshape(C)
    n = N * H * W
    unbiased = var * n / (n - 1)
    t = stats.num_batches_tracked + 1
    p = 1.0 / t if momentum is None else float(momentum)
    return RunningStats((1 - p) * stats.mean + p * mean, (1 - p) * stats.var + p * unbiased, t)


def normalize_eval(x, running_mean, running_var, *, eps: float = 1e-5) -> np.ndarray:
    """BatchNorm in eval mode: a fixed affine map per channel, ``(x − r_μ) / sqrt(r_σ² + ε)``.

    Shape: x (N, C, H, W); running_mean, running_var (C,) -> (N, C, H, W).
    """
    x = check_array(x)
    eps = check_eps(eps)
    N, C, H, W = x.shape
    rm = np.asarray(running_mean, dtype=np.float64).reshape(1, -1)
    rv = np.asarray(running_var, dtype=np.float64).reshape(1, -1)
    for r in (rm, rv):  # check before broadcasting: a length-1 vector would broadcast silently
        if r.shape[1] != C:
            raise ValueError(f"running statistics are for {r.shape[1]} channel(s) but the input has C={C}; "
                             f"gather them on inputs with the same channels.")
    rm, rv = np.broadcast_to(rm, (N, C)), np.broadcast_to(rv, (N, C))
    return _affine_per_nc(x, rm, 1.0 / np.sqrt(rv + eps))
