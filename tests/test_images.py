"""load_image on every kind of file users upload, built here; samples; batch transforms."""
from __future__ import annotations

import io
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from normviz.images import load as images
from normviz.images import ImageError, load_image, load_image_info

ROOT = Path(__file__).resolve().parent.parent


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


def rgb_image(w=40, h=30, seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")


def check_ok(x: np.ndarray, h: int, w: int) -> None:
    assert x.dtype == np.float32
    assert x.shape == (h, w, 3)
    assert np.isfinite(x).all() and x.min() >= 0.0 and x.max() <= 1.0


# ----------------------------------------------------------------- ordinary formats

@pytest.mark.parametrize("fmt,kw", [("PNG", {}), ("BMP", {}), ("TIFF", {}), ("WEBP", {"lossless": True}),
                                    ("PPM", {})])
def test_lossless_formats_round_trip(fmt, kw):
    im = rgb_image()
    x = load_image(encode(im, fmt, **kw))
    check_ok(x, 30, 40)
    np.testing.assert_allclose(x, np.asarray(im) / 255, atol=1e-6)


def test_jpeg_is_close_to_source():
    im = Image.new("RGB", (64, 48), (200, 30, 40))
    x = load_image(encode(im, "JPEG", quality=95))
    check_ok(x, 48, 64)
    np.testing.assert_allclose(x[24, 32], np.array([200, 30, 40]) / 255, atol=0.03)


def test_heic_opens_through_pillow_heif():
    import pillow_heif

    pillow_heif.register_heif_opener()
    data = encode(Image.new("RGB", (64, 48), (200, 30, 40)), "HEIF", quality=90)
    assert data[4:12] == b"ftypheic"
    x, info = load_image_info(data)
    check_ok(x, 48, 64)
    assert info.format == "HEIF"
    np.testing.assert_allclose(x[24, 32], np.array([200, 30, 40]) / 255, atol=0.04)


def test_broken_heic_has_a_clear_message():
    with pytest.raises(ImageError, match="HEIC/HEIF photo could not be opened"):
        load_image(b"\x00\x00\x00\x1cftypheic" + b"\x00" * 30)


def test_greyscale_is_copied_to_three_channels():
    g = np.arange(0, 240, 2, dtype=np.uint8).reshape(10, 12)
    x, info = load_image_info(encode(Image.fromarray(g, "L"), "PNG"))
    check_ok(x, 10, 12)
    np.testing.assert_allclose(x[..., 0], g / 255, atol=1e-6)
    assert np.array_equal(x[..., 0], x[..., 2])
    assert any("greyscale" in n for n in info.notes)


def test_one_bit_image():
    im = Image.fromarray(np.eye(8, dtype=bool)).convert("1")
    x = load_image(encode(im, "PNG"))
    check_ok(x, 8, 8)
    assert x[3, 3, 0] == 1.0 and x[3, 4, 0] == 0.0


def test_rgba_is_composited_on_white():
    a = np.zeros((4, 6, 4), np.uint8)
    a[..., 0] = 255  # red everywhere
    a[0, :, 3] = 0  # row 0 transparent
    a[1, :, 3] = 128  # row 1 half
    a[2:, :, 3] = 255
    x, info = load_image_info(encode(Image.fromarray(a, "RGBA"), "PNG"))
    check_ok(x, 4, 6)
    np.testing.assert_allclose(x[0, 0], images.BACKGROUND, atol=1e-6)
    np.testing.assert_allclose(x[1, 0], [1.0, 1 - 128 / 255, 1 - 128 / 255], atol=1e-6)
    np.testing.assert_allclose(x[3, 0], [1.0, 0.0, 0.0], atol=1e-6)
    assert any("white" in n for n in info.notes)


def test_la_grey_with_alpha():
    a = np.zeros((3, 3, 2), np.uint8)
    a[..., 0] = 0
    a[..., 1] = 0  # fully transparent black -> white
    x = load_image(encode(Image.fromarray(a, "LA"), "PNG"))
    np.testing.assert_allclose(x, 1.0)


def test_palette_with_transparency():
    im = Image.new("P", (5, 5), 1)
    im.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    im.putpixel((0, 0), 0)
    im.info["transparency"] = 0
    x = load_image(encode(im, "PNG", transparency=0))
    np.testing.assert_allclose(x[0, 0], 1.0)  # transparent index 0 -> white
    np.testing.assert_allclose(x[2, 2], np.array([10, 200, 30]) / 255, atol=1e-6)


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_cmyk_becomes_rgb(fmt):
    im = Image.new("CMYK", (16, 8), (0, 255, 255, 0))  # pure red in CMYK
    x, info = load_image_info(encode(im, fmt))
    check_ok(x, 8, 16)
    assert x[4, 8, 0] > 0.9 and x[4, 8, 1] < 0.1 and x[4, 8, 2] < 0.1
    assert any("CMYK" in n for n in info.notes)


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_16_bit_divided_by_65535(fmt):
    a = (np.arange(60 * 40).reshape(40, 60) * 27).astype(np.uint16)
    x, info = load_image_info(encode(Image.fromarray(a), fmt))
    check_ok(x, 40, 60)
    np.testing.assert_allclose(x[..., 1], a / 65535, atol=1e-6)
    assert "16-bit values divided by 65535" in info.notes


def test_float_tiff_in_unit_range_is_kept():
    f = np.linspace(0, 1, 20 * 30, dtype=np.float32).reshape(20, 30)
    x, info = load_image_info(encode(Image.fromarray(f, "F"), "TIFF"))
    np.testing.assert_allclose(x[..., 0], f, atol=1e-7)
    assert "float values already in [0, 1], kept" in info.notes


def test_float_tiff_out_of_range_is_mapped_and_nan_handled():
    f = np.linspace(-2, 6, 20 * 30, dtype=np.float32).reshape(20, 30)
    f[0, 0] = np.nan
    x, info = load_image_info(encode(Image.fromarray(f, "F"), "TIFF"))
    check_ok(x, 20, 30)
    assert x[0, 0, 0] == 0.0 and x[-1, -1, 0] == 1.0
    lo, hi = np.nanmin(f), np.nanmax(f)  # the finite range, NaN excluded
    np.testing.assert_allclose(x[10, 10, 0], (f[10, 10] - lo) / (hi - lo), atol=1e-6)
    assert any("mapped linearly" in n for n in info.notes)
    assert any("non-finite" in n for n in info.notes)


def test_animated_gif_gives_first_frame():
    frames = [Image.new("RGB", (10, 10), c) for c in [(255, 0, 0), (0, 0, 255), (0, 255, 0)]]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)
    x, info = load_image_info(data)
    check_ok(x, 10, 10)
    np.testing.assert_allclose(x[5, 5], [1, 0, 0], atol=1e-6)
    assert info.frames == 3 and "first frame of 3 used" in info.notes


def test_multipage_tiff_gives_first_page():
    pages = [Image.new("RGB", (12, 7), c) for c in [(0, 255, 0), (255, 0, 0)]]
    data = encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])
    x = load_image(data)
    check_ok(x, 7, 12)
    np.testing.assert_allclose(x[3, 3], [0, 1, 0], atol=1e-6)


@pytest.mark.parametrize("orientation,shape,red_at", [
    (1, (10, 20), (0, 0)), (3, (10, 20), (9, 19)), (6, (20, 10), (0, 9)), (8, (20, 10), (19, 0)),
])
def test_exif_orientation_applied(orientation, shape, red_at):
    a = np.zeros((10, 20, 3), np.uint8)
    a[0, 0] = (255, 0, 0)  # a red marker top-left in storage order
    im = Image.fromarray(a, "RGB")
    exif = Image.Exif()
    exif[0x0112] = orientation
    x = load_image(encode(im, "PNG", exif=exif))
    assert x.shape[:2] == shape
    r = np.unravel_index(np.argmax(x[..., 0]), x.shape[:2])
    assert tuple(int(v) for v in r) == red_at
    # also as JPEG with a downscale (orientation read before the draft decode)
    big = im.resize((400, 200), Image.Resampling.NEAREST)
    y = load_image(encode(big, "JPEG", exif=exif, quality=95), max_side=40)
    assert y.shape[:2] == ((20, 40) if orientation in (1, 3) else (40, 20))


@pytest.mark.parametrize("w,h", [(1, 1), (1, 5000), (5000, 1), (2, 3)])
def test_tiny_and_thin_images(w, h):
    x = load_image(encode(Image.new("RGB", (w, h), (10, 20, 30)), "PNG"))
    assert max(x.shape[:2]) <= images.MAX_SIDE and min(x.shape[:2]) >= 1
    check_ok(x, *x.shape[:2])
    np.testing.assert_allclose(x[0, 0], np.array([10, 20, 30]) / 255, atol=2e-3)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_downscaled_to_max_side(fmt):
    im = Image.linear_gradient("L").resize((3000, 2000)).convert("RGB")
    x, info = load_image_info(encode(im, fmt), max_side=512)
    check_ok(x, 341, 512)
    assert info.original_size == (3000, 2000)
    assert any("downscaled from 3000×2000" in n for n in info.notes)
    # the vertical ramp survives the downscale
    assert x[0, 256, 0] < 0.05 and x[-1, 256, 0] > 0.95


# ----------------------------------------------------------------- failures

def _png_header_only(w: int, h: int) -> bytes:
    """A syntactically valid PNG whose IHDR claims w×h but holds almost no data (a 'bomb')."""
    def chunk(kind, payload):
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b""))


def _truncated(fmt: str) -> bytes:
    data = encode(rgb_image(200, 150), fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return data[: len(data) // 2]


@pytest.mark.parametrize("data,message", [
    (b"", "The file is empty"),
    (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "This is a PDF document"),
    (b"<!DOCTYPE html><html><body><img src='x.png'></body></html>", "web page (HTML)"),
    (b"<html><head></head></html>", "web page (HTML)"),
    (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
     "This looks like an SVG (vector drawing); upload a PNG or JPEG export of it"),
    (b'\xef\xbb\xbf<svg xmlns="http://www.w3.org/2000/svg"></svg>', "This looks like an SVG"),
    (b"PK\x03\x04" + b"\x00" * 40, "ZIP archive"),
    (b"hello, this is just some text\n" * 5, "not an image format I can read"),
    (bytes(range(256)) * 4, "not an image format I can read"),
    (_png_header_only(12000, 12000), "144 megapixels, above the limit of 130 megapixels"),
    (_png_header_only(20000, 20000), "decompression bomb"),
    (_png_header_only(12000, 100), "truncated"),
    (_truncated("PNG"), "truncated"),
    (_truncated("JPEG"), "truncated"),
    (encode(rgb_image(), "PNG")[:30], "PNG"),
])
def test_bad_files_raise_clear_image_errors(data, message):
    with pytest.raises(ImageError, match=None) as err:
        load_image(data)
    assert message in str(err.value), str(err.value)
    assert isinstance(err.value, ValueError)


def test_not_bytes_is_an_image_error():
    with pytest.raises(ImageError, match="needs the file's bytes"):
        load_image("photo.png")  # type: ignore[arg-type]


# ----------------------------------------------------------------- memory on 100 MP

_MEASURE = textwrap.dedent("""
    import resource, sys
    from normviz.images import load_image
    import PIL.JpegImagePlugin, PIL.PngImagePlugin  # imported before the baseline
    data = open(sys.argv[1], "rb").read()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    x = load_image(data)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(x.shape[0], x.shape[1], (peak - base) / 1024)
""")


@pytest.mark.parametrize("fmt,bound_mb", [
    # JPEG: decoded at 1/8 scale by Image.draft -> ~1.6 MP inside PIL; a full-size float32
    # copy alone would be 1200 MB, a full-size 8-bit RGB decode 400 MB. Measured ≈ 16 MB.
    ("JPEG", 120),
    # PNG has no reduced-scale decode: PIL holds the 8-bit image (1 byte/pixel for grey,
    # 100 MB), then reduces it in place. Measured ≈ 96 MB; a float64 copy would be 2400 MB.
    ("PNG", 250),
])
def test_peak_memory_on_100_megapixels_is_bounded(tmp_path, fmt, bound_mb):
    w, h = 12240, 8160  # 99.9 MP, a 100-MP camera frame
    im = Image.linear_gradient("L").resize((w, h))
    path = tmp_path / f"big.{fmt.lower()}"
    if fmt == "JPEG":
        im.convert("RGB").save(path, "JPEG", quality=70)
    else:
        im.save(path, "PNG", compress_level=1)
    del im
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], cwd=ROOT, check=True,
                         capture_output=True, text=True, timeout=120).stdout.split()
    hh, ww, extra_mb = int(out[0]), int(out[1]), float(out[2])
    assert (hh, ww) == (683, 1024)
    assert extra_mb < bound_mb, f"{fmt}: {extra_mb:.0f} MB extra peak RSS for 100 MP"


# ----------------------------------------------------------------- samples & transforms

def test_samples_are_the_stated_six():
    s = images.samples()
    assert list(s) == ["china", "flower", "gradient", "checkerboard", "china_cast", "flower_low_contrast"]
    for name, img in s.items():
        check_ok(img, *img.shape[:2])
        assert name in images.SAMPLE_LABELS
    assert s["flower_low_contrast"].std() < 0.35 * s["flower"].std() + 1e-6
    ratio = s["china_cast"].mean(axis=(0, 1)) / s["china"].mean(axis=(0, 1))
    assert ratio[0] > 1.05 and ratio[2] < 0.7


@pytest.mark.parametrize("h,w", [(427, 640), (640, 427), (1, 5000), (3, 3), (128, 128)])
def test_square_crop_resize(h, w):
    img = np.random.default_rng(0).random((h, w, 3), dtype=np.float32)
    out = images.square_crop_resize(img, 32)
    assert out.shape == (32, 32, 3) and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1


def test_square_crop_is_centred():
    img = np.zeros((10, 30, 3), np.float32)
    img[:, 10:20] = 1.0  # the central square is white, the sides black
    np.testing.assert_allclose(images.square_crop_resize(img, 10), 1.0)


def test_display_mapping_is_fixed():
    x = np.array([-5.0, -3.0, 0.0, 1.5, 3.0, 7.0])
    np.testing.assert_allclose(images.display(x), [0, 0, 0.5, 0.75, 1, 1])


def test_affine_and_gains():
    x = np.full((2, 2, 3), 0.5)
    np.testing.assert_allclose(images.affine(x, 3.0, 0.2), 1.7)
    np.testing.assert_allclose(images.affine(x, 3.0, 0.2, clip=True), 1.0)
    y = images.channel_gains(x, (2.0, 1.0, 0.5))
    np.testing.assert_allclose(y[0, 0], [1.0, 0.5, 0.25])
    with pytest.raises(ValueError, match="one gain per channel"):
        images.channel_gains(x, (1.0, 2.0))
