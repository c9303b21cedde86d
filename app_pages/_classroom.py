"""Classroom glue every page shares: presenter mode (``?present=1``) and "link to this view".

Presenter mode is for a projector at 1280×720: no sidebar or toolbar, large type (Streamlit sizes
in rem, so the root font size scales the page; plotly's fonts are in px, so views that draw
for the projector ask :func:`presenting`), side-by-side columns that hold a chart stacked so
each figure gets the full width, scrolling snapping to one figure per screen. ``?embed=true`` is
Streamlit's own (no toolbar). In both the page is alone: no navigation and no "link to this view",
so no sidebar at all (not even the button that opens it, which CSS could hide only once Streamlit's
lazy HTML renderer had loaded), and a page's controls go to a popover. Both can be combined.
Both last the session (a page switch drops the query string); ``present`` is kept in the URL by
``kit.write_url`` and put back after a page switch (it is how the page is shown, not page state).
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlencode

import streamlit as st

from app_pages.kit import page_css

# Every page. On a phone a display formula wider than the screen scrolled sideways out of reach
# (a 6-value sum is ~720 px at 390 px wide); KaTeX splits a formula into boxes at its top-level
# operators and relations, so letting the line wrap between them breaks it there instead.
PAGE_CSS = """
@media (max-width: 640px) {
  .katex-display > .katex, .katex-display > .katex > .katex-html { white-space: normal; }
}
"""
# A guard: when the page is alone the sidebar is not made at all (see above), unless a page writes
# to st.sidebar itself.
NO_SIDEBAR_CSS = """
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stToolbar"],
[data-testid="stSidebarNav"], [data-testid="stExpandSidebarButton"] { display: none !important; }
"""
PRESENT_CSS = """
html { font-size: 22px; }
[data-testid="stMainBlockContainer"] { max-width: 100%; padding: 1rem 2rem; }
[data-testid="stHorizontalBlock"]:has([data-testid="stPlotlyChart"], .live-chart) { flex-direction: column; }
[data-testid="stHorizontalBlock"]:has([data-testid="stPlotlyChart"], .live-chart) > [data-testid="stColumn"] {
  width: 100% !important; flex: 1 1 100% !important; }
/* Other columns wrap instead of shrinking: five home cards at this type size clipped "Open Image lab". */
[data-testid="stHorizontalBlock"] { flex-wrap: wrap; }
[data-testid="stHorizontalBlock"] > [data-testid="stColumn"] { min-width: min(100%, 13rem); }
[data-testid="stPlotlyChart"], .live-chart { scroll-snap-align: start; }
[data-testid="stMain"] { scroll-snap-type: y proximity; }
header[data-testid="stHeader"] { display: none; }
.katex-display { overflow-x: auto; overflow-y: hidden; }
"""


def presenting() -> bool:
    """``?present=1``, kept for the session: a link to another page (the home page's cards) opens it
    with no query string, and the projector should not drop out of presenter mode. ``?present=0``
    leaves it."""
    value = st.query_params.get("present")
    if value is not None:
        st.session_state["normviz:presenting"] = str(value).lower() in ("1", "true", "yes", "on")
    return st.session_state.get("normviz:presenting", False)


def embedded() -> bool:
    """``?embed=true``: Streamlit hides it from ``st.query_params``, so read the run's query string.

    Streamlit's embed mode drops the toolbar but (1.67, seen in Chromium) still shows the
    sidebar; an embedded page should be the page alone.
    """
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    values = parse_qs(getattr(ctx, "query_string", "") or "").get("embed", [])
    # A later rerun (after the page rewrites its URL) may not carry embed=true in the run's query
    # string; an embedded session stays embedded.
    if any(v.lower() == "true" for v in values):
        st.session_state["normviz:embedded"] = True
    return st.session_state.get("normviz:embedded", False)


def page_alone() -> bool:
    """Presenting or embedded: the page alone, with no sidebar (nor the button that opens it)."""
    return presenting() or embedded()


def controls_panel():
    """Where a page's controls go: the sidebar, or, when the page is alone, a "Controls" popover
    in the page (an embedded or projected page has no sidebar, and its controls must stay in reach)."""
    if page_alone():
        return st.popover("Controls", icon=":material/tune:")  # its button is the title
    st.sidebar.header("Controls")
    return st.sidebar


def present_mode(extra_css: str = "") -> None:
    """Before the page runs: the page's CSS, on every page and run (see ``kit.page_css``).

    Formulas that wrap on a phone, everywhere; no sidebar when presenting or embedded; the
    presenter's styles when presenting (and ``present=1`` back in the URL after a page switch, see
    :func:`presenting`); ``extra_css`` (the entry point's own). It is the run's first
    raw-HTML element, so the browser loads Streamlit's lazy renderer for such elements while the page
    runs, and a page's own CSS (the walkthrough's) applies on arrival.
    """
    css = [PAGE_CSS, extra_css] + ([NO_SIDEBAR_CSS] if page_alone() else [])
    if presenting():
        css.append(PRESENT_CSS)
        if "present" not in st.query_params:  # after a page switch: a reload or copied link keeps it
            st.query_params["present"] = "1"
    page_css("\n".join(css))


def view_link(extra: dict | None = None) -> str:
    """The URL of this page with its current state (and ``extra`` parameters)."""
    query = {k: st.query_params.get_all(k) for k in st.query_params.keys()}
    query = {k: v if len(v) > 1 else v[0] for k, v in query.items()}
    query.update(extra or {})
    base = st.context.url or ""
    return base + ("?" + urlencode(query, doseq=True) if query else "")


def copy_link() -> None:
    """After the page ran (its state is in the URL): a "Link to this view" control in the sidebar,
    the link as code (with Streamlit's copy button), and its presenter and embed variants."""
    with st.sidebar.popover("Link to this view", icon=":material/link:", width="stretch"):
        st.caption("This page as you see it now; copy with the button on the right.")
        st.code(view_link(), language=None, wrap_lines=True)
        st.caption("For a projector (large type, no sidebar):")
        st.code(view_link({"present": "1"}), language=None, wrap_lines=True)
        st.caption("To embed in a course page (an iframe):")
        st.code(view_link({"embed": "true"}), language=None, wrap_lines=True)
