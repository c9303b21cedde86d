"""Chromium: upload a real photo file through the file input, see the outputs and the readout."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from browser_utils import assert_no_exception, draw_every_chart, goto, screenshot, wait_for_app


def _photo(path):
    """A 1024×768 JPEG with structure and a colour cast, plus an EXIF orientation tag."""
    yy, xx = np.mgrid[0:768, 0:1024]
    r = 0.5 + 0.4 * np.sin(xx / 37.0) * np.cos(yy / 23.0)
    g = 0.4 + 0.3 * ((xx // 64 + yy // 64) % 2)
    b = 0.3 + 0.2 * yy / 768
    arr = (np.clip(np.stack([r, g, b], axis=2), 0, 1) * 255).astype(np.uint8)
    Image.fromarray(arr).save(path, "JPEG", quality=90)
    return path


@pytest.mark.browser
def test_upload_photo_and_read_the_readout(app_url, page, tmp_path):
    photo = _photo(tmp_path / "my photo.jpg")
    bad = tmp_path / "notes.svg"
    bad.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>')
    goto(page, f"{app_url}/image_lab")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files([str(photo), str(bad)])
    page.wait_for_timeout(500)
    wait_for_app(page)
    assert_no_exception(page)
    body = page.locator('[data-testid="stMain"]')
    # the good file joined the batch, the bad one has its own message naming it
    page.get_by_text("N = 7, 1 uploaded", exact=False).wait_for(timeout=30000)
    err = page.get_by_test_id("stAlertContentError")
    assert err.count() == 1
    assert "notes.svg could not be used" in err.inner_text()
    assert "This looks like an SVG" in err.inner_text()
    # side-by-side outputs
    for name in ("BatchNorm (train)", "InstanceNorm", "LayerNorm"):
        assert body.get_by_text(name, exact=False).count() >= 1
    assert page.get_by_test_id("stImage").count() >= 9
    screenshot(page, "image_lab_upload_side_by_side")

    # the erasure readout for the uploaded image (image 0), via the tab; the URL follows
    page.get_by_role("tab", name="What each norm erases").click()
    page.wait_for_timeout(300)
    wait_for_app(page)
    assert_no_exception(page)
    page.get_by_text("The ε effect, predicted and measured", exact=False).wait_for(timeout=30000)
    assert "view=erase" in page.url
    readout = page.get_by_role("region", name="Readout: max |output change| per norm")
    table = readout.inner_text()
    assert "InstanceNorm" in table and "BatchNorm (eval)" in table
    assert draw_every_chart(page) == 2
    readout.scroll_into_view_if_needed()
    screenshot(page, "image_lab_upload_erase")


@pytest.mark.browser
def test_the_adain_tables_scroll_in_their_own_box_on_a_phone(app_url, browser):
    """kit.number_table: on a 390 px screen the 7-column table is wider than the page; its box
    scrolls sideways (and takes keyboard focus), and the page itself does not."""
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = ctx.new_page()
        goto(page, f"{app_url}/image_lab?view=style")
        box = page.get_by_role("region", name="Statistics transferred, per colour-mean channel")
        box.scroll_into_view_if_needed()
        sizes = box.evaluate("""b => { const around = b.closest('[data-testid=stElementContainer]');
            return {scroll: b.scrollWidth, client: b.clientWidth, around: around.scrollWidth,
                    room: around.clientWidth}; }""")
        assert sizes["scroll"] > sizes["client"], sizes  # wider than the screen: it scrolls
        assert sizes["around"] <= sizes["room"] + 1, sizes  # and nothing around it spills over
        box.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("b => b.scrollLeft > 0", arg=box.element_handle(), timeout=5000)
        assert "c0h0w0" in box.inner_text() and "σ output" in box.inner_text()
        screenshot(page, "image_lab_style_table_390", full_page=False)
    finally:
        ctx.close()
