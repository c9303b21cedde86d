"""Folding a norm into the layer before it: the folded model computes the same function in eval mode.

Checked for every norm the registry says folds (and the composites), on CNN and MLP models whose
running statistics and affine parameters were moved away from their initial values by training
steps; every other norm must refuse with a message that says why.
"""
from __future__ import annotations

import pytest
import torch

from normviz.norms import NORMS
from normviz.norms.torch_modules import COMPOSITES, available_norms
from normviz.training import TrainConfig, build_model
from normviz.training.fold import fold_model


def trained(norm: str, model: str, steps: int = 5):
    """A model after a few SGD steps on random data (running statistics and γ, β no longer initial)."""
    cfg = TrainConfig(norm=norm, model=model, hidden=8, depth=2, seed=1, steps=steps)
    net = build_model(cfg).double()
    gen = torch.Generator().manual_seed(0)
    shape = (16, 64) if model == "mlp" else (16, 1, 8, 8)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(steps):
        x = torch.randn(shape, generator=gen, dtype=torch.float64) * 2 + 0.5
        loss = net(x).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net.eval(), torch.randn(shape, generator=gen, dtype=torch.float64)


def folding(dims: int) -> list[str]:
    return [k for k in available_norms(dims) if k != "none" and all(
        NORMS[p].folds_at_inference for p in k.split("+") if p in NORMS)]


FOLDS = folding(2)


def test_the_registry_says_which_fold():
    assert {"batch", "ghost_batch", "batch_renorm", "weight", "weight_standardization"} <= set(FOLDS)
    assert not {"layer", "instance", "group", "rms", "batch_instance", "switchable", "dyt"} & set(FOLDS)
    assert "weight+mean_only" in FOLDS and "weight_standardization+batch" in FOLDS
    assert "weight_standardization+group" not in FOLDS and set(COMPOSITES) - set(FOLDS) == {
        "weight_standardization+group"}


@pytest.mark.parametrize("norm, model", [(k, "cnn") for k in FOLDS] + [(k, "mlp") for k in folding(1)])
def test_folded_model_computes_the_same(norm, model):
    net, x = trained(norm, model)
    folded = fold_model(net)
    with torch.no_grad():
        ref, got = net(x), folded(x)
    assert (got - ref).abs().max().item() < 1e-10 * max(1.0, ref.abs().max().item())
    assert not any(hasattr(m, "running_mean") for m in folded.modules())  # the norm is gone


@pytest.mark.parametrize("norm", ["layer", "instance", "group", "rms", "switchable", "dyt",
                                  "weight_standardization+group"])
def test_input_dependent_norms_refuse_to_fold(norm):
    net, _ = trained(norm, "cnn", steps=1)
    with pytest.raises(ValueError, match="cannot be folded"):
        fold_model(net)


def test_a_wrong_fold_is_caught():
    net, x = trained("batch", "cnn")
    folded = fold_model(net)
    with torch.no_grad():
        list(folded)[0][0].bias[0] += 1e-6  # one number off by a millionth
        assert (folded(x) - net(x)).abs().max().item() > 1e-8
