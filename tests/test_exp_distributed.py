"""Experiment 7 (distributed BN for real): claims on the shipped runs, a live quick run that
starts and stops its processes cleanly, a clear message for a taken port, and SyncBN's math."""
from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from normviz.experiments import distributed as ed
from tests.shipped import shipped_results


def _children() -> set[int]:
    """PIDs of live processes whose parent is this process (read from /proc, no psutil)."""
    me, kids = os.getpid(), set()
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, ...
        if int(fields[1]) == me and fields[0] != "Z":
            kids.add(int(d.name))
    return kids


@pytest.fixture(scope="module")
def shipped():
    return shipped_results("distributed")


def test_shipped_runs_cover_two_seeds_and_record_how_they_were_made(shipped):
    assert len(shipped["seeds"]) >= 2 and not shipped["quick"]
    assert shipped["made_by"].startswith("python -m normviz.experiments --precompute distributed")
    for seed in map(str, shipped["seeds"]):
        cfg = shipped["runs"][seed]["results"]["config"]
        assert cfg["world"] >= 2 and cfg["per_device"] <= 4


@pytest.mark.parametrize("idx", [0, 1])
def test_shipped_claim_holds_with_margins(shipped, idx):
    res = shipped["runs"][str(shipped["seeds"][idx])]["results"]
    holds, sentence = ed.claim(res)
    assert holds, sentence
    d = res["distributed"]
    # Per-device BN on 2 samples collapses; synced BN and GN do not (margins well above noise).
    assert d["sync"]["final_acc"] >= d["local"]["final_acc"] + 0.2
    assert d["group"]["final_acc"] >= d["local"]["final_acc"] + 0.2
    assert d["sync"]["running"]["std_error"] < 0.6 * d["local"]["running"]["std_error"]
    # The simulation matches the real processes exactly where it should.
    for mode in ed.MODES:
        assert res["agreement"][mode]["first_forward"] < 1e-9
        assert res["agreement"][mode]["first_grads"] < 1e-9
    # ... and its accuracies tell the same story.
    s = res["simulated"]
    assert s["full"]["final_acc"] >= s["ghost"]["final_acc"] + 0.2
    assert abs(s["full"]["final_acc"] - d["sync"]["final_acc"]) < 0.05


def test_live_quick_run_agrees_and_leaves_no_process_behind():
    before = _children()
    res = ed.run(seed=3, quick=True, steps=30, log_every=10)
    assert len(res["pids"]) == res["config"]["world"] == 2
    for pid in res["pids"]:
        assert not Path(f"/proc/{pid}").exists() or pid not in _children()
    assert _children() <= before
    for mode in ed.MODES:
        a = res["agreement"][mode]
        assert a["first_forward"] < 1e-9 and a["first_grads"] < 1e-9, (mode, a)
    # Synced BN and full-batch BN follow the same trajectory for many steps.
    assert res["agreement"]["sync"]["steps_in_agreement"] >= 10
    holds, sentence = ed.claim(res)
    assert "processes × 2 samples" in sentence


def test_taken_port_gives_a_clear_message_and_starts_nothing():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        before = _children()
        with pytest.raises(ed.PortInUseError, match=f"Port {port} on 127.0.0.1 is already in use"):
            ed.run(seed=0, quick=True, port=port)
        assert _children() <= before


def test_timeout_stops_every_process():
    before = _children()
    cfg = dict(ed.DEFAULTS, seed=0, steps=5000)
    t0 = time.perf_counter()
    with pytest.raises(ed.DistributedRunError, match="did not finish within"):
        ed.run_distributed(cfg, timeout=1.0)
    assert time.perf_counter() - t0 < 20
    assert _children() <= before


def test_sync_batch_norm_equals_batch_norm_in_one_process():
    torch.manual_seed(0)
    x = torch.randn(6, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(5, dtype=torch.float64, requires_grad=True)
    b = torch.randn(5, dtype=torch.float64, requires_grad=True)
    y, mean, var = ed.sync_batch_norm(x, w, b)
    ref = F.batch_norm(x, None, None, w, b, True, 0.0, 1e-5)
    torch.testing.assert_close(y, ref, rtol=0, atol=1e-12)
    torch.testing.assert_close(var, x.detach().var(0, unbiased=True), rtol=0, atol=1e-12)
    g = torch.randn_like(y)
    gs = torch.autograd.grad(y, (x, w, b), g)
    gr = torch.autograd.grad(ref, (x, w, b), g)
    for a, c in zip(gs, gr):
        torch.testing.assert_close(a, c, rtol=0, atol=1e-10)
    xc = torch.randn(4, 3, 2, 2, dtype=torch.float64, requires_grad=True)
    wc = torch.rand(3, dtype=torch.float64, requires_grad=True)
    bc = torch.randn(3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda *t: ed.sync_batch_norm(*t)[0], (xc, wc, bc))


def test_bad_sizes_are_clear_errors():
    with pytest.raises(ValueError, match="per_device must be 1 to 4"):
        ed.run(quick=True, per_device=8)
    with pytest.raises(ValueError, match="world must be 2 to 4"):
        ed.run(quick=True, world=1)
