"""The cube page's walkthrough: one norm, step by step, on the live numbers.

The steps come from ``normviz.cube.walkthrough.steps`` (chosen by the registry spec). The step
number lives in the URL (``step=``, counted from 1; 0 = closed) as the ``cube.step`` session
value, so a teacher can link step 3 of GroupNorm.

Stepping happens in the browser, with no rerun: every step is on the page at once. Each step's
heading, sentence and formula are Streamlit elements in a keyed container, all hidden but one by
CSS that reads the step bar's ``data-step``; the figure is one ``live_chart`` holding every step
as a plotly frame (``walkthrough.walk_figure``: the heatmap travels once). The step bar
(``walk_bar.js``, a ``st.components.v2`` component) has Back / Next / Close and listens for ← / →
on the document (keys typed into inputs are left alone); a step sets ``data-step``, draws the
chart's frame, writes ``step=`` into the URL and, after a pause, reports the step to Python (one
rerun per burst of steps, so the step survives later runs). Close is a round trip. ``lock=step``
shows the linked step alone, without the bar.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from app_pages._live_chart import live_chart
from app_pages.kit import explained_errors, latex_lines, page_css, wkey
from normviz.cube import walkthrough as walk

KEY = wkey("cube", "step")
BAR = wkey("cube", "walk_bar")
FIGURE = wkey("cube", "walk_figure")

_BAR_CSS = """
.normviz-walk { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem; }
.normviz-walk button { font: inherit; color: inherit; background: #fff; min-height: 2.5rem; cursor: pointer;
  padding: 0.25rem 0.75rem; border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem; }
.normviz-walk button:hover:not(:disabled) { border-color: #C8102E; color: #C8102E; }
.normviz-walk button:focus-visible { outline: 3px solid #0072B2; outline-offset: 2px; }
.normviz-walk button:disabled { cursor: not-allowed; color: rgba(22, 24, 31, 0.55); }
.normviz-walk .hint { font-size: 0.875rem; color: rgba(22, 24, 31, 0.7); }
.normviz-walk-status { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
"""
_bar = st.components.v2.component("normviz.walk_bar", html="", js=(Path(__file__).with_name("walk_bar.js")).read_text(),
                                  css=_BAR_CSS, isolate_styles=False)  # no shadow root: page CSS reads data-step


def block_key(number: int) -> str:
    """The container key of step ``number``'s heading, sentence and formula (class ``st-key-<key>``)."""
    return f"cube-walk-step-{number}"


def visibility_css(count: int, current: int) -> str:
    """Hide every step's block but the one the bar shows; before the bar's script has run, but ``current``.

    The block's layout wrapper goes too: a hidden block in a visible wrapper would still take the
    page's gap between elements."""
    def block(k: int) -> str:
        return f":is(.st-key-{block_key(k)}, :has(> .st-key-{block_key(k)}))"

    hidden = [f'body:has(.normviz-walk:not([data-step="{k}"])) {block(k)}' for k in range(1, count + 1)]
    hidden += [f"body:not(:has(.normviz-walk)) {block(k)}" for k in range(1, count + 1) if k != current]
    return ",\n".join(hidden) + " { display: none; }"


def _open() -> None:
    st.session_state[KEY] = 1


def _close() -> None:
    st.session_state[KEY] = 0


def _synced() -> None:
    """The bar reports where the user stepped to (after a pause): later runs and the URL keep it."""
    step = (st.session_state.get(BAR) or {}).get("step")
    if isinstance(step, int) and step > 0:
        st.session_state[KEY] = step


def render(spec, x, stats, locked: bool = False) -> None:
    """The walkthrough section: a start button when closed, else the steps and their figure.
    ``locked``: the teacher fixed the step (``lock=step``): show it without the step controls."""
    steps = walk.steps(spec, x, stats)
    count = len(steps)
    current = int(st.session_state.get(KEY, 0))
    if locked and current <= 0:
        return
    st.subheader("Step by step")
    if not locked and current <= 0:
        st.button(f"Walk through {spec.norm_spec.name} step by step ({count} steps)", key=wkey("cube", "walk_open"),
                  on_click=_open, icon=":material/footprint:")
        return
    current = walk.clamp_step(current - 1, count) + 1  # a linked step beyond the list: the last
    st.session_state[KEY] = current
    alts = [walk.step_alt(step, k, count) for k, step in enumerate(steps, 1)]
    if locked:
        _block(steps[current - 1], current, count)
        live_chart(walk.step_figure(spec, x, steps[current - 1]), key=FIGURE, alt=alts[current - 1],
                   png_name=f"normviz-walkthrough-step-{current}")
        return
    _bar(key=BAR, data={"step": current, "count": count, "chart": FIGURE, "alts": alts},
         on_step_change=_synced, on_close_change=_close)
    page_css(visibility_css(count, current))
    for k, step in enumerate(steps, 1):
        with st.container(key=block_key(k)):
            _block(step, k, count)
    live_chart(walk.walk_figure(spec, x, steps, current - 1), key=FIGURE, alt=alts[current - 1], frame=current - 1,
               png_name="normviz-walkthrough")


def _block(step: walk.Step, number: int, count: int) -> None:
    """Step ``number``'s heading, sentence and formula lines, all as markdown that allows HTML.

    A fresh browser draws such markdown only once Streamlit's lazy raw-HTML renderer has loaded,
    the same moment the visibility CSS (``page_css``) applies. Plain markdown and ``st.latex`` draw
    before it: every step showed for ~0.3 s on a fresh load (measured in Chromium)."""
    html = {"unsafe_allow_html": True}  # no HTML in the text: this only picks the renderer
    st.markdown(f"**Step {number} of {count}: {step.title}**", **html)
    st.markdown(step.text, **html)
    with explained_errors():
        latex_lines(step.latex, with_page_css=True)
