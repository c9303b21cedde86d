"""Plotly figures of the cube: which elements share the selected element's statistics.

Pure: a ``CubeSpec`` (and the data) in, a plotly figure dict (``*_dict``) or its
``plotly.graph_objects.Figure`` out; no streamlit.

- ``cube_figure``: the 3D cube (one WebGL chart). Layout "paper" is Figure 2 of the Group Norm
  paper (axes N, C and H·W flattened); layout "full" draws N blocks of C×H×W voxels. Pooled
  cells get colour *and* a second cue (filled, opaque squares; the rest are small, faint open
  squares), the selected element a large diamond. In-figure buttons switch between LN, GN, IN,
  BN (and the chosen norm) in the browser: no server round trip, and the camera keeps its angle.
  "Colour every group" gives each of the K statistics its own colour and marker symbol.
  Mixtures (Batch-Instance, Switchable) draw each cell's pooling weight as colour intensity.
- ``unfolded_figure``: the same tensor unfolded in 2D (block row n, block column c, each block
  H×W), an SVG marker scatter, so Streamlit's point selection can pick the selected element.
- ``small_multiples_figure``: the pooled set of the same element under every activation norm,
  LN | GN | IN first (2D: one WebGL context per page is plenty).
- ``sequence_figure``: LayerNorm/RMSNorm/BatchNorm on N×L×D tokens (``normalized_shape``).

Every trace carries ``meta = {"norm", "role", "stat"}`` so tests (and readers of the JSON) can
tell what it draws; every point's ``customdata`` starts with its (n, c, h, w).
"""
from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from normviz.cube.numbers import (
    CubeSpec,
    ElementStats,
    count_sets,
    element_stats,
    param_text,
    stat_labels,
    stats_of,
    weights,
)
from normviz.norms import NORMS, get_spec
from normviz.palette import BLUE, OKABE_ITO, VERMILLION

POOLED = BLUE          # the pooled set
SELECTED = VERMILLION  # the selected element
OTHER = "#9A9A9A"      # grey: everything else
INTENSITY = [[0.0, "#DCEBF7"], [1.0, "#08306B"]]  # light to dark blue: mixing weight
SYMBOLS_3D = ["square", "diamond", "circle"]  # filled shapes only: crosses read as clutter
SYMBOLS_2D = ["square", "diamond", "circle", "triangle-up", "hexagon", "star"]

COMPARE = ("layer", "group", "instance", "batch")  # the in-figure buttons: LN | GN | IN | BN, the paper's four
MAX_CELLS_2D = 3000
MAX_COMPARE_CELLS = 400  # above this, only the chosen norm is put in the 3D figure


# --------------------------------------------------------------------------------------------
# Which cells are drawn


def kept_indices(shape, index, budget: int) -> tuple[list[np.ndarray], str | None]:
    """Per axis, the indices drawn: all of them, or every s-th one (always keeping the selected
    index) until at most ``budget`` cells remain. Returns the index arrays and a note saying
    what was left out (None when nothing was)."""
    shape = tuple(int(s) for s in shape)
    strides = [1, 1, 1, 1]

    def kept(a):
        return np.union1d(np.arange(0, shape[a], strides[a]), [index[a]])

    while math.prod(len(kept(a)) for a in range(4)) > budget:
        a = max(range(4), key=lambda a: (len(kept(a)), a))  # thin the longest axis (W before H ...)
        if len(kept(a)) <= 1:
            break
        strides[a] *= 2
    ks = [kept(a) for a in range(4)]
    total, shown = math.prod(shape), math.prod(len(k) for k in ks)
    if shown == total:
        return ks, None
    names = ["n", "c", "h", "w"]
    thinned = ", ".join(f"every {_ordinal(s)} {names[a]}" for a, s in enumerate(strides) if s > 1)
    return ks, (f"Drawn downsampled to stay fast: {thinned} (plus the selected element), "
                f"{shown:,} of {total:,} cells. The numbers use every cell.")


def _ordinal(k: int) -> str:
    return {2: "2nd", 3: "3rd"}.get(k, f"{k}th")


def _cells(ks) -> np.ndarray:
    """All (n, c, h, w) combinations of the kept indices, C-order. Shape: (M, 4)."""
    grid = np.meshgrid(*ks, indexing="ij")
    return np.stack([g.ravel() for g in grid], axis=1)


def _coords_3d(cells: np.ndarray, shape, layout: str):
    n, c, h, w = cells.T
    N, C, H, W = shape
    if layout == "full":
        return w + n * (W + 1.5), c, h
    return n, c, h * W + w


def _round(a, digits: int = 4):
    a = np.asarray(a, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mag = np.where(np.isfinite(a) & (a != 0), np.floor(np.log10(np.abs(np.where(a == 0, 1, a)))), 0)
    scale = 10.0 ** (digits - 1 - mag)
    return np.round(a * scale) / scale


def _customdata(cells, x, stats: ElementStats, wts) -> list:
    idx = tuple(cells.T)
    cols = [cells[:, 0], cells[:, 1], cells[:, 2], cells[:, 3], _round(x[idx]), stats.group[idx],
            _round(stats.mean[idx]), _round(stats.var[idx]), _round(stats.x_hat[idx]), _round(wts[idx])]
    data = np.stack([np.asarray(c, dtype=np.float64) for c in cols], axis=1)
    out = data.tolist()
    return [[int(r[0]), int(r[1]), int(r[2]), int(r[3]), *r[4:5], int(r[5]), *r[6:]] for r in out]


def _columns(spec: CubeSpec, norm: str) -> list[str]:
    """Names of the :func:`_customdata` columns, in ``meta["columns"]`` of each trace, so the
    "Numbers as a table" view (``normviz.figure_table``) lists the tensor's numbers, not the
    points' drawing positions."""
    lab_mu, lab_var = stat_labels(norm)
    return [*spec.index_names, "value", "set", lab_mu, lab_var, "x̂", "weight in the selected statistic"]


def _hovertemplate(spec: CubeSpec, norm: str, stat: str) -> str:
    names = spec.index_names
    lab_mu, lab_var = stat_labels(norm)
    pos = ", ".join(names)
    where = ", ".join(f"%{{customdata[{i}]}}" for i in range(4))
    head = f"({pos}) = ({where})<br>value %{{customdata[4]:.4g}}<br>"
    tail = "x̂ = %{customdata[8]:.4g}<br>weight in the selected statistic %{customdata[9]:.3g}<extra></extra>"
    ns = get_spec(norm)
    if ns.is_mixture:
        which = f"{NORMS[ns.mixes[0]].short} part: " if ns.mix == "outputs" else "blended "
        return head + f"{which}μ = %{{customdata[6]:.4g}}, σ² = %{{customdata[7]:.4g}}<br>" + tail
    return (head + f"set #%{{customdata[5]}}: {lab_mu} = %{{customdata[6]:.4g}}, "
            f"{lab_var} = %{{customdata[7]:.4g}}<br>" + tail)


def _title(spec: CubeSpec, norm: str, stat: str, wts: np.ndarray) -> str:
    ns = get_spec(norm)
    name = ns.name + param_text(spec, norm)
    size = int(np.count_nonzero(wts))
    sel = "(" + ", ".join(map(str, spec.index)) + ")"
    if ns.mix == "statistics":
        return f"<b>{name}</b>, weights for {'μ' if stat == 'mean' else 'σ²'}<br>colour = each cell's weight"
    if ns.mix == "outputs":
        a, b = (NORMS[k].short for k in ns.mixes)
        return f"<b>{name}</b><br>colour = weight of each cell in the two outputs mixed: {a} set and {b} set"
    if ns.is_elementwise:
        return f"<b>{name}</b><br>pools nothing: {sel} is transformed alone"
    if spec.colour_all:
        return f"<b>{name}</b><br>K = {count_sets(spec, norm)} sets, one colour and symbol each"
    what = "one norm ‖v‖" if ns.is_weight and not ns.centred else " and ".join(ns.stat_names)
    return f"<b>{name}</b><br>{size} cells share {what} with {sel}"


def views(spec: CubeSpec, n_cells: int) -> list[tuple[str, str]]:
    """(norm, stat) pairs the 3D figure holds; the first is the chosen norm's own view."""
    own = [(spec.norm, stat) for stat in stats_of(spec.norm)]
    if spec.is_weight or not spec.compare or n_cells > MAX_COMPARE_CELLS:
        return own
    others = [(k, "mean") for k in COMPARE if k != spec.norm]
    return own + others


def _trace(kind: str, **props) -> dict:
    """A trace as a plain dict: built without plotly's per-property validation, which costs
    more than everything else on a rerun (the figures are validated once, in the tests)."""
    return {"type": kind, **{k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in props.items()}}


def _figure(data: list[dict], layout: dict) -> go.Figure:
    return go.Figure({"data": data, "layout": layout}, _validate=False)


# The cube page sends the ``*_dict`` builders' plotly dicts as they are. Making a go.Figure of them
# (plotly deep-copies every trace and builds an object per axis) took longer than building them:
# build + JSON of the page's three figures, 34 ms per new selection as go.Figures and 15 ms as
# dicts (bench/bench_cube.py's figure table). The go.Figure twins are for tests and notebooks
# (attribute access); tests/test_live_chart.py checks that both reach the browser the same.


def _grid(rows: int, cols: int, titles: list[str], *, hgap: float = 0.04, vgap: float = 0.08,
          top: float = 1.0) -> tuple[dict, list[str]]:
    """Layout axes and title annotations of a rows×cols grid of 2D panels (row-major), and
    each panel's axis suffix ("", "2", ...). A light make_subplots."""
    layout, refs, anns = {}, [], []
    w = (1 - hgap * (cols - 1)) / cols
    h = (top - vgap * (rows - 1)) / rows
    for i in range(rows * cols):
        r, c = divmod(i, cols)
        sfx = "" if i == 0 else str(i + 1)
        x0, y1 = c * (w + hgap), top - r * (h + vgap)
        layout[f"xaxis{sfx}"] = {"domain": _unit(x0, x0 + w), "anchor": f"y{sfx}"}
        layout[f"yaxis{sfx}"] = {"domain": _unit(y1 - h, y1), "anchor": f"x{sfx}"}
        refs.append(sfx)
        if i < len(titles):
            anns.append(dict(text=titles[i], x=x0 + w / 2, y=y1, xref="paper", yref="paper", xanchor="center",
                             yanchor="bottom", showarrow=False, font=dict(size=12)))
    layout["annotations"] = anns
    return layout, refs


def _unit(a: float, b: float) -> list[float]:
    return [min(1.0, max(0.0, round(a, 6))), min(1.0, max(0.0, round(b, 6)))]


def _on(traces: list[dict], sfx: str) -> list[dict]:
    for t in traces:
        t.update(xaxis=f"x{sfx}", yaxis=f"y{sfx}")
    return traces


def _group_colours(K: int) -> list[str]:
    if K <= len(OKABE_ITO):
        return OKABE_ITO[:K]
    from plotly.colors import sample_colorscale

    return sample_colorscale("Viridis", [i / (K - 1) for i in range(K)])


# --------------------------------------------------------------------------------------------
# 3D cube


def _view_traces_3d(spec, x, norm, stat, cells, xyz, size, visible) -> list[dict]:
    wts = weights(spec, norm, stat)
    stats = element_stats(spec, x, norm)
    idx = tuple(cells.T)
    cd = np.array(_customdata(cells, x, stats, wts), dtype=object)
    hover = _hovertemplate(spec, norm, stat)
    X, Y, Z = (np.asarray(a) for a in xyz)
    meta = {"norm": norm, "stat": stat, "columns": _columns(spec, norm)}
    mixture = get_spec(norm).is_mixture
    if spec.colour_all and not mixture:
        groups = stats.group[idx]
        K = count_sets(spec, norm)
        cols = _group_colours(K)
        return [_trace("scatter3d",
            x=X, y=Y, z=Z, mode="markers", visible=visible, customdata=cd.tolist(),
            hovertemplate=hover, name=f"{K} sets (colour + symbol = set)",
            meta={**meta, "role": "groups", "K": K},
            marker=dict(size=size, color=[cols[g] for g in groups],
                        symbol=[SYMBOLS_3D[g % len(SYMBOLS_3D)] for g in groups], opacity=0.9,
                        line=dict(width=0.5, color="#333333")))]
    pooled = wts[idx] > 0
    marker = dict(size=size, symbol="square", opacity=1.0, line=dict(width=1, color="#08306B"))
    if mixture:
        marker.update(color=_round(wts[idx][pooled]).tolist(), colorscale=INTENSITY, cmin=0,
                      cmax=float(wts.max()), showscale=visible,
                      colorbar=dict(title=dict(text="weight", side="right"), len=0.55, thickness=12, x=1.0))
        pooled_name = f"pooled (colour = weight in {'μ' if stat == 'mean' else 'σ²'})"
    else:
        marker.update(color=POOLED)
        pooled_name = "pooled: same statistics as the selected cell"
    return [
        _trace("scatter3d", x=X[pooled], y=Y[pooled], z=Z[pooled], mode="markers", visible=visible,
                     customdata=cd[pooled].tolist(), hovertemplate=hover, name=pooled_name,
                     meta={**meta, "role": "pooled"}, marker=marker),
        _trace("scatter3d", x=X[~pooled], y=Y[~pooled], z=Z[~pooled], mode="markers", visible=visible,
                     customdata=cd[~pooled].tolist(), hovertemplate=hover, name="not pooled",
                     meta={**meta, "role": "other"},
                     marker=dict(size=max(2, int(size * 0.7)), symbol="square-open", color=OTHER, opacity=0.35)),
    ]


def cube_figure_dict(spec: CubeSpec, x: np.ndarray) -> dict:
    """The 3D cube of ``x`` with the selected element's pooled set highlighted.

    In-figure buttons switch the highlighted norm (LN | GN | IN | BN and the chosen one) in the
    browser; Switchable Norm gets one button for the μ weights and one for the σ² weights.

    Shape: x (N, C, H, W), or the weight (C_out, C_in, k, k) for weight norms.
    """
    ks, note = kept_indices(spec.shape, spec.index, spec.max_cells)
    cells = _cells(ks)
    xyz = _coords_3d(cells, spec.shape, spec.layout)
    longest = max(max(a) - min(a) + 1 for a in xyz)
    size = int(np.clip(130 / longest, 3, 9)) if spec.layout == "full" else int(np.clip(260 / longest, 3, 13))
    vs = views(spec, len(cells))
    data, per_view = [], []
    for i, (norm, stat) in enumerate(vs):
        traces = _view_traces_3d(spec, x, norm, stat, cells, xyz, size, i == 0)
        per_view.append(len(traces))
        data += traces
    sel = np.array([spec.index])
    sx, sy, sz = _coords_3d(sel, spec.shape, spec.layout)
    names = spec.index_names
    data.append(_trace(
        "scatter3d", x=sx, y=sy, z=sz, mode="markers", name="selected element",
        meta={"role": "selected", "columns": list(names)}, customdata=[list(spec.index)],
        hovertemplate=f"selected ({', '.join(names)}) = {tuple(spec.index)}<extra></extra>",
        marker=dict(size=size * 0.7, symbol="diamond", color=SELECTED, line=dict(width=2, color="#000000"))))
    titles = [_title(spec, n, s, weights(spec, n, s)) for n, s in vs]
    layout: dict = {}
    if len(vs) > 1:
        buttons = []
        for i, (norm, stat) in enumerate(vs):
            vis = sum(([j == i] * k for j, k in enumerate(per_view)), []) + [True]
            label = NORMS[norm].short + ({"mean": " μ", "var": " σ²"}[stat] if len(stats_of(norm)) > 1 else "")
            buttons.append(dict(label=label, method="update", args=[{"visible": vis}, {"title.text": titles[i]}]))
        layout["updatemenus"] = [dict(
            type="buttons", direction="right", active=0, buttons=buttons, x=0.0, xanchor="left",
            y=1.0, yanchor="top", pad=dict(t=2, b=2), showactive=True, bgcolor="#F4F4F4",
            font=dict(size=12))]
    ax = spec.axis_names
    if spec.layout == "full":
        titles_xyz = (f"{ax[3]} (one block per {ax[0]})", ax[1], ax[2])
    else:
        titles_xyz = (ax[0], ax[1], f"{ax[2]}·{ax[3]} (flattened)")
    spans = [int(max(a) - min(a) + 1) for a in xyz]
    ratio = [0.55 + 0.45 * s / max(spans) for s in spans]
    layout.update(
        title=dict(text=titles[0], x=0.01, xanchor="left", y=0.97, yanchor="top", font=dict(size=14)),
        margin=dict(l=0, r=0, t=66, b=10), height=500,
        # inside the paper, under the scene (domain y >= 0.15, room for 3 legend rows): a legend
        # outside it (yref="container") cost ~110 ms more per rerun in Chromium (a second layout)
        legend=dict(orientation="h", yanchor="bottom", y=0.0, x=0.0, font=dict(size=11)),
        scene=dict(
            xaxis=dict(title=dict(text=titles_xyz[0]), dtick=1 if spec.layout == "paper" else None,
                       showticklabels=spec.layout == "paper"),
            yaxis=dict(title=dict(text=titles_xyz[1]), dtick=1),
            zaxis=dict(title=dict(text=titles_xyz[2]), autorange="reversed",
                       dtick=max(1, spans[2] // 4) if spec.layout == "paper" else 1),
            aspectmode="manual", aspectratio=dict(x=ratio[0], y=ratio[1], z=ratio[2]),
            camera=dict(eye=dict(x=1.55, y=-0.95, z=0.55)),
            domain=dict(x=[0, 1], y=[0.15, 0.93]),
        ),
        meta={"note": note, "views": [list(v) for v in vs]},
    )
    return {"data": data, "layout": layout}


def cube_figure(spec: CubeSpec, x: np.ndarray) -> go.Figure:
    """:func:`cube_figure_dict` as a ``go.Figure``."""
    return _figure(**cube_figure_dict(spec, x))


# --------------------------------------------------------------------------------------------
# 2D unfolded view


def _coords_2d(cells: np.ndarray, shape):
    n, c, h, w = cells.T
    N, C, H, W = shape
    return c * (W + 1) + w, n * (H + 1) + h


def _panel_traces(spec, x, norm, stat, cells, size, *, hover: bool, legend: bool, stats=None) -> list[dict]:
    """Pooled, other and selected traces of one 2D panel (unfolded layout)."""
    wts = weights(spec, norm, stat)
    idx = tuple(cells.T)
    X, Y = _coords_2d(cells, spec.shape)
    pooled = wts[idx] > 0
    meta = {"norm": norm, "stat": stat, "columns": _columns(spec, norm) if hover else list(spec.index_names)}
    mixture = get_spec(norm).is_mixture
    kw = {}
    if hover:
        stats = stats or element_stats(spec, x, norm)
        cd = np.array(_customdata(cells, x, stats, wts), dtype=object)
        kw_p = dict(customdata=cd[pooled].tolist(), hovertemplate=_hovertemplate(spec, norm, stat))
        kw_o = dict(customdata=cd[~pooled].tolist(), hovertemplate=_hovertemplate(spec, norm, stat))
    else:
        cd = cells.tolist()
        kw_p = dict(customdata=[c for c, p in zip(cd, pooled) if p], hoverinfo="skip")
        kw_o = dict(customdata=[c for c, p in zip(cd, pooled) if not p], hoverinfo="skip")
    sel_x, sel_y = _coords_2d(np.array([spec.index]), spec.shape)
    selected = _trace("scatter", x=sel_x, y=sel_y, mode="markers", name="selected element", showlegend=legend,
                      marker=dict(size=size + 4, symbol="diamond", color=SELECTED, line=dict(width=1.5, color="#000000")),
                      meta={"role": "selected", "columns": list(spec.index_names)},
                      customdata=[list(spec.index)], legendgroup="selected", hoverinfo="skip")
    if spec.colour_all and not mixture and hover:
        groups = stats.group[idx]
        K = count_sets(spec, norm)
        cols = _group_colours(K)
        return [_trace("scatter", x=X, y=Y, mode="markers", name=f"{K} sets (colour + symbol = set)",
                       showlegend=legend, customdata=cd.tolist(), hovertemplate=_hovertemplate(spec, norm, stat),
                       meta={**meta, "role": "groups", "K": K},
                       marker=dict(size=size, color=[cols[g] for g in groups],
                                   symbol=[SYMBOLS_2D[g % len(SYMBOLS_2D)] for g in groups],
                                   line=dict(width=0.5, color="#333333"))),
                selected]
    marker = dict(size=size, symbol="square", line=dict(width=1, color="#08306B"))
    if mixture:
        marker.update(color=_round(wts[idx][pooled]).tolist(), colorscale=INTENSITY, cmin=0, cmax=float(wts.max()))
        name = "pooled (darker = larger weight)"
    else:
        marker.update(color=POOLED)
        name = "pooled: same statistics as the selected cell"
    return [
        _trace("scatter", x=X[pooled], y=Y[pooled], mode="markers", name=name, marker=marker, showlegend=legend,
                   meta={**meta, "role": "pooled"}, legendgroup="pooled", **kw_p, **kw),
        _trace("scatter", x=X[~pooled], y=Y[~pooled], mode="markers", name="not pooled", showlegend=legend,
                   marker=dict(size=max(3, int(size * 0.8)), symbol="square-open", color=OTHER, opacity=0.6),
                   meta={**meta, "role": "other"}, legendgroup="other", **kw_o),
        selected,
    ]


def _block_axes(spec: CubeSpec, ks) -> tuple[dict, dict]:
    """Axis ticks at the centre of each block: the channel (column) and sample (row) labels.

    No ``automargin``: it makes plotly.js lay the figure out again after the first draw, which
    cost ~140 ms of each rerun for the unfolded view and the grid together (measured in
    Chromium); :func:`_tick_room` reserves the room for the labels instead.
    """
    N, C, H, W = spec.shape
    a, b = spec.index_names[:2]
    xt = dict(tickvals=[c * (W + 1) + (W - 1) / 2 for c in ks[1]], ticktext=[f"{b}={c}" for c in ks[1]],
              showgrid=False, zeroline=False, automargin=False, constrain="domain")
    yt = dict(tickvals=[n * (H + 1) + (H - 1) / 2 for n in ks[0]], ticktext=[f"{a}={n}" for n in ks[0]],
              showgrid=False, zeroline=False, autorange="reversed", automargin=False, constrain="domain")
    return xt, yt


def _tick_room(xt: dict, yt: dict) -> tuple[int, int]:
    """Pixels the tick labels need (left for the row labels, bottom for the column labels,
    which plotly.js turns upright when they crowd); ~7 px a character at the default 12 px font."""
    longest = lambda ax: max((len(t) for t in ax["ticktext"]), default=0)  # noqa: E731
    return 12 + 7 * longest(yt), 14 + 7 * longest(xt)


def unfolded_figure_dict(spec: CubeSpec, x: np.ndarray) -> dict:
    """The tensor unfolded: one H×W block per (n, c), block row n, block column c.

    A marker scatter (SVG), so ``st.plotly_chart(on_select="rerun", selection_mode="points")``
    reports the clicked element in its ``customdata`` (n, c, h, w). Switchable Norm shows its
    μ weights and σ² weights side by side.
    """
    ks, note = kept_indices(spec.shape, spec.index, MAX_CELLS_2D)
    cells = _cells(ks)
    N, C, H, W = spec.shape
    cols = len(ks[1]) * (W + 1)
    rows = len(ks[0]) * (H + 1)
    stats_list = [(spec.norm, stat) for stat in stats_of(spec.norm)]
    # Equal x/y scale (square cells): the drawing is cols×rows units inside ~440 px of width.
    unit = min(340 / (cols * len(stats_list)), 460 / rows)
    size = int(np.clip(unit * 0.85, 3, 22))
    a, b, c_, d = spec.axis_names
    xt, yt = _block_axes(spec, ks)
    left, bottom = _tick_room(xt, yt)
    if len(stats_list) == 1:
        data = _panel_traces(spec, x, spec.norm, "mean", cells, size, hover=True, legend=True)
        layout = {"xaxis": {**xt},
                  "yaxis": {**yt, "scaleanchor": "x"}}
    else:
        layout, refs = _grid(1, 2, ["weights for μ", "weights for σ²"], hgap=0.06, top=0.8)
        data = []
        for j, (norm, stat) in enumerate(stats_list):
            data += _on(_panel_traces(spec, x, norm, stat, cells, size, hover=True, legend=j == 0), refs[j])
            layout[f"xaxis{refs[j]}"].update(xt)
            layout[f"yaxis{refs[j]}"].update(yt, scaleanchor=f"x{refs[j]}")
    layout.update(
        title=dict(text=f"<b>Unfolded</b>: one {c_}×{d} block per ({a}, {b})<br>Click a cell to select it.", x=0.01,
                   xanchor="left", font=dict(size=14)),
        height=int(max(260, min(760, 170 + rows * unit))), margin=dict(l=left, r=10, t=50, b=46 + bottom),
        legend=dict(orientation="h", yref="container", yanchor="bottom", y=0.0, x=0.0, font=dict(size=11)),
        plot_bgcolor="#FFFFFF",
        dragmode=False, clickmode="event+select", meta={"note": note},
    )
    return {"data": data, "layout": layout}


def unfolded_figure(spec: CubeSpec, x: np.ndarray) -> go.Figure:
    """:func:`unfolded_figure_dict` as a ``go.Figure``."""
    return _figure(**unfolded_figure_dict(spec, x))


def selected_from_point(point: dict) -> tuple[int, int, int, int] | None:
    """The (n, c, h, w) of a point Streamlit reports as selected, from its customdata."""
    cd = point.get("customdata") if isinstance(point, dict) else None
    if cd is None or len(cd) < 4:
        return None
    try:
        return tuple(int(v) for v in cd[:4])
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------------------------
# Small multiples


def grid_entries(spec: CubeSpec) -> list[tuple[str, str]]:
    """The (norm, stat) panels of the small-multiples grid: every activation norm of the
    registry, the paper's LN | GN | IN | BN first."""
    keys = list(COMPARE) + [k for k, ns in NORMS.items() if k not in COMPARE and not ns.is_weight]
    return [(k, stat) for k in keys for stat in stats_of(k)]


def _panel_title(spec: CubeSpec, norm: str, stat: str) -> str:
    w = weights(spec, norm, stat)
    ns = get_spec(norm)
    if ns.mix == "statistics":
        return f"{ns.short}, weights for {'μ' if stat == 'mean' else 'σ²'}"
    if ns.mix == "outputs":
        return f"{ns.short}, ρ = {spec.rho_value(spec.index[1]):.2g}"
    if ns.is_elementwise:
        return f"{ns.short}: 1 cell, no statistic"
    extra = param_text(spec, norm).replace(" = ", "=")
    return f"{ns.short}{extra}: {int(np.count_nonzero(w))} cells, K={count_sets(spec, norm)}"


PLAIN_SCALE = [[0.0, "#EEEEEE"], [0.5, "#EEEEEE"], [0.5, POOLED], [1.0, POOLED]]
MIX_SCALE = [[0.0, "#EEEEEE"], [1e-6, INTENSITY[0][1]], [1.0, INTENSITY[1][1]]]


def _heat_axes(spec: CubeSpec, ks):
    """Row and column coordinates of the unfolded grid with one-cell gaps between blocks, and
    the (n, h) / (c, w) each stands for (−1 in a gap). Shape: 4 arrays."""
    N, C, H, W = spec.shape
    hh = np.array([h for h in range(H + 1) if h == H or h in ks[2]])
    ww = np.array([w for w in range(W + 1) if w == W or w in ks[3]])
    rn, rh = np.repeat(ks[0], len(hh)), np.tile(hh, len(ks[0]))
    cc, cw = np.repeat(ks[1], len(ww)), np.tile(ww, len(ks[1]))
    rows, cols = slice(0, len(rn) - 1), slice(0, len(cc) - 1)  # no trailing gap
    rn, rh, cc, cw = rn[rows], rh[rows], cc[cols], cw[cols]
    rh = np.where(rh == H, -1, rh)
    cw = np.where(cw == W, -1, cw)
    return rn, rh, cc, cw


def _panel_heatmap(spec: CubeSpec, norm: str, stat: str, axes, legend: bool) -> list[dict]:
    """One small-multiples panel: the pooling weights as a heatmap (one image, cheap to redraw,
    unlike hundreds of SVG markers) with gaps between the H×W blocks, plus the selected cell.

    Non-colour cue: pooled cells are dark, the rest pale (a luminance step every eye sees).
    Cell (n, c, h, w) sits at x = c·(W + 1) + w, y = n·(H + 1) + h, like the unfolded view.
    """
    N, C, H, W = spec.shape
    rn, rh, cc, cw = axes
    wts = weights(spec, norm, stat)
    gap = (rh[:, None] < 0) | (cw[None, :] < 0)
    z = wts[rn[:, None], cc[None, :], np.maximum(rh, 0)[:, None], np.maximum(cw, 0)[None, :]]
    z = np.where(gap, None, _round(z, 6).astype(object))
    xs = cc * (W + 1) + np.where(cw < 0, W, cw)
    ys = rn * (H + 1) + np.where(rh < 0, H, rh)
    mixture = get_spec(norm).is_mixture
    sel_x, sel_y = _coords_2d(np.array([spec.index]), spec.shape)
    return [
        _trace("heatmap", z=z, x=xs, y=ys, zmin=0.0, zmax=float(wts.max()),
               colorscale=MIX_SCALE if mixture else PLAIN_SCALE, showscale=False, xgap=1, ygap=1,
               hoverinfo="skip", meta={"norm": norm, "stat": stat, "role": "pooled-map"}),
        _trace("scatter", x=sel_x, y=sel_y, mode="markers", name="selected element", showlegend=legend,
               marker=dict(size=9, symbol="diamond", color=SELECTED, line=dict(width=1.5, color="#000000")),
               meta={"role": "selected"}, hoverinfo="skip"),
    ]


def small_multiples_figure_dict(spec: CubeSpec) -> dict:
    """The selected element's pooled set under every activation norm, in one 2D grid.

    Three panels a row; the first row is LayerNorm | GroupNorm | InstanceNorm, so GroupNorm's
    set is seen between the other two. Pooled cells are blue, the rest pale grey; mixtures
    show each cell's weight as intensity (darker = larger).
    """
    entries = grid_entries(spec)
    ks, _ = kept_indices(spec.shape, spec.index, 600)
    cols_n = 3
    rows_n = math.ceil(len(entries) / cols_n)
    layout, refs = _grid(rows_n, cols_n, [_panel_title(spec, n, s) for n, s in entries], top=0.97)
    xt, yt = _block_axes(spec, ks)
    left, bottom = _tick_room(xt, yt)
    axes = _heat_axes(spec, ks)
    data = []
    for i, (norm, stat) in enumerate(entries):
        r, c = divmod(i, cols_n)
        data += _on(_panel_heatmap(spec, norm, stat, axes, legend=i == 0), refs[i])
        layout[f"xaxis{refs[i]}"].update(xt, showticklabels=r == rows_n - 1)
        layout[f"yaxis{refs[i]}"].update(yt, showticklabels=c == 0, scaleanchor=f"x{refs[i]}")
    layout.update(
        title=dict(text=f"The same selected element {tuple(spec.index)} under every activation norm", x=0.0,
                   xanchor="left", font=dict(size=14)),
        height=170 * rows_n + 110 + bottom, margin=dict(l=left, r=10, t=70, b=10 + bottom), plot_bgcolor="#FFFFFF",
        legend=dict(orientation="h", y=-0.04, x=0.0), dragmode=False,
    )
    return {"data": data, "layout": layout}


def small_multiples_figure(spec: CubeSpec) -> go.Figure:
    """:func:`small_multiples_figure_dict` as a ``go.Figure``."""
    return _figure(**small_multiples_figure_dict(spec))


# --------------------------------------------------------------------------------------------
# Sequences N×L×D


SEQ_KINDS = {
    "layer_D": "LayerNorm(D): each token on its own",
    "layer_LD": "LayerNorm((L, D)): each whole sequence",
    "rms_D": "RMSNorm(D): each token, no centring",
    "batch_D": "BatchNorm1d(D) on (N, D, L): each feature over batch and time",
}


def sequence_weights(shape, kind: str, index) -> np.ndarray:
    """Pooling weights on an N×L×D tensor of tokens for the element ``index`` = (n, l, d).

    ``layer_D``/``rms_D``: the D features of token (n, l) (PyTorch ``normalized_shape=(D,)``);
    ``layer_LD``: all L·D values of sequence n; ``batch_D``: feature d over every n and l.

    Shape: (N, L, D) -> float64 (N, L, D), summing to 1.
    """
    N, L, D = (int(s) for s in shape)
    n, l, d = (int(i) for i in index)
    if kind not in SEQ_KINDS:
        raise ValueError(f"sequence norm must be one of {', '.join(SEQ_KINDS)}, got {kind!r}.")
    if not (0 <= n < N and 0 <= l < L and 0 <= d < D):
        raise ValueError(f"index {(n, l, d)} is outside the tensor of shape {(N, L, D)}.")
    m = np.zeros((N, L, D))
    if kind in ("layer_D", "rms_D"):
        m[n, l, :] = 1
    elif kind == "layer_LD":
        m[n] = 1
    else:
        m[:, :, d] = 1
    return m / m.sum()


def sequence_sentence(shape, kind: str, index) -> str:
    N, L, D = shape
    n, l, d = index
    size = int(np.count_nonzero(sequence_weights(shape, kind, index)))
    which = {"layer_D": f"the {D} features of token l = {l} in sequence n = {n}",
             "rms_D": f"the {D} features of token l = {l} in sequence n = {n} (mean of squares)",
             "layer_LD": f"every token and feature of sequence n = {n}",
             "batch_D": f"feature d = {d} of every token of every sequence"}[kind]
    return f"{SEQ_KINDS[kind].split(':')[0]} pools {size} values: {which}."


def sequence_figure(shape, kind: str, index) -> go.Figure:
    """Tokens drawn as one L×D block per sequence n (rows: tokens l, columns: features d)."""
    N, L, D = (int(s) for s in shape)
    wts = sequence_weights(shape, kind, index)
    n, l, d = np.meshgrid(np.arange(N), np.arange(L), np.arange(D), indexing="ij")
    n, l, d = n.ravel(), l.ravel(), d.ravel()
    X, Y = n * (D + 1) + d, l
    pooled = wts.ravel() > 0
    size = int(np.clip(min(700 / (N * (D + 1)), 300 / L) * 0.8, 3, 18))
    cd = np.stack([n, l, d], axis=1)
    sel = index
    data = [
        _trace("scatter", x=X[pooled], y=Y[pooled], mode="markers", name="pooled", meta={"role": "pooled", "kind": kind},
                   customdata=cd[pooled].tolist(), hovertemplate="(n, l, d) = %{customdata}<extra>pooled</extra>",
                   marker=dict(size=size, symbol="square", color=POOLED, line=dict(width=1, color="#08306B"))),
        _trace("scatter", x=X[~pooled], y=Y[~pooled], mode="markers", name="not pooled", meta={"role": "other", "kind": kind},
                   customdata=cd[~pooled].tolist(), hovertemplate="(n, l, d) = %{customdata}<extra></extra>",
                   marker=dict(size=max(3, int(size * 0.8)), symbol="square-open", color=OTHER, opacity=0.6)),
        _trace("scatter", x=[sel[0] * (D + 1) + sel[2]], y=[sel[1]], mode="markers", name="selected token feature",
                   meta={"role": "selected"}, hoverinfo="skip",
                   marker=dict(size=size + 4, symbol="diamond", color=SELECTED, line=dict(width=1.5, color="#000"))),
    ]
    xaxis = dict(title=dict(text="one block per sequence n (inside: feature d →)"),
                     tickvals=[k * (D + 1) + (D - 1) / 2 for k in range(N)], ticktext=[f"n={k}" for k in range(N)],
                     showgrid=False, zeroline=False)
    yaxis = dict(title=dict(text="token l ↓"), autorange="reversed", showgrid=False, zeroline=False)
    layout = dict(xaxis=xaxis, yaxis=yaxis, title=dict(text=SEQ_KINDS[kind], x=0.0, xanchor="left", font=dict(size=14)),
                      height=max(240, min(520, 110 + L * (size + 3))), margin=dict(l=10, r=10, t=50, b=10),
                      plot_bgcolor="#FFFFFF", legend=dict(orientation="h", y=-0.15, x=0.0), dragmode=False)
    return _figure(data, layout)
