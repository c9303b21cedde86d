"""Every norm in a few lines of numpy: the readable reference.

These are the definitions, written to be read (and shown by the app's "show the code"): one
function per registry key, the shapes in comments, no tricks. They are the oracle the tests hold
the fast kernel (``normviz.norms.kernel``) and the torch modules against; they never import torch.

Conventions (those of ``torch.nn.functional``): training-mode statistics, biased variance, ε inside
the square root, no affine (γ = 1, β = 0). Activations are (N, C, H, W); weights (C_out, C_in, k, k).
"""
from __future__ import annotations

import numpy as np


def batch_norm(x, eps=1e-5):
    """BatchNorm: each channel standardized over every n, h, w of the batch."""
    mu = x.mean(axis=(0, 2, 3), keepdims=True)   # (1, C, 1, 1)
    var = x.var(axis=(0, 2, 3), keepdims=True)   # (1, C, 1, 1), biased
    return (x - mu) / np.sqrt(var + eps)


def layer_norm(x, eps=1e-5):
    """LayerNorm: each sample standardized over every c, h, w."""
    mu = x.mean(axis=(1, 2, 3), keepdims=True)   # (N, 1, 1, 1)
    var = x.var(axis=(1, 2, 3), keepdims=True)
    return (x - mu) / np.sqrt(var + eps)


def instance_norm(x, eps=1e-5):
    """InstanceNorm: each (n, c) map standardized over its own h, w."""
    mu = x.mean(axis=(2, 3), keepdims=True)      # (N, C, 1, 1)
    var = x.var(axis=(2, 3), keepdims=True)
    return (x - mu) / np.sqrt(var + eps)


def group_norm(x, eps=1e-5, groups=2):
    """GroupNorm: the C/G channels of a group, with every h, w, standardized per sample."""
    N, C, H, W = x.shape
    g = x.reshape(N, groups, C // groups, H, W)  # (N, G, C/G, H, W)
    mu = g.mean(axis=(2, 3, 4), keepdims=True)   # (N, G, 1, 1, 1)
    var = g.var(axis=(2, 3, 4), keepdims=True)
    return ((g - mu) / np.sqrt(var + eps)).reshape(N, C, H, W)


def rms_norm(x, eps=1e-5):
    """RMSNorm: each sample divided by its root mean square over c, h, w; no mean subtracted."""
    ms = (x * x).mean(axis=(1, 2, 3), keepdims=True)  # (N, 1, 1, 1): mean of squares ν²
    return x / np.sqrt(ms + eps)


def ghost_batch_norm(x, eps=1e-5, ghost_size=1):
    """Ghost BatchNorm: BatchNorm on each chunk of ``ghost_size`` samples."""
    return np.concatenate([batch_norm(chunk, eps) for chunk in np.split(x, len(x) // ghost_size)])


def batch_renorm(x, eps=1e-5, running_mean=0.0, running_std=1.0, r_max=3.0, d_max=5.0):
    """Batch Renorm in training: BN's x̂, rescaled by r and shifted by d towards the running statistics.

    r = clip(σ_B/σ, 1/r_max, r_max), d = clip((μ_B − μ)/σ, −d_max, d_max); with r_max = 1 and
    d_max = 0 (the paper's warm-up) this is exactly BatchNorm.
    """
    C = x.shape[1]
    mu = np.broadcast_to(np.asarray(running_mean, dtype=np.float64), (C,)).reshape(1, C, 1, 1)
    sigma = np.broadcast_to(np.asarray(running_std, dtype=np.float64), (C,)).reshape(1, C, 1, 1)
    mu_b = x.mean(axis=(0, 2, 3), keepdims=True)            # (1, C, 1, 1)
    sigma_b = np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + eps)
    r = np.clip(sigma_b / sigma, 1 / r_max, r_max)          # a constant for the gradient
    d = np.clip((mu_b - mu) / sigma, -d_max, d_max)
    return (x - mu_b) / sigma_b * r + d


def positional_norm(x, eps=1e-5):
    """PONO: each position (n, h, w) standardized across its channels."""
    mu = x.mean(axis=1, keepdims=True)           # (N, 1, H, W)
    var = x.var(axis=1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps)


def filter_response_norm(x, eps=1e-5):
    """FRN (without its TLU): each (n, c) map divided by its root mean square over h, w."""
    nu2 = (x * x).mean(axis=(2, 3), keepdims=True)  # (N, C, 1, 1)
    return x / np.sqrt(nu2 + eps)


def batch_instance_norm(x, eps=1e-5, rho=0.5):
    """Batch-Instance Norm: the outputs of BN and IN mixed by a gate ρ per channel (1 = BN)."""
    r = np.broadcast_to(np.asarray(rho, dtype=np.float64), (x.shape[1],)).reshape(1, -1, 1, 1)
    return r * batch_norm(x, eps) + (1 - r) * instance_norm(x, eps)


def switchable_norm(x, eps=1e-5, mean_weights=(1 / 3, 1 / 3, 1 / 3), var_weights=(1 / 3, 1 / 3, 1 / 3)):
    """Switchable Norm: one normalization with the IN, LN and BN statistics blended (weights in that order)."""
    axes = [(2, 3), (1, 2, 3), (0, 2, 3)]        # IN, LN, BN
    mu = sum(w * x.mean(axis=a, keepdims=True) for w, a in zip(mean_weights, axes))
    var = sum(w * x.var(axis=a, keepdims=True) for w, a in zip(var_weights, axes))
    return (x - mu) / np.sqrt(var + eps)


def weight_norm(w, eps=1e-5):
    """Weight Norm with g = 1: each output unit's weights divided by their L2 norm (ε unused)."""
    v = w.reshape(len(w), -1)                    # (C_out, C_in·k·k)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).reshape(w.shape)


def weight_standardization(w, eps=1e-5):
    """Weight Standardization: each output filter to zero mean and unit (unbiased) std, ε on the std."""
    v = w.reshape(len(w), -1)                    # (C_out, C_in·k·k)
    return ((v - v.mean(axis=1, keepdims=True)) / (v.std(axis=1, ddof=1, keepdims=True) + eps)).reshape(w.shape)


def dynamic_tanh(x, eps=1e-5, alpha=0.5):
    """DyT: tanh(α·x) element by element; no statistics (ε unused)."""
    return np.tanh(alpha * x)


REFERENCES = {
    "batch": batch_norm, "layer": layer_norm, "instance": instance_norm, "group": group_norm,
    "batch_instance": batch_instance_norm, "switchable": switchable_norm, "weight": weight_norm,
    "rms": rms_norm, "ghost_batch": ghost_batch_norm, "batch_renorm": batch_renorm,
    "weight_standardization": weight_standardization, "pono": positional_norm, "frn": filter_response_norm,
    "dyt": dynamic_tanh,
}
