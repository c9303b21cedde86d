"""Experiment 10 (cost): claims on the shipped 2-seed runs; memory is exact, so a live re-run
must reproduce it byte for byte; the saved-tensor counter counts what it should."""
from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from normviz.experiments import cost as ec
from normviz.experiments import get
from tests.shipped import shipped_results


@pytest.fixture(scope="module")
def shipped():
    return shipped_results("cost")


@pytest.mark.parametrize("idx", [0, 1])
def test_shipped_claim_holds_with_margins(shipped, idx):
    res = shipped["runs"][str(shipped["seeds"][idx])]["results"]
    holds, sentence = ec.claim(res)
    assert holds, sentence
    rows = res["rows"]
    assert rows["none"]["train_ratio"] == 1.0 and rows["none"]["memory_ratio"] == 1.0
    # A norm after each conv keeps one more activation-sized tensor: about 2× the memory of none.
    for n in ("batch", "layer", "group", "instance"):
        assert 1.8 <= rows[n]["memory_ratio"] <= 2.2, (n, rows[n]["memory_ratio"])
    assert rows["switchable"]["train_ratio"] >= 1.2 * rows["batch"]["train_ratio"]
    # The papers' numbers are shipped as data beside the measurements.
    assert rows["batch"]["paper"] and rows["group"]["paper"]
    table = ec.table(res)
    assert [r["norm"] for r in table] == res["norms"] and table[0]["norm"] == "none"


def test_live_memory_matches_shipped_exactly(shipped):
    res = json.loads(json.dumps(ec.run(seed=0, quick=True, norms=["none", "batch", "switchable", "weight"],
                                       rounds=2, reps=1)))
    ref = shipped["runs"][str(shipped["seeds"][0])]["results"]["rows"]
    for n in ("none", "batch", "switchable", "weight"):
        assert res["rows"][n]["saved_bytes"] == ref[n]["saved_bytes"]
        assert res["rows"][n]["params"] == ref[n]["params"]
        assert res["rows"][n]["train_ms"] > 0 and res["rows"][n]["eval_ms"] > 0
    figs = get("cost").figure(res)
    assert len(figs) == 3 and figs[0].data[0].type == "table"


def test_saved_tensor_bytes_counts_activations_not_parameters():
    torch.manual_seed(0)
    x, y = torch.randn(16, 20), torch.randint(0, 10, (16,))
    lin = nn.Sequential(nn.Linear(20, 10))
    two = nn.Sequential(nn.Linear(20, 10), nn.BatchNorm1d(10))
    a, b = ec.saved_tensor_bytes(lin, x, y), ec.saved_tensor_bytes(two, x, y)
    assert a >= x.numel() * 4  # the linear layer saves its input
    assert b > a  # BN saves its input (the linear output) and statistics on top
