"""A teacher's link works on a freshly started server, before anyone opened the home page.

Streamlit treats a folder named ``pages/`` next to the entry script as a legacy multipage app
until some session has run ``st.navigation``: on a fresh server the first visitor of
``/cube`` got the page file run on its own (no page config, a sidebar listing "app" and
"shared"). normviz keeps its pages in ``app_pages/`` so every request goes through app.py.
"""
import re
from pathlib import Path

import pytest

from tests.browser_utils import goto
from tests.conftest import start_streamlit, stop_streamlit

# The navigation app.py declares; a page run on its own would show a different sidebar.
NAV_TITLES = re.findall(r'st\.Page\("[^"]+", title="([^"]+)"', (Path(__file__).parents[1] / "app.py").read_text())


@pytest.mark.browser
@pytest.mark.parametrize("path, heading", [("cube?norm=layer", "Cube explorer"),
                                           ("experiments", "Experiments")])
def test_first_request_deep_link_goes_through_app_py(page, path, heading):
    proc, url, _ = start_streamlit("app.py")
    try:
        goto(page, f"{url}/{path}")
        page.get_by_role("heading", name=heading).first.wait_for(timeout=30000)
        links = page.get_by_test_id("stSidebarNavLink").all_inner_texts()
        assert [t.strip().splitlines()[-1] for t in links] == NAV_TITLES
        assert "norm=layer" in page.url or "cube" not in path
    finally:
        stop_streamlit(proc)
