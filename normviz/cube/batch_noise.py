"""How noisy are batch statistics? Sample many batches of real data and measure.

BatchNorm normalizes with the mean and variance of the current mini-batch, not of the data.
Here we draw ``trials`` batches of B images (with replacement) from a real data set, compute
one channel's batch statistics over B×H×W values, and report their spread around the
statistics of the whole data set (μ, σ²):

.. math::  \\text{mean noise} = \\mathrm{sd}(\\mu_B) / \\sigma, \\qquad
           \\text{variance noise} = \\mathrm{sd}(\\sigma^2_B) / \\sigma^2

Both are relative errors of what x̂ = (x − μ_B)/σ_B uses: the first moves x̂ by a shift, the
second by a scale. Data: scikit-learn's bundled ``load_digits`` (1 797 images 8×8) or 8×8 grey
patches of ``load_sample_image("china.jpg")``; scikit-learn is imported lazily. Whether the
variance is the noisier statistic depends on the data (for Gaussian values its relative spread
is √2 times the mean's; for heavy tails more), so ``noise_sentence`` states what was measured.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

SOURCES = {"digits": "handwritten digits (sklearn load_digits, 8×8)",
           "patches": "8×8 grey patches of a photo (sklearn china.jpg)"}
SIZES = (2, 4, 8, 16, 32, 64, 128)
MEAN_COLOUR, VAR_COLOUR = "#0072B2", "#D55E00"  # Okabe–Ito blue and vermillion
BAND = {MEAN_COLOUR: "rgba(0, 114, 178, 0.18)", VAR_COLOUR: "rgba(213, 94, 0, 0.18)"}


def load_maps(source: str = "digits", seed: int = 0) -> np.ndarray:
    """The data set as single-channel maps. Shape: (M, 8, 8), float64."""
    if source == "digits":
        from sklearn.datasets import load_digits

        return load_digits().images.astype(np.float64)
    if source == "patches":
        from sklearn.datasets import load_sample_image

        img = load_sample_image("china.jpg").astype(np.float64).mean(axis=2) / 255.0  # grey (427, 640)
        rng = np.random.default_rng(seed)
        tops = rng.integers(0, img.shape[0] - 8, 2000)
        lefts = rng.integers(0, img.shape[1] - 8, 2000)
        return np.stack([img[t:t + 8, l:l + 8] for t, l in zip(tops, lefts)])
    raise ValueError(f"data must be one of {', '.join(SOURCES)}, got {source!r}.")


@dataclass(frozen=True)
class NoiseResult:
    """Spread of the batch mean and batch variance for each batch size B.

    ``mean_sd[i]`` = sd(μ_B)/σ and ``var_sd[i]`` = sd(σ²_B)/σ² at B = ``sizes[i]``;
    ``mean_band``/``var_band`` are the 5 %, 50 %, 95 % quantiles of (μ_B − μ)/σ and
    σ²_B/σ² − 1. Shape: (len(sizes),) and (len(sizes), 3).
    """

    source: str
    sizes: tuple[int, ...]
    trials: int
    mu: float
    var: float
    mean_sd: np.ndarray
    var_sd: np.ndarray
    mean_band: np.ndarray
    var_band: np.ndarray

    @property
    def ratio(self) -> np.ndarray:
        """How many times noisier the variance is than the mean (relative spreads), per B."""
        return self.var_sd / self.mean_sd

    def __repr__(self) -> str:
        return f"NoiseResult({self.source!r}, B={list(self.sizes)}, var/mean spread={np.round(self.ratio, 2).tolist()})"


def batch_noise(source: str = "digits", sizes=SIZES, trials: int = 2000, seed: int = 0,
                maps: np.ndarray | None = None) -> NoiseResult:
    """Draw ``trials`` batches of each size and measure the spread of their statistics.

    The batch statistics are BN's for one channel (biased variance over B×H×W values),
    computed exactly from per-image moments by the law of total variance.
    Shape: maps (M, H, W), default from ``load_maps(source)``.
    """
    x = load_maps(source, seed) if maps is None else np.asarray(maps, dtype=np.float64)
    if x.ndim != 3 or len(x) < 2:
        raise ValueError(f"maps must be (M, H, W) with M ≥ 2, got shape {x.shape}.")
    rng = np.random.default_rng(seed)
    m_i = x.mean(axis=(1, 2))  # per-image mean (M,)
    v_i = x.var(axis=(1, 2))   # per-image variance (M,)
    mu = float(x.mean())
    var = float(x.var())
    if var == 0:
        raise ValueError("the data are constant (σ² = 0): there is no noise to measure.")
    sd = np.sqrt(var)
    mean_sd, var_sd, mean_band, var_band = [], [], [], []
    for B in sizes:
        idx = rng.integers(0, len(x), size=(trials, int(B)))  # (trials, B) image indices
        mb = m_i[idx].mean(axis=1)
        vb = (v_i[idx] + (m_i[idx] - mb[:, None]) ** 2).mean(axis=1)  # total variance, exact
        mean_sd.append(mb.std() / sd)
        var_sd.append(vb.std() / var)
        mean_band.append(np.quantile((mb - mu) / sd, [0.05, 0.5, 0.95]))
        var_band.append(np.quantile(vb / var - 1, [0.05, 0.5, 0.95]))
    return NoiseResult(source, tuple(int(b) for b in sizes), int(trials), mu, var, np.array(mean_sd),
                       np.array(var_sd), np.array(mean_band), np.array(var_band))


def noise_sentence(r: NoiseResult, B: int = 8) -> str:
    """What was measured, in words, with the comparison stated as it came out."""
    i = int(np.argmin(np.abs(np.array(r.sizes) - B)))
    B = r.sizes[i]
    m, v, k = r.mean_sd[i], r.var_sd[i], r.ratio[i]
    always = bool((r.ratio > 1).all())
    if k > 1:
        cmp = f"the batch variance is the noisier statistic: its relative spread is {k:.1f}× the mean's"
    else:
        cmp = f"here the batch mean is the noisier statistic ({1 / k:.1f}× the variance's relative spread)"
    span = ("at every batch size measured" if always else
            "only at some batch sizes" if (r.ratio > 1).any() else "at no batch size measured")
    bias = -r.var_band[i, 1]
    low = (f"The median batch variance is {bias:.0%} below σ² (a biased estimate from few values)."
           if bias >= 0.005 else "The median batch variance is close to σ².")
    return (f"With B = {B} images per batch ({r.trials} batches drawn), the batch mean misses the data "
            f"mean by {m:.1%} of σ (one standard deviation) and the batch variance misses σ² by {v:.1%}, so "
            f"{cmp}. The variance is the noisier one {span} on these data. {low} Both spreads shrink like "
            f"1/√B: BatchNorm's statistics get noisy at small batches, while GroupNorm uses no batch statistics.")


def noise_figure(r: NoiseResult) -> go.Figure:
    """Left: relative spread of μ_B and σ²_B against B (log–log). Right: their 5–95 % bands."""
    B = list(r.sizes)
    data = [
        dict(type="scatter", x=B, y=r.mean_sd.tolist(), name="batch mean: sd(μ_B)/σ", mode="lines+markers",
             line=dict(color=MEAN_COLOUR, width=2), marker=dict(symbol="circle", size=8)),
        dict(type="scatter", x=B, y=r.var_sd.tolist(), name="batch variance: sd(σ²_B)/σ²", mode="lines+markers",
             line=dict(color=VAR_COLOUR, width=2, dash="dash"), marker=dict(symbol="square", size=8)),
    ]
    for band, colour, dash, label, sym in ((r.mean_band, MEAN_COLOUR, "solid", "(μ_B − μ)/σ", "circle"),
                                           (r.var_band, VAR_COLOUR, "dash", "σ²_B/σ² − 1", "square")):
        data.append(dict(type="scatter", x=B + B[::-1], y=band[:, 2].tolist() + band[::-1, 0].tolist(),
                         fill="toself", fillcolor=BAND[colour], mode="lines", line=dict(width=0), hoverinfo="skip",
                         name=f"5–95 % of {label}", xaxis="x2", yaxis="y2"))
        data.append(dict(type="scatter", x=B, y=band[:, 1].tolist(), mode="lines+markers", showlegend=False,
                         line=dict(color=colour, dash=dash), marker=dict(symbol=sym, size=6),
                         name=f"median {label}", xaxis="x2", yaxis="y2"))
    layout = dict(
        title=dict(text=f"How noisy are batch statistics? {SOURCES[r.source]}", x=0.0, xanchor="left",
                   font=dict(size=14)),
        xaxis=dict(domain=[0, 0.45], type="log", title=dict(text="batch size B"), tickvals=B),
        yaxis=dict(type="log", title=dict(text="relative spread (sd)"), tickformat=".1%", automargin=True,
                   tickvals=[0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]),
        xaxis2=dict(domain=[0.55, 1], type="log", title=dict(text="batch size B"), tickvals=B, anchor="y2"),
        yaxis2=dict(anchor="x2", title=dict(text="relative error (5–95 %)"), zeroline=True, zerolinecolor="#888", automargin=True,
                    tickformat="+.0%"),
        height=380, margin=dict(l=60, r=10, t=50, b=10), legend=dict(orientation="h", y=-0.22, x=0.0),
        plot_bgcolor="#FFFFFF",
    )
    return go.Figure({"data": data, "layout": layout}, _validate=False)
