"""Conformance of the numpy reference (normviz.norms) with torch, the ground truth.

float64: ``normalize`` equals the torch functional op to 1e-10 for every norm torch has
(BN in training mode without running stats, LN over (C, H, W), IN, GN, RMSNorm), over random
shapes including N = 1, C = 1 and H = W = 1 wherever torch accepts them.
float32: within 1e-5 of the float64 result on the same input (relative to max(|ref|, 1)), also
for inputs with a large mean, where a one-pass E[x²] − E[x]² would fail.
Also: dtype preservation, BN running statistics and eval mode vs torch's buffers, Weight Norm
vs torch's parametrization, Weight Standardization vs its formula, the Keras momentum converter.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from normviz.norms import (
    ACTIVATION_NORMS,
    RunningStats,
    keras_to_torch_momentum,
    normalize,
    normalize_eval,
    normalize_weight,
    torch_to_keras_momentum,
    update_running,
)
from normviz.validate import divisors

TOL64 = 1e-10
TOL32 = 1e-5
EPS = 1e-5


def torch_ref(x: np.ndarray, norm: str, *, groups: int = 1, eps: float = EPS) -> np.ndarray:
    """The torch functional op that ``normalize(x, norm)`` must equal."""
    t = torch.from_numpy(np.ascontiguousarray(x))
    C, H, W = x.shape[1:]
    if norm == "batch":
        y = F.batch_norm(t, None, None, training=True, eps=eps)
    elif norm == "layer":
        y = F.layer_norm(t, (C, H, W), eps=eps)
    elif norm == "instance":
        y = F.instance_norm(t, eps=eps)
    elif norm == "group":
        y = F.group_norm(t, groups, eps=eps)
    elif norm == "rms":
        y = F.rms_norm(t, (C, H, W), eps=eps)  # eps explicit: torch's default is finfo.eps
    else:  # pragma: no cover
        raise AssertionError(norm)
    return y.numpy()


TORCH_NORMS = ("batch", "layer", "instance", "group", "rms")


def legal(norm: str, shape) -> bool:
    N, C, H, W = shape
    if norm == "batch":
        return N * H * W > 1
    if norm == "instance":
        return H * W > 1
    return True


# Hand-picked edge shapes: N = 1, C = 1, H = W = 1, a non-square map, and a C with many divisors.
EDGE_SHAPES = [(1, 1, 1, 1), (1, 1, 3, 1), (1, 3, 4, 4), (3, 1, 2, 2), (4, 2, 1, 1), (1, 6, 1, 1),
               (2, 6, 5, 3), (5, 12, 2, 7), (2, 1, 1, 5)]

shapes = st.tuples(st.integers(1, 5), st.sampled_from([1, 2, 3, 4, 6, 8, 12]),
                   st.integers(1, 7), st.integers(1, 7))


def sample(shape, seed: int, *, mean: float = 0.0, scale: float = 1.0, dtype=np.float64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # A per-channel offset so that BN, LN and IN statistics really differ.
    offs = rng.normal(0, 2, size=(1, shape[1], 1, 1))
    return (mean + scale * (rng.standard_normal(shape) + offs)).astype(dtype)


def assert_close64(norm, x, **kw):
    got = normalize(x, norm, **kw)
    ref = torch_ref(x, norm, **kw)
    assert got.dtype == np.float64 and got.shape == x.shape
    np.testing.assert_allclose(got, ref, rtol=0, atol=TOL64, err_msg=f"{norm} {x.shape} {kw}")


# --------------------------------------------------------------------------------------------
# float64 conformance


@pytest.mark.parametrize("shape", EDGE_SHAPES, ids=str)
@pytest.mark.parametrize("norm", ["batch", "layer", "instance", "rms"])
def test_float64_equals_torch_on_edge_shapes(norm, shape):
    if not legal(norm, shape):
        # illegal for torch too (messages asserted in test_norms_errors.py)
        with pytest.raises(ValueError):
            normalize(sample(shape, 0), norm)
        return
    assert_close64(norm, sample(shape, 1))


@pytest.mark.parametrize("shape", EDGE_SHAPES, ids=str)
def test_group_norm_equals_torch_for_every_divisor(shape):
    x = sample(shape, 2)
    N, C, H, W = shape
    for G in divisors(C):
        if N * (C // G) * H * W == 1:
            # torch's F.group_norm refuses this (its batch-size check sees N·C/G·H·W = 1);
            # normviz follows the math: a one-element group normalizes to 0.
            with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
                torch_ref(x, "group", groups=G)
            np.testing.assert_array_equal(normalize(x, "group", groups=G), 0.0)
            continue
        assert_close64("group", x, groups=G)


def test_group_norm_with_g_neither_1_nor_c():
    x = sample((3, 12, 4, 5), 3, mean=3.0, scale=2.0)
    for G in (2, 3, 4, 6):
        assert_close64("group", x, groups=G)


@given(shape=shapes, seed=st.integers(0, 2**16), norm=st.sampled_from(TORCH_NORMS),
       scale=st.sampled_from([1e-3, 1.0, 50.0]), mean=st.sampled_from([0.0, -7.0, 1e3]))
def test_float64_equals_torch_on_random_shapes(shape, seed, norm, scale, mean):
    if not legal(norm, shape):
        return
    x = sample(shape, seed, mean=mean, scale=scale)
    kw = {}
    if norm == "group":
        kw["groups"] = G = int(np.random.default_rng(seed).choice(divisors(shape[1])))
        if shape[0] * (shape[1] // G) * shape[2] * shape[3] == 1:
            return  # torch refuses one-element groups at N = 1 (see the edge-shape test)
    assert_close64(norm, x, **kw)


@pytest.mark.parametrize("eps", [1e-1, 1e-3, 1e-8])
@pytest.mark.parametrize("norm", TORCH_NORMS)
def test_eps_is_passed_through_like_torch(norm, eps):
    x = sample((2, 4, 3, 3), 4, scale=0.01)  # small σ so ε matters
    kw = {"groups": 2} if norm == "group" else {}
    got, ref = normalize(x, norm, eps=eps, **kw), torch_ref(x, norm, eps=eps, **kw)
    np.testing.assert_allclose(got, ref, rtol=0, atol=TOL64)


# --------------------------------------------------------------------------------------------
# float32 accuracy (against the float64 result on the *same* float32 input)

ALL_KW = {
    "group": {"groups": 3},
    "batch_instance": {"rho": 0.3},
    "switchable": {"mean_weights": [0.2, 0.3, 0.5], "var_weights": [0.5, 0.3, 0.2]},
    "ghost_batch": {"ghost_size": 2},
}


@pytest.mark.parametrize("mean", [0.0, 1e4, -1e4, 1e6])
@pytest.mark.parametrize("norm", ACTIVATION_NORMS)
def test_float32_within_1e5_of_float64_even_with_large_mean(norm, mean):
    x32 = sample((4, 6, 16, 16), 5, mean=mean, dtype=np.float32)
    x64 = x32.astype(np.float64)  # the same numbers, so only the algorithm's error is measured
    kw = ALL_KW.get(norm, {})
    got, ref = normalize(x32, norm, **kw), normalize(x64, norm, **kw)
    assert got.dtype == np.float32
    err = np.abs(got.astype(np.float64) - ref).max() / max(1.0, np.abs(ref).max())
    assert err < TOL32, f"{norm} mean={mean}: relative error {err:.2e}"
    if norm in TORCH_NORMS:  # and the float64 result is torch's, to float64's own rounding
        np.testing.assert_allclose(ref, torch_ref(x64, norm, **kw), rtol=0, atol=float64_atol(x64))


def float64_atol(x: np.ndarray) -> float:
    """How far two correct float64 normalizations of ``x`` may differ: TOL64, or more when the
    mean is large against the spread.

    Any float64 algorithm computes μ with an error of about u·|μ| (u = 2.2e-16), which moves
    x̂ = (x − μ)/σ by u·|μ|/σ. At mean 1e6 and σ ≈ 1 that is 2e-10, above TOL64: measured, torch's
    float64 BN and IN with its portable kernels (ATEN_CPU_CAPABILITY=default) differ from the
    reference by 1.1e-10 there, and its AVX2 kernels by less. The bound is 4·u·max|x|/min σ, with
    σ the smallest instance spread; a real error (biased vs unbiased variance, a wrong set) is
    of order 1e-2.
    """
    sigma = x.std(axis=(2, 3)).min()
    return max(TOL64, 4 * np.finfo(np.float64).eps * np.abs(x).max() / sigma)


def test_one_pass_variance_would_fail_the_float32_contract():
    """The contract is not vacuous: E[x²] − E[x]² in float32 breaks it at mean 1e4."""
    x32 = sample((2, 3, 32, 32), 6, mean=1e4, dtype=np.float32)
    ref = normalize(x32.astype(np.float64), "instance")
    m = x32.mean(axis=(2, 3), keepdims=True, dtype=np.float32)
    v = np.maximum((x32 * x32).mean(axis=(2, 3), keepdims=True, dtype=np.float32) - m * m, 0)
    naive = (x32 - m) / np.sqrt(v + np.float32(EPS))
    assert np.abs(naive - ref).max() > 100 * TOL32
    assert np.abs(normalize(x32, "instance") - ref).max() < TOL32


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("norm", ACTIVATION_NORMS)
def test_dtype_preserved(norm, dtype):
    x = sample((2, 6, 5, 5), 7, mean=3.0, dtype=dtype)
    y = normalize(x, norm, **ALL_KW.get(norm, {}))
    assert y.dtype == dtype and y.shape == x.shape
    ref = normalize(x.astype(np.float64), norm, **ALL_KW.get(norm, {}))
    # float16 has an 11-bit mantissa: a few ulps of |y| ≤ ~4.
    tol = {np.float16: 1e-2, np.float32: TOL32, np.float64: TOL64}[dtype]
    assert np.abs(y.astype(np.float64) - ref).max() < tol


def test_integer_input_is_promoted_to_float64():
    x = np.arange(2 * 3 * 4 * 4).reshape(2, 3, 4, 4) % 7
    y = normalize(x, "layer")
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, torch_ref(x.astype(np.float64), "layer"), atol=TOL64)


def test_non_contiguous_input():
    x = sample((4, 6, 8, 8), 8)
    xt = x.transpose(0, 1, 3, 2)  # a strided view
    for norm in TORCH_NORMS:
        kw = {"groups": 3} if norm == "group" else {}
        np.testing.assert_allclose(normalize(xt, norm, **kw), torch_ref(xt, norm, **kw), atol=TOL64)


def test_input_is_not_modified():
    x = sample((2, 3, 4, 4), 9, mean=5.0)
    before = x.copy()
    for norm in ACTIVATION_NORMS:
        normalize(x, norm, **ALL_KW.get(norm, {}))
    np.testing.assert_array_equal(x, before)


# --------------------------------------------------------------------------------------------
# Running statistics and eval mode vs torch's BatchNorm buffers


@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
def test_update_running_matches_torch_buffers_after_k_steps(momentum):
    C, k = 3, 5
    bn = torch.nn.BatchNorm2d(C, momentum=momentum, affine=False).double().train()
    stats = RunningStats.initial(C)
    for step in range(k):
        x = sample((4, C, 3, 2), 100 + step, mean=step, scale=1 + step)
        bn(torch.from_numpy(x))
        stats = update_running(stats, x, momentum=momentum)
        np.testing.assert_allclose(stats.mean, bn.running_mean.numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(stats.var, bn.running_var.numpy(), rtol=1e-12, atol=1e-12)
        assert stats.num_batches_tracked == int(bn.num_batches_tracked) == step + 1
    # eval mode with those buffers
    x = sample((2, C, 4, 4), 200, mean=2.0)
    bn.eval()
    np.testing.assert_allclose(normalize_eval(x, stats.mean, stats.var),
                               bn(torch.from_numpy(x)).detach().numpy(), rtol=0, atol=TOL64)


def test_running_stats_start_like_torch():
    bn = torch.nn.BatchNorm2d(4)
    s = RunningStats.initial(4)
    np.testing.assert_array_equal(s.mean, bn.running_mean.numpy())
    np.testing.assert_array_equal(s.var, bn.running_var.numpy())


def test_momentum_none_is_the_arithmetic_mean_of_batch_statistics():
    C = 2
    stats = RunningStats.initial(C)
    means = []
    for step in range(4):
        x = sample((3, C, 2, 2), 300 + step, mean=3 * step)
        stats = update_running(stats, x, momentum=None)
        means.append(x.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(stats.mean, np.mean(means, axis=0), atol=1e-12)


@pytest.mark.parametrize("eps", [1e-5, 1e-2])
def test_normalize_eval_equals_torch_eval_batch_norm(eps):
    rng = np.random.default_rng(10)
    x = sample((3, 4, 5, 5), 11, mean=1.0)
    rm, rv = rng.normal(size=4), rng.uniform(0.5, 3, size=4)
    ref = F.batch_norm(torch.from_numpy(x), torch.from_numpy(rm), torch.from_numpy(rv),
                       training=False, eps=eps).numpy()
    np.testing.assert_allclose(normalize_eval(x, rm, rv, eps=eps), ref, rtol=0, atol=TOL64)
    # eval mode works where training mode cannot: one value per channel
    x1 = sample((1, 4, 1, 1), 12)
    ref1 = F.batch_norm(torch.from_numpy(x1), torch.from_numpy(rm), torch.from_numpy(rv),
                        training=False, eps=eps).numpy()
    np.testing.assert_allclose(normalize_eval(x1, rm, rv, eps=eps), ref1, rtol=0, atol=TOL64)


def test_normalize_eval_float32_keeps_dtype_and_accuracy():
    x32 = sample((2, 3, 8, 8), 13, mean=1e4, dtype=np.float32)
    rm, rv = np.full(3, 1e4), np.ones(3)
    y = normalize_eval(x32, rm, rv)
    assert y.dtype == np.float32
    ref = normalize_eval(x32.astype(np.float64), rm, rv)
    assert np.abs(y - ref).max() < TOL32


@pytest.mark.parametrize("p", [0.0, 0.01, 0.1, 0.5, 1.0])
def test_keras_momentum_converter(p):
    m = torch_to_keras_momentum(p)
    assert m == pytest.approx(1 - p)
    assert keras_to_torch_momentum(m) == pytest.approx(p)
    # The two update rules agree on the running mean: keras r ← m r + (1 − m) s.
    r, s = 0.7, -2.0
    assert m * r + (1 - m) * s == pytest.approx((1 - p) * r + p * s)


def test_keras_default_is_ten_times_slower_than_torch_default():
    assert keras_to_torch_momentum(0.99) == pytest.approx(0.01)
    assert keras_to_torch_momentum(0.99) * 10 == pytest.approx(0.1)


# --------------------------------------------------------------------------------------------
# Weight-side norms


def _torch_weight_norm(layer: torch.nn.Module) -> np.ndarray:
    wn = torch.nn.utils.parametrizations.weight_norm(layer)
    with torch.no_grad():
        wn.parametrizations.weight.original0.fill_(1.0)  # g = 1
    return wn.weight.detach().numpy()


@pytest.mark.parametrize("layer", [
    lambda: torch.nn.Linear(7, 3), lambda: torch.nn.Linear(1, 4),
    lambda: torch.nn.Conv2d(3, 5, 3), lambda: torch.nn.Conv2d(1, 2, 1),
], ids=["linear", "linear-1in", "conv3x3", "conv1x1"])
def test_weight_norm_equals_torch_parametrization_with_g_1(layer):
    torch.manual_seed(0)
    lay = layer().double()
    v = lay.weight.detach().numpy().copy()
    got = normalize_weight(v, "weight")
    np.testing.assert_allclose(got, _torch_weight_norm(lay), rtol=0, atol=TOL64)
    assert got.shape == v.shape and got.dtype == v.dtype
    # every output unit has unit norm
    np.testing.assert_allclose(np.linalg.norm(got.reshape(len(got), -1), axis=1), 1.0, atol=1e-12)


def test_weight_norm_float32_dtype():
    v = np.random.default_rng(14).normal(size=(4, 3, 3, 3)).astype(np.float32)
    got = normalize_weight(v, "weight")
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, normalize_weight(v.astype(np.float64), "weight"), atol=TOL32)


@pytest.mark.parametrize("shape", [(5, 3, 3, 3), (4, 1, 1, 2), (6, 10)], ids=str)
@pytest.mark.parametrize("eps", [1e-5, 0.1])
def test_weight_standardization_equals_direct_torch_formula(shape, eps):
    w = sample(shape if len(shape) == 4 else shape + (1, 1), 15, mean=0.5).reshape(shape)
    t = torch.from_numpy(w)
    dims = tuple(range(1, t.dim()))
    mean = t.mean(dim=dims, keepdim=True)
    std = t.std(dim=dims, keepdim=True, unbiased=True)  # unbiased std, ε added to the std
    ref = ((t - mean) / (std + eps)).numpy()
    np.testing.assert_allclose(normalize_weight(w, "weight_standardization", eps=eps), ref,
                               rtol=0, atol=TOL64)


# --------------------------------------------------------------------------------------------
# The blocked one-pass moments: long rows, a misleading pilot sample, huge values


def test_long_rows_split_into_blocks_equal_torch():
    """H·W larger than one block, so each row is summed and normalized in pieces."""
    from normviz.norms.kernel import BLOCK

    x = sample((1, 2, 480, BLOCK // 480 + 37), 16, mean=4.0)
    assert x.shape[2] * x.shape[3] > BLOCK
    for norm in ("layer", "instance", "rms"):
        assert_close64(norm, x)
    x32 = x.astype(np.float32)
    assert np.abs(normalize(x32, "instance") - normalize(x32.astype(np.float64), "instance")).max() < TOL32


def test_misleading_pilot_sample_triggers_the_second_pass(monkeypatch):
    """The pilot mean comes from a strided sample; when that sample is unrepresentative the
    affected rows are redone around their true mean, so float32 stays within 1e-5."""
    import normviz.norms.kernel as nn

    calls = []
    real = nn._centred_sums
    monkeypatch.setattr(nn, "_centred_sums", lambda rows, K: calls.append(len(rows)) or real(rows, K))
    H, W = 64, 1021  # M = 65344 elements, the pilot takes every 64th
    step = H * W // nn.PILOT_SAMPLES
    x = sample((2, 2, H, W), 17, mean=1e4).reshape(2, 2, -1)
    x[0, 1, ::step] += 3e3  # only the sampled positions are far off, in one row of four
    x32 = x.reshape(2, 2, H, W).astype(np.float32)
    got = normalize(x32, "instance")
    assert calls == [4, 1]  # one pass over all rows, a second over the one misled row
    ref = normalize(x32.astype(np.float64), "instance")
    assert np.abs(got - ref).max() / max(1.0, np.abs(ref).max()) < TOL32
    np.testing.assert_allclose(ref, torch_ref(x32.astype(np.float64), "instance"), rtol=0, atol=TOL64)


@pytest.mark.parametrize("magnitude", [1e19, 1e30])
def test_huge_finite_float32_values_do_not_overflow(magnitude):
    x32 = (sample((2, 3, 8, 8), 18) * magnitude).astype(np.float32)
    assert np.isfinite(x32).all()
    for norm in ("batch", "layer", "instance", "rms"):
        got, ref = normalize(x32, norm), normalize(x32.astype(np.float64), norm)
        assert np.isfinite(got).all()
        assert np.abs(got - ref).max() < TOL32


def test_float16_with_a_wide_range_is_summed_in_float32():
    """Squares of float16 deviations above 256 overflow float16 (max 65504)."""
    x16 = sample((2, 4, 16, 16), 19, scale=2000.0, dtype=np.float16)
    assert np.isfinite(x16).all() and np.abs(x16).max() > 1000
    for norm in ("batch", "layer", "instance", "group", "rms"):
        got, ref = normalize(x16, norm), normalize(x16.astype(np.float64), norm)
        assert got.dtype == np.float16 and np.abs(got.astype(np.float64) - ref).max() < 1e-2
