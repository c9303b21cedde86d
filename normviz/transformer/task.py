"""The task: sort a short sequence of digits.

Input: ``T`` tokens drawn uniformly from ``0 … V−1`` (default 8 tokens, V = 10); target at
position ``i``: the ``i``-th smallest token. Why sorting: each output depends on every input
token (position i must count how many tokens are smaller than each candidate), so a model
without attention (a per-token MLP) cannot do better than guessing the value distribution of
the i-th order statistic, while a 2-block transformer learns it in a few hundred steps on a
CPU. The data are generated, never downloaded, unlimited (no overfitting to discuss) and
reproducible from a seed.

A held-out test set is drawn from a seed that no training batch uses.
"""
from __future__ import annotations

import numpy as np

TEST_SEED_OFFSET = 1_000_003  # the test set's generator never coincides with a training seed


def sort_batch(rng: np.random.Generator, n: int, seq_len: int, vocab: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random sequences and their sorted versions. Shapes: (n, seq_len) int64 each."""
    x = rng.integers(0, vocab, size=(n, seq_len), dtype=np.int64)
    return x, np.sort(x, axis=1)


def test_set(seed: int, n: int, seq_len: int, vocab: int) -> tuple[np.ndarray, np.ndarray]:
    """The fixed held-out sequences of a run (``n`` of them)."""
    return sort_batch(np.random.default_rng(seed + TEST_SEED_OFFSET), n, seq_len, vocab)


def chance_accuracy(seq_len: int, vocab: int) -> float:
    """Per-token accuracy of the best guess without looking at the input: at each position the
    most likely value of that order statistic (computed exactly from its distribution)."""
    from math import comb

    total = 0.0
    for i in range(seq_len):  # the i-th smallest of seq_len uniform draws
        best = 0.0
        for v in range(vocab):
            # P(X_(i) ≤ v) = P(at least i+1 draws ≤ v)
            def cdf(u):
                p = (u + 1) / vocab
                return sum(comb(seq_len, k) * p ** k * (1 - p) ** (seq_len - k) for k in range(i + 1, seq_len + 1))
            best = max(best, cdf(v) - (cdf(v - 1) if v > 0 else 0.0))
        total += best
    return total / seq_len
