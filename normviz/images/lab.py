"""The image lab's computations: batch building, every norm on the batch, what each erases.

Pure functions on numpy arrays (no streamlit); the page ``app_pages/image_lab.py`` caches and
draws them. All arrays are N×3×S×S float64 in pixel space (values of the [0, 1] images) or
N×27×S×S in the DCT feature space of :mod:`normviz.images.features`.

The batch rule: every image is centre-cropped to its largest square and resized to
``SIDE``×``SIDE`` (:func:`normviz.images.square_crop_resize`), then clipped to [0, 1].
BatchNorm in eval mode uses running statistics gathered over the six bundled samples
(:func:`reference_stats`).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from normviz.images import features
from normviz.images import load as images
from normviz.images.views import EVAL, all_views, default_views, view_norm  # noqa: F401
from normviz.norms import NORMS, RunningStats, normalize, normalize_eval, update_running

SIDE = 128  # working size: 128×128 keeps a full rerun of all views well under a second
EPS = 1e-5
# Which views there are (pure, also read by normviz.state): see normviz.images.views.
VIEWS = default_views()


def view_label(view: str, *, groups: int = 3, rho: float = 0.5) -> str:
    """Human label of a view, with its parameters: "GroupNorm (G=3)", "BatchNorm (eval)"."""
    key, is_eval = view_norm(view)
    spec = NORMS[key]
    shown = {"groups": groups, "rho": rho}
    values = ", ".join(f"{p.symbol}={shown[p.name]:g}" for p in spec.params if p.name in shown)
    mode = " (eval)" if is_eval else " (train)" if spec.running_stats else ""
    return f"{spec.name}{mode}" + (f" ({values})" if values else "")


def view_params(key: str, *, groups: int = 3, rho: float = 0.5) -> dict:
    """``normalize`` keyword arguments of a norm in the lab: the page's G and ρ, the registry's
    defaults for any other parameter."""
    given = {"groups": groups, "rho": rho}
    return {p.name: given.get(p.name, p.default) for p in NORMS[key].params}


def erase_reason(view: str, change: float, *, tol: float = 1e-3) -> str:
    """Why a view's output moved (or not) under a change of one image, from the measured change
    and the registry's reason."""
    key, is_eval = view_norm(view)
    spec = NORMS[key]
    verdict = f"erased (changes by {change:.1e}, up to ε)" if change < tol else f"not erased (changes by {change:.2g})"
    if is_eval:
        return f"{verdict}: eval uses fixed running statistics, so the output is an affine map of the input."
    return f"{verdict}: {spec.erases_why}"


# --------------------------------------------------------------------------- batch

def prepare(img: np.ndarray, side: int = SIDE) -> np.ndarray:
    """One image -> the batch format: centre square, ``side``×``side``, clipped to [0, 1].

    Shape: (H, W, 3) -> (3, side, side) float64
    """
    sq = np.clip(images.square_crop_resize(img, side), 0.0, 1.0)
    return sq.astype(np.float64).transpose(2, 0, 1)


@dataclass(frozen=True)
class LabBatch:
    """The batch the norms see: images (N, 3, S, S) float64, their names, how many are the user's."""

    x: np.ndarray
    names: tuple[str, ...]
    n_user: int

    @property
    def N(self) -> int:
        return self.x.shape[0]

    def __repr__(self) -> str:
        return f"LabBatch(N={self.N}, S={self.x.shape[-1]}, user={self.n_user}, names={self.names})"


def build_batch(user: Sequence[tuple[str, np.ndarray]], mates: Sequence[str],
                side: int = SIDE) -> LabBatch:
    """User images (already decoded) first, then the named bundled samples as batch mates.

    A lone image under BN in training mode is IN, which teaches the wrong thing, so the page
    adds bundled batch mates by default.
    """
    sample = images.samples()
    unknown = [m for m in mates if m not in sample]
    if unknown:
        raise ValueError(f"Unknown sample(s) {unknown}; choose from {', '.join(sample)}.")
    items = [(name, prepare(img, side)) for name, img in user]
    items += [(m, prepare(sample[m], side)) for m in mates]
    if not items:
        raise ValueError("The batch is empty: upload an image or pick at least one sample.")
    return LabBatch(np.stack([a for _, a in items]), tuple(n for n, _ in items), len(user))


@lru_cache(maxsize=4)
def _reference_batch(side: int) -> np.ndarray:
    x = np.stack([prepare(v, side) for v in images.samples().values()])
    x.setflags(write=False)
    return x


@lru_cache(maxsize=4)
def reference_stats(side: int = SIDE, space: str = "pixel") -> RunningStats:
    """BN's running statistics over the reference set: the six bundled samples at ``side``.

    One PyTorch-style update with ``momentum=None`` (cumulative average) over the six samples
    as one batch: running mean = their per-channel mean, running var = their **unbiased**
    per-channel variance (PyTorch stores the unbiased one). ``space="feature"`` does the same
    on their 27 DCT feature maps.
    """
    x = _reference_batch(side)
    if space == "feature":
        x = features.encode(x)
    elif space != "pixel":
        raise ValueError(f"space must be 'pixel' or 'feature', got {space!r}.")
    C = x.shape[1]
    return update_running(RunningStats.initial(C), x, momentum=None)


def apply_norm(x: np.ndarray, view: str, *, groups: int = 3, rho: float = 0.5,
               running: RunningStats | None = None, eps: float = EPS) -> np.ndarray:
    """One view's norm on a batch (training-mode statistics, or running ones for an eval view)."""
    key, is_eval = view_norm(view)
    if is_eval:
        if running is None:
            raise ValueError(f"{view_label(view)} needs running statistics (see reference_stats).")
        return normalize_eval(x, running.mean, running.var, eps=eps)
    return normalize(x, key, eps=eps, **view_params(key, groups=groups, rho=rho))


def run_views(x: np.ndarray, *, keys: Sequence[str] = VIEWS, space: str = "pixel",
              groups: int = 3, rho: float = 0.5, eps: float = EPS,
              side: int | None = None, z: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Every view's output for the batch, as images (N, 3, S, S).

    ``space="pixel"``: the norms act on the 3 colour channels directly. ``space="feature"``:
    the batch is encoded into 27 DCT feature maps (or ``z`` if given), normalized there
    (``groups`` must divide 27) and decoded back to pixels.
    """
    side = x.shape[-1] if side is None else side
    running = reference_stats(side, space)
    if space == "pixel":
        return {k: apply_norm(x, k, groups=groups, rho=rho, running=running, eps=eps) for k in keys}
    z = features.encode(x) if z is None else z
    return {k: features.decode(apply_norm(z, k, groups=groups, rho=rho, running=running, eps=eps))
            for k in keys}


def display_images(out: np.ndarray) -> np.ndarray:
    """Normalized outputs -> uint8 (N, S, S, 3) with the one fixed mapping [−3, 3] -> [0, 1]."""
    return images.to_uint8(images.display(images.to_hwc(out)))


# --------------------------------------------------------------------------- what each norm erases

@dataclass(frozen=True)
class Change:
    """The change applied to one image: ``a·(g_c·x_c) + b``, optionally clipped to [0, 1]."""

    a: float = 1.0
    b: float = 0.0
    gains: tuple[float, float, float] = (1.0, 1.0, 1.0)
    clip: bool = False

    def apply(self, img: np.ndarray) -> np.ndarray:
        """Shape: (3, H, W) -> (3, H, W)"""
        y = self.a * (np.asarray(self.gains, dtype=np.float64)[:, None, None] * img) + self.b
        return np.clip(y, 0.0, 1.0) if self.clip else y

    def at(self, s: float) -> "Change":
        """The change at strength s: s = 0 is the identity, s = 1 this change (linear in a, b, g)."""
        return Change(1 + s * (self.a - 1), s * self.b,
                      tuple(1 + s * (g - 1) for g in self.gains), self.clip)

    @property
    def scales(self) -> np.ndarray:
        """The effective per-channel scale a·g_c."""
        return self.a * np.asarray(self.gains, dtype=np.float64)


def image_outputs(x: np.ndarray, index: int, img: np.ndarray, *, keys: Sequence[str] = VIEWS,
                  groups: int = 3, rho: float = 0.5, eps: float = EPS,
                  running: RunningStats | None = None) -> dict:
    """Each view's output for image ``index`` of the batch when that image is replaced by ``img``.

    Batch-dependent norms (BN train, BIN) see the whole batch; the others need only the image
    itself, so they are computed on it alone (N = 1), which is N times cheaper.

    Shape: x (N, 3, S, S); img (3, S, S) -> {key: (3, S, S)}
    """
    running = reference_stats(x.shape[-1], "pixel") if running is None else running
    out = {}
    xc = None
    for k in keys:
        key, is_eval = view_norm(k)
        if NORMS[key].batch_dependent and not is_eval:
            if xc is None:
                xc = x.copy()
                xc[index] = img
            out[k] = apply_norm(xc, k, groups=groups, rho=rho, running=running, eps=eps)[index]
        else:
            out[k] = apply_norm(img[None], k, groups=groups, rho=rho, running=running, eps=eps)[0]
    return out


@dataclass(frozen=True)
class EraseResult:
    """Each view's output change (max-abs over the image) against the strength of the change."""

    strengths: np.ndarray  # (K,)
    change: dict  # key -> (K,) max-abs change of the chosen image's output
    at_setting: dict  # key -> float, the change at strength 1
    clip_deviation: float  # max |clip(change(x)) − change(x)|: what clipping itself changed
    original: dict  # key -> (3, S, S) the image's output before the change
    changed: dict  # key -> (3, S, S) the image's output after the full change


def erase_curves(x: np.ndarray, index: int, change: Change, *, keys: Sequence[str] = VIEWS,
                 groups: int = 3, rho: float = 0.5, eps: float = EPS,
                 strengths: Sequence[float] = tuple(np.linspace(0.0, 1.0, 11))) -> EraseResult:
    """Apply ``change.at(s)`` to image ``index`` of the batch and measure every output's change.

    The other images stay as they are (they still shape BN's batch statistics).
    """
    kw = dict(keys=keys, groups=groups, rho=rho, eps=eps, running=reference_stats(x.shape[-1], "pixel"))
    base = image_outputs(x, index, x[index], **kw)
    s_arr = np.asarray(strengths, dtype=np.float64)
    curves = {k: np.zeros(len(s_arr)) for k in keys}
    for i, s in enumerate(s_arr):
        out = image_outputs(x, index, change.at(float(s)).apply(x[index]), **kw)
        for k in keys:
            curves[k][i] = float(np.abs(out[k] - base[k]).max())
    unclipped = Change(change.a, change.b, change.gains, False).apply(x[index])
    dev = float(np.abs(np.clip(unclipped, 0, 1) - unclipped).max()) if change.clip else 0.0
    full = image_outputs(x, index, change.apply(x[index]), **kw)
    at = {k: float(np.abs(full[k] - base[k]).max()) for k in keys}
    return EraseResult(s_arr, curves, at, dev, base, full)


@dataclass(frozen=True)
class EpsPrediction:
    """IN_ε(a·x + b) = IN_{ε/a²}(x), channel by channel with a_c = a·g_c.

    ``predicted``: max |IN_{ε/a_c²}(x) − IN_ε(x)|, the change ε predicts;
    ``residual``: max |IN_ε(change(x)) − IN_{ε/a_c²}(x)|, what the identity leaves (≈ 1e-15
    unclipped; with clipping the identity no longer holds and this shows by how much).
    ``observed``: max |IN_ε(change(x)) − IN_ε(x)|.
    """

    predicted: float
    residual: float
    observed: float


def instance_eps_prediction(img: np.ndarray, change: Change, eps: float = EPS) -> EpsPrediction:
    """The ε identity for InstanceNorm on one image (3, H, W), per channel."""
    x = img[None]
    y = change.apply(img)[None]
    scales = change.scales
    if np.any(scales <= 0):
        raise ValueError(f"The identity needs positive scales a·g_c, got {scales.tolist()}.")
    in_x = normalize(x, "instance", eps=eps)
    in_y = normalize(y, "instance", eps=eps)
    # IN is per channel, so IN on a one-channel slice is that channel of IN, and each channel
    # can have its own rescaled ε.
    rescaled = np.concatenate([normalize(x[:, c:c + 1], "instance", eps=eps / scales[c] ** 2)
                               for c in range(x.shape[1])], axis=1)
    return EpsPrediction(float(np.abs(rescaled - in_x).max()), float(np.abs(in_y - rescaled).max()),
                         float(np.abs(in_y - in_x).max()))


def eps_identity_residual(img: np.ndarray, a: float, b: float, key: str, *, groups: int = 3,
                          eps: float = EPS) -> float:
    """max |f_ε(a·x + b) − f_{ε/a²}(x)| for a per-sample, centred statistics norm f (LN, IN, GN, PONO)."""
    spec = NORMS[key]
    if spec.family != "statistics" or spec.batch_dependent or not spec.centred:
        raise ValueError(f"The ε identity holds for per-sample norms that subtract a mean and divide by a "
                         f"standard deviation, not for {spec.name}.")
    x = img[None]
    kw = view_params(key, groups=groups)
    lhs = normalize(a * x + b, key, eps=eps, **kw)
    rhs = normalize(x, key, eps=eps / a ** 2, **kw)
    return float(np.abs(lhs - rhs).max())


# --------------------------------------------------------------------------- batch coupling

COUPLING_KEYS = ("batch", "layer", "instance", "group")
COUPLING_HEAT = "batch"  # the view whose |difference| the heatmap draws: the one that couples

@dataclass(frozen=True)
class Coupling:
    """One image's output in batch A vs batch B (different batch mates)."""

    diff: dict  # key -> max-abs difference of the image's output
    heatmap: np.ndarray  # (S, S): BN (train) |difference|, max over channels


def coupling(img: np.ndarray, mates_a: np.ndarray, mates_b: np.ndarray, *,
             keys: Sequence[str] = COUPLING_KEYS, groups: int = 3, rho: float = 0.5,
             eps: float = EPS) -> Coupling:
    """Normalize [img] + mates_a and [img] + mates_b; compare img's outputs.

    Shape: img (3, S, S); mates_a (A, 3, S, S); mates_b (B, 3, S, S)
    """
    if len(mates_a) == 0 or len(mates_b) == 0:
        raise ValueError("Pick at least one batch mate in each of the two batches.")
    xa = np.concatenate([img[None], mates_a])
    xb = np.concatenate([img[None], mates_b])
    diff, heat = {}, None
    for k in keys:
        oa = apply_norm(xa, k, groups=groups, rho=rho, eps=eps)[0]
        ob = apply_norm(xb, k, groups=groups, rho=rho, eps=eps)[0]
        d = np.abs(oa - ob)
        diff[k] = float(d.max())
        if k == COUPLING_HEAT:
            heat = d.max(axis=0)
    if heat is None:
        heat = np.zeros(img.shape[1:])
    return Coupling(diff, heat)


# --------------------------------------------------------------------------- statistics

CHANNELS = ("R", "G", "B")


def stats_rows(x: np.ndarray, outs: dict, names: Sequence[str], *, groups: int = 3,
               rho: float = 0.5) -> list[dict]:
    """Per image, per channel: mean and std before and after each view.

    Returns rows {image, stage, channel, mean, std, min, max} (std is the biased one).
    """
    rows = []
    stages = [("input", x)] + [(view_label(k, groups=groups, rho=rho), o) for k, o in outs.items()]
    for stage, arr in stages:
        m = arr.mean(axis=(2, 3))
        s = arr.std(axis=(2, 3))
        lo = arr.min(axis=(2, 3))
        hi = arr.max(axis=(2, 3))
        for n, name in enumerate(names):
            for c in range(arr.shape[1]):
                rows.append({"image": name, "stage": stage,
                             "channel": CHANNELS[c] if arr.shape[1] == 3 else str(c),
                             "mean": float(m[n, c]), "std": float(s[n, c]),
                             "min": float(lo[n, c]), "max": float(hi[n, c])})
    return rows


def rows_to_csv(rows: list[dict]) -> str:
    """CSV text of :func:`stats_rows` (full float precision)."""
    if not rows:
        return ""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    for r in rows:
        w.writerow({k: repr(v) if isinstance(v, float) else v for k, v in r.items()})
    return buf.getvalue()


HIST_EDGES = np.linspace(-4.0, 4.0, 81)


def histograms(arrays: dict, edges: np.ndarray = HIST_EDGES) -> dict:
    """Value histograms (fraction of values per bin; out-of-range values go to the end bins).

    Shape: each array any shape -> (len(edges) − 1,)
    """
    out = {}
    for k, a in arrays.items():
        v = np.clip(np.asarray(a, dtype=np.float64).ravel(), edges[0], edges[-1])
        counts, _ = np.histogram(v, bins=edges)
        out[k] = counts / max(1, v.size)
    return out


# --------------------------------------------------------------------------- style

@dataclass(frozen=True)
class AdainResult:
    image: np.ndarray  # (3, S, S) decoded, unclipped
    content_stats: tuple  # (mu, sigma) each (27,)
    target_stats: tuple  # the (blended) style statistics (27,)
    output_stats: tuple  # the output's statistics (27,)


def adain_transfer(content: np.ndarray, style: np.ndarray, alpha: float, *,
                   style2: np.ndarray | None = None, weight2: float = 0.0,
                   eps: float = EPS) -> AdainResult:
    """AdaIN in the DCT feature space, decoded back to an image.

    Shape: content, style, style2 (3, S, S) -> image (3, S, S)
    """
    zc = features.encode(content[None])
    zs = features.encode(style[None])
    z2 = features.encode(style2[None]) if style2 is not None else None
    out = features.adain(zc, zs, alpha, eps=eps, style2=z2, weight2=weight2)
    mu_t, sd_t = features.channel_stats(zs)
    if z2 is not None and weight2 > 0:
        mu_2, sd_2 = features.channel_stats(z2)
        mu_t, sd_t = (1 - weight2) * mu_t + weight2 * mu_2, (1 - weight2) * sd_t + weight2 * sd_2
    cs = tuple(a[0] for a in features.channel_stats(zc))
    os_ = tuple(a[0] for a in features.channel_stats(out))
    return AdainResult(features.decode(out)[0], cs, (mu_t[0], sd_t[0]), os_)


def style_distances(x: np.ndarray, i: int, j: int, *, groups: int = 3, eps: float = EPS) -> list[dict]:
    """Gram-matrix distance between images i and j of the batch, in feature space.

    Rows for: raw features, after IN, after LN, after GN, after BN (train, over the whole
    batch); each with the full Gram distance and the off-diagonal one (channel correlations,
    which IN does not set by construction). See :func:`normviz.images.features.gram_distance`.
    """
    pair = features.encode(x[[i, j]])  # (2, 27, S, S): per-image norms need only the pair
    bn = normalize(features.encode(x), "batch", eps=eps)[[i, j]]  # BN needs the whole batch
    stages = [("raw features", pair), ("after InstanceNorm", normalize(pair, "instance", eps=eps)),
              ("after LayerNorm", normalize(pair, "layer", eps=eps)),
              (f"after GroupNorm (G={groups})", normalize(pair, "group", groups=groups, eps=eps)),
              ("after BatchNorm (train, whole batch)", bn)]
    return [{"stage": name,
             "gram distance": features.gram_distance(f[0], f[1]),
             "off-diagonal gram distance": features.gram_distance(f[0], f[1], offdiag=True)}
            for name, f in stages]


def instance_norm_erasure(x: np.ndarray, names: Sequence[str], *, eps: float = EPS) -> list[dict]:
    """For every pair of images in the batch: the Gram distance of their features raw and after IN.

    Returns one dict per pair i < j with ``pair`` ("a – b"), ``raw``, ``after_in`` and ``closer``
    (after_in < raw), so a sentence about which pairs IN brings closer is built from these
    numbers. Features are encoded once for the batch (``features.encode``), IN is per image.

    Shape: x (N, 3, H, W) with N ≥ 2; ``names`` has N entries.
    """
    if len(names) != x.shape[0]:
        raise ValueError(f"Got {len(names)} names for a batch of {x.shape[0]} images: give one name per image.")
    f = features.encode(x)
    fin = normalize(f, "instance", eps=eps)
    out = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            raw, after = features.gram_distance(f[i], f[j]), features.gram_distance(fin[i], fin[j])
            out.append({"pair": f"{names[i]} – {names[j]}", "raw": raw, "after_in": after, "closer": after < raw})
    return out


def erasure_sentence(pairs: list[dict]) -> str:
    """One sentence over :func:`instance_norm_erasure`'s pairs: how many IN brings closer, and which not."""
    if not pairs:
        return "The batch has one image: no pair to compare."
    closer = [p for p in pairs if p["closer"]]
    farther = sorted((p for p in pairs if not p["closer"]), key=lambda p: p["raw"] - p["after_in"])
    text = f"Over the {len(pairs)} pairs of this batch, InstanceNorm brings {len(closer)} closer"
    if closer:
        best = min(closer, key=lambda p: p["after_in"] / p["raw"])
        text += f" (most: {best['pair']}, {best['raw']:.3f} → {best['after_in']:.3f})"
    if farther:
        worst = farther[0]
        text += (f"; it moves {len(farther)} apart (most: {worst['pair']}, {worst['raw']:.3f} → "
                 f"{worst['after_in']:.3f}): IN scales every feature map to σ = 1, which blows up maps that were "
                 f"nearly constant (flat or synthetic images) and keeps the cross-channel correlations "
                 f"the Gram matrix also measures")
    return text + "."


# --------------------------------------------------------------------------- torch check

def torch_differences(x: np.ndarray, *, views: Sequence[str] = VIEWS, groups: int = 3, rho: float = 0.5,
                      eps: float = EPS) -> dict:
    """max |normviz − torch| in float64 for each view (its torch reference op; eval views through
    ``F.batch_norm(training=False)``): trust, not a claim."""
    import torch
    import torch.nn.functional as F

    from normviz.norms.torch_modules import TORCH_REFERENCES

    running = reference_stats(x.shape[-1], "pixel") if x.shape[1] == 3 else None
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))
    out = {}
    for view in views:
        key, is_eval = view_norm(view)
        if is_eval:
            if running is None or running.mean.shape[0] != x.shape[1]:
                continue
            ref = F.batch_norm(t, torch.from_numpy(running.mean.copy()), torch.from_numpy(running.var.copy()),
                               training=False, eps=eps)
        else:
            ref = TORCH_REFERENCES[key](t, eps, **view_params(key, groups=groups, rho=rho))
        out[view] = float(np.abs(apply_norm(x, view, groups=groups, rho=rho, running=running, eps=eps)
                                 - ref.numpy()).max())
    return out
