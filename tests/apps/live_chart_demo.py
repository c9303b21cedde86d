"""Demo app for live_chart (tests/test_live_chart*.py): a scatter3d whose title and one point
move with a counter, a clickable heatmap, and a third chart inside a fragment.

Run: .venv/bin/python -m streamlit run tests/apps/live_chart_demo.py
"""
import sys
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root, for app_pages
from app_pages._live_chart import live_chart  # noqa: E402

st.session_state.setdefault("n", 0)
st.session_state.runs = st.session_state.get("runs", 0) + 1  # whole-script runs, not fragment runs
if st.button("Next", key="next"):
    st.session_state.n += 1
n = st.session_state.n
show3d = st.toggle("Show the 3D chart", True, key="show3d")

rng = np.random.default_rng(0)
xyz = rng.normal(size=(3, 40))
xyz[:, 0] = n  # one point walks away with every rerun: the figure changes
cube = go.Figure(go.Scatter3d(x=xyz[0], y=xyz[1], z=xyz[2], mode="markers", marker=dict(size=4)),
                 layout=dict(title=dict(text=f"rerun {n}"), margin=dict(l=0, r=0, t=40, b=10)))
if show3d:  # off: the chart unmounts (its JS cleanup purges it)
    live_chart(cube, key="cube", alt=f"40 random points in 3D; point 0 sits at ({n}, {n}, {n}).", height=420)

grid = np.arange(12.0).reshape(3, 4) + n
heat = go.Figure(go.Heatmap(z=grid, x=["a", "b", "c", "d"], y=["p", "q", "r"],
                            customdata=np.array([[f"cell {i}{j}" for j in range(4)] for i in range(3)])),
                 layout=dict(title=dict(text=f"heatmap {n}"), margin=dict(l=50, r=10, t=40, b=30)))
click = live_chart(heat, key="heat", alt="A 3 by 4 heatmap of the numbers n to n + 11.", height=300,
                   on_click=True, table=grid, png_name="heatmap")
if click:
    st.session_state.last_click = click
st.write(f"clicked: {st.session_state.get('last_click')}")
st.write(f"echo {n}, script runs {st.session_state.runs}")


@st.fragment
def in_fragment():
    st.session_state.setdefault("m", 0)
    if st.button("Fragment step", key="fstep"):
        st.session_state.m += 1
    m = st.session_state.m
    line = go.Figure(go.Scatter(x=[0, 1, 2], y=[m, m + 1, m - 1], mode="lines+markers"),
                     layout=dict(title=dict(text=f"fragment {m}"), margin=dict(l=50, r=10, t=40, b=30)))
    fclick = live_chart(line, key="frag", alt=f"A line through three points, step {m}.", height=260, on_click=True)
    st.write(f"fragment click: {fclick['pointIndex'] if fclick else None}")


in_fragment()
