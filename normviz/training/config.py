"""The training lab's run description: :class:`TrainConfig` and its validation.

``TrainConfig`` is a frozen, keyword-only dataclass (the cache key of a run, round-tripped
through JSON to worker processes); ``check_config`` raises a ``ValueError`` that names, shows and
fixes. Nothing here imports torch.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np

QUANTILE_LEVELS = (0.0, 0.0668, 0.1587, 0.3085, 0.5, 0.6915, 0.8413, 0.9332, 1.0)
QUANTILE_LABELS = ("min", "6.68%", "15.87%", "30.85%", "50%", "69.15%", "84.13%", "93.32%", "max")
BN_UNIT_LEVELS = (0.15, 0.50, 0.85)  # BN paper Figure 1(b, c)
MODELS = ("mlp", "cnn")
ACTIVATIONS = ("sigmoid", "relu", "tanh")
LR_RULES = ("fixed", "linear")
N_DIGITS = 1797  # sklearn.datasets.load_digits
# Dataset variants (all from the bundled digits; a seeded factor per image, fixed for the run's split).
DATASETS = {
    "digits": "scikit-learn's 8×8 digits scaled to [0, 1]",
    "digits_contrast": "digits, each image multiplied by a random contrast factor in [0, 2) "
                       "(a 'style' nuisance the label does not depend on)",
    "digits_brightness": "brightness is the label: each image is shown bright (×1, label 1) or "
                         "dark (×0.5, label 0); which digit it is does not matter",
}


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """One training run: model, norm, data, optimizer, instrumentation. Defaults: BN Figure 1.

    ``norm`` is a registry key (``normviz.norms.NORMS``), ``"none"`` or a composite such as
    ``"weight+mean_only"``; see ``normviz.norms.torch_modules.available_norms(dims)`` for what fits a model
    (dims=1 for the MLP, 2 for the CNN).

    Learning rate: with ``lr_rule="linear"`` the rate used is ``lr · batch_size / lr_batch``
    (the linear scaling rule of Goyal et al. 2017); with ``"fixed"`` it is ``lr``. See
    :attr:`effective_lr`.

    Divergence: the run stops when the mini-batch loss is not finite, or exceeds
    ``min(diverge_factor × start, max(diverge_ceiling, 2 × start))`` where ``start`` is the
    first step's loss: 100× the start, or a cross-entropy of 50 (a healthy 10-class net starts
    near ln 10 ≈ 2.3; a ReLU net whose units all died after a huge step sits near 90 forever
    without ever becoming NaN), but never below twice a start that was already that high.
    """

    norm: str = "batch"
    model: str = "mlp"
    dataset: str = "digits"
    batch_size: int = 60
    steps: int = 3000
    lr: float = 0.5
    lr_rule: str = "fixed"
    lr_batch: int = 16           # reference batch of the linear rule
    momentum: float = 0.0        # SGD momentum; plain SGD as in the BN paper's MNIST run
    weight_decay: float = 0.0    # not applied to BIN's ρ (as the official code)
    affine: bool = True          # the norm's learned γ, β (False: normalize only, where the norm allows it)
    seed: int = 0                # initial weights and data order
    split_seed: int = 0          # the train/test split (kept fixed while seeds vary)
    test_fraction: float = 0.2   # 359 of the 1797 digits are held out, 1438 train
    init_std: float = 0.1        # weights ~ N(0, init_std²); None = torch's default init
    activation: str = "sigmoid"  # the BN paper's MLP; the CNN always uses ReLU
    hidden: int | None = None    # units (MLP, default 100) or channels (CNN, default 16) per layer
    depth: int = 3               # hidden layers
    groups: int | None = None    # G of GroupNorm (must divide the width); default: largest divisor ≤ 8
    ghost_size: int = 4          # ghost batch size of Ghost BN
    renorm_warmup: bool = True   # Batch Renorm: the paper's warm-up scaled to the run (RenormWarmup.scaled)
    log_every: int = 50          # steps between snapshots
    n_probe: int = 128           # probe batch for the distributions: the first n_probe test images
    hist_bins: int = 40
    hist_range: float = 8.0      # histogram over [−hist_range, hist_range]; outliers go to the end bins
    diverge_factor: float = 100.0
    diverge_ceiling: float = 50.0  # cross-entropy 50: the right class gets probability e⁻⁵⁰

    def __post_init__(self):
        check_config(self)

    @property
    def dims(self) -> int:
        """1 for the MLP's (N, C) features, 2 for the CNN's (N, C, H, W)."""
        return 1 if self.model == "mlp" else 2

    @property
    def width(self) -> int:
        """Units per hidden layer (MLP) or channels per conv layer (CNN)."""
        if self.hidden is not None:
            return self.hidden
        return 100 if self.model == "mlp" else 16

    @property
    def G(self) -> int:
        """Groups of GroupNorm: ``groups``, or the largest divisor of the width that is ≤ 8."""
        if self.groups is not None:
            return self.groups
        return max(g for g in range(1, 9) if self.width % g == 0)

    @property
    def effective_lr(self) -> float:
        if self.lr_rule == "linear":
            return self.lr * self.batch_size / self.lr_batch
        return self.lr

    def replace(self, **changes) -> "TrainConfig":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)

    def label(self) -> str:
        """Short legend label: 'batch · mlp · B=60 · lr=0.5'."""
        return f"{self.norm} · {self.model} · B={self.batch_size} · lr={self.effective_lr:g}"


def uses_groups(norm: str) -> bool:
    """Whether any part of ``norm`` (a key, "none" or a composite "a+b") takes G."""
    from normviz.norms.table import NORMS

    return any(p in NORMS and "groups" in NORMS[p].param_names for p in norm.split("+"))


def check_config(cfg: TrainConfig) -> TrainConfig:
    """Validate a config; raise ``ValueError`` with a sentence that names, shows and fixes."""
    if cfg.model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}, got {cfg.model!r}.")
    if cfg.dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)} (all from scikit-learn's bundled "
                         f"8×8 digits), got {cfg.dataset!r}.")
    if cfg.activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {cfg.activation!r}.")
    if cfg.lr_rule not in LR_RULES:
        raise ValueError(f"lr_rule must be 'fixed' or 'linear', got {cfg.lr_rule!r}.")
    for name, lo in (("batch_size", 2), ("steps", 1), ("log_every", 1), ("width", 1), ("depth", 1),
                     ("G", 1), ("ghost_size", 1), ("n_probe", 2), ("hist_bins", 2), ("lr_batch", 1)):
        v = getattr(cfg, name)
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < lo:
            raise ValueError(f"{name} must be a whole number ≥ {lo}, got {v!r}.")
    if not (math.isfinite(cfg.lr) and cfg.lr > 0):
        raise ValueError(f"lr must be a positive number, got {cfg.lr!r}; try 0.5 for the MLP.")
    if not 0 <= cfg.momentum < 1:
        raise ValueError(f"momentum must lie in [0, 1), got {cfg.momentum!r}; 0 is plain SGD, 0.9 is usual.")
    if not (math.isfinite(cfg.weight_decay) and cfg.weight_decay >= 0):
        raise ValueError(f"weight_decay must be ≥ 0, got {cfg.weight_decay!r}.")
    if not isinstance(cfg.affine, bool):
        raise ValueError(f"affine must be True or False, got {cfg.affine!r}.")
    if cfg.init_std is not None and not (math.isfinite(cfg.init_std) and cfg.init_std > 0):
        raise ValueError(f"init_std must be a positive number (or None for torch's default), got "
                         f"{cfg.init_std!r}; the BN paper uses small values such as 0.01.")
    if not 0.05 <= cfg.test_fraction <= 0.5:
        raise ValueError(f"test_fraction must lie in [0.05, 0.5], got {cfg.test_fraction!r}.")
    n_train = N_DIGITS - int(round(cfg.test_fraction * N_DIGITS))
    if cfg.batch_size > n_train:
        raise ValueError(f"batch_size={cfg.batch_size} is larger than the training set ({n_train} digits); "
                         f"use at most {n_train}.")
    if not (cfg.hist_range > 0 and cfg.diverge_factor > 1 and cfg.diverge_ceiling > 0):
        raise ValueError("hist_range and diverge_ceiling must be positive and diverge_factor > 1.")
    if uses_groups(cfg.norm) and cfg.width % cfg.G:
        divisors = [g for g in range(1, cfg.width + 1) if cfg.width % g == 0]
        raise ValueError(f"GroupNorm needs the width divisible by G: width={cfg.width}, G={cfg.G}; "
                         f"try G in {', '.join(map(str, divisors[:10]))}.")
    return cfg
