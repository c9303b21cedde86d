"""A transformer-lab run: :class:`TransformerConfig`, its validation and the presets.

Frozen and keyword-only (the cache key of a run, round-tripped through JSON to worker processes);
``check_config`` raises a ``ValueError`` that names, shows and fixes. Nothing here imports torch.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

# Where the norm sits in a block (Xiong et al. 2020, Figure 1):
#   post: x = Norm(x + Attn(x)); x = Norm(x + MLP(x))             (the original Transformer)
#   pre:  x = x + Attn(Norm(x)); x = x + MLP(Norm(x)); Norm before the head (GPT-2 and later)
PLACEMENTS = {"pre": "pre-norm (inside the residual branch; GPT-2 and later)",
              "post": "post-norm (after the residual addition; the original Transformer)"}


def token_norms() -> list[str]:
    """The registry's norms that work on one token alone: no batch, no running statistics, not a
    weight reparameterization, and defined on (N, C) features; plus "none". A transformer's norm
    sees (B, T, D) and must not mix tokens or sequences."""
    from normviz.norms.table import NORMS

    return ["none"] + [k for k, s in NORMS.items() if not s.batch_dependent and not s.running_stats
                       and not s.is_weight and not s.is_mixture and 1 in s.dims]


@dataclass(frozen=True, kw_only=True)
class TransformerConfig:
    """One run of the tiny transformer on the sorting task (``normviz.transformer.task``).

    ``norm`` is a registry key from :func:`token_norms` or "none"; ``placement`` "pre" or "post"
    (ignored for "none"). Adam with β = (0.9, 0.98) as in the original Transformer and no weight
    decay; the learning rate rises linearly from 0 over ``warmup`` steps (0 = no warm-up), then
    stays at ``lr``.

    Divergence: the run stops when the mini-batch loss is not finite or exceeds
    ``min(diverge_factor × start, max(diverge_ceiling, 2 × start))`` (as the training lab), or when
    the loss is still above ``stall_fraction × start`` after half the steps (a post-LN net whose
    first large steps blew it into a state it never leaves: the loss stays near chance forever).
    """

    norm: str = "layer"
    placement: str = "pre"
    depth: int = 2          # transformer blocks
    d_model: int = 32
    heads: int = 2
    seq_len: int = 8
    vocab: int = 10
    batch_size: int = 64
    steps: int = 400
    lr: float = 3e-3
    warmup: int = 0         # steps of linear warm-up
    seed: int = 0           # initial weights and the training batches
    n_test: int = 256       # held-out sequences (256 × 8 = 2048 test tokens)
    log_every: int = 20
    n_probe: int = 16       # sequences whose per-token statistics and scatter are recorded
    diverge_factor: float = 100.0
    diverge_ceiling: float = 50.0
    stall_fraction: float = 0.9

    def __post_init__(self):
        check_config(self)

    @property
    def head_dim(self) -> int:
        return self.d_model // self.heads

    def replace(self, **changes) -> "TransformerConfig":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)

    def label(self) -> str:
        """Short legend label: 'pre-LN · 2 blocks · lr=0.003'."""
        from normviz.norms.table import NORMS

        name = "no norm" if self.norm == "none" else f"{self.placement}-{NORMS[self.norm].short}"
        wu = f" · warm-up {self.warmup}" if self.warmup else ""
        return f"{name} · {self.depth} blocks · lr={self.lr:g}{wu}"


_RANGES = {"depth": (1, 8), "d_model": (8, 128), "heads": (1, 8), "seq_len": (2, 16), "vocab": (2, 32),
           "batch_size": (2, 512), "steps": (1, 20000), "warmup": (0, 20000), "n_test": (8, 4096),
           "log_every": (1, 20000), "n_probe": (1, 64)}


def check_config(cfg: TransformerConfig) -> TransformerConfig:
    """Validate a config; raise ``ValueError`` with a sentence that names, shows and fixes."""
    norms = token_norms()
    if cfg.norm not in norms:
        raise ValueError(f"norm must be one of {', '.join(norms)} (norms that see one token alone), got "
                         f"{cfg.norm!r}.")
    if cfg.placement not in PLACEMENTS:
        raise ValueError(f"placement must be 'pre' or 'post', got {cfg.placement!r}.")
    for name, (lo, hi) in _RANGES.items():
        v = getattr(cfg, name)
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            raise ValueError(f"{name} must be a whole number from {lo} to {hi}, got {v!r}.")
    if cfg.d_model % cfg.heads:
        raise ValueError(f"d_model ({cfg.d_model}) must be divisible by heads ({cfg.heads}); try heads=2 or 4.")
    if not (isinstance(cfg.lr, (int, float)) and math.isfinite(cfg.lr) and 0 < cfg.lr <= 10):
        raise ValueError(f"lr must be a number in (0, 10], got {cfg.lr!r}; try 0.003 for Adam.")
    if cfg.n_probe > cfg.n_test:
        raise ValueError(f"n_probe ({cfg.n_probe}) must not exceed n_test ({cfg.n_test}).")
    return cfg


# Presets: (label, the runs' changes from the defaults); up to four runs each. Steps per preset in
# PRESET_STEPS (default: TransformerConfig.steps): the quick look fits in ~15 s on 2 cores.
PRESET_STEPS = {"quick": 300}
PRESETS = {
    "quick": ("Quick look: pre-LN vs post-LN vs no norm, 2 blocks",
              [dict(norm="layer", placement="pre"), dict(norm="layer", placement="post"), dict(norm="none")]),
    "placement": ("Pre-LN vs post-LN at lr 0.03 without warm-up, 4 blocks, and post-LN with 150 warm-up steps",
                  [dict(norm="layer", placement="pre", depth=4, lr=3e-2),
                   dict(norm="layer", placement="post", depth=4, lr=3e-2),
                   dict(norm="layer", placement="post", depth=4, lr=3e-2, warmup=150)]),
    "rms_dyt": ("LayerNorm vs RMSNorm vs DyT (all pre-norm)",
                [dict(norm="layer"), dict(norm="rms"), dict(norm="dyt")]),
    "depth": ("No norm at 2, 4 and 6 blocks", [dict(norm="none", depth=d) for d in (2, 4, 6)]),
}
