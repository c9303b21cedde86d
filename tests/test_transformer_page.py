"""Transformer lab page (AppTest): nothing runs on load, a short run draws every view and its exports,
URL state and locks, bad URL values explained, the shipped experiments view."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings, strategies as st
from lab_utils import live_charts, open_lab, run_to_end
from streamlit.testing.v1 import AppTest

from normviz.transformer.page_state import PER_RUN, TransformerLabState

PAGE = "transformer_lab.py"


def _app(**params) -> AppTest:
    return open_lab(PAGE, **params)


def _charts(at) -> list[dict]:
    """Every figure on the page: the live runs' live_charts and the shipped view's plotly charts."""
    return live_charts(at) + [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def _run_to_end(at, timeout: float = 180.0, poll: float = 0.2) -> AppTest:
    return run_to_end(at, "transformer", timeout, poll)


def test_nothing_runs_on_page_load():
    at = _app()
    assert not at.exception
    assert at.session_state["transformer:runs"] == [] and not at.session_state["transformer:running"]
    assert any("Nothing has run yet" in i.value for i in at.info)


def test_short_runs_draw_every_view_and_export():
    at = _app(norm="layer,dyt", placement="post,pre", steps="40")
    at.button(key="transformer:run").click().run()
    _run_to_end(at)
    assert not at.exception
    runs = at.session_state["transformer:runs"]
    assert [j.status for j in runs] == ["done", "done"]
    assert [j.snapshots[-1]["step"] for j in runs] == [39, 39]
    names = {t.get("name") for t in _charts(at)[0]["data"]}
    assert {"1: post-LN · 2 blocks · lr=0.003", "2: pre-DyT · 2 blocks · lr=0.003"} <= names
    for view, title in (("gradients", "Gradient norm per block"), ("residual", "Residual stream"),
                        ("tokens", "Per-token statistics"), ("dyt", "DyT's α")):
        at.session_state["transformer.view"] = view
        at.run()
        assert not at.exception, view
        assert title in _charts(at)[0]["layout"]["title"]["text"], view
    assert len(at.get("download_button")) == 2
    code = "".join(c.value for c in at.code)
    assert "PRE = False" in code and "nn.LayerNorm(D)" in code and "make_norm('dyt', D, dims=1)" in code


def test_divergence_is_a_message_not_a_traceback():
    at = _app(norm="none", lr="1", steps="200")
    at.button(key="transformer:run").click().run()
    _run_to_end(at)
    assert not at.exception
    assert at.session_state["transformer:runs"][0].status == "diverged"
    assert any(e.value.startswith("1: no norm") and ("Diverged" in e.value or "Stalled" in e.value) for e in at.error)


def test_url_round_trip_locks_and_bad_values():
    s = TransformerLabState(norm=("rms", "dyt"), placement=("pre", "pre"), depth=(4, 4), lr=(0.01, 0.01),
                            warmup=(0, 50), steps=100, lock=("norm",))
    back, notices = TransformerLabState.from_query(s.to_query())
    assert back == s and notices == []
    at = _app(**s.to_query())
    assert not at.exception
    assert not [w for w in at.selectbox if w.key and w.key.startswith("transformer.norm")]  # locked: not drawn
    assert any("fixed by your teacher" in c.value and "RMSNorm" in c.value for c in at.caption)
    at = _app(norm="batch", depth="99")
    assert not at.exception
    text = " ".join(w.value for w in at.warning)
    assert "'norm' = 'batch' must be one of none, layer" in text and "'depth' = '99' must be at most 6" in text


def test_shipped_experiments_view_states_each_claim_over_both_seeds():
    at = _app(view="experiments")
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    for phrase in ("Transformers: pre-LN vs post-LN", "Transformers: RMSNorm vs LayerNorm",
                   "Transformers: Dynamic Tanh vs LayerNorm", "Transformers without a norm"):
        assert phrase in " ".join(h.value for h in at.subheader), phrase
    assert text.count("shipped seeds") + text.count("Does not reproduce") + text.count("Mixed") >= 4
    assert "Re-run one cell" in text


def test_hostile_url_gives_notices_not_tracebacks():
    script = "<script>alert(1)</script>"
    at = _app(norm="foo,bar,baz,qux,quux", placement=script, depth="0,x", lr="-1", warmup="nan", steps="1e12",
              seed="-5", view="x" * 500, lock="bogus,norm")
    assert not at.exception
    shown = " ".join(w.value for w in at.warning)
    assert "URL parameter" in shown and all(script not in m.value for m in at.markdown)


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(params=st.dictionaries(st.sampled_from(["norm", "placement", "depth", "lr", "warmup", "steps", "seed",
                                                "preset", "view", "lock"]), st.text(max_size=30)))
def test_any_query_parses_to_a_valid_round_tripping_state(params):
    state, _ = TransformerLabState.from_query(params)
    assert state.validate() == (state, [])
    assert TransformerLabState.from_query(state.to_query()) == (state, [])
    assert len({len(getattr(state, f)) for f in PER_RUN}) == 1  # every run has every setting


def test_live_rerun_of_a_shipped_sweep_cell_gives_the_shipped_numbers():
    """Post-LN at the rate where it fails without warm-up, seed 0, re-run in the page's worker (portable
    numerics): it stops early, so the re-run is short, and must match the shipped cell exactly."""
    at = _app(view="experiments")
    at.selectbox(key="transformer:cell_place").set_value("post").run()
    at.selectbox(key="transformer:cell_lr").set_value(0.03).run()
    at.button(key="transformer:cell_run").click().run()
    _run_to_end(at, poll=2.0)  # each AppTest run redraws the four experiments' figures: poll slowly
    assert not at.exception
    job = at.session_state["transformer:cell"][0]
    assert job.status == "diverged" and job.config.placement == "post" and job.config.lr == 0.03
    line = [m.value for m in at.markdown if m.value.startswith("post-LN lr 0.03 seed 0:")]
    assert line and line[0].endswith("the same numbers."), line
