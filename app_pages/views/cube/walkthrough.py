"""The cube page's walkthrough: one norm, step by step, on the live numbers.

The steps come from ``normviz.cube.walkthrough.steps`` (chosen by the registry spec). The step
number lives in the URL (``step=``, counted from 1; 0 = closed) as the ``cube.step`` session
value, so a teacher can link step 3 of GroupNorm. ← and → step back and forward: a tiny
``st.components.v2`` component listens to keydown on the document (v2 components run in the
page, not in an iframe) and sends "prev"/"next" as a trigger; keys typed into inputs are left
alone. The step number is a plain session value, not a widget's, so it survives runs where the
walkthrough is closed.
"""
from __future__ import annotations

import streamlit as st

from app_pages._live_chart import live_chart
from app_pages._classroom import presenting
from app_pages.kit import explained_errors, wkey
from normviz.cube import walkthrough as walk

KEY = wkey("cube", "step")

_KEYS_JS = r"""
export default function ({ parentElement, setTriggerValue }) {
  // One listener per page, calling the newest setTriggerValue (Streamlit calls this again on reruns).
  window.__normvizStep = setTriggerValue;
  if (window.__normvizStepListener) return;
  window.__normvizStepListener = (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const t = event.target;
    const typing = t && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName)
      || t.getAttribute("role") === "slider" || t.getAttribute("role") === "combobox");
    if (typing) return;  // arrows belong to the focused control
    const move = { ArrowRight: "next", ArrowLeft: "prev" }[event.key];
    if (!move || !document.querySelector("[data-normviz-walk]")) return;
    event.preventDefault();
    window.__normvizStep("move", move);
  };
  document.addEventListener("keydown", window.__normvizStepListener);
}
"""
# The marker element tells the listener a walkthrough is on the page (it stays registered after
# a page switch, but then finds no marker and lets the keys through).
_keys = st.components.v2.component("normviz.step_keys", html="<span data-normviz-walk hidden></span>", js=_KEYS_JS,
                                   isolate_styles=False)  # no shadow root: the listener finds the marker


def _move(delta: int, count: int) -> None:
    st.session_state[KEY] = walk.clamp_step(int(st.session_state.get(KEY, 0)) - 1 + delta, count) + 1


def _noop() -> None:
    """v2 reports a trigger only to a registered callback; the value is read from the result."""


def render(spec, x, stats, locked: bool = False) -> None:
    """The walkthrough section: a start button when closed, else the step, its formula and cells.
    ``locked``: the teacher fixed the step (``lock=step``): show it without the step controls."""
    steps = walk.steps(spec, x, stats)
    count = len(steps)
    current = int(st.session_state.get(KEY, 0))
    if locked and current <= 0:
        return
    st.subheader("Step by step")
    if locked:
        step = steps[walk.clamp_step(current - 1, count)]
        st.markdown(f"**Step {steps.index(step) + 1} of {count}: {step.title}**")
        return _show(spec, x, step, steps.index(step) + 1, count)
    if current <= 0:
        st.button(f"Walk through {spec.norm_spec.name} step by step ({count} steps)", key=wkey("cube", "walk_open"),
                  on_click=_move, args=(1, count), icon=":material/footprint:")
        return
    pressed = _keys(key=wkey("cube", "step_keys"), on_move_change=_noop).get("move")
    if pressed in ("next", "prev"):  # only in the run a key press started
        _move(1 if pressed == "next" else -1, count)
    current = walk.clamp_step(int(st.session_state[KEY]) - 1, count) + 1  # a linked step beyond the list: the last
    st.session_state[KEY] = current
    step = steps[current - 1]
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        st.button("Back", key=wkey("cube", "walk_prev"), on_click=_move, args=(-1, count), disabled=current == 1,
                  icon=":material/arrow_back:")
        st.button("Next", key=wkey("cube", "walk_next"), on_click=_move, args=(1, count), disabled=current == count,
                  icon=":material/arrow_forward:")
        st.button("Close", key=wkey("cube", "walk_close"), on_click=lambda: st.session_state.update({KEY: 0}),
                  icon=":material/close:")
        st.markdown(f"**Step {current} of {count}: {step.title}** · ← / → keys step too")
    _show(spec, x, step, current, count)


def _show(spec, x, step: walk.Step, current: int, count: int) -> None:
    st.markdown(step.text)
    with explained_errors():
        st.latex(step.latex)
    fig = walk.step_figure(spec, x, step)
    if presenting():  # plotly's sizes are px: scale them with the presenter's type
        fig.update_layout(font_size=18, height=fig.layout.height * 1.4)
    # In place: stepping redraws the same div instead of mounting a new chart per step.
    live_chart(fig, key=wkey("cube", "walk_figure"), alt=f"Step {current} of {count}, {step.title}: {step.text}",
               png_name=f"normviz-walkthrough-step-{current}")
