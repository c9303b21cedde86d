"""The cell grid of the clicking exercises: an N·C·H·W tensor drawn as N panels of C rows × H·W
columns, one square per cell (plotly, imported lazily)."""
from __future__ import annotations

from normviz.classroom.exercises import MARKED, SHAPE, all_cells, cell_label

COLOURS = {"marked": "#1f2937", "set": "#2563eb", "picked": "#7c3aed", "right": "#15803d", "wrong": "#dc2626",
           "missing": "#f59e0b", "other": "#e5e7eb"}
NAMES = {"marked": "marked cell", "set": "highlighted set", "picked": "your pick", "right": "clicked, in the set",
         "wrong": "clicked, not in the set", "missing": "in the set, not clicked", "other": "other cells"}


def cell_xy(cell, shape=SHAPE) -> tuple[int, int]:
    n, c, h, w = cell
    return n * (shape[2] * shape[3] + 1) + h * shape[3] + w, c


def xy_cell(x: float, y: float, shape=SHAPE):
    """The inverse of :func:`cell_xy` (None between the panels)."""
    per = shape[2] * shape[3] + 1
    n, rest = divmod(int(round(x)), per)
    if rest == per - 1 or not 0 <= n < shape[0]:
        return None
    return (n, int(round(y)), rest // shape[3], rest % shape[3])


def grid_figure(roles: dict, kind: str = "activation", title: str = ""):
    """Every cell of ``SHAPE`` as a square coloured by its role ("marked", "set", "right",
    "wrong", "missing"; others grey). Hover shows the cell's label."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for role in COLOURS:
        cells = [c for c in all_cells() if roles.get(c, "other") == role]
        if role == "marked" or not cells and role != "other":
            cells = [MARKED] if role == "marked" else cells
        if not cells:
            continue
        xy = [cell_xy(c) for c in cells]
        fig.add_trace(go.Scatter(
            x=[p[0] for p in xy], y=[p[1] for p in xy], mode="markers", name=NAMES[role],
            marker=dict(symbol="square", size=30, color=COLOURS[role], line=dict(width=1, color="#6b7280")),
            text=[cell_label(c, kind) for c in cells], hovertemplate="%{text}<extra>" + NAMES[role] + "</extra>"))
    first, third = ("o", "k") if kind == "weight" else ("n", "h")
    columns = [(h, w) for h in range(SHAPE[2]) for w in range(SHAPE[3])]
    tickvals = [cell_xy((n, 0, h, w))[0] for n in range(SHAPE[0]) for h, w in columns]
    ticktext = [f"{third}{h}·{'l' if kind == 'weight' else 'w'}{w}" for n in range(SHAPE[0]) for h, w in columns]
    for n in range(SHAPE[0]):
        fig.add_annotation(x=cell_xy((n, 0, 0, 0))[0] + (len(columns) - 1) / 2, y=-0.8, text=f"{first} = {n}",
                           showarrow=False, font=dict(size=14))
    fig.update_layout(title=title, height=280, margin=dict(l=40, r=10, t=40, b=40),
                      legend=dict(orientation="h", y=-0.25), plot_bgcolor="white",
                      xaxis=dict(tickvals=tickvals, ticktext=ticktext,
                                 showgrid=False, zeroline=False),
                      yaxis=dict(title="i" if kind == "weight" else "c", autorange="reversed",
                                 tickvals=list(range(SHAPE[1])), showgrid=False, zeroline=False))
    return fig
