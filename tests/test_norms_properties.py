"""The property catalogue of norm-spec §7, for the numpy reference library (float64).

Items 1–4, 7, 10, 11, 12, 14, 15, 16, 19, plus: zero mean and unit variance (up to ε) over every
pooled set, the ε identity f_ε(a·x + b) = f_{ε/a²}(x), GN(G=1) = LN, GN(G=C) = IN, BN at N = 1 =
IN, BN batch-permutation equivariance; ``pooling_weights`` (≥ 0, sums to 1, zero outside the set,
agrees with ``group_ids``, and agrees with ``normalize``: perturbing a zero-weight element leaves
that index's output unchanged, perturbing a positive-weight one changes it); ``statistics()``.

Invariances are exact with ε = 0, or with a scalar a after rescaling ε (norm-spec §1.1), so they
are checked to rtol 1e-9, atol 1e-10. Inputs are standard normals with per-channel offsets, so no
pooled set is near-constant (the spec's filter for sets of variance < 1e-8).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from normviz.norms import (
    NORMS,
    ACTIVATION_NORMS,
    MIXTURES,
    PARTITION_NORMS,
    group_ids,
    instance_moments,
    normalize,
    normalize_weight,
    pooling_weights,
    statistics,
)
from normviz.norms.kernel import _pool
from normviz.validate import divisors

RTOL, ATOL = 1e-9, 1e-10
EPS = 1e-5

dims = st.tuples(st.integers(1, 4), st.sampled_from([1, 2, 3, 4, 6]), st.integers(1, 5), st.integers(1, 5))
seeds = st.integers(0, 2**20)
scales = st.floats(0.2, 5.0)  # the spec's range: extreme ratios make ε-rescaling delicate
shifts = st.floats(-10.0, 10.0)


def sample(shape, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) + rng.normal(0, 2, size=(1, shape[1], 1, 1))


def close(a, b):
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def differ(a, b, tol=1e-6):
    assert np.abs(a - b).max() > tol


def legal(norm, shape, kw=None):
    """Shapes where the norm's statistics exist and every pooled set has ≥ 2 elements."""
    N, C, H, W = shape
    kw = kw or {}
    if norm in ("batch", "batch_instance", "switchable") and N * H * W < 2:
        return False
    if norm in ("instance", "frn", "batch_instance", "switchable") and H * W < 2:
        return False
    if norm in ("layer", "rms") and C * H * W < 2:
        return False
    if norm == "group" and (C // kw.get("groups", 1)) * H * W < 2:
        return False
    if norm == "ghost_batch" and kw.get("ghost_size", 1) * H * W < 2:
        return False
    if norm == "pono" and C < 2:
        return False
    return True


def norm_kwargs(norm, shape, seed, *, interior=False):
    """Random legal extra arguments for ``norm`` (ρ in (0, 1) and SN weights > 0 if ``interior``)."""
    rng = np.random.default_rng(seed + 1)
    N, C = shape[:2]
    if norm == "group":
        return {"groups": int(rng.choice(divisors(C)))}
    if norm == "ghost_batch":
        return {"ghost_size": int(rng.choice(divisors(N)))}
    if norm == "batch_instance":
        r = rng.uniform(0.1, 0.9, size=C) if interior else rng.uniform(0, 1, size=C)
        return {"rho": r}
    if norm == "switchable":
        if interior:  # every weight ≥ 0.1
            return {"mean_weights": 0.1 + 0.7 * rng.dirichlet(np.ones(3)),
                    "var_weights": 0.1 + 0.7 * rng.dirichlet(np.ones(3))}
        return {"mean_weights": rng.dirichlet(np.full(3, 0.5)), "var_weights": rng.dirichlet(np.ones(3))}
    return {}


# --------------------------------------------------------------------------------------------
# Pooled sets: zero mean, unit variance (up to ε); statistics()


@given(shape=dims, seed=seeds, norm=st.sampled_from(PARTITION_NORMS), eps=st.sampled_from([0.0, 1e-5, 0.1]))
def test_each_pooled_set_has_zero_mean_and_unit_variance_up_to_eps(shape, seed, norm, eps):
    kw = norm_kwargs(norm, shape, seed)
    assume(legal(norm, shape, kw))
    x = sample(shape, seed)
    y = normalize(x, norm, eps=eps, **kw)
    s = statistics(x, norm, **kw)
    ids = s.ids.ravel()
    if norm in ("rms", "frn"):  # mean of squares, nothing subtracted: mean(y²) = ν²/(ν² + ε)
        close(np.bincount(ids, y.ravel() ** 2) / s.count, s.var / (s.var + eps))
        return
    y_mean = np.bincount(ids, y.ravel()) / s.count
    y_var = np.bincount(ids, (y.ravel() - y_mean[ids]) ** 2) / s.count
    close(y_mean, 0.0)
    close(y_var, s.var / (s.var + eps))  # exactly 1 at ε = 0


@pytest.mark.parametrize("norm, K", [
    ("batch", lambda N, C, H, W, G: C), ("layer", lambda N, C, H, W, G: N),
    ("instance", lambda N, C, H, W, G: N * C), ("group", lambda N, C, H, W, G: N * G),
    ("rms", lambda N, C, H, W, G: N), ("frn", lambda N, C, H, W, G: N * C),
    ("pono", lambda N, C, H, W, G: N * H * W),
])
@given(shape=dims, seed=seeds)
def test_statistics_count_and_reproduce_normalize(norm, K, shape, seed):
    kw = norm_kwargs(norm, shape, seed)
    assume(legal(norm, shape, kw))
    x = sample(shape, seed)
    s = statistics(x, norm, **kw)
    assert s.K == K(*shape, kw.get("groups")) == s.ids.max() + 1
    assert s.count.sum() == x.size and (s.count == x.size // s.K).all()
    # μ and σ² are the plain mean and biased variance of each set ...
    for k in range(s.K):
        v = x[s.ids == k]
        if norm in ("rms", "frn"):
            close(s.var[k], (v ** 2).mean())
            assert s.mean[k] == 0
        else:
            close([s.mean[k], s.var[k]], [v.mean(), v.var()])
    # ... and normalize is (x − μ) / sqrt(σ² + ε) with them
    close(normalize(x, norm, **kw), (x - s.mean[s.ids]) / np.sqrt(s.var[s.ids] + EPS))


@given(shape=dims, seed=seeds)
def test_ghost_statistics_have_one_set_per_ghost_batch_and_channel(shape, seed):
    kw = norm_kwargs("ghost_batch", shape, seed)
    assume(legal("ghost_batch", shape, kw))
    x = sample(shape, seed)
    s = statistics(x, "ghost_batch", **kw)
    assert s.K == shape[0] // kw["ghost_size"] * shape[1]
    close(normalize(x, "ghost_batch", **kw), (x - s.mean[s.ids]) / np.sqrt(s.var[s.ids] + EPS))


@given(shape=dims, seed=seeds)
def test_law_of_total_variance_derives_ln_and_bn_from_in_moments(shape, seed):
    """§16: LN/BN statistics pooled from biased IN moments equal the direct ones."""
    x = sample(shape, seed)
    mean, var = instance_moments(x)
    close(np.c_[mean.ravel(), var.ravel()], np.c_[x.mean(axis=(2, 3)).ravel(), x.var(axis=(2, 3)).ravel()])
    for axis, direct in ((1, (1, 2, 3)), (0, (0, 2, 3))):
        mu, v = _pool(mean, var, axis=axis)
        close(mu.ravel(), x.mean(axis=direct).ravel())
        close(v.ravel(), x.var(axis=direct).ravel())


# --------------------------------------------------------------------------------------------
# The ε identity, for every activation norm


# Norms that divide by a statistic of a set (not element-wise ones, which have no statistic).
STANDARDIZING = [k for k in ACTIVATION_NORMS if NORMS[k].family in ("statistics", "mixture")]


@given(shape=dims, seed=seeds, norm=st.sampled_from(STANDARDIZING), a=scales, b=shifts)
def test_eps_identity_for_a_scalar_affine(shape, seed, norm, a, b):
    """f_ε(a·x + b) = f_{ε/a²}(x); RMS and FRN subtract nothing, so only b = 0 for them."""
    kw = norm_kwargs(norm, shape, seed)
    assume(legal(norm, shape, kw))
    if not NORMS[norm].centred:
        b = 0.0
    x = sample(shape, seed)
    close(normalize(a * x + b, norm, eps=EPS, **kw), normalize(x, norm, eps=EPS / a**2, **kw))


@given(shape=dims, seed=seeds, norm=st.sampled_from(STANDARDIZING), b=shifts)
def test_negation_is_odd_for_mean_subtracting_norms(shape, seed, norm, b):
    """f(−x + b) = −f(x) for norms that subtract a mean; −f(x) for RMS/FRN with b = 0."""
    kw = norm_kwargs(norm, shape, seed)
    assume(legal(norm, shape, kw))
    x = sample(shape, seed)
    if not NORMS[norm].centred:
        b = 0.0
    close(normalize(-x + b, norm, **kw), -normalize(x, norm, **kw))


# --------------------------------------------------------------------------------------------
# Invariances per norm (ε = 0 for per-set scales)


def per(shape, axes_kept, rng, lo, hi):
    """Random values broadcast over the axes not in ``axes_kept``."""
    s = [d if i in axes_kept else 1 for i, d in enumerate(shape)]
    return rng.uniform(lo, hi, size=s)


def check_invariance(norm, shape, seed, kept, *, invariant=True, kw=None, shift=True):
    """normalize at ε = 0 is (or is not) unchanged by a·x + b with a, b constant over the
    axes not in ``kept``."""
    kw = kw or {}
    rng = np.random.default_rng(seed + 7)
    x = sample(shape, seed)
    a = per(shape, kept, rng, 0.2, 5.0)
    b = per(shape, kept, rng, -10, 10) if shift else 0.0
    got, ref = normalize(a * x + b, norm, eps=0.0, **kw), normalize(x, norm, eps=0.0, **kw)
    if invariant:
        close(got, ref)
    else:
        differ(got, ref)


@given(shape=dims, seed=seeds)
def test_1_instance_norm_per_nc_affine_invariance(shape, seed):
    assume(legal("instance", shape))
    check_invariance("instance", shape, seed, kept=(0, 1))


@given(shape=dims, seed=seeds)
def test_2_layer_norm_per_sample_affine_invariance_not_per_channel(shape, seed):
    assume(legal("layer", shape))
    check_invariance("layer", shape, seed, kept=(0,))
    # (a set of 2 always normalizes to ±1, so "not invariant" needs ≥ 3 elements)
    if shape[1] >= 2 and np.prod(shape[1:]) >= 3:
        check_invariance("layer", shape, seed, kept=(1,), invariant=False)


@given(n=st.integers(1, 5), units=st.integers(2, 6), seed=seeds)
def test_2_layer_norm_weight_matrix_recentering(n, units, seed):
    """LN(u (W + 1 δᵀ)ᵀ) = LN(u Wᵀ): adding δ to every unit's weights shifts a sample by δ·u."""
    rng = np.random.default_rng(seed)
    u, Wt, delta = rng.normal(size=(n, 4)), rng.normal(size=(units, 4)), rng.normal(size=4)
    pre = lambda Wm: (u @ Wm.T)[:, :, None, None]  # noqa: E731
    close(normalize(pre(Wt + delta[None, :]), "layer"), normalize(pre(Wt), "layer"))


@given(n=st.integers(2, 6), units=st.integers(1, 5), seed=seeds)
def test_4_batch_norm_dataset_recentering(n, units, seed):
    """Adding a constant vector to every input row shifts each unit by a constant: BN ignores it."""
    rng = np.random.default_rng(seed)
    u, Wt, shift = rng.normal(size=(n, 4)), rng.normal(size=(units, 4)), rng.normal(size=4) * 5
    pre = lambda U: (U @ Wt.T)[:, :, None, None]  # noqa: E731
    close(normalize(pre(u + shift[None, :]), "batch"), normalize(pre(u), "batch"))


@given(shape=dims, seed=seeds)
def test_3_group_norm_per_group_affine_invariance(shape, seed):
    N, C, H, W = shape
    kw = norm_kwargs("group", shape, seed)
    assume(legal("group", shape, kw))
    G = kw["groups"]
    rng = np.random.default_rng(seed + 3)
    x = sample(shape, seed)
    a = np.repeat(rng.uniform(0.2, 5, size=(N, G)), C // G, axis=1)[:, :, None, None]
    b = np.repeat(rng.uniform(-10, 10, size=(N, G)), C // G, axis=1)[:, :, None, None]
    close(normalize(a * x + b, "group", eps=0.0, **kw), normalize(x, "group", eps=0.0, **kw))
    if C // G >= 2 and C // G * H * W >= 3:  # a per-channel affine inside a group is not absorbed
        check_invariance("group", shape, seed, kept=(0, 1), invariant=False, kw=kw)


@given(shape=dims, seed=seeds)
def test_3_group_norm_extremes_are_layer_and_instance_norm(shape, seed):
    x = sample(shape, seed)
    if legal("layer", shape):
        close(normalize(x, "group", groups=1), normalize(x, "layer"))
    if legal("instance", shape):
        close(normalize(x, "group", groups=shape[1]), normalize(x, "instance"))


@given(shape=dims, seed=seeds)
def test_4_batch_norm_per_channel_affine_invariance_not_per_sample(shape, seed):
    assume(legal("batch", shape))
    check_invariance("batch", shape, seed, kept=(1,))
    if shape[0] >= 2 and shape[0] * shape[2] * shape[3] >= 3:
        check_invariance("batch", shape, seed, kept=(0,), invariant=False)


@given(shape=dims, seed=seeds, perm_seed=seeds)
def test_4_batch_norm_is_batch_permutation_equivariant(shape, seed, perm_seed):
    assume(legal("batch", shape))
    x = sample(shape, seed)
    p = np.random.default_rng(perm_seed).permutation(shape[0])
    close(normalize(x[p], "batch"), normalize(x, "batch")[p])


@given(shape=dims, seed=seeds)
def test_4_batch_norm_on_one_sample_is_instance_norm(shape, seed):
    shape = (1,) + shape[1:]
    assume(legal("instance", shape))
    x = sample(shape, seed)
    close(normalize(x, "batch"), normalize(x, "instance"))


@given(n=st.integers(2, 6), units=st.integers(1, 5), seed=seeds)
def test_4_batch_norm_weight_rescaling(n, units, seed):
    """BN(u (aW)ᵀ) = BN(u Wᵀ) for per-row a_i > 0 (pre-activations as N×units×1×1)."""
    rng = np.random.default_rng(seed)
    u, Wt = rng.normal(size=(n, 4)), rng.normal(size=(units, 4))
    a = rng.uniform(0.2, 5, size=(units, 1))
    pre = lambda Wm: (u @ Wm.T)[:, :, None, None]  # noqa: E731
    close(normalize(pre(a * Wt), "batch", eps=0.0), normalize(pre(Wt), "batch", eps=0.0))


@given(seed=seeds, C=st.integers(1, 4), eps=st.sampled_from([0.0, 1e-5, 0.1]))
def test_7_batch_norm_on_two_values_gives_plus_minus(seed, C, eps):
    x = sample((2, C, 1, 1), seed)
    d = (x[0] - x[1]) / 2
    y = normalize(x, "batch", eps=eps)
    close(y[0], d / np.sqrt(d**2 + eps))
    close(y[1], -d / np.sqrt(d**2 + eps))


@given(shape=dims, seed=seeds, c=st.floats(0.2, 5.0), neg=st.booleans())
def test_10_rms_norm_scaling_and_sign(shape, seed, c, neg):
    x = sample(shape, seed)
    c = -c if neg else c
    close(normalize(c * x, "rms", eps=EPS), np.sign(c) * normalize(x, "rms", eps=EPS / c**2))


@given(shape=dims, seed=seeds, b=st.floats(0.5, 10.0))
def test_10_rms_norm_is_not_shift_invariant_and_is_layer_norm_on_zero_mean_samples(shape, seed, b):
    assume(legal("layer", shape))
    x = sample(shape, seed)
    differ(normalize(x + b, "rms"), normalize(x, "rms"))
    x0 = x - x.mean(axis=(1, 2, 3), keepdims=True)
    close(normalize(x0, "rms"), normalize(x0, "layer"))


@given(shape=dims, seed=seeds, eps=st.sampled_from([1e-5, 0.1, 2.0]))
def test_10_rms_norm_mean_square_is_ms_over_ms_plus_eps(shape, seed, eps):
    x = sample(shape, seed)
    ms = (x**2).mean(axis=(1, 2, 3))
    close((normalize(x, "rms", eps=eps) ** 2).mean(axis=(1, 2, 3)), ms / (ms + eps))


@given(shape=dims, seed=seeds)
def test_11_frn_per_nc_scale_invariance_not_shift(shape, seed):
    assume(legal("frn", shape))
    check_invariance("frn", shape, seed, kept=(0, 1), shift=False)
    x = sample(shape, seed)
    differ(normalize(x + 3.0, "frn"), normalize(x, "frn"))
    a = 2.5
    close(normalize(a * x, "frn", eps=EPS), normalize(x, "frn", eps=EPS / a**2))


@given(c_out=st.integers(1, 5), c_in=st.integers(1, 4), k=st.sampled_from([1, 3]), seed=seeds,
       a=scales, b=shifts, eps=st.sampled_from([1e-5, 0.1]))
def test_12_weight_standardization(c_out, c_in, k, seed, a, b, eps):
    assume(c_in * k * k >= 2)
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(c_out, c_in, k, k))
    # per-filter affine with the official ε-on-std form: WS_ε(aW + b) = WS_{ε/a}(W)
    af = rng.uniform(0.2, 5, size=(c_out, 1, 1, 1))
    bf = rng.uniform(-10, 10, size=(c_out, 1, 1, 1))
    close(normalize_weight(a * w + b, "weight_standardization", eps=eps),
          normalize_weight(w, "weight_standardization", eps=eps / a))
    close(normalize_weight(af * w + bf, "weight_standardization", eps=0.0),
          normalize_weight(w, "weight_standardization", eps=0.0))
    # each filter: mean 0, unbiased std σ/(σ + ε)
    ws = normalize_weight(w, "weight_standardization", eps=eps).reshape(c_out, -1)
    sigma = w.reshape(c_out, -1).std(axis=1, ddof=1)
    close(ws.mean(axis=1), 0.0)
    close(ws.std(axis=1, ddof=1), sigma / (sigma + eps))


@given(c_out=st.integers(1, 5), c_in=st.integers(1, 4), seed=seeds, c=st.floats(0.2, 5.0))
def test_9_weight_norm_invariant_to_positive_scale_flips_with_negative(c_out, c_in, seed, c):
    v = np.random.default_rng(seed).normal(size=(c_out, c_in, 3, 3))
    close(normalize_weight(c * v, "weight"), normalize_weight(v, "weight"))
    close(normalize_weight(-c * v, "weight"), -normalize_weight(v, "weight"))


@given(shape=dims, seed=seeds, eps=st.sampled_from([0.0, 1e-5, 0.1]))
def test_14_pono_reconstruction_and_per_position_affine_invariance(shape, seed, eps):
    assume(legal("pono", shape))
    x = sample(shape, seed)
    mu = x.mean(axis=1, keepdims=True)
    sigma = np.sqrt(x.var(axis=1, keepdims=True) + eps)
    close(sigma * normalize(x, "pono", eps=eps) + mu, x)
    check_invariance("pono", shape, seed, kept=(0, 2, 3))


@given(shape=dims, seed=seeds)
def test_15_batch_instance_extremes_and_per_channel_affine_invariance(shape, seed):
    assume(legal("batch_instance", shape))
    x = sample(shape, seed)
    close(normalize(x, "batch_instance", rho=1.0), normalize(x, "batch"))
    close(normalize(x, "batch_instance", rho=0.0), normalize(x, "instance"))
    kw = norm_kwargs("batch_instance", shape, seed, interior=True)
    # per-channel ρ: channel c mixes BN and IN with its own ρ_c
    rho = kw["rho"][None, :, None, None]
    close(normalize(x, "batch_instance", **kw),
          rho * normalize(x, "batch") + (1 - rho) * normalize(x, "instance"))
    check_invariance("batch_instance", shape, seed, kept=(1,), kw=kw)


@given(shape=dims, seed=seeds, a=scales, b=shifts)
def test_16_switchable_branches_and_global_affine_invariance_not_per_channel(shape, seed, a, b):
    assume(legal("switchable", shape))
    x = sample(shape, seed)
    for i, branch in enumerate(MIXTURES["switchable"]):
        onehot = np.eye(3)[i]
        close(normalize(x, "switchable", mean_weights=onehot, var_weights=onehot), normalize(x, branch))
    kw = norm_kwargs("switchable", shape, seed, interior=True)
    close(normalize(a * x + b, "switchable", eps=EPS, **kw), normalize(x, "switchable", eps=EPS / a**2, **kw))
    if shape[1] >= 2:  # LN's share is not invariant to a per-channel affine
        check_invariance("switchable", shape, seed, kept=(1,), invariant=False, kw=kw)


@given(shape=dims, seed=seeds, perm_seed=seeds)
def test_19_ghost_batch_norm(shape, seed, perm_seed):
    N = shape[0]
    x = sample(shape, seed)
    if legal("batch", shape):
        close(normalize(x, "ghost_batch", ghost_size=N), normalize(x, "batch"))
    kw = norm_kwargs("ghost_batch", shape, seed)
    assume(legal("ghost_batch", shape, kw))
    g = kw["ghost_size"]
    rng = np.random.default_rng(perm_seed)
    within = np.concatenate([k * g + rng.permutation(g) for k in range(N // g)])
    y = normalize(x, "ghost_batch", **kw)
    close(normalize(x[within], "ghost_batch", **kw), y[within])  # equivariant within a ghost batch
    if 2 <= g < N and g * shape[2] * shape[3] >= 3:
        # swapping two samples of different ghost batches changes their statistics (with g = 1
        # every ghost batch is one sample, IN-like, and a set of 2 always gives ±1)
        across = np.arange(N)
        across[[0, N - 1]] = across[[N - 1, 0]]
        differ(normalize(x[across], "ghost_batch", **kw), y[across])


# --------------------------------------------------------------------------------------------
# pooling_weights: what the cube draws must agree with normalize


@given(shape=dims, seed=seeds, norm=st.sampled_from(ACTIVATION_NORMS), stat=st.sampled_from(["mean", "var"]))
def test_pooling_weights_are_a_distribution_on_the_pooled_set(shape, seed, norm, stat):
    kw = norm_kwargs(norm, shape, seed)
    rng = np.random.default_rng(seed)
    index = tuple(int(rng.integers(d)) for d in shape)
    w = pooling_weights(shape, norm, index, stat=stat, **kw)
    assert w.shape == shape and (w >= 0).all()
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    assert w[index] > 0  # an element is always in its own set
    if norm in PARTITION_NORMS:
        ids = group_ids(shape, norm, **{k: v for k, v in kw.items() if k in ("groups", "ghost_size")})
        same = ids == ids[index]
        assert (w[~same] == 0).all()
        close(w[same], 1.0 / same.sum())  # uniform over the set
    else:  # the documented blend of the branches' uniform weights, from group_ids alone
        ids = [group_ids(shape, k) for k in MIXTURES[norm]]
        uniform = [(i == i[index]) / (i == i[index]).sum() for i in ids]
        if norm == "batch_instance":
            r = kw["rho"][index[1]]
            close(w, r * uniform[0] + (1 - r) * uniform[1])
        else:
            mix = kw["mean_weights" if stat == "mean" else "var_weights"]
            close(w, sum(m * u for m, u in zip(mix, uniform)))


@pytest.mark.parametrize("norm", ACTIVATION_NORMS)
@given(shape=dims, seed=seeds)
def test_pooling_weights_agree_with_normalize(norm, shape, seed):
    """Perturbing an element of zero weight leaves y[index] unchanged; positive weight changes it."""
    kw = norm_kwargs(norm, shape, seed, interior=True)  # ρ in (0, 1), SN weights all > 0
    assume(legal(norm, shape, kw))
    rng = np.random.default_rng(seed)
    x = sample(shape, seed)
    index = tuple(int(rng.integers(d)) for d in shape)
    y = normalize(x, norm, **kw)[index]
    for stat in (("mean", "var") if norm == "switchable" else ("mean",)):
        w = pooling_weights(shape, norm, index, stat=stat, **kw)
        zero, pos = np.argwhere(w == 0), np.argwhere(w > 0)
        for group, changes in ((zero, False), (pos, True)):
            for j in rng.permutation(len(group))[:6]:
                e = tuple(group[j])
                xp = x.copy()
                xp[e] += 1.0 + rng.uniform()
                yp = normalize(xp, norm, **kw)[index]
                if changes:
                    assert abs(yp - y) > 1e-12, f"{norm}: element {e} has weight {w[e]:.3g} but does not matter"
                else:
                    assert yp == y, f"{norm}: element {e} has weight 0 but changed y{index}"


@given(R=st.integers(1, 40), M=st.integers(1, 3000), size=st.integers(1, 2000))
def test_blocks_cover_the_array_once_in_contiguous_pieces(R, M, size):
    from normviz.norms.kernel import _blocks

    seen = np.zeros((R, M), dtype=int)
    for rs, cs in _blocks(R, M, size):
        block = seen[rs, cs]
        assert block.size <= max(size, M) and (block.shape[0] == 1 or block.shape[1] == M)
        block += 1
    assert (seen == 1).all()
