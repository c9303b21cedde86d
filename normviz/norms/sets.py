"""Which elements share a statistic: the sets each norm pools over (what the cube draws).

Everything here is read off the registry (``NormSpec.axes``): an element's set is fixed by its
coordinates along the axes the norm does *not* pool (``N``, ``C``, ``H``, ``W``), by its group along
a grouped axis (``C/G``: channel c belongs to group c // (C/G); ``N/g``: sample n to ghost batch
n // g), and not at all along a pooled one. Mixtures combine their parts' sets; element-wise norms
give every element a set of its own.

Shapes: activations (N, C, H, W); weight norms use the weight tensor (C_out, C_in, k, k), whose
sets are the output units.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from normviz.norms.table import AXES, NORMS, NormSpec, get_spec
from normviz.validate import check_array, check_groups, check_probabilities, check_rho


def _check_shape(shape) -> tuple[int, ...]:
    shape = tuple(int(s) for s in shape)
    if len(shape) != 4 or min(shape) < 1:
        raise ValueError(f"shape must be (N, C, H, W) with every axis ≥ 1, got {shape}.")
    return shape


def _block(spec: NormSpec, axis: str, size: int, groups: int, ghost_size: int | None) -> int | None:
    """How many consecutive indices along ``axis`` share a set: 1 (not pooled), ``size`` (pooled)
    or the group's size (a grouped axis)."""
    if axis in spec.axes:
        return size
    if axis == "C" and "C/G" in spec.axes:
        return size // check_groups(size, groups)
    if axis == "N" and "N/g" in spec.axes:
        if ghost_size is None or not isinstance(ghost_size, (int, np.integer)) or ghost_size < 1 or size % ghost_size:
            raise ValueError(f"ghost_size must divide N={size}, got {ghost_size!r}.")
        return int(ghost_size)
    return 1


def set_blocks(shape, norm: str, *, groups: int = 2, ghost_size: int | None = None) -> tuple[int, int, int, int]:
    """For each axis (N, C, H, W): how many consecutive indices share a set.

    BN (2, 6, 4, 4) → (2, 1, 4, 4); GN with G = 2 → (1, 3, 4, 4); IN → (1, 1, 4, 4).
    """
    spec = get_spec(norm)
    shape = _check_shape(shape)
    return tuple(_block(spec, a, s, groups, ghost_size) for a, s in zip(AXES, shape))


def group_ids(shape, norm: str, *, groups: int = 2, ghost_size: int | None = None) -> np.ndarray:
    """Integer label of the statistic each element uses, for norms that partition the tensor.

    Labels run 0..K−1 in order of first appearance (C-order), so ``K = ids.max() + 1`` is the
    number of statistics the norm computes: BN C, LN N, IN N·C, GN N·G. For weight norms ``shape``
    is the weight tensor's and the label is the output unit; an element-wise norm gives each
    element its own label.

    Shape: ``shape`` (N, C, H, W) -> int array of that shape.
    """
    spec = get_spec(norm)
    shape = tuple(int(s) for s in shape)
    if spec.is_weight:
        return np.broadcast_to(np.arange(shape[0]).reshape((-1,) + (1,) * (len(shape) - 1)), shape).copy()
    shape = _check_shape(shape)
    if spec.is_mixture:
        raise ValueError(
            f"{spec.name} mixes several sets ({', '.join(spec.mixes)}), so its elements do not form one "
            f"partition; use pooling_weights() for its mixing weights.")
    blocks = set_blocks(shape, norm, groups=groups, ghost_size=ghost_size)
    if spec.is_elementwise:
        blocks = (1, 1, 1, 1)
    # An element's set: its index divided by the block size along each axis (row-major label).
    ids = np.zeros(shape, dtype=np.int64)
    for axis, (size, block) in enumerate(zip(shape, blocks)):
        coord = (np.arange(size) // block).reshape([-1 if i == axis else 1 for i in range(4)])
        ids = ids * (size // block) + coord
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
    (``stat="var"``) for ``switchable``; the element alone for an element-wise norm. For weight
    norms, ``shape`` and ``index`` refer to the weight tensor (C_out, C_in, k, k) and the set is
    one output unit.

    Shape: ``shape`` (N, C, H, W), ``index`` (n, c, h, w) -> float64 array of ``shape``.
    """
    spec = get_spec(norm)
    shape = tuple(int(s) for s in shape)
    index = tuple(int(i) for i in index)
    if len(index) != len(shape) or any(not 0 <= i < s for i, s in zip(index, shape)):
        raise ValueError(f"index {index} is outside the tensor of shape {shape}.")
    if stat not in ("mean", "var"):
        raise ValueError(f"stat must be 'mean' or 'var', got {stat!r}.")
    if spec.is_mixture:
        parts = [pooling_weights(shape, k, index) for k in spec.mixes]
        if spec.mix == "outputs":
            r = check_rho(rho, shape[1])[index[1]]
            return r * parts[0] + (1 - r) * parts[1]
        name = "mean_weights" if stat == "mean" else "var_weights"
        wts = check_probabilities(mean_weights if stat == "mean" else var_weights, name=name, n=len(parts))
        return sum(w * p for w, p in zip(wts, parts))
    ids = group_ids(shape, norm, groups=groups, ghost_size=ghost_size)
    mask = (ids == ids[index]).astype(np.float64)
    return mask / mask.sum()


def count_sets(shape, norm: str, *, groups: int = 2, ghost_size: int | None = None) -> int:
    """K, the number of statistics the norm computes (for mixtures: of all its parts)."""
    spec = get_spec(norm)
    if spec.is_mixture:
        return sum(count_sets(shape, k, groups=groups, ghost_size=ghost_size) for k in spec.mixes)
    return int(group_ids(shape, norm, groups=groups, ghost_size=ghost_size).max()) + 1


def count_formula(shape, norm: str, *, groups: int = 2, ghost_size: int | None = None) -> str:
    """How K comes about, in the axes' letters and numbers: BN "C = 6", GN "N·G = 2·2"."""
    spec = get_spec(norm)
    N, C, H, W = shape
    if spec.is_mixture:
        return " + ".join(count_formula(shape, k, groups=groups, ghost_size=ghost_size) for k in spec.mixes)
    if spec.is_weight:
        return f"C_out = {N}"
    letters, values = [], []
    for axis, size in zip(AXES, shape):
        if spec.is_elementwise or (axis not in spec.axes and not (axis == "C" and "C/G" in spec.axes)
                                   and not (axis == "N" and "N/g" in spec.axes)):
            letters.append(axis)
            values.append(str(size))
        elif axis == "C" and "C/G" in spec.axes:
            letters.append("G")
            values.append(str(groups))
        elif axis == "N" and "N/g" in spec.axes:
            letters.append("(N/g)")
            values.append(f"({N}/{ghost_size})")
    return "1 = 1" if not letters else f"{'·'.join(letters)} = {'·'.join(values)}"


def describe_set(shape, norm: str, index, *, groups: int = 2, ghost_size: int | None = None) -> tuple[str, str]:
    """(size expression, which elements) of the set of a partition norm's element, in words:
    BN at c = 2 → ("2×4×4", "every n, h, w of channel c = 2")."""
    spec = get_spec(norm)
    if spec.is_weight:
        Co, Ci, kh, kw = shape
        return f"{Ci}×{kh}×{kw}", f"every weight of output filter o = {index[0]}"
    blocks = set_blocks(shape, norm, groups=groups, ghost_size=ghost_size)
    if spec.is_elementwise:
        n, c, h, w = index
        return "1", f"the element (n, c, h, w) = ({n}, {c}, {h}, {w}) alone"
    names = {"N": ("n", "sample", "samples"), "C": ("c", "channel", "channels"),
             "H": ("h", "row", "rows"), "W": ("w", "column", "columns")}
    pooled, grouped, fixed, sizes = [], [], [], []
    for axis, size, block, i in zip(AXES, shape, blocks, index):
        letter, one, many = names[axis]
        if block == size and axis in spec.axes:
            pooled.append(letter)
            sizes.append(str(size))
        elif block > 1:
            lo = (i // block) * block
            which = "group" if axis == "C" else "ghost batch"
            grouped.append(f"{many} {letter} = {lo}–{lo + block - 1} ({which} {i // block} of {size // block})")
            sizes.append(str(block))
        else:
            fixed.append(f"{one} {letter} = {i}")
    # "every h, w of channels c = 3–5 (group 1 of 2) in sample n = 1"
    where = ", ".join(grouped) + (" in " if grouped and fixed else "") + ", ".join(fixed)
    words = f"every {', '.join(pooled)}" + (f" of {where}" if where else "")
    return "×".join(sizes) or "1", words


def set_size(expr: str) -> int:
    """The number a size expression such as "2×4×4" stands for."""
    return math.prod(int(t) for t in expr.split("×"))


@dataclass(frozen=True)
class GroupStats:
    """The statistics a partition norm computes: one (μ, σ²) per set, and which set is whose.

    ``ids`` has the input's shape and labels each element with its set (0..K−1); ``mean``,
    ``var`` and ``count`` have length K. For RMS and FRN ``var`` is the mean of squares ν² and
    ``mean`` is 0.
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
    """μ and σ² of every set a statistics norm pools over, computed exactly (float64).

    Shape: x (N, C, H, W) -> ids (N, C, H, W); mean, var, count (K,).
    """
    from normviz.norms.kernel import check_args

    spec = get_spec(norm)
    if spec.is_mixture:
        raise ValueError(f"{spec.name} mixes the statistics of {', '.join(spec.mixes)}; "
                         f"call statistics() for each of those keys.")
    if spec.family != "statistics":
        raise ValueError(f"{spec.name} pools no activation statistics ({spec.family}); statistics() is for "
                         f"the norms that do: {', '.join(k for k, s in NORMS.items() if s.family == 'statistics')}.")
    params = {k: v for k, v in (("groups", groups), ("ghost_size", ghost_size)) if k in spec.param_names}
    spec, x, _, params = check_args(check_array(x), norm, params)
    ids = group_ids(x.shape, norm, **params)
    flat_ids, flat_x = ids.ravel(), x.astype(np.float64).ravel()
    count = np.bincount(flat_ids)
    if spec.centred:
        mean = np.bincount(flat_ids, flat_x) / count
        d = flat_x - mean[flat_ids]
        var = np.bincount(flat_ids, d * d) / count
    else:
        mean, var = np.zeros(len(count)), np.bincount(flat_ids, flat_x * flat_x) / count
    return GroupStats(norm, ids, mean, var, count)
