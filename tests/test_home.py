"""Home page: the app starts, the norms table comes from the registry, pillars are
linked only when their page is in the navigation, and every page opens in Chromium."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from browser_utils import goto, screenshot
from normviz.norms import NORMS

ROOT = Path(__file__).resolve().parent.parent


def nav_pages() -> list[str]:
    """Page files listed in app.py's st.navigation."""
    return [p["file"] for p in nav_entries()]


def nav_entries() -> list[dict]:
    """Each st.Page(...) of app.py: file, url ("" for the default page) and title."""
    out = []
    for node in ast.walk(ast.parse((ROOT / "app.py").read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Page":
            kw = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
            file = ast.literal_eval(node.args[0])
            url = "" if kw.get("default") else kw.get("url_path", Path(file).stem)
            out.append({"file": file, "url": url, "title": kw.get("title", Path(file).stem)})
    return out


@pytest.fixture(scope="module")
def home():
    at = AppTest.from_file("../app.py", default_timeout=30)
    at.run()
    return at


def table_markdown(at) -> str:
    tables = [m.value for m in at.markdown if m.value.lstrip().startswith("| Norm |")]
    assert len(tables) == 1, "the home page should show one norms table"
    return tables[0]


def test_home_runs_without_exception(home):
    assert not home.exception
    assert [t.value for t in home.title] == ["normviz"]


def test_norms_table_lists_every_registry_entry(home):
    table = table_markdown(home)
    rows = [ln for ln in table.splitlines() if ln.startswith("| **")]
    assert len(rows) == len(NORMS)
    for row, spec in zip(rows, NORMS.values()):
        assert f"**{spec.name}**" in row
        assert spec.url in row
        assert spec.description.replace("|", "\\|") in row
    assert f"The {len(NORMS)} norms" in [h.value for h in home.subheader]


def pillar_states(at) -> dict[str, str]:
    """Pillar title -> "link" or "coming", as the page shows it."""
    states = {}
    for el in at.get("page_link"):
        states[el.proto.label.removeprefix("Open ")] = "link"
    for m in at.markdown:
        hit = re.fullmatch(r"\*\*(.+)\*\* · \*coming\*", m.value)
        if hit:
            states[hit.group(1)] = "coming"
    return states


def test_pillars_in_this_app_are_links_or_coming(home):
    states = pillar_states(home)
    assert len(states) == 5
    registered = set(nav_pages())
    from_page = {"Cube": "app_pages/cube.py", "Image lab": "app_pages/image_lab.py",
                 "Training lab": "app_pages/training_lab.py", "Transformer lab": "app_pages/transformer_lab.py",
                 "Guide": "app_pages/guide.py"}
    for title, state in states.items():
        assert state == ("link" if from_page[title] in registered else "coming"), title


def test_pillar_is_linked_only_once_registered(tmp_path):
    """A page file that exists but is not in app.py stays "coming" (no dead link)."""
    (tmp_path / "app_pages").mkdir()
    (tmp_path / "app_pages" / "home.py").write_text((ROOT / "app_pages" / "home.py").read_text())
    (tmp_path / "app_pages" / "cube.py").write_text("import streamlit as st\nst.write('cube')\n")
    (tmp_path / "app_pages" / "image_lab.py").write_text("import streamlit as st\nst.write('lab')\n")
    (tmp_path / "app.py").write_text(
        "import streamlit as st\n"
        "st.navigation([st.Page('app_pages/home.py', default=True), st.Page('app_pages/cube.py')]).run()\n"
    )
    at = AppTest.from_file(str(tmp_path / "app.py"), default_timeout=30)
    at.run()
    assert not at.exception
    assert pillar_states(at) == {"Cube": "link", "Image lab": "coming", "Training lab": "coming",
                                 "Transformer lab": "coming", "Guide": "coming"}
    link = at.get("page_link")[0].proto
    assert link.page == "cube" and link.page_script_hash


@pytest.mark.browser
def test_home_in_chromium(app_url, page):
    goto(page, app_url)
    rows = page.locator('[data-testid="stMarkdown"] table tbody tr')
    assert rows.count() == len(NORMS)
    arxiv = page.locator('table a[href^="https://arxiv.org/abs/"]')
    assert arxiv.count() == sum(1 for s in NORMS.values() if s.arxiv)
    assert page.get_by_role("heading", name="normviz").count() >= 1
    screenshot(page, "home-1280x800")
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    assert rows.count() == len(NORMS)
    screenshot(page, "home-390x844")


@pytest.mark.browser
def test_navigation_lists_every_page(app_url, page):
    goto(page, app_url)
    entries = nav_entries()
    links = page.locator('[data-testid="stSidebarNavLink"]')
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    # Streamlit shows the navigation only when there is more than one page.
    if len(entries) == 1:
        assert hrefs == []
    else:
        assert [h.rstrip("/").rsplit("/", 1)[-1] if e["url"] else "" for h, e in zip(hrefs, entries)] \
            == [e["url"] for e in entries]


@pytest.mark.browser
@pytest.mark.parametrize("entry", nav_entries(), ids=lambda e: e["url"] or "home")
def test_every_page_in_the_navigation_opens(app_url, page, entry):
    goto(page, f"{app_url}/{entry['url']}")
    main = page.locator('[data-testid="stMain"] [data-testid="stElementContainer"]')
    assert main.count() > 0, f"{entry['file']} rendered nothing"
