"""Transformer lab: the presets and the run configuration controls (up to four runs side by side)."""
from __future__ import annotations

import streamlit as st

from app_pages.views.transformer.common import LAB, LAST, P, RUNS, k
from normviz.norms.table import display_name
from normviz.state import MAX_RUNS
from normviz.transformer import PLACEMENTS, PRESETS, token_norms
from normviz.transformer.page_state import PER_RUN, TransformerLabState, preset_state

VIEW_FOR_PRESET = {"quick": "overview", "placement": "gradients", "rms_dyt": "dyt", "depth": "residual"}
BUTTONS = {"quick": "Run quick look", "placement": "Run pre vs post", "rms_dyt": "Run LN, RMS, DyT",
           "depth": "Run no-norm depths"}


def norm_name(key: str) -> str:
    return "no norm" if key == "none" else display_name(key)


def apply_preset(key: str) -> None:
    state = preset_state(key, LAB.state_from_widgets()).replace(view=VIEW_FOR_PRESET[key])
    LAB.seed_widgets(state)
    LAB.start_from_widgets()


def presets(shown) -> None:
    """One button per preset; a preset that would change a locked control is not offered."""
    if not all(shown(n) for n in (*PER_RUN, "steps", "preset")):
        return
    with st.expander("**Presets** (each starts its runs)", icon=":material/bookmark:",
                     expanded=not st.session_state[RUNS]):
        for col, (key, (text, _)) in zip(st.columns(len(PRESETS)), PRESETS.items()):
            col.markdown(text)
            col.button(BUTTONS[key], key=f"{P}:preset_{key}", on_click=apply_preset, args=(key,),
                       icon=":material/play_arrow:", type="primary" if key == "quick" else "secondary")


def configure(shown) -> None:
    """Shared steps and seed, then one column of controls per run."""
    ss = st.session_state
    with st.expander("Configure runs (up to four, side by side)", expanded=ss[k("preset")] == "custom"):
        top = st.columns(3)
        if all(shown(f) for f in PER_RUN):
            top[0].number_input("Runs", 1, MAX_RUNS, key=k("n_runs"))
        if shown("steps"):
            top[1].number_input("Steps", *TransformerLabState.bounds("steps"), step=50, key=k("steps"))
        if shown("seed"):
            top[2].number_input("Seed", 0, 2**31 - 1, key=k("seed"))
        n = ss[k("n_runs")] or (ss.get(LAST) or TransformerLabState()).n_runs
        for i, col in enumerate(st.columns(n)):
            with col:
                st.markdown(f"**Run {i + 1}**")
                if shown("norm"):
                    st.selectbox("Norm", token_norms(), key=k(f"norm{i}"), format_func=norm_name)
                if shown("placement"):
                    st.selectbox("Placement", list(PLACEMENTS), key=k(f"placement{i}"),
                                 format_func=lambda p: p + "-norm", help="; ".join(PLACEMENTS.values()))
                if shown("depth"):
                    st.number_input("Blocks", 1, 6, key=k(f"depth{i}"))
                if shown("lr"):
                    st.number_input("Learning rate (Adam)", 1e-5, 1.0, key=k(f"lr{i}"), format="%g", step=1e-3)
                if shown("warmup"):
                    st.number_input("Warm-up steps", 0, 2000, key=k(f"warmup{i}"), step=25)
