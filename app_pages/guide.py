"""Guide: the questions people ask about normalization, each answered at a glance.

Thin page over ``normviz.experiments.GUIDE``: per question a one-line recommendation and two lines
from the papers (numbers cited), then per experiment one small figure (the paper's numbers next to
ours, seeds as dots), its facts counted over every shipped seed, and its numbers in a table with one
column per seed; a link opens it on the experiments page (``?exp=KEY``).
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from normviz.experiments import EXPERIMENTS, GUIDE, QUESTIONS
from normviz.experiments.evidence import alt_text, evidence_figure
from normviz.experiments.seeds import claim_count, facts, headline_table

PLOT_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}


@st.cache_resource(show_spinner=False)
def shipped(key: str):
    return EXPERIMENTS[key].precomputed()


def evidence(key: str, question: str) -> None:
    spec = EXPERIMENTS.get(key)
    if spec is None:
        return
    doc = shipped(key)
    with st.container(border=True):
        st.markdown(f"**{spec.title}**")
        if not doc:
            st.caption("No shipped results yet: open the experiment and press Run.")
        else:
            k, n = claim_count(doc)
            st.markdown(f"Its claim holds in **{k} of {n}** shipped seeds.  \n"
                        + "  \n".join(f"{i}. {':green[●]' if f.all else ':red[✕]' if f.none else ':orange[◐]'} {f.sentence()}"
                                      for i, f in enumerate(facts(spec, doc), 1)))
            st.plotly_chart(evidence_figure(spec, doc), key=f"guide:{question}:{key}", config=PLOT_CONFIG,
                            alt=alt_text(spec, doc), theme=None)
            cols, rows = headline_table(spec, doc)
            if rows:
                with st.expander("The numbers, one column per seed"):
                    st.dataframe(pd.DataFrame(rows, columns=cols), hide_index=True)
        st.page_link("app_pages/experiments.py", label="Open this experiment", icon=":material/science:",
                     query_params={"exp": key}, help=f"{spec.title} (opens ?exp={key})")


def main() -> None:
    st.title("Guide")
    st.caption("The questions people ask about normalization layers. Each answer leads with a recommendation "
               "and the papers' numbers; under it, this app's shipped experiments on scikit-learn's 8×8 digits "
               "(CPU scale), each fact counted over every shipped seed.")
    st.markdown("\n".join(f"{i}. [{QUESTIONS[g.question]}](#{g.question})" for i, g in enumerate(GUIDE, 1)))
    for g in GUIDE:
        st.header(QUESTIONS[g.question], anchor=g.question, divider="gray")
        if g.recommendation:
            st.markdown(f"**{g.recommendation}**")
        st.caption(g.answer)
        for key in g.experiments:
            evidence(key, g.question)


main()
