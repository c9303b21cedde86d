"""The fast numpy normalizations: ``normalize`` and ``normalize_weight``, driven by the registry.

All statistics norms share one computation. Every statistic they use is a combination of the
per-(n, c) *instance* moments over (H, W):

    μ_nc = mean_{h,w} x,        σ²_nc = mean_{h,w} (x − μ_nc)²

Equal-sized sets combine exactly by the law of total variance,
``Var_{c,h,w} = mean_c σ²_nc + Var_c μ_nc``, so LN, GN, BN and ghost BN are a few averages of
small (N, C) arrays away, read off each norm's pooled axes (``NormSpec.axes``). The big array is
read only twice: one pass for the instance moments (centred around a pilot mean, the accurate
shifted method, with a second pass only for rows whose pilot was far off), one to normalize. Both
work on cache-sized blocks. Norms this does not cover (PONO, element-wise ones) use their readable
reference (``normviz.norms.reference``), which is also what the tests hold this kernel to.

Conventions (those of ``torch.nn.functional``): training-mode batch statistics, biased
variance, ε inside the square root, no affine (γ = 1, β = 0).
"""
from __future__ import annotations

import numpy as np

from normviz.norms.reference import REFERENCES
from normviz.norms.table import NORMS, WEIGHT_NORMS, NormSpec, get_spec
from normviz.validate import (
    check_array,
    check_batch_values,
    check_eps,
    check_groups,
    check_probabilities,
    check_rho,
    check_spatial_values,
)

# --------------------------------------------------------------------------------------------
# Moments


BLOCK = 1 << 17  # elements per block: 512 KB of float32, so a block and its temporary fit in L2
PILOT_SAMPLES = 1021  # a prime, so the strided pilot sample walks across image columns
SHIFT_LIMIT = 16.0  # redo a row if (pilot − μ)² > 16·σ²: relative error of σ² stays ≲ 17·2⁻²³


def _blocks(R: int, M: int, size: int = BLOCK) -> list[tuple[slice, slice]]:
    """(row, column) slices that cover an R×M C-contiguous array in contiguous chunks of at most
    ~``size`` elements: pieces of one row when rows are long, groups of whole rows otherwise."""
    if M >= size:
        step = -(-M // -(-M // size))  # equal pieces, none tiny
        return [(slice(r, r + 1), slice(j, j + step)) for r in range(R) for j in range(0, M, step)]
    k = max(1, size // M)
    return [(slice(r, r + k), slice(None)) for r in range(0, R, k)]


def _centred_sums(rows: np.ndarray, K: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Σ (x − K) and Σ (x − K)² per row, in one blocked pass.

    Each block is centred into a reused cache-sized buffer and summed there with numpy's
    pairwise summation (error O(log n)·u, in float32 for float16/float32 inputs); the block
    sums are accumulated in float64.
    """
    R, M = rows.shape
    blocks = _blocks(R, M)
    buf = np.empty(max(rows[b].size for b in blocks), dtype=K.dtype)
    s1, s2 = np.zeros(R), np.zeros(R)
    for rs, cs in blocks:
        block = rows[rs, cs]
        d = buf[:block.size].reshape(block.shape)
        np.subtract(block, K[rs], out=d)
        s1[rs] += d.sum(axis=1)
        np.multiply(d, d, out=d)
        s2[rs] += d.sum(axis=1)
    return s1, s2


def instance_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-(n, c) mean and biased variance over (H, W).

    The shifted method: with K a pilot mean from a sparse strided sample of each row,
    ``μ = K + mean(x − K)`` and ``σ² = mean((x − K)²) − mean(x − K)²``, both sums taken in one
    pass (``_centred_sums``). This is exact algebra, and accurate in float32 as long as K is
    within a few σ of μ, even when |μ| ≫ σ (unlike a one-pass E[x²] − E[x]²). Rows whose pilot
    was more than 4σ off (rare: a sample of ~1000 elements) get a second pass around their
    now-known mean, the accurate two-pass method. Non-finite inputs give non-finite moments.

    Shape: (N, C, H, W) -> (N, C), (N, C), float64
    """
    N, C, H, W = x.shape
    R, M = N * C, H * W
    rows = np.ascontiguousarray(x).reshape(R, M)  # a view when x is contiguous
    work = np.result_type(x.dtype, np.float32)  # float16 is centred and summed in float32
    with np.errstate(invalid="ignore", over="ignore"):
        K = rows[:, ::max(1, M // PILOT_SAMPLES)].mean(axis=1, dtype=np.float64).astype(work)[:, None]
        s1, s2 = _centred_sums(rows, K)
        shift, var = s1 / M, s2 / M - (s1 / M) ** 2
        redo = np.flatnonzero(shift ** 2 > SHIFT_LIMIT * var)
        if redo.size:
            K[redo] = (K[redo, 0] + shift[redo]).astype(work)[:, None]
            t1, t2 = _centred_sums(rows[redo], K[redo])
            shift[redo], var[redo] = t1 / M, t2 / M - (t1 / M) ** 2
    mean = K[:, 0].astype(np.float64) + shift
    return mean.reshape(N, C), np.maximum(var, 0.0).reshape(N, C)


def _checked_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``instance_moments`` plus the finiteness check of ``check_array``, for free: a NaN or ±inf
    anywhere makes its row's moments non-finite, so only then is x scanned for the message."""
    mean, var = instance_moments(x)
    if np.isfinite(mean).all() and np.isfinite(var).all():
        return mean, var
    check_array(x)  # raises the student-facing message if x holds NaN or ±inf
    # x is finite but so large (|x| ≳ 1e19 in float32) that squares overflowed: use float64.
    return instance_moments(x.astype(np.float64))


def _pool(mean: np.ndarray, var: np.ndarray, axis) -> tuple[np.ndarray, np.ndarray]:
    """Combine equal-sized sets: μ = mean of μ_i, σ² = mean of σ²_i + variance of μ_i."""
    mu = mean.mean(axis=axis, keepdims=True)
    return mu, (var + (mean - mu) ** 2).mean(axis=axis, keepdims=True)


def _affine_per_nc(x: np.ndarray, shift: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(x − shift) · scale with shift, scale given per (n, c) in float64; result in x's dtype.

    The shift is split into its value rounded to x's dtype plus the remainder, so that large
    means lose nothing in float32: x − shift_hi is exact when x ≈ shift (Sterbenz). The three
    steps run block by block, so the output is written once and re-read from cache.
    """
    N, C, H, W = x.shape
    R, M = N * C, H * W
    rows = np.ascontiguousarray(x).reshape(R, M)
    hi = shift.reshape(R, 1).astype(x.dtype)
    lo = (shift.reshape(R, 1) - hi).astype(x.dtype)
    sc = scale.reshape(R, 1).astype(x.dtype)
    use_lo = bool(np.any(lo))
    out = np.empty((R, M), dtype=x.dtype)
    for rs, cs in _blocks(R, M):
        o = out[rs, cs]
        np.subtract(rows[rs, cs], hi[rs], out=o)
        if use_lo:
            o -= lo[rs]
        o *= sc[rs]
    return out.reshape(N, C, H, W)


def _check_param(spec: NormSpec, name: str, value, shape):
    """One parameter of ``spec``, validated by its kind; returns the cleaned value."""
    N, C, H, W = shape
    kind = spec.param(name).kind
    if kind == "divisor_C":
        return check_groups(C, value)
    if kind == "divisor_N":
        if value is None or not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1 or N % value:
            raise ValueError(
                f"{spec.name} needs a {name} that divides the batch size N={N}, got {value!r}; try one of "
                f"{', '.join(str(d) for d in range(1, N + 1) if N % d == 0)}.")
        check_batch_values((int(value), C, H, W), what=f"{spec.name} ({name}={value})")
        return int(value)
    if kind == "unit":
        return check_rho(value, C)
    if kind == "simplex":
        return check_probabilities(value, name=name, n=3)
    v = np.asarray(value, dtype=np.float64).reshape(-1)
    if v.size == 1:
        v = np.full(C, v[0])
    if v.shape != (C,) or not np.isfinite(v).all():
        raise ValueError(f"{name} must be a finite number or one per channel (C={C}), got {value!r}.")
    lowest = {"positive": (0.0, False), "at_least_1": (1.0, True), "non_negative": (0.0, True), "real": (-np.inf, True)}
    low, inclusive = lowest[kind]
    if (v < low).any() or (not inclusive and (v <= low).any()):
        rule = {"positive": "> 0", "at_least_1": "≥ 1", "non_negative": "≥ 0"}[kind]
        raise ValueError(f"{name} must be {rule} ({spec.param(name).help}), got {np.round(v, 4).tolist()}.")
    if not spec.param(name).per_channel and (v != v[0]).any():
        raise ValueError(f"{name} is one number for the whole layer, got {np.round(v, 4).tolist()}.")
    return v if spec.param(name).per_channel else float(v[0])


def _check_sets(spec: NormSpec, shape) -> None:
    """A centred statistic over a single value is no statistic: say so, the way torch does."""
    parts = [NORMS[k] for k in spec.mixes] or [spec]
    centred = [p for p in parts if p.centred]
    if any("N" in p.axes for p in centred):
        check_batch_values(shape, what=spec.name)
    if any(set(p.axes) == {"H", "W"} for p in centred):
        check_spatial_values(shape, what=spec.name)


def check_args(x, norm: str, params: dict, eps: float = 1e-5, *, scan=True):
    """Validate ``normalize``'s arguments against the registry; returns (spec, x, eps, params).

    ``params`` holds the norm's parameters by name (missing ones take their defaults); unknown
    names are errors. ``scan=False`` skips the NaN/inf scan of a 4-D float x (the moment pass
    detects non-finite values on its way).
    """
    spec = get_spec(norm)
    if spec.kind == "weight":
        raise ValueError(
            f"{spec.name} ({norm!r}) normalizes a layer's weights, not activations: use "
            f"normviz.norms.normalize_weight(w, {norm!r}) on a C_out×C_in×k×k weight tensor.")
    x = np.asarray(x)
    if scan or not (x.ndim == 4 and x.size and np.issubdtype(x.dtype, np.floating)):
        x = check_array(x)
    eps = check_eps(eps)
    unknown = set(params) - set(spec.param_names)
    if unknown:
        raise ValueError(f"{spec.name} takes no parameter {', '.join(sorted(unknown))}; its parameters: "
                         f"{', '.join(spec.param_names) or 'none'}.")
    _check_sets(spec, x.shape)
    clean = {}
    for p in spec.params:
        value = params.get(p.name, p.default)
        clean[p.name] = _check_param(spec, p.name, value, x.shape)
    return spec, x, eps, clean


def _set_statistics(mean, var, spec: NormSpec, params: dict):
    """μ and σ² (or ν², the mean of squares) of every element's set, as (N, C) arrays, from the
    instance moments: pool along the spec's non-spatial pooled axes."""
    N, C = mean.shape
    mu, v = mean, var
    if "C" in spec.axes:
        mu, v = _pool(mu, v, axis=1)
    if "C/G" in spec.axes:
        G = params["groups"]
        mu, v = _pool(mu.reshape(N, G, C // G), v.reshape(N, G, C // G), axis=2)
        mu, v = mu.repeat(C // G, axis=2).reshape(N, C), v.repeat(C // G, axis=2).reshape(N, C)
    if "N" in spec.axes:
        mu, v = _pool(mu, v, axis=0)
    if "N/g" in spec.axes:
        g = params["ghost_size"]
        mu, v = _pool(mu.reshape(N // g, g, C), v.reshape(N // g, g, C), axis=1)
        mu, v = np.broadcast_to(mu, (N // g, g, C)).reshape(N, C), np.broadcast_to(v, (N // g, g, C)).reshape(N, C)
    mu, v = np.broadcast_to(mu, (N, C)), np.broadcast_to(v, (N, C))
    if not spec.centred:  # mean of squares ν² = σ² + μ², and nothing is subtracted
        return np.zeros((N, C)), v + mu ** 2
    return mu, v


def _spatially_pooled(spec: NormSpec) -> bool:
    return {"H", "W"} <= set(spec.axes)


def normalize(x, norm: str, *, groups: int = 2, eps: float = 1e-5, rho=None, mean_weights=None,
              var_weights=None, ghost_size: int | None = None, **params) -> np.ndarray:
    r"""Normalize an N×C×H×W array with the training-mode statistics of ``norm``.

    .. math::  \hat x = \frac{x - \mu_S}{\sqrt{\sigma^2_S + \epsilon}}

    where S is the set the norm pools over for that element (``NORMS[norm].pools``), σ² is the
    biased variance and ε sits inside the root, as in ``torch.nn.functional``. RMS and FRN use
    the mean of squares and subtract nothing. ``batch_instance`` returns ρ·BN(x) + (1 − ρ)·IN(x)
    with ``rho`` a scalar or one value per channel in [0, 1]; ``switchable`` blends the IN, LN
    and BN means with ``mean_weights`` and their variances with ``var_weights`` (probabilities in
    the order instance, layer, batch). ``ghost_batch`` computes BN on chunks of ``ghost_size``
    samples; ``batch_renorm`` takes the running statistics (``running_mean``, ``running_std``)
    and the clip bounds ``r_max``, ``d_max``. Other parameters of a norm (``NORMS[norm].params``)
    are keyword arguments too.

    Shape:
        x: (N, C, H, W), any float dtype -> same shape and dtype.

    Example: ``normalize(x, "group", groups=C)`` equals ``normalize(x, "instance")`` and
    ``groups=1`` equals ``"layer"``.
    """
    named = {"groups": groups, "rho": rho, "mean_weights": mean_weights, "var_weights": var_weights,
             "ghost_size": ghost_size}
    spec = get_spec(norm)
    given = {k: v for k, v in named.items() if k in spec.param_names and (v is not None or k == "groups")}
    unknown_named = {k for k, v in named.items() if v is not None and k not in spec.param_names and k != "groups"}
    spec, x, eps, p = check_args(x, norm, {**given, **params, **{k: named[k] for k in unknown_named}}, eps,
                                 scan=not _spatially_pooled(spec))
    if spec.is_elementwise or not (_spatially_pooled(spec) or spec.is_mixture):
        return REFERENCES[norm](x.astype(np.float64), eps, **p).astype(x.dtype)
    mean, var = _checked_moments(x)
    if spec.mix == "outputs":  # ρ·BN(x) + (1 − ρ)·IN(x): again affine per (n, c)
        (mu_a, v_a), (mu_b, v_b) = (_set_statistics(mean, var, NORMS[k], p) for k in spec.mixes)
        r = p["rho"][None, :]  # (1, C)
        s_a, s_b = r / np.sqrt(v_a + eps), (1 - r) / np.sqrt(v_b + eps)
        a = s_a + s_b
        m = np.where(a > 0, (s_a * mu_a + s_b * mu_b) / np.where(a > 0, a, 1.0), 0.0)
        return _affine_per_nc(x, m, a)
    if spec.mix == "statistics":
        parts = [_set_statistics(mean, var, NORMS[k], p) for k in spec.mixes]
        mu = sum(w * part[0] for w, part in zip(p["mean_weights"], parts))
        v = sum(w * part[1] for w, part in zip(p["var_weights"], parts))
        return _affine_per_nc(x, mu, 1.0 / np.sqrt(v + eps))
    mu, v = _set_statistics(mean, var, spec, p)
    if spec.kind == "stateful":  # Batch Renorm: x̂·r + d = (x − (μ_B − d·σ_B/r))·r/σ_B
        sigma_b = np.sqrt(v + eps)
        r = np.clip(sigma_b / p["running_std"][None, :], 1 / p["r_max"], p["r_max"])
        d = np.clip((mu - p["running_mean"][None, :]) / p["running_std"][None, :], -p["d_max"], p["d_max"])
        return _affine_per_nc(x, mu - d * sigma_b / r, r / sigma_b)
    return _affine_per_nc(x, mu, 1.0 / np.sqrt(v + eps))


# --------------------------------------------------------------------------------------------
# Weight-side norms


def normalize_weight(w, norm: str, *, eps: float = 1e-5) -> np.ndarray:
    r"""Normalize a weight tensor per output unit (the first axis).

    ``weight`` (Weight Norm with g = 1): :math:`w_i = v_i / \lVert v_i \rVert`, as
    ``torch.nn.utils.parametrizations.weight_norm`` with g = 1 (no ε: a zero row is an error).
    ``weight_standardization``: :math:`\hat W_i = (W_i - \bar W_i) / (\mathrm{std}(W_i) + \epsilon)`
    with the unbiased std and ε added to the std, as in the official WS layer.

    Shape:
        w: (C_out, C_in, k, k) or (C_out, C_in) -> same shape and dtype.
    """
    spec = get_spec(norm)
    if not spec.is_weight:
        raise ValueError(
            f"{spec.name} ({norm!r}) normalizes activations, not weights: use "
            f"normviz.norms.normalize(x, {norm!r}) on an N×C×H×W array. Weight-side keys: "
            f"{', '.join(WEIGHT_NORMS)}."
        )
    w = np.asarray(w)
    if w.ndim not in (2, 4):
        raise ValueError(f"A weight tensor must be C_out×C_in (linear) or C_out×C_in×k×k (conv), got shape {w.shape}.")
    w = check_array(w, name="w", ndim=w.ndim, layout="C_out×C_in×k×k")
    eps = check_eps(eps)
    rows = w.reshape(w.shape[0], -1).astype(np.float64)
    if spec.centred and rows.shape[1] < 2:
        raise ValueError(f"{spec.name} needs at least 2 weights per output filter (C_in·k·k ≥ 2) for a mean "
                         f"and a standard deviation.")
    if not spec.centred and (zero := np.flatnonzero(~rows.any(axis=1))).size:
        raise ValueError(f"{spec.name} divides by ‖v‖, but output unit(s) {zero.tolist()} have an all-zero "
                         f"weight vector (‖v‖ = 0). Initialize v randomly.")
    return REFERENCES[norm](rows, eps).reshape(w.shape).astype(w.dtype)
