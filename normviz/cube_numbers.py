"""The numbers behind the cube: data, per-element statistics, sentences, formula, exports.

Everything the cube page prints is computed here (the figures live in ``normviz.cube``):

- ``CubeSpec``: one frozen description of what is shown (norm, shape, selected element, G, ρ,
  Switchable weights, ε, layout, colour mode); the figures and the numbers both read it.
- data generators (``make_data``, ``make_weight``): random with a seed, a patch of a sample
  image (scikit-learn's bundled ``china.jpg``, imported lazily), or a constant channel;
- ``element_stats``: for every element, the statistic it is normalized with (μ, σ², x̂, set id);
- ``summary_sentence``, ``count_caption``, ``formula_numbers``: words and numbers for people;
- ``torch_difference``: max |ours − torch| on the same input (torch imported lazily);
- ``statistics_rows`` / ``statistics_csv`` and ``pytorch_snippet`` for the exports;
- ``edge_notes``: the edge cases explained (BN with N·H·W = 1, IN with H·W = 1, σ² = 0).

Shapes: activations (N, C, H, W); weight norms use the weight tensor (C_out, C_in, k, k).
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field, replace

import numpy as np

from normviz.norms import (
    MIXTURES,
    NORMS,
    PARTITION_NORMS,
    get_spec,
    group_ids,
    normalize,
    normalize_weight,
    pooling_weights,
)
from normviz.validate import divisors

SOURCES = ("random", "image", "constant")
LAYOUTS = ("paper", "full")


# --------------------------------------------------------------------------------------------
# What is shown


@dataclass(frozen=True)
class CubeSpec:
    """Everything a cube figure or its numbers depend on (hashable, so pages can cache on it).

    ``shape``/``index`` are (N, C, H, W)/(n, c, h, w) for activation norms and
    (C_out, C_in, k, k)/(o, i, kh, kw) for the weight norms. ``rho`` is one value (shared) or
    one per channel; ``mean_weights``/``var_weights`` are Switchable Norm's probabilities in
    the order (instance, layer, batch).
    """

    norm: str = "group"
    shape: tuple[int, int, int, int] = (2, 6, 4, 4)
    index: tuple[int, int, int, int] = (0, 0, 0, 0)
    groups: int = 2
    ghost_size: int = 1
    rho: tuple[float, ...] = (0.5,)
    mean_weights: tuple[float, float, float] = (1 / 3, 1 / 3, 1 / 3)
    var_weights: tuple[float, float, float] = (1 / 3, 1 / 3, 1 / 3)
    eps: float = 1e-5
    layout: str = "paper"
    colour_all: bool = False
    max_cells: int = 1200
    compare: bool = True  # also put LN/GN/IN/BN views behind in-figure buttons

    @property
    def kind(self) -> str:
        return get_spec(self.norm).kind

    @property
    def is_weight(self) -> bool:
        return self.kind == "weight"

    @property
    def axis_names(self) -> tuple[str, str, str, str]:
        return ("C_out", "C_in", "k_h", "k_w") if self.is_weight else ("N", "C", "H", "W")

    @property
    def index_names(self) -> tuple[str, str, str, str]:
        return ("o", "i", "kh", "kw") if self.is_weight else ("n", "c", "h", "w")

    def with_norm(self, norm: str) -> "CubeSpec":
        return replace(self, norm=norm)

    def rho_value(self, c: int) -> float:
        return float(self.rho[0] if len(self.rho) == 1 else self.rho[c])

    def norm_kwargs(self, norm: str | None = None) -> dict:
        """Keyword arguments of ``normalize``/``pooling_weights`` for ``norm`` (default: ours)."""
        norm = norm or self.norm
        kw: dict = {}
        if norm == "group":
            kw["groups"] = self.groups
        elif norm == "ghost_batch":
            kw["ghost_size"] = self.ghost_size
        elif norm == "batch_instance":
            kw["rho"] = np.asarray(self.rho, dtype=np.float64)
        elif norm == "switchable":
            kw["mean_weights"] = np.asarray(self.mean_weights)
            kw["var_weights"] = np.asarray(self.var_weights)
        return kw


def weights(spec: CubeSpec, norm: str | None = None, stat: str = "mean") -> np.ndarray:
    """``pooling_weights`` of the selected element under ``norm`` (default: the spec's)."""
    norm = norm or spec.norm
    return pooling_weights(spec.shape, norm, spec.index, stat=stat, **spec.norm_kwargs(norm))


def softmax(values) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    e = np.exp(v - v.max())
    return e / e.sum()


def switchable_probabilities(values, mode: str = "logits") -> np.ndarray:
    """Switchable Norm's three importance weights as probabilities.

    ``mode="logits"``: softmax(values) (what the layer learns). ``mode="probabilities"``:
    values ≥ 0 rescaled to sum to 1 (all zeros -> uniform).
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if v.shape != (3,):
        raise ValueError(f"Switchable Norm needs 3 weights (instance, layer, batch), got {v.size}.")
    if mode == "logits":
        return softmax(v)
    if mode != "probabilities":
        raise ValueError(f"mode must be 'logits' or 'probabilities', got {mode!r}.")
    if (v < 0).any():
        raise ValueError(f"probabilities must be ≥ 0, got {v.tolist()}.")
    s = v.sum()
    return np.full(3, 1 / 3) if s == 0 else v / s


# --------------------------------------------------------------------------------------------
# Data


def make_data(shape, source: str = "random", seed: int = 0, *, constant_channel: int = 0) -> np.ndarray:
    """An N×C×H×W float64 tensor to normalize.

    ``random``: standard normal plus a per-channel offset and scale, so BN, LN and IN
    statistics really differ. ``image``: sample n is a patch of scikit-learn's bundled
    ``china.jpg`` at a seeded position, block-averaged to H×W, channel c its colour c mod 3
    (channels beyond 3 repeat the colours on a patch shifted right), scaled to [0, 1].
    ``constant``: random, but channel ``constant_channel`` holds one value everywhere
    (σ² = 0, so only ε keeps BN's and IN's division finite).
    """
    N, C, H, W = (int(s) for s in shape)
    rng = np.random.default_rng(seed)
    if source == "image":
        return _image_patches((N, C, H, W), rng)
    if source not in ("random", "constant"):
        raise ValueError(f"data source must be one of {', '.join(SOURCES)}, got {source!r}.")
    offs = rng.normal(0.0, 1.5, size=(1, C, 1, 1))
    scale = rng.uniform(0.5, 2.0, size=(1, C, 1, 1))
    x = offs + scale * rng.standard_normal((N, C, H, W))
    if source == "constant":
        x[:, int(constant_channel) % C] = 3.0
    return x


def _image_patches(shape, rng) -> np.ndarray:
    from sklearn.datasets import load_sample_image  # lazy: sklearn is heavy

    N, C, H, W = shape
    img = load_sample_image("china.jpg").astype(np.float64) / 255.0  # (427, 640, 3)
    f = max(1, min(img.shape[0] // (2 * H), img.shape[1] // (2 * W), 8))  # block size
    ph, pw = H * f, W * f
    shift = (C + 2) // 3  # patches per sample, side by side
    out = np.empty((N, C, H, W))
    for n in range(N):
        top = int(rng.integers(0, img.shape[0] - ph + 1))
        left = int(rng.integers(0, max(1, img.shape[1] - pw * shift) + 1))
        for c in range(C):
            l0 = min(left + (c // 3) * pw, img.shape[1] - pw)
            patch = img[top:top + ph, l0:l0 + pw, c % 3]  # (H·f, W·f)
            out[n, c] = patch.reshape(H, f, W, f).mean(axis=(1, 3))  # block average -> (H, W)
    return out


def make_weight(shape, seed: int = 0) -> np.ndarray:
    """A C_out×C_in×k×k conv weight, Kaiming-normal-like, with per-filter scale and offset."""
    Co, Ci, kh, kw = (int(s) for s in shape)
    rng = np.random.default_rng(seed)
    fan_in = Ci * kh * kw
    scale = rng.uniform(0.5, 2.0, size=(Co, 1, 1, 1)) * math.sqrt(2.0 / fan_in)
    return rng.normal(0.0, 0.3, size=(Co, 1, 1, 1)) * scale + scale * rng.standard_normal((Co, Ci, kh, kw))


def data_for(spec: CubeSpec, source: str = "random", seed: int = 0) -> np.ndarray:
    """The tensor the spec's norm acts on: activations, or a weight for the weight norms."""
    if spec.is_weight:
        return make_weight(spec.shape, seed)
    return make_data(spec.shape, source, seed, constant_channel=spec.index[1])


# --------------------------------------------------------------------------------------------
# Per-element statistics


@dataclass(frozen=True)
class ElementStats:
    """For every element: the set it is normalized with, that set's μ and σ², and x̂.

    ``group`` is −1 for mixtures (no single set). ``error`` holds the library's message when
    the norm is undefined for this input (x̂ is then NaN). For RMS/FRN ``var`` is the mean of
    squares ν² and μ is 0; for Weight Norm ``var`` is ‖v‖²; ``extra`` holds BIN's BN and IN
    moments. Shape: every array as x.
    """

    group: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    x_hat: np.ndarray
    error: str | None = None
    extra: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"ElementStats(shape={self.group.shape}, error={self.error!r})"


def _set_moments(x: np.ndarray, ids: np.ndarray, centred: bool = True):
    """μ and biased σ² (or mean of squares) of every labelled set, broadcast back to x."""
    flat, v = ids.ravel(), x.astype(np.float64).ravel()
    count = np.bincount(flat)
    mean = np.bincount(flat, v) / count
    if centred:
        d = v - mean[flat]
        var = np.bincount(flat, d * d) / count
    else:
        var, mean = np.bincount(flat, v * v) / count, np.zeros_like(mean)
    return mean[ids], var[ids]


def _partition_key(norm: str) -> str:
    return "batch" if norm == "batch_renorm" else norm


def element_stats(spec: CubeSpec, x: np.ndarray, norm: str | None = None) -> ElementStats:
    """The statistic every element of ``x`` is normalized with under ``norm``; never raises
    for a legal shape: if the norm is undefined here (BN with N·H·W = 1, ...), ``error`` says
    why and x̂ is NaN."""
    norm = norm or spec.norm
    shape = x.shape
    kw = spec.norm_kwargs(norm)
    error, extra = None, {}
    if get_spec(norm).kind == "weight":
        ids = group_ids(shape, norm)
        rows = x.reshape(shape[0], -1)
        if norm == "weight":
            mean = np.zeros(shape)
            var = np.broadcast_to((rows ** 2).sum(axis=1).reshape(-1, 1, 1, 1), shape).copy()
        else:
            mean = np.broadcast_to(rows.mean(axis=1).reshape(-1, 1, 1, 1), shape).copy()
            var = np.broadcast_to(rows.var(axis=1, ddof=1).reshape(-1, 1, 1, 1), shape).copy()
        try:
            x_hat = normalize_weight(x, norm, eps=spec.eps)
        except ValueError as err:
            x_hat, error = np.full(shape, np.nan), str(err)
        return ElementStats(ids, mean, var, x_hat, error)
    if norm in MIXTURES:
        parts = {k: _set_moments(x, group_ids(shape, k)) for k in MIXTURES[norm]}
        group = np.full(shape, -1)
        if norm == "batch_instance":
            mean, var = parts["batch"]
            extra = {"mean_in": parts["instance"][0], "var_in": parts["instance"][1]}
        else:
            order = MIXTURES["switchable"]
            mean = sum(w * parts[k][0] for w, k in zip(spec.mean_weights, order))
            var = sum(w * parts[k][1] for w, k in zip(spec.var_weights, order))
    else:
        key = _partition_key(norm)
        group = group_ids(shape, key, **kw)
        mean, var = _set_moments(x, group, centred=key not in ("rms", "frn"))
    try:
        with np.errstate(invalid="ignore", divide="ignore"):  # σ² = ε = 0 is explained, not warned
            x_hat = normalize(x, "batch" if norm == "batch_renorm" else norm, eps=spec.eps, **kw)
            if not np.isfinite(x_hat).all():
                error = (f"With ε = {spec.eps:g} and a set whose σ² = 0, x̂ = 0/√0 is undefined (NaN): "
                         f"this is exactly why ε exists. Use ε > 0.")
    except ValueError as err:
        x_hat, error = np.full(shape, np.nan), str(err)
    return ElementStats(group, mean, var, x_hat, error, extra)


# --------------------------------------------------------------------------------------------
# Words


def count_sets(spec: CubeSpec, norm: str | None = None) -> int:
    """K, the number of means the norm computes (for mixtures: of all its parts)."""
    norm = norm or spec.norm
    if norm in MIXTURES:
        return sum(count_sets(spec, k) for k in MIXTURES[norm])
    ids = group_ids(spec.shape, _partition_key(norm), **{k: v for k, v in spec.norm_kwargs(norm).items()
                                                          if k in ("groups", "ghost_size")})
    return int(ids.max()) + 1


def count_caption(spec: CubeSpec, norm: str | None = None) -> str:
    """'GroupNorm computes K = 4 means (N·G = 2·2), one per colour.'"""
    norm = norm or spec.norm
    name = NORMS[norm].name
    N, C, H, W = spec.shape
    K = count_sets(spec, norm)
    what = "means" if norm not in ("rms", "frn", "weight") else "scales"
    how = {
        "batch": f"C = {C}", "batch_renorm": f"C = {C}", "layer": f"N = {N}", "rms": f"N = {N}",
        "instance": f"N·C = {N}·{C}", "frn": f"N·C = {N}·{C}",
        "group": f"N·G = {N}·{spec.groups}", "pono": f"N·H·W = {N}·{H}·{W}",
        "ghost_batch": f"(N/g)·C = ({N}/{spec.ghost_size})·{C}",
        "weight": f"C_out = {N}", "weight_standardization": f"C_out = {N}",
        "batch_instance": f"C + N·C = {C} + {N}·{C}: BatchNorm's and InstanceNorm's",
        "switchable": f"N·C + N + C = {N}·{C} + {N} + {C}: InstanceNorm's, LayerNorm's and BatchNorm's",
    }[norm]
    return f"{name} computes K = {K} {what} ({how})."


def _members(norm: str, spec: CubeSpec) -> tuple[str, str]:
    """(how many, which) for the pooled set of a partition norm."""
    N, C, H, W = spec.shape
    n, c, h, w = spec.index
    if norm in ("batch", "batch_renorm"):
        return f"{N}×{H}×{W}", f"every n, h, w of channel c = {c}"
    if norm in ("layer", "rms"):
        return f"{C}×{H}×{W}", f"every c, h, w of sample n = {n}"
    if norm in ("instance", "frn"):
        return f"{H}×{W}", f"every h, w of sample n = {n}, channel c = {c}"
    if norm == "group":
        size = C // spec.groups
        lo = (c // size) * size
        chans = f"c = {lo}" if size == 1 else f"c = {lo}–{lo + size - 1}"
        return f"{size}×{H}×{W}", f"every h, w of channels {chans} (group {c // size} of {spec.groups}) in sample n = {n}"
    if norm == "ghost_batch":
        g = spec.ghost_size
        lo = (n // g) * g
        ns = f"n = {lo}" if g == 1 else f"n = {lo}–{lo + g - 1}"
        return f"{g}×{H}×{W}", f"every h, w of channel c = {c} in the ghost batch {ns}"
    if norm == "pono":
        return f"{C}", f"every channel c at position (n, h, w) = ({n}, {h}, {w})"
    if norm in ("weight", "weight_standardization"):
        Co, Ci, kh, kw = spec.shape
        return f"{Ci}×{kh}×{kw}", f"every weight of output filter o = {n}"
    raise AssertionError(norm)  # pragma: no cover


def _product(expr: str) -> int:
    return math.prod(int(t) for t in expr.split("×"))


def summary_sentence(spec: CubeSpec) -> str:
    """A plain-text sentence for screen readers: what the selected element is pooled with.

    E.g. "BatchNorm pools 2×4×4 = 32 values: every n, h, w of channel c = 2."
    """
    norm, name = spec.norm, NORMS[spec.norm].name
    if norm == "batch_instance":
        c = spec.index[1]
        r = spec.rho_value(c)
        bn, bn_set = _members("batch", spec)
        inn, in_set = _members("instance", spec)
        return (f"{name} mixes two sets with gate ρ = {r:.2g} for channel c = {c}: BatchNorm's "
                f"{bn} = {_product(bn)} values ({bn_set}) weighted ρ = {r:.2g}, and InstanceNorm's "
                f"{inn} = {_product(inn)} values ({in_set}) weighted 1 − ρ = {1 - r:.2g}.")
    if norm == "switchable":
        parts = []
        for k, wm, wv in zip(MIXTURES["switchable"], spec.mean_weights, spec.var_weights):
            size, which = _members(k, spec)
            parts.append(f"{NORMS[k].name}'s {size} = {_product(size)} values ({which}) with weight "
                         f"{wm:.2f} for μ and {wv:.2f} for σ²")
        return f"{name} blends three sets: " + "; ".join(parts) + "."
    size, which = _members(norm, spec)
    verb = "pools" if norm not in ("weight",) else "takes the norm ‖v‖ of"
    extra = " (mean of squares, no mean subtracted)" if norm in ("rms", "frn") else ""
    g = f" (G = {spec.groups})" if norm == "group" else ""
    return f"{name}{g} {verb} {size} = {_product(size)} values{extra}: {which}."


def stat_labels(norm: str) -> tuple[str, str]:
    """Names of the two statistics the hover and the formula show for ``norm``."""
    if norm in ("rms", "frn"):
        return "μ (not used)", "ν² (mean of squares)"
    if norm == "weight":
        return "μ (not used)", "‖v‖²"
    if norm == "weight_standardization":
        return "mean(W_o)", "var(W_o) (unbiased)"
    return "μ", "σ²"


def _fmt(v: float) -> str:
    if not np.isfinite(v):
        return r"\text{undefined}"
    return f"{v:.4g}".replace("e-0", r"\times10^{-").replace("e+0", r"\times10^{") + ("}" if "e" in f"{v:.4g}" else "")


def _neg(v: float) -> str:
    """A number to subtract: negative ones in parentheses, so "x − (−0.5)" never reads "x − −0.5"."""
    t = _fmt(v)
    return f"({t})" if np.isfinite(v) and v < 0 else t


def formula_numbers(spec: CubeSpec, x: np.ndarray, stats: ElementStats | None = None) -> str:
    """The norm's formula with the live numbers of the selected set (LaTeX for ``st.latex``)."""
    stats = stats or element_stats(spec, x)
    i = tuple(spec.index)
    xv, mu, var, xh = x[i], stats.mean[i], stats.var[i], stats.x_hat[i]
    eps = _fmt(spec.eps)
    norm = spec.norm
    w = weights(spec)
    size = int(np.count_nonzero(w))
    if norm in ("rms", "frn"):
        return (rf"|S| = {size},\ \nu^2_S = {_fmt(var)},\quad \hat x = \frac{{x}}{{\sqrt{{\nu^2_S + \epsilon}}}}"
                rf" = \frac{{{_fmt(xv)}}}{{\sqrt{{{_fmt(var)} + {eps}}}}} = {_fmt(xh)}")
    if norm == "weight":
        return (rf"|S| = {size},\ \lVert v \rVert = {_fmt(math.sqrt(var))},\quad w = \frac{{v}}{{\lVert v \rVert}}"
                rf" = \frac{{{_fmt(xv)}}}{{{_fmt(math.sqrt(var))}}} = {_fmt(xh)}")
    if norm == "weight_standardization":
        return (rf"|S| = {size},\ \bar W = {_fmt(mu)},\ \mathrm{{std}} = {_fmt(math.sqrt(var))},\quad "
                rf"\hat W = \frac{{{_fmt(xv)} - {_neg(mu)}}}{{{_fmt(math.sqrt(var))} + {eps}}} = {_fmt(xh)}")
    if norm == "batch_instance":
        r = spec.rho_value(i[1])
        mi, vi = stats.extra["mean_in"][i], stats.extra["var_in"][i]
        return (rf"\rho = {r:.3g},\ \mu_{{BN}} = {_fmt(mu)},\ \sigma^2_{{BN}} = {_fmt(var)},\ "
                rf"\mu_{{IN}} = {_fmt(mi)},\ \sigma^2_{{IN}} = {_fmt(vi)},\quad \hat x = {r:.3g}\cdot"
                rf"\frac{{{_fmt(xv)} - {_neg(mu)}}}{{\sqrt{{{_fmt(var)} + {eps}}}}} + {1 - r:.3g}\cdot"
                rf"\frac{{{_fmt(xv)} - {_neg(mi)}}}{{\sqrt{{{_fmt(vi)} + {eps}}}}} = {_fmt(xh)}")
    if norm == "switchable":
        head = r"\mu = \textstyle\sum_k w_k\mu_k" + rf" = {_fmt(mu)},\ " + r"\sigma^2 = \textstyle\sum_k w'_k\sigma^2_k" + \
            rf" = {_fmt(var)},\quad "
        return head + (rf"\hat x = \frac{{{_fmt(xv)} - {_neg(mu)}}}{{\sqrt{{{_fmt(var)} + {eps}}}}} = {_fmt(xh)}")
    return (rf"|S| = {size},\ \mu_S = {_fmt(mu)},\ \sigma^2_S = {_fmt(var)},\quad \hat x = \frac{{x - \mu_S}}"
            rf"{{\sqrt{{\sigma^2_S + \epsilon}}}} = \frac{{{_fmt(xv)} - {_neg(mu)}}}{{\sqrt{{{_fmt(var)} + {eps}}}}}"
            rf" = {_fmt(xh)}")


def edge_notes(spec: CubeSpec, x: np.ndarray, stats: ElementStats | None = None) -> list[tuple[str, str]]:
    """Edge cases of this input, explained: a list of (level, message), level "error" when
    the norm is undefined here, "warning" when ε decides the output."""
    stats = stats or element_stats(spec, x)
    notes = []
    if stats.error:
        notes.append(("error", stats.error))
    i = tuple(spec.index)
    if not stats.error and spec.norm not in ("weight",) and np.isfinite(stats.var[i]) and stats.var[i] < 1e-12:
        notes.append(("warning",
                      f"The selected set is constant, so σ² = 0 and x̂ = (x − μ)/√(0 + ε) = 0/√{spec.eps:g} = 0: "
                      f"ε alone keeps the division finite (with ε = 0 it would be 0/0). Real layers meet this "
                      f"with dead channels or padding."))
    return notes


# --------------------------------------------------------------------------------------------
# Checks and exports


def torch_reference(spec: CubeSpec, x: np.ndarray):
    """The same normalization computed by torch, or (None, reason) when torch has no op.

    Returns (array, name of the torch computation). torch is imported here, lazily.
    """
    import torch
    import torch.nn.functional as F

    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))
    norm, eps = spec.norm, spec.eps
    N, C, H, W = x.shape
    if norm in ("batch", "batch_renorm"):
        # Batch Renorm's first training step has r = 1, d = 0: it equals BatchNorm.
        return F.batch_norm(t, None, None, training=True, eps=eps).numpy(), "F.batch_norm(training=True)"
    if norm == "layer":
        return F.layer_norm(t, (C, H, W), eps=eps).numpy(), "F.layer_norm(normalized_shape=(C, H, W))"
    if norm == "instance":
        return F.instance_norm(t, eps=eps).numpy(), "F.instance_norm"
    if norm == "group":
        return F.group_norm(t, spec.groups, eps=eps).numpy(), f"F.group_norm(num_groups={spec.groups})"
    if norm == "rms":
        return F.rms_norm(t, (C, H, W), eps=eps).numpy(), "F.rms_norm(normalized_shape=(C, H, W))"
    if norm == "ghost_batch":
        chunks = [F.batch_norm(c, None, None, training=True, eps=eps) for c in t.split(spec.ghost_size)]
        return torch.cat(chunks).numpy(), f"F.batch_norm on chunks of {spec.ghost_size} samples"
    if norm == "batch_instance":
        r = torch.as_tensor(np.broadcast_to(np.asarray(spec.rho, dtype=np.float64), (C,)).copy()).view(1, C, 1, 1)
        y = r * F.batch_norm(t, None, None, training=True, eps=eps) + (1 - r) * F.instance_norm(t, eps=eps)
        return y.numpy(), "ρ·F.batch_norm + (1 − ρ)·F.instance_norm"
    if norm == "switchable":
        stats = [(t.mean((2, 3), keepdim=True), t.var((2, 3), keepdim=True, unbiased=False)),
                 (t.mean((1, 2, 3), keepdim=True), t.var((1, 2, 3), keepdim=True, unbiased=False)),
                 (t.mean((0, 2, 3), keepdim=True), t.var((0, 2, 3), keepdim=True, unbiased=False))]
        mu = sum(w * m for w, (m, _) in zip(spec.mean_weights, stats))
        var = sum(w * v for w, (_, v) in zip(spec.var_weights, stats))
        return ((t - mu) / torch.sqrt(var + eps)).numpy(), "torch mean/var blended (IN, LN, BN)"
    if norm == "pono":
        mu, var = t.mean(1, keepdim=True), t.var(1, keepdim=True, unbiased=False)
        return ((t - mu) / torch.sqrt(var + eps)).numpy(), "torch mean/var over dim 1 (C)"
    if norm == "frn":
        nu2 = t.pow(2).mean((2, 3), keepdim=True)
        return (t * torch.rsqrt(nu2 + eps)).numpy(), "x · torch.rsqrt(mean(x², (H, W)) + ε)"
    if norm == "weight":
        g = torch.ones(N, 1, 1, 1, dtype=torch.float64)
        return torch._weight_norm(t, g, 0).numpy(), "torch._weight_norm (what nn.utils.weight_norm calls), g = 1"
    if norm == "weight_standardization":
        flat = t.flatten(1)
        mu, std = flat.mean(1, keepdim=True), flat.std(1, keepdim=True)
        return ((flat - mu) / (std + eps)).view_as(t).numpy(), "torch mean/std over (C_in, k, k)"
    return None, f"torch has no {NORMS[norm].name} op"  # pragma: no cover


def torch_difference(spec: CubeSpec, x: np.ndarray) -> tuple[float | None, str]:
    """max |normviz − torch| over all elements (float64), and what it was compared with.

    Returns (None, reason) when the norm is undefined for this input.
    """
    stats = element_stats(spec, x)
    if stats.error and not np.isfinite(stats.x_hat).any():
        return None, "undefined for this input (see the message above)"
    ref, name = torch_reference(spec, x)
    if ref is None:
        return None, name
    ours = stats.x_hat
    both = np.isfinite(ours) & np.isfinite(ref)
    return float(np.max(np.abs(ours[both] - ref[both]))) if both.any() else None, name


def statistics_rows(spec: CubeSpec, x: np.ndarray) -> list[dict]:
    """One row per statistic the norm computes: set, parts, |S|, μ, σ² (for CSV export).

    Mixtures list the sets of each of their parts, labelled with the part.
    """
    norms = MIXTURES.get(spec.norm, (spec.norm,))
    rows = []
    for k in norms:
        sub = replace(spec, norm=k)
        st = element_stats(sub, x, k)
        first = {}
        for pos in np.ndindex(x.shape):
            g = int(st.group[pos])
            if g not in first:
                first[g] = pos
        lab_mu, lab_var = stat_labels(k)
        size = np.bincount(st.group.ravel())
        for g, pos in sorted(first.items()):
            rows.append({"norm": NORMS[spec.norm].name, "part": NORMS[k].name, "set": g,
                         "first element": "(" + ", ".join(map(str, pos)) + ")", "size": int(size[g]),
                         "mean": float(st.mean[pos]), "var": float(st.var[pos]),
                         "mean is": lab_mu, "var is": lab_var})
    return rows


def statistics_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return buf.getvalue()


def _tensor_literal(name: str, x: np.ndarray, comment: str) -> str:
    return f"{name} = torch.tensor({x.tolist()!r}, dtype=torch.float64)  # {comment}, the app's values"


def pytorch_snippet(spec: CubeSpec, source: str = "random", seed: int = 0, x: np.ndarray | None = None,
                    max_literal: int = 1024) -> str:
    """A runnable script that applies the same norm in PyTorch.

    With ``x`` (at most ``max_literal`` values) the script holds the app's exact input, so it
    prints the same x̂ the page shows; otherwise it draws random data of the same shape.
    """
    N, C, H, W = spec.shape
    n, c, h, w = spec.index
    norm, eps = spec.norm, spec.eps
    lines = ["# normviz: the cube's configuration, reproduced in PyTorch", "import torch",
             "import torch.nn.functional as F", "", f"torch.manual_seed({seed})"]
    literal = x is not None and x.size <= max_literal
    if spec.is_weight:
        lines += [_tensor_literal("w", x, "C_out, C_in, k, k") if literal else
                  f"w = torch.randn({N}, {C}, {H}, {W}, dtype=torch.float64)  # C_out, C_in, k, k"]
        if norm == "weight":
            lines += ["# Weight Norm with g = 1: each output filter divided by its L2 norm",
                      "conv = torch.nn.Conv2d(%d, %d, %d, bias=False).double()" % (C, N, H),
                      "conv.weight.data = w",
                      "conv = torch.nn.utils.parametrizations.weight_norm(conv)",
                      "conv.parametrizations.weight.original0.data.fill_(1.0)  # g = 1",
                      "w_hat = conv.weight",
                      f"print('filter {n}, weight ({c}, {h}, {w}):', w_hat[{n}, {c}, {h}, {w}].item())",
                      "print('norms per filter:', w_hat.flatten(1).norm(dim=1))"]
        else:
            lines += ["# Weight Standardization: zero mean, unit (unbiased) std per output filter",
                      "flat = w.flatten(1)",
                      f"w_hat = ((flat - flat.mean(1, keepdim=True)) / (flat.std(1, keepdim=True) + {eps!r})).view_as(w)",
                      f"print('filter {n}, weight ({c}, {h}, {w}):', w_hat[{n}, {c}, {h}, {w}].item())"]
        return "\n".join(lines) + "\n"
    if literal:
        lines += [_tensor_literal("x", x, "N, C, H, W")]
    else:
        lines += [f"x = torch.randn({N}, {C}, {H}, {W}, dtype=torch.float64)  # N, C, H, W"]
    if source == "constant" and not literal:
        lines += [f"x[:, {c}] = 3.0  # a constant channel: σ² = 0, ε decides"]
    elif source == "image" and not literal:
        lines += ["# (the app used patches of sklearn's china.jpg; random data shows the same sets)"]
    call = {
        "batch": f"F.batch_norm(x, None, None, training=True, eps={eps!r})",
        "batch_renorm": f"F.batch_norm(x, None, None, training=True, eps={eps!r})  # Batch Renorm's first step (r=1, d=0)",
        "layer": f"F.layer_norm(x, ({C}, {H}, {W}), eps={eps!r})",
        "instance": f"F.instance_norm(x, eps={eps!r})",
        "group": f"F.group_norm(x, {spec.groups}, eps={eps!r})",
        "rms": f"F.rms_norm(x, ({C}, {H}, {W}), eps={eps!r})",
        "ghost_batch": f"torch.cat([F.batch_norm(xc, None, None, training=True, eps={eps!r}) for xc in x.split({spec.ghost_size})])",
        "pono": f"(x - x.mean(1, keepdim=True)) / torch.sqrt(x.var(1, keepdim=True, unbiased=False) + {eps!r})",
        "frn": f"x * torch.rsqrt(x.pow(2).mean((2, 3), keepdim=True) + {eps!r})",
    }
    if norm in call:
        lines += [f"y = {call[norm]}"]
    elif norm == "batch_instance":
        rho = ", ".join(repr(float(r)) for r in np.broadcast_to(np.asarray(spec.rho), (C,)))
        lines += [f"rho = torch.tensor([{rho}], dtype=torch.float64).view(1, {C}, 1, 1)",
                  f"y = rho * F.batch_norm(x, None, None, training=True, eps={eps!r}) + (1 - rho) * F.instance_norm(x, eps={eps!r})"]
    elif norm == "switchable":
        wm = ", ".join(repr(float(v)) for v in spec.mean_weights)  # full precision: same x̂ as the app
        wv = ", ".join(repr(float(v)) for v in spec.var_weights)
        lines += [f"wm, wv = [{wm}], [{wv}]  # softmaxed importance weights (IN, LN, BN)",
                  "dims = [(2, 3), (1, 2, 3), (0, 2, 3)]  # IN, LN, BN",
                  "mu = sum(a * x.mean(d, keepdim=True) for a, d in zip(wm, dims))",
                  "var = sum(b * x.var(d, keepdim=True, unbiased=False) for b, d in zip(wv, dims))",
                  f"y = (x - mu) / torch.sqrt(var + {eps!r})"]
    lines += [f"print('x̂ at (n, c, h, w) = ({n}, {c}, {h}, {w}):', y[{n}, {c}, {h}, {w}].item())"]
    return "\n".join(lines) + "\n"


def legal_groups(C: int) -> list[int]:
    """The G a GroupNorm over C channels accepts (the divisors of C)."""
    return divisors(C)


def is_partition(norm: str) -> bool:
    return norm in PARTITION_NORMS or norm in ("batch_renorm", "weight", "weight_standardization")
