"""Training lab: small live training runs on 8×8 digits, side by side under different norms.

Thin page: the controls (``views/training/controls.py``) -> runs submitted to the server's
TrainingService (worker processes in portable numerics mode, identical configs shared across
sessions) as typed jobs (``normviz.training.jobs``) -> a fragment that polls them and draws a view
(``views/training/runs.py``, ``views/training/sweep.py``). The GN batch-size sweep is shipped
precomputed (data/gn_batch_sweep.json) and any cell can be re-run live, with the shipped numbers.
"""
from __future__ import annotations

import streamlit as st

from app_pages.kit import show_locks, show_notices, training_service, write_url
from app_pages.views.training import controls, runs, sweep
from app_pages.views.training.common import (CELL_JOBS, CELLS, LAST, P, RUNNING, RUNS, configs, k, seed_widgets,
                                             start_runs, state_from_widgets, stop_runs)
from normviz.norms.table import display_name
from normviz.state import TrainingLabState
from normviz.training import jobs

TICK_S = 0.25  # fragment period: each tick reads the runs' new snapshots
VIEWS = {"bn_fig1": "BN Figure 1", "overview": "Loss & accuracy", "distributions": "Percentile bands",
         "histograms": "Histograms over time", "sweep": "Batch-size sweep (GN Figure 1)"}
LOCK_LABELS = {"norm": "norms", "batch": "batch sizes", "lr": "learning rates", "model": "models",
               "init": "init std", "affine": "γ, β (affine)", "wd": "weight decay", "steps": "steps", "seed": "seed", "preset": "preset", "view": "view"}

st.title("Training lab")
st.markdown("Train small networks on scikit-learn's 8×8 digits (1 438 training and 359 test images, bundled; "
            "no download) and watch what a normalization layer does to the distributions inside the network "
            "and to learning. Runs take seconds on a CPU.")

ss = st.session_state
for key, empty in ((RUNS, []), (CELL_JOBS, []), (RUNNING, False), (CELLS, [])):
    ss.setdefault(key, empty)
if k("n_runs") not in ss:  # first visit in this session (or after a page switch)
    params = {name: st.query_params.get_all(name) for name in st.query_params.keys()}
    if params or LAST not in ss:
        state, notices = TrainingLabState.from_query(params)
    else:
        state, notices = ss[LAST], []
    seed_widgets(state)
    ss[f"{P}:notices"] = notices
show_notices(P, ss.get(f"{P}:notices", []))
locks = state_from_widgets()  # only its ``lock`` is used: the controls a teacher's link fixed
show_locks(locks, LOCK_LABELS, {"norm": lambda v: ", ".join(map(display_name, v))})


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
        b3.error(f"{label}: {err}", icon="🚫")
if shown("view"):
    st.segmented_control("View", list(VIEWS), key=k("view"), format_func=VIEWS.get)


@st.fragment(run_every=TICK_S if ss[RUNNING] else None)
def live() -> None:
    """Poll the service for the session's runs, then draw the open view."""
    if ss[RUNNING]:
        for job in ss[RUNS] + ss[CELL_JOBS]:
            jobs.refresh(training_service(), job)
        for job in ss[CELL_JOBS]:
            result = jobs.cell_result(job)
            if result is not None and result not in ss[CELLS]:
                ss[CELLS].append(result)
    view = ss[k("view")] or "bn_fig1"
    if view == "sweep":
        sweep.render(ss[CELL_JOBS])
    else:
        runs.render(ss[RUNS], view)
    if ss[RUNNING] and not any(j.active for j in ss[RUNS] + ss[CELL_JOBS]):
        ss[RUNNING] = False
        st.rerun()  # the whole page, so the fragment stops ticking and the buttons update


live()
