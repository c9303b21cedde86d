"""Folding norms into the layer before them, for inference.

At inference a norm whose eval mode uses only running statistics is a fixed per-channel affine
map of its input, and a weight norm is a fixed weight; either merges into the preceding conv or
linear layer ``z = W x + b`` (which norms fold is the registry's ``folds_at_inference``):

.. math::  y = s_c\\,z_c + t_c = (s_c W_c)\\,x + (s_c b_c + t_c),

with, for BatchNorm and Ghost BN, :math:`s = \\gamma/\\sqrt{\\sigma^2_{run} + \\epsilon}` and
:math:`t = \\beta - s\\,\\mu_{run}`; for Batch Renorm (eval: :math:`\\gamma (x-\\mu)/\\sigma + \\beta`)
:math:`s = \\gamma/\\sigma_{run}`, :math:`t = \\beta - s\\,\\mu_{run}`; for Weight Norm and Weight
Standardization :math:`W` is replaced by the weight the wrapper computes (g·v/‖v‖, or Ŵ).

Shape:
    W: (C_out, C_in) or (C_out, C_in, k, k); s, t, b: (C_out,).

The folded model computes the same function in eval mode with one layer instead of two (to
float round-off); it can no longer train its norm.
"""
from __future__ import annotations

import copy


def effective_layer(layer):
    """A plain ``nn.Linear``/``nn.Conv2d`` computing what ``layer`` computes (weight wrappers unwrapped)."""
    from normviz.norms.torch_modules import WeightNorm, WeightStandardization

    if isinstance(layer, WeightStandardization):
        return _plain_like(layer.layer, layer.standardized_weight(), layer.layer.bias)
    if isinstance(layer, WeightNorm):
        return _plain_like(layer.layer, layer.layer.weight, layer.layer.bias)  # weight = g·v/‖v‖
    return _plain_like(layer, layer.weight, layer.bias)


def _plain_like(inner, weight, bias):
    """A new Linear/Conv2d shaped like ``inner`` with the given weight and bias (copied, with a bias)."""
    import torch
    from torch import nn

    if isinstance(inner, nn.Conv2d):
        plain = nn.Conv2d(inner.in_channels, inner.out_channels, inner.kernel_size, stride=inner.stride,
                          padding=inner.padding, dilation=inner.dilation, groups=inner.groups, bias=True,
                          padding_mode=inner.padding_mode)
    else:
        plain = nn.Linear(inner.in_features, inner.out_features, bias=True)
    plain = plain.to(dtype=weight.dtype)
    with torch.no_grad():
        plain.weight.copy_(weight.detach())
        plain.bias.copy_(bias.detach() if bias is not None else torch.zeros(len(weight), dtype=weight.dtype))
    return plain


def eval_affine(norm):
    """(s, t), each (C,): the eval-mode map ``y = s·x + t`` of a norm with running statistics."""
    import torch

    gamma = norm.weight if getattr(norm, "weight", None) is not None else torch.ones_like(norm.running_mean)
    beta = norm.bias if getattr(norm, "bias", None) is not None else torch.zeros_like(norm.running_mean)
    if hasattr(norm, "running_std"):  # Batch Renorm keeps σ itself
        s = gamma / norm.running_std
    else:
        s = gamma / torch.sqrt(norm.running_var + norm.eps)
    return s.detach(), (beta - s * norm.running_mean).detach()


def fold_layer(layer, norm):
    """The layer that computes ``norm(layer(x))`` in eval mode, or raise ValueError if it cannot."""
    import torch
    from torch import nn

    from normviz.norms import NORMS

    plain = effective_layer(layer)
    if isinstance(norm, nn.Identity):
        return plain
    from normviz.norms.torch_modules import MeanOnlyBatchNorm

    spec = NORMS.get(getattr(norm, "key", ""))
    # Mean-only BN (Weight Norm's partner, not a registry entry) is y = x − μ_run + β: it folds.
    if not isinstance(norm, MeanOnlyBatchNorm) and (spec is None or not spec.folds_at_inference):
        name = spec.name if spec else type(norm).__name__
        raise ValueError(f"{name} cannot be folded into the layer before it: its statistics come from the "
                         f"input at test time, so it is not a fixed affine map.")
    s, t = eval_affine(norm)
    shape = (-1,) + (1,) * (plain.weight.dim() - 1)
    with torch.no_grad():
        plain.weight.mul_(s.reshape(shape).to(plain.weight.dtype))
        plain.bias.copy_(s * plain.bias + t)
    return plain


def fold_model(model):
    """A copy of a training-lab model (blocks ``Sequential(layer, norm, act)`` and a head) with each
    block's norm folded into its layer; eval mode. Raises ValueError for a norm that cannot fold."""
    from torch import nn

    model = copy.deepcopy(model).eval()
    blocks = list(model)
    for block in blocks[:-1]:
        layer, norm, act = block
        block[0], block[1] = fold_layer(layer, norm), nn.Identity()
        del act
    return model
