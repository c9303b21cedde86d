"""One small figure per experiment: the paper's numbers next to ours, our seeds as dots.

Left, the paper's first table with numbers (bars); right, each of the experiment's facts (numbered
as in the list beside the figure) with one mark per shipped seed: a blue dot where it holds, a
vermillion cross where it does not. Figures are built from
plain dicts (plotly imported lazily) so the guide draws many of them cheaply.
"""
from __future__ import annotations

from normviz.experiments.base import Experiment, PaperTable
from normviz.experiments.seeds import facts
from normviz.palette import BLUE, GREY, VERMILLION, colour


def _numeric(table: PaperTable) -> tuple[list[str], list[tuple[str, list]]] | None:
    """(numeric column names, [(row label, values)]) of a table whose first column labels rows."""
    cols = [i for i, _ in enumerate(table.columns[1:], 1)
            if all(isinstance(r[i], (int, float)) and not isinstance(r[i], bool) for r in table.rows)]
    if not cols:
        return None
    return [table.columns[i] for i in cols], [(str(r[0]), [r[i] for i in cols]) for r in table.rows]


def paper_table(spec: Experiment) -> PaperTable | None:
    """The first of the experiment's paper tables that has numbers to plot."""
    return next((t for t in spec.paper if _numeric(t)), None)


def evidence_figure(spec: Experiment, doc: dict):
    """Paper's numbers (left, if any) and our facts per seed (right)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    table = paper_table(spec)
    found = facts(spec, doc)
    two = table is not None and found
    fig = make_subplots(rows=1, cols=2 if two else 1, column_widths=[0.4, 0.6] if two else None,
                        horizontal_spacing=0.12,
                        subplot_titles=(["The paper"] if table is not None else []) + (["Ours, per seed"] if found else []))
    if table is not None:
        cols, rows = _numeric(table)
        if len(cols) == 1:  # one number per row: the rows are the bars
            fig.add_trace(go.Bar(x=[label for label, _ in rows], y=[v[0] for _, v in rows], showlegend=False,
                                 marker_color=[colour(i) for i in range(len(rows))], name=cols[0],
                                 hovertemplate=f"%{{x}}: %{{y}}<extra>{table.source}</extra>"), 1, 1)
            fig.update_yaxes(title_text=cols[0], title_standoff=2, row=1, col=1)
        else:
            for i, (label, values) in enumerate(rows):
                fig.add_trace(go.Bar(x=cols, y=values, name=label, marker_color=colour(i), legendgroup="paper",
                                     hovertemplate=f"{label}, %{{x}}: %{{y}}<extra>{table.source}</extra>"), 1, 1)
    if found:
        col = 2 if two else 1
        y = [str(i) for i in range(1, len(found) + 1)]  # the numbers of the facts listed beside the figure
        for j, seed in enumerate(found[0].seeds):
            holds = [seed in f.holds_in for f in found]
            fig.add_trace(go.Scatter(
                x=[j] * len(found), y=y, mode="markers", name=f"seed {seed}", showlegend=False,
                marker=dict(size=16, color=[BLUE if h else VERMILLION for h in holds],
                            symbol=["circle" if h else "x" for h in holds]),
                hovertemplate=[f"fact {i}, seed {seed}: {'holds' if h else 'does not hold'}<br>{f.statement}"
                               "<extra></extra>" for i, (h, f) in enumerate(zip(holds, found), 1)]),
                1, col)
        fig.update_xaxes(tickvals=list(range(len(found[0].seeds))), ticktext=[f"seed {s}" for s in found[0].seeds],
                         range=[-0.6, len(found[0].seeds) - 0.4], row=1, col=col)
        fig.update_yaxes(autorange="reversed", title_text="fact", row=1, col=col)
    fig.update_layout(height=150 + 28 * max(len(found), 4), margin=dict(l=60, r=10, t=40, b=30),
                      plot_bgcolor="white", barmode="group", font=dict(size=12),
                      legend=dict(orientation="h", yanchor="top", y=-0.18, x=0, font=dict(size=11)))
    fig.update_yaxes(gridcolor=GREY)
    return fig


def alt_text(spec: Experiment, doc: dict) -> str:
    """The figure in words: each fact and its seed count."""
    return f"{spec.title}. " + " ".join(f.sentence() for f in facts(spec, doc))
