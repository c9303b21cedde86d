"""The partial plotly.js bundle that live_chart serves (app_pages/_live_chart/vendor/) holds every
trace type the app draws, and is built from the plotly.js that the installed plotly package ships.

A trace whose type the bundle lacks is silently drawn as a scatter trace (plotly.js coerces an
unknown type to its default and says "Unrecognized trace type" only at logging level 2), so these
tests are the guard:

- statically, every trace type named in normviz/ and app_pages/ (``go.X(...)``, ``fig.add_x(...)``,
  ``{"type": "x"}``, ``type="x"``, ``_trace("x", ...)``) is in the bundle, and the bundle holds
  no type that the app never names (each one costs bytes and evaluation time);
- dynamically, every live_chart payload of the cube page, of every experiment and of every
  exercise (AppTest) uses only bundled types.

tests/test_plotly_bundle_browser.py checks in Chromium that the bundle registers exactly these
types and that every page's live charts draw with a module for each trace.
"""
from __future__ import annotations

import gzip
import re
from pathlib import Path

import plotly
import plotly.graph_objects as go
import pytest
from plotly.basedatatypes import BaseTraceType
from page_utils import live_chart_elements
from streamlit.testing.v1 import AppTest

from app_pages._live_chart import BUNDLE, BUNDLE_TRACES, BUNDLE_VERSION, bundle_info, payload
from normviz.state import IMAGE_LAB_VIEWS

ROOT = Path(__file__).resolve().parent.parent
FULL = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
BUILD = ROOT / "scripts" / "plotly_bundle" / "build.mjs"
# Every trace type plotly knows, by the name its go class has (go.Scatter3d -> "scatter3d").
ALL_TRACES = {name.lower() for name in go.__all__
              if isinstance(getattr(go, name), type) and issubclass(getattr(go, name), BaseTraceType)}
# Where source names a trace type. Axis and button "type"s ("log", "buttons", "category") are
# dropped by intersecting with ALL_TRACES.
NAMED = [re.compile(p) for p in (
    r"\bgo\.([A-Z][A-Za-z0-9]*)\(",              # go.Scatter3d(...)
    r"\.add_([a-z0-9]+)\(",                      # fig.add_heatmap(...)
    r"""["']type["']\s*:\s*["']([a-z0-9]+)["']""",  # {"type": "bar"}, specs=[[{"type": "table"}]]
    r"""\btype\s*=\s*["']([a-z0-9]+)["']""",     # dict(type="box")
    r"""\b_trace\(\s*["']([a-z0-9]+)["']""",     # normviz/cube/figures.py's _trace("scatter3d", ...)
)]


def named_traces() -> dict[str, set[str]]:
    """{trace type: files naming it} over normviz/ and app_pages/."""
    found: dict[str, set[str]] = {}
    for path in sorted([*(ROOT / "normviz").rglob("*.py"), *(ROOT / "app_pages").rglob("*.py")]):
        text = path.read_text()
        assert not re.search(r"^\s*import plotly\.express|^\s*from plotly import express", text, re.M), (
            f"{path}: plotly.express picks trace types this scan cannot see; name them in go.X(...) "
            "or extend NAMED")
        for pattern in NAMED:
            for name in pattern.findall(text):
                if name.lower() in ALL_TRACES:
                    found.setdefault(name.lower(), set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_trace_type_the_source_names_is_bundled_and_no_other():
    found = named_traces()
    missing = {t: sorted(files) for t, files in found.items() if t not in BUNDLE_TRACES}
    assert not missing, (f"trace types missing from {BUNDLE.name}: {missing}; add them to TRACES in "
                         "scripts/plotly_bundle/build.mjs and run scripts/build_plotly_bundle.sh")
    unused = set(BUNDLE_TRACES) - set(found)
    assert not unused, (f"{BUNDLE.name} holds trace types no figure uses: {sorted(unused)}; drop them "
                        "from TRACES in scripts/plotly_bundle/build.mjs and rebuild")


def test_the_scan_finds_trace_types_where_the_app_names_them():
    """The scan is not vacuous: each spelling the app uses is recognised."""
    found = named_traces()
    assert "normviz/cube/figures.py" in found["scatter3d"]  # _trace("scatter3d", ...)
    assert "normviz/images/figures.py" in found["bar"]  # {"type": "bar", ...}
    assert "scattergl" in found and "table" in found and "box" in found  # go.Scattergl(...), ...


def trace_types(at: AppTest) -> set[str]:
    return {t.get("type", "scatter") for el in live_chart_elements(at)
            for t in payload(el)["figure"]["data"]}


def test_every_live_chart_of_the_cube_image_lab_experiments_and_exercises_uses_bundled_types(monkeypatch):
    """Every chart these pages draw (every norm, image-lab view, experiment and exercise) uses a bundled trace type,
    and travels as exactly the JSON plotly's own ``to_plotly_json`` gives (live_chart skips its copy)."""
    import plotly.io as pio

    from app_pages import _live_chart

    checked, differ = [], []

    def figure_spec(fig):
        spec = real(fig)
        plotly_json = fig.to_plotly_json() if hasattr(fig, "to_plotly_json") else None
        if plotly_json is not None:
            checked.append(1)
            if pio.json.to_json_plotly(spec) != pio.json.to_json_plotly(plotly_json):
                differ.append(spec.get("layout", {}).get("title"))
        return spec

    real = _live_chart.figure_spec
    monkeypatch.setattr(_live_chart, "figure_spec", figure_spec)
    seen: dict[str, set[str]] = {}
    cube = AppTest.from_file("../app_pages/cube.py", default_timeout=120)
    cube.run()
    assert not cube.exception
    for norm in cube.selectbox(key="cube.norm").options:
        cube.selectbox(key="cube.norm").set_value(norm).run()
        seen[f"cube {norm}"] = trace_types(cube)
    for page, key in (("experiments", "experiments.exp"), ("exercises", "ex.ex")):
        at = AppTest.from_file(f"../app_pages/{page}.py", default_timeout=120)
        at.run()
        for option in at.selectbox(key=key).options:
            at.selectbox(key=key).set_value(option).run()
            assert not at.exception, f"{page}: {option}"
            seen[f"{page}: {option}"] = trace_types(at)
    for view in IMAGE_LAB_VIEWS:
        lab = AppTest.from_file("../app_pages/image_lab.py", default_timeout=120)
        lab.query_params["view"] = view
        lab.run()
        assert not lab.exception, view
        seen[f"image lab {view}"] = trace_types(lab)
    cube.button(key="cube.walk_open").click().run()  # the walkthrough's figure, with its frames
    assert not cube.exception
    seen["cube walkthrough"] = trace_types(cube)
    assert len(checked) > 100 and not differ, f"{len(differ)} of {len(checked)} figures differ: {differ[:3]}"
    missing = {where: sorted(types - set(BUNDLE_TRACES)) for where, types in seen.items() if types - set(BUNDLE_TRACES)}
    assert not missing, f"live charts use trace types missing from {BUNDLE.name}: {missing}"
    # Not vacuous: these pages between them draw every bundled type.
    assert set().union(*seen.values()) == set(BUNDLE_TRACES)


def test_bundle_is_the_shipped_plotly_js_version_with_its_licence():
    shipped = re.search(r"plotly\.js v(\S+)", FULL.read_text()[:300]).group(1)
    assert BUNDLE_VERSION == shipped, (f"{BUNDLE.name} is plotly.js {BUNDLE_VERSION}, plotly {plotly.__version__} "
                                       f"ships {shipped}: bump scripts/plotly_bundle/package.json and rebuild")
    head = BUNDLE.read_text()[:400]
    assert "Copyright 2012-" in head and "Plotly, Inc." in head and "Licensed under the MIT license" in head


def test_bundle_was_built_from_the_committed_trace_list():
    listed = re.search(r"export const TRACES = \[([^\]]*)\]", BUILD.read_text()).group(1)
    assert tuple(re.findall(r'"([a-z0-9]+)"', listed)) == BUNDLE_TRACES


def test_bundle_is_at_most_half_the_full_plotly_js_gzipped():
    """The point of the bundle (issue 13): fewer bytes on the wire, less script to evaluate."""
    small, full = (len(gzip.compress(p.read_bytes(), 6)) for p in (BUNDLE, FULL))
    assert small < 0.5 * full, f"{small / 1024:.0f} KB vs {full / 1024:.0f} KB gzipped"


@pytest.mark.parametrize("edit", [b"x", b""])
def test_the_cache_busting_hash_follows_the_bytes(tmp_path, monkeypatch, edit):
    import app_pages._live_chart as lc

    original = bundle_info()[2]
    copy = tmp_path / BUNDLE.name
    copy.write_bytes(BUNDLE.read_bytes() + edit)
    monkeypatch.setattr(lc, "BUNDLE", copy)
    bundle_info.cache_clear()
    try:
        version, traces, digest = lc.bundle_info()
    finally:
        bundle_info.cache_clear()
    assert (version, traces) == (BUNDLE_VERSION, BUNDLE_TRACES)
    assert (digest == original) == (edit == b"")
