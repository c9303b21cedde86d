"""Plotly figures of training runs and of the batch-size sweep (pure: data in, figure out).

A *run* is ``(label, snapshots)`` where snapshots are :class:`normviz.training.Snapshot` objects
or their ``to_dict()`` form. Several runs are drawn as small multiples on shared axes, one
colour (and marker symbol) per run, Okabe–Ito colours (colour-blind safe).
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from normviz.training.config import QUANTILE_LABELS

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star")
DASHES = ("solid", "dash", "dot", "dashdot")
NORM_COLOURS = {"batch": "#D55E00", "group": "#0072B2", "layer": "#009E73"}
NORM_NAMES = {"batch": "BatchNorm", "group": "GroupNorm", "layer": "LayerNorm"}


def _d(s) -> dict:
    return s if isinstance(s, dict) else s.to_dict()


def _series(snaps, key):
    ds = [_d(s) for s in snaps]
    return [d["step"] for d in ds], [d[key] for d in ds]


def _short(label: str) -> str:
    """'1: BatchNorm · B=60 · lr=0.5' -> '1: BatchNorm' (panel titles; the legend keeps the rest)."""
    return label.split(" · ")[0]


def _colour(i: int) -> str:
    return OKABE_ITO[i % len(OKABE_ITO)]


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[k:k + 2], 16) for k in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _layout(fig, title: str, height: int) -> go.Figure:
    # The legend goes under the plot: above it, it would collide with the subplot titles.
    fig.update_layout(title=dict(text=title, x=0.0, xanchor="left"), height=height + 60,
                      margin=dict(l=60, r=20, t=80, b=120),
                      legend=dict(orientation="h", yanchor="top", y=-60 / height - 0.06, x=0, xanchor="left"),
                      template="plotly_white")
    return fig


def metrics_figure(runs) -> go.Figure:
    """2×2 small multiples over steps: loss (log), test accuracy, train-mode vs eval accuracy,
    and milliseconds per training step. One colour per run."""
    fig = make_subplots(rows=2, cols=2, shared_xaxes=True, vertical_spacing=0.14, horizontal_spacing=0.1,
                        subplot_titles=("Training loss (mini-batch mean)", "Test accuracy (eval mode)",
                                        "Train mode (dashed) vs eval mode (solid) accuracy",
                                        "Time per training step"))
    for i, (label, snaps) in enumerate(runs):
        c, sym = _colour(i), SYMBOLS[i % len(SYMBOLS)]
        marker = dict(symbol=sym, size=5)
        x, loss = _series(snaps, "loss")
        fig.add_trace(go.Scatter(x=x, y=loss, name=label, legendgroup=label, mode="lines+markers",
                                 line=dict(color=c), marker=marker), 1, 1)
        x, acc = _series(snaps, "test_acc")
        fig.add_trace(go.Scatter(x=x, y=acc, name=label, legendgroup=label, showlegend=False,
                                 mode="lines+markers", line=dict(color=c), marker=marker), 1, 2)
        fig.add_trace(go.Scatter(x=x, y=acc, name=f"{label} (eval)", legendgroup=label, showlegend=False,
                                 mode="lines", line=dict(color=c)), 2, 1)
        x, tm = _series(snaps, "train_mode_acc")
        fig.add_trace(go.Scatter(x=x, y=tm, name=f"{label} (train mode)", legendgroup=label,
                                 showlegend=False, mode="lines", line=dict(color=c, dash="dash")), 2, 1)
        x, sec = _series(snaps, "sec_per_step")
        fig.add_trace(go.Scatter(x=x[1:], y=[1e3 * v for v in sec[1:]], name=label, legendgroup=label,
                                 showlegend=False, mode="lines+markers", line=dict(color=c), marker=marker), 2, 2)
    fig.update_yaxes(type="log", title_text="cross-entropy", dtick=1, row=1, col=1)  # decades only
    fig.update_yaxes(range=[0, 1.02], title_text="accuracy", row=1, col=2)
    fig.update_yaxes(range=[0, 1.02], title_text="accuracy", row=2, col=1)
    fig.update_yaxes(title_text="ms / step", rangemode="tozero", row=2, col=2)
    fig.update_xaxes(title_text="step", row=2, col=1)
    fig.update_xaxes(title_text="step", row=2, col=2)
    return _layout(fig, "Loss, accuracy and speed", 560)


def _bands(fig, snaps, which: str, layer: int, colour: str, row: int, col: int, show_legend: bool):
    ds = [_d(s) for s in snaps]
    ds = [d for d in ds if len(d["layers"]) > layer]
    if not ds:
        return
    x = [d["step"] for d in ds]
    q = np.array([d["layers"][layer][f"{which}_q"] for d in ds], dtype=float)  # (T, 9)
    for lo, hi, alpha, name in ((1, 7, 0.15, "6.68–93.32 %"), (2, 6, 0.25, "15.87–84.13 %"),
                                (3, 5, 0.4, "30.85–69.15 %")):
        fig.add_trace(go.Scatter(x=x, y=q[:, hi], mode="lines", line=dict(width=0, color=colour),
                                 showlegend=False, hoverinfo="skip", legendgroup=name), row, col)
        fig.add_trace(go.Scatter(x=x, y=q[:, lo], mode="lines", line=dict(width=0, color=colour),
                                 fill="tonexty", fillcolor=_rgba(colour, alpha), name=name, legendgroup=name,
                                 showlegend=show_legend, hoverinfo="skip"), row, col)
    fig.add_trace(go.Scatter(x=x, y=q[:, 4], mode="lines", line=dict(color=colour, width=2), name="median",
                             legendgroup="median", showlegend=show_legend), row, col)
    for k, name in ((0, "min"), (8, "max")):
        fig.add_trace(go.Scatter(x=x, y=q[:, k], mode="lines", line=dict(color=colour, width=1, dash="dot"),
                                 name="min / max", legendgroup="minmax", showlegend=show_legend and k == 0,
                                 hovertemplate=f"{name}: %{{y:.3g}}<extra></extra>"), row, col)


def _run_by_layer_grid(runs) -> tuple[go.Figure, int]:
    """Subplots with one row per run and one column per hidden layer, all axes shared."""
    n_layers = max((len(_d(s[-1])["layers"]) for _, s in runs if s), default=1)
    titles = [f"{_short(label)} — layer {j + 1}" for label, _ in runs for j in range(n_layers)]
    fig = make_subplots(rows=max(len(runs), 1), cols=n_layers, shared_xaxes=True, shared_yaxes="all",
                        subplot_titles=titles or None, vertical_spacing=0.12 if len(runs) > 1 else 0.2,
                        horizontal_spacing=0.04)
    return fig, n_layers


def percentile_bands_figure(runs, which: str = "act_input") -> go.Figure:
    """Rows = runs, columns = hidden layers: the 9 quantiles of a layer's distribution over steps
    as nested bands (the ±0.5σ, ±1σ, ±1.5σ points of a Gaussian), median line, min/max dotted.

    ``which``: "act_input" (the nonlinearity's input, after norm and affine) or "norm_input".
    All panels share the y axis, so a drifting distribution stands out against a steady one.
    """
    runs = list(runs)
    fig, n_layers = _run_by_layer_grid(runs)
    for i, (label, snaps) in enumerate(runs):
        for j in range(n_layers):
            _bands(fig, snaps, which, j, _colour(i), i + 1, j + 1, show_legend=(i == 0 and j == 0))
    what = "the nonlinearity's input (after norm)" if which == "act_input" else "the norm's input"
    for i in range(len(runs)):
        fig.update_yaxes(title_text="value", row=i + 1, col=1)
    for j in range(n_layers):
        fig.update_xaxes(title_text="step", row=len(runs), col=j + 1)
    return _layout(fig, f"Distribution of {what} on the probe batch, per layer", 200 + 190 * max(len(runs), 1))


def histogram_heatmap_figure(runs, which: str = "act_input") -> go.Figure:
    """Rows = runs, columns = layers: histogram of a layer's values (y) over steps (x), as the
    fraction of values per bin (shared colour scale). The end bins also hold the outliers."""
    runs = list(runs)
    fig, n_layers = _run_by_layer_grid(runs)
    for i, (label, snaps) in enumerate(runs):
        ds = [_d(s) for s in snaps]
        if not ds:
            continue
        edges = np.array(ds[0]["hist_edges"])
        centres = (edges[:-1] + edges[1:]) / 2
        for j in range(n_layers):
            rows = [d for d in ds if len(d["layers"]) > j]
            if not rows:
                continue
            H = np.array([d["layers"][j][f"{which}_hist"] for d in rows], dtype=float)  # (T, bins)
            H = H / np.maximum(H.sum(1, keepdims=True), 1)
            fig.add_trace(go.Heatmap(x=[d["step"] for d in rows], y=centres, z=H.T, coloraxis="coloraxis",
                                     name=f"{label} layer {j + 1}",
                                     hovertemplate="step %{x}<br>value %{y:.2f}<br>fraction %{z:.3f}<extra></extra>"),
                          i + 1, j + 1)
    for i in range(len(runs)):
        fig.update_yaxes(title_text="value", row=i + 1, col=1)
    for j in range(n_layers):
        fig.update_xaxes(title_text="step", row=len(runs), col=j + 1)
    fig.update_layout(coloraxis=dict(colorscale="Viridis", colorbar=dict(title="fraction")))
    what = "the nonlinearity's input" if which == "act_input" else "the norm's input"
    return _layout(fig, f"Histogram of {what} over training (probe batch)", 200 + 190 * max(len(runs), 1))


def bn_figure1(runs) -> go.Figure:
    """BN paper Figure 1 at CPU scale: (a) test accuracy over steps for every run (top, full
    width); below it, per run, the 15th, 50th and 85th percentiles of the input to unit 0 of the
    last hidden layer, on one shared y range. Two rows read well on a phone too."""
    runs = list(runs)
    n = max(len(runs), 1)
    titles = ["(a) Test accuracy"] + [f"({chr(98 + i)}) {_short(label)}" for i, (label, _) in enumerate(runs)]
    specs = [[{"colspan": n}] + [None] * (n - 1), [{} for _ in range(n)]]
    fig = make_subplots(rows=2, cols=n, specs=specs, subplot_titles=titles, horizontal_spacing=0.06,
                        vertical_spacing=0.18, shared_yaxes=False)
    for i, (label, snaps) in enumerate(runs):
        c = _colour(i)
        x, acc = _series(snaps, "test_acc")
        fig.add_trace(go.Scatter(x=x, y=acc, name=label, mode="lines+markers", line=dict(color=c),
                                 marker=dict(symbol=SYMBOLS[i % len(SYMBOLS)], size=5)), 1, 1)
        x, unit = _series(snaps, "bn_unit")
        u = np.array(unit, dtype=float).reshape(len(x), 3)
        for k, (name, dash) in enumerate((("15th", "dot"), ("50th", "solid"), ("85th", "dash"))):
            fig.add_trace(go.Scatter(x=x, y=u[:, k], name=f"{name} percentile", legendgroup=name,
                                     showlegend=(i == 0), mode="lines", line=dict(color=c, dash=dash)), 2, 1 + i)
    fig.update_yaxes(range=[0, 1.02], title_text="accuracy", row=1, col=1)
    fig.update_yaxes(title_text="unit 0 input: 15/50/85th pct", row=2, col=1)
    all_u = [v for _, s in runs for d in map(_d, s) for v in d["bn_unit"] if np.isfinite(v)]
    if all_u:  # the percentile panels share one y range, so drift and steadiness compare directly
        lo, hi = min(all_u), max(all_u)
        pad = 0.05 * (hi - lo or 1)
        for i in range(n):
            fig.update_yaxes(range=[lo - pad, hi + pad], row=2, col=1 + i)
    fig.update_xaxes(title_text="step", row=1, col=1)
    for j in range(n):
        fig.update_xaxes(title_text="step", row=2, col=1 + j)
    return _layout(fig, "BN paper Figure 1 on 8×8 digits", 620)


def gates_figure(runs) -> go.Figure | None:
    """What the norms learn beyond γ and β, over steps, one line per run, layer and quantity
    (Batch-Instance Norm's mean ρ, Switchable Norm's BN weights, ...: each module's
    ``learned()``). None when no run has any."""
    traces, names = [], []
    for i, (label, snaps) in enumerate(runs):
        ds = [_d(s) for s in snaps]
        if not ds or not ds[-1].get("learned"):
            continue
        x = [d["step"] for d in ds]
        for j, layer in enumerate(ds[-1]["learned"]):
            for q, name in enumerate(layer):
                names.append(name)
                traces.append(go.Scatter(x=x, y=[d["learned"][j][name] if d.get("learned") else None for d in ds],
                                         mode="lines+markers" if q else "lines", marker=dict(size=4),
                                         name=f"{label}: {name}, layer {j + 1}",
                                         line=dict(color=_colour(i), dash=DASHES[j % 4])))
    if not traces:
        return None
    fig = go.Figure(traces)
    fig.update_yaxes(title_text="learned value")
    fig.update_xaxes(title_text="step")
    return _layout(fig, "What the norms learn besides γ, β: " + ", ".join(dict.fromkeys(names)), 380)


def affine_figure(runs) -> go.Figure | None:
    """The norms' learned γ and β over steps: mean over channels per run and layer (γ solid, β
    dotted; the spread over channels is in the hover and the export). None when no run has γ."""
    traces = []
    for i, (label, snaps) in enumerate(runs):
        ds = [_d(s) for s in snaps]
        if not ds or not ds[-1].get("affine"):
            continue
        x = [d["step"] for d in ds]
        for j, layer in enumerate(ds[-1]["affine"]):
            for name, symbol, dash in (("gamma", "γ", "solid"), ("beta", "β", "dot")):
                if f"{name}_mean" not in layer:
                    continue
                y = [d["affine"][j][f"{name}_mean"] if d.get("affine") else None for d in ds]
                sd = [d["affine"][j][f"{name}_std"] if d.get("affine") else None for d in ds]
                traces.append(go.Scatter(x=x, y=y, customdata=sd, mode="lines", name=f"{label}: {symbol}, layer {j + 1}",
                                         line=dict(color=_colour(i), dash=dash, width=1 + (j == 0)),
                                         hovertemplate=f"{label}<br>{symbol} layer {j + 1}: mean %{{y:.3f}}, "
                                                       f"std %{{customdata:.3f}}<extra></extra>"))
    if not traces:
        return None
    fig = go.Figure(traces)
    fig.update_yaxes(title_text="mean over channels")
    fig.update_xaxes(title_text="step")
    return _layout(fig, "Learned γ (solid, starts at 1) and β (dotted, starts at 0) per layer", 380)


def affine_sentence(label: str, snap) -> str:
    """'label: layer 1 γ 1.02 ± 0.10, β +0.03 ± 0.05; ...' from one snapshot (empty without γ)."""
    d = _d(snap)
    parts = []
    for j, layer in enumerate(d.get("affine") or [], 1):
        text = f"layer {j} γ {layer['gamma_mean']:.2f} ± {layer['gamma_std']:.2f}"
        if "beta_mean" in layer:
            text += f", β {layer['beta_mean']:+.2f} ± {layer['beta_std']:.2f}"
        parts.append(text)
    return f"{label}: " + "; ".join(parts) if parts else ""


def sweep_figure(sweep: dict, extra_cells=()) -> go.Figure:
    """GN paper Figure 1 at CPU scale: test error vs batch size (log₂ axis), train mode and eval
    mode side by side; lines are means over seeds, faint points the single seeds.
    ``extra_cells`` (live re-runs) are drawn as large open markers."""
    from normviz.training.sweeps import summarize

    bs = sweep["batch_sizes"]
    mean = summarize(sweep)
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.06,
                        subplot_titles=("Train mode (batch stats)", "Eval mode (running stats)"))
    for k, norm in enumerate(sweep["norms"]):
        c = NORM_COLOURS.get(norm, _colour(k))
        name = NORM_NAMES.get(norm, norm)
        for col, key, cell_key in ((1, "train_mode", "train_mode_error"), (2, "eval", "eval_error")):
            fig.add_trace(go.Scatter(x=bs, y=mean[norm][key], name=name, legendgroup=norm, showlegend=(col == 1),
                                     mode="lines+markers", line=dict(color=c, dash=DASHES[k % 4]),
                                     marker=dict(symbol=SYMBOLS[k], size=9),
                                     hovertemplate=f"{name}<br>batch %{{x}}<br>error %{{y:.2f}} %<extra></extra>"),
                          1, col)
            cells = [cc for cc in sweep["cells"] if cc["norm"] == norm]
            fig.add_trace(go.Scatter(x=[cc["batch_size"] for cc in cells], y=[cc[cell_key] for cc in cells],
                                     mode="markers", marker=dict(color=c, size=5, opacity=0.35, symbol=SYMBOLS[k]),
                                     name=f"{name} (single seeds)", legendgroup=norm, showlegend=False,
                                     hovertemplate=f"{name} seed<br>batch %{{x}}<br>error %{{y:.2f}} %<extra></extra>"),
                          1, col)
    for cc in extra_cells:
        c = NORM_COLOURS.get(cc["norm"], "#000000")
        for col, key in ((1, "train_mode_error"), (2, "eval_error")):
            fig.add_trace(go.Scatter(x=[cc["batch_size"]], y=[cc[key]], mode="markers",
                                     marker=dict(color=c, size=16, symbol="circle-open", line=dict(width=3)),
                                     name="live re-run", legendgroup="live", showlegend=(col == 1)), 1, col)
    for col in (1, 2):
        fig.update_xaxes(type="log", tickvals=bs, ticktext=[str(b) for b in bs], title_text="batch size (log₂ axis)",
                         autorange="reversed", row=1, col=col)
    # Log y: the small errors of GN and LN (1-3 %) stay readable next to BN's collapse.
    ticks = [1, 2, 5, 10, 20, 50, 100]
    for col in (1, 2):
        fig.update_yaxes(type="log", tickvals=ticks, ticktext=[str(t) for t in ticks], row=1, col=col)
    fig.update_yaxes(title_text="test error (%, log axis)", row=1, col=1)
    return _layout(fig, "Test error vs batch size (GN paper Fig. 1, digits)", 430)


__all__ = ["metrics_figure", "percentile_bands_figure", "histogram_heatmap_figure", "bn_figure1",
           "gates_figure", "affine_figure", "affine_sentence", "sweep_figure", "QUANTILE_LABELS"]
