"""Transformer lab, the shipped experiments: each one's claim and facts counted over the shipped seeds,
its figures, and one cell of the pre-/post-LN learning-rate sweep re-run live beside its shipped number."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages.views.transformer.common import LAB, P, RUNNING
from normviz.experiments import EXPERIMENTS
from normviz.experiments import transformer_placement as placement
from normviz.experiments.seeds import claim_count, facts, headline_table
from normviz.numerics import rerun_line
from normviz.training import jobs

KEYS = ("transformer_placement", "transformer_rms", "transformer_dyt", "transformer_depth")


def verdict(spec, doc) -> str:
    """The claim and in how many shipped seeds it holds; a claim that holds nowhere is said not to reproduce."""
    k, n = claim_count(doc)
    if k == n:
        return f"**Reproduces in {'both' if n == 2 else f'all {n}'} shipped seeds:** {spec.claim_text}"
    if k == 0:
        return f"**Does not reproduce here (in {'neither' if n == 2 else 'none'} of the {n} seeds):** {spec.claim_text}"
    return f"**Mixed, holds in {k} of {n} seeds:** {spec.claim_text}"


def experiment(key: str) -> None:
    spec = EXPERIMENTS[key]
    doc = spec.precomputed()
    st.subheader(spec.title, divider="gray")
    if doc is None:
        st.warning(f"No shipped results: run `python -m normviz.experiments --precompute {key}`.", icon="⚠️")
        return
    st.markdown(verdict(spec, doc))
    for seed, run in doc["runs"].items():
        st.caption(f"Seed {seed}: {run['claim']['sentence']}")
    st.markdown("\n".join(f"- {f.sentence()}" for f in facts(spec, doc)))
    if spec.notes:
        with st.expander("Caveats and the explanation"):
            st.markdown(spec.notes)
    first = next(iter(doc["runs"].values()))["results"]
    for i, fig in enumerate(spec.figure(first)):
        st.plotly_chart(fig, key=f"{P}:{key}:{i}", alt=f"{spec.title}, figure {i + 1}, seed {next(iter(doc['runs']))}")
    cols, rows = headline_table(spec, doc)
    with st.expander("The numbers, one column per seed"):
        st.dataframe(pd.DataFrame(rows, columns=cols), hide_index=True)
    st.caption(f"Made with `{doc['made_by']}` on {doc['date']} ({doc['machine']}; {doc['numerics']['mode']} numerics).")


def render() -> None:
    """The four experiments (the re-run panel is drawn by the page's live fragment)."""
    for key in KEYS:
        experiment(key)


def rerun(cell_jobs: list[jobs.Job]) -> None:
    ss = st.session_state
    doc = EXPERIMENTS["transformer_placement"].precomputed()
    if doc is None:
        return
    with st.container(border=True):
        st.markdown("**Re-run one cell of the pre-/post-LN sweep live**")
        st.caption(rerun_line(doc.get("numerics")))
        c1, c2, c3, c4 = st.columns(4)
        seed = c1.selectbox("Seed", list(doc["runs"]), key=f"{P}:cell_seed")
        res = doc["runs"][seed]["results"]
        where = c2.selectbox("Placement", placement.PLACES, key=f"{P}:cell_place", format_func=placement.LABELS.get)
        lr = c3.selectbox("Learning rate", res["config"]["lrs"], key=f"{P}:cell_lr")
        cfg = placement.cell_config(res, where, lr)
        c4.button("Re-run cell", key=f"{P}:cell_run", on_click=LAB.start_cell,
                  args=(f"{placement.LABELS[where]} lr {lr:g} seed {seed}", cfg), disabled=ss[RUNNING],
                  icon=":material/replay:")
        for job in cell_jobs:
            last = job.snapshots[-1] if job.snapshots else None
            if job.active:
                st.progress((last["step"] if last else 0) / job.config.steps, text=f"{job.label}: {job.status}")
            elif last is not None and job.status in ("done", "diverged"):
                ref = placement.cell(doc["runs"][str(job.config.seed)]["results"], job.config.placement, job.config.lr)
                same = (last["test_acc"], last["diverged"]) == (ref["test_acc"], ref["diverged"])
                st.markdown(f"{job.label}: test accuracy {last['test_acc']:.4f}, "
                            f"{'diverged' if last['diverged'] else 'trained'} (shipped {ref['test_acc']:.4f}, "
                            f"{'diverged' if ref['diverged'] else 'trained'}): "
                            + ("the same numbers." if same else "different numbers."))
            elif job.status == "error":
                st.error(f"{job.label}: {job.message}", icon="🚫")
