"""What the tests of the two run labs (training lab, transformer lab) share: opening the page in
AppTest, reading its live charts, ticking it until its runs end, and a deep link in Chromium."""
from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest

import page_utils
from app_pages._live_chart import payload


def open_lab(page_file: str, **params) -> AppTest:
    """The page ``app_pages/<page_file>`` run once with these URL parameters."""
    return page_utils.open_page(page_file, timeout=90, **params)


def live_charts(at) -> list[dict]:
    """The figures of the page's live_chart elements (app_pages/_live_chart), in page order."""
    return [payload(el)["figure"] for el in page_utils.live_chart_elements(at)]


def run_to_end(at, prefix: str, timeout: float = 240.0, poll: float = 0.2) -> AppTest:
    """Tick the page (each run polls the training service) until the lab's runs have ended."""
    deadline = time.monotonic() + timeout
    while at.session_state[f"{prefix}:running"] and time.monotonic() < deadline:
        time.sleep(poll)
        at.run()
    assert not at.session_state[f"{prefix}:running"], "runs did not finish"
    return at


def open_link(page, url: str) -> None:
    """Open a deep link in Chromium and wait for the app.

    A fresh server can answer the very first deep link with a "Page not found" dialog before
    st.navigation has registered the pages; the link is opened again if it does."""
    from browser_utils import assert_no_exception, wait_for_app

    for _ in range(2):
        page.goto(url, wait_until="domcontentloaded", timeout=60000)
        wait_for_app(page)
        if page.get_by_text("Page not found").count() == 0:
            break
    assert_no_exception(page)


def wait_for_runs_to_end(page, timeout: float = 120000) -> None:
    """Wait until the lab's runs have ended: its Run button is enabled again (the page rerun that
    stops the live fragment), the app is idle, and it shows no exception."""
    from browser_utils import assert_no_exception, wait_for_app

    page.wait_for_function(
        "() => [...document.querySelectorAll('button')].some(b => b.innerText.trim().endsWith('Run') && !b.disabled)",
        timeout=timeout)
    wait_for_app(page)
    assert_no_exception(page)
