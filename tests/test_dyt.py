"""Dynamic Tanh, the registry's element-wise norm: its properties, and that every pillar has it."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from normviz.norms import NORMS, normalize, pooling_weights

shapes = st.tuples(*(st.integers(1, 4) for _ in range(4)))


@given(shape=shapes, seed=st.integers(0, 10_000), alpha=st.floats(0.05, 5.0))
def test_dyt_is_elementwise_odd_bounded_and_needs_no_batch(shape, seed, alpha):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 3, shape)
    y = normalize(x, "dyt", alpha=alpha)
    assert np.all(np.abs(y) <= 1)  # squashed into [−1, 1] (tanh rounds to ±1 in float64 beyond ~19)
    np.testing.assert_allclose(normalize(-x, "dyt", alpha=alpha), -y)  # odd
    # No statistic: each element alone, so the first sample's output ignores its batch mates.
    np.testing.assert_array_equal(normalize(x[:1], "dyt", alpha=alpha), y[:1])
    # No invariance to contrast: unlike a statistics norm, a gain changes the output.
    linear = (np.abs(alpha * x) < 1) & (np.abs(x) > 1e-3)  # where tanh is not saturated
    if linear.any():
        assert np.all(np.abs(normalize(2 * x, "dyt", alpha=alpha) - y)[linear] > 1e-4)


def test_small_alpha_is_almost_linear_and_pooling_is_the_element_alone():
    x = np.linspace(-1, 1, 2 * 3 * 2 * 2).reshape(2, 3, 2, 2)
    np.testing.assert_allclose(normalize(x, "dyt", alpha=1e-3), 1e-3 * x, rtol=1e-6)
    w = pooling_weights(x.shape, "dyt", (1, 2, 0, 1))
    assert w[1, 2, 0, 1] == 1 and w.sum() == 1


def test_dyt_trains_in_the_lab_and_its_alpha_is_in_the_snapshots():
    pytest.importorskip("torch")
    from normviz.training import TrainConfig, train

    snaps = list(train(TrainConfig(norm="dyt", steps=60, log_every=30, activation="tanh")))
    alphas = [s.learned[0]["DyT: α"] for s in snaps]
    assert len(snaps) == 3 and alphas[0] == 0.5 and alphas[-1] != alphas[0]  # α is learned
    assert all(len(s.learned) == 3 for s in snaps)  # one α per hidden layer
    assert snaps[-1].test_acc > 0.3


def test_every_page_offers_dyt():
    from normviz.images.lab import VIEWS
    from normviz.norms.torch_modules import available_norms
    from normviz.state import CubeState

    spec = NORMS["dyt"]
    assert spec.family == "elementwise" and spec.axes == () and "alpha" in CubeState.field_names()
    assert "dyt" in VIEWS and "dyt" in available_norms(1) and "dyt" in available_norms(2)
