r"""The tiny transformer, nanoGPT style: token + position embeddings, ``depth`` blocks, a head.

Shapes: B sequences, T tokens, D = d_model, H heads of size d = D / H, V = vocabulary.

A block, with the norm ``N`` in one of two places (Xiong et al. 2020, Figure 1)::

    pre:   x ← x + Attn(N₁(x));   x ← x + MLP(N₂(x))        and N_f(x) before the head
    post:  x ← N₁(x + Attn(x));   x ← N₂(x + MLP(x))
    none:  x ← x + Attn(x);       x ← x + MLP(x)

Attention is bidirectional (an encoder: every output of the sorting task depends on every
input token): for each head, softmax(Q Kᵀ / √d) V with Q, K, V = x W_q, x W_k, x W_v.

The norm module comes from the registry (``normviz.norms.torch_modules.make_norm`` with
``dims=1``): :class:`TokenNorm` hands it the (B·T, D) matrix of tokens, so every token is one
"sample" and its statistics are over its D features only, never over other tokens or sequences.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from normviz.norms.torch_modules import make_norm


class TokenNorm(nn.Module):
    """A registry norm applied to each token alone.

    Shape: (B, T, D) -> (B, T, D); the wrapped module sees (B·T, D).
    """

    def __init__(self, norm: str, d_model: int):
        super().__init__()
        self.key = norm
        self.inner = make_norm(norm, d_model, dims=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape
        return self.inner(x.reshape(B * T, D)).reshape(B, T, D)


class SelfAttention(nn.Module):
    r"""Multi-head bidirectional self-attention.

    .. math::  \mathrm{head}_h = \mathrm{softmax}\big(Q_h K_h^\top / \sqrt{d}\big)\, V_h,\qquad
               \mathrm{Attn}(x) = [\mathrm{head}_1, …, \mathrm{head}_H]\, W_o

    Shape: (B, T, D) -> (B, T, D). ``last_weights`` keeps the attention matrix of the last
    forward, (B, H, T, T), when ``keep_weights`` is set (for the page's attention map).
    """

    def __init__(self, d_model: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.keep_weights = False
        self.last_weights = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape
        q, k, v = self.qkv(x).split(D, dim=2)                           # 3 × (B, T, D)
        # (B, T, D) -> (B, H, T, d)
        q, k, v = (t.view(B, T, self.heads, D // self.heads).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])        # (B, H, T, T)
        att = F.softmax(att, dim=-1)
        if self.keep_weights:
            self.last_weights = att.detach()
        y = att @ v                                                     # (B, H, T, d)
        y = y.transpose(1, 2).reshape(B, T, D)                          # heads side by side: (B, T, D)
        return self.proj(y)


class MLP(nn.Module):
    """Linear D→4D, GELU, Linear 4D→D, on each token. Shape: (B, T, D) -> (B, T, D)."""

    def __init__(self, d_model: int):
        super().__init__()
        self.fc = nn.Linear(d_model, 4 * d_model)
        self.out = nn.Linear(4 * d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(F.gelu(self.fc(x)))


class Block(nn.Module):
    """One transformer block with its two norms (``nn.Identity`` for "none"); see the module
    docstring for the placements. Shape: (B, T, D) -> (B, T, D)."""

    def __init__(self, d_model: int, heads: int, norm: str, placement: str):
        super().__init__()
        self.placement = placement
        self.attn = SelfAttention(d_model, heads)
        self.mlp = MLP(d_model)
        self.norm1 = TokenNorm(norm, d_model) if norm != "none" else nn.Identity()
        self.norm2 = TokenNorm(norm, d_model) if norm != "none" else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.placement == "post":
            x = self.norm1(x + self.attn(x))
            return self.norm2(x + self.mlp(x))
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TinyTransformer(nn.Module):
    """Embeddings, ``depth`` blocks, (pre-norm only) a final norm, a linear head per token.

    Shape: tokens (B, T) int64 -> logits (B, T, V). Initialisation as nanoGPT/GPT-2: weights
    N(0, 0.02²), biases 0, and the residual projections (attention ``proj``, MLP ``out``) scaled
    by 1/√(2·depth) so the residual stream's variance does not grow with depth at init.
    """

    def __init__(self, *, vocab: int, seq_len: int, d_model: int, heads: int, depth: int,
                 norm: str = "layer", placement: str = "pre"):
        super().__init__()
        self.norm_key, self.placement = norm, placement
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(seq_len, d_model)
        self.blocks = nn.ModuleList(Block(d_model, heads, norm, placement) for _ in range(depth))
        final = norm != "none" and placement == "pre"  # post-norm's last block already ends in a norm
        self.norm_f = TokenNorm(norm, d_model) if final else nn.Identity()
        self.head = nn.Linear(d_model, vocab)
        self.apply(self._init)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight") or name.endswith("mlp.out.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * depth))

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        B, T = idx.shape
        x = self.tok(idx) + self.pos(torch.arange(T, device=idx.device))  # (B, T, D)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm_f(x))                                   # (B, T, V)

    def norms(self) -> list[tuple[str, TokenNorm]]:
        """(name, module) of every norm layer, in forward order: 'block 1 · norm 1', ..., 'final'."""
        out = []
        for i, b in enumerate(self.blocks, 1):
            for j, n in enumerate((b.norm1, b.norm2), 1):
                if isinstance(n, TokenNorm):
                    out.append((f"block {i} · norm {j}", n))
        if isinstance(self.norm_f, TokenNorm):
            out.append(("final", self.norm_f))
        return out


def build(cfg) -> TinyTransformer:
    """The model of a :class:`~normviz.transformer.config.TransformerConfig` (seeded by the caller)."""
    return TinyTransformer(vocab=cfg.vocab, seq_len=cfg.seq_len, d_model=cfg.d_model, heads=cfg.heads,
                           depth=cfg.depth, norm=cfg.norm, placement=cfg.placement)
