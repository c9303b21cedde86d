"""The cube walkthrough under AppTest: step= in the URL opens that step, Next/Back/Close move it and
the URL follows, every norm's steps render with numbers equal to the library's; presenter mode
and the link to this view come from app.py on every page."""
from __future__ import annotations


import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app_pages._live_chart import COMPONENT, payload

from normviz.cube import numbers as cn, walkthrough as walk
from normviz.norms import NORMS

PAGE = "../app_pages/cube.py"


def open_page(path=PAGE, **query) -> AppTest:
    at = AppTest.from_file(path, default_timeout=60)
    for k, v in query.items():
        at.query_params[k] = str(v)
    at.run()
    assert not at.exception, at.exception
    return at


def heading(at) -> str:
    hits = [m.value for m in at.markdown if m.value.startswith("**Step ")]
    assert len(hits) == 1, [m.value for m in at.markdown]
    return hits[0]


def expected_steps(**fields):
    """The library's steps for the page's default input with these fields changed."""
    from normviz.state import CubeState
    from app_pages.views.cube.controls import spec_of

    state, _ = CubeState.from_query({k: [str(v)] for k, v in fields.items()})
    spec = spec_of(state)
    x = cn.data_for(spec, state.data, state.seed)
    return walk.steps(spec, x)


def test_closed_by_default_and_opened_by_its_button():
    at = open_page()
    start = [b for b in at.button if b.key == "cube.walk_open"]
    assert start and "GroupNorm" in start[0].label and "7 steps" in start[0].label
    start[0].click().run()
    assert heading(at).startswith("**Step 1 of 7: Pick the element**")
    assert at.query_params["step"] == "1"


def test_step_in_the_url_opens_that_step_and_the_buttons_move_it():
    at = open_page(norm="group", step=3)
    steps = expected_steps(norm="group")
    assert heading(at).startswith(f"**Step 3 of {len(steps)}: {steps[2].title}**")
    assert any(steps[2].latex in el.value for el in at.latex)
    mu = steps[2].values["mu"]
    assert f"{mu:.4g}" in steps[2].latex
    fig = next(f for f in (payload(el)["figure"] for el in at.get("bidi_component") if el.proto.component_name == COMPONENT)
               if f["layout"].get("title", {}).get("text", "").startswith(steps[2].title))
    assert len(fig["data"][1]["x"]) == 48  # GN with G = 2, C = 6, H = W = 4: 3·4·4 cells outlined
    at.button(key="cube.walk_next").click().run()
    assert heading(at).startswith("**Step 4 of") and at.query_params["step"] == "4"
    at.button(key="cube.walk_prev").click().run()
    at.button(key="cube.walk_prev").click().run()
    assert heading(at).startswith("**Step 2 of") and at.query_params["step"] == "2"
    at.button(key="cube.walk_close").click().run()
    assert "step" not in at.query_params and any(b.key == "cube.walk_open" for b in at.button)


def test_a_step_beyond_the_list_shows_the_last_and_bad_steps_are_explained():
    at = open_page(norm="rms", step=40)
    n = len(expected_steps(norm="rms"))
    assert heading(at).startswith(f"**Step {n} of {n}: The output**")
    at = open_page(step="three")
    assert any("step" in w.value and "whole number" in w.value for kind in ("warning", "info", "caption", "markdown") for w in getattr(at, kind))


@pytest.mark.parametrize("norm", list(NORMS))
def test_every_norm_walks_to_its_end(norm):
    steps = expected_steps(norm=norm)
    at = open_page(norm=norm, step=len(steps))
    assert heading(at).startswith(f"**Step {len(steps)} of {len(steps)}: {steps[-1].title}**")
    assert any(steps[-1].latex in el.value for el in at.latex)
    hats = [s.values["x_hat"] for s in steps if "x_hat" in s.values]
    assert hats and np.isfinite(hats[-1])


def test_presenter_mode_and_the_link_to_this_view():
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception, at.exception
    assert any("font-size: 22px" in h.proto.body for h in at.get("html"))
    codes = [c.value for c in at.code]
    assert any(c.endswith("present=1") for c in codes) and any(c.endswith("embed=true") for c in codes)
    at = AppTest.from_file("../app.py", default_timeout=60).run()
    assert not any("font-size: 22px" in h.proto.body for h in at.get("html"))


def test_a_locked_step_is_shown_without_step_controls():
    at = open_page(norm="layer", step=4, lock="step")
    assert heading(at).startswith("**Step 4 of 7: The variance σ²**")
    assert not [b for b in at.button if b.key and b.key.startswith("cube.walk_")]
    at = open_page(lock="step")
    assert not [b for b in at.button if b.key and b.key.startswith("cube.walk_")]
