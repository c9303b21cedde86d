"""Transformer lab, the views of the session's runs and their exports (CSV, JSON, PyTorch script)."""
from __future__ import annotations

import streamlit as st

from app_pages.views.transformer.common import LAB
from normviz.training import jobs
from normviz.transformer import figures
from normviz.transformer.export import pytorch_snippet, rows

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

CHARTS = {  # view: its figure builder and the chart's alt text (the chart's key is the view's)
    "overview": (figures.overview, "Loss and test accuracy over steps, one line per run"),
    "gradients": (figures.gradients, "Gradient norm per block over steps, a panel per run"),
    "residual": (figures.residual, "Residual stream norm after each block per run"),
    "tokens": (figures.token_stats, "Per-token mean and standard deviation, per run"),
}


def render(run_jobs: list[jobs.Job], view: str) -> None:
    runs = LAB.runs_or_hint(run_jobs)
    if not runs:
        return
    st.caption(VIEW_TEXT[view])
    if view in CHARTS:
        build, alt = CHARTS[view]
        LAB.chart(view, lambda: build(runs), alt=alt)
    elif view == "dyt":
        LAB.chart("alpha", lambda: figures.learned(runs), alt="DyT's alpha over steps per layer")
        if not any(s[-1].get("scatter") for _, s in runs):
            st.info("The input–output scatter appears when a run with a norm has finished.", icon="ℹ️")
        LAB.chart("scatter", lambda: figures.norm_scatter(runs), alt="Norm layer input against output, four channels")
    LAB.export(run_jobs, rows=rows, snippet=pytorch_snippet, stem="transformer_log")
