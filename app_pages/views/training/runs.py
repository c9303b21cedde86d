"""Training lab, the views of the session's runs: BN Figure 1, loss & accuracy, percentile bands,
histograms, and the exports."""
from __future__ import annotations

import streamlit as st

from app_pages.views.training.common import LAB, P
from normviz.training import figures as training_figures, jobs, pytorch_snippet, run_log_to_rows, steps_to_accuracy

WHICH_LABELS = {"act_input": "the nonlinearity's input (after the norm)", "norm_input": "the norm's input"}
INIT_NOTE = ("Try the BN paper's small init (init std 0.01) as well as the default 0.1, and compare how long "
             "each net stays near chance and how steady the percentile bands are.")


def render(run_jobs: list[jobs.Job], view: str) -> None:
    runs = LAB.runs_or_hint(run_jobs)
    if not runs:
        return
    if view == "bn_fig1":
        LAB.chart("bn_chart", lambda: training_figures.bn_figure1(runs),
                  alt="Test accuracy over steps, and 15/50/85th percentiles of one sigmoid's input per run")
        reach = []
        for label, snaps in runs:
            s90 = steps_to_accuracy(snaps, 0.9)
            reach.append(f"{label}: {'never' if s90 is None else f'step {s90}'} (final {snaps[-1]['test_acc']:.1%})")
        st.markdown("Steps to 90 % test accuracy — " + "; ".join(reach) + ".")
        st.caption(INIT_NOTE + " Change the init std under *Configure runs*.")
    elif view == "overview":
        LAB.chart("metrics_chart", lambda: training_figures.metrics_figure(runs),
                  alt="Loss, test accuracy, train vs eval accuracy and time per step for every run")
        affine = training_figures.affine_figure(runs)
        if affine is not None:
            LAB.chart("affine_chart", lambda: affine, alt="Learned gamma and beta per layer over steps, every run")
            lines = [t for label, snaps in runs if (t := training_figures.affine_sentence(label, snaps[-1]))]
            st.markdown("γ, β at the last snapshot (mean ± std over channels) — " + " · ".join(lines) + ".")
    elif view == "distributions":
        which = st.radio("Distribution of", ["act_input", "norm_input"], horizontal=True, key=f"{P}:which",
                         format_func=WHICH_LABELS.get)
        LAB.chart(f"bands_chart_{which}", lambda: training_figures.percentile_bands_figure(runs, which),
                  alt="Percentile bands of each layer's values over steps, one row per run")
        gates = training_figures.gates_figure(runs)
        if gates is not None:
            LAB.chart("gates_chart", lambda: gates, alt="Learned BIN rho and SN weights over steps")
    elif view == "histograms":
        which = st.radio("Histogram of", ["act_input", "norm_input"], horizontal=True, key=f"{P}:which_h",
                         format_func=WHICH_LABELS.get)
        LAB.chart(f"hist_chart_{which}", lambda: training_figures.histogram_heatmap_figure(runs, which),
                  alt="Histogram of each layer's values over steps as a heatmap, one row per run")
    LAB.export(run_jobs, rows=run_log_to_rows, snippet=pytorch_snippet, stem="training_log")
