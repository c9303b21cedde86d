"""Transformer lab: a tiny transformer sorting 8 digits, its norm chosen per run, trained live.

Thin page: controls (``views/transformer/controls.py``) -> runs submitted to the server's
TrainingService (worker processes, portable numerics) running ``normviz.transformer.train`` ->
a fragment that polls them and draws a view (``views/transformer/runs.py``), or the shipped
experiments with a live re-run of one sweep cell (``views/transformer/shipped.py``).
"""
from __future__ import annotations

import streamlit as st

from app_pages.kit import show_locks, show_notices, training_service, write_url
from app_pages.views.transformer import controls, runs, shipped
from app_pages.views.transformer.common import (CELL, LAST, P, RUNNING, RUNS, configs, k, seed_widgets,
                                                start_runs, state_from_widgets, stop_runs)
from normviz.training import jobs
from normviz.transformer.page_state import TransformerLabState

TICK_S = 0.25
VIEWS = {"overview": "Loss & accuracy", "gradients": "Gradient per block", "residual": "Residual stream",
         "tokens": "Per-token statistics", "dyt": "DyT α & norm scatter", "experiments": "Shipped experiments"}
LOCK_LABELS = {"norm": "norms", "placement": "placements", "depth": "blocks", "lr": "learning rates",
               "warmup": "warm-up steps", "steps": "steps", "seed": "seed", "preset": "preset", "view": "view"}

st.title("Transformer lab")
st.markdown("A tiny transformer (nanoGPT style: 2–6 blocks, d_model 32, 2 heads) learns to **sort 8 digits**: "
            "every output position depends on every input token, so it needs attention. Choose each run's norm "
            "and where it sits (pre- or post-norm), train up to four side by side in seconds on a CPU, and watch "
            "the gradients, the residual stream and the norm's own statistics.")

ss = st.session_state
for key, empty in ((RUNS, []), (CELL, []), (RUNNING, False)):
    ss.setdefault(key, empty)
if k("n_runs") not in ss:  # first visit in this session (or after a page switch)
    params = {name: st.query_params.get_all(name) for name in st.query_params.keys()}
    if params or LAST not in ss:
        state, notices = TransformerLabState.from_query(params)
    else:
        state, notices = ss[LAST], []
    seed_widgets(state)
    ss[f"{P}:notices"] = notices
show_notices(P, ss.get(f"{P}:notices", []))
locks = state_from_widgets()
show_locks(locks, LOCK_LABELS, {"norm": lambda v: ", ".join(map(controls.norm_name, v))})


def shown(name: str) -> bool:
    return not locks.is_locked(name)


controls.presets(shown)
controls.configure(shown)
state = state_from_widgets()
ss[LAST] = state
write_url(state)

b1, b2, b3 = st.columns([1, 1, 3])
b1.button("Run", key=f"{P}:run", icon=":material/play_arrow:", on_click=lambda: start_runs(state_from_widgets()),
          disabled=ss[RUNNING])
b2.button("Stop", key=f"{P}:stop", icon=":material/stop:", on_click=stop_runs, disabled=not ss[RUNNING])
for label, cfg, err in configs(state):
    if cfg is None:
        b3.error(f"Run {label}: {err}", icon="🚫")
if shown("view"):
    st.segmented_control("View", list(VIEWS), key=k("view"), format_func=VIEWS.get)
if (ss[k("view")] or "overview") == "experiments":
    shipped.render()  # static: drawn once per page run, not on every tick of the fragment below


@st.fragment(run_every=TICK_S if ss[RUNNING] else None)
def live() -> None:
    """Poll the service for the session's runs, then draw the open view."""
    if ss[RUNNING]:
        for job in ss[RUNS] + ss[CELL]:
            jobs.refresh(training_service(), job)
    view = ss[k("view")] or "overview"
    if view == "experiments":
        shipped.rerun(ss[CELL])
    else:
        runs.render(ss[RUNS], view)
    if ss[RUNNING] and not any(j.active for j in ss[RUNS] + ss[CELL]):
        ss[RUNNING] = False
        st.rerun()  # the whole page, so the fragment stops ticking and the buttons update


live()
