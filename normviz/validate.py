"""Input checks that explain themselves.

Each ``check_*`` returns the cleaned value or raises ``ValueError`` with a sentence that names
the parameter, shows the value and says how to fix it (the scikit-learn way). The pages show
these messages as they are, so they are written for a student, not for a developer.
"""
from __future__ import annotations

import numpy as np


def divisors(n: int) -> list[int]:
    """All positive divisors of ``n`` in increasing order (the legal G for C = n)."""
    return [d for d in range(1, n + 1) if n % d == 0]


def check_array(x, *, name: str = "x", ndim: int = 4, layout: str = "N×C×H×W") -> np.ndarray:
    """A finite floating-point array with ``ndim`` axes (ints are promoted to float64)."""
    x = np.asarray(x)
    if x.ndim != ndim:
        raise ValueError(
            f"{name} must be a {ndim}-D array laid out as {layout}, but it has {x.ndim} "
            f"dimension(s) with shape {x.shape}. Reshape it, e.g. x.reshape(1, 1, *x.shape) "
            f"for a single {x.ndim}-D map." if x.ndim < ndim else
            f"{name} must be a {ndim}-D array laid out as {layout}, but it has {x.ndim} "
            f"dimensions with shape {x.shape}."
        )
    if not np.issubdtype(x.dtype, np.floating):
        if np.issubdtype(x.dtype, np.number) or x.dtype == bool:
            x = x.astype(np.float64)
        else:
            raise ValueError(f"{name} must hold numbers, not {x.dtype}.")
    if 0 in x.shape:
        raise ValueError(f"{name} is empty (shape {x.shape}); every axis needs at least one element.")
    if not np.isfinite(x).all():
        bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        raise ValueError(
            f"{name} contains {bad} non-finite value(s) (NaN or ±inf); normalization statistics "
            f"would be NaN. Replace them first, e.g. np.nan_to_num({name})."
        )
    return x


def check_groups(C: int, G: int) -> int:
    """G must be a positive divisor of C (GroupNorm splits C channels into G equal groups)."""
    if not isinstance(G, (int, np.integer)) or isinstance(G, bool) or G < 1:
        raise ValueError(f"groups must be a positive whole number, got G={G!r}.")
    if C % G:
        raise ValueError(
            f"GroupNorm needs C divisible by G: C={C}, G={G}; try G in "
            f"{', '.join(map(str, divisors(C)))}."
        )
    return int(G)


def check_eps(eps: float) -> float:
    eps = float(eps)
    if not np.isfinite(eps) or eps < 0:
        raise ValueError(f"eps must be a finite number ≥ 0, got eps={eps!r}.")
    return eps


def check_batch_values(shape: tuple[int, ...], *, what: str = "BatchNorm") -> None:
    """Training-mode BN needs more than one value per channel (PyTorch raises otherwise)."""
    N, C, H, W = shape
    if N * H * W == 1:
        raise ValueError(
            f"{what} in training mode needs more than 1 value per channel, but N·H·W = "
            f"{N}·{H}·{W} = 1 (shape {shape}): the mean would equal the value and the variance "
            f"would be 0. Use a batch of at least 2, a larger H·W, eval mode with running "
            f"statistics, or a batch-independent norm (LayerNorm, GroupNorm)."
        )


def check_spatial_values(shape: tuple[int, ...], *, what: str = "InstanceNorm") -> None:
    """Instance statistics need more than one spatial element per (n, c)."""
    N, C, H, W = shape
    if H * W == 1:
        raise ValueError(
            f"{what} needs more than 1 spatial element per (n, c), but H·W = {H}·{W} = 1 "
            f"(shape {shape}): each channel of each sample would be normalized on its own "
            f"single value. Use H·W ≥ 2, or LayerNorm/GroupNorm, which pool over channels too."
        )


def check_probabilities(w, *, name: str, n: int) -> np.ndarray:
    """A length-``n`` vector of non-negative weights that sums to 1."""
    w = np.asarray(w, dtype=np.float64).reshape(-1)
    if w.shape != (n,):
        raise ValueError(f"{name} needs {n} weights (instance, layer, batch), got {w.size}.")
    if not np.isfinite(w).all() or (w < 0).any() or abs(w.sum() - 1.0) > 1e-6:
        raise ValueError(
            f"{name} must be probabilities (≥ 0, summing to 1), got {np.round(w, 4).tolist()} "
            f"(sum {w.sum():.4g}). Pass softmax(logits), e.g. np.exp(l) / np.exp(l).sum()."
        )
    return w


def check_rho(rho, C: int) -> np.ndarray:
    """ρ for Batch-Instance Norm: a scalar or one value per channel, each in [0, 1]."""
    if rho is None:
        raise ValueError("batch_instance needs rho (a number in [0, 1], or one per channel); "
                         "rho=1 is pure BatchNorm, rho=0 pure InstanceNorm.")
    r = np.asarray(rho, dtype=np.float64).reshape(-1)
    if r.size == 1:
        r = np.full(C, r[0])
    if r.shape != (C,):
        raise ValueError(f"rho must be a scalar or have one value per channel (C={C}), got {r.size} values.")
    if not np.isfinite(r).all() or (r < 0).any() or (r > 1).any():
        raise ValueError(f"rho must lie in [0, 1] (1 = BatchNorm, 0 = InstanceNorm), got {np.round(r, 4).tolist()}.")
    return r
