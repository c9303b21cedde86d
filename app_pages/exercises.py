"""Exercises: predict, then reveal. One exercise at a time (``?ex=<id>&lock=ex`` is the link a
teacher hands out), scored at once, with a per-session score and a result code a student shows."""
import streamlit as st

from app_pages._live_chart import live_chart
from app_pages.kit import explained_errors, show_locks, show_notices, url_state, wkey
from normviz.classroom import exercises as E
from normviz.classroom.figures import grid_figure, xy_cell
from normviz.norms import display_name

PREFIX = "ex"
CATALOGUE = E.catalogue()
TITLES = {ex.id: ex.title for ex in CATALOGUE}



def _toggle_pick(ex_id: str):
    """A click on a cell adds it to the answer or takes it out (a callback: it runs before the
    answer box below is drawn, so it may set the box's value)."""
    def toggle(point: dict) -> None:
        cell = xy_cell(point["x"], point["y"])
        if cell is not None and cell != E.MARKED:
            picked = {tuple(c) for c in st.session_state.get(f"resp:{ex_id}", [])} ^ {cell}
            st.session_state[f"resp:{ex_id}"] = sorted(picked)
    return toggle


st.title("Exercises: predict, then reveal")
state, notices = url_state(E.ExercisesState, PREFIX)
show_notices(PREFIX, notices)
show_locks(state, {"ex": "exercise"}, {"ex": lambda v: TITLES.get(v or CATALOGUE[0].id, v)})
answers = st.session_state.setdefault(f"{PREFIX}:answers", {})  # id -> correct (first answer counts)

if not state.is_locked("ex"):
    st.caption(f"{len(CATALOGUE)} exercises, generated from the norm registry and the shipped experiment data.")
    if not st.session_state.get(wkey(PREFIX, "ex")):
        st.session_state[wkey(PREFIX, "ex")] = CATALOGUE[0].id
    st.selectbox("Exercise", list(TITLES), key=wkey(PREFIX, "ex"), format_func=lambda i: f"{TITLES[i]}  ·  {i}")
ex_id = st.session_state.get(wkey(PREFIX, "ex")) or state.ex or CATALOGUE[0].id
ex = E.by_id(ex_id)
if st.query_params.get("ex") != ex_id and not state.is_locked("ex"):
    st.query_params["ex"] = ex_id

st.subheader(ex.title)
st.markdown(ex.prompt)
kind = "weight" if ex.norm and E._kind(ex.norm) == "weight" else "activation"
label = {c: E.cell_label(c, kind) for c in E.all_cells()}
result_key = f"{PREFIX}:verdict:{ex.id}"

if ex.kind in ("set", "which"):
    roles = {c: "set" for c in ex.highlight} if ex.kind == "which" else {}
    verdict = st.session_state.get(result_key)
    if ex.kind == "set" and verdict is not None:
        roles = {c: "right" for c in ex.answer}
        roles.update({c: "wrong" for c in verdict.wrong})
        roles.update({c: "missing" for c in verdict.missing})
    elif ex.kind == "set":
        roles = {tuple(c): "picked" for c in st.session_state.get(f"resp:{ex.id}", [])}
    roles[E.MARKED] = "marked"
    # In place (live_chart): a pick redraws the same chart instead of mounting a new one per click.
    live_chart(grid_figure(roles, kind), key=f"grid:{ex.id}", on_click=_toggle_pick(ex.id) if ex.kind == "set" else False,
               alt=f"{ex.title}: the cells of a {'×'.join(map(str, E.SHAPE))} tensor, coloured by their role",
               png_name=f"normviz-exercise-{ex.id}")

with st.form(f"form:{ex.id}"):
    if ex.kind == "set":
        response = st.multiselect("Cells that share μ with the marked one (click them in the grid, or pick here)", E.all_cells(), key=f"resp:{ex.id}",
                                  format_func=label.get, placeholder="Pick cells")
    else:
        fmt = display_name if ex.kind == "which" else (lambda o: "no norm" if o == "none" else
                                                       display_name(o) if ex.kind == "race" and o != "seeds disagree"
                                                       else o)
        response = st.radio("Your answer", ex.options, index=None, key=f"resp:{ex.id}", format_func=fmt,
                            horizontal=ex.kind != "which")
    submitted = st.form_submit_button("Check", type="primary")

if submitted:
    if response is None:
        st.warning("Pick an answer first.")
    else:
        with explained_errors():
            verdict = ex.check(response)
            st.session_state[result_key] = verdict
            answers.setdefault(ex.id, verdict.correct)
            st.rerun()

verdict = st.session_state.get(result_key)
if verdict is not None:
    (st.success if verdict.correct else st.error)(verdict.message)
    st.caption(ex.explanation)
    st.markdown(f"[See it in the app]({ex.link})")

st.divider()
right = sum(answers.values())
st.markdown(f"**Score this session: {right} of {len(answers)} correct** (the first answer to each exercise counts).")
if answers:
    st.markdown("Your result code (show it to your teacher):")
    st.code(E.encode_result(answers), language=None)

with st.expander("For teachers: the link to hand out, and reading a result code"):
    st.markdown("Link to this exercise, with the chooser hidden:")
    st.code(E.locked_link(ex.id), language=None)
    code = st.text_input("A student's result code", key=f"{PREFIX}:decode", placeholder="e.g. AAAQ-ARF3-WA")
    if code:
        with explained_errors():
            decoded = E.decode_result(code)
            st.markdown(f"**{sum(decoded.values())} of {len(decoded)} correct.**")
            st.table([{"exercise": i, "title": TITLES[i], "correct": "yes" if ok else "no"} for i, ok in decoded.items()])
