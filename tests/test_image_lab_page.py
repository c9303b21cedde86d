"""AppTest of app_pages/image_lab.py: every view renders; good and bad uploads together."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from page_utils import live_chart_elements, number_table
from streamlit.testing.v1 import AppTest

from app_pages._live_chart import payload

from normviz.images import lab as image_lab
from normviz.state import IMAGE_LAB_VIEWS, ImageLabState

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGE = "app_pages/image_lab.py"


def open_page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def png_bytes(colour, size=(80, 60)) -> bytes:
    b = io.BytesIO()
    Image.new("RGB", size, colour).save(b, "PNG")
    return b.getvalue()


@pytest.mark.parametrize("view", IMAGE_LAB_VIEWS)
def test_every_view_renders(view):
    at = open_page({"view": view})
    assert not at.error, [e.value for e in at.error]
    assert len(at.tabs) == 6
    text = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    expected = {"side": "**Input** (columns", "erase": "The ε effect, predicted and measured",
                "coupling": "gave this image a different output next to different batch mates",
                "stats": "Per-channel mean and standard deviation", "feature": "Reconstruction check",
                "style": "Style erasure"}[view]
    assert expected in text


def test_side_by_side_defaults_show_all_norms_and_running_stats():
    at = open_page()
    shown = [m.value for m in at.markdown if m.value.startswith("**")]
    for name in ["BatchNorm (train)", "BatchNorm (eval)", "LayerNorm", "InstanceNorm", "GroupNorm (G=3)",
                 "RMSNorm", "Batch-Instance Norm (train) (ρ=0.5)"]:
        assert any(name in s for s in shown), name
    assert any("128×128" in c.value and "N = 6" in c.value for c in at.caption)
    ref = image_lab.reference_stats()
    running = number_table(at, "Running statistics per channel")
    assert list(running)[1:] == list(image_lab.CHANNELS)
    for ch, m, v in zip(image_lab.CHANNELS, ref.mean, ref.var):
        assert [float(c) for c in running[ch]] == pytest.approx([m, v], abs=5e-5)


def test_erase_readout_numbers():
    at = open_page({"view": "erase", "a": "2", "b": "0.1", "gain_r": "1.5", "gain_g": "1", "gain_b": "0.6"})
    table = number_table(at, "Readout: max |output change| per norm")
    assert table[""] == ["norm", "change after a·x + b", "change after gains"]
    affine, gains = ({name: float(cells[i]) for name, cells in table.items() if name} for i in (0, 1))
    assert affine["InstanceNorm"] < 1e-3
    assert affine["BatchNorm (eval)"] > 0.3
    assert gains["LayerNorm"] > 0.1
    charts = live_chart_elements(at)
    assert len(charts) == 2
    spec = payload(charts[0])["figure"]
    assert spec["layout"]["yaxis"]["type"] == "log" and len(spec["data"]) == len(image_lab.VIEWS)
    assert payload(charts[1])["alt"].startswith("Each norm's output change against the strength of the colour cast")


def test_style_tables_show_the_librarys_numbers():
    at = open_page({"view": "style", "content": "2", "style": "4", "alpha": "1"})
    x = image_lab.build_batch([], list(ImageLabState().samples)).x
    gram = number_table(at, "Gram distance of the two images' features, per stage")
    assert gram[""] == ["stage", "gram distance", "off-diagonal gram distance"]
    expected = image_lab.style_distances(x, 2, 4, groups=9)
    assert [r["stage"] for r in expected] == list(gram)[1:]
    for r in expected:
        assert gram[r["stage"]] == [f"{r['gram distance']:.3f}", f"{r['off-diagonal gram distance']:.3f}"]
    moved = number_table(at, "Statistics transferred, per colour-mean channel")
    assert list(moved) == ["", "c0h0w0", "c1h0w0", "c2h0w0"]
    res = image_lab.adain_transfer(x[2], x[4], 1.0)
    for row, ch in zip(("c0h0w0", "c1h0w0", "c2h0w0"), (0, 9, 18)):
        mu_c, mu_t, mu_o, sd_c, sd_t, sd_o = map(float, moved[row])
        assert (mu_c, mu_t, sd_c, sd_t) == pytest.approx(
            (res.content_stats[0][ch], res.target_stats[0][ch], res.content_stats[1][ch], res.target_stats[1][ch]),
            abs=6e-5)
        assert mu_o == pytest.approx(mu_t, abs=1e-4)  # at α = 1 the output takes the target's mean


def test_coupling_numbers():
    at = open_page({"view": "coupling"})
    diff = {name: float(cells[0]) for name, cells in
            number_table(at, "Batch coupling: max |output in A − output in B| per norm").items() if name}
    assert diff["BatchNorm (train)"] >= 0.1
    for name in ("LayerNorm", "InstanceNorm", "GroupNorm (G=3)"):
        assert diff[name] <= 1e-12


def test_stats_csv_download():
    at = open_page({"view": "stats"})
    assert at.download_button, "CSV download"
    assert at.dataframe


def test_bad_url_values_give_notices_not_errors():
    at = open_page({"rho": "7", "view": "nonsense", "image": "40"})
    warnings = " ".join(w.value for w in at.warning)
    assert "rho" in warnings and "view" in warnings
    assert "not in the batch" in warnings
    assert not at.error


def test_empty_batch_is_explained():
    at = open_page({"samples": ""})
    assert any("batch is empty" in i.value for i in at.info)


def test_good_and_bad_uploads_together():
    at = open_page()
    bad_name = "**evil** [x](http://e) :smile: <b>.png"
    at.file_uploader[0].set_value([
        ("red.png", png_bytes((220, 20, 20)), "image/png"),
        (bad_name, png_bytes((0, 0, 255))[:60], "image/png"),  # truncated
        ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"),
        ("blue.jpg", _jpeg((20, 20, 220)), "image/jpeg"),
    ]).run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert len(errors) == 2, errors
    # names are escaped so they render as text, and the message says what is wrong
    assert any("\\*\\*evil\\*\\*" in e and "truncated" in e for e in errors), errors
    assert any("drawing\\.svg" in e and "This looks like an SVG" in e for e in errors), errors
    caps = " ".join(c.value for c in at.caption)
    assert "N = 8, 2 uploaded" in caps  # the good ones joined the six samples
    assert "red\\.png" in caps and "blue\\.jpg" in caps  # escaped, rendered as text
    shown = [m.value for m in at.markdown if m.value.startswith("**BatchNorm (train)")]
    assert shown


def _jpeg(colour) -> bytes:
    b = io.BytesIO()
    Image.fromarray(np.full((50, 70, 3), colour, np.uint8)).save(b, "JPEG")
    return b.getvalue()


def test_camera_is_off_until_asked():
    at = open_page()
    assert len(at.camera_input) == 0
    at2 = open_page({"camera": "1"})
    assert len(at2.camera_input) == 1
