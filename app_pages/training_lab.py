"""Training lab: small live training runs on 8×8 digits, side by side under different norms.

Thin page: the controls (``views/training/controls.py``) -> runs submitted to the server's
TrainingService (worker processes in portable numerics mode, identical configs shared across
sessions) as typed jobs (``normviz.training.jobs``) -> a fragment that polls them and draws a view
(``views/training/runs.py``, ``views/training/sweep.py``). The run scaffold (URL state, Run/Stop,
polling, redraw throttle, exports) is the one the transformer lab uses (``views/runs_lab.py``).
The GN batch-size sweep is shipped precomputed (data/gn_batch_sweep.json) and any cell can be
re-run live, with the shipped numbers.
"""
from __future__ import annotations

import streamlit as st

from app_pages.views.training import controls, runs, sweep
from app_pages.views.training.common import CELL_JOBS, CELLS, LAB, RUNS
from normviz.norms.table import display_name
from normviz.training import jobs

LOCK_LABELS = {"norm": "norms", "batch": "batch sizes", "lr": "learning rates", "model": "models",
               "init": "init std", "affine": "γ, β (affine)", "wd": "weight decay", "steps": "steps", "seed": "seed", "preset": "preset", "view": "view"}

st.title("Training lab")
st.markdown("Train small networks on scikit-learn's 8×8 digits (1 438 training and 359 test images, bundled; "
            "no download) and watch what a normalization layer does to the distributions inside the network "
            "and to learning. Runs take seconds on a CPU.")

ss = st.session_state
ss.setdefault(CELLS, [])
shown = LAB.open(LOCK_LABELS, {"norm": lambda v: ", ".join(map(display_name, v))})
controls.presets(shown)
controls.configure(shown)
LAB.run_bar(shown)


def collect_cells() -> None:
    """Keep each finished sweep-cell re-run as a sweep cell (drawn beside the shipped ones)."""
    for job in ss[CELL_JOBS]:
        result = jobs.cell_result(job)
        if result is not None and result not in ss[CELLS]:
            ss[CELLS].append(result)


def draw(view: str) -> None:
    if view == "sweep":
        sweep.render(ss[CELL_JOBS])
    else:
        runs.render(ss[RUNS], view)


LAB.live(draw, after_refresh=collect_cells)
