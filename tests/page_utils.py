"""Opening one page under AppTest, as the page tests do."""
from __future__ import annotations

import html
import re
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


def number_table(at: AppTest, label: str) -> dict[str, list[str]]:
    """The table ``kit.number_table`` drew under ``label``: {row name: [its cells as shown]},
    with the header under the key ``""``."""
    found = [m.value for m in at.markdown if f'aria-label="{html.escape(label)}"' in m.value]
    assert len(found) == 1, f"{len(found)} tables labelled {label!r}"
    rows = re.findall(r"<tr>(.*?)</tr>", found[0])
    cells = [[html.unescape(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r)] for r in rows]
    return {"": cells[0], **{r[0]: r[1:] for r in cells[1:]}}
