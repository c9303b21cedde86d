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

from normviz.norms import NORMS, get_spec, normalize, normalize_weight
from normviz.norms.sets import (
    count_formula,
    describe_set,
    group_ids,
    pooling_weights,
    set_size,
)
from normviz.norms.sets import count_sets as _count_sets
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
    extra: tuple[tuple[str, float], ...] = ()  # any other registry parameter, by name (r_max, alpha, ...)

    @property
    def norm_spec(self):
        return get_spec(self.norm)

    @property
    def kind(self) -> str:
        return self.norm_spec.kind

    @property
    def is_weight(self) -> bool:
        return self.norm_spec.is_weight

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
        """Keyword arguments of ``normalize`` for ``norm`` (default: ours): every parameter the
        registry lists for it, from this spec (``extra`` or the registry's default for the rest)."""
        known = {"groups": self.groups, "ghost_size": self.ghost_size, "rho": np.asarray(self.rho, dtype=np.float64),
                 "mean_weights": np.asarray(self.mean_weights), "var_weights": np.asarray(self.var_weights)}
        extra = dict(self.extra)
        return {p.name: known[p.name] if p.name in known else extra.get(p.name, p.default)
                for p in get_spec(norm or self.norm).params}

    def set_kwargs(self, norm: str | None = None) -> dict:
        """The parameters that decide which elements share a set (what ``pooling_weights`` takes)."""
        spec = get_spec(norm or self.norm)
        kw = self.norm_kwargs(spec.key)
        if spec.is_mixture:
            return {k: v for k, v in kw.items()}
        return {k: kw[k] for k in ("groups", "ghost_size") if k in kw}


def weights(spec: CubeSpec, norm: str | None = None, stat: str = "mean") -> np.ndarray:
    """``pooling_weights`` of the selected element under ``norm`` (default: the spec's)."""
    norm = norm or spec.norm
    return pooling_weights(spec.shape, norm, spec.index, stat=stat, **spec.set_kwargs(norm))


def stats_of(norm: str) -> tuple[str, ...]:
    """The statistics the cube draws sets for: μ and σ² separately for a norm that mixes
    statistics (their weights differ), otherwise one."""
    return ("mean", "var") if get_spec(norm).mix == "statistics" else ("mean",)


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


def element_stats(spec: CubeSpec, x: np.ndarray, norm: str | None = None) -> ElementStats:
    """The statistic every element of ``x`` is normalized with under ``norm``; never raises
    for a legal shape: if the norm is undefined here (BN with N·H·W = 1, ...), ``error`` says
    why and x̂ is NaN."""
    norm = norm or spec.norm
    ns = get_spec(norm)
    shape = x.shape
    kw = spec.norm_kwargs(norm)
    error, extra = None, {}
    if ns.is_weight:
        ids = group_ids(shape, norm)
        rows = x.reshape(shape[0], -1)
        per_unit = (lambda v: np.broadcast_to(v.reshape(-1, 1, 1, 1), shape).copy())
        if ns.centred:  # mean and unbiased variance of each filter (Weight Standardization)
            mean, var = per_unit(rows.mean(axis=1)), per_unit(rows.var(axis=1, ddof=1))
        else:  # ‖v‖² of each unit (Weight Norm)
            mean, var = np.zeros(shape), per_unit((rows ** 2).sum(axis=1))
        try:
            x_hat = normalize_weight(x, norm, eps=spec.eps)
        except ValueError as err:
            x_hat, error = np.full(shape, np.nan), str(err)
        return ElementStats(ids, mean, var, x_hat, error)
    if ns.is_mixture:
        parts = {k: _set_moments(x, group_ids(shape, k)) for k in ns.mixes}
        group = np.full(shape, -1)
        if ns.mix == "outputs":  # the first part's moments, the second's as extra
            (mean, var), (m2, v2) = parts[ns.mixes[0]], parts[ns.mixes[1]]
            extra = {"mean_2": m2, "var_2": v2}
        else:
            mean = sum(w * parts[k][0] for w, k in zip(spec.mean_weights, ns.mixes))
            var = sum(w * parts[k][1] for w, k in zip(spec.var_weights, ns.mixes))
    elif ns.is_elementwise:  # no statistics at all
        group = group_ids(shape, norm)
        mean, var = np.full(shape, np.nan), np.full(shape, np.nan)
    else:
        group = group_ids(shape, norm, **spec.set_kwargs(norm))
        mean, var = _set_moments(x, group, centred=ns.centred)
    try:
        with np.errstate(invalid="ignore", divide="ignore"):  # σ² = ε = 0 is explained, not warned
            x_hat = normalize(x, norm, eps=spec.eps, **kw)
            if not np.isfinite(x_hat).all():
                error = (f"With ε = {spec.eps:g} and a set whose σ² = 0, x̂ = 0/√0 is undefined (NaN): "
                         f"this is exactly why ε exists. Use ε > 0.")
    except ValueError as err:
        x_hat, error = np.full(shape, np.nan), str(err)
    return ElementStats(group, mean, var, x_hat, error, extra)


# --------------------------------------------------------------------------------------------
# Words


def count_sets(spec: CubeSpec, norm: str | None = None) -> int:
    """K, the number of statistics the norm computes (for mixtures: of all its parts)."""
    norm = norm or spec.norm
    return _count_sets(spec.shape, norm, **{k: v for k, v in spec.norm_kwargs(norm).items()
                                            if k in ("groups", "ghost_size")})


def param_text(spec: CubeSpec, norm: str | None = None) -> str:
    """The norm's set-shaping parameters as the cube shows them: " (G = 2)", "" for none."""
    ns = get_spec(norm or spec.norm)
    kw = spec.norm_kwargs(ns.key)
    shown = [f"{p.symbol} = {kw[p.name]}" for p in ns.params if p.kind in ("divisor_C", "divisor_N")]
    return f" ({', '.join(shown)})" if shown else ""


def count_caption(spec: CubeSpec, norm: str | None = None) -> str:
    """'GroupNorm computes K = 4 means (N·G = 2·2), one per colour.'"""
    ns = get_spec(norm or spec.norm)
    if ns.is_elementwise:
        return f"{ns.name} computes no statistic: every element is transformed on its own."
    K = count_sets(spec, ns.key)
    what = "means" if ns.centred or ns.is_mixture else "scales"
    how = count_formula(spec.shape, ns.key, **{k: v for k, v in spec.norm_kwargs(ns.key).items()
                                               if k in ("groups", "ghost_size")})
    if ns.is_mixture:
        how += ": " + " and ".join(f"{NORMS[k].name}'s" for k in ns.mixes)
    return f"{ns.name} computes K = {K} {what} ({how})."


def _members(norm: str, spec: CubeSpec) -> tuple[str, str]:
    """(how many, which) for the pooled set of a partition norm."""
    return describe_set(spec.shape, norm, spec.index, **{k: v for k, v in spec.norm_kwargs(norm).items()
                                                          if k in ("groups", "ghost_size")})


def summary_sentence(spec: CubeSpec) -> str:
    """A plain-text sentence for screen readers: what the selected element is pooled with.

    E.g. "BatchNorm pools 2×4×4 = 32 values: every n, h, w of channel c = 2."
    """
    ns = spec.norm_spec
    name = ns.name
    if ns.mix == "outputs":  # two normalized outputs, mixed per channel
        c = spec.index[1]
        r = spec.rho_value(c)
        (a_size, a_set), (b_size, b_set) = (_members(k, spec) for k in ns.mixes)
        a_name, b_name = (NORMS[k].name for k in ns.mixes)
        return (f"{name} mixes two normalized outputs with gate ρ = {r:.2g} for channel c = {c}: {a_name}'s, "
                f"over {a_size} = {set_size(a_size)} values ({a_set}), weighted ρ = {r:.2g}, and {b_name}'s, over "
                f"{b_size} = {set_size(b_size)} values ({b_set}), weighted 1 − ρ = {1 - r:.2g}.")
    if ns.mix == "statistics":  # one normalization with blended statistics
        parts = []
        for k, wm, wv in zip(ns.mixes, spec.mean_weights, spec.var_weights):
            size, which = _members(k, spec)
            parts.append(f"{NORMS[k].name}'s {size} = {set_size(size)} values ({which}) with weight "
                         f"{wm:.2f} for μ and {wv:.2f} for σ²")
        return f"{name} blends the statistics of three sets, then normalizes once: " + "; ".join(parts) + "."
    if ns.is_elementwise:
        return f"{name} pools nothing: every element is transformed alone, with no statistic ({ns.description})"
    size, which = _members(ns.key, spec)
    verb = "pools" if ns.centred or not ns.is_weight else "takes the norm ‖v‖ of"
    extra = " (mean of squares, no mean subtracted)" if not ns.centred and not ns.is_weight else ""
    then = (" and then corrects them by r and d towards the running statistics μ, σ"
            if ns.kind == "stateful" else "")
    return f"{name}{param_text(spec)} {verb} {size} = {set_size(size)} values{extra}: {which}{then}."


def stat_labels(norm: str) -> tuple[str, str]:
    """Names of the two statistics the hover and the formula show for ``norm``."""
    return get_spec(norm).stat_names


def _fmt(v: float) -> str:
    """A number for LaTeX, 4 significant digits: 0.4492, 1\times10^{-5}, -2.776\times10^{-17}."""
    if not np.isfinite(v):
        return r"\text{undefined}"
    mantissa, _, exponent = f"{v:.4g}".partition("e")
    return rf"{mantissa}\times10^{{{int(exponent)}}}" if exponent else mantissa


def _neg(v: float) -> str:
    """A number to subtract: negative ones in parentheses, so "x − (−0.5)" never reads "x − −0.5"."""
    t = _fmt(v)
    return f"({t})" if np.isfinite(v) and v < 0 else t


_AFFINE = r",\quad y = \gamma\,\hat x + \beta = \hat x\ \ (\gamma = 1,\ \beta = 0\text{ here})"


def formula_numbers(spec: CubeSpec, x: np.ndarray, stats: ElementStats | None = None) -> str:
    """The norm's formula with the live numbers of the selected set (LaTeX for ``st.latex``),
    ending with the affine step γ, β where the layer has one."""
    stats = stats or element_stats(spec, x)
    ns = spec.norm_spec
    i = tuple(spec.index)
    xv, mu, var, xh = x[i], stats.mean[i], stats.var[i], stats.x_hat[i]
    eps = _fmt(spec.eps)
    size = int(np.count_nonzero(weights(spec)))
    if ns.is_weight and ns.centred:
        return (rf"|S| = {size},\ \bar W = {_fmt(mu)},\ \mathrm{{std}} = {_fmt(math.sqrt(var))},\quad "
                rf"\hat W = \frac{{{_fmt(xv)} - {_neg(mu)}}}{{{_fmt(math.sqrt(var))} + {eps}}} = {_fmt(xh)}")
    if ns.is_weight:
        return (rf"|S| = {size},\ \lVert v \rVert = {_fmt(math.sqrt(var))},\quad w = \frac{{v}}{{\lVert v \rVert}}"
                rf" = \frac{{{_fmt(xv)}}}{{{_fmt(math.sqrt(var))}}} = {_fmt(xh)}\ \ (g = 1)")
    if ns.is_elementwise:
        shown = r",\ ".join(rf"{p.symbol} = {_fmt(float(np.ravel(v)[0]))}" for p, v in
                            zip(ns.params, spec.norm_kwargs().values()))
        return rf"x = {_fmt(xv)},\ {shown},\quad \hat x = {_fmt(xh)}" + _AFFINE
    if ns.mix == "outputs":
        r = spec.rho_value(i[1])
        a, b = (NORMS[k].short for k in ns.mixes)
        m2, v2 = stats.extra["mean_2"][i], stats.extra["var_2"][i]
        return (rf"\rho = {r:.3g},\ \mu_{{{a}}} = {_fmt(mu)},\ \sigma^2_{{{a}}} = {_fmt(var)},\ "
                rf"\mu_{{{b}}} = {_fmt(m2)},\ \sigma^2_{{{b}}} = {_fmt(v2)},\quad \hat x = {r:.3g}\cdot"
                rf"\frac{{{_fmt(xv)} - {_neg(mu)}}}{{\sqrt{{{_fmt(var)} + {eps}}}}} + {1 - r:.3g}\cdot"
                rf"\frac{{{_fmt(xv)} - {_neg(m2)}}}{{\sqrt{{{_fmt(v2)} + {eps}}}}} = {_fmt(xh)}" + _AFFINE)
    if ns.mix == "statistics":
        head = (r"\mu = \textstyle\sum_k w_k\mu_k" + rf" = {_fmt(mu)},\ " + r"\sigma^2 = \textstyle\sum_k w'_k\sigma^2_k"
                + rf" = {_fmt(var)},\quad ")
        return head + rf"\hat x = \frac{{{_fmt(xv)} - {_neg(mu)}}}{{\sqrt{{{_fmt(var)} + {eps}}}}} = {_fmt(xh)}" + _AFFINE
    if not ns.centred:
        return (rf"|S| = {size},\ \nu^2_S = {_fmt(var)},\quad \hat x"
                rf" = \frac{{{_fmt(xv)}}}{{\sqrt{{{_fmt(var)} + {eps}}}}} = {_fmt(xh)}" + _AFFINE)
    std = (rf"|S| = {size},\ \mu_S = {_fmt(mu)},\ \sigma^2_S = {_fmt(var)},\quad "
           rf"\hat x = \frac{{{_fmt(xv)} - {_neg(mu)}}}{{\sqrt{{{_fmt(var)} + {eps}}}}}")
    if ns.kind == "stateful":  # Batch Renorm: BN's x̂, then ·r + d
        kw = spec.norm_kwargs()
        c = i[1]
        sigma_b = math.sqrt(var + spec.eps)
        per_channel = lambda v: float(np.broadcast_to(np.asarray(v, dtype=np.float64), (spec.shape[1],))[c])  # noqa: E731
        run_mu, run_sigma = per_channel(kw["running_mean"]), per_channel(kw["running_std"])
        r = min(max(sigma_b / run_sigma, 1 / kw["r_max"]), kw["r_max"])
        d = min(max((mu - run_mu) / run_sigma, -kw["d_max"]), kw["d_max"])
        return (std + rf",\quad r = \mathrm{{clip}}(\tfrac{{{_fmt(sigma_b)}}}{{{_fmt(run_sigma)}}}) = {_fmt(r)},\ "
                rf"d = \mathrm{{clip}}(\tfrac{{{_fmt(mu)} - {_neg(run_mu)}}}{{{_fmt(run_sigma)}}}) = {_fmt(d)},\quad "
                rf"\hat x\,r + d = {_fmt(xh)}" + _AFFINE)
    return std + rf" = {_fmt(xh)}" + _AFFINE


def edge_notes(spec: CubeSpec, x: np.ndarray, stats: ElementStats | None = None) -> list[tuple[str, str]]:
    """Edge cases of this input, explained: a list of (level, message), level "error" when
    the norm is undefined here, "warning" when ε decides the output."""
    stats = stats or element_stats(spec, x)
    notes = []
    if stats.error:
        notes.append(("error", stats.error))
    i = tuple(spec.index)
    ns = spec.norm_spec
    divides_by_spread = ns.centred and not ns.is_weight and not ns.is_elementwise
    if not stats.error and divides_by_spread and np.isfinite(stats.var[i]) and stats.var[i] < 1e-12:
        notes.append(("warning",
                      f"The selected set is constant, so σ² = 0 and x̂ = (x − μ)/√(0 + ε) = 0/√{spec.eps:g} = 0: "
                      f"ε alone keeps the division finite (with ε = 0 it would be 0/0). Real layers meet this "
                      f"with dead channels or padding."))
    return notes


# --------------------------------------------------------------------------------------------
# Checks and exports


def torch_reference(spec: CubeSpec, x: np.ndarray):
    """The same normalization computed by torch (the norm's torch reference op), and its name.

    Returns (array, name of the torch computation). torch is imported here, lazily.
    """
    import torch

    from normviz.norms.torch_modules import MODULES

    module = MODULES[spec.norm]
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))
    return module.reference(t, spec.eps, **spec.norm_kwargs()).numpy(), module.reference_name


def torch_difference(spec: CubeSpec, x: np.ndarray) -> tuple[float | None, str]:
    """max |normviz − torch| over all elements (float64), and what it was compared with.

    Returns (None, reason) when the norm is undefined for this input.
    """
    stats = element_stats(spec, x)
    if stats.error and not np.isfinite(stats.x_hat).any():
        return None, "undefined for this input (see the message above)"
    ref, name = torch_reference(spec, x)
    ours = stats.x_hat
    both = np.isfinite(ours) & np.isfinite(ref)
    return float(np.max(np.abs(ours[both] - ref[both]))) if both.any() else None, name


def statistics_rows(spec: CubeSpec, x: np.ndarray) -> list[dict]:
    """One row per statistic the norm computes: set, parts, |S|, μ, σ² (for CSV export).

    Mixtures list the sets of each of their parts, labelled with the part; an element-wise norm
    has no rows (it computes no statistic).
    """
    ns = spec.norm_spec
    if ns.is_elementwise:
        return []
    rows = []
    for k in ns.mixes or (spec.norm,):
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
            rows.append({"norm": ns.name, "part": NORMS[k].name, "set": g,
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


def _reference_source(norm: str) -> str:
    """The source of the norm's torch reference op, as a plain function (what the tests check)."""
    import inspect
    import textwrap

    from normviz.norms.torch_modules import MODULES

    lines = textwrap.dedent(inspect.getsource(MODULES[norm].reference)).splitlines()
    return "\n".join(line for line in lines if line.strip() != "@staticmethod")


def _literal(value) -> str:
    """A parameter as Python source at full precision (so the script prints the page's x̂)."""
    v = np.asarray(value)
    return repr(v.item()) if v.ndim == 0 or v.size == 1 else repr([float(t) for t in v.ravel()])


def pytorch_snippet(spec: CubeSpec, source: str = "random", seed: int = 0, x: np.ndarray | None = None,
                    max_literal: int = 1024) -> str:
    """A runnable script that applies the same norm in PyTorch: its torch reference op
    (``normviz.norms.torch_modules``), on the app's exact input when it is small enough.

    With ``x`` (at most ``max_literal`` values) the script holds the app's exact input, so it
    prints the same x̂ the page shows; otherwise it draws random data of the same shape.
    """
    N, C, H, W = spec.shape
    ns = spec.norm_spec
    name, axes = ("w", "C_out, C_in, k, k") if ns.is_weight else ("x", "N, C, H, W")
    lines = ["# normviz: the cube's configuration, reproduced in PyTorch", "import torch",
             "import torch.nn.functional as F", "", f"torch.manual_seed({seed})"]
    if x is not None and x.size <= max_literal:
        lines += [_tensor_literal(name, x, axes)]
    else:
        lines += [f"{name} = torch.randn({N}, {C}, {H}, {W}, dtype=torch.float64)  # {axes}"]
        if source == "constant" and not ns.is_weight:
            lines += [f"x[:, {spec.index[1]}] = 3.0  # a constant channel: σ² = 0, ε decides"]
        elif source == "image" and not ns.is_weight:
            lines += ["# (the app used patches of sklearn's china.jpg; random data shows the same sets)"]
    kw = ", ".join(f"{k}={_literal(v)}" for k, v in spec.norm_kwargs().items())
    lines += ["", f"# {ns.name}: normviz's torch reference op ({type(spec).__module__.split('.')[0]}.norms.torch_modules)",
              _reference_source(spec.norm), "",
              f"y = reference({name}, eps={spec.eps!r}{', ' + kw if kw else ''})",
              f"print('{ns.short} output at ({', '.join(spec.index_names)}) = {tuple(spec.index)}:', "
              f"y[{', '.join(map(str, spec.index))}].item())"]
    return "\n".join(lines) + "\n"


def uncorrected(spec: CubeSpec, x: np.ndarray) -> tuple[str, float] | None:
    """For a norm that corrects its statistics with running ones (Batch Renorm): the plain norm
    that pools the same set, and max |x̂ − x̂_plain| on ``x``. None for other norms."""
    ns = spec.norm_spec
    if ns.kind != "stateful":
        return None
    plain = next(k for k, s in NORMS.items() if s.axes == ns.axes and s.kind == "activation" and s.family == ns.family)
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = np.abs(element_stats(spec, x).x_hat - normalize(x, plain, eps=spec.eps))
    return NORMS[plain].name, float(np.nanmax(diff))


def legal_groups(C: int) -> list[int]:
    """The G a GroupNorm over C channels accepts (the divisors of C)."""
    return divisors(C)


def is_partition(norm: str) -> bool:
    return get_spec(norm).is_partition
