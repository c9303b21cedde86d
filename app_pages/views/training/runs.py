"""Training lab, the views of the session's runs: BN Figure 1, loss & accuracy, percentile bands,
histograms, and the exports."""
from __future__ import annotations

import json
import time

import pandas as pd
import streamlit as st

from app_pages._live_chart import live_chart
from app_pages.views.training.common import P, RUNNING
from normviz.training import figures as training_figures, jobs, pytorch_snippet, run_log_to_rows, steps_to_accuracy

REDRAW_S = 1.0  # while training, charts are rebuilt at most this often
WHICH_LABELS = {"act_input": "the nonlinearity's input (after the norm)", "norm_input": "the norm's input"}
INIT_NOTE = ("Try the BN paper's small init (init std 0.01) as well as the default 0.1, and compare how long "
             "each net stays near chance and how steady the percentile bands are.")


def chart(name: str, build, *, alt: str) -> None:
    """Draw a figure; while runs are live, rebuild it at most every REDRAW_S seconds.

    Building a plotly figure costs far more than re-sending one, so between rebuilds the
    fragment re-sends the last figure (a fragment must re-emit its elements every tick).
    """
    ss = st.session_state
    cache = ss.setdefault(f"{P}:figs", {})
    hit = cache.get(name)
    now = time.perf_counter()
    if hit is None or not ss[RUNNING] or now - hit[0] >= REDRAW_S:
        hit = (now, build())
        cache[name] = hit
    live_chart(hit[1], key=f"{P}:{name}", alt=alt, png_name=f"normviz-{name}")


def progress(job: jobs.Job) -> None:
    if job.status == "error":
        st.error(f"{job.label}: {job.message}", icon="🚫")
    elif job.status == "diverged":
        st.error(f"{job.label}: {job.message}", icon="💥")
    elif job.snapshots:
        last = job.snapshots[-1]
        st.progress(min(1.0, last["step"] / job.config.steps),
                    text=f"{job.label}: step {last['step']} / {job.config.steps} · test accuracy "
                         f"{last['test_acc']:.1%} · {job.message or job.status}")
    elif job.status == "queued":
        st.progress(0.0, text=f"{job.label}: {job.message}")


def render(run_jobs: list[jobs.Job], view: str) -> None:
    runs = [(j.label, j.snapshots) for j in run_jobs if j.snapshots]
    for job in run_jobs:
        progress(job)
    if not runs:
        st.info("Nothing has run yet: press **Run**, or a preset above. Nothing starts by itself.", icon="ℹ️")
        return
    if view == "bn_fig1":
        chart("bn_chart", lambda: training_figures.bn_figure1(runs),
              alt="Test accuracy over steps, and 15/50/85th percentiles of one sigmoid's input per run")
        reach = []
        for label, snaps in runs:
            s90 = steps_to_accuracy(snaps, 0.9)
            reach.append(f"{label}: {'never' if s90 is None else f'step {s90}'} (final {snaps[-1]['test_acc']:.1%})")
        st.markdown("Steps to 90 % test accuracy — " + "; ".join(reach) + ".")
        st.caption(INIT_NOTE + " Change the init std under *Configure runs*.")
    elif view == "overview":
        chart("metrics_chart", lambda: training_figures.metrics_figure(runs),
              alt="Loss, test accuracy, train vs eval accuracy and time per step for every run")
        affine = training_figures.affine_figure(runs)
        if affine is not None:
            chart("affine_chart", lambda: affine, alt="Learned gamma and beta per layer over steps, every run")
            lines = [t for label, snaps in runs if (t := training_figures.affine_sentence(label, snaps[-1]))]
            st.markdown("γ, β at the last snapshot (mean ± std over channels) — " + " · ".join(lines) + ".")
    elif view == "distributions":
        which = st.radio("Distribution of", ["act_input", "norm_input"], horizontal=True, key=f"{P}:which",
                         format_func=WHICH_LABELS.get)
        chart(f"bands_chart_{which}", lambda: training_figures.percentile_bands_figure(runs, which),
              alt="Percentile bands of each layer's values over steps, one row per run")
        gates = training_figures.gates_figure(runs)
        if gates is not None:
            chart("gates_chart", lambda: gates, alt="Learned BIN rho and SN weights over steps")
    elif view == "histograms":
        which = st.radio("Histogram of", ["act_input", "norm_input"], horizontal=True, key=f"{P}:which_h",
                         format_func=WHICH_LABELS.get)
        chart(f"hist_chart_{which}", lambda: training_figures.histogram_heatmap_figure(runs, which),
              alt="Histogram of each layer's values over steps as a heatmap, one row per run")
    export(run_jobs)


def export(run_jobs: list[jobs.Job]) -> None:
    if st.session_state[RUNNING]:  # the logs are still growing; exports appear when the runs end or stop
        st.caption("Exports (CSV, JSON, PyTorch code) appear when the runs end or are stopped.")
        return
    if not any(j.snapshots for j in run_jobs):
        return

    def csv_text() -> str:
        rows = [r for j in run_jobs for r in run_log_to_rows(j.snapshots, run=j.label)]
        return pd.DataFrame(rows).to_csv(index=False)

    def json_text() -> str:
        return json.dumps([{"label": j.label, "config": j.config.to_dict() if j.config else None,
                            "status": j.status, "message": j.message, "snapshots": j.snapshots} for j in run_jobs])

    c1, c2, c3 = st.columns(3)
    c1.download_button("Run log (CSV)", csv_text, "training_log.csv", "text/csv",
                       key=f"{P}:csv", icon=":material/download:", on_click="ignore")
    c2.download_button("Run log (JSON)", json_text, "training_log.json", "application/json",
                       key=f"{P}:json", icon=":material/download:", on_click="ignore")
    with c3.popover("PyTorch code", icon=":material/code:"):
        for j in run_jobs:
            if j.config is not None:
                st.markdown(f"**{j.label}**")
                st.code(pytorch_snippet(j.config), language="python")
