"""Torch ``nn.Module`` versions of the registry's norms, for the training lab.

Every class here is named by a ``NORMS[key].module`` field and says its ``key``; ``MODULES``
maps each registry key to its class. Each class also has a ``reference`` static method: the same
training-mode computation with torch's own functional ops (no affine), which the tests and the
cube compare the numpy kernel with (``TORCH_REFERENCES``). Activation norms take
``(num_features, *, dims=2, ...)``: ``dims=2`` works on conv features (N, C, H, W), ``dims=1``
on MLP features (N, C). Weight-side norms (``WeightNorm``, ``WeightStandardization``) wrap a
``nn.Linear`` or ``nn.Conv2d``. In training mode every activation norm equals
``normviz.norms.normalize`` of its key (before the affine γ, β), which the tests check in
float64.

Conventions (as ``torch.nn``): biased variance in the forward pass, ε inside the root,
running statistics updated with PyTorch momentum ``r ← (1 − p)·r + p·s`` from the *unbiased*
batch variance, starting at μ = 0, σ² = 1. Affine parameters are per channel, shape (C,).

The norms with running statistics that torch lacks (BIN, SN, mean-only BN, ghost BN, batch
renorm) live in ``normviz.norms.torch_running`` and the shared plumbing in
``normviz.norms.torch_base``; this module re-exports them, so import everything from here.

For training code the entry points are the factories at the bottom:
``make_norm``, ``normed_layer``, ``available_norms``, plus the BIN gate helpers
``gate_parameters``, ``clip_gates``, ``is_gate_param`` and ``norm_gates`` (snapshots).

This module imports torch at the top; ``normviz/__init__.py`` must never import it.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from normviz.norms.table import NORMS
from normviz.norms.torch_base import _ActivationNorm, _check_dims
from normviz.norms.torch_running import (
    BatchInstanceNorm,
    BatchRenorm,
    GhostBatchNorm,
    MeanOnlyBatchNorm,
    RenormWarmup,
    SwitchableNorm,
)
from normviz.validate import check_batch_values, check_groups, check_spatial_values

__all__ = [
    "BatchNorm", "LayerNorm", "InstanceNorm", "GroupNorm", "BatchInstanceNorm", "SwitchableNorm",
    "WeightNorm", "RMSNorm", "GhostBatchNorm", "BatchRenorm", "RenormWarmup", "WeightStandardization",
    "PositionalNorm", "FilterResponseNorm", "DynamicTanh", "MeanOnlyBatchNorm",
    "make_norm", "normed_layer", "available_norms", "gate_parameters", "clip_gates",
    "is_gate_param", "norm_gates", "learned_summaries", "optimizer_param_groups", "COMPOSITES", "MODULES", "TORCH_REFERENCES",
]

# Weight norm + activation norm pairs the factory builds (any such pair works; these are listed).
COMPOSITES = ("weight+mean_only", "weight_standardization+group", "weight_standardization+batch")


# --------------------------------------------------------------------------------------------
# The plain activation norms


class BatchNorm(nn.modules.batchnorm._BatchNorm):
    r"""Batch Normalization (Ioffe & Szegedy 2015), ``nn.BatchNorm1d``/``2d`` by ``dims``.

    .. math::  y = \gamma_c \frac{x - \mu_c}{\sqrt{\sigma^2_c + \epsilon}} + \beta_c

    μ_c, σ²_c over (N, H, W) per channel (biased) in training; the running averages in eval.

    Shape:
        Input (N, C) for ``dims=1`` or (N, C, H, W) for ``dims=2``; output the same.
    """

    key = "batch"
    reference_name = "F.batch_norm(training=True)"

    @staticmethod
    def reference(x, eps=1e-5):
        return F.batch_norm(x, None, None, training=True, eps=eps)

    def __init__(self, num_features: int, *, dims: int = 2, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True):
        self.dims = _check_dims(dims, "BatchNorm", "batch")
        super().__init__(num_features, eps, momentum, affine, track_running_stats)

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() != (2 if self.dims == 1 else 4):
            layout = "N×C" if self.dims == 1 else "N×C×H×W"
            raise ValueError(f"BatchNorm(dims={self.dims}) expects {layout} input, got shape {tuple(input.shape)}.")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input_dim(x)
        if self.training:
            shape = (x.shape[0], x.shape[1], *x.shape[2:], 1, 1)[:4]
            check_batch_values(shape)
        return super().forward(x)


class LayerNorm(_ActivationNorm):
    r"""Layer Normalization (Ba, Kiros & Hinton 2016) over all of a sample's (C, H, W).

    .. math::  y = \gamma_c \frac{x - \mu_n}{\sqrt{\sigma^2_n + \epsilon}} + \beta_c

    For conv features this is ``nn.GroupNorm(1, C)``: statistics over (C, H, W) like
    ``nn.LayerNorm([C, H, W])``, but with a *per-channel* γ, β (shape (C,)) instead of one per
    element, so the layer does not depend on H, W and matches every other norm's affine. For
    MLP features it is ``nn.LayerNorm(C)``.

    Shape:
        Input (N, C) or (N, C, H, W); output the same.
    """

    key = "layer"
    reference_name = "F.layer_norm(normalized_shape=(C, H, W))"

    @staticmethod
    def reference(x, eps=1e-5):
        return F.layer_norm(x, tuple(x.shape[1:]), eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        if self.dims == 1:
            return F.layer_norm(x, (self.num_features,), self.weight, self.bias, self.eps)
        return F.group_norm(x, 1, self.weight, self.bias, self.eps)


class InstanceNorm(_ActivationNorm):
    r"""Instance Normalization (Ulyanov et al. 2016): each (n, c) map on its own.

    .. math::  y = \gamma_c \frac{x - \mu_{nc}}{\sqrt{\sigma^2_{nc} + \epsilon}} + \beta_c

    ``F.instance_norm`` with a per-channel affine (torch's ``nn.InstanceNorm2d`` defaults to
    no affine; here every norm gets γ, β so they compare fairly). No running statistics:
    train = eval. Conv features only.

    Shape:
        Input (N, C, H, W) with H·W ≥ 2; output the same.
    """

    key = "instance"
    reference_name = "F.instance_norm"

    @staticmethod
    def reference(x, eps=1e-5):
        return F.instance_norm(x, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        check_spatial_values(self._shape4(x))
        return F.instance_norm(x, weight=self.weight, bias=self.bias, eps=self.eps)


class GroupNorm(_ActivationNorm):
    r"""Group Normalization (Wu & He 2018): C channels in G groups, statistics per (n, group).

    .. math::  y = \gamma_c \frac{x - \mu_{ng}}{\sqrt{\sigma^2_{ng} + \epsilon}} + \beta_c

    ``F.group_norm``; G = 1 is LayerNorm, G = C is InstanceNorm. On MLP features (N, C) it
    groups features (no spatial axes).

    Shape:
        Input (N, C) or (N, C, H, W), C divisible by ``groups``; output the same.
    """

    key = "group"
    reference_name = "F.group_norm"

    @staticmethod
    def reference(x, eps=1e-5, groups=2):
        return F.group_norm(x, int(groups), eps=eps)

    def __init__(self, num_features: int, *, dims: int = 2, groups: int = 8, eps: float = 1e-5, affine: bool = True):
        super().__init__(num_features, dims=dims, eps=eps, affine=affine)
        self.groups = check_groups(self.num_features, groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        return F.group_norm(x, self.groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, groups={self.groups}"


class RMSNorm(_ActivationNorm):
    r"""RMSNorm (Zhang & Sennrich 2019): divide each sample by its root mean square.

    .. math::  y = \gamma_c \frac{x}{\sqrt{\tfrac{1}{|S|}\sum_S x^2 + \epsilon}},\quad S = (C, H, W)

    ``F.rms_norm`` with ε = 1e-5 (torch's default ε is the dtype's machine epsilon; normviz
    uses 1e-5 everywhere), a per-channel γ and no β (RMSNorm does not shift; ``affine=True``
    still creates β = 0 for a uniform interface, but it is not used).

    Shape:
        Input (N, C) or (N, C, H, W); output the same.
    """

    key = "rms"
    reference_name = "F.rms_norm(normalized_shape=(C, H, W))"

    @staticmethod
    def reference(x, eps=1e-5):
        return F.rms_norm(x, tuple(x.shape[1:]), eps=eps)  # eps explicit: torch's default is finfo.eps

    def __init__(self, num_features: int, *, dims: int = 2, eps: float = 1e-5, affine: bool = True):
        super().__init__(num_features, dims=dims, eps=eps, affine=affine)
        if affine:
            self.register_parameter("bias", None)  # RMSNorm has a gain only

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        y = F.rms_norm(x, tuple(x.shape[1:]), None, self.eps)
        return y * self._view(self.weight, y) if self.affine else y


class PositionalNorm(_ActivationNorm):
    r"""Positional Normalization, PONO (Li et al. 2019): across channels at each (n, h, w).

    .. math::  y = \gamma_c \frac{x - \mu_{nhw}}{\sqrt{\sigma^2_{nhw} + \epsilon}} + \beta_c

    Biased variance over C (the reference code uses the unbiased one; normviz keeps one
    convention for all norms, as ``normalize("pono")``). The paper's affine is per position
    (1, 1, H, W), which ties the layer to one image size; here γ, β are per channel.

    Shape:
        Input (N, C, H, W); output the same.
    """

    key = "pono"
    reference_name = "torch mean/var over dim 1 (C)"

    @staticmethod
    def reference(x, eps=1e-5):
        mu, var = x.mean(1, keepdim=True), x.var(1, keepdim=True, unbiased=False)
        return (x - mu) / torch.sqrt(var + eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        mu = x.mean(dim=1, keepdim=True)  # (N, 1, H, W)
        var = (x - mu).pow(2).mean(dim=1, keepdim=True)
        return self._affine((x - mu) / torch.sqrt(var + self.eps))


class FilterResponseNorm(_ActivationNorm):
    r"""Filter Response Normalization + TLU (Singh & Krishnan 2019).

    .. math::  y = \max\!\left(\gamma_c \frac{x}{\sqrt{\nu^2_{nc} + \epsilon}} + \beta_c,\ \tau_c\right),
               \quad \nu^2_{nc} = \tfrac{1}{HW}\sum_{h,w} x^2

    No mean subtraction and no batch statistics (train = eval). τ (per channel, init 0) is the
    Thresholded Linear Unit; ``tlu=False`` drops it. ε = 1e-6 as in the paper.

    Shape:
        Input (N, C, H, W); output the same.
    """

    key = "frn"
    reference_name = "x · torch.rsqrt(mean(x², (H, W)) + ε)"

    @staticmethod
    def reference(x, eps=1e-5):
        return x * torch.rsqrt(x.pow(2).mean((2, 3), keepdim=True) + eps)

    def __init__(self, num_features: int, *, dims: int = 2, eps: float = 1e-6, affine: bool = True, tlu: bool = True):
        super().__init__(num_features, dims=dims, eps=eps, affine=affine)
        self.tau = nn.Parameter(torch.zeros(self.num_features)) if tlu else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        nu2 = x.pow(2).mean(dim=(2, 3), keepdim=True)  # (N, C, 1, 1)
        y = self._affine(x * torch.rsqrt(nu2 + self.eps))
        return torch.maximum(y, self._view(self.tau, y)) if self.tau is not None else y



class DynamicTanh(_ActivationNorm):
    r"""Dynamic Tanh, DyT (Zhu, Chen, He, LeCun & Liu 2025): a norm layer's replacement with no statistics.

    .. math::  y = \gamma_c \tanh(\alpha x) + \beta_c

    α is one learned scalar per layer (init ``alpha``, 0.5 as the paper's default for most
    models); γ, β per channel. Works on MLP and conv features alike: nothing is pooled.

    Shape:
        Input (N, C) or (N, C, H, W); output the same. ``alpha``: a scalar parameter.
    """

    key = "dyt"
    reference_name = "torch.tanh(α·x)"

    @staticmethod
    def reference(x, eps=1e-5, alpha=0.5):
        return torch.tanh(float(alpha) * x)

    def __init__(self, num_features: int, *, dims: int = 2, eps: float = 1e-5, affine: bool = True,
                 alpha: float = 0.5):
        super().__init__(num_features, dims=dims, eps=eps, affine=affine)
        self.alpha = nn.Parameter(torch.tensor(float(alpha)))

    def learned(self) -> dict[str, float]:
        return {"DyT: α": float(self.alpha.detach())}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        return self._affine(torch.tanh(self.alpha * x))


# --------------------------------------------------------------------------------------------
# Weight-side norms: wrappers of a Linear / Conv2d


def _check_layer(layer, name: str) -> None:
    if not isinstance(layer, (nn.Linear, nn.Conv2d)):
        raise ValueError(f"{name} wraps a nn.Linear or nn.Conv2d layer, got {type(layer).__name__}.")


class WeightNorm(nn.Module):
    r"""Weight Normalization (Salimans & Kingma 2016) of a wrapped Linear / Conv2d.

    .. math::  w_i = g_i \frac{v_i}{\lVert v_i \rVert}

    per output unit i (the norm runs over C_in × k × k). Built on
    ``torch.nn.utils.parametrizations.weight_norm`` (which modifies ``layer`` in place): at wrap
    time g = ‖w‖ and v = w, so the output is unchanged. ``g`` and ``v`` are exposed as
    properties. No ε: an all-zero v gives NaN.

    Shape:
        As the wrapped layer. g: (C_out, 1[, 1, 1]); v: the weight's shape.
    """

    key = "weight"
    reference_name = "torch._weight_norm (what nn.utils.weight_norm calls), g = 1"

    @staticmethod
    def reference(w, eps=1e-5):
        return torch._weight_norm(w, torch.ones((len(w),) + (1,) * (w.dim() - 1), dtype=w.dtype), 0)

    def __init__(self, layer: nn.Module):
        super().__init__()
        _check_layer(layer, "WeightNorm")
        self.layer = nn.utils.parametrizations.weight_norm(layer, name="weight", dim=0)

    @property
    def g(self) -> nn.Parameter:
        return self.layer.parametrizations.weight.original0

    @property
    def v(self) -> nn.Parameter:
        return self.layer.parametrizations.weight.original1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)


class WeightStandardization(nn.Module):
    r"""Weight Standardization (Qiao et al. 2019) of a wrapped Linear / Conv2d.

    .. math::  \hat W_i = \frac{W_i - \mathrm{mean}(W_i)}{\mathrm{std}(W_i) + \epsilon}

    per output filter i over its fan-in (C_in × k × k), with the **unbiased** std and ε added to
    the std, as the official layer. The raw W stays the trained parameter (``layer.weight``);
    the forward pass uses Ŵ. Meant to be followed by an activation norm (GN or BN): alone,
    unit-variance filters give each layer a gain of about √fan-in, and a deep stack blows up.

    Shape:
        As the wrapped layer; fan-in C_in·k·k ≥ 2.
    """

    key = "weight_standardization"
    reference_name = "torch mean/std over (C_in, k, k)"

    @staticmethod
    def reference(w, eps=1e-5):
        flat = w.flatten(1)
        return ((flat - flat.mean(1, keepdim=True)) / (flat.std(1, keepdim=True) + eps)).view_as(w)

    def __init__(self, layer: nn.Module, *, eps: float = 1e-5):
        super().__init__()
        _check_layer(layer, "WeightStandardization")
        if layer.weight[0].numel() < 2:
            raise ValueError("Weight Standardization needs at least 2 weights per output filter (C_in·k·k ≥ 2), "
                             f"got a weight of shape {tuple(layer.weight.shape)}.")
        self.layer, self.eps = layer, float(eps)

    def standardized_weight(self) -> torch.Tensor:
        w = self.layer.weight
        flat = w.flatten(1)  # (C_out, C_in·k·k)
        mean = flat.mean(1, keepdim=True)
        std = flat.std(1, keepdim=True)  # unbiased, as the official code
        return ((flat - mean) / (std + self.eps)).view_as(w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.standardized_weight()
        if isinstance(self.layer, nn.Conv2d):
            return self.layer._conv_forward(x, w, self.layer.bias)
        return F.linear(x, w, self.layer.bias)

    def extra_repr(self) -> str:
        return f"eps={self.eps}"


# --------------------------------------------------------------------------------------------
# Factories and helpers for the training code

# Every registry key's module, by key; the torch reference op of each, by key.
MODULES: dict[str, type] = {cls.key: cls for cls in (
    BatchNorm, LayerNorm, InstanceNorm, GroupNorm, BatchInstanceNorm, SwitchableNorm, WeightNorm, RMSNorm,
    GhostBatchNorm, BatchRenorm, WeightStandardization, PositionalNorm, FilterResponseNorm, DynamicTanh)}
TORCH_REFERENCES = {key: cls.reference for key, cls in MODULES.items()}
_WEIGHT_WRAPPERS = {key: cls for key, cls in MODULES.items() if NORMS[key].is_weight}


def available_norms(dims: int) -> list[str]:
    """The norm keys ``normed_layer`` builds for MLPs (``dims=1``) or CNNs (``dims=2``).

    "none", every registry key that makes sense for that input, then the composites
    ``COMPOSITES``. ("mean_only" alone is also accepted by the factories, but not listed: it
    is not a registry key.)
    """
    _check_dims(dims, "available_norms", "")
    keys = ["none"] + [k for k, spec in NORMS.items() if dims in spec.dims]
    return keys + list(COMPOSITES)


def _unknown(norm: str, dims: int) -> ValueError:
    return ValueError(f"Unknown norm {norm!r} for dims={dims}. Valid options: {', '.join(available_norms(dims))} "
                      f"(or a weight norm and an activation norm joined by '+', e.g. 'weight+batch').")


def make_norm(norm: str, num_features: int, *, dims: int, groups: int = 8, ghost_size: int = 4,
              **opts) -> nn.Module:
    """The activation-norm module for ``norm`` ("none" gives ``nn.Identity``).

    Accepts the registry's activation and stateful keys and "mean_only"; ``groups`` goes to
    GroupNorm, ``ghost_size`` to Ghost BN, other ``opts`` (eps, momentum, affine, r_max, ...)
    to the module's constructor. Weight-side keys raise: use ``normed_layer``.
    """
    _check_dims(dims, "make_norm", "")
    if norm == "none":
        return nn.Identity()
    if norm == "mean_only":
        cls = MeanOnlyBatchNorm
    else:
        spec = NORMS.get(norm)
        if spec is None:
            raise _unknown(norm, dims)
        if spec.kind == "weight":
            raise ValueError(f"{spec.name} ({norm!r}) reparameterizes a layer's weights, it is not a module after the "
                             f"layer: use normed_layer({norm!r}, layer, ...) which wraps the layer.")
        cls = MODULES[norm]
        factory = {"groups": groups, "ghost_size": ghost_size}
        opts.update({name: factory[name] for name in spec.param_names if name in factory})
    try:
        return cls(num_features, dims=dims, **opts)
    except TypeError as err:  # an option this module does not take
        raise ValueError(f"{cls.__name__} does not accept these options: {sorted(opts)} ({err}).") from None


def normed_layer(norm: str, layer: nn.Module, num_features: int, *, dims: int,
                 **opts) -> tuple[nn.Module, nn.Module]:
    """(layer, norm module) for ``norm``: a key, "none", or "weight-norm+activation-norm".

    Weight-side parts wrap ``layer`` (``WeightNorm``, ``WeightStandardization``); the
    activation part becomes the module that follows it (``nn.Identity`` if there is none).
    Examples: "batch" → (layer, BatchNorm); "weight" → (WeightNorm(layer), Identity);
    "weight+mean_only" → (WeightNorm(layer), MeanOnlyBatchNorm);
    "weight_standardization+group" → (WeightStandardization(layer), GroupNorm).
    ``opts`` go to ``make_norm`` (groups, ghost_size, eps, momentum, ...).
    """
    _check_dims(dims, "normed_layer", "")
    if not isinstance(norm, str) or not norm:
        raise _unknown(norm, dims)
    parts = norm.split("+")
    weight_parts = [p for p in parts if p in _WEIGHT_WRAPPERS]
    act_parts = [p for p in parts if p not in _WEIGHT_WRAPPERS]
    for p in act_parts:
        if p not in NORMS and p != "mean_only" and not (p == "none" and len(parts) == 1):
            raise _unknown(norm, dims)
    if len(weight_parts) > 1 or len(act_parts) > 1:
        raise ValueError(f"{norm!r} combines {len(weight_parts)} weight norm(s) and {len(act_parts)} activation "
                         f"norm(s); a composite takes at most one of each, e.g. 'weight+mean_only' or "
                         f"'weight_standardization+group'.")
    if act_parts and act_parts[0] in NORMS and dims not in NORMS[act_parts[0]].dims:
        raise ValueError(NORMS[act_parts[0]].dims_why)
    if weight_parts:
        layer = _WEIGHT_WRAPPERS[weight_parts[0]](layer)
    mod = make_norm(act_parts[0], num_features, dims=dims, **opts) if act_parts else nn.Identity()
    return layer, mod


def is_gate_param(name: str) -> bool:
    """True for a BIN gate ρ (by parameter name): ×10 learning rate, no weight decay, clipped."""
    return name == "rho" or name.endswith(".rho")


def gate_parameters(model: nn.Module) -> list[nn.Parameter]:
    """Every BIN ρ in ``model`` (for their own optimizer group)."""
    return [p for n, p in model.named_parameters() if is_gate_param(n)]


def clip_gates(model: nn.Module) -> None:
    """Clip every BIN ρ to [0, 1]; call right after ``optimizer.step()``."""
    for m in model.modules():
        if isinstance(m, BatchInstanceNorm):
            m.clip_()


def optimizer_param_groups(model: nn.Module, *, lr: float, weight_decay: float = 0.0,
                           gate_lr_scale: float = 10.0) -> list[dict]:
    """Optimizer groups with the official BIN recipe: ρ at ``gate_lr_scale``·lr and no weight decay."""
    gates = [p for n, p in model.named_parameters() if is_gate_param(n)]
    rest = [p for n, p in model.named_parameters() if not is_gate_param(n)]
    groups = [{"params": rest, "lr": lr, "weight_decay": weight_decay}]
    if gates:
        groups.append({"params": gates, "lr": lr * gate_lr_scale, "weight_decay": 0.0})
    return groups


def learned_summaries(model: nn.Module) -> list[dict[str, float]]:
    """For every norm module with a ``learned()``, in layer order: what it learned beyond γ, β, or
    where a scheduled bound stands (Batch Renorm's r_max, d_max during its warm-up), e.g.
    ``[{"mean ρ (1 = BN, 0 = IN)": 0.4}, ...]``. Plain floats: JSON-ready."""
    return [m.learned() for m in model.modules() if callable(getattr(m, "learned", None))]


def norm_gates(model: nn.Module) -> dict[str, dict[str, list[float]]]:
    """The learned mixing of every BIN and SN layer, by module name (for snapshots).

    BIN: ``{"rho": [ρ_c ...]}``; SN: ``{"mean_weights": [w_IN, w_LN, w_BN],
    "var_weights": [...]}``. Plain floats, so the result is JSON-ready.
    """
    out: dict[str, dict[str, list[float]]] = {}
    for name, m in model.named_modules():
        if isinstance(m, BatchInstanceNorm):
            out[name] = {"rho": m.rho.detach().cpu().double().tolist()}
        elif isinstance(m, SwitchableNorm):
            out[name] = {"mean_weights": m.mean_weights.cpu().double().tolist(),
                         "var_weights": m.var_weights.cpu().double().tolist()}
    return out


assert all(MODULES[k].__name__ == s.module for k, s in NORMS.items()), "the registry and MODULES disagree"
