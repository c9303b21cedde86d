"""Training lab, the batch-size sweep view (GN paper Figure 1): the shipped sweep, and one cell
re-run live."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages._live_chart import live_chart
from app_pages.views.training.common import CELLS, P, RUNNING, start_cell
from normviz.numerics import rerun_line
from normviz.training import figures as training_figures, jobs
from normviz.experiments import EXPERIMENTS
from normviz.experiments.seeds import facts
from normviz.training.sweeps import BATCH_SIZES, NORMS as SWEEP_NORMS, load_sweep


@st.cache_data(show_spinner=False)
def shipped_sweep() -> dict:
    return load_sweep()


def render(cell_jobs: list[jobs.Job]) -> None:
    ss = st.session_state
    try:
        sweep = shipped_sweep()
    except ValueError as err:
        st.error(str(err), icon="🚫")
        return
    live_chart(training_figures.sweep_figure(sweep, extra_cells=list(ss[CELLS])), key=f"{P}:sweep_chart",
               png_name="normviz-batch-sweep", alt="Test error versus batch size for BatchNorm, GroupNorm and LayerNorm, train and eval mode")
    spec = EXPERIMENTS["gn_figure1"]
    doc = spec.precomputed()
    st.markdown("  \n".join(f.sentence() for f in facts(spec, doc)))
    st.caption("At batch 2 BatchNorm sees two samples per feature, so every training-mode output is "
               "(x₁ − x₂)/|x₁ − x₂| = ±1: all magnitude is lost, and the running statistics the deployed net uses "
               "do not match what it was trained on. That two-sample case is a cliff of its own; the paper "
               "(ResNet-50, ImageNet) degrades gradually from 8 images per GPU down.")
    r = sweep["recipe"]
    st.caption(f"How it was made: {r['model']}; {r['samples_seen']:,} samples seen per run (steps = samples / "
               f"batch size), {r['lr_rule']}, SGD momentum {r['momentum']}, GN with {r['groups']} groups; "
               f"seeds {', '.join(map(str, sweep['seeds']))}; {sweep['date']}, torch {sweep['torch']}, "
               f"{sweep['seconds']:.0f} s on a 2-core CPU. Re-make with `{sweep['command']}`.")
    with st.expander("Table of every cell"):
        st.dataframe(pd.DataFrame(sweep["cells"]), hide_index=True)
    with st.container(border=True):
        st.markdown("**Re-run one cell live**")
        st.caption(rerun_line(sweep.get("numerics")))
        c1, c2, c3, c4 = st.columns(4)
        norm = c1.selectbox("Norm", SWEEP_NORMS, key=f"{P}:cell_norm", format_func=training_figures.NORM_NAMES.get)
        batch = c2.selectbox("Batch size", BATCH_SIZES, key=f"{P}:cell_batch")
        seed = c3.selectbox("Seed", sweep["seeds"], key=f"{P}:cell_seed")
        c4.button("Re-run cell", key=f"{P}:cell_run", on_click=start_cell, args=(norm, batch, seed),
                  disabled=ss[RUNNING], icon=":material/replay:")
        for job in cell_jobs:
            if job.active:
                st.progress(job.step / job.config.steps, text=f"{job.label}: " + (
                    f"step {job.step} of {job.config.steps}" if job.snapshots else job.message or "starting"))
        for cell in ss[CELLS][-3:]:
            ref = [cc for cc in sweep["cells"] if (cc["norm"], cc["batch_size"], cc["seed"]) ==
                   (cell["norm"], cell["batch_size"], cell["seed"])]
            if ref:
                same = (cell["eval_error"], cell["train_mode_error"]) == (ref[0]["eval_error"], ref[0]["train_mode_error"])
                st.markdown(f"Re-run {training_figures.NORM_NAMES[cell['norm']]} B={cell['batch_size']} seed "
                            f"{cell['seed']}: eval error {cell['eval_error']:.2f} % (shipped {ref[0]['eval_error']:.2f} %), "
                            f"train mode {cell['train_mode_error']:.2f} % (shipped {ref[0]['train_mode_error']:.2f} %): "
                            + ("the same numbers." if same else "different numbers."))
        shipped = [cc for cc in sweep["cells"] if (cc["norm"], cc["batch_size"], cc["seed"]) == (norm, batch, seed)]
        if shipped:
            st.caption(f"This cell trains {shipped[0]['steps']:,} steps; it took {shipped[0]['seconds']:.0f} s "
                       "when the data was made.")
