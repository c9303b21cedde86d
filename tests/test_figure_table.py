"""normviz.figure_table: every figure kind the app draws gives back exactly the numbers it draws,
from the figure object's JSON and from the JSON with plotly's base64 typed arrays alike."""
from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from normviz.cube.figures import cube_figure, unfolded_figure
from normviz.cube.numbers import CubeSpec, element_stats, make_data
from normviz.cube.walkthrough import step_figure, steps
from normviz.figure_table import figure_table
from normviz.images.figures import histogram_figure, sigma_figure, strength_figure


def both(fig) -> list[dict]:
    """The figure as live_chart holds it (to_plotly_json: numpy arrays) and as the browser gets it
    (JSON, numpy arrays as base64 typed arrays)."""
    spec = fig.to_plotly_json()
    return [spec, json.loads(pio.json.to_json_plotly(spec))]


@pytest.mark.parametrize("kind", ["scatter", "scattergl"])
def test_scatter_one_row_per_point_with_text(kind):
    x, y = np.array([0.5, 1.5, 2.5]), np.array([3.0, -1.0, 2.0])
    fig = go.Figure({"type": kind, "x": x, "y": y, "name": "LN", "text": ["a", "b", "c"]})
    for spec in both(fig):
        frame, note = figure_table(spec)
        assert note is None
        assert frame.to_dict("records") == [{"trace": "LN", "x": 0.5, "y": 3.0, "text": "a"},
                                            {"trace": "LN", "x": 1.5, "y": -1.0, "text": "b"},
                                            {"trace": "LN", "x": 2.5, "y": 2.0, "text": "c"}]


def test_scatter3d_has_z_and_y_only_traces_get_their_implied_x():
    fig = go.Figure([go.Scatter3d(x=[1, 2], y=[3, 4], z=[5, 6], name="cube"), go.Scatter(y=[7.0, 8.0], x0=10, dx=2)])
    for spec in both(fig):
        frame, _ = figure_table(spec)
        assert list(frame.columns) == ["trace", "x", "y", "z"]
        rows = frame.to_dict("records")
        assert rows[:2] == [{"trace": "cube", "x": 1, "y": 3, "z": 5}, {"trace": "cube", "x": 2, "y": 4, "z": 6}]
        assert [(r["trace"], r["x"], r["y"]) for r in rows[2:]] == [("trace 1", 10.0, 7.0), ("trace 1", 12.0, 8.0)]


def test_grouped_and_horizontal_bars():
    fig = go.Figure([go.Bar(x=["c0", "c1"], y=[1.0, 2.0], name="content"),
                     go.Bar(y=["c0", "c1"], x=[3.0, 4.0], name="style", orientation="h")])
    for spec in both(fig):
        frame, _ = figure_table(spec)
        assert frame[["trace", "x", "y"]].values.tolist() == [["content", "c0", 1.0], ["content", "c1", 2.0],
                                                              ["style", 3.0, "c0"], ["style", 4.0, "c1"]]


def test_box_rows_are_its_samples_without_made_up_positions():
    ratios = np.array([0.9, 1.1, 1.0, 1.3])
    for spec in both(go.Figure(go.Box(y=ratios, name="RMSNorm", boxpoints="all"))):
        frame, _ = figure_table(spec)
        assert list(frame.columns) == ["trace", "y"]
        np.testing.assert_array_equal(frame["y"], ratios)


def test_heatmap_rows_columns_values_with_and_without_labels():
    z = np.arange(6.0).reshape(2, 3)
    labelled = go.Figure(go.Heatmap(z=z, x=["a", "b", "c"], y=["p", "q"], name="H"))
    for spec in both(labelled):
        frame, _ = figure_table(spec)
        assert list(frame.columns) == ["trace", "row", "column", "value"]
        assert frame.iloc[4].to_dict() == {"trace": "H", "row": "q", "column": "b", "value": 4.0}
        np.testing.assert_array_equal(frame["value"], z.ravel())
    gaps = np.array([[1.0, np.nan], [None, 4.0]], dtype=float)  # a heatmap's gaps are not values
    frame, _ = figure_table(go.Figure(go.Heatmap(z=gaps)).to_plotly_json())
    assert frame[["row", "column", "value"]].values.tolist() == [[0, 0, 1.0], [1, 1, 4.0]]


def test_a_table_trace_keeps_its_header():
    fig = go.Figure(go.Table(header=dict(values=["norm", "ms"]), cells=dict(values=[["BN", "LN"], [1.5, 2.5]])))
    frame, _ = figure_table(fig.to_plotly_json())
    assert frame.to_dict("records") == [{"trace": "trace 0", "norm": "BN", "ms": 1.5},
                                        {"trace": "trace 0", "norm": "LN", "ms": 2.5}]


def test_legend_only_and_hidden_traces_add_no_rows():
    fig = go.Figure([go.Scatter(x=[None], y=[None], name="selected element", mode="markers"),
                     go.Scatter(x=[1, 2], y=[3, 4], visible=False), go.Scatter(x=[0], y=[1], name="kept")])
    frame, _ = figure_table(fig.to_plotly_json())
    assert frame["trace"].tolist() == ["kept"]
    assert figure_table({"data": []})[0].empty and figure_table({"layout": {}})[0].empty


def test_rows_are_capped_and_the_note_says_how_many_were_left():
    fig = go.Figure([go.Scatter(y=np.arange(30.0)), go.Heatmap(z=np.ones((4, 5)))])
    frame, note = figure_table(fig.to_plotly_json(), max_rows=25)
    assert len(frame) == 25 and note == "Showing the first 25 of 50 values."
    assert figure_table(fig.to_plotly_json(), max_rows=50)[1] is None


# -- the app's own figures --------------------------------------------------------------------

SPEC = CubeSpec(norm="group", shape=(2, 4, 3, 3), index=(1, 2, 0, 1), groups=2)
X = make_data(SPEC.shape, seed=0)


@pytest.mark.parametrize("builder", [unfolded_figure, cube_figure])
def test_the_cube_views_list_every_cell_with_its_numbers_not_its_drawing_position(builder):
    stats = element_stats(SPEC, X)
    for spec in both(builder(SPEC, X)):
        frame, note = figure_table(spec)
        assert note is None
        cells = frame[frame["trace"] != "selected element"]
        assert len(cells) == X.size  # the shown norm's traces; the other norms' are hidden
        idx = tuple(cells[["n", "c", "h", "w"]].to_numpy(dtype=int).T)
        assert len(set(zip(*idx))) == X.size  # each cell once
        np.testing.assert_allclose(cells["value"].to_numpy(dtype=float), X[idx], rtol=1e-3)
        np.testing.assert_allclose(cells["x̂"].to_numpy(dtype=float), stats.x_hat[idx], rtol=1e-3, atol=1e-4)
        pooled = cells[cells["trace"].str.startswith("pooled")]
        assert np.ptp(pooled["μ"].to_numpy(dtype=float)) == 0  # one set: one mean
        selected = frame[frame["trace"] == "selected element"][["n", "c", "h", "w"]].to_numpy().tolist()
        assert selected == [list(SPEC.index)]


def test_the_walkthrough_heatmaps_give_their_numbers():
    stats = element_stats(SPEC, X)
    heat = [s for s in steps(SPEC, X, stats) if any(t.type == "heatmap" for t in step_figure(SPEC, X, s).data)]
    assert heat, "some walkthrough step draws a heatmap"
    fig = step_figure(SPEC, X, heat[0])
    for spec in both(fig):
        frame, _ = figure_table(spec)
        z = np.asarray(next(t for t in fig.data if t.type == "heatmap").z, dtype=float)
        np.testing.assert_allclose(np.sort(frame.loc[frame["value"].notna(), "value"].to_numpy(dtype=float)),
                                   np.sort(z[np.isfinite(z)]))


def test_image_lab_lines_and_bars():
    labels = {"batch": "BN", "layer": "LN"}
    edges = np.linspace(-3, 3, 7)
    hist = histogram_figure({"batch": np.arange(6.0) / 15, "layer": np.ones(6) / 6}, edges, labels, title="h")
    frame, _ = figure_table(both(hist)[1])
    assert len(frame) == 12 and frame.loc[frame["trace"] == "LN", "y"].tolist() == pytest.approx([1 / 6] * 6)
    strength = strength_figure(np.array([0.0, 0.5, 1.0]), {"layer": [0.0, 1e-3, 2e-3]}, labels, title="s")
    assert figure_table(strength.to_plotly_json())[0][["x", "y"]].values.tolist() == [[0.5, 1e-3], [1.0, 2e-3]]
    sigma = sigma_figure(np.ones(27), np.full(27, 2.0), np.full(27, 3.0), title="σ")
    frame, _ = figure_table(both(sigma)[1])
    assert len(frame) == 81 and frame.groupby("trace")["y"].mean().to_dict() == {
        "content": 1.0, "output": 3.0, "style (target)": 2.0}
