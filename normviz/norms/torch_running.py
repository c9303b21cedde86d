"""Torch norms with running statistics that torch lacks: BIN, SN, mean-only BN, ghost BN, batch renorm.

Part of ``normviz.norms.torch_modules`` (which re-exports every class); see its docstring for conventions.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from normviz.norms.torch_base import _ActivationNorm, _ema_, _reduce_dims, _RunningNorm
from normviz.validate import check_batch_values, check_spatial_values


class BatchInstanceNorm(_RunningNorm):
    r"""Batch-Instance Normalization (Nam & Kim 2018): a learned per-channel gate between BN and IN.

    .. math::  y = \gamma_c\left(\rho_c\,\hat x_{BN} + (1 - \rho_c)\,\hat x_{IN}\right) + \beta_c,
               \quad \rho_c \in [0, 1]

    As the official code: ρ starts at 1 (pure BN); one γ, β shared by both branches; the BN
    branch uses batch statistics in training and running statistics in eval; the IN branch
    always uses the input's instance statistics (also in eval). ρ must be kept in [0, 1]: call
    ``clip_gates(model)`` (or ``module.clip_()``) after every ``optimizer.step()``; the paper
    also trains ρ with a ×10 learning rate and no weight decay (``optimizer_param_groups``).

    Shape:
        Input (N, C, H, W) with H·W ≥ 2; output the same. ``rho``: (C,).
    """

    key = "batch_instance"
    reference_name = "ρ·F.batch_norm + (1 − ρ)·F.instance_norm"

    @staticmethod
    def reference(x, eps=1e-5, rho=0.5):
        r = torch.as_tensor(rho, dtype=x.dtype).reshape(-1)
        r = (r if r.numel() > 1 else r.expand(x.shape[1])).view(1, -1, 1, 1)
        return r * F.batch_norm(x, None, None, training=True, eps=eps) + (1 - r) * F.instance_norm(x, eps=eps)

    def __init__(self, num_features: int, *, dims: int = 2, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = True):
        super().__init__(num_features, dims=dims, eps=eps, momentum=momentum, affine=affine)
        self.rho = nn.Parameter(torch.ones(self.num_features))

    def learned(self) -> dict[str, float]:
        """What the layer has learned that the snapshots plot: the mean gate."""
        return {"mean ρ (1 = BN, 0 = IN)": float(self.rho.detach().mean())}

    def clip_(self) -> "BatchInstanceNorm":
        """Project ρ back onto [0, 1] (the official code does this after every step)."""
        with torch.no_grad():
            self.rho.clamp_(0.0, 1.0)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        check_spatial_values(self._shape4(x), what="Batch-Instance Norm")
        if self.training:
            check_batch_values(self._shape4(x), what="Batch-Instance Norm")
            self.num_batches_tracked += 1
        x_bn = F.batch_norm(x, self.running_mean, self.running_var, None, None, self.training, self.momentum, self.eps)
        x_in = F.instance_norm(x, eps=self.eps)  # never running statistics
        rho = self._view(self.rho, x)
        return self._affine(rho * x_bn + (1 - rho) * x_in)


class SwitchableNorm(_RunningNorm):
    r"""Switchable Normalization (Luo et al. 2019): learned softmax blend of IN, LN, BN statistics.

    .. math::  y = \gamma_c \frac{x - \sum_k w_k \mu_k}{\sqrt{\sum_k w'_k \sigma^2_k + \epsilon}} + \beta_c,
               \quad w = \mathrm{softmax}(\lambda),\ w' = \mathrm{softmax}(\lambda'),\ k \in (IN, LN, BN)

    Two logit vectors per layer (``mean_logits`` λ for the means, ``var_logits`` λ' for the
    variances), initialized to 1 so each weight starts at 1/3. Like the official code, LN and
    BN statistics are derived from the instance moments (law of total variance, written as
    ``mean(σ²_in + (μ_in − μ)²)`` so float32 does not cancel); unlike it, the variance is the
    *biased* one (the paper's formula; the official unbiased one inflates LN/BN variances and
    gives NaN at H·W = 1). The BN part keeps running statistics with PyTorch conventions
    (momentum 0.1 ≡ the official Keras-style 0.9; start at μ = 0, σ² = 1 where the official
    code starts at 0, which makes eval before enough steps divide by √ε; running variance
    unbiased, as BN). In eval, IN and LN still come from the input, BN from the buffers.

    Shape:
        Input (N, C, H, W) with H·W ≥ 2; output the same.
    """

    key = "switchable"
    reference_name = "torch mean/var of IN, LN, BN, blended"

    @staticmethod
    def reference(x, eps=1e-5, mean_weights=(1 / 3,) * 3, var_weights=(1 / 3,) * 3):
        dims = [(2, 3), (1, 2, 3), (0, 2, 3)]  # IN, LN, BN
        mu = sum(float(w) * x.mean(d, keepdim=True) for w, d in zip(mean_weights, dims))
        var = sum(float(w) * x.var(d, keepdim=True, unbiased=False) for w, d in zip(var_weights, dims))
        return (x - mu) / torch.sqrt(var + eps)

    def __init__(self, num_features: int, *, dims: int = 2, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = True):
        super().__init__(num_features, dims=dims, eps=eps, momentum=momentum, affine=affine)
        self.mean_logits = nn.Parameter(torch.ones(3))
        self.var_logits = nn.Parameter(torch.ones(3))

    def learned(self) -> dict[str, float]:
        """What the layer has learned that the snapshots plot: the BN share of μ and of σ²."""
        return {"SN: BN weight for μ": float(self.mean_weights[2]), "SN: BN weight for σ²": float(self.var_weights[2])}

    @property
    def mean_weights(self) -> torch.Tensor:
        """softmax(λ) over (IN, LN, BN), detached; sums to 1."""
        return torch.softmax(self.mean_logits.detach(), 0)

    @property
    def var_weights(self) -> torch.Tensor:
        """softmax(λ') over (IN, LN, BN), detached; sums to 1."""
        return torch.softmax(self.var_logits.detach(), 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        shape = self._shape4(x)
        check_spatial_values(shape, what="Switchable Norm")
        flat = x.flatten(2)  # (N, C, H·W)
        mu_in = flat.mean(-1)  # (N, C)
        var_in = flat.var(-1, unbiased=False)
        mu_ln = mu_in.mean(1, keepdim=True)  # (N, 1)
        var_ln = (var_in + (mu_in - mu_ln) ** 2).mean(1, keepdim=True)
        if self.training:
            check_batch_values(shape, what="Switchable Norm")
            mu_bn = mu_in.mean(0, keepdim=True)  # (1, C)
            var_bn = (var_in + (mu_in - mu_bn) ** 2).mean(0, keepdim=True)
            n = shape[0] * shape[2] * shape[3]
            self._update_running(mu_bn[0], var_bn[0] * n / (n - 1))
        else:
            mu_bn, var_bn = self.running_mean[None, :], self.running_var[None, :]
        wm, wv = torch.softmax(self.mean_logits, 0), torch.softmax(self.var_logits, 0)
        mu = wm[0] * mu_in + wm[1] * mu_ln + wm[2] * mu_bn  # (N, C)
        var = wv[0] * var_in + wv[1] * var_ln + wv[2] * var_bn
        xhat = (x - mu[:, :, None, None]) * torch.rsqrt(var + self.eps)[:, :, None, None]
        return self._affine(xhat)


class MeanOnlyBatchNorm(_RunningNorm):
    r"""Mean-only Batch Normalization (Salimans & Kingma 2016), the partner of Weight Norm.

    .. math::  y = x - \mu_c + \beta_c

    Subtracts the batch mean per channel (running mean in eval) and adds a bias; it never
    divides by a standard deviation (Weight Norm's g sets the scale). ``running_var`` stays 1
    and unused. Not in the registry on its own: the factory builds it for ``"weight+mean_only"``.

    Shape:
        Input (N, C) or (N, C, H, W); output the same. Parameters: ``bias`` (C,) only.
    """

    key = "mean_only"

    def __init__(self, num_features: int, *, dims: int = 2, momentum: float = 0.1, affine: bool = True):
        super().__init__(num_features, dims=dims, eps=0.0, momentum=momentum, affine=affine)
        if affine:
            self.register_parameter("weight", None)  # no scale: WN's g plays that role

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        if self.training:
            check_batch_values(self._shape4(x), what="Mean-only BatchNorm")
            mu = x.mean(dim=_reduce_dims(x))
            self._update_running(mu, None)
        else:
            mu = self.running_mean
        y = x - self._view(mu, x)
        return y + self._view(self.bias, y) if self.affine else y


class GhostBatchNorm(_RunningNorm):
    r"""Ghost Batch Normalization (Hoffer, Hubara & Soudry 2017): BN on chunks of the batch.

    .. math::  y = \gamma_c \frac{x - \mu_{kc}}{\sqrt{\sigma^2_{kc} + \epsilon}} + \beta_c

    with statistics over (n ∈ ghost batch k, h, w). The batch is split into consecutive ghost
    batches of ``ghost_size`` samples; a remainder (N not divisible) joins the last ghost batch,
    so every ghost batch has at least ``ghost_size`` samples (N < ghost_size: one ghost batch,
    plain BN). ``ghost_size = N`` is exactly BN. γ, β and the running statistics are shared.

    Running statistics: **one** EMA update per training step, with the average of the ghost
    batches' means and the average of their unbiased variances. So ``momentum`` means the same
    thing as for BN (per step), and the running variance estimates the variance *within* a
    ghost batch, which is what the network saw during training.

    Shape:
        Input (N, C) or (N, C, H, W); output the same.
    """

    key = "ghost_batch"
    reference_name = "F.batch_norm on chunks of ghost_size samples"

    @staticmethod
    def reference(x, eps=1e-5, ghost_size=1):
        return torch.cat([F.batch_norm(c, None, None, training=True, eps=eps) for c in x.split(int(ghost_size))])

    def __init__(self, num_features: int, *, dims: int = 2, ghost_size: int = 4, eps: float = 1e-5,
                 momentum: float = 0.1, affine: bool = True):
        super().__init__(num_features, dims=dims, eps=eps, momentum=momentum, affine=affine)
        if not isinstance(ghost_size, int) or isinstance(ghost_size, bool) or ghost_size < 1:
            raise ValueError(f"ghost_size must be a whole number ≥ 1 (samples per ghost batch), got {ghost_size!r}.")
        self.ghost_size = ghost_size

    def _chunks(self, N: int) -> list[int]:
        k = max(1, N // self.ghost_size)
        sizes = [self.ghost_size] * k
        sizes[-1] += N - self.ghost_size * k  # remainder joins the last ghost batch
        return sizes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        if not self.training:
            xhat = F.batch_norm(x, self.running_mean, self.running_var, None, None, False, 0.0, self.eps)
            return self._affine(xhat)
        sizes = self._chunks(x.shape[0])
        check_batch_values((min(sizes),) + self._shape4(x)[1:], what=f"Ghost BatchNorm (ghost_size={self.ghost_size})")
        if len(set(sizes)) == 1:  # equal ghost batches: one fused batch_norm call
            k, g, C = len(sizes), sizes[0], x.shape[1]
            # Ghost batch k of channel c becomes channel k·C + c of a (g, k·C, H·W) tensor.
            xr = x.reshape(k, g, C, -1).transpose(0, 1).reshape(g, k * C, -1)
            # momentum 1 makes the scratch buffers exactly the batch mean and unbiased variance.
            mean, var = x.new_zeros(k * C), x.new_ones(k * C)
            y = F.batch_norm(xr, mean, var, None, None, True, 1.0, self.eps)
            self._update_running(mean.view(k, C).mean(0), var.view(k, C).mean(0))
            return self._affine(y.reshape(g, k, C, -1).transpose(0, 1).reshape(x.shape))
        outs, means, variances = [], [], []
        for chunk in torch.split(x, sizes):
            dims = _reduce_dims(chunk)
            outs.append(F.batch_norm(chunk, None, None, None, None, True, 0.0, self.eps))
            means.append(chunk.detach().mean(dim=dims))
            variances.append(chunk.detach().var(dim=dims, unbiased=True))
        self._update_running(torch.stack(means).mean(0), torch.stack(variances).mean(0))
        return self._affine(torch.cat(outs))

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, ghost_size={self.ghost_size}"


@dataclass(frozen=True)
class RenormWarmup:
    r"""Batch Renorm's warm-up: plain BN first, then the clip bounds relax linearly.

    .. math::  r_{max}(t) = 1 + (R - 1)\,\mathrm{ramp}(t; h, t_r),\quad
               d_{max}(t) = D\,\mathrm{ramp}(t; h, t_d),\quad
               \mathrm{ramp}(t; h, e) = \mathrm{clip}\!\left(\frac{t - h}{e - h}, 0, 1\right)

    ``t`` counts training batches from 0. The paper (Ioffe 2017, §4, Inception-v3) holds r_max = 1,
    d_max = 0 (exactly BN) for h = 5 000 steps, reaches R = 3 at t_r = 40 000 and D = 5 at
    t_d = 25 000. Why a warm-up: the running μ, σ start at 0, 1 and are wrong at first, and
    correcting towards wrong statistics would hurt; by the end of the hold they are good.
    """

    hold: int
    r_end: int
    d_end: int
    r_max: float = 3.0
    d_max: float = 5.0

    def __post_init__(self):
        if not 0 <= self.hold < min(self.r_end, self.d_end) or self.r_max < 1 or self.d_max < 0:
            raise ValueError(f"A warm-up needs 0 ≤ hold < r_end, d_end, r_max ≥ 1 and d_max ≥ 0, got {self}.")

    @classmethod
    def paper(cls) -> "RenormWarmup":
        """The paper's schedule in its own steps."""
        return cls(hold=5000, r_end=40000, d_end=25000)

    @classmethod
    def scaled(cls, steps: int) -> "RenormWarmup":
        """The paper's schedule shrunk so r_max reaches 3 at half of a ``steps``-step run.

        The proportions stay the paper's (BN for the first 1/16 of the run, d_max full at 5/16,
        r_max at 1/2), so the second half of the run trains with the full correction.
        """
        f = steps / 80000
        return cls(hold=max(1, round(5000 * f)), r_end=max(3, round(40000 * f)), d_end=max(2, round(25000 * f)))

    def bounds(self, step: int) -> tuple[float, float]:
        """(r_max, d_max) at training batch ``step`` (0-based)."""
        def ramp(end):
            return min(max((step - self.hold) / (end - self.hold), 0.0), 1.0)

        return 1.0 + (self.r_max - 1.0) * ramp(self.r_end), self.d_max * ramp(self.d_end)


class BatchRenorm(_ActivationNorm):
    r"""Batch Renormalization (Ioffe 2017): BN corrected towards the running statistics.

    .. math::  \hat x = \frac{x - \mu_B}{\sigma_B}\, r + d,\quad
               r = \mathrm{sg}\,\mathrm{clip}_{[1/r_{max},\, r_{max}]}\!\left(\frac{\sigma_B}{\sigma}\right),\quad
               d = \mathrm{sg}\,\mathrm{clip}_{[-d_{max},\, d_{max}]}\!\left(\frac{\mu_B - \mu}{\sigma}\right)

    σ_B = √(biased var_B + ε); sg = stop-gradient (r and d are constants for autograd).
    Running buffers are the mean μ (``running_mean``, init 0) and the **std** σ
    (``running_std``, init 1), updated ``μ ← μ + p(μ_B − μ)``, ``σ ← σ + p(σ_B − σ)``.
    Eval: ``y = γ (x − μ)/σ + β``. r_max = 1, d_max = 0 is exactly BN in training. Fixed bounds
    default to r_max = 1.5, d_max = 0.5 (the GN paper's small-batch setting). With ``warmup`` set
    (a :class:`RenormWarmup`), the bounds follow that schedule instead, indexed by
    ``num_batches_tracked``: the paper's BN-first warm-up, r_max 1 → 3, d_max 0 → 5.

    Shape:
        Input (N, C) or (N, C, H, W); output the same.
    """

    key = "batch_renorm"
    warmup: "RenormWarmup | None" = None  # set per instance (training.models does, from TrainConfig.renorm_warmup)
    reference_name = "F.batch_norm(training=True)·r + d, r and d from the running statistics"

    @staticmethod
    def reference(x, eps=1e-5, running_mean=0.0, running_std=1.0, r_max=3.0, d_max=5.0):
        C = x.shape[1]
        mu = torch.as_tensor(running_mean, dtype=x.dtype).reshape(-1).expand(C).view(1, C, 1, 1)
        sigma = torch.as_tensor(running_std, dtype=x.dtype).reshape(-1).expand(C).view(1, C, 1, 1)
        mu_b = x.mean((0, 2, 3), keepdim=True)
        sigma_b = torch.sqrt(x.var((0, 2, 3), keepdim=True, unbiased=False) + eps)
        r = (sigma_b / sigma).clamp(1 / float(r_max), float(r_max)).detach()
        d = ((mu_b - mu) / sigma).clamp(-float(d_max), float(d_max)).detach()
        return F.batch_norm(x, None, None, training=True, eps=eps) * r + d

    def __init__(self, num_features: int, *, dims: int = 2, eps: float = 1e-5, momentum: float = 0.1,
                 r_max: float = 1.5, d_max: float = 0.5, affine: bool = True):
        super().__init__(num_features, dims=dims, eps=eps, affine=affine)
        if r_max < 1 or d_max < 0:
            raise ValueError(f"Batch Renorm needs r_max ≥ 1 and d_max ≥ 0 (r_max = 1, d_max = 0 is plain BN), "
                             f"got r_max={r_max}, d_max={d_max}.")
        if not 0 <= momentum <= 1:
            raise ValueError(f"momentum must lie in [0, 1], got {momentum}.")
        self.momentum, self.r_max, self.d_max = float(momentum), float(r_max), float(d_max)
        self.register_buffer("running_mean", torch.zeros(self.num_features))
        self.register_buffer("running_std", torch.ones(self.num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def bounds(self) -> tuple[float, float]:
        """(r_max, d_max) for the next training batch: the warm-up's at this step, else the fixed ones."""
        if self.warmup is None:
            return self.r_max, self.d_max
        return self.warmup.bounds(int(self.num_batches_tracked))

    def learned(self) -> dict[str, float]:
        """The clip bounds in force (they move during a warm-up)."""
        r_max, d_max = self.bounds()
        return {"Batch Renorm r_max": r_max, "Batch Renorm d_max": d_max}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        if not self.training:
            return self._affine((x - self._view(self.running_mean, x)) / self._view(self.running_std, x))
        check_batch_values(self._shape4(x), what="Batch Renorm")
        r_max, d_max = self.bounds()
        dims = _reduce_dims(x)
        mu_b = x.mean(dim=dims)
        sigma_b = torch.sqrt(x.var(dim=dims, unbiased=False) + self.eps)
        with torch.no_grad():
            r = (sigma_b / self.running_std).clamp(1 / r_max, r_max)
            d = ((mu_b - self.running_mean) / self.running_std).clamp(-d_max, d_max)
            _ema_(self.running_mean, mu_b, self.momentum)
            _ema_(self.running_std, sigma_b, self.momentum)
            self.num_batches_tracked += 1
        xhat = (x - self._view(mu_b, x)) / self._view(sigma_b, x) * self._view(r, x) + self._view(d, x)
        return self._affine(xhat)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, momentum={self.momentum}, r_max={self.r_max}, d_max={self.d_max}"
