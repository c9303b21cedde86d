"""Two students on one server never see each other's uploads or runs.

Streamlit shares everything cached with st.cache_data / st.cache_resource between sessions,
and the training service is one per server (runs with the same config are computed once and
shared on purpose). What must stay private is what each session made: its uploaded images and
its list of runs. Two browser contexts are two students.
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from browser_utils import goto, wait_for_app

pytestmark = pytest.mark.browser


def _photo(path):
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((96, 128, 3)) * 255).astype(np.uint8)).save(path, "PNG")
    return path


def test_uploads_and_runs_stay_in_their_session(app_url, browser, tmp_path):
    alice = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    bob = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    try:
        goto(alice, f"{app_url}/image_lab")
        alice.get_by_test_id("stFileUploaderDropzoneInput").set_input_files([str(_photo(tmp_path / "alice_secret.png"))])
        alice.get_by_text("N = 7, 1 uploaded", exact=False).wait_for(timeout=30000)
        assert alice.get_by_text("alice_secret", exact=False).count() >= 1

        goto(bob, f"{app_url}/image_lab")
        main = bob.locator('[data-testid="stMain"]')
        assert "0 uploaded" in main.inner_text() and "alice_secret" not in main.inner_text()

        # Alice starts a short run; Bob's training lab has none.
        goto(alice, f"{app_url}/training?preset=bn_fig1&steps=30")
        alice.get_by_role("button", name="Run", exact=True).click()
        alice.get_by_text("step 30 / 30").first.wait_for(timeout=120000)
        goto(bob, f"{app_url}/training?preset=bn_fig1&steps=30")
        wait_for_app(bob)
        bob_text = bob.locator('[data-testid="stMain"]').inner_text()
        assert "Nothing has run yet" in bob_text and "step 30 / 30" not in bob_text
    finally:
        alice.context.close()
        bob.context.close()
