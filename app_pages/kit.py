"""Page-side glue shared by every page: URL state <-> widgets, notices, error boundaries.

Not a page itself (``st.navigation`` lists pages explicitly, so this file is never one).

The URL round trip, for a page whose state class is ``S`` and whose prefix is ``"cube"``::

    state, notices = url_state(S, "cube")       # before any widget: seeds widget keys once
    st.selectbox("Norm", S.choices("norm"), key=wkey("cube", "norm"))
    ...
    state = state_from_widgets(S, "cube")         # after the widgets
    write_url(state)

Each widget's key is ``"cube.norm"``; its value is seeded from the URL (or the default) only
when the key is missing from ``st.session_state``, so later reruns never fight the user's
clicks (see streamlit-notes: widgets whose default comes from the URL must have stable keys).
"""
from __future__ import annotations

import html
import uuid
from contextlib import contextmanager
from dataclasses import fields
from typing import Callable

import streamlit as st

from normviz.state import PageState
from normviz.training.service import TrainingService


VIEW_MODES = ("present",)  # URL parameters of how a page is shown, kept by write_url (embed is Streamlit's own)


def wkey(prefix: str, name: str) -> str:
    """The session-state key of a page's control."""
    return f"{prefix}.{name}"


def _widget_value(value):
    # Widgets hand back lists where the state holds tuples (multiselect); keep widgets' types.
    return list(value) if isinstance(value, tuple) else value


def url_state(cls: type[PageState], prefix: str) -> tuple[PageState, list[str]]:
    """Parse the URL into ``cls`` and seed every missing widget key from it.

    Notices (values that were replaced) are remembered for the session's first run of the page
    and shown by :func:`show_notices`.
    """
    params = {k: st.query_params.get_all(k) for k in st.query_params.keys()}
    state, notices = cls.from_query(params)
    missing = [f.name for f in fields(cls) if wkey(prefix, f.name) not in st.session_state]
    for name in missing:
        st.session_state[wkey(prefix, name)] = _widget_value(getattr(state, name))
    if missing:
        st.session_state[f"{prefix}:notices"] = notices
    return state, st.session_state.get(f"{prefix}:notices", [])


def state_from_widgets(cls: type[PageState], prefix: str, **overrides) -> PageState:
    """Build the state from the widget values, validated like a URL would be."""
    values = {}
    for f in fields(cls):
        key = wkey(prefix, f.name)
        if key in st.session_state:
            v = st.session_state[key]
            values[f.name] = tuple(v) if isinstance(v, list) else v
    values.update(overrides)
    state, _ = cls(**values).validate()
    return state


def set_control(prefix: str, name: str, value) -> None:
    """Change a control's value from code (e.g. a click on a chart), before its widget runs."""
    st.session_state[wkey(prefix, name)] = _widget_value(value)


def write_url(state: PageState) -> None:
    """Mirror the state into the URL, touching it only when something changed."""
    query = state.to_query()
    current = {k: st.query_params.get(k) for k in st.query_params.keys()}
    for mode in VIEW_MODES:  # presenter mode is the viewer's, not the page's: keep it
        if mode in current:
            query[mode] = current[mode]
    if current != query:
        st.query_params.from_dict(query)


def show_notices(prefix: str, notices: list[str]) -> None:
    """Show URL notices once; a dismiss button clears them."""
    if not notices:
        return
    with st.container(border=True):
        for n in notices:
            st.warning(n, icon="⚠️")
        if st.button("Dismiss", key=f"{prefix}:dismiss"):
            st.session_state[f"{prefix}:notices"] = []
            st.rerun()


def _shown_value(value) -> str:
    if isinstance(value, (tuple, list)):
        return ", ".join(map(_shown_value, value)) or "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}" if isinstance(value, float) else str(value)


def show_locks(state: PageState, labels: dict[str, str] | None = None,
               formats: dict[str, Callable] | None = None) -> None:
    """Tell students which controls a teacher's link fixed (``?lock=norm,C``), with their values.

    Every page treats a locked control the same way: it is not drawn (``state.is_locked(name)``)
    and its value comes from the URL, so this caption is where a student sees it. ``labels`` and
    ``formats`` (value -> text) name fields and values in the page's words.
    """
    if not state.lock:
        return
    labels, formats = labels or {}, formats or {}
    fixed = "; ".join(f"{labels.get(n, n)} = {formats.get(n, _shown_value)(getattr(state, n))}"
                      for n in state.lock)
    st.caption(f":material/lock: Some controls are fixed by your teacher for this exercise: {fixed}.")


@contextmanager
def explained_errors(what: str = ""):
    """Turn a library ``ValueError`` into an on-page message instead of a traceback.

    Use around library calls whose inputs come from the user; the rest of the page keeps
    working. ``what`` prefixes the message (e.g. the file name).
    """
    try:
        yield
    except ValueError as err:
        st.error(f"{what}{err}", icon="🚫")


@st.cache_resource(show_spinner=False)
def training_service() -> TrainingService:
    """The server's one TrainingService: worker processes shared by every browser session."""
    return TrainingService()


def session_owner() -> str:
    """This browser session's name in the training service's queue (random, per session)."""
    return st.session_state.setdefault("session_owner", uuid.uuid4().hex)


CSS_MARK = "data-normviz-css"


def page_css(css: str) -> None:
    """Apply ``css`` (rules, without ``<style>``) to the page, in the run's order of elements.

    Not ``st.html``: Streamlit sends a style-only body to its event container, which a fresh
    browser drew ~0.6 s after the run had finished (measured in Chromium). Markdown that allows
    HTML draws as soon as Streamlit's lazy raw-HTML renderer has loaded; elements that must not
    show before this CSS applies are drawn by the same renderer (the walkthrough's steps). The
    element hides its own container so it takes no gap (a hidden ``<style>`` still applies).
    """
    rule = f'[data-testid="stElementContainer"]:has(style[{CSS_MARK}]) {{ display: none; }}'
    st.markdown(f"<style {CSS_MARK}>\n{css.strip()}\n{rule}\n</style>", unsafe_allow_html=True)


def number_table(header, rows, *, label: str) -> None:
    """A small table of already formatted cells, in a box that scrolls sideways on a phone.

    For tables that change on every slider move (the image lab's): ``st.table`` of a DataFrame
    builds pandas objects, a Styler and Arrow bytes on each rerun (a quarter of the AdaIN tab's
    server time, py-spy); this is one HTML string. ``header``: column titles; ``rows``: sequences of cells,
    the first one the row's name (a row header); cells are escaped, numbers right-aligned.
    ``label`` names the scroll box for a screen reader (it is focusable, so a keyboard can
    scroll it, as WCAG asks of a scrolling region).
    """
    def cells(row) -> str:
        name, *rest = (html.escape(str(v)) for v in row)
        return f'<th scope="row">{name}</th>' + "".join(f'<td style="text-align: right">{v}</td>' for v in rest)

    head = "".join(f'<th scope="col">{html.escape(str(h))}</th>' for h in header)
    body = "".join(f"<tr>{cells(r)}</tr>" for r in rows)
    st.markdown(f'<div role="region" tabindex="0" aria-label="{html.escape(label)}" style="overflow-x: auto">'
                f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>",
                unsafe_allow_html=True)


def latex_lines(latex: str, *, with_page_css: bool = False) -> None:
    """A long formula as one display formula per ``\\quad``-separated part.

    A display formula wider than its column gets a horizontal scroll bar that a keyboard cannot
    reach (axe-core: scrollable-region-focusable); short lines fit and read better on a projector.
    ``with_page_css``: draw each line as markdown that allows HTML (``st.latex``'s own body), so it
    shows no sooner than CSS from :func:`page_css` that may hide it (the walkthrough's steps).
    """
    for part in split_latex(latex):
        # A line that ends in a subscript (β_c) overflows its box by KaTeX's 2 px .vlist-s strut
        # and becomes a scrollable region; a trailing thin space keeps the strut inside.
        line = part + r"\,"
        if with_page_css:
            st.markdown(f"$$\n{line}\n$$", unsafe_allow_html=True)
        else:
            st.latex(line)


def split_latex(latex: str) -> list[str]:
    """The parts of ``latex`` between top-level ``\\quad`` (not inside braces), commas trimmed."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(latex):
        ch = latex[i]
        if latex[i - 1:i] != "\\":  # \{ and \} are set braces, not groups
            depth += (ch == "{") - (ch == "}")
        if depth == 0 and latex.startswith(r"\quad", i) and not latex[i + 5:i + 6].isalpha():
            parts.append(latex[start:i])
            start = i = i + 5
            continue
        i += 1
    parts.append(latex[start:])
    return [p.strip().rstrip(",").rstrip("\\ ").strip() for p in parts if p.strip(" ,\\")]


def formula(latex: str) -> None:
    """A formula, and links to the glossary entries of the symbols it uses."""
    from normviz.glossary import symbols_in

    latex_lines(latex)
    links = " · ".join(f"[{s.shown}](/glossary#{s.anchor})" for s in symbols_in(latex))
    if links:
        st.caption(f"Symbols: {links}")
