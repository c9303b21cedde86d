"""A fixed, invertible feature space for images: the 27 orthonormal 3×3×3 DCT patch filters.

Pixel space has only C = 3 channels, so GroupNorm can only be G = 1 (= LayerNorm) or
G = 3 (= InstanceNorm) there. To let GN, BIN and AdaIN act across real channel structure,
every pixel's 3×3 neighbourhood in all 3 colours (a 27-vector) is expanded in the separable
DCT-II basis

.. math::  f_{k_c k_h k_w}[c, i, j] = D_{k_c c}\\, D_{k_h i}\\, D_{k_w j},\\qquad
           D_{k n} = \\alpha_k \\cos\\frac{\\pi (2n + 1) k}{6},\\ \\alpha_0 = \\sqrt{1/3},\\
           \\alpha_{k>0} = \\sqrt{2/3}

which is orthonormal in R^27. ``encode`` correlates the image with the 27 filters (reflect
padding, "same" size) -> C = 27 feature maps; channel ``9·k_c + 3·k_h + k_w`` holds
frequency (k_c, k_h, k_w), so channel 0 is the local mean of all 27 values (× √27) and
channels 0, 9, 18 are the three colour-opponent local means. ``decode`` is the transposed
convolution divided by the patch coverage (how many patch copies each pixel received): every
patch reconstructs its 27 pixels exactly (orthonormality), so ``decode(encode(x)) == x`` up to
float rounding, and for features that are no longer an exact encoding (after a norm) decode
returns the average of the 9 overlapping patch reconstructions.

AdaIN and a Gram-matrix style distance live here too: both act on these feature maps.
"""

from __future__ import annotations

import numpy as np

K = 3  # patch side (spatial) and number of colours
C_FEAT = K * K * K  # 27 feature channels


def dct_matrix(n: int = K) -> np.ndarray:
    """Orthonormal DCT-II matrix D (n×n): rows are basis vectors, ``D @ D.T = I``."""
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    d = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    d[0] /= np.sqrt(2.0)
    return d


_D = dct_matrix()


def filters() -> np.ndarray:
    """The 27 filters as an array (27, 3, 3, 3) = (out channel, colour, row, column).

    Orthonormal: ``F.reshape(27, 27) @ F.reshape(27, 27).T = I``.
    """
    return np.einsum("ac,bi,dj->abdcij", _D, _D, _D).reshape(C_FEAT, K, K, K)


def filter_labels() -> list[str]:
    """Short names of the 27 channels: ``c{k_c}h{k_h}w{k_w}`` (frequency in colour, rows, columns)."""
    return [f"c{a}h{b}w{d}" for a in range(K) for b in range(K) for d in range(K)]


def _check_images(x: np.ndarray, C: int, what: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[1] != C:
        raise ValueError(f"{what} needs an N×{C}×H×W array, got shape {x.shape}.")
    if x.shape[2] < 2 or x.shape[3] < 2:
        raise ValueError(f"{what} needs H, W ≥ 2 for its 3×3 patches (reflect padding), "
                         f"got H={x.shape[2]}, W={x.shape[3]}.")
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    return x


def encode(x: np.ndarray) -> np.ndarray:
    """Correlate images with the 27 DCT patch filters (reflect padding, same size).

    .. math::  z_{n,(k_c k_h k_w),h,w} = \\sum_{c,i,j} f_{k_c k_h k_w}[c,i,j]\\,
               \\tilde x_{n,c,h+i-1,w+j-1}

    with x̃ the reflect-padded image. Separable: colour DCT, then rows, then columns.

    Shape:
        (N, 3, H, W) -> (N, 27, H, W), same float dtype.
    """
    x = _check_images(x, K, "encode")
    N, _, H, W = x.shape
    d = _D.astype(x.dtype)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="reflect")  # (N, 3, H+2, W+2)
    y = np.einsum("ac,nchw->nahw", d, xp)  # colour DCT: (N, kc, H+2, W+2)
    # rows: (N, kc, kh, H, W+2)
    r = np.stack([sum(d[b, i] * y[:, :, i:i + H, :] for i in range(K)) for b in range(K)], axis=2)
    # columns: (N, kc, kh, kw, H, W)
    z = np.stack([sum(d[e, j] * r[..., j:j + W] for j in range(K)) for e in range(K)], axis=3)
    return z.reshape(N, C_FEAT, H, W)


def _fold_reflect(canvas: np.ndarray) -> np.ndarray:
    """Add the padding ring of an (…, H+2, W+2) canvas back onto the pixels it mirrors.

    Reflect padding by 1 copies row 1 to row −1 and row H−2 to row H; a contribution landing
    on a padded cell therefore belongs to that mirrored pixel.
    """
    c = canvas.copy()
    H, W = c.shape[-2] - 2, c.shape[-1] - 2
    c[..., 2, :] += c[..., 0, :]  # padded row 0 mirrors original row 1 (canvas row 2)
    c[..., H - 1, :] += c[..., H + 1, :]  # padded row H+1 mirrors original row H−2
    c = c[..., 1:H + 1, :]
    c[..., :, 2] += c[..., :, 0]
    c[..., :, W - 1] += c[..., :, W + 1]
    return c[..., :, 1:W + 1]


def _coverage(H: int, W: int) -> np.ndarray:
    """How many patch copies each pixel receives under reflect padding (9 inside)."""
    canvas = np.zeros((H + 2, W + 2))
    for i in range(K):
        for j in range(K):
            canvas[i:i + H, j:j + W] += 1.0
    return _fold_reflect(canvas)


def decode(z: np.ndarray) -> np.ndarray:
    """Transposed convolution with the 27 filters, divided by the patch coverage.

    .. math::  \\hat x = \\mathrm{fold}\\Big(\\sum_k f_k \\star^{\\top} z_k\\Big) / \\mathrm{coverage}

    Exact inverse of :func:`encode` (orthonormal filters): ``decode(encode(x)) = x``.

    Shape:
        (N, 27, H, W) -> (N, 3, H, W), same float dtype.
    """
    z = _check_images(z, C_FEAT, "decode")
    N, _, H, W = z.shape
    d = _D.astype(z.dtype)
    z6 = z.reshape(N, K, K, K, H, W)  # (N, kc, kh, kw, H, W)
    canvas = np.zeros((N, K, H + 2, W + 2), dtype=z.dtype)  # still in colour-frequency kc
    for i in range(K):
        for j in range(K):
            # patch pixel (i, j) of every patch: sum over kh, kw of D[kh,i] D[kw,j] z
            canvas[:, :, i:i + H, j:j + W] += np.einsum("b,e,nabehw->nahw", d[:, i], d[:, j], z6)
    canvas = np.einsum("ac,nahw->nchw", d, canvas)  # inverse colour DCT (D orthonormal)
    return _fold_reflect(canvas) / _coverage(H, W).astype(z.dtype)


# --------------------------------------------------------------------------- AdaIN

def channel_stats(f: np.ndarray, eps: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Per-(n, c) mean and σ = sqrt(biased var + eps) over (H, W).

    Shape: (N, C, H, W) -> (N, C), (N, C)
    """
    f = np.asarray(f, dtype=np.float64)
    mu = f.mean(axis=(2, 3))
    var = ((f - mu[:, :, None, None]) ** 2).mean(axis=(2, 3))
    return mu, np.sqrt(var + eps)


def adain(content: np.ndarray, style: np.ndarray, alpha: float = 1.0, *, eps: float = 1e-5,
          style2: np.ndarray | None = None, weight2: float = 0.0) -> np.ndarray:
    """Adaptive Instance Normalization (Huang & Belongie 2017), with the α trade-off.

    .. math::  \\mathrm{AdaIN}(x, y) = \\sigma(y)\\,\\frac{x - \\mu(x)}{\\sigma(x)} + \\mu(y),\\qquad
               \\mathrm{out} = (1 - \\alpha)\\,x + \\alpha\\,\\mathrm{AdaIN}(x, y)

    μ, σ per (n, c) over (H, W), biased variance, σ(x) = sqrt(var + eps) for the content,
    σ(y) = sqrt(var) for the style. With a second style, the target statistics are the convex
    blend (1 − w)·(μ, σ)(y) + w·(μ, σ)(y₂) — which is what interpolating the two AdaIN outputs
    (the paper's style interpolation) gives.

    With ``alpha = 0`` the content comes back unchanged; with ``alpha = 1`` the output has the
    style's μ exactly and σ(y)·sqrt(var(x) / (var(x) + eps)) (= σ(y) exactly when eps = 0).

    Shape:
        content (N, C, H, W); style, style2 (N or 1, C, H', W') -> (N, C, H, W)
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1] (0 = content, 1 = full style), got {alpha}.")
    if not 0.0 <= weight2 <= 1.0:
        raise ValueError(f"weight2 must lie in [0, 1], got {weight2}.")
    x = np.asarray(content, dtype=np.float64)
    mu_x, sd_x = channel_stats(x, eps)
    mu_y, sd_y = channel_stats(style)
    if style2 is not None and weight2 > 0:
        mu_2, sd_2 = channel_stats(style2)
        mu_y = (1 - weight2) * mu_y + weight2 * mu_2
        sd_y = (1 - weight2) * sd_y + weight2 * sd_2
    if mu_y.shape[1] != x.shape[1]:
        raise ValueError(f"content has C={x.shape[1]} channels, style has C={mu_y.shape[1]}.")
    sd_x_safe = np.where(sd_x > 0, sd_x, 1.0)  # eps = 0 and a constant channel: keep it centred
    t = (x - mu_x[:, :, None, None]) / sd_x_safe[:, :, None, None]
    transferred = sd_y[:, :, None, None] * t + mu_y[:, :, None, None]
    return (1 - alpha) * x + alpha * transferred


# --------------------------------------------------------------------------- style distance

def gram(f: np.ndarray) -> np.ndarray:
    """Feature Gram matrix per image: G = F Fᵀ / (H·W), F the (C, H·W) feature matrix.

    Shape: (N, C, H, W) -> (N, C, C)
    """
    f = np.asarray(f, dtype=np.float64)
    N, C, H, W = f.shape
    m = f.reshape(N, C, H * W)
    return m @ m.transpose(0, 2, 1) / (H * W)  # batched matmul (BLAS), not einsum


def gram_distance(f1: np.ndarray, f2: np.ndarray, *, offdiag: bool = False) -> float:
    """Scale-free distance between two images' Gram matrices.

    .. math::  d = \\frac{\\lVert G_1 - G_2 \\rVert_F}{\\sqrt{\\lVert G_1 \\rVert_F\\,\\lVert G_2 \\rVert_F}}

    Dividing by the geometric mean of the norms makes the number dimensionless, so raw and
    normalized features can be compared (scaling both images alike leaves it unchanged).
    ``offdiag=True`` keeps only the cross-channel entries (channel correlations), which
    IN does not fix by construction (it fixes each channel's own mean and variance, i.e. the
    diagonal).

    Shape: f1, f2 (C, H, W) or (1, C, H, W) -> float
    """
    g1, g2 = gram(np.asarray(f1).reshape((-1,) + np.shape(f1)[-3:]))[0], \
        gram(np.asarray(f2).reshape((-1,) + np.shape(f2)[-3:]))[0]
    if offdiag:
        mask = ~np.eye(g1.shape[0], dtype=bool)
        g1, g2 = g1[mask], g2[mask]
    denom = np.sqrt(np.linalg.norm(g1) * np.linalg.norm(g2))
    return float(np.linalg.norm(g1 - g2) / denom) if denom > 0 else 0.0
