"""The training lab's models, built from a :class:`TrainConfig` with deterministic weights.

``"mlp"``: BN paper Figure 1, 64 → ``hidden`` × ``depth`` → 10, norm *before* the nonlinearity
(``Linear → norm → act``). ``"cnn"``: ``depth`` × (3×3 conv, padding 1 → norm → ReLU) at 8×8, then
a global average pool and a linear classifier. The norm modules come from the registry's factory
(``normviz.norms.torch_modules``). torch is imported inside the functions.
"""
from __future__ import annotations

import math

from normviz.training.config import TrainConfig


def _act(name: str):
    from torch import nn

    return {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}[name]()


def build_model(cfg: TrainConfig):
    """The model of ``cfg`` with its initial weights (deterministic in ``cfg.seed``).

    Returns an ``nn.Sequential`` of hidden blocks ``Sequential(layer, norm, act)`` and a head.
    """
    import torch
    from torch import nn

    from normviz.norms.torch_modules import normed_layer

    opts = {"groups": cfg.G, "ghost_size": cfg.ghost_size}
    if not cfg.affine:  # passed only when off: every module takes groups/ghost_size through the factory
        opts["affine"] = False
    blocks = []
    width_in = 64 if cfg.model == "mlp" else 1
    for _ in range(cfg.depth):
        if cfg.model == "mlp":
            layer = nn.Linear(width_in, cfg.width)
            act = _act(cfg.activation)
        else:
            layer = nn.Conv2d(width_in, cfg.width, 3, padding=1)  # 8×8 stays 8×8
            act = nn.ReLU()
        layer, norm = normed_layer(cfg.norm, layer, cfg.width, dims=cfg.dims, **opts)
        blocks.append(nn.Sequential(layer, norm, act))
        width_in = cfg.width
    head = [nn.Linear(width_in, 10)] if cfg.model == "mlp" else [
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width_in, 10)]
    model = nn.Sequential(*blocks, nn.Sequential(*head))
    gen = torch.Generator().manual_seed(cfg.seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            base = name.rsplit(".", 1)[-1]
            # Weight Norm parametrizes the weight as g·v/‖v‖: initialize v, keep g from the factory.
            if base in ("weight", "original", "original1") and p.dim() >= 2:
                std = cfg.init_std if cfg.init_std is not None else 1.0 / math.sqrt(p[0].numel())
                p.copy_(torch.randn(p.shape, generator=gen) * std)
            elif base == "bias" and p.dim() == 1 and not _is_norm_param(model, name):
                p.zero_()
    _reset_weight_norm_gain(model)
    _schedule_warmups(model, cfg)
    return model


def _schedule_warmups(model, cfg: TrainConfig) -> None:
    # A norm whose training bounds follow a warm-up (Batch Renorm) has a ``warmup`` attribute.
    from normviz.norms.torch_modules import RenormWarmup

    for m in model.modules():
        if hasattr(m, "warmup"):
            m.warmup = RenormWarmup.scaled(cfg.steps) if cfg.renorm_warmup else None


def _is_norm_param(model, name: str) -> bool:
    # Parameters of a block's norm module (index 1 of the block) keep the factory's init.
    parts = name.split(".")
    return len(parts) >= 3 and parts[1] == "1"


def _reset_weight_norm_gain(model) -> None:
    # With Weight Norm, g = ‖v‖ at init keeps the initial function equal to the plain layer's.
    from torch.nn.utils import parametrize

    for m in model.modules():
        if parametrize.is_parametrized(m, "weight"):
            plist = m.parametrizations.weight
            if hasattr(plist, "original0") and hasattr(plist, "original1"):
                import torch

                with torch.no_grad():
                    v = plist.original1
                    plist.original0.copy_(v.flatten(1).norm(dim=1).reshape(plist.original0.shape))
