"""Training lab page (AppTest) and its URL state."""
from __future__ import annotations

import time

import pytest
from lab_utils import live_charts, open_lab, run_to_end
from streamlit.testing.v1 import AppTest

from normviz.state import TrainingLabState

PAGE = "training_lab.py"


def _app(**params) -> AppTest:
    return open_lab(PAGE, **params)


def _run_to_end(at, timeout: float = 240.0) -> AppTest:
    return run_to_end(at, "training", timeout)


def _until(at, ready, timeout: float = 120.0) -> AppTest:
    deadline = time.monotonic() + timeout
    while not ready(at) and time.monotonic() < deadline:
        time.sleep(0.2)
        at.run()
    assert ready(at)
    return at


def test_nothing_runs_on_page_load():
    at = _app()
    assert not at.exception
    assert not at.session_state["training:running"]
    assert at.session_state["training:runs"] == []
    assert any("Nothing has run yet" in i.value for i in at.info)


def test_short_run_renders_its_charts_and_exports():
    at = _app(steps="60")
    at.button(key="training:run").click().run()
    assert len(at.session_state["training:runs"]) == 2  # (a fast machine may finish in the first tick)
    _run_to_end(at)
    assert not at.exception
    jobs = at.session_state["training:runs"]
    assert [j.status for j in jobs] == ["done", "done"]
    assert [j.snapshots[-1]["step"] for j in jobs] == [60, 60]
    charts = live_charts(at)
    assert charts and "BN paper Figure 1" in charts[0]["layout"]["title"]["text"]
    names = {t.get("name") for t in charts[0]["data"]}
    assert {"1: no norm · B=60 · lr=0.5", "2: BatchNorm · B=60 · lr=0.5"} <= names
    assert len(at.get("download_button")) == 2
    for view, title in (("overview", "Loss, accuracy"), ("distributions", "Distribution of"),
                        ("histograms", "Histogram of")):
        at.session_state["training.view"] = view
        at.run()
        assert not at.exception
        assert title in live_charts(at)[0]["layout"]["title"]["text"], view


def test_bn_preset_is_one_click_and_starts_the_two_runs():
    at = _app(init="0.01,0.01", preset="bn_fig1")
    at.button(key="training:preset_bn").click().run()
    assert not at.exception
    jobs = at.session_state["training:runs"]
    assert [(j.config.norm, j.config.batch_size, j.config.lr, j.config.steps, j.config.init_std) for j in jobs] == \
        [("none", 60, 0.5, 3000, 0.01), ("batch", 60, 0.5, 3000, 0.01)]  # the shown init is kept
    assert at.session_state["training:running"]
    _until(at, lambda a: any(j.snapshots for j in a.session_state["training:runs"]))
    assert live_charts(at), "charts appear with the first snapshots"
    at.button(key="training:stop").click().run()
    assert not at.session_state["training:running"]


def test_results_survive_a_rerun_and_a_config_change():
    at = _app(steps="20")
    at.button(key="training:run").click().run()
    _run_to_end(at)
    before = [j.snapshots for j in at.session_state["training:runs"]]
    at.number_input(key="training.steps").set_value(500).run()
    at.run()
    assert not at.exception
    assert [j.snapshots for j in at.session_state["training:runs"]] == before
    assert live_charts(at)


def test_stop_ends_the_runs():
    at = _app(steps="5000")
    at.button(key="training:run").click().run()
    assert at.session_state["training:running"]
    at.button(key="training:stop").click().run()
    assert not at.exception
    assert not at.session_state["training:running"]
    jobs = at.session_state["training:runs"]
    assert all(j.status == "stopped" and j.ticket is None for j in jobs)
    assert all(j.snapshots[-1]["step"] < 5000 for j in jobs if j.snapshots)
    steps = [len(j.snapshots) for j in jobs]
    at.run()
    assert [len(j.snapshots) for j in at.session_state["training:runs"]] == steps  # nothing moves after Stop


def test_divergence_is_a_message_not_a_traceback():
    at = _app(steps="400", norm="none", lr="50", batch="60", model="mlp", init="0.1")
    at.button(key="training:run").click().run()
    _run_to_end(at)
    assert not at.exception
    assert any("diverged" in e.value and "lower lr from 50 to 0.5" in e.value for e in at.error)


def test_gn_preset_shows_the_shipped_sweep_at_once():
    at = _app()
    at.button(key="training:preset_gn").click().run()
    assert not at.exception
    assert not at.session_state["training:running"]
    spec = live_charts(at)[0]
    assert "batch size" in spec["layout"]["title"]["text"]
    assert spec["layout"]["xaxis"]["type"] == "log"
    assert any("How it was made" in c.value for c in at.caption)


def test_live_rerun_of_a_sweep_cell_matches_the_shipped_numbers():
    from normviz.training.sweeps import load_sweep

    at = _app(preset="gn_fig1", view="sweep")
    at.selectbox(key="training:cell_norm").set_value("group").run()
    at.selectbox(key="training:cell_batch").set_value(64).run()
    at.button(key="training:cell_run").click().run()
    _run_to_end(at)
    assert not at.exception
    cell = at.session_state["training:cells"][-1]
    ref = next(c for c in load_sweep()["cells"] if (c["norm"], c["batch_size"], c["seed"]) == ("group", 64, 0))
    # The service's workers run in portable numerics mode: the shipped numbers, bit for bit.
    assert (cell["eval_error"], cell["train_mode_error"]) == (ref["eval_error"], ref["train_mode_error"])
    assert any("bit for bit" in c.value for c in at.caption)
    assert any("Re-run GroupNorm B=64 seed 0" in m.value for m in at.markdown)
    names = {t.get("name") for t in live_charts(at)[0]["data"]}
    assert "live re-run" in names


@pytest.mark.parametrize("query, named", [({"norm": "batch,bogus", "steps": "-3"}, ("norm", "steps")),
                                          ({"wd": "-1,0", "affine": "maybe"}, ("wd", "affine"))])
def test_bad_url_values_give_notices(query, named):
    at = _app(**query)
    assert not at.exception
    texts = " ".join(w.value for w in at.warning)
    assert all(name in texts for name in named)


def test_state_round_trip():
    s = TrainingLabState(norm=("batch", "group", "layer"), batch=(2, 4, 8), lr=(0.1, 0.2, 0.3),
                         model=("mlp",) * 3, init=(0.1,) * 3, affine=(True, False, True), wd=(0.0, 1e-4, 0.0),
                         steps=500, seed=3, preset="custom", view="overview")
    back, notices = TrainingLabState.from_query(s.to_query())
    assert back == s and notices == []


@pytest.mark.parametrize("query, expect", [
    ({"norm": "batch,group,layer"}, {"batch": (60, 60, 60), "model": ("mlp",) * 3}),
    ({"norm": "batch", "lr": "1,2,3"}, {"lr": (1.0,)}),
    ({"norm": "a,b,c,d,e"}, {"norm": ("none", "batch")}),
])
def test_state_fills_and_trims_per_run_lists(query, expect):
    s, _ = TrainingLabState.from_query(query)
    for k, v in expect.items():
        assert getattr(s, k) == v
    assert len({len(s.norm), len(s.batch), len(s.lr), len(s.model), len(s.init), len(s.affine), len(s.wd)}) == 1


def test_no_affine_and_weight_decay_options_reach_the_runs_and_show_gamma_beta():
    at = _app(steps="100", norm="batch,batch", affine="0,1", wd="0.01,0", view="overview", preset="custom")
    assert at.checkbox(key="training.affine0").value is False and at.checkbox(key="training.affine1").value is True
    assert at.number_input(key="training.wd0").value == 0.01
    at.button(key="training:run").click().run()
    _run_to_end(at)
    assert not at.exception
    jobs = at.session_state["training:runs"]
    assert [(j.config.affine, j.config.weight_decay) for j in jobs] == [(False, 0.01), (True, 0.0)]
    assert "no γ, β" in jobs[0].label and "wd=0.01" in jobs[0].label
    assert jobs[0].snapshots[-1]["affine"] is None  # nothing learned without affine
    last = jobs[1].snapshots[-1]["affine"]
    assert len(last) == 3 and jobs[1].snapshots[0]["affine"][0] == {
        "gamma_mean": 1.0, "gamma_std": 0.0, "beta_mean": 0.0, "beta_std": 0.0}
    assert last[0]["gamma_std"] > 0  # γ moved in 100 steps
    titles = [c["layout"]["title"]["text"] for c in live_charts(at)]
    assert any("Learned γ" in t for t in titles)
    text = " ".join(m.value for m in at.markdown)
    assert f"layer 1 γ {last[0]['gamma_mean']:.2f} ± {last[0]['gamma_std']:.2f}" in text
    assert jobs[0].label + ":" not in text  # the run without γ, β has no summary line


def test_locked_affine_and_weight_decay_are_named_in_the_lock_caption_and_still_used():
    at = _app(lock="affine,wd", norm="batch,layer", affine="0,0", wd="0.001,0.002", steps="20", preset="custom")
    assert not at.exception
    keys = {w.key for kind in ("checkbox", "number_input") for w in at.get(kind)}
    assert not {"training.affine0", "training.wd0", "training.affine1", "training.wd1"} & keys
    caption = " ".join(c.value for c in at.caption)
    assert "γ, β (affine)" in caption and "weight decay" in caption
    at.button(key="training:run").click().run()
    assert [(j.config.affine, j.config.weight_decay) for j in at.session_state["training:runs"]] == [
        (False, 0.001), (False, 0.002)]
    _run_to_end(at)
