"""Cube explorer: which values share the selected value's mean and variance, for every norm.

Thin page: widgets -> normviz.cube / normviz.cube_numbers / normviz.batch_noise -> figures.
Every control lives in the URL (normviz.state.CubeState); ``?lock=norm,C`` hides controls.
"""
from __future__ import annotations

from dataclasses import fields

import plotly.graph_objects as go
import streamlit as st

from normviz import batch_noise as bn
from normviz import cube as cf
from normviz import cube_numbers as cn
from normviz.norms import NORMS
from normviz.state import CubeState
from normviz.validate import divisors
from app_pages._shared import (explained_errors, set_control, show_locks, show_notices, state_from_widgets, url_state,
                               wkey, write_url)

P = "cube"
TUPLES = ("rho", "sn_mean", "sn_var")
VIEW_LABELS = {"all": "All norms side by side", "numbers": "Numbers & export",
               "noise": "How noisy are batch statistics?", "sequence": "Sequences (N×L×D)"}
DATA_LABELS = {"random": "random (seeded)", "image": "patch of a photo", "constant": "constant channel (σ² = 0)"}
PLOT_CONFIG = {"scrollZoom": False, "displaylogo": False,
               "toImageButtonOptions": {"format": "png", "filename": "normviz-cube", "scale": 2}}


def k(name: str) -> str:
    return wkey(P, name)


# ---------------------------------------------------------------------- state <-> widgets

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


def sync_widgets() -> CubeState:
    """Validate the widget values as a whole (G divides C, selection inside the shape, ...) and
    write corrections back before any widget is drawn, so no widget holds an illegal value."""
    C = int(st.session_state.get(k("C"), 6))
    state = state_from_widgets(CubeState, P, **tuple_values(C))
    for f in fields(CubeState):
        if f.name in TUPLES or f.name == "lock":
            continue
        if st.session_state.get(k(f.name)) != getattr(state, f.name):
            set_control(P, f.name, getattr(state, f.name))
    return state


def on_cell_click() -> None:
    """A click on the unfolded view selects that element (a callback: runs before the widgets)."""
    event = st.session_state.get(k("unfolded"))
    points = (event or {}).get("selection", {}).get("points", []) if isinstance(event, dict) else \
        getattr(getattr(event, "selection", None), "points", []) or []
    for point in points[:1]:
        idx = cf.selected_from_point(point)
        if idx is not None:
            for name, v in zip(("n", "c", "h", "w"), idx):
                set_control(P, name, int(v))


# ---------------------------------------------------------------------- cached library calls

@st.cache_resource(max_entries=64, show_spinner=False)
def figures(spec: cn.CubeSpec, source: str, seed: int):
    x = cn.data_for(spec, source, seed)
    return x, cf.cube_figure(spec, x), cf.unfolded_figure(spec, x)


@st.cache_resource(max_entries=32, show_spinner=False)
def grid_figure(spec: cn.CubeSpec):
    return cf.small_multiples_figure(spec)


@st.cache_data(max_entries=4, show_spinner="Sampling 2 000 batches of each size ...")
def noise(source: str):
    return bn.batch_noise(source)


# ---------------------------------------------------------------------- page

state, notices = url_state(CubeState, P)
seed_tuple_widgets(state)
state = sync_widgets()


def shown(name: str) -> bool:
    return not state.is_locked(name)


st.title("Cube explorer")
st.markdown(
    "A normalization layer computes a mean μ and a variance σ² and outputs "
    "x̂ = (x − μ)/√(σ² + ε). The layers differ only in **which values share μ and σ²**. "
    "Pick a norm and a cell: the blue cells are the ones it is normalized with. "
    + ("" if state.is_locked("norm") else
       "Use the buttons above the cube to flip between LayerNorm, GroupNorm, InstanceNorm and "
       "BatchNorm without losing the camera angle; ")
    + "click a cell in the unfolded view to select it."
)
show_notices(P, notices)
show_locks(state)

# -- sidebar controls ---------------------------------------------------------------------------
with st.sidebar:
    st.header("Controls")
    if shown("norm"):
        st.selectbox("Norm", list(NORMS), key=k("norm"), format_func=lambda key: NORMS[key].name,
                     help="Every norm of normviz's registry.")
    norm = st.session_state[k("norm")]
    is_weight = NORMS[norm].kind == "weight"
    C = int(st.session_state[k("C")])
    if norm == "group" and shown("G"):
        st.selectbox("Groups G (divisors of C)", divisors(C), key=k("G"),
                     help="GroupNorm splits the C channels into G equal groups, so G must divide C. "
                          "G = 1 is LayerNorm, G = C is InstanceNorm.")
    if norm == "ghost_batch" and shown("ghost"):
        st.selectbox("Ghost batch size (divisors of N)", divisors(int(st.session_state[k("N")])), key=k("ghost"))
    if norm == "batch_instance" and shown("rho"):
        st.toggle("ρ per channel", key=k("rho_per"), help="Batch-Instance Norm learns one gate ρ_c per channel.")
        if st.session_state[k("rho_per")]:
            for i in range(C):
                st.session_state.setdefault(k(f"rho_{i}"), float(st.session_state[k("rho_shared")]))
                st.slider(f"ρ for channel c = {i}", 0.0, 1.0, step=0.05, key=k(f"rho_{i}"))
        else:
            st.slider("ρ (1 = BatchNorm, 0 = InstanceNorm)", 0.0, 1.0, step=0.05, key=k("rho_shared"))
    if norm == "switchable" and (shown("sn_mean") or shown("sn_var")):
        if shown("sn_mode"):
            st.radio("Enter SN weights as", ["logits", "probabilities"], key=k("sn_mode"), horizontal=True,
                     help="Switchable Norm learns logits; the layer uses their softmax.")
        step = 0.25
        for name, what in (("sn_mean", "μ"), ("sn_var", "σ²")):
            if not shown(name):
                continue
            st.caption(f"Importance weights for {what} (IN, LN, BN)")
            cols = st.columns(3)
            for i, (col, lab) in enumerate(zip(cols, ("IN", "LN", "BN"))):
                col.number_input(lab, key=k(f"{name}_{i}"), step=step,
                                 min_value=-20.0 if st.session_state[k("sn_mode")] == "logits" else 0.0, max_value=20.0)
            with explained_errors():
                probs = cn.switchable_probabilities([st.session_state[k(f"{name}_{i}")] for i in range(3)],
                                                    st.session_state[k("sn_mode")])
                st.caption(f"used for {what}: " + ", ".join(f"{lab} {p:.2f}" for lab, p in zip(("IN", "LN", "BN"), probs)))
    with st.expander("Tensor shape", expanded=not is_weight):
        if is_weight:
            st.caption("Weight tensor C_out × C_in × k × k")
            if shown("C"):
                st.number_input("C_out (= C)", 1, 32, key=k("C"))
            if shown("cin"):
                st.number_input("C_in", 1, 16, key=k("cin"))
            if shown("k"):
                st.number_input("kernel size k", 1, 7, key=k("k"))
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
                  help="Give each statistic its own colour and symbol: count the means the norm computes.")
    if not is_weight and shown("data"):
        st.selectbox("Data", list(DATA_LABELS), key=k("data"), format_func=DATA_LABELS.get,
                     help="The constant channel is the selected channel c: its σ² is 0, so ε decides x̂.")
    if shown("seed"):
        st.number_input("Seed", 0, 2 ** 31 - 1, key=k("seed"))
    if shown("eps"):
        st.number_input("ε", 0.0, 1.0, key=k("eps"), format="%.0e", step=1e-5,
                        help="Added to σ² inside the square root (PyTorch's default is 1e-5).")

# -- selection --------------------------------------------------------------------------------
state = state_from_widgets(CubeState, P, **tuple_values(C))
spec = cn.CubeSpec(norm=state.norm, shape=state.shape, index=state.index, groups=state.G,
                   ghost_size=state.ghost, rho=state.rho,
                   mean_weights=tuple(cn.switchable_probabilities(state.sn_mean, state.sn_mode)),
                   var_weights=tuple(cn.switchable_probabilities(state.sn_var, state.sn_mode)),
                   eps=state.eps, layout=state.layout, colour_all=state.colour_all)
if is_weight:
    st.info(f"**{NORMS[norm].name} normalizes weights, not activations.** It needs no batch and no "
            f"activation statistics: each output filter's weights C_in×k×k are rescaled (and for "
            f"Weight Standardization, centred) on their own. So the cube now shows the layer's weight "
            f"tensor C_out×C_in×k×k = {'×'.join(map(str, state.shape))}.", icon=":material/info:")
names = spec.index_names
with st.container(horizontal=True, gap="small"):  # wraps two a row on a phone instead of stacking
    for name, label, size in zip(("n", "c", "h", "w"), names, state.shape):
        if shown(name):
            st.number_input(f"selected {label}", 0, size - 1, key=k(name), width=160)
state = state_from_widgets(CubeState, P, **tuple_values(C))

# -- the cube and the unfolded view ---------------------------------------------------------
x, cube, flat = figures(spec, state.data, state.seed)
if not shown("norm"):  # the in-figure LN | GN | IN | BN buttons would get round the teacher's lock
    cube = go.Figure(cube)  # a copy: the cached figure is shared between sessions
    cube.layout.updatemenus = []
stats = cn.element_stats(spec, x)
sentence = cn.summary_sentence(spec)
left, right = st.columns([1.1, 1])
with left:
    st.plotly_chart(cube, key=k("cube3d"), config=PLOT_CONFIG, alt=sentence, theme=None)
with right:
    st.plotly_chart(flat, key=k("unfolded"), on_select=on_cell_click, selection_mode="points",
                    config=PLOT_CONFIG, alt="Unfolded view: " + sentence, theme=None)
st.markdown(f"**{sentence}**")
st.caption(cn.count_caption(spec) + " Turn on *Colour every group* to see them.")
note = cube.layout.meta.get("note") if cube.layout.meta else None
if note:
    st.caption(f":material/zoom_out: {note}")
for level, message in cn.edge_notes(spec, x, stats):
    (st.error if level == "error" else st.warning)(message, icon="🚫" if level == "error" else "⚠️")
with explained_errors():
    st.latex(NORMS[norm].formula)
    st.latex(cn.formula_numbers(spec, x, stats))

# -- the panel below ----------------------------------------------------------------------------
if shown("view"):
    st.radio("Show", list(VIEW_LABELS), key=k("view"), horizontal=True, format_func=VIEW_LABELS.get,
             label_visibility="collapsed")
view = st.session_state[k("view")]
if view == "all":
    if is_weight:
        st.info("The grid compares activation norms; pick one to see it next to the others.")
    else:
        st.plotly_chart(grid_figure(spec), key=k("grid"), config=PLOT_CONFIG, theme=None,
                        alt="Small multiples of the pooled set under every activation norm.")
        st.caption("Top row: LayerNorm pools the whole sample, InstanceNorm one channel of it, "
                   "GroupNorm sits in between (C/G channels). Blue: pooled; darker blue: a larger weight "
                   "(mixtures); diamond: the selected cell.")
elif view == "numbers":
    with st.spinner("Computing the same normalization with PyTorch ..."), explained_errors():
        diff, ref = cn.torch_difference(spec, x)
    if diff is not None:
        st.success(f"Checked against PyTorch ({ref}): max |normviz − torch| = {diff:.1e} over all "
                   f"{x.size} values (float64).", icon=":material/verified:")
    else:
        st.caption(f"No PyTorch comparison: {ref}.")
    rows = cn.statistics_rows(spec, x)
    st.dataframe(rows, hide_index=True, height=min(400, 38 + 35 * len(rows)))
    snippet = cn.pytorch_snippet(spec, state.data, state.seed, x=x)
    c1, c2 = st.columns(2)
    c1.download_button("Statistics (CSV)", cn.statistics_csv(rows), file_name=f"normviz-{norm}-statistics.csv",
                       mime="text/csv", icon=":material/download:", on_click="ignore")
    c2.download_button("PyTorch snippet (.py)", snippet, file_name=f"normviz_{norm}.py", mime="text/x-python",
                       icon=":material/code:", on_click="ignore")
    st.code(snippet, language="python")
    st.caption("PNG: use the camera icon in each figure's toolbar.")
elif view == "noise":
    if shown("noise_data"):
        st.radio("Data", list(bn.SOURCES), key=k("noise_data"), horizontal=True, format_func=bn.SOURCES.get)
    result = noise(st.session_state[k("noise_data")])
    st.plotly_chart(bn.noise_figure(result), key=k("noise"), config=PLOT_CONFIG, theme=None,
                    alt=bn.noise_sentence(result))
    st.markdown(bn.noise_sentence(result))
elif view == "sequence":
    st.markdown("Transformers normalize **tokens**: an N×L×D tensor (batch, length, features). "
                "PyTorch's `normalized_shape` names the trailing axes that are pooled.")
    c = st.columns(6)
    if shown("seq"):
        c[0].selectbox("Norm", list(cf.SEQ_KINDS), key=k("seq"), format_func=lambda s: cf.SEQ_KINDS[s].split(":")[0])
    for col, name, hi in zip(c[1:], ("L", "D"), (32, 64)):
        if shown(name):
            col.number_input(name, 1, hi, key=k(name))
    L, D = int(st.session_state[k("L")]), int(st.session_state[k("D")])
    for col, name, hi in zip(c[3:], ("n", "l", "d"), (state.N, L, D)):
        if shown(name) and name != "n":
            col.number_input(f"selected {name}", 0, hi - 1, key=k(name))
    state = state_from_widgets(CubeState, P, **tuple_values(C))
    shape3, idx3 = (state.N, state.L, state.D), (min(state.n, state.N - 1), state.l, state.d)
    st.plotly_chart(cf.sequence_figure(shape3, state.seq, idx3), key=k("seqfig"), config=PLOT_CONFIG, theme=None,
                    alt=cf.sequence_sentence(shape3, state.seq, idx3))
    st.markdown(f"**{cf.sequence_sentence(shape3, state.seq, idx3)}**")

write_url(state_from_widgets(CubeState, P, **tuple_values(C)))
