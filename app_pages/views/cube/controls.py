"""Cube explorer: the controls (sidebar or popover), and the widgets <-> state glue.

The controls of a norm's parameters come from the registry (``NormSpec.params``): a divisor of C
or N is a select box, a gate a slider (per channel if asked), a probability triple three inputs,
a number a slider. A new norm's parameters appear here without touching this file.
"""
from __future__ import annotations

from dataclasses import fields

import streamlit as st

from app_pages.kit import explained_errors, set_control, state_from_widgets, wkey
from normviz.cube import numbers as cube_numbers
from normviz.norms import NORMS
from normviz.state import CUBE_PARAM_KINDS, CubeState
from normviz.validate import divisors

P = "cube"
TUPLES = ("rho", "sn_mean", "sn_var")
# Where a norm parameter lives in the cube's URL state (the rest are fields of their own name).
STATE_FIELD = {"groups": "G", "ghost_size": "ghost", "rho": "rho", "mean_weights": "sn_mean", "var_weights": "sn_var"}
DATA_LABELS = {"random": "random (seeded)", "image": "patch of a photo", "constant": "constant channel (σ² = 0)"}
PARTS = ("IN", "LN", "BN")


def k(name: str) -> str:
    return wkey(P, name)


def field_of(param_name: str) -> str:
    return STATE_FIELD.get(param_name, param_name)


def seed_tuple_widgets(state: CubeState) -> None:
    """rho, sn_mean and sn_var are tuples in the URL but several widgets on the page."""
    ss = st.session_state
    if k("rho_per") not in ss:
        ss[k("rho_per")] = len(state.rho) > 1
        ss[k("rho_shared")] = float(state.rho[0])
        for i, r in enumerate(state.rho if len(state.rho) > 1 else ()):
            ss[k(f"rho_{i}")] = float(r)
    for name in ("sn_mean", "sn_var"):
        for i in range(3):
            ss.setdefault(k(f"{name}_{i}"), float(getattr(state, name)[i]))


def tuple_values(C: int) -> dict:
    ss = st.session_state
    if ss.get(k("rho_per")):
        rho = tuple(float(ss.get(k(f"rho_{i}"), ss[k("rho_shared")])) for i in range(C))
    else:
        rho = (float(ss[k("rho_shared")]),)
    return {"rho": rho, **{name: tuple(float(ss[k(f"{name}_{i}")]) for i in range(3)) for name in ("sn_mean", "sn_var")}}


def current() -> CubeState:
    return state_from_widgets(CubeState, P, **tuple_values(int(st.session_state[k("C")])))


def sync_widgets() -> CubeState:
    """Validate the widget values as a whole (G divides C, selection inside the shape, ...) and
    write corrections back before any widget is drawn, so no widget holds an illegal value."""
    state = state_from_widgets(CubeState, P, **tuple_values(int(st.session_state.get(k("C"), 6))))
    for f in fields(CubeState):
        if f.name not in TUPLES and f.name != "lock" and st.session_state.get(k(f.name)) != getattr(state, f.name):
            set_control(P, f.name, getattr(state, f.name))
    return state


def spec_of(state: CubeState) -> cube_numbers.CubeSpec:
    """What the figures and the numbers show, from the page state."""
    extra = tuple((f.name, getattr(state, f.name)) for f in fields(CubeState)
                  if any(p.name == f.name and p.kind in CUBE_PARAM_KINDS for s in NORMS.values() for p in s.params))
    return cube_numbers.CubeSpec(
        norm=state.norm, shape=state.shape, index=state.index, groups=state.G, ghost_size=state.ghost, rho=state.rho,
        mean_weights=tuple(cube_numbers.switchable_probabilities(state.sn_mean, state.sn_mode)),
        var_weights=tuple(cube_numbers.switchable_probabilities(state.sn_var, state.sn_mode)),
        eps=state.eps, layout=state.layout, colour_all=state.colour_all, extra=extra)


def param_controls(norm: str, shown) -> None:
    """One control per parameter of ``norm``, by the parameter's kind."""
    ss = st.session_state
    C, N = int(ss[k("C")]), int(ss[k("N")])
    for p in NORMS[norm].params:
        name = field_of(p.name)
        if not shown(name):
            continue
        if p.kind == "divisor_C":
            st.selectbox(f"{p.label} (divisors of C)", divisors(C), key=k(name), help=p.help)
        elif p.kind == "divisor_N":
            st.selectbox(f"{p.label} (divisors of N)", divisors(N), key=k(name), help=p.help)
        elif p.kind == "unit":
            st.toggle(f"{p.symbol} per channel", key=k("rho_per"), help=p.help)
            if ss[k("rho_per")]:
                for i in range(C):
                    ss.setdefault(k(f"rho_{i}"), float(ss[k("rho_shared")]))
                    st.slider(f"{p.symbol} for channel c = {i}", p.low, p.high, step=p.step, key=k(f"rho_{i}"))
            else:
                st.slider(f"{p.label}: {p.help}", p.low, p.high, step=p.step, key=k("rho_shared"))
        elif p.kind == "simplex":
            _simplex_control(name, p, shown)
        else:
            st.slider(p.label, p.low, p.high, step=p.step, key=k(name), help=p.help)


def _simplex_control(name: str, p, shown) -> None:
    ss = st.session_state
    if shown("sn_mode") and k("sn_mode_drawn") not in ss:
        ss[k("sn_mode_drawn")] = True  # one radio for both weight triples
        st.radio("Enter the weights as", ["logits", "probabilities"], key=k("sn_mode"), horizontal=True,
                 help="Switchable Norm learns logits; the layer uses their softmax.")
    st.caption(p.label.capitalize())
    for i, (col, lab) in enumerate(zip(st.columns(3), PARTS)):
        col.number_input(lab, key=k(f"{name}_{i}"), step=0.25, max_value=20.0,
                         min_value=-20.0 if ss[k("sn_mode")] == "logits" else 0.0)
    with explained_errors():
        probs = cube_numbers.switchable_probabilities([ss[k(f"{name}_{i}")] for i in range(3)], ss[k("sn_mode")])
        st.caption(f"used as {p.label.split(' (')[0]}: " + ", ".join(f"{lab} {v:.2f}" for lab, v in zip(PARTS, probs)))


def panel(shown) -> None:
    """Every control of the page, in the sidebar (a "Controls" popover when the page is alone:
    ``_classroom.controls_panel``)."""
    ss = st.session_state
    ss.pop(k("sn_mode_drawn"), None)
    if shown("norm"):
        st.selectbox("Norm", list(NORMS), key=k("norm"), format_func=lambda key: NORMS[key].name,
                     help="Every norm of normviz's registry.")
    norm = ss[k("norm")]
    is_weight = NORMS[norm].is_weight
    param_controls(norm, shown)
    with st.expander("Tensor shape", expanded=not is_weight):
        if is_weight:
            st.caption("Weight tensor C_out × C_in × k × k")
            for name, lo, hi, label in (("C", 1, 32, "C_out (= C)"), ("cin", 1, 16, "C_in"), ("k", 1, 7, "kernel size k")):
                if shown(name):
                    st.number_input(label, lo, hi, key=k(name))
        else:
            cols = st.columns(2)
            for i, (name, hi, label) in enumerate((("N", 8, "N (batch)"), ("C", 32, "C (channels)"),
                                                   ("H", 16, "H (height)"), ("W", 16, "W (width)"))):
                if shown(name):
                    cols[i % 2].number_input(label, 1, hi, key=k(name))
    if shown("layout"):
        st.radio("Cube layout", ["paper", "full"], key=k("layout"), horizontal=True,
                 format_func={"paper": "paper (N, C, H·W)", "full": "full (N blocks of C×H×W)"}.get)
    if shown("colour_all"):
        st.toggle("Colour every group", key=k("colour_all"),
                  help="Give each statistic its own colour and symbol: count the statistics the norm computes.")
    if not is_weight and shown("data"):
        st.selectbox("Data", list(DATA_LABELS), key=k("data"), format_func=DATA_LABELS.get,
                     help="The constant channel is the selected channel c: its σ² is 0, so ε decides x̂.")
    if shown("seed"):
        st.number_input("Seed", 0, 2 ** 31 - 1, key=k("seed"))
    if shown("eps"):
        st.number_input("ε", 0.0, 1.0, key=k("eps"), format="%.0e", step=1e-5,
                        help="Added to σ² inside the square root (PyTorch's default is 1e-5).")
