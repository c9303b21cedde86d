"""Every error path of the norm library raises ValueError with a sentence a student understands.

One table of (call, expected message); ``match`` is a regex on the stable part of the message.
A second table asserts torch's raw messages for the same mistakes (norm-spec §8.4), so that a
torch upgrade that changes them is noticed.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from normviz.norms import (
    NORMS,
    RunningStats,
    get_spec,
    group_ids,
    keras_to_torch_momentum,
    normalize,
    normalize_eval,
    normalize_weight,
    pooling_weights,
    statistics,
    update_running,
)


def arr(*shape, fill=None):
    x = np.random.default_rng(0).standard_normal(shape)
    if fill is not None:
        x.flat[0] = fill
    return x


X = arr(2, 6, 3, 3)
SN = {"mean_weights": [0.2, 0.3, 0.5], "var_weights": [0.5, 0.3, 0.2]}

ALL_KEYS = ", ".join(NORMS)

CASES = [
    # GroupNorm
    ("gn C % G", lambda: normalize(X, "group", groups=4),
     re.escape("GroupNorm needs C divisible by G: C=6, G=4; try G in 1, 2, 3, 6")),
    ("gn C % G, C=12", lambda: normalize(arr(1, 12, 2, 2), "group", groups=5),
     re.escape("GroupNorm needs C divisible by G: C=12, G=5; try G in 1, 2, 3, 4, 6, 12")),
    ("gn G = 0", lambda: normalize(X, "group", groups=0), r"groups must be a positive whole number, got G=0"),
    ("gn G float", lambda: normalize(X, "group", groups=1.5), r"groups must be a positive whole number, got G=1\.5"),
    ("gn G bool", lambda: normalize(X, "group", groups=True), r"groups must be a positive whole number"),
    ("gn ids C % G", lambda: group_ids((2, 6, 3, 3), "group", groups=4), r"GroupNorm needs C divisible by G: C=6, G=4"),
    ("gn weights C % G", lambda: pooling_weights((2, 6, 3, 3), "group", (0, 0, 0, 0), groups=4),
     r"GroupNorm needs C divisible by G"),
    ("gn stats C % G", lambda: statistics(X, "group", groups=4), r"GroupNorm needs C divisible by G"),
    # BatchNorm with one value per channel
    ("bn N·H·W=1", lambda: normalize(arr(1, 3, 1, 1), "batch"),
     r"BatchNorm in training mode needs more than 1 value per channel, but N·H·W = 1·1·1 = 1 \(shape \(1, 3, 1, 1\)\).*eval mode"),
    ("bin N·H·W=1", lambda: normalize(arr(1, 3, 1, 1), "batch_instance", rho=0.5),
     r"Batch-Instance Norm in training mode needs more than 1 value per channel"),
    ("sn N·H·W=1", lambda: normalize(arr(1, 3, 1, 1), "switchable", **SN),
     r"Switchable Norm in training mode needs more than 1 value per channel"),
    ("running N·H·W=1", lambda: update_running(RunningStats.initial(3), arr(1, 3, 1, 1)),
     r"needs more than 1 value per channel, but N·H·W = 1·1·1 = 1"),
    ("bn stats N·H·W=1", lambda: statistics(arr(1, 3, 1, 1), "batch"), r"needs more than 1 value per channel"),
    # InstanceNorm with one spatial element
    ("in H·W=1", lambda: normalize(arr(4, 3, 1, 1), "instance"),
     r"InstanceNorm needs more than 1 spatial element per \(n, c\), but H·W = 1·1 = 1 \(shape \(4, 3, 1, 1\)\).*LayerNorm/GroupNorm"),
    ("bin H·W=1", lambda: normalize(arr(4, 3, 1, 1), "batch_instance", rho=0.5),
     r"Batch-Instance Norm needs more than 1 spatial element"),
    ("sn H·W=1", lambda: normalize(arr(4, 3, 1, 1), "switchable", **SN), r"Switchable Norm needs more than 1 spatial element"),
    # wrong ndim
    ("ndim 3", lambda: normalize(arr(3, 4, 4), "layer"),
     r"x must be a 4-D array laid out as N×C×H×W, but it has 3 dimension\(s\) with shape \(3, 4, 4\)\. Reshape it, e\.g\. x\.reshape\(1, 1, \*x\.shape\)"),
    ("ndim 5", lambda: normalize(arr(1, 2, 3, 4, 5), "layer"),
     r"x must be a 4-D array laid out as N×C×H×W, but it has 5 dimensions with shape \(1, 2, 3, 4, 5\)\.$"),
    ("ndim 0", lambda: normalize(3.0, "batch"), r"x must be a 4-D array .* 0 dimension\(s\)"),
    ("weight ndim 3", lambda: normalize_weight(arr(2, 3, 3), "weight"),
     r"A weight tensor must be C_out×C_in \(linear\) or C_out×C_in×k×k \(conv\), got shape \(2, 3, 3\)"),
    ("eval ndim", lambda: normalize_eval(arr(3, 4), np.zeros(3), np.ones(3)), r"x must be a 4-D array"),
    ("shape ndim", lambda: group_ids((2, 3, 4), "batch"), r"shape must be \(N, C, H, W\) with every axis ≥ 1, got \(2, 3, 4\)"),
    # non-finite / non-numeric / empty input
    ("nan", lambda: normalize(arr(2, 3, 4, 4, fill=np.nan), "batch"),
     r"x contains 1 non-finite value\(s\) \(NaN or ±inf\).*np\.nan_to_num\(x\)"),
    ("inf", lambda: normalize(arr(2, 3, 4, 4, fill=np.inf), "layer"), r"x contains 1 non-finite value"),
    ("nan weight", lambda: normalize_weight(arr(2, 3, 1, 1, fill=np.nan), "weight"), r"w contains 1 non-finite value"),
    ("strings", lambda: normalize(np.full((1, 1, 2, 2), "a"), "layer"), r"x must hold numbers, not <U1"),
    ("empty", lambda: normalize(np.zeros((0, 3, 2, 2)), "layer"), r"x is empty \(shape \(0, 3, 2, 2\)\)"),
    ("eps negative", lambda: normalize(X, "layer", eps=-1.0), r"eps must be a finite number ≥ 0, got eps=-1\.0"),
    ("eps nan", lambda: normalize(X, "layer", eps=float("nan")), r"eps must be a finite number ≥ 0"),
    # unknown key lists the valid ones
    ("unknown", lambda: normalize(X, "batchnorm"), re.escape(f"Unknown norm 'batchnorm'. Valid keys: {ALL_KEYS}.")),
    ("unknown spec", lambda: get_spec("BN"), re.escape(f"Unknown norm 'BN'. Valid keys: {ALL_KEYS}.")),
    ("unhashable key", lambda: get_spec(["batch"]), r"Unknown norm \['batch'\]\. Valid keys: batch, layer"),
    ("unknown weight", lambda: normalize_weight(arr(2, 3), "wn"), r"Unknown norm 'wn'"),
    # weight-side key to normalize, activation key to normalize_weight
    ("weight key", lambda: normalize(X, "weight"),
     re.escape("Weight Norm ('weight') normalizes a layer's weights, not activations: use "
               "normviz.norms.normalize_weight(w, 'weight')")),
    ("ws key", lambda: normalize(X, "weight_standardization"),
     r"Weight Standardization \('weight_standardization'\) normalizes a layer's weights.*normalize_weight\(w, 'weight_standardization'\)"),
    ("activation to weight", lambda: normalize_weight(arr(2, 3), "batch"),
     r"BatchNorm \('batch'\) normalizes activations, not weights: use normviz\.norms\.normalize\(x, 'batch'\).*Weight-side keys: weight, weight_standardization"),
    # Batch Renorm's running statistics and clip bounds
    ("renorm r_max", lambda: normalize(X, "batch_renorm", r_max=0.5),
     r"r_max must be ≥ 1 \(r = σ_B/σ is clipped to \[1/r_max, r_max\]; 1 = BN\), got \[0\.5"),
    ("renorm d_max", lambda: normalize(X, "batch_renorm", d_max=-1), r"d_max must be ≥ 0"),
    ("renorm sigma", lambda: normalize(X, "batch_renorm", running_std=0.0), r"running_std must be > 0"),
    ("renorm channels", lambda: normalize(X, "batch_renorm", running_mean=[0.0, 1.0]),
     r"running_mean must be a finite number or one per channel \(C=6\)"),
    ("unknown parameter", lambda: normalize(X, "layer", alpha=2.0), r"LayerNorm takes no parameter alpha; its parameters: none"),
    # rho
    ("rho > 1", lambda: normalize(X, "batch_instance", rho=1.5), r"rho must lie in \[0, 1\] .* got \[1\.5(, 1\.5)*\]"),
    ("rho < 0", lambda: normalize(X, "batch_instance", rho=[0.5] * 5 + [-0.1]), r"rho must lie in \[0, 1\].*-0\.1"),
    ("rho nan", lambda: normalize(X, "batch_instance", rho=np.nan), r"rho must lie in \[0, 1\]"),
    ("rho length", lambda: normalize(X, "batch_instance", rho=[0.5, 0.5]),
     r"rho must be a scalar or have one value per channel \(C=6\), got 2 values"),
    ("rho pooling", lambda: pooling_weights((2, 6, 3, 3), "batch_instance", (0, 0, 0, 0), rho=2), r"rho must lie in \[0, 1\]"),
    # Switchable weights
    ("sn length", lambda: normalize(X, "switchable", mean_weights=[0.5, 0.5], var_weights=[1, 0, 0]),
     r"mean_weights needs 3 weights \(instance, layer, batch\), got 2"),
    ("sn sum", lambda: normalize(X, "switchable", mean_weights=[0.5, 0.5, 0.5], var_weights=[1, 0, 0]),
     r"mean_weights must be probabilities \(≥ 0, summing to 1\), got \[0\.5, 0\.5, 0\.5\] \(sum 1\.5\)\. Pass softmax"),
    ("sn negative", lambda: normalize(X, "switchable", mean_weights=[1, 0, 0], var_weights=[1.5, -0.5, 0]),
     r"var_weights must be probabilities"),
    ("sn pooling var", lambda: pooling_weights((2, 6, 3, 3), "switchable", (0, 0, 0, 0), mean_weights=[1, 0, 0],
                                               var_weights=[2, 0, 0], stat="var"), r"var_weights must be probabilities"),
    # ghost size
    ("ghost zero", lambda: normalize(arr(6, 2, 2, 2), "ghost_batch", ghost_size=0),
     re.escape("Ghost BatchNorm needs a ghost_size that divides the batch size N=6, got 0; try one of 1, 2, 3, 6.")),
    ("ghost not dividing", lambda: normalize(arr(6, 2, 2, 2), "ghost_batch", ghost_size=4),
     re.escape("Ghost BatchNorm needs a ghost_size that divides the batch size N=6, got 4; try one of 1, 2, 3, 6.")),
    ("ghost 1 value", lambda: normalize(arr(4, 2, 1, 1), "ghost_batch", ghost_size=1),
     r"Ghost BatchNorm \(ghost_size=1\) in training mode needs more than 1 value per channel"),
    ("ghost ids", lambda: group_ids((6, 2, 2, 2), "ghost_batch", ghost_size=4), r"ghost_size must divide N=6, got 4"),
    # weight norms
    ("wn zero row", lambda: normalize_weight(np.array([[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]), "weight"),
     re.escape("Weight Norm divides by ‖v‖, but output unit(s) [1] have an all-zero weight vector (‖v‖ = 0). Initialize v randomly.")),
    ("ws one weight", lambda: normalize_weight(arr(3, 1, 1, 1), "weight_standardization"),
     r"Weight Standardization needs at least 2 weights per output filter"),
    # the rest of the API
    ("pooling index", lambda: pooling_weights((2, 3, 4, 4), "batch", (2, 0, 0, 0)),
     r"index \(2, 0, 0, 0\) is outside the tensor of shape \(2, 3, 4, 4\)"),
    ("pooling stat", lambda: pooling_weights((2, 3, 4, 4), "batch", (0, 0, 0, 0), stat="std"),
     r"stat must be 'mean' or 'var', got 'std'"),
    ("ids mixture", lambda: group_ids((2, 3, 4, 4), "switchable"),
     r"Switchable Norm mixes several sets \(instance, layer, batch\).*use pooling_weights\(\)"),
    ("stats mixture", lambda: statistics(X, "batch_instance"),
     r"Batch-Instance Norm mixes the statistics of batch, instance; call statistics\(\) for each"),
    ("keras momentum", lambda: keras_to_torch_momentum(1.5), r"Keras momentum must lie in \[0, 1\], got 1\.5"),
    ("eval channels", lambda: normalize_eval(X, np.zeros(4), np.ones(4)),
     r"running statistics are for 4 channel\(s\) but the input has C=6"),
    ("eval one channel", lambda: normalize_eval(X, np.zeros(1), np.ones(6)),
     r"running statistics are for 1 channel\(s\) but the input has C=6"),
]


@pytest.mark.parametrize("call, match", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_message(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_every_weight_key_passed_to_normalize_says_where_to_go():
    """A weight norm's key passed to normalize() names normalize_weight instead."""
    for key, spec in NORMS.items():
        if spec.is_weight:
            with pytest.raises(ValueError, match=r"normalize_weight"):
                normalize(X, key)


def test_parameters_default_to_the_registry_values():
    """A norm's parameters may be left out: normalize uses the registry's defaults."""
    for key, spec in NORMS.items():
        if spec.is_weight or not spec.params:
            continue
        np.testing.assert_array_equal(normalize(X, key), normalize(X, key, **spec.defaults()))


# --------------------------------------------------------------------------------------------
# torch's raw messages for the same mistakes (norm-spec §4, §8.4)



def t(*shape):
    return torch.from_numpy(arr(*shape))


TORCH_CASES = [
    ("gn functional C % G", lambda: F.group_norm(t(2, 6, 3, 3), 4), RuntimeError,
     r"Expected number of channels in input to be divisible by num_groups, but got input of shape \[2, 6, 3, 3\] and num_groups=4"),
    ("gn module C % G", lambda: torch.nn.GroupNorm(4, 6), ValueError,
     r"num_channels \(6\) must be divisible by num_groups \(4\)"),
    ("bn N·H·W=1", lambda: F.batch_norm(t(1, 3, 1, 1), None, None, training=True), ValueError,
     r"Expected more than 1 value per channel when training, got input size torch\.Size\(\[1, 3, 1, 1\]\)"),
    ("in H·W=1", lambda: F.instance_norm(t(4, 3, 1, 1)), ValueError,
     r"Expected more than 1 spatial element when training, got input size torch\.Size\(\[4, 3, 1, 1\]\)"),
    ("bn eps 0", lambda: F.batch_norm(t(2, 3, 2, 2), None, None, training=True, eps=0.0), ValueError,
     r"batch_norm eps must be positive during training, but got 0\.0"),
    ("bn module ndim", lambda: torch.nn.BatchNorm2d(3)(t(3, 4, 4)), ValueError, r"expected 4D input \(got 3D input\)"),
    ("ln shape", lambda: F.layer_norm(t(2, 3, 4, 4), (3, 4, 5)), RuntimeError,
     r"Given normalized_shape=\[3, 4, 5\], expected input with shape \[\*, 3, 4, 5\]"),
]


@pytest.mark.parametrize("call, exc, match", [c[1:] for c in TORCH_CASES], ids=[c[0] for c in TORCH_CASES])
def test_torch_raw_message(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_torch_propagates_nan_where_normviz_refuses():
    x = arr(2, 3, 4, 4, fill=np.nan)
    y = F.batch_norm(torch.from_numpy(x), None, None, training=True).numpy()
    assert np.isnan(y[:, 0]).all() and np.isfinite(y[:, 1:]).all()  # the whole channel is poisoned
    with pytest.raises(ValueError, match="non-finite"):
        normalize(x, "batch")


def test_torch_weight_norm_of_zero_row_is_nan_where_normviz_refuses():
    lin = torch.nn.Linear(2, 2).double()
    with torch.no_grad():
        lin.weight[1] = 0
    v = lin.weight.detach().numpy().copy()
    wn = torch.nn.utils.parametrizations.weight_norm(lin)
    assert torch.isnan(wn.weight[1]).all()
    with pytest.raises(ValueError, match=r"output unit\(s\) \[1\]"):
        normalize_weight(v, "weight")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm", [k for k, s in NORMS.items() if s.kind == "activation"])
def test_every_activation_norm_refuses_non_finite_input(norm, dtype, bad):
    """normalize finds NaN/inf from the moments instead of a separate scan: check every key."""
    kw = {"batch_instance": {"rho": 0.5}, "switchable": SN, "ghost_batch": {"ghost_size": 1}}.get(norm, {})
    x = arr(2, 6, 3, 3).astype(dtype)
    x[1, 4, 2, 1] = bad
    with pytest.raises(ValueError, match=r"x contains 1 non-finite value\(s\)"):
        normalize(x, norm, **kw)
