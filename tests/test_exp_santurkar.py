"""Experiment 3 (Santurkar et al. at CPU scale): claims on the shipped 2-seed runs and a live
quick recheck; the probe leaves the trained model untouched; the noise is noise."""
from __future__ import annotations

import json

import pytest
import torch

from normviz.experiments import santurkar as es
from normviz.experiments import get
from tests.shipped import shipped_results


@pytest.fixture(scope="module")
def shipped():
    return shipped_results("santurkar")


@pytest.mark.parametrize("idx", [0, 1])
def test_shipped_claim_holds_with_margins(shipped, idx):
    res = shipped["runs"][str(shipped["seeds"][idx])]["results"]
    holds, sentence = es.claim(res)
    assert holds, sentence
    s = es.summary(res)
    # Noisy BN trains about as well as BN (and not worse than no norm by more than noise) ...
    assert abs(s["noisy"]["final_acc"] - s["batch"]["final_acc"]) <= 0.03
    assert s["noisy"]["final_acc"] >= s["none"]["final_acc"] - 0.02
    # ... although its layer inputs move an order of magnitude more than with BN.
    assert s["noisy"]["drift"] >= 10 * s["batch"]["drift"]
    # Smoother landscape with BN: several-fold smaller loss range, gradient change and β.
    assert s["batch"]["loss_range"] * 5 < s["none"]["loss_range"]
    assert s["batch"]["grad_change"] * 5 < s["none"]["grad_change"]
    assert s["batch"]["beta"] * 2 < s["none"]["beta"]


def test_live_quick_recheck():
    res = json.loads(json.dumps(es.run(seed=5, quick=True, steps=100)))
    s = es.summary(res)
    assert s["batch"]["loss_range"] < s["none"]["loss_range"]
    assert s["batch"]["grad_change"] < s["none"]["grad_change"]
    assert s["noisy"]["drift"] >= 2 * s["batch"]["drift"]
    probes = res["runs"]["batch"]["probes"]
    assert probes["steps"][0] == 0 and len(probes["steps"]) == 3  # the whole trajectory, every 50 steps
    assert "noisy" not in [k for k in res["runs"] if "probes" in res["runs"][k]]
    figs = get("santurkar").figure(res)
    assert len(figs) == 5 and all(f.layout.title.text for f in figs)


def test_probe_runs_on_a_copy_and_leaves_running_stats_alone():
    cfg = dict(es.DEFAULTS)
    model, _ = es.build("batch", cfg, seed=0)
    x, y = torch.randn(32, 64), torch.randint(0, 10, (32,))
    before = [b.clone() for b in model.buffers()]
    params = [p.clone() for p in model.parameters()]
    p = es.probe_landscape(model, x, y)
    assert all(torch.equal(a, b) for a, b in zip(before, model.buffers()))
    assert all(torch.equal(a, b) for a, b in zip(params, model.parameters()))
    assert len(p["losses"]) == len(es.ETAS) and p["grad_norm"] > 0


def test_noise_is_resampled_every_step_and_off_in_eval():
    model, _ = es.build("noisy", dict(es.DEFAULTS), seed=0)
    noise = list(model)[0][1][1]
    y = torch.zeros(8, 100)
    a, b = noise(y), noise(y)
    assert not torch.equal(a, b)
    assert abs(float(a.mean())) > 0 or abs(float(b.mean())) > 0
    assert float(noise(torch.ones(8, 100)).std()) > 0.1  # a random scale per sample and unit
    noise.eval()
    assert torch.equal(noise(y), y)
