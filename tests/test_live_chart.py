"""live_chart without a browser: what the component is sent (AppTest), a click's way back into
Python, and plotly.js served by the app itself (a real server, plain HTTP).

The browser side (update in place, camera, clicks, offline) is tests/test_live_chart_browser.py.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from streamlit.components.v2.bidi_component.main import _make_trigger_id
from streamlit.proto.WidgetStates_pb2 import WidgetState
from page_utils import live_chart_elements
from streamlit.testing.v1 import AppTest

from app_pages._live_chart import (ASSETS, BUNDLE, VENDOR_DIR, bundle_info, figure_spec, live_chart, payload,
                                   table_toggle_key)

DEMO = Path(__file__).parent / "apps" / "live_chart_demo.py"


def demo() -> AppTest:
    at = AppTest.from_file(str(DEMO), default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


def charts(at: AppTest) -> dict[str, object]:
    """The live_chart elements by key (the element id ends with the user's key)."""
    return {e.proto.id.rsplit("-", 1)[-1]: e for e in live_chart_elements(at)}


def click(at: AppTest, element, point: dict) -> AppTest:
    """Send what the JS sends on a click (setTriggerValue("click", point)) and rerun.

    AppTest has no API for custom components, so the trigger goes in as the browser would
    send it: a json_trigger_value on the component's "events" trigger widget.
    """
    states = at._tree.get_widget_states()
    state = WidgetState(id=_make_trigger_id(element.proto.id, "events"))
    state.json_trigger_value = json.dumps([{"event": "click", "value": point}])
    states.widgets.append(state)
    at._run(states)
    assert not at.exception, at.exception
    return at


def test_demo_renders_three_keyed_charts_with_their_figures():
    got = charts(demo())
    assert set(got) == {"cube", "heat", "frag"}
    cube = payload(got["cube"])
    assert cube["figure"]["data"][0]["type"] == "scatter3d"
    assert cube["figure"]["layout"]["title"]["text"] == "rerun 0"
    assert cube["alt"] == "40 random points in 3D; point 0 sits at (0, 0, 0)."
    assert cube["height"] == cube["figure"]["layout"]["height"] == 420
    assert cube["click"] is False and payload(got["heat"])["click"] is True
    assert cube["config"]["toImageButtonOptions"]["filename"] == "cube"
    assert payload(got["heat"])["config"]["toImageButtonOptions"]["filename"] == "heatmap"
    assert cube["src"] == f"/_stcore/bidi-components/{ASSETS}/plotly-normviz.min.js?v={bundle_info()[2]}"


def test_a_rerun_keeps_the_element_id_and_sends_the_changed_figure():
    at = demo()
    before = charts(at)
    at.button(key="next").click().run()
    after = charts(at)
    for key in ("cube", "heat"):
        assert after[key].proto.id == before[key].proto.id, "the id must come from the key alone"
        assert payload(after[key])["config"] == payload(before[key])["config"], "a changed config redraws"
        assert payload(after[key])["figure"]["layout"]["uirevision"] == key
    assert payload(after["cube"])["figure"]["layout"]["title"]["text"] == "rerun 1"
    assert payload(after["frag"]) == payload(before["frag"])


def test_numpy_arrays_travel_as_base64_typed_arrays():
    x = payload(charts(demo())["cube"])["figure"]["data"][0]["x"]
    assert x["dtype"] == "f8"
    values = np.frombuffer(base64.b64decode(x["bdata"]), dtype="<f8")
    assert values.shape == (40,) and values[0] == 0.0
    expected = np.random.default_rng(0).normal(size=(3, 40))[0, 1:]
    np.testing.assert_array_equal(values[1:], expected)


ARRAYS = {
    "float64 2-D": np.random.default_rng(1).normal(size=(4, 5)),
    "float32": np.linspace(0, 1, 7, dtype=np.float32),
    "int64 small": np.arange(-3, 4),
    "int64 for int16": np.array([-300, 20000]),
    "int64 too big": np.array([0, 2**40]),
    "uint64 for uint8": np.array([0, 255], dtype=np.uint64),
    "not contiguous": np.arange(20.0).reshape(4, 5)[:, ::2],
    "empty": np.zeros(0),
    "bool": np.array([True, False]),
    "strings": np.array(["a", "b"]),
    "float16": np.ones(3, dtype=np.float16),
}


@pytest.mark.parametrize("name", list(ARRAYS))
def test_the_figure_travels_as_plotlys_own_json_without_changing_it(name):
    """figure_spec skips plotly's deep copy and its narwhals trip; the JSON must not change."""
    v = ARRAYS[name]
    fig = go.Figure(go.Scatter(x=v, y=[1, 2], customdata=[[1, v.tolist()]]), layout={"xaxis": {"range": [0, 1]}},
                    frames=[go.Frame(data=[go.Scatter(x=v)], name="f")])
    before = fig.to_plotly_json()
    as_json = lambda spec: json.loads(pio.json.to_json_plotly(spec))  # noqa: E731
    assert as_json(figure_spec(fig)) == as_json(before)
    plain = {"data": [{"type": "scatter", "x": v}]}  # live_chart also takes a plotly dict
    assert as_json(figure_spec(plain)) == as_json({"data": go.Figure(plain).to_plotly_json()["data"]})
    assert as_json(fig.to_plotly_json()) == as_json(before)  # fig itself is unchanged


def test_click_reaches_python_and_lasts_one_run():
    at = demo()
    point = {"curveNumber": 0, "pointNumber": [1, 2], "pointIndex": [1, 2], "x": "c", "y": "q", "z": 6.0,
             "customdata": "cell 12"}
    click(at, charts(at)["heat"], point)
    assert at.markdown[0].value == f"clicked: {point}"
    at.button(key="next").click().run()  # the click is a trigger: gone in the next run, kept by the app
    assert at.markdown[0].value == f"clicked: {point}"


def test_click_in_a_fragment_reruns_the_fragment():
    at = demo()
    assert at.markdown[1].value == "echo 0, script runs 1"
    point = {"curveNumber": 0, "pointNumber": 1, "pointIndex": 1, "x": 1, "y": 1, "z": None, "customdata": None}
    click(at, charts(at)["frag"], point)
    assert "fragment click: 1" in [m.value for m in at.markdown]
    at.button(key="fstep").click().run()
    assert payload(charts(at)["frag"])["figure"]["layout"]["title"]["text"] == "fragment 1"


def test_every_chart_offers_its_numbers_as_a_table():
    at = demo()
    toggles = {t.key: t for t in at.toggle if t.key != "show3d"}
    assert set(toggles) == {table_toggle_key(k) for k in ("cube", "heat", "frag")}
    assert all(t.label == "Numbers as a table" and not t.value for t in toggles.values())
    assert not at.dataframe  # off: no rows built or sent
    at.toggle(key=table_toggle_key("cube")).set_value(True).run()
    frame = at.dataframe[0].value  # read from the figure: one row per point, x/y/z
    assert list(frame.columns) == ["trace", "x", "y", "z"] and len(frame) == 40
    assert frame.loc[0, ["x", "y", "z"]].tolist() == [0, 0, 0]
    at.toggle(key=table_toggle_key("heat")).set_value(True).run()  # the caller's own table wins
    np.testing.assert_array_equal(at.dataframe[1].value.to_numpy(), np.arange(12.0).reshape(3, 4))


def test_no_table_toggle_in_presenter_mode():
    at = AppTest.from_file(str(DEMO), default_timeout=30)
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception, at.exception
    assert [t.key for t in at.toggle] == ["show3d"]


def _figure_payload(fig, **kw) -> dict:
    """The payload live_chart sends for ``fig``, from a one-chart AppTest."""
    def script(fig, kw):
        from app_pages._live_chart import live_chart
        live_chart(fig, key="c", **kw)

    at = AppTest.from_function(script, args=(fig, kw), default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return payload(at.get("bidi_component")[0])


def test_streamlit_placeholder_template_becomes_plotlys_own():
    fig = go.Figure(go.Heatmap(z=[[1, 2], [3, 4]]))  # built under streamlit's default template
    assert "#000011" in fig.to_json()
    sent = _figure_payload(fig)["figure"]["layout"]
    assert "#0000" not in json.dumps(sent), "placeholder colours would draw black"
    assert sent["template"] == pio.templates["plotly"].to_plotly_json()


def test_a_plotly_dict_is_sent_as_its_go_figure_would_be():
    """The cube page sends its figures as plotly dicts (normviz.cube.figures' ``*_dict``: no
    go.Figure is made on a rerun); what reaches the browser must be what the go.Figure gives."""
    from normviz.cube import figures as cube_figures
    from normviz.cube.numbers import CubeSpec, data_for

    specs = [CubeSpec(), CubeSpec(norm="layer", colour_all=True, index=(1, 2, 3, 0)),
             CubeSpec(norm="switchable", layout="full"), CubeSpec(norm="weight_standardization", shape=(4, 3, 3, 3)),
             CubeSpec(norm="ghost_batch", shape=(8, 4, 2, 2), ghost_size=2)]
    for spec in specs:
        x = data_for(spec)
        for name, args in (("cube_figure", (spec, x)), ("unfolded_figure", (spec, x)),
                           ("small_multiples_figure", (spec,))):
            if name == "small_multiples_figure" and spec.is_weight:
                continue  # the grid compares activation norms only
            plain = getattr(cube_figures, f"{name}_dict")(*args)
            assert isinstance(plain, dict) and "template" not in plain["layout"]
            assert _figure_payload(plain) == _figure_payload(getattr(cube_figures, name)(*args)), (spec, name)
    plain = _figure_payload({"data": [{"type": "bar", "y": [1, 2]}]})["figure"]["layout"]
    assert plain["template"] == pio.templates["plotly"].to_plotly_json()


def test_own_template_uirevision_and_height_are_kept_width_dropped():
    fig = go.Figure(go.Scatter(y=[1, 3, 2]), layout=dict(template="plotly_white", uirevision="mine",
                                                         width=300, height=200))
    sent = _figure_payload(fig)
    layout = sent["figure"]["layout"]
    assert layout["template"] == pio.templates["plotly_white"].to_plotly_json()
    assert layout["uirevision"] == "mine" and layout["height"] == sent["height"] == 200
    assert "width" not in layout
    assert _figure_payload(fig, height=333)["height"] == 333


def _presented_payload(fig) -> dict:
    def script(fig):
        from app_pages._live_chart import live_chart
        live_chart(fig, key="c")

    at = AppTest.from_function(script, args=(fig,), default_timeout=30)
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception, at.exception
    return payload(at.get("bidi_component")[0])


def test_presenter_mode_fills_the_screen_and_enlarges_fonts():
    fig = {"data": [{"type": "scatter", "y": [1, 2]}],
           "layout": {"height": 300, "legend": {"font": {"size": 10}}, "annotations": [{"text": "a", "font": {"size": 11}}],
                      "title": {"text": "t", "font": {"size": 24}}}}
    assert _figure_payload(fig)["fill"] is False
    sent = _presented_payload(fig)
    layout = sent["figure"]["layout"]
    assert sent["fill"] is True  # the JS then sizes the chart to the viewport's height
    assert layout["font"]["size"] == 18 and layout["legend"]["font"]["size"] == 15
    assert layout["annotations"][0]["font"]["size"] == 16 and layout["title"]["font"]["size"] == 24
    assert _presented_payload({"data": [], "layout": {"font": {"size": 20}}})["figure"]["layout"]["font"]["size"] == 20


def test_plain_dict_figure():
    sent = _figure_payload({"data": [{"type": "bar", "y": [1, 2]}], "layout": {}}, alt="two bars")
    assert sent["figure"]["data"] == [{"type": "bar", "y": [1, 2]}]
    assert sent["alt"] == "two bars" and sent["figure"]["layout"]["uirevision"] == "c"


def test_frames_travel_with_the_first_frame_and_the_key():
    """Frames (the browser draws frame k on window.__liveChartFrame(key, k)) go as they are, with the
    frame to draw first and the chart's key; on a projector their fonts grow as the layout's do."""
    frames = [{"name": str(k), "traces": [0], "data": [{"type": "bar", "y": [k, k]}],
               "layout": {"title": {"text": f"frame {k}", "font": {"size": 14}}, "meta": {"alt": f"alt {k}"}}}
              for k in (1, 2)]
    fig = {"data": [{"type": "bar", "y": [0, 0]}], "layout": {}, "frames": frames}
    sent = _figure_payload(fig, frame=1)
    assert sent["figure"]["frames"] == frames and sent["frame"] == 1 and sent["name"] == "c"
    assert _figure_payload({"data": [], "layout": {}})["figure"]["frames"] == []
    shown = _presented_payload(fig)["figure"]["frames"]
    assert [f["layout"]["title"]["font"]["size"] for f in shown] == [18, 18]
    assert [f["layout"]["meta"]["alt"] for f in shown] == ["alt 1", "alt 2"] and "font" not in shown[0]["layout"]


def test_key_is_required():
    with pytest.raises(ValueError, match="needs a key"):
        live_chart(go.Figure(), key="")


def test_plotly_js_is_served_from_the_vendored_bundle():
    """The asset folder behind the URL is vendor/, holding the partial plotly.js bundle (no CDN);
    tests/test_live_chart_browser.py fetches it from a real server."""
    at = demo()
    root = Path(at._bidi_component_manager.get_component_path(ASSETS))
    assert root == VENDOR_DIR
    src = payload(charts(at)["cube"])["src"]
    assert root / src.split("/")[-1].split("?")[0] == BUNDLE
    assert BUNDLE.stat().st_size > 1_000_000
