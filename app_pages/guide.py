"""Guide: the questions people ask about normalization, each answered by experiments in the app.

Thin page over ``normviz.experiments.GUIDE``: the answer in words (with the papers' numbers),
then, per experiment, the verdict and numbers of its shipped results and a link that opens it
on the experiments page (``?exp=KEY``).
"""
from __future__ import annotations

import streamlit as st

from normviz.experiments import EXPERIMENTS, GUIDE, QUESTIONS


def evidence(key: str) -> None:
    spec = EXPERIMENTS.get(key)
    if spec is None:
        return
    with st.container(border=True):
        st.markdown(f"**{spec.title}**")
        st.page_link("app_pages/experiments.py", label="Open this experiment", icon=":material/science:",
                     query_params={"exp": key}, help=f"{spec.title} (opens ?exp={key})")
        doc = spec.precomputed()
        if not doc:
            st.caption("No shipped results yet: open the experiment and press Run.")
            return
        first = next(iter(doc["runs"].values()))
        holds = [r["claim"]["holds"] for r in doc["runs"].values()]
        seeds = "" if list(doc["runs"]) == ["all"] else f" (seeds {', '.join(doc['runs'])}: " \
            f"{sum(holds)} of {len(holds)} hold)"
        mark = ":green[:material/check_circle:]" if all(holds) else ":red[:material/cancel:]"
        st.markdown(f"{mark} **Shipped results{seeds}.** {first['claim']['sentence']}")
        st.caption(f"Made with `{doc.get('made_by', '')}` on {doc.get('date', '?')}.")


def main() -> None:
    st.title("Guide")
    st.caption("The questions people ask about normalization layers. Each answer comes from the papers "
               "and is backed by experiments you can open and re-run; the numbers under each answer are "
               "this app's shipped results on scikit-learn's 8×8 digits (CPU scale), not the papers'.")
    st.markdown("\n".join(f"{i}. [{QUESTIONS[g.question]}](#{g.question})" for i, g in enumerate(GUIDE, 1)))
    for g in GUIDE:
        st.header(QUESTIONS[g.question], anchor=g.question, divider="gray")
        st.markdown(g.answer)
        for key in g.experiments:
            evidence(key)


main()
