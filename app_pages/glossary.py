"""Glossary: every symbol the formulas use, explained once. Formulas elsewhere link here
(``/glossary#mu``)."""
import streamlit as st

from normviz.glossary import GLOSSARY

st.title("Glossary")
st.caption("The symbols of every formula in normviz. Most layers compute x̂ = (x − μ)/√(σ² + ε) over a set of "
           "values and then y = γ x̂ + β; the entries below say what each letter is.")
for s in GLOSSARY:
    st.subheader(f"{s.shown}: {s.name}", anchor=s.anchor)
    st.markdown(s.meaning)
