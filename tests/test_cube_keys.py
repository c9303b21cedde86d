"""Keyboard walking of the unfolded view (normviz.cube.keys): every move stays inside the tensor,
clamps at the edges, and moves the selection the way it looks in the unfolded figure."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

from normviz.cube.figures import unfolded_figure
from normviz.cube.keys import KEY_MOVES, KEYS, key_help, moved, selection_text
from normviz.cube.numbers import CubeSpec, make_data

shapes = st.tuples(*[st.integers(1, 9)] * 4)


@st.composite
def index_in_shape(draw):
    shape = draw(shapes)
    index = tuple(draw(st.integers(0, s - 1)) for s in shape)
    return index, shape


@given(index_in_shape(), st.lists(st.sampled_from(KEYS), max_size=30))
def test_any_sequence_of_keys_stays_inside_the_shape(case, keys):
    index, shape = case
    for key in keys:
        new = moved(index, shape, key)
        assert all(0 <= i < s for i, s in zip(new, shape)), (index, shape, key, new)
        # One key changes at most one axis, by at most one step.
        assert sum(abs(a - b) for a, b in zip(new, index)) <= 1
        index = new


@given(index_in_shape(), st.sampled_from(KEYS))
def test_a_move_off_the_edge_stays_put_otherwise_one_step(case, key):
    index, shape = case
    axis, step = KEY_MOVES[key]
    target = index[axis] + step
    expected = list(index)
    if 0 <= target < shape[axis]:
        expected[axis] = target
    assert moved(index, shape, key) == tuple(expected)


@pytest.mark.parametrize("key, expected", [
    ("ArrowRight", (1, 2, 1, 3)), ("ArrowLeft", (1, 2, 1, 1)),
    ("ArrowDown", (1, 2, 2, 2)), ("ArrowUp", (1, 2, 0, 2)),
    ("Shift+ArrowRight", (1, 3, 1, 2)), ("Shift+ArrowLeft", (1, 1, 1, 2)),
    ("Shift+ArrowDown", (2, 2, 1, 2)), ("Shift+ArrowUp", (0, 2, 1, 2)),
])
def test_each_key_moves_its_axis(key, expected):
    assert moved((1, 2, 1, 2), (3, 6, 4, 4), key) == expected


def test_edges_clamp_instead_of_wrapping():
    shape = (2, 6, 4, 4)
    assert moved((0, 0, 0, 0), shape, "ArrowLeft") == (0, 0, 0, 0)
    assert moved((0, 0, 0, 0), shape, "Shift+ArrowUp") == (0, 0, 0, 0)
    assert moved((1, 5, 3, 3), shape, "ArrowRight") == (1, 5, 3, 3)
    assert moved((1, 5, 3, 3), shape, "Shift+ArrowDown") == (1, 5, 3, 3)


@pytest.mark.parametrize("index, shape, key, message", [
    ((0, 0, 0, 0), (2, 6, 4, 4), "Enter", "unknown key 'Enter'; the unfolded view handles ArrowLeft"),
    ((0, 0, 0), (2, 6, 4, 4), "ArrowLeft", r"index and shape must both be \(n, c, h, w\)"),
])
def test_bad_input_is_named(index, shape, key, message):
    with pytest.raises(ValueError, match=message):
        moved(index, shape, key)


def _drawn_at(fig, index) -> tuple[float, float]:
    """Where the unfolded figure draws element ``index`` (its point's customdata starts with it)."""
    for trace in fig.data:
        cd = np.asarray(trace.customdata) if trace.customdata is not None else None
        if cd is None or cd.ndim != 2:
            continue
        hits = np.flatnonzero((cd[:, :4].astype(int) == index).all(axis=1))
        if hits.size:
            return float(np.asarray(trace.x)[hits[0]]), float(np.asarray(trace.y)[hits[0]])
    raise AssertionError(f"element {index} is not drawn")


@pytest.mark.parametrize("key", KEYS)
def test_the_arrow_points_where_the_selection_goes_in_the_unfolded_view(key):
    """→ moves the selection right on screen, ↓ down (the y axis is reversed), with or without Shift."""
    shape, index = (3, 4, 3, 3), (1, 2, 1, 1)
    spec = CubeSpec(norm="group", shape=shape, index=index, groups=2)
    fig = unfolded_figure(spec, make_data(shape, seed=0))
    assert fig.layout.yaxis.autorange == "reversed"
    (x0, y0), (x1, y1) = _drawn_at(fig, index), _drawn_at(fig, moved(index, shape, key))
    direction = key.removeprefix("Shift+")
    dx, dy = np.sign(x1 - x0), np.sign(y1 - y0)  # y grows downwards on screen
    assert (dx, dy) == {"ArrowRight": (1, 0), "ArrowLeft": (-1, 0), "ArrowDown": (0, 1), "ArrowUp": (0, -1)}[direction]


def test_help_and_announcement_use_the_views_index_names():
    assert key_help() == "←/→ move w, ↑/↓ move h, Shift+←/→ move c, Shift+↑/↓ move n"
    assert key_help(("o", "i", "kh", "kw")) == "←/→ move kw, ↑/↓ move kh, Shift+←/→ move i, Shift+↑/↓ move o"
    said = selection_text(("n", "c", "h", "w"), (0, 1, 2, 3), 0.5312, "GroupNorm pools 24 values.")
    assert said == "Selected (n, c, h, w) = (0, 1, 2, 3), x = 0.531. GroupNorm pools 24 values."
