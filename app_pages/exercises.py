"""Exercises: predict, then reveal. Each exercise is a link a teacher can hand out (?ex=ID&lock=1);
answers are checked by the library (normviz.classroom.exercises), scored per session, and summed
up in a result code the student shows. Nothing is stored on the server."""
import streamlit as st

from normviz.classroom import exercises as ex
from normviz.classroom.figures import grid_figure

P = "exercises"
SCORE = f"{P}:score"  # {exercise id: right on the last try}
PLOT_CONFIG = {"displaylogo": False}

st.title("Exercises")
st.caption("Predict, then reveal: answer first, then press **Check**. Every answer is computed by the library "
           "(the pooled sets, the normalized images, the shipped runs), never typed by hand. Your score lives in "
           "this browser tab only; the result code at the bottom carries it to your teacher.")
ss = st.session_state
ss.setdefault(SCORE, {})
catalogue = ex.catalogue()
locked = st.query_params.get("lock") == "1"
wanted = st.query_params.get("ex")

if wanted is not None and wanted not in {e.id for e in catalogue}:
    st.warning(f"This link asks for exercise “{wanted[:60]}”, which does not exist; pick one below.")
    wanted = None
if locked and wanted:
    current = ex.get(wanted)
else:
    kinds = list(ex.KINDS)
    start = ex.get(wanted).kind if wanted else kinds[0]
    kind = st.radio("Kind", kinds, index=kinds.index(start), format_func=ex.KINDS.get, horizontal=True,
                    key=f"{P}:kind")
    # Plain string options (AppTest and the URL both see them): "n. prompt…", mapped back to an id.
    labels = {f"{n + 1}. {e.prompt[:90]}…": e.id for n, e in enumerate(e for e in catalogue if e.kind == kind)}
    by_id = {i: label for label, i in labels.items()}
    if wanted in by_id and ss.get(f"{P}:ex") not in labels:
        ss[f"{P}:ex"] = by_id[wanted]
    chosen = st.selectbox("Exercise", list(labels), key=f"{P}:ex")
    current = ex.get(labels[chosen])
    st.query_params["ex"] = current.id

st.subheader(ex.KINDS[current.kind])
st.markdown(current.prompt)
if current.kind in ("pool", "which"):
    st.plotly_chart(grid_figure(current.marked, highlighted=current.highlighted), key=f"{P}:grid:{current.id}",
                    config=PLOT_CONFIG, alt=f"Tensor grid with the cell {ex.cell_label(current.marked)} marked"
                    + (f" and {len(current.highlighted)} cells highlighted" if current.highlighted else ""))

with st.form(f"{P}:form:{current.id}"):
    if current.multi:
        answer = st.multiselect("The cells (the marked cell counts too)", current.options, key=f"{P}:a:{current.id}")
    else:
        answer = st.radio("Your answer", current.options, index=None, key=f"{P}:a:{current.id}")
    checked = st.form_submit_button("Check", type="primary")

if checked:
    if not answer:
        st.warning("Choose an answer first, then press Check.")
    else:
        verdict = current.check(answer)
        ss[SCORE][current.id] = verdict.correct
        if verdict.correct:
            st.success(f"Right. {current.explain}")
        elif current.multi:
            st.error(f"Not quite: {len(verdict.wrong)} marked cell(s) are not in the set and {len(verdict.missing)} "
                     f"cell(s) of the set are missing. {current.explain}")
            st.plotly_chart(grid_figure(current.marked, highlighted=current.answer & frozenset(answer),
                                        wrong=frozenset(verdict.wrong), missing=frozenset(verdict.missing)),
                            key=f"{P}:reveal:{current.id}", config=PLOT_CONFIG,
                            alt=f"The right set; wrong cells: {', '.join(verdict.wrong) or 'none'}; missing: "
                                f"{', '.join(verdict.missing) or 'none'}")
        else:
            st.error(f"Not this time: the answer is {' or '.join(sorted(current.answer))}. {current.explain}")

right = sum(ss[SCORE].values())
st.divider()
st.metric("Your score in this tab", f"{right} of {len(ss[SCORE])} answered right")
if ss[SCORE]:
    st.markdown("**Result code** (show it to your teacher):")
    st.code(ex.result_code(ss[SCORE]), language=None)
st.caption(f"Link to this exercise for a class: `?ex={current.id}&lock=1` on this page.")

with st.expander("For teachers: read a result code"):
    code = st.text_input("Result code", key=f"{P}:read", placeholder="NV-AAGQ-AXVF-J4")
    if code:
        try:
            results = ex.read_result_code(code)
        except ValueError as err:
            st.error(str(err))
        else:
            st.markdown(f"**{sum(results.values())} of {len(results)} right.**")
            st.table([{"exercise": i, "right": "yes" if ok else "no"} for i, ok in results.items()])
