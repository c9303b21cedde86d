"""The numpy reference normalizations (the registry itself is ``normviz.registry``).

All activation norms share one computation. Every statistic they use is a combination of the
per-(n, c) *instance* moments over (H, W):

    μ_nc = mean_{h,w} x,        σ²_nc = mean_{h,w} (x − μ_nc)²

Equal-sized sets combine exactly by the law of total variance,
``Var_{c,h,w} = mean_c σ²_nc + Var_c μ_nc``, so LN, GN, BN and ghost BN are a few averages of
small (N, C) arrays away. The big array is read only twice: one pass for the instance moments
(centred around a pilot mean, the accurate shifted method, with a second pass only for rows whose
pilot was far off), one to normalize. Both work on cache-sized blocks.

Conventions (those of ``torch.nn.functional``): training-mode batch statistics, biased
variance, ε inside the square root, no affine (γ = 1, β = 0).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from normviz.validate import (
    check_array,
    check_batch_values,
    check_eps,
    check_groups,
    check_probabilities,
    check_rho,
    check_spatial_values,
)
from normviz.registry import (  # noqa: F401  (re-exported: normviz.norms.NORMS is public API)
    ACTIVATION_NORMS,
    AXES,
    MIXTURES,
    NORMS,
    PARTITION_NORMS,
    WEIGHT_NORMS,
    NormSpec,
    get_spec,
)


def _check_activation_key(norm: str) -> NormSpec:
    spec = get_spec(norm)
    if spec.kind == "weight":
        raise ValueError(
            f"{spec.name} ({norm!r}) normalizes a layer's weights, not activations: use "
            f"normviz.norms.normalize_weight(w, {norm!r}) on a C_out×C_in×k×k weight tensor."
        )
    if spec.kind == "stateful":
        raise ValueError(
            f"{spec.name} ({norm!r}) needs running statistics carried across steps, which a "
            f"single call cannot have: use normviz.modules.BatchRenorm (a torch module) instead."
        )
    return spec


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


def _grouped(mean, var, norm: str, groups: int, ghost_size: int | None):
    """Statistics of a partition norm from instance moments, broadcast back to (N, C)."""
    N, C = mean.shape
    if norm in ("instance", "frn"):
        mu, v = mean, var
    elif norm in ("layer", "rms"):
        mu, v = _pool(mean, var, axis=1)
    elif norm == "batch":
        mu, v = _pool(mean, var, axis=0)
    elif norm == "group":
        g_mean, g_var = _pool(mean.reshape(N, groups, C // groups), var.reshape(N, groups, C // groups), axis=2)
        mu, v = g_mean.repeat(C // groups, axis=2).reshape(N, C), g_var.repeat(C // groups, axis=2).reshape(N, C)
    elif norm == "ghost_batch":
        k = N // ghost_size
        g_mean, g_var = _pool(mean.reshape(k, ghost_size, C), var.reshape(k, ghost_size, C), axis=1)
        mu = np.broadcast_to(g_mean, (k, ghost_size, C)).reshape(N, C)
        v = np.broadcast_to(g_var, (k, ghost_size, C)).reshape(N, C)
    else:  # pragma: no cover - guarded by callers
        raise AssertionError(norm)
    mu, v = np.broadcast_to(mu, (N, C)), np.broadcast_to(v, (N, C))
    if norm in ("rms", "frn"):
        # Mean of squares, not variance: ν² = σ² + μ², and nothing is subtracted.
        return np.zeros((N, C)), v + mu ** 2
    return mu, v


def _check_args(x, norm, groups, eps, ghost_size, *, finite_later=False):
    """Validate normalize()'s arguments. ``finite_later``: skip the NaN/inf scan of x for a
    4-D float array, because ``_checked_moments`` detects non-finite values on its way."""
    spec = _check_activation_key(norm)
    x = np.asarray(x)
    if not (finite_later and x.ndim == 4 and x.size and np.issubdtype(x.dtype, np.floating)):
        x = check_array(x)
    eps = check_eps(eps)
    N, C, H, W = x.shape
    if norm == "group":
        groups = check_groups(C, groups)
    if norm in ("batch", "batch_instance", "switchable"):
        check_batch_values(x.shape, what=spec.name)
    if norm in ("instance", "batch_instance", "switchable"):
        check_spatial_values(x.shape, what=spec.name)
    if norm == "ghost_batch":
        if ghost_size is None or not isinstance(ghost_size, (int, np.integer)) or ghost_size < 1 or N % ghost_size:
            raise ValueError(
                f"Ghost BatchNorm needs a ghost_size that divides the batch size N={N}, got "
                f"{ghost_size!r}; try one of {', '.join(str(d) for d in range(1, N + 1) if N % d == 0)}."
            )
        check_batch_values((ghost_size, C, H, W), what=f"Ghost BatchNorm (ghost_size={ghost_size})")
    return x, eps, groups


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


def normalize(x, norm: str, *, groups: int = 2, eps: float = 1e-5, rho=None,
              mean_weights=None, var_weights=None, ghost_size: int | None = None) -> np.ndarray:
    r"""Normalize an N×C×H×W array with the training-mode statistics of ``norm``.

    .. math::  \hat x = \frac{x - \mu_S}{\sqrt{\sigma^2_S + \epsilon}}

    where S is the set the norm pools over for that element (``NORMS[norm].pools``), σ² is the
    biased variance and ε sits inside the root, as in ``torch.nn.functional``. RMS and FRN use
    the mean of squares and subtract nothing. ``batch_instance`` returns ρ·BN(x) + (1 − ρ)·IN(x)
    with ``rho`` a scalar or one value per channel in [0, 1]; ``switchable`` blends the IN, LN
    and BN means with ``mean_weights`` and their variances with ``var_weights`` (probabilities in
    the order instance, layer, batch). ``ghost_batch`` computes BN on chunks of ``ghost_size``
    samples; ``pono`` standardizes across channels at each (n, h, w).

    Shape:
        x: (N, C, H, W), any float dtype -> same shape and dtype.

    Example: ``normalize(x, "group", groups=C)`` equals ``normalize(x, "instance")`` and
    ``groups=1`` equals ``"layer"``.
    """
    x, eps, groups = _check_args(x, norm, groups, eps, ghost_size, finite_later=norm != "pono")
    N, C, H, W = x.shape
    if norm == "pono":
        return _positional_norm(x, eps)
    mean, var = _checked_moments(x)
    if norm in PARTITION_NORMS:
        mu, v = _grouped(mean, var, norm, groups, ghost_size)
        return _affine_per_nc(x, mu, 1.0 / np.sqrt(v + eps))
    if norm == "batch_instance":
        r = check_rho(rho, C)[None, :]  # (1, C)
        mu_b, v_b = _grouped(mean, var, "batch", groups, None)
        s_b, s_i = r / np.sqrt(v_b + eps), (1 - r) / np.sqrt(var + eps)
        # ρ(x − μ_B)s + (1 − ρ)(x − μ_I)s' is again affine per (n, c): scale a, centre m.
        a = s_b + s_i
        m = np.where(a > 0, (s_b * mu_b + s_i * mean) / np.where(a > 0, a, 1.0), 0.0)
        return _affine_per_nc(x, m, a)
    if norm == "switchable":
        wm = check_probabilities(mean_weights, name="mean_weights", n=3)
        wv = check_probabilities(var_weights, name="var_weights", n=3)
        parts = [_grouped(mean, var, k, groups, None) for k in MIXTURES["switchable"]]
        mu = sum(w * p[0] for w, p in zip(wm, parts))
        v = sum(w * p[1] for w, p in zip(wv, parts))
        return _affine_per_nc(x, mu, 1.0 / np.sqrt(v + eps))
    raise AssertionError(norm)  # pragma: no cover - every activation key is handled above


def _positional_norm(x: np.ndarray, eps: float) -> np.ndarray:
    """PONO: standardize across channels at each (n, h, w) (biased variance, like the rest).

    The reference code uses the unbiased variance over C; normviz keeps the biased one so
    every ``normalize`` key follows the same convention.
    """
    x64 = x.astype(np.float64)
    mu = x64.mean(axis=1, keepdims=True)  # (N, 1, H, W)
    d = x64 - mu
    var = (d * d).mean(axis=1, keepdims=True)
    return (d / np.sqrt(var + eps)).astype(x.dtype)


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
    if spec.kind != "weight":
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
    if norm == "weight":
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        if (norms == 0).any():
            raise ValueError(
                f"Weight Norm divides by ‖v‖, but output unit(s) {np.flatnonzero(norms[:, 0] == 0).tolist()} "
                f"have an all-zero weight vector (‖v‖ = 0). Initialize v randomly."
            )
        out = rows / norms
    else:
        if rows.shape[1] < 2:
            raise ValueError("Weight Standardization needs at least 2 weights per output filter (C_in·k·k ≥ 2).")
        d = rows - rows.mean(axis=1, keepdims=True)
        out = d / (d.std(axis=1, ddof=1, keepdims=True) + eps)
    return out.reshape(w.shape).astype(w.dtype)


# --------------------------------------------------------------------------------------------
# Which elements share a statistic (what the cube draws)


def group_ids(shape, norm: str, *, groups: int = 2, ghost_size: int | None = None) -> np.ndarray:
    """Integer label of the statistic each element uses, for norms that partition the tensor.

    Labels run 0..K−1 in order of first appearance (C-order), so ``K = ids.max() + 1`` is the
    number of means the norm computes: BN C, LN N, IN N·C, GN N·G. For weight norms ``shape`` is
    the weight tensor's and the label is the output unit.

    Shape: ``shape`` (N, C, H, W) -> int array of that shape.
    """
    spec = get_spec(norm)
    shape = tuple(int(s) for s in shape)
    if spec.kind == "weight":
        return np.broadcast_to(np.arange(shape[0]).reshape((-1,) + (1,) * (len(shape) - 1)), shape).copy()
    if len(shape) != 4 or min(shape) < 1:
        raise ValueError(f"shape must be (N, C, H, W) with every axis ≥ 1, got {shape}.")
    N, C, H, W = shape
    if norm in MIXTURES:
        raise ValueError(
            f"{spec.name} blends several sets ({', '.join(MIXTURES[norm])}), so its elements do not "
            f"form one partition; use pooling_weights() for its mixing weights."
        )
    n = np.arange(N)[:, None, None, None]
    c = np.arange(C)[None, :, None, None]
    h = np.arange(H)[None, None, :, None]
    w = np.arange(W)[None, None, None, :]
    if norm in ("batch", "batch_renorm"):
        ids = c + 0 * n + 0 * h + 0 * w
    elif norm in ("layer", "rms"):
        ids = n + 0 * c + 0 * h + 0 * w
    elif norm in ("instance", "frn"):
        ids = n * C + c + 0 * h + 0 * w
    elif norm == "group":
        G = check_groups(C, groups)
        ids = n * G + c // (C // G) + 0 * h + 0 * w
    elif norm == "ghost_batch":
        if ghost_size is None or ghost_size < 1 or N % ghost_size:
            raise ValueError(f"ghost_size must divide N={N}, got {ghost_size!r}.")
        k = N // ghost_size
        ids = (n // ghost_size) * C + c + 0 * h + 0 * w
        del k
    elif norm == "pono":
        ids = (n * H + h) * W + w + 0 * c
    else:  # pragma: no cover
        raise AssertionError(norm)
    ids = np.broadcast_to(ids, shape)
    # Relabel in order of first appearance so labels are 0..K−1 and read naturally.
    _, first, inverse = np.unique(ids.ravel(), return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return order[inverse].reshape(shape)


def pooling_weights(shape, norm: str, index, *, groups: int = 2, rho=None, mean_weights=None,
                    var_weights=None, ghost_size: int | None = None, stat: str = "mean") -> np.ndarray:
    """Weight of every element in the statistic used for the element at ``index``.

    Returns an array of ``shape``, ≥ 0, summing to 1, zero outside the pooled set: uniform over
    the set for plain norms; ρ_c·U(BN set) + (1 − ρ_c)·U(IN set) for ``batch_instance``; the
    blend of U(IN), U(LN), U(BN) by ``mean_weights`` (``stat="mean"``) or ``var_weights``
    (``stat="var"``) for ``switchable``. For weight norms, ``shape`` and ``index`` refer to the
    weight tensor (C_out, C_in, k, k) and the set is one output unit.

    Shape: ``shape`` (N, C, H, W), ``index`` (n, c, h, w) -> float64 array of ``shape``.
    """
    spec = get_spec(norm)
    shape = tuple(int(s) for s in shape)
    index = tuple(int(i) for i in index)
    if len(index) != len(shape) or any(not 0 <= i < s for i, s in zip(index, shape)):
        raise ValueError(f"index {index} is outside the tensor of shape {shape}.")
    if stat not in ("mean", "var"):
        raise ValueError(f"stat must be 'mean' or 'var', got {stat!r}.")
    if norm in MIXTURES:
        N, C, H, W = shape
        parts = [pooling_weights(shape, k, index) for k in MIXTURES[norm]]
        if norm == "batch_instance":
            r = check_rho(rho, C)[index[1]]
            return r * parts[0] + (1 - r) * parts[1]
        wts = check_probabilities(mean_weights if stat == "mean" else var_weights,
                                  name="mean_weights" if stat == "mean" else "var_weights", n=3)
        return sum(w * p for w, p in zip(wts, parts))
    ids = group_ids(shape, norm, groups=groups, ghost_size=ghost_size)
    mask = (ids == ids[index]).astype(np.float64)
    return mask / mask.sum()


# --------------------------------------------------------------------------------------------
# Statistics for display


@dataclass(frozen=True)
class GroupStats:
    """The statistics a partition norm computes: one (μ, σ²) per set, and which set is whose.

    ``ids`` has the input's shape and labels each element with its set (0..K−1); ``mean``,
    ``var`` and ``count`` have length K. For RMS and FRN ``var`` is the mean of squares ν².
    """

    norm: str
    ids: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    count: np.ndarray

    @property
    def K(self) -> int:
        return len(self.mean)

    def __repr__(self) -> str:
        return f"GroupStats({self.norm!r}, K={self.K}, |S|={self.count.tolist()[:4]}…)"


def statistics(x, norm: str, *, groups: int = 2, ghost_size: int | None = None) -> GroupStats:
    """μ and σ² of every set a partition norm pools over, computed exactly (float64).

    Shape: x (N, C, H, W) -> ids (N, C, H, W); mean, var, count (K,).
    """
    if norm in MIXTURES:
        raise ValueError(
            f"{get_spec(norm).name} mixes the statistics of {', '.join(MIXTURES[norm])}; "
            f"call statistics() for each of those keys."
        )
    x, _, groups = _check_args(x, norm, groups, 1e-5, ghost_size)
    ids = group_ids(x.shape, norm, groups=groups, ghost_size=ghost_size)
    flat_ids, flat_x = ids.ravel(), x.astype(np.float64).ravel()
    count = np.bincount(flat_ids)
    mean = np.bincount(flat_ids, flat_x) / count
    d = flat_x - mean[flat_ids]
    var = np.bincount(flat_ids, d * d) / count
    if norm in ("rms", "frn"):
        var = np.bincount(flat_ids, flat_x * flat_x) / count
        mean = np.zeros_like(mean)
    return GroupStats(norm, ids, mean, var, count)


# --------------------------------------------------------------------------------------------
# Running statistics (BatchNorm in eval mode)


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
