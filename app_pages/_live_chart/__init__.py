"""live_chart: a plotly chart that updates in place, keeps the 3D camera and reports clicks.

Why. ``st.plotly_chart`` (Streamlit 1.67) builds its element id from a hash of the figure spec
even with ``key=`` (``elements/plotly_chart.py``, ``key_as_main_identity=False``), so every
changed figure is unmounted and drawn afresh: a new div, a new WebGL context, ``Plotly.purge``
of the old one, and the 3D camera resets (streamlit#8882). A keyed ``st.components.v2``
component keeps its identity when only its data change (``bidi_component/main.py``: the id
comes from the key) and Streamlit calls its JS again with the same parent element. So this
component keeps ONE graph div per key and calls ``Plotly.react`` with each new figure; a
constant ``layout.uirevision`` keeps the user's camera, zoom and legend clicks.

API::

    click = live_chart(fig, key="cube3d", alt="3D cube: ...", on_click=True)
    if click:  # only in the run that a click on a point started
        click["pointNumber"], click["x"], click["customdata"]

``live_chart(fig, *, key, alt="", height=None, on_click=False, on_key=None, keys=(), status=None,
table=None, png_name=None)``

- ``fig``: a ``go.Figure`` or a plotly dict; ``layout.width`` is dropped (the chart follows the
  container's width, ResizeObserver + ``Plotly.Plots.resize``), ``height`` (px) overrides
  ``layout.height`` (default 450). ``layout.uirevision`` is set to ``key`` unless the figure has one.
- Streamlit's chart theme is not applied: a figure built on the default template (Streamlit's,
  whose colours are placeholders) is drawn with plotly's "plotly" template, as
  ``st.plotly_chart(fig, theme=None)`` draws it; set ``template=`` on the figure for another look.
- ``alt``: the figure's text alternative, the chart's ``aria-label`` (with ``role="img"``).
- ``on_click``: report clicks. A click on a point reruns the script (only the fragment, inside
  ``st.fragment``) and ``live_chart`` returns ``{"curveNumber", "pointNumber", "pointIndex",
  "x", "y", "z", "customdata"}`` in that run, ``None`` otherwise. No clicks inside ``st.form``.
  A callable ``on_click(point)`` is also called with the point, as a widget callback: before the
  script reruns, so it may set the values of widgets drawn above the chart.
- ``on_key`` and ``keys``: walk the chart with the keyboard. The chart becomes focusable (Tab, or a
  click; ``tabindex=0`` and a focus ring); a key press whose name is in ``keys`` (the browser's
  ``KeyboardEvent.key`` with a "Shift+" prefix when Shift is held, e.g. "ArrowLeft",
  "Shift+ArrowUp"; no Ctrl/Alt/Meta) is kept from the page (``preventDefault`` +
  ``stopPropagation``, so a document-level listener such as the cube walkthrough's ← / → does not
  see it) and ``on_key(name)`` is called as a widget callback before the script reruns. The div
  persists across reruns, so focus stays on the chart and the user can keep pressing. Say which
  keys do what in ``alt`` and in a caption.
- ``status``: a sentence for screen readers, in a visually hidden ``aria-live="polite"`` region
  next to the chart: read out whenever it changes (e.g. the newly selected element after a key).
- Under every chart a "Numbers as a table" toggle (off by default, not in presenter mode) shows
  the numbers the figure draws, one row per value (``normviz.figure_table``): a text alternative
  a screen reader walks cell by cell, and numbers to copy. ``table``: the caller's own data
  (anything ``st.dataframe`` takes) to show instead.
- ``png_name``: file name of the modebar's "download as PNG" (default: ``key``).
- Frames: a figure with plotly ``frames`` (each ``{"name", "data", "traces", "layout"}``: its
  ``data`` replaces the traces at the indices ``traces``, its ``layout`` keys replace the layout's,
  ``layout.meta.alt`` the chart's ``aria-label``) can be stepped in the browser with no rerun:
  ``frame`` is the frame drawn first, and any script on the page may call
  ``window.__liveChartFrame(key, k)`` to draw frame ``k`` instead (the cube walkthrough's step
  bar does, on Back/Next and ← / →). The chart keeps drawing frame ``k`` across reruns until told
  otherwise; ``frame=None`` (or no call) draws the figure as it is.
- Drawn when seen: a chart is drawn only while on or near the screen (within 400 px; an
  IntersectionObserver in live_chart.js), and drawn with its newest figure when it comes near. A
  chart far below the fold, in a closed expander or in an unselected tab costs the browser nothing
  until it is looked at; reruns do not redraw it while it is away. Printing draws every chart.
- Presenter mode (``?present=1``): one figure per screen. The chart fills the viewport's height
  (less a title line, at least 360 px) instead of ``height``, follows the window when it resizes,
  and its fonts grow for the projector (``_projector_fonts``).

The mouse wheel scrolls the page, never zooms a chart (``scrollZoom`` off; over a 3D scene too,
whose camera would otherwise take the wheel and keep the page from scrolling past it).

The plotly ``config`` is the same on every call (a changed config makes ``react`` redraw from
scratch). The figure travels once, as the compact JSON of ``fig.to_plotly_json()`` (numpy
arrays as base64 typed arrays) in the component's bytes payload. Streamlit calls the JS again
only when the payload (or the app theme) changes, and the JS skips ``react`` for an unchanged
payload. In AppTest, which runs no JS, :func:`payload` reads the figure back from the element.

plotly.js is served by the app, never by a CDN, as a partial bundle: ``vendor/plotly-normviz.min.js``
is plotly.js (the version the installed plotly package ships) with only the trace types normviz
draws (:data:`BUNDLE_TRACES`, read from its header), about half the bytes of the full
``plotly.min.js`` and less script to evaluate before the first chart draws (issue 13;
bench/bench_cube.py, first render). plotly.js draws a trace of another type as a plain scatter, with
no error: tests/test_plotly_bundle.py checks every figure builder against the list. Rebuild it with
``scripts/build_plotly_bundle.sh`` (npm + esbuild; scripts/plotly_bundle/build.mjs holds the list).
This module registers the ``vendor/`` folder as the asset folder of a v2 component (the same
registration an installed component package gets from its ``pyproject.toml`` manifest; this
uses ``BidiComponentManager.register_from_manifest``, internal to Streamlit 1.67), so Streamlit
serves it at ``/_stcore/bidi-components/normviz.plotly_js/plotly-normviz.min.js?v=<content hash>``.
The JS loads it with one ``<script>`` per page, shared by every chart; the entry point starts that
load before the page runs (:func:`preload_plotly`). That route gzips (~0.7 MB
on the wire) but sends no validators or max-age, so a browser fetches it again on every page
load (not on reruns or page switches); bench/bench_live_chart.py measures the first render.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any, Callable

import numpy as np
import plotly.io as pio
from _plotly_utils.utils import is_homogeneous_array, to_typed_array_spec
import streamlit as st
from app_pages._classroom import presenting
from streamlit import config as st_config
from streamlit.components.v2.manifest_scanner import ComponentConfig, ComponentManifest

COMPONENT = "normviz.live_chart"
ASSETS = "normviz.plotly_js"  # asset-only component: serves vendor/, the partial plotly.js bundle
VENDOR_DIR = Path(__file__).resolve().parent / "vendor"
BUNDLE = VENDOR_DIR / "plotly-normviz.min.js"
DEFAULT_HEIGHT = 450

TABLE_LABEL = "Numbers as a table"

PRELOADER = "normviz.plotly_preload"  # the same JS, as its own component: preload_plotly() draws no chart
_JS = (Path(__file__).parent / "live_chart.js").read_text()

_component = st.components.v2.component(
    COMPONENT,
    js=_JS,
    isolate_styles=False,  # plotly puts its modebar/hover CSS in document.head: no shadow root
    # A focusable chart (on_key) shows where the keyboard is; the status region is for screen readers only.
    css=(".live-chart[tabindex]:focus-visible { outline: 3px solid #0072B2; outline-offset: 2px; }\n"
         ".live-chart-status { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; "
         "overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }"),
)


_preloader = st.components.v2.component(PRELOADER, js=_JS, isolate_styles=False)


@cache
def bundle_info() -> tuple[str, tuple[str, ...], str]:
    """(plotly.js version, trace types, short content hash) of the served bundle, from its header
    (written by scripts/plotly_bundle/build.mjs) and bytes. The hash busts browser caches on a rebuild."""
    raw = BUNDLE.read_bytes()
    head = raw[:400].decode("utf-8", "replace")
    version = re.search(r"plotly\.js v(\S+?),", head).group(1)
    traces = tuple(t.strip() for t in re.search(r"\* traces: (.*)", head).group(1).split(","))
    return version, traces, hashlib.sha256(raw).hexdigest()[:12]


BUNDLE_VERSION, BUNDLE_TRACES, _ = bundle_info()


def _serve_plotly_js() -> str:
    """Register vendor/ as an asset folder on the running server; return the URL of the bundle.
    Idempotent; AppTest starts a new runtime per test, hence on every call."""
    from streamlit.runtime import Runtime

    if Runtime.exists():
        manager = Runtime.instance().bidi_component_registry
        if manager.get_component_asset_root(ASSETS) is None:
            manifest = ComponentManifest(name="normviz", version=BUNDLE_VERSION,
                                         components=[ComponentConfig(name="plotly_js", asset_dir=VENDOR_DIR.name)])
            manager.register_from_manifest(manifest, VENDOR_DIR.parent)
    base = (st_config.get_option("server.baseUrlPath") or "").strip("/")
    prefix = f"/{base}" if base else ""
    return f"{prefix}/_stcore/bidi-components/{ASSETS}/{BUNDLE.name}?v={bundle_info()[2]}"


@cache
def _templates() -> tuple[dict, dict]:
    return pio.templates["streamlit"].to_plotly_json(), pio.templates["plotly"].to_plotly_json()


def _plain_template(layout: dict) -> None:
    """Swap Streamlit's placeholder template for plotly's own, as ``st.plotly_chart(theme=None)``;
    a plotly dict with no template gets plotly's too, as ``go.Figure(dict)`` would.

    Importing streamlit makes "streamlit" plotly's default template; its colours are placeholders
    (#000001 ...) that only st.plotly_chart's frontend replaces, so plotly.js alone draws them black.
    """
    streamlit_template, plotly_template = _templates()
    if "template" not in layout or layout["template"] == streamlit_template:
        layout["template"] = plotly_template


def _projector_fonts(node, base: bool = True):
    """Fonts for a projector: plotly's sizes are px, not rem, so the presenter's larger type does
    not reach them. The base font becomes 18 px (plotly's default is 12) unless the figure sets one;
    every smaller font the layout sets (legend, annotations, buttons) grows 1.5×, to at most 18 px."""
    if isinstance(node, list):
        return [_projector_fonts(v, False) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: (v if k == "template" else _projector_fonts(v, False)) for k, v in node.items()}
    font = out.get("font")
    if isinstance(font, dict) and isinstance(font.get("size"), (int, float)) and font["size"] < 18:
        out["font"] = {**font, "size": min(18, round(1.5 * font["size"]))}
    if base and not (out.get("font") or {}).get("size"):
        out["font"] = {**(out.get("font") or {}), "size": 18}
    return out


def _config(png_name: str) -> dict:
    return {"displaylogo": False, "scrollZoom": False,
            "toImageButtonOptions": {"format": "png", "filename": png_name, "scale": 2}}


def _noop() -> None:
    """The click trigger's callback: v2 reports a trigger only to a registered callback."""


def _click_callback(key: str, on_click: Callable[[dict], None]) -> Callable[[], None]:
    """A v2 trigger callback that hands the clicked point to ``on_click``."""
    def callback() -> None:
        point = (st.session_state.get(key) or {}).get("click")
        if point:
            on_click(point)
    return callback


def _key_callback(key: str, on_key: Callable[[str], None]) -> Callable[[], None]:
    """A v2 trigger callback that hands the pressed key's name to ``on_key``."""
    def callback() -> None:
        name = (st.session_state.get(key) or {}).get("key")
        if isinstance(name, str) and name:
            on_key(name)
    return callback


def live_chart(fig, *, key: str, alt: str = "", height: int | None = None,
               on_click: bool | Callable[[dict], None] = False,
               on_key: Callable[[str], None] | None = None, keys: tuple[str, ...] = (), status: str | None = None,
               table=None, png_name: str | None = None, frame: int | None = None) -> dict[str, Any] | None:
    """Draw ``fig`` in a chart that keeps its div (and WebGL context) across reruns.

    Returns the clicked point (see the module docstring) in the run a click started, else None.
    """
    if not key:
        raise ValueError("live_chart needs a key: the key is what keeps the chart's identity across reruns")
    if bool(on_key) != bool(keys):
        raise ValueError(f"live_chart needs on_key and keys together (got on_key={on_key!r}, keys={tuple(keys)!r}): "
                         "keys lists the key names on_key handles")
    spec = figure_spec(fig)
    layout = dict(spec.get("layout") or {})
    layout.pop("width", None)  # the container sets the width
    layout["height"] = int(height or layout.get("height") or DEFAULT_HEIGHT)
    layout.setdefault("uirevision", key)
    _plain_template(layout)
    present = presenting()
    frames = [dict(f) for f in spec.get("frames") or []]
    if present:
        layout = _projector_fonts(layout)
        for f in frames:
            f["layout"] = _projector_fonts(f.get("layout") or {}, base=False)
    payload = {"figure": {"data": spec.get("data") or [], "layout": layout, "frames": frames}, "frame": frame,
               "name": key, "config": _config(png_name or key),
               "alt": alt, "height": layout["height"], "fill": present, "click": bool(on_click),
               "keys": list(keys) if on_key else [], "status": status, "src": _serve_plotly_js()}
    result = _component(key=key, data=pio.json.to_json_plotly(payload).encode(), width="stretch",
                        height="content", on_click_change=(_click_callback(key, on_click) if callable(on_click)
                                         else _noop if on_click else None),
                        on_key_change=_key_callback(key, on_key) if on_key else None)
    if not present:  # one figure per screen on a projector
        _numbers_table(key, spec, table)
    return result.get("click") if on_click else None


PRELOAD_KEY = "live-chart-preload"
# The preloader draws nothing; hidden, it takes no gap either (the key is the container's class).
PRELOAD_CSS = f".st-key-{PRELOAD_KEY} {{ display: none; }}"


def preload_plotly() -> None:
    """Start fetching and evaluating plotly.js at the top of the page, before any chart needs it.

    A chart asks for plotly.js when it mounts, late in a page's first render (after the script has
    run and its elements are drawn): ~0.7 MB to fetch and ~0.3 s to evaluate, in series before the
    first chart can draw (bench/bench_cube.py, first render). The entry point calls this before the
    page runs, so the fetch overlaps the page's script run; a page switch then finds plotly loaded.
    One hidden element (``PRELOAD_CSS``); Streamlit calls its JS once, as the payload never changes.
    """
    _preloader(key=PRELOAD_KEY, data=json.dumps({"preload": _serve_plotly_js()}).encode(), width="stretch",
               height="content")


def figure_spec(fig) -> dict:
    """``fig.to_plotly_json()`` without its deep copy: a ``go.Figure`` (or a plotly dict) as
    ``{"data", "layout"[, "frames"]}`` with numpy arrays as plotly.js typed arrays (base64).

    Plotly's ``to_dict`` deep-copies every trace before converting the arrays in place: 16 % of
    the server's samples in a class on the cube, 9 % of an image-lab rerun (py-spy). This copies
    only the containers on the way to an array and leaves ``fig`` as it was. It reads plotly's
    ``_data`` / ``_layout`` / ``_frame_objs`` (plotly is pinned). The JSON equals
    ``to_plotly_json``'s: tests/test_plotly_bundle.py checks every chart of the cube, image lab,
    experiments and exercises, tests/test_live_chart.py the array dtypes one by one.
    """
    if not hasattr(fig, "to_plotly_json"):
        return _typed_arrays(dict(fig))
    spec = {"data": _typed_arrays(fig._data), "layout": _typed_arrays(fig._layout)}
    if fig._frame_objs:
        spec["frames"] = _typed_arrays([f._props for f in fig._frame_objs])
    return spec


_SKIPPED_KEYS = frozenset({"geojson", "layer", "layers", "range"})  # plotly's is_skipped_key
_CONTAINERS = (dict, list, tuple)
_SHORT_TYPES = {"int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4", "uint32": "u4",
                "float32": "f4", "float64": "f8"}  # plotly.js typed arrays (plotly's plotlyjsShortTypes)


def _typed_arrays(node):
    """A copy of the containers in ``node`` with each array value a typed-array spec, as plotly's
    ``convert_to_base64`` does in place (the same skipped keys; arrays only as dict values)."""
    if isinstance(node, dict):
        return {k: v if k in _SKIPPED_KEYS else _typed_array(v) if is_homogeneous_array(v) else _typed_arrays(v)
                for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        # A list of numbers has nothing to convert: skip a call per element (the cube's traces)
        return [_typed_arrays(v) for v in node] if any(isinstance(v, _CONTAINERS) for v in node) else list(node)
    return node


def _typed_array(v):
    """plotly's ``to_typed_array_spec`` for a numeric numpy array, without its trip through
    narwhals (most of its time); anything else goes to plotly's own."""
    if not (isinstance(v, np.ndarray) and v.dtype.kind in "iuf" and v.size):
        return to_typed_array_spec(v)
    if v.dtype.kind in "iu" and v.dtype.itemsize == 8:  # plotly.js has no 64-bit ints: the smallest that holds v
        lo, hi = int(v.min()), int(v.max())
        fits = [t for t in ((np.int8, np.int16, np.int32) if v.dtype.kind == "i" else (np.uint8, np.uint16, np.uint32))
                if np.iinfo(t).min <= lo and hi <= np.iinfo(t).max]
        if not fits:
            return v
        v = v.astype(fits[0])
    short = _SHORT_TYPES.get(str(v.dtype))
    if short is None:
        return v
    spec = {"dtype": short, "bdata": base64.b64encode(np.ascontiguousarray(v)).decode("ascii")}
    if v.ndim > 1:
        spec["shape"] = str(v.shape)[1:-1]
    return spec


def table_toggle_key(key: str) -> str:
    """The widget key of the "Numbers as a table" toggle under the chart ``key``."""
    return f"numbers-table:{key}"


def _numbers_table(key: str, spec: dict, table) -> None:
    """A "Numbers as a table" toggle under the chart; on, the figure's numbers as a table.

    Off (the default) it costs one widget: the rows are only built while the toggle is on.
    ``table`` (the caller's own data) wins over the rows read from the figure.
    """
    # Its own key space: a view aid, not page state (not in the URL, not hidden by lock=).
    if not st.toggle(TABLE_LABEL, key=table_toggle_key(key), help="Every number this chart draws, as rows to read, "
                     "sort and copy (a screen reader can walk the table cell by cell)."):
        return
    from normviz.figure_table import figure_table

    frame, note = (table, None) if table is not None else figure_table(spec)
    st.dataframe(frame, hide_index=True)
    if note:
        st.caption(note)


def payload(element) -> dict:
    """The payload a live_chart element carries (figure, config, alt, ...), e.g. from AppTest:
    ``payload(at.get("bidi_component")[0])["figure"]["layout"]``."""
    return json.loads(element.proto.bytes)
