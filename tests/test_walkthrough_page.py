"""The cube walkthrough under AppTest: step= in the URL opens that step, every step is on the page
at once (blocks hidden by CSS but the current one, the figure's frames) so the browser steps without
the server, the step the bar reports moves the URL, every norm's steps render with numbers equal to
the library's; presenter mode and the link to this view come from app.py on every page.
(The stepping itself, in the browser: tests/test_classroom_browser.py.)"""
from __future__ import annotations

import json
from functools import partial

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import page_utils
from app_pages._live_chart import payload
from app_pages.kit import CSS_MARK, split_latex
from app_pages.views.cube.walkthrough import block_key

from normviz.cube import numbers as cn, walkthrough as walk
from normviz.norms import NORMS
from normviz.palette import BLUE
from test_walkthrough import covered

open_page = partial(page_utils.open_page, "cube.py")


def bar(at) -> dict | None:
    """The step bar's data (step, count, chart, alts), or None when the page has no bar."""
    bars = [el for el in at.get("bidi_component") if el.proto.component_name == "normviz.walk_bar"]
    assert len(bars) <= 1
    return json.loads(bars[0].proto.json) if bars else None


def headings(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("**Step ")]


def heading(at) -> str:
    """The heading of the step the page shows (with a bar: the bar's step; locked: the only one)."""
    hits = headings(at)
    data = bar(at)
    if data is None:
        assert len(hits) == 1, hits
        return hits[0]
    assert len(hits) == data["count"], hits  # every step is on the page; CSS shows one
    return hits[data["step"] - 1]


def shows_formula(at, latex: str) -> bool:
    """Every line of the formula (one display-math markdown per \\quad part) is on the page."""
    shown = [el.value for el in at.markdown if el.value.startswith("$$")]
    return all(any(part in value for value in shown) for part in split_latex(latex))


def walk_chart(at) -> dict:
    return next(p for p in (payload(el) for el in page_utils.live_chart_elements(at))
                if p["name"] == "cube.walk_figure")


def page_styles(at) -> list[str]:
    """The page's own CSS (``kit.page_css``: markdown holding a marked ``<style>``)."""
    return [m.value for m in at.markdown if m.value.startswith(f"<style {CSS_MARK}>")]


def shown_without_script(at, count: int) -> list[int]:
    """The steps the page's CSS leaves visible before the bar's script runs (it should be one)."""
    css = "".join(page_styles(at))
    return [k for k in range(1, count + 1) if f"body:not(:has(.normviz-walk)) :is(.st-key-{block_key(k)}," not in css]


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
    assert at.query_params["step"] == "1" and bar(at)["step"] == 1


def test_step_in_the_url_opens_that_step_with_every_step_on_the_page():
    at = open_page(norm="group", step=3)
    steps = expected_steps(norm="group")
    n = len(steps)
    data = bar(at)
    assert (data["step"], data["count"], data["chart"]) == (3, n, "cube.walk_figure")
    assert heading(at).startswith(f"**Step 3 of {n}: {steps[2].title}**")
    assert [h.split(":")[0] for h in headings(at)] == [f"**Step {k} of {n}" for k in range(1, n + 1)]
    assert all(shows_formula(at, s.latex) for s in steps)  # every step's formula is there
    mu = steps[2].values["mu"]
    assert f"{mu:.4g}" in steps[2].latex
    assert shown_without_script(at, n) == [3]
    assert data["alts"][2].startswith(f"Step 3 of {n}, {steps[2].title}: ")
    chart = walk_chart(at)
    assert chart["frame"] == 2 and chart["figure"]["layout"]["title"]["text"].startswith(steps[2].title)
    # GN with G = 2, C = 6, H = W = 4: 3·4·4 cells outlined
    assert covered(chart["figure"]["layout"]["shapes"], 2 * 6, 4 * 4, BLUE).sum() == 48
    frames = chart["figure"]["frames"]
    assert [f["name"] for f in frames] == [str(k) for k in range(1, n + 1)]
    assert [covered(f["layout"]["shapes"], 12, 16, BLUE).sum() for f in frames] == [int(s.cells.sum()) for s in steps]
    assert all(f["traces"] == [] and f["layout"]["meta"]["alt"] == a for f, a in zip(frames, data["alts"]))


def test_the_step_the_bar_reports_moves_the_url_and_close_closes():
    """The bar's sync callback sets ``cube.step``; the page follows it (the bar itself: in Chromium)."""
    at = open_page(norm="group", step=3)
    at.session_state["cube.step"] = 5
    at.run()
    assert bar(at)["step"] == 5 and at.query_params["step"] == "5" and walk_chart(at)["frame"] == 4
    at.session_state["cube.norm"] = "rms"  # the step survives a change of the norm, clamped to its list
    at.run()
    assert bar(at) is not None and heading(at).startswith(f"**Step 5 of {len(expected_steps(norm='rms'))}")
    at.session_state["cube.step"] = 0
    at.run()
    assert bar(at) is None and "step" not in at.query_params and any(b.key == "cube.walk_open" for b in at.button)


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
    assert shows_formula(at, steps[-1].latex)
    hats = [s.values["x_hat"] for s in steps if "x_hat" in s.values]
    assert hats and np.isfinite(hats[-1])


def test_presenter_mode_and_the_link_to_this_view():
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception, at.exception
    assert any("font-size: 22px" in css for css in page_styles(at))
    assert not at.sidebar.children and not at.code  # the page alone: no sidebar, no link to copy
    at = AppTest.from_file("../app.py", default_timeout=60).run()
    assert not any("font-size: 22px" in css for css in page_styles(at))
    codes = [c.value for c in at.sidebar.code]
    assert any(c.endswith("present=1") for c in codes) and any(c.endswith("embed=true") for c in codes)


def test_presenter_mode_lasts_the_session_across_a_page_switch():
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.query_params["present"] = "1"
    at.run()
    at.query_params.clear()  # a page link opens the next page with no query string
    at.switch_page("app_pages/cube.py").run()
    assert not at.exception, at.exception
    assert any("font-size: 22px" in css for css in page_styles(at)) and at.query_params["present"] == "1"
    at.query_params["present"] = "0"
    at.run()
    assert not any("font-size: 22px" in css for css in page_styles(at))


def test_a_locked_step_is_shown_without_step_controls():
    at = open_page(norm="layer", step=4, lock="step")
    assert heading(at).startswith("**Step 4 of 7: The variance σ²**")
    assert not [b for b in at.button if b.key and b.key.startswith("cube.walk_")] and bar(at) is None
    at = open_page(lock="step")
    assert not [b for b in at.button if b.key and b.key.startswith("cube.walk_")] and not headings(at)
