"""Transformer lab: a tiny transformer sorting 8 digits, its norm chosen per run, trained live.

Thin page: controls (``views/transformer/controls.py``) -> runs submitted to the server's
TrainingService (worker processes, portable numerics) running ``normviz.transformer.train`` ->
a fragment that polls them and draws a view (``views/transformer/runs.py``), or the shipped
experiments with a live re-run of one sweep cell (``views/transformer/shipped.py``). The run
scaffold (URL state, Run/Stop, polling, redraw throttle, exports) is the training lab's
(``views/runs_lab.py``).
"""
from __future__ import annotations

import streamlit as st

from app_pages.views.transformer import controls, runs, shipped
from app_pages.views.transformer.common import CELL, LAB, RUNS

LOCK_LABELS = {"norm": "norms", "placement": "placements", "depth": "blocks", "lr": "learning rates",
               "warmup": "warm-up steps", "steps": "steps", "seed": "seed", "preset": "preset", "view": "view"}

st.title("Transformer lab")
st.markdown("A tiny transformer (nanoGPT style: 2–6 blocks, d_model 32, 2 heads) learns to **sort 8 digits**: "
            "every output position depends on every input token, so it needs attention. Choose each run's norm "
            "and where it sits (pre- or post-norm), train up to four side by side in seconds on a CPU, and watch "
            "the gradients, the residual stream and the norm's own statistics.")

ss = st.session_state
shown = LAB.open(LOCK_LABELS, {"norm": lambda v: ", ".join(map(controls.norm_name, v))})
controls.presets(shown)
controls.configure(shown)
LAB.run_bar(shown)
if LAB.view() == "experiments":
    shipped.render()  # static: drawn once per page run, not on every tick of the fragment below


def draw(view: str) -> None:
    if view == "experiments":
        shipped.rerun(ss[CELL])
    else:
        runs.render(ss[RUNS], view)


LAB.live(draw)
