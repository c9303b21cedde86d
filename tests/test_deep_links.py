"""A teacher's link works on a freshly started server, before anyone opened the home page.

Streamlit treats a folder named ``pages/`` next to the entry script as a legacy multipage app
until some session has run ``st.navigation``: on a fresh server the first visitor of
``/cube`` got the page file run on its own (no page config, a sidebar listing "app" and
"shared"). normviz keeps its pages in ``app_pages/`` so every request goes through app.py.
"""
import pytest

from tests.browser_utils import goto
from tests.conftest import start_streamlit, stop_streamlit

NAV_TITLES = ["Home", "Image lab", "Cube", "Training lab", "Experiments", "Guide"]


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
