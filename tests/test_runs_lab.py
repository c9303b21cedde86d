"""The run scaffold both labs share (app_pages/views/runs_lab.py): the redraw throttle, the widget keys
<-> URL state round trip, and Run / poll / Stop / finish against a stand-in training service (AppTest)."""
from __future__ import annotations

import itertools

import pytest
from streamlit.testing.v1 import AppTest

from app_pages.views import runs_lab
from app_pages.views.runs_lab import throttled
from normviz.state import TrainingLabState
from normviz.training.service import RunView, Ticket
from normviz.transformer.page_state import TransformerLabState


def test_throttled_rebuilds_at_most_once_per_period_while_live():
    cache, builds = {}, itertools.count(1)
    build = lambda: next(builds)  # noqa: E731 - each build is a new "figure"
    assert throttled(cache, "c", build, live=True, now=10.0, period=1.0) == 1  # missing: built
    assert throttled(cache, "c", build, live=True, now=10.9, period=1.0) == 1  # too soon: the last one again
    assert throttled(cache, "c", build, live=True, now=11.0, period=1.0) == 2  # a period later: rebuilt
    assert throttled(cache, "d", build, live=True, now=11.1, period=1.0) == 3  # each name has its own clock
    assert throttled(cache, "c", build, live=True, now=11.5, period=1.0) == 2


def test_throttled_rebuilds_every_time_when_nothing_is_live():
    cache, builds = {}, itertools.count(1)
    assert [throttled(cache, "c", lambda: next(builds), live=False, now=5.0) for _ in range(3)] == [1, 2, 3]


class FakeService:
    """Stands in for the TrainingService: a run moves one snapshot per view and ends after ``steps`` views."""

    def __init__(self, steps: int = 1000):
        self.steps, self.submitted, self.released, self.views = steps, [], [], {}

    def submit(self, target, kwargs, *, owner):
        self.submitted.append((target, kwargs["config"]))
        ticket = Ticket(len(self.submitted), f"run{len(self.submitted)}", owner)
        self.views[ticket.id] = 0
        return ticket

    def view(self, ticket):
        n = self.views[ticket.id] = self.views[ticket.id] + 1
        snaps = tuple({"step": 10 * s, "test_acc": 0.5, "diverged": False, "message": "Finished."}
                      for s in range(1, min(n, self.steps) + 1))
        return RunView("done" if n >= self.steps else "running", snaps)

    def release(self, ticket):
        self.released.append(ticket.id)


def _scaffold(lab_module: str):
    """A page made of the shared scaffold alone, for one lab's RunsLab."""
    def script(lab_module):
        import importlib

        import streamlit as st

        lab = importlib.import_module(lab_module).LAB
        shown = lab.open({}, {})
        lab.run_bar(shown)

        def draw(view):
            lab.runs_or_hint(st.session_state[lab.runs])
            lab.export(st.session_state[lab.runs], rows=lambda snaps, run: [{"run": run, "n": len(snaps)}],
                       snippet=lambda cfg: "# code", stem="log")

        lab.live(draw)

    return AppTest.from_function(script, args=(lab_module,), default_timeout=60)


LABS = [("app_pages.views.training.common", "training", "normviz.training:snapshots", False),
        ("app_pages.views.transformer.common", "transformer", "normviz.transformer.train:snapshots", True)]


@pytest.mark.parametrize("module, p, target, live_exports", LABS)
def test_run_polls_and_stop_releases_every_run(monkeypatch, module, p, target, live_exports):
    service = FakeService()
    monkeypatch.setattr(runs_lab, "training_service", lambda: service)
    at = _scaffold(module).run()
    assert not at.exception
    assert at.session_state[f"{p}:runs"] == [] and any("Nothing has run yet" in i.value for i in at.info)
    assert at.button(key=f"{p}:stop").disabled
    at.button(key=f"{p}:run").click().run()
    n = len(at.session_state[f"{p}:runs"])
    assert n >= 2 and [t for t, _ in service.submitted] == [target] * n  # the lab's default runs, its worker
    assert at.session_state[f"{p}:running"] and at.button(key=f"{p}:run").disabled
    at.run()  # a tick of the fragment: every job polled
    jobs = at.session_state[f"{p}:runs"]
    assert all(j.status == "running" and j.snapshots for j in jobs)
    assert len(at.get("progress")) == n
    # While the logs grow, the training lab holds its exports back; the transformer lab offers them.
    assert len(at.get("download_button")) == (2 if live_exports else 0)
    assert any("appear when the runs end" in c.value for c in at.caption) != live_exports
    at.button(key=f"{p}:stop").click().run()
    assert not at.exception and not at.session_state[f"{p}:running"]
    assert sorted(service.released) == list(range(1, n + 1))
    jobs = at.session_state[f"{p}:runs"]
    assert all(j.status == "stopped" and j.ticket is None and j.message.startswith("Stopped by you") for j in jobs)
    views = dict(service.views)
    at.run()
    assert service.views == views  # nothing is polled after Stop
    assert not at.button(key=f"{p}:run").disabled and at.button(key=f"{p}:stop").disabled


@pytest.mark.parametrize("module, p, target, live_exports", LABS)
def test_runs_that_end_stop_the_ticking_and_offer_the_exports(monkeypatch, module, p, target, live_exports):
    service = FakeService(steps=2)
    monkeypatch.setattr(runs_lab, "training_service", lambda: service)
    at = _scaffold(module).run()
    at.button(key=f"{p}:run").click().run()
    for _ in range(3):
        at.run()
    assert not at.exception and not at.session_state[f"{p}:running"]
    assert {j.status for j in at.session_state[f"{p}:runs"]} == {"done"}
    assert service.released == []  # finished runs were not released by hand
    assert len(at.get("download_button")) == 2
    assert not at.button(key=f"{p}:run").disabled


def test_seed_widgets_and_state_from_widgets_round_trip():
    """A state seeded into the widget keys reads back the same; a column beyond the runs holds the lab's
    spare norm, and a float field seeded from an int is a float (what its number_input wants)."""
    def script():
        import streamlit as st

        from app_pages.views.training.common import LAB
        from normviz.state import TrainingLabState

        state = TrainingLabState(norm=("layer",), batch=(8,), lr=(1,), model=("cnn",), init=(0.1,), affine=(False,),
                                 wd=(0.0,), steps=40, seed=3, preset="custom", view="overview", lock=("seed",))
        LAB.seed_widgets(state)
        st.session_state["back"] = LAB.state_from_widgets()
        st.session_state["expected"] = state

    at = AppTest.from_function(script, default_timeout=30).run()
    assert not at.exception
    ss = at.session_state
    assert ss["back"] == ss["expected"]
    assert ss["training.norm1"] == "batch" and ss["training.model1"] == "cnn"  # spare norm, last run's model
    assert type(ss["training.lr0"]) is float and ss["training.affine0"] is False
    assert ss["training.lock"] == ("seed",) and ss["training.n_runs"] == 1


@pytest.mark.parametrize("cls, norm, runs", [(TrainingLabState, "batch", "configurations"),
                                             (TransformerLabState, "layer", "transformers")])
def test_both_lab_states_fit_their_per_run_lists_to_the_runs(cls, norm, runs):
    """fit_runs (normviz.state): five runs are cut to four with a notice; a short list repeats its last
    value, a long one is trimmed; no norms at all is one run of the lab's default norm."""
    state, notices = cls(norm=(norm,) * 5, lr=(0.1, 0.2)).validate()
    assert state.norm == (norm,) * 4 and state.lr == (0.1, 0.2, 0.2, 0.2)
    assert notices == [f"The lab runs 1 to 4 {runs} side by side; got 5, using 4."]
    state, notices = cls(norm=(norm,), lr=(0.1, 0.2, 0.3)).validate()
    assert state.lr == (0.1,) and notices == []
    state, _ = cls(norm=(), lr=()).validate()
    assert state.norm == (norm,) and len(state.lr) == 1
