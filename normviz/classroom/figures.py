"""The exercise grid: a small N×C×H×W tensor unfolded as one H×W block per (n, c), for plotly."""
from __future__ import annotations

from normviz.classroom.exercises import POOL_SHAPE, cell_label
from normviz.palette import OKABE_ITO


def grid_figure(marked=None, highlighted=frozenset(), wrong=frozenset(), missing=frozenset()):
    """Blocks for each (n, c): rows n, columns c, cells h, w. ``marked`` (an index) is a diamond;
    ``highlighted`` cells are filled blue; after a check, ``wrong`` ones (marked but not in the set)
    are red crosses and ``missing`` ones (in the set, not marked) are open blue squares."""
    import numpy as np
    import plotly.graph_objects as go

    N, C, H, W = POOL_SHAPE
    cells = [tuple(int(v) for v in i) for i in np.ndindex(*POOL_SHAPE)]
    xy = {i: (i[1] * (W + 1) + i[3], -(i[0] * (H + 1) + i[2])) for i in cells}

    def trace(members, name, symbol="square", **marker):
        pts = [xy[i] for i in cells if cell_label(i) in members]
        return go.Scatter(x=[p[0] for p in pts], y=[p[1] for p in pts], mode="markers", name=name,
                          marker=dict(size=26, symbol=symbol, **marker), hoverinfo="skip")

    every = {cell_label(i) for i in cells}
    fig = go.Figure([
        trace(every, "cell", color="white", line=dict(color="#555", width=1)),
        trace(highlighted, "in the set", color=OKABE_ITO[0], line=dict(color="#333", width=1)),
        trace(missing, "missed (in the set)", color="rgba(0,0,0,0)", line=dict(color=OKABE_ITO[0], width=4)),
        trace(wrong, "wrong (not in the set)", color=OKABE_ITO[3], symbol="x"),
    ])
    if marked is not None:
        x, y = xy[tuple(marked)]
        fig.add_trace(go.Scatter(x=[x], y=[y], mode="markers", name="marked cell", hoverinfo="skip",
                                 marker=dict(size=18, symbol="diamond", color=OKABE_ITO[1],
                                             line=dict(color="black", width=1))))
    ticks_x = [c * (W + 1) + (W - 1) / 2 for c in range(C)]
    ticks_y = [-(n * (H + 1) + (H - 1) / 2) for n in range(N)]
    fig.update_xaxes(tickvals=ticks_x, ticktext=[f"c={c}" for c in range(C)], showgrid=False, zeroline=False)
    fig.update_yaxes(tickvals=ticks_y, ticktext=[f"n={n}" for n in range(N)], showgrid=False, zeroline=False,
                     scaleanchor="x")
    fig.update_layout(title="The tensor, one H×W block per (n, c); h down, w across", height=300,
                      margin=dict(l=40, r=10, t=40, b=10), plot_bgcolor="white",
                      legend=dict(orientation="h", y=-0.05))
    return fig
