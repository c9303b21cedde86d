"""Training lab: the presets (BN and GN paper Figure 1) and the run configuration controls."""
from __future__ import annotations

import streamlit as st

from app_pages.views.training.common import LAB, LAST, P, PER_RUN, RUNS, k, run_value
from app_pages.views.training.runs import INIT_NOTE
from normviz.norms.table import display_name
from normviz.state import MAX_RUNS, TRAINING_MODELS

BN_PRESET = dict(norm=("none", "batch"), batch=(60, 60), lr=(0.5, 0.5), model=("mlp", "mlp"), steps=3000,
                 affine=(True, True), wd=(0.0, 0.0), preset="bn_fig1", view="bn_fig1")
BN_TEXT = ("**BN paper Figure 1** (Ioffe & Szegedy 2015): 3×100 sigmoid MLP, none vs BatchNorm, batch 60, "
           "lr 0.5, 3000 steps. Watch the steps to 90 % accuracy and the 15/50/85th percentiles of one sigmoid's "
           "input: they drift without BN and stay put with it.")
GN_TEXT = ("**GN paper Figure 1** (Wu & He 2018; ImageNet error of BN 23.6 % at 32 images per GPU, 34.7 % at 2; "
           "GN 24.1 %): BN vs GN vs LN over batch sizes 64 … 2, samples seen held fixed. Watch BN's eval error "
           "at batch 2.")
MODEL_LABELS = {"mlp": "MLP 3×100 sigmoid", "cnn": "CNN 3 conv (8×8)"}


@st.cache_resource(show_spinner=False)
def norm_options(model: str) -> list[str]:
    from normviz.norms.torch_modules import available_norms

    return available_norms(1 if model == "mlp" else 2)


def apply_bn_preset() -> None:
    cur = LAB.state_from_widgets()
    # The init is the one knob of this preset: keep run 1's init std if the preset is already open.
    init = (cur.init[0],) * 2 if cur.preset == "bn_fig1" else (0.1, 0.1)
    LAB.seed_widgets(cur.replace(**BN_PRESET, init=init))
    LAB.start_from_widgets()


def apply_gn_preset() -> None:
    st.session_state[k("preset")], st.session_state[k("view")] = "gn_fig1", "sweep"


def bn_preset_panel() -> None:
    st.markdown(BN_TEXT)
    st.button("Run BN Figure 1", key=f"{P}:preset_bn", on_click=apply_bn_preset, type="primary",
              icon=":material/play_arrow:", help="none vs BatchNorm, MLP, batch 60, lr 0.5, 3000 steps; "
              "uses the init std set for run 1 below (default 0.1)")
    st.caption(INIT_NOTE)


def gn_preset_panel() -> None:
    st.markdown(GN_TEXT)
    st.button("Show GN Figure 1", key=f"{P}:preset_gn", on_click=apply_gn_preset, type="primary",
              icon=":material/bar_chart:", help="precomputed results, shown at once; any cell can be re-run")
    st.caption("Precomputed (minutes of CPU time) and shown at once, with how it was made; any cell "
               "can be re-run live.")


def presets(shown) -> None:
    """The presets a teacher's lock leaves open (one that would change a locked control is not offered)."""
    ss = st.session_state
    panels = [panel for panel, offered in ((bn_preset_panel, all(shown(n) for n in (*BN_PRESET, "init"))),
                                           (gn_preset_panel, shown("preset") and shown("view"))) if offered]
    if not panels:
        return
    # Presets open while nothing has run; afterwards they fold away so the charts sit higher up.
    with st.expander("**Presets**: BN paper Figure 1, GN paper Figure 1" if len(panels) == 2 else "**Preset**",
                     icon=":material/bookmark:", expanded=not ss[RUNS] and ss[k("view")] != "sweep"):
        for col, panel in zip(st.columns(len(panels)), panels):
            with col:
                panel()


def configure(shown) -> None:
    """Shared steps and seed, then one column of controls per run."""
    ss = st.session_state
    runs_fixed = not all(shown(f) for f in PER_RUN)  # a new run would invent a locked value
    with st.expander("Configure runs (up to four, side by side)", expanded=ss[k("preset")] == "custom"):
        top = iter(st.columns(3))  # shown controls fill from the left
        if not runs_fixed:
            next(top).number_input("Runs", 1, MAX_RUNS, key=k("n_runs"), help="configurations trained side by side")
        if shown("steps"):
            next(top).number_input("Steps", 10, 20000, step=100, key=k("steps"), help="training steps of every run")
        if shown("seed"):
            next(top).number_input("Seed", 0, 2**31 - 1, key=k("seed"), help="initial weights and data order")
        st.caption("The MLP (3×100 sigmoid, norm before each sigmoid) trains with plain SGD, as in the BN paper; "
                   "the CNN (3 conv layers of 16 channels at 8×8, ReLU) with SGD momentum 0.9. Weights start "
                   "~ N(0, init std²). Snapshots every 50 steps on 128 test images (distributions) and all 359 "
                   "(accuracy).")
        cols = st.columns(MAX_RUNS) if any(shown(f) for f in PER_RUN) else []
        for i, col in zip(range(ss[k("n_runs")]), cols):
            if k(f"norm{i}") not in ss:  # a column shown again after it was hidden
                prev = ss.get(LAST) or LAB.state_from_widgets()
                for f in PER_RUN:
                    ss.setdefault(k(f"{f}{i}"), getattr(prev, f)[-1])
            with col:
                run_column(i, shown)


def run_column(i: int, shown) -> None:
    ss = st.session_state
    st.markdown(f"**Run {i + 1}**")
    fixed = [run_value(f, ss[k(f"{f}{i}")]) for f in PER_RUN if not shown(f)]
    if fixed:
        st.caption(":material/lock: " + ", ".join(fixed))
    if shown("model"):
        st.selectbox("Model", TRAINING_MODELS, key=k(f"model{i}"), format_func=MODEL_LABELS.get)
    model = ss[k(f"model{i}")]
    opts = norm_options(model)
    if ss.get(k(f"norm{i}")) not in opts:
        st.warning(f"{display_name(ss.get(k(f'norm{i}'), 'none'))} does not fit the {model.upper()}; "
                   "using BatchNorm.", icon="⚠️")
        ss[k(f"norm{i}")] = "batch"
    if shown("norm"):
        st.selectbox("Norm", opts, key=k(f"norm{i}"), format_func=display_name)
    if shown("batch"):
        st.number_input("Batch size", 2, 512, key=k(f"batch{i}"))
    if shown("lr"):
        st.number_input("Learning rate", 1e-5, 1000.0, key=k(f"lr{i}"), format="%g", step=0.05)
    if shown("init"):
        st.number_input("Init std", 1e-4, 10.0, key=k(f"init{i}"), format="%g", step=0.01,
                        help="weights ~ N(0, std²); the BN paper used a small init")
    if shown("wd"):
        st.number_input("Weight decay", 0.0, 1.0, key=k(f"wd{i}"), format="%g", step=1e-4,
                        help="L2 on every weight (λ·w added to the gradient); with a norm after a layer it sets "
                             "that layer's effective learning rate η/‖w‖² (see the scale-invariance experiment)")
    if shown("affine"):
        st.checkbox("Learn γ, β (affine)", key=k(f"affine{i}"),
                    help="off: the norm only normalizes; on: a learned per-channel scale γ and shift β follow it")
