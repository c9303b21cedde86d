"""Plumbing shared by the torch norm modules (``normviz.norms.torch_modules``): shape checks, affine, EMA.

Imported only by training code (it imports torch); ``normviz/__init__.py`` never imports it.
"""
from __future__ import annotations

import torch
from torch import nn


def _check_dims(dims, name: str, key: str) -> int:
    """dims 1 (MLP features N×C) or 2 (conv features N×C×H×W), and one the norm works on (its
    ``NormSpec.dims``; the spec's ``dims_why`` says why not)."""
    from normviz.norms.table import NORMS

    if dims not in (1, 2):
        raise ValueError(f"{name}: dims must be 1 (MLP features N×C) or 2 (conv features N×C×H×W), got {dims!r}.")
    spec = NORMS.get(key)
    if spec is not None and dims not in spec.dims:
        raise ValueError(spec.dims_why)
    return dims


class _ActivationNorm(nn.Module):
    """Common constructor bits: per-channel affine γ = 1, β = 0 and the input-shape check."""

    key = ""
    reference_name = ""  # what the torch reference op computes, in words

    def __init__(self, num_features: int, *, dims: int = 2, eps: float = 1e-5, affine: bool = True):
        super().__init__()
        self.num_features, self.eps, self.affine = int(num_features), float(eps), affine
        self.dims = _check_dims(dims, type(self).__name__, self.key)
        if affine:
            self.weight = nn.Parameter(torch.ones(self.num_features))
            self.bias = nn.Parameter(torch.zeros(self.num_features))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def _check(self, x: torch.Tensor) -> None:
        want = 2 if self.dims == 1 else 4
        if x.dim() != want or x.shape[1] != self.num_features:
            layout = "N×C" if self.dims == 1 else "N×C×H×W"
            raise ValueError(
                f"{type(self).__name__}(C={self.num_features}, dims={self.dims}) expects {layout} "
                f"input with C={self.num_features}, got shape {tuple(x.shape)}."
            )

    def _shape4(self, x: torch.Tensor) -> tuple[int, int, int, int]:
        """(N, C, H, W) for the validate helpers; MLP features count as H = W = 1."""
        return (x.shape[0], x.shape[1], x.shape[2], x.shape[3]) if x.dim() == 4 else (x.shape[0], x.shape[1], 1, 1)

    def _view(self, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """A per-channel (C,) tensor shaped to broadcast against x."""
        return t.view(1, -1, *([1] * (x.dim() - 2)))

    def _affine(self, xhat: torch.Tensor) -> torch.Tensor:
        if not self.affine:
            return xhat
        return xhat * self._view(self.weight, xhat) + self._view(self.bias, xhat)

    def extra_repr(self) -> str:
        return f"{self.num_features}, dims={self.dims}, eps={self.eps}, affine={self.affine}"


def _reduce_dims(x: torch.Tensor) -> tuple[int, ...]:
    """Every axis except the channel axis 1: BN's pooled set (N, H, W) or (N,)."""
    return (0,) + tuple(range(2, x.dim()))


def _ema_(buf: torch.Tensor, value: torch.Tensor, p: float) -> None:
    """PyTorch momentum: r ← (1 − p)·r + p·s, in place, outside autograd."""
    buf.mul_(1 - p).add_(value.detach().to(buf.dtype), alpha=p)


class _RunningNorm(_ActivationNorm):
    """An activation norm with BN-style running buffers ``running_mean`` (0), ``running_var`` (1)."""

    def __init__(self, num_features: int, *, dims: int = 2, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = True):
        super().__init__(num_features, dims=dims, eps=eps, affine=affine)
        if not 0 <= momentum <= 1:
            raise ValueError(f"momentum must lie in [0, 1] (PyTorch convention r ← (1 − p)·r + p·s), got {momentum}.")
        self.momentum = float(momentum)
        self.register_buffer("running_mean", torch.zeros(self.num_features))
        self.register_buffer("running_var", torch.ones(self.num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def _update_running(self, mean: torch.Tensor, unbiased_var: torch.Tensor | None) -> None:
        with torch.no_grad():
            _ema_(self.running_mean, mean, self.momentum)
            if unbiased_var is not None:
                _ema_(self.running_var, unbiased_var, self.momentum)
            self.num_batches_tracked += 1

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, momentum={self.momentum}"

