"""The tiny transformer: each block against a hand-written reference, determinism, divergence."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from normviz.transformer.config import TransformerConfig, token_norms
from normviz.transformer.model import Block, SelfAttention, TinyTransformer
from normviz.transformer.task import chance_accuracy, sort_batch
from normviz.transformer.train import run


def _attention_by_hand(att: SelfAttention, x: torch.Tensor) -> torch.Tensor:
    """Loops over batch and heads, softmax written out."""
    B, T, D = x.shape
    H = att.heads
    d = D // H
    Wqkv, bqkv = att.qkv.weight, att.qkv.bias
    out = torch.zeros(B, T, D, dtype=x.dtype)
    for b in range(B):
        q = x[b] @ Wqkv[:D].T + bqkv[:D]
        k = x[b] @ Wqkv[D:2 * D].T + bqkv[D:2 * D]
        v = x[b] @ Wqkv[2 * D:].T + bqkv[2 * D:]
        for h in range(H):
            s = slice(h * d, (h + 1) * d)
            scores = q[:, s] @ k[:, s].T / math.sqrt(d)
            w = torch.exp(scores - scores.max(1, keepdim=True).values)
            w = w / w.sum(1, keepdim=True)
            out[b, :, s] = w @ v[:, s]
    return out @ att.proj.weight.T + att.proj.bias


def test_attention_matches_hand_written_and_torch_sdpa():
    torch.manual_seed(0)
    att = SelfAttention(16, 4).double()
    x = torch.randn(3, 5, 16, dtype=torch.float64)
    y = att(x)
    torch.testing.assert_close(y, _attention_by_hand(att, x))
    mha = torch.nn.MultiheadAttention(16, 4, batch_first=True).double()  # torch's own, same weights
    with torch.no_grad():
        mha.in_proj_weight.copy_(att.qkv.weight)
        mha.in_proj_bias.copy_(att.qkv.bias)
        mha.out_proj.weight.copy_(att.proj.weight)
        mha.out_proj.bias.copy_(att.proj.bias)
    torch.testing.assert_close(y, mha(x, x, x, need_weights=False)[0])


def _ln(x):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + 1e-5)


@pytest.mark.parametrize("placement", ["pre", "post"])
def test_block_places_layernorm_as_written(placement):
    torch.manual_seed(1)
    blk = Block(8, 2, "layer", placement).double()
    with torch.no_grad():  # non-trivial γ, β so the affine is checked too
        for n in (blk.norm1, blk.norm2):
            n.inner.weight.uniform_(0.5, 1.5)
            n.inner.bias.uniform_(-0.5, 0.5)
    x = torch.randn(2, 6, 8, dtype=torch.float64)
    g1, b1 = blk.norm1.inner.weight, blk.norm1.inner.bias
    g2, b2 = blk.norm2.inner.weight, blk.norm2.inner.bias
    attn = lambda h: _attention_by_hand(blk.attn, h)  # noqa: E731
    mlp = lambda h: F.gelu(h @ blk.mlp.fc.weight.T + blk.mlp.fc.bias) @ blk.mlp.out.weight.T + blk.mlp.out.bias  # noqa: E731
    if placement == "pre":
        h = x + attn(_ln(x) * g1 + b1)
        want = h + mlp(_ln(h) * g2 + b2)
    else:
        h = _ln(x + attn(x)) * g1 + b1
        want = _ln(h + mlp(h)) * g2 + b2
    torch.testing.assert_close(blk(x), want)


def test_token_norms_see_one_token_alone():
    """Per-token statistics: a token's output does not depend on the other tokens or sequences."""
    assert {"layer", "rms", "dyt", "none"} <= set(token_norms())
    for norm in token_norms():
        torch.manual_seed(2)
        m = TinyTransformer(vocab=10, seq_len=4, d_model=16, heads=2, depth=1, norm=norm).double()
        from normviz.transformer.model import TokenNorm
        if norm == "none":
            continue
        tn = TokenNorm(norm, 16).double()
        x = torch.randn(3, 4, 16, dtype=torch.float64)
        x2 = x.clone()
        x2[1:] *= 7.0
        x2[0, 1:] += 3.0
        torch.testing.assert_close(tn(x)[0, 0], tn(x2)[0, 0])
        assert m(torch.zeros(2, 4, dtype=torch.long)).shape == (2, 4, 10)


def test_rms_and_dyt_blocks_match_formulas():
    torch.manual_seed(3)
    x = torch.randn(2, 3, 8, dtype=torch.float64)
    rms = Block(8, 2, "rms", "pre").double().norm1
    torch.testing.assert_close(rms(x), x / torch.sqrt((x ** 2).mean(-1, keepdim=True) + 1e-5))
    dyt = Block(8, 2, "dyt", "pre").double().norm1
    with torch.no_grad():
        dyt.inner.alpha.fill_(0.8)
    torch.testing.assert_close(dyt(x), torch.tanh(0.8 * x))


def test_sorting_task_and_chance():
    import numpy as np

    x, y = sort_batch(np.random.default_rng(0), 50, 8, 10)
    assert (np.sort(x, 1) == y).all() and (np.diff(y, axis=1) >= 0).all()
    c = chance_accuracy(8, 10)
    assert 0.1 < c < 0.5
    assert chance_accuracy(1, 10) == pytest.approx(0.1)


def test_same_seed_same_numbers_and_learns():
    cfg = TransformerConfig(steps=120, log_every=40, n_test=128)
    a, b = run(cfg), run(cfg)
    assert [s["loss"] for s in a] == [s["loss"] for s in b]
    assert a[-1]["grad_norm"] == b[-1]["grad_norm"]
    assert run(cfg.replace(seed=1))[-1]["loss"] != a[-1]["loss"]
    assert a[-1]["test_acc"] > chance_accuracy(8, 10) + 0.1  # it learns something in 120 steps
    assert len(a[0]["grad_norm"]) == 2 and len(a[0]["resid_norm"]) == 3
    assert "scatter" in a[-1] and len(a[-1]["attention"]) == 2


def test_divergence_is_reported_as_a_message():
    snaps = run(TransformerConfig(norm="none", lr=10.0, steps=200, log_every=50, n_test=64))
    last = snaps[-1]
    assert last["diverged"] and last["step"] < 199
    assert last["message"].startswith(("Diverged", "Stalled"))


@pytest.mark.parametrize("bad, words", [(dict(d_model=30, heads=4), "divisible"), (dict(norm="batch"), "one token"),
                                        (dict(placement="middle"), "placement"), (dict(lr=-1.0), "lr")])
def test_bad_config_says_why(bad, words):
    with pytest.raises(ValueError, match=words):
        TransformerConfig(**bad)
