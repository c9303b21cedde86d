"""Demo app for live_chart's lazy drawing (tests/test_live_chart_lazy_browser.py): a chart on the
first screen, one in a closed expander and one far below the fold; "Next" changes all three.

Run: .venv/bin/python -m streamlit run tests/apps/lazy_chart_demo.py
"""
import sys
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root, for app_pages
from app_pages._live_chart import live_chart  # noqa: E402

st.session_state.setdefault("n", 0)
if st.button("Next", key="next"):
    st.session_state.n += 1
n = st.session_state.n


def line(name: str) -> go.Figure:
    return go.Figure(go.Scatter(x=[0, 1, 2], y=[n, n + 1, n - 1], mode="lines+markers"),
                     layout=dict(title=dict(text=f"{name} {n}"), margin=dict(l=50, r=10, t=40, b=30)))


live_chart(line("top"), key="top", alt="The chart on the first screen.", height=300)
with st.expander("More charts"):
    live_chart(line("hidden"), key="hidden", alt="The chart in the expander.", height=300)
st.markdown('<div style="height: 3000px"></div>', unsafe_allow_html=True)  # far below the fold
live_chart(line("below"), key="below", alt="The chart far below.", height=300)
st.write(f"echo {n}")
