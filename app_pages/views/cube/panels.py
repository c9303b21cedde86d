"""Cube explorer: the panel under the cube (all norms, numbers and exports, batch noise, sequences).

Each panel is ``render(ctx)`` with a :class:`Context`; they read no module globals.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import streamlit as st

from app_pages._live_chart import live_chart
from app_pages.kit import explained_errors
from app_pages.views.cube.controls import current, k
from normviz.cube import batch_noise, figures as cube_figures, numbers as cube_numbers
from normviz.state import CubeState

VIEW_LABELS = {"all": "All norms side by side", "numbers": "Numbers & export",
               "noise": "How noisy are batch statistics?", "sequence": "Sequences (N×L×D)"}


@dataclass(frozen=True)
class Context:
    state: CubeState
    spec: cube_numbers.CubeSpec
    x: np.ndarray
    shown: Callable[[str], bool]


@st.cache_resource(max_entries=32, show_spinner=False)
def grid_figure(spec: cube_numbers.CubeSpec):
    return cube_figures.small_multiples_figure_dict(spec)


@st.cache_data(max_entries=4, show_spinner="Sampling 2 000 batches of each size ...")
def noise(source: str):
    return batch_noise.batch_noise(source)


def all_norms(ctx: Context) -> None:
    if ctx.spec.is_weight:
        st.info("The grid compares activation norms; pick one to see it next to the others.")
        return
    live_chart(grid_figure(ctx.spec), key=k("grid"), png_name="normviz-cube-grid",
               alt="Small multiples of the pooled set under every activation norm.")
    st.caption("Top row: LayerNorm pools the whole sample, InstanceNorm one channel of it, "
               "GroupNorm sits in between (C/G channels). Blue: pooled; darker blue: a larger weight "
               "(mixtures); diamond: the selected cell.")


def numbers(ctx: Context) -> None:
    spec, x, state = ctx.spec, ctx.x, ctx.state
    diff, ref = None, "undefined for this input"
    with st.spinner("Computing the same normalization with PyTorch ..."), explained_errors():
        diff, ref = cube_numbers.torch_difference(spec, x)
    if diff is not None:
        st.success(f"Checked against PyTorch ({ref}): max |normviz − torch| = {diff:.1e} over all "
                   f"{x.size} values (float64).", icon=":material/verified:")
    else:
        st.caption(f"No PyTorch comparison: {ref}.")
    rows = cube_numbers.statistics_rows(spec, x)
    if rows:
        st.dataframe(rows, hide_index=True, height=min(400, 38 + 35 * len(rows)))
    else:
        st.caption(cube_numbers.count_caption(spec))
    snippet = cube_numbers.pytorch_snippet(spec, state.data, state.seed, x=x)
    c1, c2 = st.columns(2)
    c1.download_button("Statistics (CSV)", cube_numbers.statistics_csv(rows), file_name=f"normviz-{spec.norm}-statistics.csv",
                       mime="text/csv", icon=":material/download:", on_click="ignore")
    c2.download_button("PyTorch snippet (.py)", snippet, file_name=f"normviz_{spec.norm}.py", mime="text/x-python",
                       icon=":material/code:", on_click="ignore")
    st.code(snippet, language="python")
    st.caption("PNG: use the camera icon in each figure's toolbar.")


def noise_panel(ctx: Context) -> None:
    if ctx.shown("noise_data"):
        st.radio("Data", list(batch_noise.SOURCES), key=k("noise_data"), horizontal=True,
                 format_func=batch_noise.SOURCES.get)
    result = noise(st.session_state[k("noise_data")])
    live_chart(batch_noise.noise_figure(result), key=k("noise"), png_name="normviz-batch-noise",
               alt=batch_noise.noise_sentence(result))
    st.markdown(batch_noise.noise_sentence(result))


def sequence(ctx: Context) -> None:
    st.markdown("Transformers normalize **tokens**: an N×L×D tensor (batch, length, features). "
                "PyTorch's `normalized_shape` names the trailing axes that are pooled.")
    c = st.columns(6)
    if ctx.shown("seq"):
        c[0].selectbox("Norm", list(cube_figures.SEQ_KINDS), key=k("seq"),
                       format_func=lambda s: cube_figures.SEQ_KINDS[s].split(":")[0])
    for col, name, hi in zip(c[1:], ("L", "D"), (32, 64)):
        if ctx.shown(name):
            col.number_input(name, 1, hi, key=k(name))
    L, D = int(st.session_state[k("L")]), int(st.session_state[k("D")])
    for col, name, hi in zip(c[3:], ("l", "d"), (L, D)):
        if ctx.shown(name):
            col.number_input(f"selected {name}", 0, hi - 1, key=k(name))
    state = current()
    shape3, idx3 = (state.N, state.L, state.D), (min(state.n, state.N - 1), state.l, state.d)
    sentence = cube_figures.sequence_sentence(shape3, state.seq, idx3)
    live_chart(cube_figures.sequence_figure(shape3, state.seq, idx3), key=k("seqfig"), alt=sentence,
               png_name="normviz-sequence")
    st.markdown(f"**{sentence}**")


PANELS = {"all": all_norms, "numbers": numbers, "noise": noise_panel, "sequence": sequence}
