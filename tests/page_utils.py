"""Opening one page under AppTest, as the page tests do."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from app_pages._live_chart import COMPONENT

PAGES = Path(__file__).resolve().parent.parent / "app_pages"


def open_page(page_file: str, timeout: float = 60, **query) -> AppTest:
    """``app_pages/<page_file>`` run once with these URL parameters; it must raise nothing."""
    at = AppTest.from_file(str(PAGES / page_file), default_timeout=timeout)
    for k, v in query.items():
        at.query_params[k] = str(v)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def live_chart_elements(at: AppTest) -> list:
    """The page's live_chart elements (app_pages/_live_chart), in page order; not the entry point's
    plotly.js preloader, another component."""
    return [el for el in at.get("bidi_component") if el.proto.component_name == COMPONENT]
