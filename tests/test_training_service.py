"""normviz.training.service: worker processes, one computation per config, a fair queue, no leaks."""
from __future__ import annotations

import os
import time

import pytest

pytest.importorskip("torch")

from normviz.training.sweeps import cell_config, load_sweep  # noqa: E402
from normviz.training import TrainConfig  # noqa: E402
from normviz.training.service import TrainingService  # noqa: E402

TARGET = "normviz.training:snapshots"
SHORT = TrainConfig(norm="batch", steps=100, log_every=50).to_dict()


def wait(service, *tickets, timeout=120.0):
    deadline = time.monotonic() + timeout
    while any(service.view(t).active for t in tickets):
        assert time.monotonic() < deadline, [service.view(t).status for t in tickets]
        time.sleep(0.05)
    return [service.view(t) for t in tickets]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture
def service():
    svc = TrainingService(workers=1)
    yield svc
    pids = svc.worker_pids()
    svc.close()
    deadline = time.monotonic() + 10
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(p) for p in pids), "a worker outlived close()"


def test_a_shipped_sweep_cell_through_the_service_gives_the_shipped_bits(service):
    """Workers run in portable numerics mode: the page's live re-run equals the shipped cell."""
    cfg = cell_config("group", 64, 0)
    t = service.submit(TARGET, {"config": cfg.replace(log_every=cfg.steps // 5).to_dict()}, owner="s1")
    (view,) = wait(service, t)
    last = view.snapshots[-1]
    ref = next(c for c in load_sweep()["cells"] if (c["norm"], c["batch_size"], c["seed"]) == ("group", 64, 0))
    assert view.status == "done" and last["done"] and last["step"] == cfg.steps
    assert round(100 * (1 - last["test_acc"]), 4) == ref["eval_error"]
    assert round(100 * (1 - last["train_mode_acc"]), 4) == ref["train_mode_error"]
    assert last["test_loss"] == ref["test_loss"]


def test_the_same_config_is_computed_once_and_shared(service):
    a = service.submit(TARGET, {"config": SHORT}, owner="alice")
    b = service.submit(TARGET, {"config": SHORT}, owner="bob")
    va, vb = wait(service, a, b)
    assert va.status == vb.status == "done" and va.snapshots == vb.snapshots
    assert [s["step"] for s in va.snapshots] == [0, 50, 100]
    assert service.stats()["runs"] == 1
    t0 = time.monotonic()
    c = service.submit(TARGET, {"config": SHORT}, owner="carol")  # finished: served from the cache
    assert service.view(c).status == "done" and service.view(c).snapshots == va.snapshots
    assert time.monotonic() - t0 < 1.0


def test_waiting_runs_start_in_turn_across_owners(service):
    long = [dict(SHORT, steps=3000, seed=s) for s in range(3)]
    a = [service.submit(TARGET, {"config": c}, owner="alice") for c in long]
    b = service.submit(TARGET, {"config": dict(SHORT, seed=9)}, owner="bob")
    views = [service.view(t) for t in a]
    assert views[0].status == "running" and views[1].status == views[2].status == "queued"
    # bob has nothing running, alice has one: bob's run is next although it came last.
    assert service.view(b).position == 1 and views[1].position == 2 and views[2].position == 3
    for t in a + [b]:
        service.release(t)


def test_release_stops_a_run_nobody_follows(service):
    t = service.submit(TARGET, {"config": dict(SHORT, steps=20000, log_every=20)}, owner="alice")
    deadline = time.monotonic() + 60
    while len(service.view(t).snapshots) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    service.release(t)
    deadline = time.monotonic() + 10
    while service.stats()["running"]:
        assert time.monotonic() < deadline, "the run kept going after its only owner left"
        time.sleep(0.05)
    # the worker is free again at once
    (view,) = wait(service, service.submit(TARGET, {"config": SHORT}, owner="bob"))
    assert view.status == "done"


def test_a_ticket_nobody_views_expires_and_its_run_stops():
    svc = TrainingService(workers=1, ttl=0.5)
    try:
        t = svc.submit(TARGET, {"config": dict(SHORT, steps=20000, log_every=20)}, owner="closed tab")
        time.sleep(1.5)
        svc.submit(TARGET, {"config": SHORT}, owner="someone else")  # any call looks for stale tickets
        deadline = time.monotonic() + 10
        while svc.stats()["running"] and svc.view(t).status != "done":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert svc.view(t).status == "stopped"
    finally:
        svc.close()


def test_a_bad_config_comes_back_as_a_message(service):
    (view,) = wait(service, service.submit(TARGET, {"config": dict(SHORT, norm="bogus")}, owner="alice"))
    assert view.status == "error" and "Unknown norm 'bogus'" in view.message


def test_a_crashed_worker_fails_its_run_with_a_message_and_is_replaced(service):
    t = service.submit(TARGET, {"config": dict(SHORT, steps=20000, log_every=20)}, owner="alice")
    deadline = time.monotonic() + 60
    while not service.view(t).snapshots:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(service.worker_pids()[0], 9)
    (view,) = wait(service, t)
    assert view.status == "error" and "stopped unexpectedly" in view.message
    (again,) = wait(service, service.submit(TARGET, {"config": SHORT}, owner="alice"))
    assert again.status == "done"


def test_native_and_portable_runs_get_workers_of_their_mode(service):
    """One pool of one worker: a native run swaps the idle portable worker for a native one."""
    (p,) = wait(service, service.submit("normviz.numerics:describe", {}, owner="a", kind="call"))
    (n,) = wait(service, service.submit("normviz.numerics:describe", {}, owner="a", kind="call", numerics="native"))
    assert p.snapshots[-1]["result"]["mode"] == "portable" and n.snapshots[-1]["result"]["mode"] == "native"
    assert service.stats()["workers"] == 1


def test_divergence_ends_the_run_with_its_message(service):
    (view,) = wait(service, service.submit(TARGET, {"config": dict(SHORT, norm="none", lr=500.0, init_std=1.0)},
                                           owner="alice"))
    last = view.snapshots[-1]
    assert view.status == "done" and last["diverged"] and "diverged" in last["message"]


def test_workers_run_at_a_lower_priority_than_the_server(service):
    """A class's clicks must not wait behind training: workers are niced below the server."""
    from normviz.training.worker import WORKER_NICENESS

    (view,) = wait(service, service.submit(TARGET, {"config": SHORT}, owner="s1"))
    assert view.status == "done"
    (pid,) = service.worker_pids()
    assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + WORKER_NICENESS)
