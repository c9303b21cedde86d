"""normviz.norms.torch_modules: the torch modules against the numpy reference, their training details, the factory."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from torch import nn

from normviz.norms import torch_modules as M
from normviz.norms import NORMS, normalize, normalize_eval, normalize_weight

torch.set_num_threads(1)

# Shapes (N, C, H, W) legal for every norm (H·W ≥ 2), including N = 1, C = 1 and W = 1.
SHAPES_2D = [(4, 6, 3, 5), (2, 4, 2, 1), (1, 2, 4, 4), (8, 1, 3, 3)]
SHAPES_1D = [(6, 8), (2, 4), (12, 1)]


def _x(shape, seed=0, loc=0.0):
    rng = np.random.default_rng(seed)
    # A per-channel offset and scale so the statistics differ between the pooled sets.
    C = shape[1]
    off = rng.normal(0, 2, size=(1, C) + (1,) * (len(shape) - 2))
    sc = rng.uniform(0.5, 3, size=(1, C) + (1,) * (len(shape) - 2))
    return loc + off + sc * rng.normal(size=shape)


def _module(key, C, dims, **kw):
    return M.make_norm(key, C, dims=dims, **kw).double()


def _randomize_affine(mod, seed=1):
    """Random γ, β (so the test also checks the affine); returns them as numpy (C,) arrays."""
    g = torch.Generator().manual_seed(seed)
    gamma = beta = None
    with torch.no_grad():
        if getattr(mod, "weight", None) is not None:
            mod.weight.copy_(torch.rand(mod.weight.shape, generator=g, dtype=torch.float64) + 0.5)
            gamma = mod.weight.numpy().copy()
        if getattr(mod, "bias", None) is not None:
            mod.bias.copy_(torch.randn(mod.bias.shape, generator=g, dtype=torch.float64))
            beta = mod.bias.numpy().copy()
    return gamma, beta


def _affine(ref, gamma, beta):
    shape = (1, -1) + (1,) * (ref.ndim - 2)
    if gamma is not None:
        ref = ref * gamma.reshape(shape)
    if beta is not None:
        ref = ref + beta.reshape(shape)
    return ref


def _sgd_step(groups):
    """Plain SGD with weight decay on optimizer-style groups (torch.optim's first import costs seconds)."""
    with torch.no_grad():
        for g in groups:
            for p in g["params"]:
                if p.grad is not None:
                    p -= g["lr"] * (p.grad + g["weight_decay"] * p)


def _run(mod, x):
    return mod(torch.from_numpy(x)).detach().numpy()


# --------------------------------------------------------------------------------------------
# Forward (train mode) equals the numpy reference


PLAIN_2D = ["batch", "layer", "instance", "group", "rms", "pono", "frn", "ghost_batch"]


@pytest.mark.parametrize("shape", SHAPES_2D)
@pytest.mark.parametrize("key", PLAIN_2D)
def test_forward_matches_reference_2d(key, shape):
    N, C, H, W = shape
    groups = 2 if C % 2 == 0 else 1
    ghost = N // 2 if N % 2 == 0 and N >= 2 else N
    kw = {"groups": groups, "ghost_size": ghost}
    opts = {"tlu": False} if key == "frn" else {}
    mod = _module(key, C, 2, **kw, **opts)
    gamma, beta = _randomize_affine(mod)
    x = _x(shape, seed=hash(key) % 1000)
    eps = mod.eps
    ref = normalize(x, key, groups=groups, ghost_size=ghost if key == "ghost_batch" else None, eps=eps)
    np.testing.assert_allclose(_run(mod, x), _affine(ref, gamma, beta), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("shape", SHAPES_1D)
@pytest.mark.parametrize("key", ["batch", "layer", "group", "rms", "ghost_batch"])
def test_forward_matches_reference_1d(key, shape):
    N, C = shape
    groups = 2 if C % 2 == 0 else 1
    ghost = 3 if N % 3 == 0 else N
    mod = _module(key, C, 1, groups=groups, ghost_size=ghost)
    gamma, beta = _randomize_affine(mod)
    x = _x(shape, seed=3)
    ref = normalize(x[:, :, None, None], key, groups=groups, ghost_size=ghost if key == "ghost_batch" else None)
    np.testing.assert_allclose(_run(mod, x), _affine(ref[:, :, 0, 0], gamma, beta), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("shape", SHAPES_2D)
def test_batch_instance_forward_matches_reference(shape):
    C = shape[1]
    mod = _module("batch_instance", C, 2)
    gamma, beta = _randomize_affine(mod)
    rho = np.random.default_rng(5).uniform(0, 1, C)
    with torch.no_grad():
        mod.rho.copy_(torch.from_numpy(rho))
    x = _x(shape, seed=7)
    ref = normalize(x, "batch_instance", rho=rho)
    np.testing.assert_allclose(_run(mod, x), _affine(ref, gamma, beta), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("shape", SHAPES_2D)
def test_switchable_forward_matches_reference(shape):
    mod = _module("switchable", shape[1], 2)
    gamma, beta = _randomize_affine(mod)
    rng = np.random.default_rng(11)
    with torch.no_grad():
        mod.mean_logits.copy_(torch.from_numpy(rng.normal(0, 2, 3)))
        mod.var_logits.copy_(torch.from_numpy(rng.normal(0, 2, 3)))
    wm, wv = mod.mean_weights.numpy(), mod.var_weights.numpy()
    softmax = lambda v: np.exp(v) / np.exp(v).sum()  # noqa: E731
    np.testing.assert_allclose(wm, softmax(mod.mean_logits.detach().numpy()), rtol=1e-12)
    x = _x(shape, seed=13)
    ref = normalize(x, "switchable", mean_weights=wm, var_weights=wv)
    np.testing.assert_allclose(_run(mod, x), _affine(ref, gamma, beta), rtol=1e-10, atol=1e-10)


def test_switchable_starts_at_one_third_and_weights_sum_to_one():
    mod = M.SwitchableNorm(4)
    np.testing.assert_allclose(mod.mean_weights.numpy(), [1 / 3] * 3, rtol=1e-6)
    x = torch.from_numpy(_x((4, 4, 3, 3), seed=2)).float()
    target = torch.randn(4, 4, 3, 3, generator=torch.Generator().manual_seed(0))
    for _ in range(5):
        mod.zero_grad()
        (mod(x) - target).pow(2).mean().backward()
        _sgd_step([{"params": list(mod.parameters()), "lr": 0.5, "weight_decay": 0.0}])
    assert not torch.allclose(mod.mean_weights, torch.full((3,), 1 / 3)), "the logits should have moved"
    for w in (mod.mean_weights, mod.var_weights):
        assert abs(float(w.sum()) - 1) < 1e-6 and bool((w >= 0).all())


def test_switchable_float32_large_mean_stays_accurate():
    # LN/BN variances derived from instance moments must not cancel (mean(σ² + (μ_in − μ)²)).
    x = _x((4, 3, 5, 5), seed=4, loc=1e4)
    mod = M.SwitchableNorm(3)
    out32 = mod(torch.from_numpy(x).float()).detach().numpy()
    ref = normalize(x, "switchable", mean_weights=[1 / 3] * 3, var_weights=[1 / 3] * 3)
    np.testing.assert_allclose(out32, ref, atol=2e-3)


def test_mean_only_batchnorm_centres_without_scaling():
    mod = M.MeanOnlyBatchNorm(5, dims=2).double()
    _, beta = _randomize_affine(mod)
    x = _x((3, 5, 4, 2), seed=8)
    want = x - x.mean(axis=(0, 2, 3), keepdims=True) + beta.reshape(1, -1, 1, 1)
    np.testing.assert_allclose(_run(mod, x), want, rtol=1e-12, atol=1e-12)
    assert mod.weight is None


# --------------------------------------------------------------------------------------------
# Eval mode after k steps equals a hand-computed moving average


def _hand_ema(batches, p=0.1, axes=(0, 2, 3)):
    rm, rv = np.zeros(batches[0].shape[1]), np.ones(batches[0].shape[1])
    for b in batches:
        n = b.size // b.shape[1]
        rm = (1 - p) * rm + p * b.mean(axis=axes)
        rv = (1 - p) * rv + p * b.var(axis=axes) * n / (n - 1)
    return rm, rv


@pytest.mark.parametrize("key", ["batch", "batch_instance", "switchable", "mean_only"])
def test_eval_uses_hand_computed_running_stats(key):
    C, k = 3, 4
    batches = [_x((4, C, 3, 3), seed=20 + i) for i in range(k)]
    mod = _module(key, C, 2)
    mod.train()
    for b in batches:
        mod(torch.from_numpy(b))
    rm, rv = _hand_ema(batches)
    np.testing.assert_allclose(mod.running_mean.numpy(), rm, rtol=1e-12)
    x = _x((2, C, 3, 3), seed=99)
    mod.eval()
    out = _run(mod, x)
    bn_eval = normalize_eval(x, rm, rv)
    if key == "batch":
        want = bn_eval
    elif key == "mean_only":
        want = x - rm.reshape(1, -1, 1, 1)
    elif key == "batch_instance":
        want = bn_eval  # ρ = 1 at init: check the IN branch separately below
        with torch.no_grad():
            mod.rho.fill_(0.25)
        out = _run(mod, x)
        want = 0.25 * bn_eval + 0.75 * normalize(x, "instance")
    else:  # switchable at init: 1/3 each; BN part from the running buffers
        xf = x.reshape(2, C, -1)
        mu_in, var_in = xf.mean(-1), xf.var(-1)
        mu_ln = mu_in.mean(1, keepdims=True)
        var_ln = (var_in + (mu_in - mu_ln) ** 2).mean(1, keepdims=True)
        mu = (mu_in + mu_ln + rm[None]) / 3
        var = (var_in + var_ln + rv[None]) / 3
        want = (x - mu[:, :, None, None]) / np.sqrt(var + 1e-5)[:, :, None, None]
    if key != "mean_only":
        np.testing.assert_allclose(mod.running_var.numpy(), rv, rtol=1e-12)
    np.testing.assert_allclose(out, want, rtol=1e-10, atol=1e-10)


def test_ghost_batchnorm_running_stats_average_the_ghost_batches():
    C, g = 2, 2
    batches = [_x((6, C, 2, 3), seed=40 + i) for i in range(3)]
    mod = _module("ghost_batch", C, 2, ghost_size=g)
    for b in batches:
        mod(torch.from_numpy(b))
    rm, rv = np.zeros(C), np.ones(C)
    for b in batches:
        chunks = b.reshape(3, g, C, 2, 3)
        n = g * 6
        rm = 0.9 * rm + 0.1 * chunks.mean(axis=(1, 3, 4)).mean(0)
        rv = 0.9 * rv + 0.1 * (chunks.var(axis=(1, 3, 4)) * n / (n - 1)).mean(0)
    np.testing.assert_allclose(mod.running_mean.numpy(), rm, rtol=1e-12)
    np.testing.assert_allclose(mod.running_var.numpy(), rv, rtol=1e-12)
    mod.eval()
    x = _x((3, C, 2, 3), seed=1)
    np.testing.assert_allclose(_run(mod, x), normalize_eval(x, rm, rv), rtol=1e-10, atol=1e-10)


def test_ghost_batchnorm_equals_batchnorm_at_full_size_and_merges_remainder():
    x = _x((6, 3, 2, 2), seed=6)
    ghost = _module("ghost_batch", 3, 2, ghost_size=6)
    bn = _module("batch", 3, 2)
    np.testing.assert_allclose(_run(ghost, x), _run(bn, x), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ghost.running_var.numpy(), bn.running_var.numpy(), rtol=1e-12)
    # N = 7, ghost_size 3: ghost batches of 3 and 4 (the remainder joins the last one).
    x7 = _x((7, 3, 2, 2), seed=7)
    mod = _module("ghost_batch", 3, 2, ghost_size=3)
    out = _run(mod, x7)
    np.testing.assert_allclose(out[:3], normalize(x7[:3], "batch"), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(out[3:], normalize(x7[3:], "batch"), rtol=1e-10, atol=1e-10)
    means = [x7[:3].mean(axis=(0, 2, 3)), x7[3:].mean(axis=(0, 2, 3))]
    np.testing.assert_allclose(mod.running_mean.numpy(), 0.1 * (means[0] + means[1]) / 2, rtol=1e-12)


# --------------------------------------------------------------------------------------------
# Batch-Instance Norm: gradient of ρ and clipping


def test_bin_rho_gradient_equals_closed_form():
    C = 4
    mod = _module("batch_instance", C, 2)
    gamma, _ = _randomize_affine(mod)
    rng = np.random.default_rng(3)
    with torch.no_grad():
        mod.rho.copy_(torch.from_numpy(rng.uniform(0, 1, C)))
    x = _x((3, C, 3, 4), seed=12)
    g = rng.normal(size=x.shape)  # ∂L/∂y
    y = mod(torch.from_numpy(x))
    (y * torch.from_numpy(g)).sum().backward()
    x_bn, x_in = normalize(x, "batch"), normalize(x, "instance")
    want = (gamma.reshape(1, -1, 1, 1) * (x_bn - x_in) * g).sum(axis=(0, 2, 3))
    np.testing.assert_allclose(mod.rho.grad.numpy(), want, rtol=1e-9, atol=1e-12)


def test_bin_rho_stays_in_unit_interval_with_huge_lr():
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), M.BatchInstanceNorm(4), nn.ReLU(),
                          nn.Conv2d(4, 4, 3, padding=1), M.BatchInstanceNorm(4))
    # A sane lr for the weights and a huge one for ρ, so ρ overshoots but nothing diverges.
    groups = M.optimizer_param_groups(model, lr=0.01, weight_decay=1e-4, gate_lr_scale=1e5)
    assert groups[1]["lr"] == pytest.approx(1e3) and groups[1]["weight_decay"] == 0
    assert groups[0]["weight_decay"] == 1e-4
    assert [id(p) for p in groups[1]["params"]] == [id(p) for p in M.gate_parameters(model)]
    torch.manual_seed(0)
    left_one = False
    for step in range(6):
        x = torch.randn(4, 2, 5, 5)
        model.zero_grad()
        model(x).pow(2).mean().backward()
        _sgd_step(groups)
        raw = torch.cat([p.detach().clone() for p in M.gate_parameters(model)])
        M.clip_gates(model)
        rho = torch.cat([p.detach() for p in M.gate_parameters(model)])
        left_one |= bool(((raw < 0) | (raw > 1)).any())
        assert bool((rho >= 0).all() and (rho <= 1).all()), f"step {step}: ρ = {rho}"
    assert left_one, "the huge lr should have pushed ρ out of [0, 1] before clipping"


def test_gate_helpers_and_norm_gates():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), M.BatchInstanceNorm(4), nn.Conv2d(4, 4, 1), M.SwitchableNorm(4))
    names = [n for n, _ in model.named_parameters() if M.is_gate_param(n)]
    assert names == ["1.rho"]
    assert not M.is_gate_param("3.mean_logits") and not M.is_gate_param("0.weight")
    assert len(M.gate_parameters(model)) == 1
    gates = M.norm_gates(model)
    assert gates["1"] == {"rho": [1.0] * 4}
    assert set(gates["3"]) == {"mean_weights", "var_weights"}
    assert abs(sum(gates["3"]["var_weights"]) - 1) < 1e-6


# --------------------------------------------------------------------------------------------
# Batch Renorm


def test_batch_renorm_with_r1_d0_equals_batchnorm():
    x = _x((5, 3, 2, 2), seed=21)
    brn = _module("batch_renorm", 3, 2, r_max=1.0, d_max=0.0)
    _randomize_affine(brn, seed=4)
    bn = _module("batch", 3, 2)
    _randomize_affine(bn, seed=4)
    for _ in range(3):  # also after the running statistics moved away from the batch's
        np.testing.assert_allclose(_run(brn, x), _run(bn, x), rtol=1e-10, atol=1e-10)
        x = x * 1.5 + 0.3


def test_batch_renorm_train_equals_eval_when_running_stats_are_batch_stats():
    x = _x((6, 3, 3, 2), seed=22)
    brn = _module("batch_renorm", 3, 2, r_max=3.0, d_max=5.0)
    _randomize_affine(brn)
    with torch.no_grad():
        brn.running_mean.copy_(torch.from_numpy(x.mean(axis=(0, 2, 3))))
        brn.running_std.copy_(torch.from_numpy(np.sqrt(x.var(axis=(0, 2, 3)) + brn.eps)))
    train_out = _run(brn, x)
    brn.eval()
    np.testing.assert_allclose(train_out, _run(brn, x), rtol=1e-10, atol=1e-10)


def test_batch_renorm_corrects_and_tracks_std_with_stop_gradient():
    x = _x((6, 2, 2, 2), seed=23)
    brn = _module("batch_renorm", 2, 2, r_max=3.0, d_max=5.0, momentum=0.2)
    xt = torch.from_numpy(x).requires_grad_(True)
    y = brn(xt)
    mu, sd = x.mean(axis=(0, 2, 3)), np.sqrt(x.var(axis=(0, 2, 3)) + 1e-5)
    r, d = np.clip(sd / 1.0, 1 / 3, 3), np.clip(mu / 1.0, -5, 5)
    v = lambda a: a.reshape(1, -1, 1, 1)  # noqa: E731
    np.testing.assert_allclose(y.detach().numpy(), normalize(x, "batch") * v(r) + v(d), rtol=1e-10)
    np.testing.assert_allclose(brn.running_mean.numpy(), 0.2 * mu, rtol=1e-12)
    np.testing.assert_allclose(brn.running_std.numpy(), 0.8 + 0.2 * sd, rtol=1e-12)
    # r, d are constants for autograd: the gradient is BN's gradient scaled by r.
    g = np.random.default_rng(0).normal(size=x.shape)
    (y * torch.from_numpy(g)).sum().backward()
    xb = torch.from_numpy(x).requires_grad_(True)
    (M.BatchNorm(2).double()(xb) * torch.from_numpy(g * v(r))).sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), xb.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_renorm_warmup_follows_the_papers_schedule():
    w = M.RenormWarmup.paper()
    assert w.bounds(0) == w.bounds(5000) == (1.0, 0.0)       # BN during the hold
    r, d = w.bounds(25000)
    assert d == 5.0 and r == pytest.approx(1 + 2 * 20000 / 35000)  # d_max full at 25k, r_max on its way
    assert w.bounds(40000) == w.bounds(10**6) == (3.0, 5.0)
    rs, ds = zip(*(w.bounds(t) for t in range(0, 45000, 500)))
    assert list(rs) == sorted(rs) and list(ds) == sorted(ds)  # never tightens again
    s = M.RenormWarmup.scaled(3000)
    assert (s.hold, s.d_end, s.r_end) == (188, 938, 1500)  # 1/16, 5/16, 1/2 of the run
    with pytest.raises(ValueError, match="hold < r_end"):
        M.RenormWarmup(hold=10, r_end=5, d_end=20)


def test_batch_renorm_under_warmup_is_batchnorm_until_the_hold_ends():
    """With wrong running statistics, a warm-up module equals BN during the hold, then corrects."""
    x = _x((5, 3, 2, 2), seed=24) * 3 + 2  # far from the initial running μ = 0, σ = 1
    brn = _module("batch_renorm", 3, 2, r_max=3.0, d_max=5.0)
    brn.warmup = M.RenormWarmup(hold=2, r_end=4, d_end=3)
    bn = _module("batch", 3, 2)
    outs = [(_run(brn, x), _run(bn, x), brn.learned()) for _ in range(5)]
    for i in (0, 1):
        np.testing.assert_allclose(outs[i][0], outs[i][1], rtol=1e-10, atol=1e-10)
        assert outs[i][2] == {"Batch Renorm r_max": 1.0, "Batch Renorm d_max": 0.0}
    assert np.abs(outs[3][0] - outs[3][1]).max() > 1e-3  # step 3: d_max = 5, r_max = 2: corrected
    assert int(brn.num_batches_tracked) == 5 and brn.bounds() == (3.0, 5.0)


# --------------------------------------------------------------------------------------------
# Weight Norm and Weight Standardization


@pytest.mark.parametrize("make", [lambda: nn.Linear(5, 3), lambda: nn.Conv2d(2, 3, 3)])
def test_weight_norm_wrapper(make):
    torch.manual_seed(0)
    layer = make().double()
    x = torch.randn(4, 5, dtype=torch.float64) if isinstance(layer, nn.Linear) else torch.randn(4, 2, 5, 5, dtype=torch.float64)
    before = layer(x).detach()
    wn = M.WeightNorm(layer)
    torch.testing.assert_close(wn(x).detach(), before, rtol=1e-12, atol=1e-12)
    with torch.no_grad():
        wn.v.mul_(3.7)
    torch.testing.assert_close(wn(x).detach(), before, rtol=1e-12, atol=1e-12)
    wn(x).pow(2).sum().backward()
    dots = (wn.v.grad * wn.v).flatten(1).sum(1)
    scale = (wn.v.grad.flatten(1).norm(dim=1) * wn.v.flatten(1).norm(dim=1))
    assert bool((dots.abs() <= 1e-12 * scale + 1e-15).all()), dots
    # with g = 1 the weight is the numpy reference v/‖v‖
    with torch.no_grad():
        wn.g.fill_(1.0)
    np.testing.assert_allclose(wn.layer.weight.detach().numpy(), normalize_weight(wn.v.detach().numpy(), "weight"), rtol=1e-12)


def test_weight_standardization_wrapper():
    torch.manual_seed(1)
    conv = nn.Conv2d(3, 5, 3).double()
    with torch.no_grad():
        conv.weight.mul_(torch.rand(5, 1, 1, 1, dtype=torch.float64) * 0.1 + 0.001).add_(0.2)
    ws = M.WeightStandardization(conv, eps=1e-5)
    w_hat = ws.standardized_weight().detach().flatten(1)
    sigma = conv.weight.detach().flatten(1).std(1)
    torch.testing.assert_close(w_hat.mean(1), torch.zeros(5, dtype=torch.float64), atol=1e-12, rtol=0)
    torch.testing.assert_close(w_hat.std(1), sigma / (sigma + 1e-5), rtol=1e-12, atol=0)
    np.testing.assert_allclose(ws.standardized_weight().detach().numpy(),
                               normalize_weight(conv.weight.detach().numpy(), "weight_standardization"), rtol=1e-10)
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64)
    want = nn.functional.conv2d(x, ws.standardized_weight(), conv.bias)
    torch.testing.assert_close(ws(x), want)
    ws(x).sum().backward()
    assert conv.weight.grad is not None and torch.isfinite(conv.weight.grad).all()


# --------------------------------------------------------------------------------------------
# The factory


def _layer(dims):
    return nn.Linear(5, 8) if dims == 1 else nn.Conv2d(3, 8, 3, padding=1)


@pytest.mark.parametrize("dims", [1, 2])
def test_factory_builds_every_available_key_and_trains(dims):
    keys = M.available_norms(dims)
    assert keys[0] == "none" and set(M.COMPOSITES) <= set(keys)
    assert ("instance" in keys) == (dims == 2)
    torch.manual_seed(0)
    for key in keys:
        layer, norm = M.normed_layer(key, _layer(dims), 8, dims=dims, groups=4, ghost_size=3)
        model = nn.Sequential(layer, norm, nn.ReLU())
        x = torch.randn(6, 5) if dims == 1 else torch.randn(6, 3, 4, 4)
        model(x).sum().backward()
        grads = [p.grad for p in model.parameters() if p.requires_grad]
        assert grads and all(g is not None and torch.isfinite(g).all() for g in grads), key
        model.eval()
        assert torch.isfinite(model(x)).all(), key


def test_factory_types_for_keys_and_composites():
    cases = {
        "none": (nn.Conv2d, nn.Identity), "weight": (M.WeightNorm, nn.Identity),
        "weight+mean_only": (M.WeightNorm, M.MeanOnlyBatchNorm),
        "weight_standardization+group": (M.WeightStandardization, M.GroupNorm),
        "weight_standardization+batch": (M.WeightStandardization, M.BatchNorm),
        "weight_standardization": (M.WeightStandardization, nn.Identity),
    }
    for key, (lt, nt) in cases.items():
        layer, norm = M.normed_layer(key, _layer(2), 8, dims=2)
        assert isinstance(layer, lt) and type(norm) is nt, key
    for key, spec in NORMS.items():
        if spec.kind != "weight":
            _, norm = M.normed_layer(key, _layer(2), 8, dims=2)
            assert type(norm).__name__ == spec.module, key
    assert M.make_norm("group", 8, dims=2, groups=4).groups == 4
    assert M.make_norm("ghost_batch", 8, dims=1, ghost_size=5).ghost_size == 5
    assert M.make_norm("batch_renorm", 8, dims=1, r_max=2.0).r_max == 2.0


def test_weight_norm_plus_mean_only_is_centred_per_unit():
    torch.manual_seed(2)
    layer, norm = M.normed_layer("weight+mean_only", nn.Linear(5, 4), 4, dims=1)
    y = norm(layer(torch.randn(16, 5) * 3 + 2))
    torch.testing.assert_close(y.mean(0), norm.bias.detach().expand(4), atol=1e-5, rtol=0)


def test_registry_modules_exist():
    for spec in NORMS.values():
        assert spec.module and hasattr(M, spec.module), spec.key


def test_import_normviz_does_not_import_torch():
    code = "import sys, normviz; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------------------------
# Errors a student can act on


@pytest.mark.parametrize("call, match", [
    (lambda: M.make_norm("batchnorm", 4, dims=2), r"Unknown norm 'batchnorm' for dims=2\. Valid options: none, batch"),
    (lambda: M.normed_layer("weight+weight_standardization", nn.Linear(3, 4), 4, dims=1), r"at most one of each"),
    (lambda: M.normed_layer("batch+layer", nn.Linear(3, 4), 4, dims=1), r"at most one of each"),
    (lambda: M.normed_layer("weight+nope", nn.Linear(3, 4), 4, dims=1), r"Unknown norm 'weight\+nope'"),
    (lambda: M.normed_layer("none+batch", nn.Linear(3, 4), 4, dims=1), r"Unknown norm 'none\+batch'"),
    (lambda: M.normed_layer("instance", nn.Linear(3, 4), 4, dims=1), r"InstanceNorm needs spatial positions"),
    (lambda: M.normed_layer("weight+switchable", nn.Linear(3, 4), 4, dims=1), r"Switchable Norm .* needs spatial"),
    (lambda: M.make_norm("pono", 4, dims=1), r"exactly LayerNorm: use 'layer'"),
    (lambda: M.make_norm("weight", 4, dims=2), r"use normed_layer\('weight'"),
    (lambda: M.make_norm("group", 6, dims=2, groups=4), r"GroupNorm needs C divisible by G: C=6, G=4; try G in 1, 2, 3, 6"),
    (lambda: M.make_norm("batch", 4, dims=3), r"dims must be 1 .* or 2"),
    (lambda: M.make_norm("batch", 4, dims=2, bogus=1), r"does not accept these options: \['bogus'\]"),
    (lambda: M.make_norm("batch_renorm", 4, dims=2, r_max=0.5), r"r_max ≥ 1"),
    (lambda: M.make_norm("ghost_batch", 4, dims=2, ghost_size=0), r"ghost_size must be a whole number ≥ 1"),
    (lambda: M.WeightNorm(nn.ReLU()), r"wraps a nn.Linear or nn.Conv2d layer, got ReLU"),
    (lambda: M.WeightStandardization(nn.Linear(1, 3)), r"at least 2 weights per output filter"),
    (lambda: M.LayerNorm(4, dims=2)(torch.randn(2, 4)), r"expects N×C×H×W input with C=4, got shape \(2, 4\)"),
    (lambda: M.BatchNorm(4, dims=1)(torch.randn(1, 4)), r"more than 1 value per channel, but N·H·W = 1·1·1 = 1"),
    (lambda: M.BatchInstanceNorm(4)(torch.randn(3, 4, 1, 1)), r"Batch-Instance Norm needs more than 1 spatial element"),
    (lambda: M.SwitchableNorm(4)(torch.randn(3, 4, 1, 1)), r"Switchable Norm needs more than 1 spatial element"),
])
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --------------------------------------------------------------------------------------------
# Property: any legal shape, any activation key, train-mode forward equals the reference


@given(N=st.integers(1, 5), C=st.sampled_from([1, 2, 3, 4, 6]), H=st.integers(1, 4), W=st.integers(1, 4),
       key=st.sampled_from(["batch", "layer", "instance", "group", "batch_instance", "switchable", "rms",
                            "ghost_batch", "pono", "frn"]),
       seed=st.integers(0, 2**16))
def test_property_forward_matches_reference(N, C, H, W, key, seed):
    # Illegal shapes raise (tested above): IN-type norms need H·W ≥ 2, BN-type N·H·W ≥ 2.
    assume(not (key in ("instance", "batch_instance", "switchable") and H * W == 1))
    assume(not (key in ("batch", "batch_instance", "switchable") and N * H * W == 1))
    rng = np.random.default_rng(seed)
    x = _x((N, C, H, W), seed=seed)
    groups = max(d for d in (1, 2, 3) if C % d == 0)
    ghost = max(d for d in range(1, N + 1) if N % d == 0 and (d * H * W > 1 or d == N))
    assume(not (key == "ghost_batch" and ghost * H * W == 1))
    mod = _module(key, C, 2, groups=groups, ghost_size=ghost, **({"tlu": False} if key == "frn" else {}))
    kw = {}
    if key == "batch_instance":
        kw["rho"] = rng.uniform(0, 1, C)
        with torch.no_grad():
            mod.rho.copy_(torch.from_numpy(kw["rho"]))
    if key == "switchable":
        with torch.no_grad():
            mod.mean_logits.copy_(torch.from_numpy(rng.normal(0, 2, 3)))
            mod.var_logits.copy_(torch.from_numpy(rng.normal(0, 2, 3)))
        kw = {"mean_weights": mod.mean_weights.numpy(), "var_weights": mod.var_weights.numpy()}
    ref = normalize(x, key, groups=groups, ghost_size=ghost if key == "ghost_batch" else None, eps=mod.eps, **kw)
    np.testing.assert_allclose(_run(mod, x), ref, rtol=1e-9, atol=1e-9)
