"""Cube explorer: which values share the selected value's statistics, for every norm.

Thin page: the controls (``views/cube/controls.py``, built from the registry; in the sidebar, or a
popover when presenting or embedded) -> a ``CubeSpec`` -> normviz.cube figures and numbers; the
panel under the cube is a view of ``views/cube/panels.py``. Every control lives in the URL
(normviz.state.CubeState); ``?lock=norm,C`` hides controls.
"""
from __future__ import annotations

import streamlit as st

from app_pages._classroom import controls_panel
from app_pages._live_chart import live_chart
from app_pages.kit import explained_errors, formula, latex_lines, set_control, show_locks, show_notices, url_state, write_url
from app_pages.views.cube import controls, walkthrough
from app_pages.views.cube.controls import P, current, k, seed_tuple_widgets, spec_of, sync_widgets
from app_pages.views.cube.panels import PANELS, VIEW_LABELS, Context
from normviz.cube import figures as cube_figures, keys as cube_keys, numbers as cube_numbers
from normviz.norms import NORMS
from normviz.norms.table import families
from normviz.state import CubeState


def on_cell_click(point: dict) -> None:
    """A click on the unfolded view selects that element (a callback: runs before the widgets)."""
    idx = cube_figures.selected_from_point(point)
    if idx is not None:
        for name, v in zip(("n", "c", "h", "w"), idx):
            set_control(P, name, int(v))


def on_cell_key(key_name: str) -> None:
    """An arrow key on the focused unfolded view moves the selected element (a callback, like a click)."""
    state = current()
    for name, v in zip(("n", "c", "h", "w"), cube_keys.moved(state.index, state.shape, key_name)):
        set_control(P, name, v)


@st.cache_resource(max_entries=64, show_spinner=False)
def figures(spec: cube_numbers.CubeSpec, source: str, seed: int):
    x = cube_numbers.data_for(spec, source, seed)
    return x, cube_figures.cube_figure_dict(spec, x), cube_figures.unfolded_figure_dict(spec, x)


state, notices = url_state(CubeState, P)
seed_tuple_widgets(state)
state = sync_widgets()


def shown(name: str) -> bool:
    return not state.is_locked(name)


st.title("Cube explorer")
st.markdown(
    "Most normalization layers standardize each value with a mean μ and a variance σ² pooled over a "
    "set of values, x̂ = (x − μ)/√(σ² + ε), and then scale and shift it with learned γ and β. Pick a "
    "norm and a cell: the blue cells are the set it is normalized with. "
    + ("" if state.is_locked("norm") else
       "The buttons above the cube flip between LayerNorm, GroupNorm, InstanceNorm and BatchNorm "
       "without losing the camera angle; ")
    + "click a cell in the unfolded view to select it, or walk it with the arrow keys.")
with st.expander("Not every norm is a set of values with its μ and σ²: what each kind of norm does"):
    st.markdown("\n".join(f"- **{title}** ({', '.join(names)}): {what}." for title, what, names in families()))
show_notices(P, notices)
show_locks(state)

with controls_panel():
    controls.panel(shown)

# -- selection --------------------------------------------------------------------------------
state = current()
spec = spec_of(state)
norm_spec = NORMS[state.norm]
if norm_spec.is_weight:
    st.info(f"**{norm_spec.name} normalizes weights, not activations.** It needs no batch and no "
            f"activation statistics: each output filter's weights C_in×k×k are rescaled (and for "
            f"Weight Standardization, centred) on their own. So the cube now shows the layer's weight "
            f"tensor C_out×C_in×k×k = {'×'.join(map(str, state.shape))}.", icon=":material/info:")
with st.container(horizontal=True, gap="small"):  # wraps two a row on a phone instead of stacking
    for name, label, size in zip(("n", "c", "h", "w"), spec.index_names, state.shape):
        if shown(name):
            st.number_input(f"selected {label}", 0, size - 1, key=k(name), width=160)
state = current()

# -- the cube and the unfolded view ---------------------------------------------------------
x, cube, flat = figures(spec, state.data, state.seed)
if not shown("norm"):  # the in-figure LN | GN | IN | BN buttons would get round the teacher's lock
    cube = {**cube, "layout": {**cube["layout"], "updatemenus": []}}  # the cached one is shared between sessions
stats = cube_numbers.element_stats(spec, x)
sentence = cube_numbers.summary_sentence(spec)
left, right = st.columns([1.1, 1])
with left:
    live_chart(cube, key=k("cube3d"), alt=sentence, png_name="normviz-cube")
with right:
    keys_help = cube_keys.key_help(spec.index_names)
    live_chart(flat, key=k("unfolded"), on_click=on_cell_click, on_key=on_cell_key, keys=cube_keys.KEYS,
               alt=f"Unfolded view: {sentence} Keys: {keys_help}.",
               status=cube_keys.selection_text(spec.index_names, spec.index, float(x[spec.index]), sentence),
               png_name="normviz-cube-unfolded")
    st.caption(f":material/keyboard: Tab to the unfolded view (or click it), then {keys_help}.")
st.markdown(f"**{sentence}**")
st.caption(cube_numbers.count_caption(spec) + " Turn on *Colour every group* to see them.")
st.caption(f"Training and eval: {norm_spec.train_eval}")
note = cube["layout"]["meta"]["note"]
if note:
    st.caption(f":material/zoom_out: {note}")
for level, message in cube_numbers.edge_notes(spec, x, stats):
    (st.error if level == "error" else st.warning)(message, icon="🚫" if level == "error" else "⚠️")
with explained_errors():
    formula(norm_spec.formula)
    latex_lines(cube_numbers.formula_numbers(spec, x, stats))
    base = cube_numbers.uncorrected(spec, x)
    if base is not None:
        st.caption(f"Against {base[0]} on the same input: max |difference| = {base[1]:.3g}. At r_max = 1 and "
                   f"d_max = 0 (the paper's warm-up) the two are equal.")

walkthrough.render(spec, x, stats, locked=not shown("step"))  # step=N in the URL; ← / → keys

# -- the panel below ----------------------------------------------------------------------------
if shown("view"):
    st.radio("Show", list(VIEW_LABELS), key=k("view"), horizontal=True, format_func=VIEW_LABELS.get,
             label_visibility="collapsed")
PANELS[st.session_state[k("view")]](Context(state, spec, x, shown))

write_url(current())
