"""Screenshot every page at desktop and phone sizes, for a person to look at.

    .venv/bin/python scripts/screenshots.py [page-path ...]

Starts the app on a free port, opens each page in Debian's Chromium at 1280x800 and 390x844,
and writes full-page PNGs to artifacts/screenshots/all-<page>-<size>.png.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser_utils import goto, screenshot  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, start_streamlit, stop_streamlit  # noqa: E402

PAGES = ["", "cube", "image_lab", "training", "experiments", "guide", "glossary"]
SIZES = [(1280, 800), (390, 844)]


def main(pages: list[str]) -> None:
    proc, url, log = start_streamlit("app.py")
    print("server log:", log)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for w, h in SIZES:
                ctx = browser.new_context(viewport={"width": w, "height": h})
                page = ctx.new_page()
                for p in pages:
                    print("opening", p or "home", w, flush=True)
                    goto(page, f"{url}/{p}")
                    page.wait_for_timeout(1500)  # let plotly finish drawing
                    print(screenshot(page, f"all-{p or 'home'}-{w}x{h}"))
                ctx.close()
            browser.close()
    finally:
        stop_streamlit(proc)


if __name__ == "__main__":
    main(sys.argv[1:] or PAGES)
