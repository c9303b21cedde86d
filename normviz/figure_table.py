"""The numbers a plotly figure draws, as a tidy table: the text alternative a screen reader can
walk cell by cell, and numbers to copy.

``figure_table(spec)`` reads the figure's JSON (``fig.to_plotly_json()``, or the JSON with
plotly's base64 typed arrays) and returns one row per drawn value:

- point traces (scatter, scattergl, bar, box, histogram, ...): trace, x, y (and z for
  scatter3d; text when the trace labels its points). A missing x or y is plotly's implied
  position x0 + i·dx. A trace whose ``meta["columns"]`` names its ``customdata`` columns gives
  those instead (where a point is drawn is not what it means: the cube's cells).
- heatmaps: trace, row, column, value (row/column are the y/x labels, else their indices).
- tables (``go.Table``): one row per table row, the header as column names.

Traces that only draw a legend entry or an outline (no finite number) add no row. Rows are
capped (``max_rows``); the returned note then says how many numbers were left out.
"""
from __future__ import annotations

import base64
from collections.abc import Mapping

import numpy as np
import pandas as pd

MAX_ROWS = 5000
POINT_AXES = ("x", "y", "z")


def _array(value) -> np.ndarray | None:
    """A trace attribute as a numpy array: lists, tuples, numpy arrays, plotly typed arrays
    ({"dtype": "f8", "bdata": base64, "shape": "3, 4"}); None for a missing attribute."""
    if value is None:
        return None
    if isinstance(value, Mapping) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        if shape:
            flat = flat.reshape([int(s) for s in str(shape).split(",")])
        return flat
    if isinstance(value, (str, bytes, Mapping)) or np.ndim(value) == 0:
        return None
    try:
        return np.asarray(value)
    except ValueError:  # ragged nested lists
        return np.asarray(value, dtype=object)


def _plain(v):
    """A cell value pandas shows as a number or a label (numpy scalars -> Python, None kept)."""
    return v.item() if isinstance(v, np.generic) else v


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and np.isfinite(v)


def _named_rows(name: str, trace: dict) -> list[dict] | None:
    """Rows from ``customdata`` when ``meta["columns"]`` names its columns: the data behind the
    points (the cube's n, c, h, w, value, μ, ...) rather than where they are drawn."""
    meta = trace.get("meta")
    columns = meta.get("columns") if isinstance(meta, Mapping) else None
    data = trace.get("customdata")
    # Row by row, as given: one array of all rows would make the integer indices floats.
    rows = list(data) if isinstance(data, (list, tuple)) else list(_array(data)) if data is not None else []
    if not columns or not rows or any(np.ndim(r) != 1 or len(r) != len(columns) for r in rows):
        return None
    return [{"trace": name, **{c: _plain(v) for c, v in zip(columns, row)}} for row in rows]


def _point_rows(name: str, trace: dict) -> list[dict]:
    named = _named_rows(name, trace)
    if named is not None:
        return named
    axes = [a for a in POINT_AXES if _array(trace.get(a)) is not None]
    if not axes:
        return []
    arrays = {a: _array(trace[a]).ravel() for a in axes}
    n = max(len(v) for v in arrays.values())
    kind = trace.get("type", "scatter")
    if kind not in ("scatter3d", "box", "histogram", "violin"):  # implied positions: x0 + i·dx
        for a in ("x", "y"):
            if a not in arrays:
                arrays[a] = float(trace.get(f"{a}0", 0)) + float(trace.get(f"d{a}", 1)) * np.arange(n)
    text = _array(trace.get("text"))
    text = text.ravel() if text is not None and text.size == n else None
    rows = []
    for i in range(n):
        row = {"trace": name}
        for a in ("x", "y", "z"):
            if a in arrays:
                row[a] = _plain(arrays[a][i]) if i < len(arrays[a]) else None
        if not any(_is_number(row.get(a)) for a in POINT_AXES):  # a legend-only or gap point
            continue
        if text is not None:
            row["text"] = _plain(text[i])
        rows.append(row)
    return rows


def _heatmap_rows(name: str, trace: dict) -> list[dict]:
    z = _array(trace.get("z"))
    if z is None or z.ndim != 2:
        return []
    xs, ys = _array(trace.get("x")), _array(trace.get("y"))
    rows = []
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            if not _is_number(z[i, j]):
                continue
            rows.append({"trace": name, "row": _plain(ys[i]) if ys is not None and i < len(ys) else i,
                         "column": _plain(xs[j]) if xs is not None and j < len(xs) else j,
                         "value": _plain(z[i, j])})
    return rows


def _table_rows(name: str, trace: dict) -> list[dict]:
    header = _array((trace.get("header") or {}).get("values"))
    values = (trace.get("cells") or {}).get("values")
    # Column by column: one array of all columns would turn a number column into strings.
    cols = [_array(c) for c in values] if isinstance(values, (list, tuple)) else list(_array(values) if values is not None else [])
    if not cols or any(c is None or c.ndim != 1 or len(c) != len(cols[0]) for c in cols):
        return []
    names = [str(h) for h in header.ravel()] if header is not None and header.size == len(cols) \
        else [f"column {j}" for j in range(len(cols))]
    return [{"trace": name, **{names[j]: _plain(col[i]) for j, col in enumerate(cols)}}
            for i in range(len(cols[0]))]


def figure_table(spec: Mapping, max_rows: int = MAX_ROWS) -> tuple[pd.DataFrame, str | None]:
    """One row per value the figure draws (see the module docstring), and a note when capped.

    Shape: a figure of traces with n_t values each -> (min(Σ n_t, max_rows), columns), columns
    "trace" then x, y, z, text / row, column, value / a table's header, as the traces have them.

    >>> frame, note = figure_table({"data": [{"type": "bar", "name": "BN", "x": ["a", "b"], "y": [1, 2]}]})
    >>> frame.to_dict("records"), note
    ([{'trace': 'BN', 'x': 'a', 'y': 1}, {'trace': 'BN', 'x': 'b', 'y': 2}], None)
    """
    rows: list[dict] = []
    total = 0
    for t, trace in enumerate(spec.get("data") or []):
        if trace.get("visible") is False:
            continue
        kind = trace.get("type", "scatter")
        name = str(trace.get("name") or f"trace {t}")
        if kind in ("heatmap", "heatmapgl", "contour", "surface"):
            got = _heatmap_rows(name, trace)
        elif kind == "table":
            got = _table_rows(name, trace)
        else:
            got = _point_rows(name, trace)
        total += len(got)
        rows.extend(got[:max(0, max_rows - len(rows))])
    note = (f"Showing the first {max_rows:,} of {total:,} values." if total > max_rows else None)
    frame = pd.DataFrame(rows)
    return frame.dropna(axis=1, how="all") if len(frame) else frame, note
