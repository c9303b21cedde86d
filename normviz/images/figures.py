"""Pictures and plotly figures for the image lab (data in, figure or uint8 array out)."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from normviz.images import features
from normviz.images import load as images
from normviz.palette import BLUE, GREEN, ORANGE, norm_style


def view_style(view: str) -> tuple[str, str, str]:
    """(colour, dash, symbol) of a lab view: its norm's look everywhere (``normviz.palette``);
    an eval view is dashed with open markers, so train and eval of one norm tell apart."""
    from normviz.images.lab import view_norm

    key, is_eval = view_norm(view)
    colour, dash, symbol = norm_style(key)
    return (colour, "dash", symbol + "-open") if is_eval else (colour, dash, symbol)


FLOOR = 1e-16  # log axes: exact zeros are drawn here (below float64 rounding)


def mosaic(imgs: Sequence[np.ndarray], gap: int = 4, fill: int = 255) -> np.ndarray:
    """Equal-sized uint8 (S, S, 3) images side by side with white gaps -> one uint8 image."""
    imgs = list(imgs)
    h, w = imgs[0].shape[:2]
    out = np.full((h, len(imgs) * w + (len(imgs) - 1) * gap, 3), fill, np.uint8)
    for i, im in enumerate(imgs):
        out[:, i * (w + gap): i * (w + gap) + w] = im
    return out


def png(img: np.ndarray) -> bytes:
    """uint8 (H, W, 3) -> PNG bytes, fast (zlib level 1): pages cache these bytes."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(img)).save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def legend_strip(width: int = 320, height: int = 20, limit: float = images.DISPLAY_RANGE) -> np.ndarray:
    """The fixed display mapping as a grey ramp from −limit (black) to +limit (white)."""
    v = np.linspace(-limit, limit, width)
    g = images.to_uint8(images.display(v, limit))
    return np.repeat(np.repeat(g[None, :, None], height, axis=0), 3, axis=2)


def filter_grid(scale: int = 12, gap: int = 3) -> np.ndarray:
    """The 27 DCT filters as 3×3 RGB patches (0 -> grey), 3 rows (colour frequency) of 9."""
    f = features.filters()  # (27, 3, 3, 3) = (k, colour, row, column)
    m = np.abs(f).max()
    tiles = images.to_uint8(0.5 + 0.5 * f.transpose(0, 2, 3, 1) / m)  # (27, 3, 3, 3) HWC
    tiles = np.repeat(np.repeat(tiles, scale, axis=1), scale, axis=2)
    rows = [mosaic(list(tiles[r * 9:(r + 1) * 9]), gap) for r in range(3)]
    sep = np.full((gap, rows[0].shape[1], 3), 255, np.uint8)
    return np.concatenate([rows[0], sep, rows[1], sep, rows[2]], axis=0)


def heat_image(d: np.ndarray, vmax: float | None = None) -> np.ndarray:
    """A non-negative map as a uint8 image with the cividis-like ramp dark blue -> yellow."""
    vmax = float(d.max()) if vmax is None else vmax
    t = np.clip(d / vmax, 0, 1) if vmax > 0 else np.zeros_like(d)
    lo, hi = np.array([0.0, 0.13, 0.30]), np.array([1.0, 0.91, 0.27])
    return images.to_uint8(lo + t[..., None] * (hi - lo))


def _fig():
    import plotly.graph_objects as go

    return go


def _figure(data: list, layout: dict):
    """A figure from plain dicts, without plotly's per-property validation: that validation
    cost 10–20 ms per figure on every rerun (the JSON sent is the same)."""
    go = _fig()
    return go.Figure({"data": data, "layout": layout}, _validate=False)


def strength_figure(strengths: np.ndarray, curves: dict, labels: dict, *, title: str,
                    x_title: str = "strength s (0 = original, 1 = your setting)"):
    """Max-abs output change of each norm against the strength of the input change (log y)."""
    keep = np.asarray(strengths) > 0  # s = 0 is the identity: every change is exactly 0 there
    data = []
    for k, ys in curves.items():
        colour, dash, symbol = view_style(k)
        data.append({"type": "scatter", "x": np.asarray(strengths, dtype=float)[keep],
                     "y": np.maximum(np.asarray(ys, dtype=float)[keep], FLOOR), "name": labels[k],
                     "mode": "lines+markers", "line": {"color": colour, "dash": dash},
                     "marker": {"symbol": symbol, "size": 7}})
    return _figure(data, {"title": {"text": title}, "height": 340, "margin": {"l": 60, "r": 10, "t": 50, "b": 50},
                          "legend": {"font": {"size": 11}}, "xaxis": {"title": {"text": x_title}},
                          "yaxis": {"type": "log", "title": {"text": "max |output change|"}}})


def histogram_figure(hists: dict, edges: np.ndarray, labels: dict, *, title: str):
    """Value histograms as step lines (fractions), one per stage."""
    centres = (edges[:-1] + edges[1:]) / 2
    data = []
    for k, h in hists.items():
        colour, dash, _ = view_style(k)
        data.append({"type": "scatter", "x": centres, "y": np.asarray(h, dtype=float), "name": labels[k], "mode": "lines",
                     "line": {"shape": "hvh", "color": colour, "dash": dash, "width": 2}})
    return _figure(data, {"title": {"text": title}, "height": 340, "margin": {"l": 60, "r": 10, "t": 50, "b": 50},
                          "xaxis": {"title": {"text": f"value (clipped to [{edges[0]:g}, {edges[-1]:g}])"}},
                          "yaxis": {"title": {"text": "fraction of values"}}})


def sigma_figure(content: np.ndarray, target: np.ndarray, output: np.ndarray, *, title: str):
    """Per-channel σ of the 27 feature maps: content, style target, output (log y)."""
    labels = list(features.filter_labels())
    data = [{"type": "bar", "x": labels, "y": np.maximum(np.asarray(v, dtype=float), FLOOR), "name": name,
             "marker": {"color": colour, "pattern": {"shape": pattern}}}
            for name, v, colour, pattern in [("content", content, BLUE, ""),
                                             ("style (target)", target, ORANGE, "/"),
                                             ("output", output, GREEN, "x")]]
    return _figure(data, {"title": {"text": title}, "barmode": "group", "height": 340,
                          "yaxis": {"type": "log", "title": {"text": "σ over the image"}},
                          "margin": {"l": 60, "r": 10, "t": 50, "b": 80},
                          "xaxis": {"title": {"text": "feature channel (colour, row, column frequency)"}}})
