"""Transformer lab, the views of the session's runs and their exports (CSV, JSON, PyTorch script)."""
from __future__ import annotations

import json
import time

import pandas as pd
import streamlit as st

from app_pages._live_chart import live_chart
from app_pages.views.training.runs import progress
from app_pages.views.transformer.common import P, RUNNING
from normviz.training import jobs
from normviz.transformer import figures
from normviz.transformer.export import pytorch_snippet, rows

REDRAW_S = 1.0  # while training, charts are rebuilt at most this often
VIEW_TEXT = {
    "overview": "Loss and per-token test accuracy on held-out sequences. Chance (the best guess of each sorted "
                "position without looking at the input) is about 30 %.",
    "gradients": "The gradient norm of each block's parameters. Step 0 is the gradient at initialisation: Xiong et "
                 "al. 2020 show post-LN's gradients are large near the output there, which is why it needs warm-up.",
    "residual": "The residual stream's size after each block. In pre-norm the blocks add to an un-normalized stream, "
                "so it can grow with depth; in post-norm every block ends in a norm.",
    "tokens": "LayerNorm's statistics are per token: μ and σ over that token's D features. No batch, no sequence "
              "length, no running average: training and inference compute the same thing, one token at a time.",
    "dyt": "DyT replaces the statistics by tanh(α·x) with a learned α. The scatter shows a norm layer's input and "
           "output per token: LN's per-token rescaling bends it into an S over many tokens (Zhu et al. 2025).",
}


def chart(name: str, build, *, alt: str) -> None:
    """Draw a figure; while runs are live, rebuild it at most every REDRAW_S seconds."""
    ss = st.session_state
    cache = ss.setdefault(f"{P}:figs", {})
    hit = cache.get(name)
    now = time.perf_counter()
    if hit is None or not ss[RUNNING] or now - hit[0] >= REDRAW_S:
        hit = (now, build())
        cache[name] = hit
    if hit[1] is not None:  # in place: a live run redraws the same div, the user's zoom stays
        live_chart(hit[1], key=f"{P}:{name}", alt=alt, png_name=f"normviz-transformer-{name}")


def render(run_jobs: list[jobs.Job], view: str) -> None:
    runs = [(j.label, j.snapshots) for j in run_jobs if j.snapshots]
    for job in run_jobs:
        progress(job)
    if not runs:
        st.info("Nothing has run yet: press **Run**, or a preset above. Nothing starts by itself.", icon="ℹ️")
        return
    st.caption(VIEW_TEXT[view])
    if view == "overview":
        chart("overview", lambda: figures.overview(runs), alt="Loss and test accuracy over steps, one line per run")
    elif view == "gradients":
        chart("gradients", lambda: figures.gradients(runs), alt="Gradient norm per block over steps, a panel per run")
    elif view == "residual":
        chart("residual", lambda: figures.residual(runs), alt="Residual stream norm after each block per run")
    elif view == "tokens":
        chart("tokens", lambda: figures.token_stats(runs), alt="Per-token mean and standard deviation, per run")
    elif view == "dyt":
        chart("alpha", lambda: figures.learned(runs), alt="DyT's alpha over steps per layer")
        if not any(s[-1].get("scatter") for _, s in runs):
            st.info("The input–output scatter appears when a run with a norm has finished.", icon="ℹ️")
        chart("scatter", lambda: figures.norm_scatter(runs), alt="Norm layer input against output, four channels")
    export(run_jobs)


def export(run_jobs: list[jobs.Job]) -> None:
    done = [j for j in run_jobs if j.snapshots]

    def csv_text() -> str:
        return pd.DataFrame([r for j in done for r in rows(j.snapshots, run=j.label)]).to_csv(index=False)

    def json_text() -> str:
        return json.dumps([{"label": j.label, "config": j.config.to_dict() if j.config else None,
                            "status": j.status, "message": j.message, "snapshots": j.snapshots} for j in done])

    c1, c2, c3 = st.columns(3)
    c1.download_button("Run log (CSV)", csv_text, "transformer_log.csv", "text/csv", key=f"{P}:csv",
                       icon=":material/download:", on_click="ignore")
    c2.download_button("Run log (JSON)", json_text, "transformer_log.json", "application/json", key=f"{P}:json",
                       icon=":material/download:", on_click="ignore")
    with c3.popover("PyTorch code", icon=":material/code:"):
        for j in done:
            if j.config is not None:
                st.code(pytorch_snippet(j.config), language="python")
