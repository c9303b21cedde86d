"""Images for the image lab: robust decoding of uploads, bundled samples, batch building.

``load_image(data)`` turns the bytes of whatever a user uploads into a float32 H×W×3 array
in [0, 1]. It never holds a full-size float copy of a big image: JPEGs are decoded at a
reduced DCT scale (``Image.draft``), every other format is shrunk while still 8/16-bit
inside PIL (``Image.reduce`` + ``resize``) before it becomes a numpy float array.

Conversions (all stated in ``ImageInfo.notes`` so the page can show them):

* alpha (RGBA, LA, PA, palette transparency) is composited on a **white** background;
* greyscale is copied to the three channels; palette, CMYK, YCbCr, 1-bit become RGB;
* 16-bit integer images are divided by 65535; float images (TIFF mode F) already in
  [0, 1] are kept, otherwise their finite range is mapped linearly onto [0, 1];
* the EXIF orientation is applied; animations and multi-page files give their first frame.

Anything unreadable raises :class:`ImageError` (a ``ValueError``) with a sentence that
says what the file is and what to do instead.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

MAX_SIDE = 1024
# 130 megapixels: above every 100/108-MP camera and phone sensor, but bounded so a
# "decompression bomb" (tiny file, gigantic header) is refused before anything is decoded.
MAX_PIXELS = 130_000_000
BACKGROUND = (1.0, 1.0, 1.0)  # alpha is composited on white
BACKGROUND_NAME = "white"

# EXIF orientation tag 0x0112 -> the PIL transpose that undoes it (as ImageOps.exif_transpose).
_EXIF_ORIENTATION = 0x0112
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif")


class ImageError(ValueError):
    """An upload that cannot be turned into an image; the message says why and what to do."""


@dataclass(frozen=True)
class ImageInfo:
    """What ``load_image_info`` found and did: original size/mode/format and plain notes."""

    format: str
    mode: str
    original_size: tuple[int, int]  # (width, height) as stored in the file
    size: tuple[int, int]  # (width, height) returned, after orientation and downscaling
    frames: int = 1
    notes: tuple[str, ...] = field(default_factory=tuple)


def _sniff(data: bytes) -> str | None:
    """A specific message for common non-images, recognised by their first bytes."""
    head = data[:2048]
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"%PDF"):
        return ("This is a PDF document, not an image; export the page as a PNG or JPEG "
                "and upload that.")
    if b"<svg" in text[:2048] and (text.startswith(b"<?xml") or text.startswith(b"<svg")
                                   or text.startswith(b"<!doctype svg")):
        return "This looks like an SVG (vector drawing); upload a PNG or JPEG export of it"
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<!--")):
        return ("This is a web page (HTML), not an image; open it in a browser and save the "
                "picture itself (right-click, 'Save image as').")
    if head.startswith(b"PK\x03\x04"):
        return ("This is a ZIP archive (or a Word/Excel/PowerPoint file), not an image; "
                "unpack it and upload the PNG or JPEG inside.")
    return None


def _is_heif(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS


@lru_cache(maxsize=1)
def _register_heif() -> str | None:
    """Register pillow-heif once; returns an error text if it is unavailable."""
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except Exception as exc:  # any import/registration failure becomes a clear message
        return f"{type(exc).__name__}: {exc}"
    return None


def _target_size(w: int, h: int, max_side: int) -> tuple[int, int]:
    """(width, height) with the long side at most ``max_side``, aspect kept, each side ≥ 1."""
    long_side = max(w, h)
    if long_side <= max_side:
        return w, h
    s = max_side / long_side
    return max(1, round(w * s)), max(1, round(h * s))


def _open(data: bytes):
    """PIL image opened lazily (header only), with the bomb check applied."""
    from PIL import Image, UnidentifiedImageError

    if _is_heif(data):
        problem = _register_heif()
        if problem is not None:
            raise ImageError("This is a HEIC/HEIF photo, but the HEIC decoder (pillow-heif) "
                             f"could not start ({problem}); export it as JPEG and upload that.")
    try:
        with warnings.catch_warnings():
            # Our own limit (MAX_PIXELS) replaces PIL's global warning threshold.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ImageError("The image header claims a gigantic size (a possible 'decompression "
                         f"bomb'); refusing to decode it. Images up to {MAX_PIXELS / 1e6:.0f} "
                         "megapixels are accepted.") from exc
    except UnidentifiedImageError as exc:
        hint = "first bytes: " + repr(data[:8])
        if _is_heif(data):
            raise ImageError("This HEIC/HEIF photo could not be opened; export it as JPEG "
                             "and upload that.") from exc
        raise ImageError("This file is not an image format I can read (" + hint + "). "
                         "Upload a PNG, JPEG, WebP, BMP, TIFF, GIF or HEIC file.") from exc
    except Exception as exc:  # PIL raises assorted errors on mangled headers
        raise ImageError(f"The image header is damaged ({type(exc).__name__}: {exc}); "
                         "re-export the image and upload it again.") from exc
    w, h = im.size
    if w < 1 or h < 1:
        raise ImageError(f"The image has an empty size ({w}×{h} pixels).")
    if w * h > MAX_PIXELS:
        raise ImageError(f"The image is {w}×{h} = {w * h / 1e6:.0f} megapixels, above the "
                         f"limit of {MAX_PIXELS / 1e6:.0f} megapixels (a guard against "
                         "'decompression bombs' too); downscale it before uploading.")
    return im


# Modes PIL can resize/reduce directly, and what the others become first.
_MODE_MAP = {"1": "L", "CMYK": "RGB", "YCbCr": "RGB", "LAB": "RGB", "HSV": "RGB",
             "LA": "RGBA", "La": "RGBA", "RGBa": "RGBA", "PA": "RGBA", "RGBX": "RGB",
             "I;16": "I", "I;16L": "I", "I;16B": "I", "I;16N": "I"}


def load_image_info(data: bytes, *, max_side: int = MAX_SIDE) -> tuple[np.ndarray, ImageInfo]:
    """Decode ``data`` as :func:`load_image` does and also say what was converted.

    Returns:
        (image, info): image float32 (H, W, 3) in [0, 1]; info an :class:`ImageInfo`.
    """
    from PIL import Image

    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ImageError(f"load_image needs the file's bytes, got {type(data).__name__}.")
    data = bytes(data)
    if max_side < 1:
        raise ValueError(f"max_side must be at least 1, got {max_side}.")
    if len(data) == 0:
        raise ImageError("The file is empty (0 bytes); upload it again.")
    sniffed = _sniff(data)
    if sniffed is not None:
        raise ImageError(sniffed)

    im = _open(data)
    fmt = im.format or "unknown"
    src_mode = im.mode
    w0, h0 = im.size
    notes: list[str] = []
    frames = int(getattr(im, "n_frames", 1) or 1)
    if frames > 1:
        im.seek(0)
        notes.append(f"first frame of {frames} used")
    orientation = 1
    try:
        orientation = int(im.getexif().get(_EXIF_ORIENTATION, 1) or 1)
    except Exception:  # a broken EXIF block must not stop the image itself
        notes.append("EXIF block unreadable; orientation not applied")
    target = _target_size(w0, h0, max_side)
    if fmt == "JPEG" and target != (w0, h0):
        # Decode at 1/2, 1/4 or 1/8 scale directly from the DCT: a 100-MP JPEG never
        # exists at full size in memory.
        im.draft(im.mode, target)
    try:
        im.load()
    except Exception as exc:
        what = "truncated" if "truncated" in str(exc).lower() else "damaged"
        raise ImageError(f"The {fmt} file is {what} and cannot be decoded ({exc}); "
                         "re-download or re-export it.") from exc

    mode = im.mode
    if mode == "P":
        mode_to = "RGBA" if "transparency" in im.info else "RGB"
        im = im.convert(mode_to)
    elif mode in _MODE_MAP:
        if src_mode == "CMYK" or mode == "CMYK":
            notes.append("CMYK converted to RGB (no colour profile applied)")
        im = im.convert(_MODE_MAP[mode])
    elif mode not in ("L", "RGB", "RGBA", "I", "F"):
        try:
            im = im.convert("RGB")
        except Exception as exc:
            raise ImageError(f"Colour mode {mode!r} is not supported; save the image as an "
                             "8-bit RGB PNG or JPEG.") from exc

    # Shrink inside PIL (integer/8-bit), then convert the small result to float.
    if max(im.size) > max(target):
        factor = min(im.size[0] // target[0], im.size[1] // target[1])
        if factor >= 2 and im.mode in ("L", "RGB", "RGBA", "I", "F"):
            im = im.reduce(factor)  # box average: fast and gentle on memory
        resample = Image.Resampling.LANCZOS if im.mode in ("L", "RGB", "RGBA") else Image.Resampling.BILINEAR
        im = im.resize(target, resample)
    elif im.size != target:
        im = im.resize(target, Image.Resampling.LANCZOS)
    if (w0, h0) != target:
        notes.append(f"downscaled from {w0}×{h0} to {target[0]}×{target[1]} "
                     f"(long side at most {max_side})")

    if orientation in (2, 3, 4, 5, 6, 7, 8):
        method = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
                  4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
                  6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
                  8: Image.Transpose.ROTATE_90}[orientation]
        im = im.transpose(method)
        notes.append(f"EXIF orientation {orientation} applied")

    out = _to_float_rgb(im, src_mode, notes)
    info = ImageInfo(format=fmt, mode=src_mode, original_size=(w0, h0),
                     size=(out.shape[1], out.shape[0]), frames=frames, notes=tuple(notes))
    return out, info


def _to_float_rgb(im, src_mode: str, notes: list[str]) -> np.ndarray:
    """Small PIL image -> float32 (H, W, 3) in [0, 1]."""
    mode = im.mode
    if mode == "RGB":
        return np.asarray(im, dtype=np.float32) / np.float32(255)
    if mode == "L":
        g = np.asarray(im, dtype=np.float32) / np.float32(255)
        notes.append("greyscale copied to R, G and B")
        return np.repeat(g[:, :, None], 3, axis=2)
    if mode == "RGBA":
        a = np.asarray(im, dtype=np.float32) / np.float32(255)
        alpha = a[:, :, 3:4]
        if float(alpha.min()) < 1.0:
            notes.append(f"transparency composited on a {BACKGROUND_NAME} background")
        bg = np.asarray(BACKGROUND, dtype=np.float32)
        return np.ascontiguousarray(a[:, :, :3] * alpha + bg * (1 - alpha), dtype=np.float32)
    if mode in ("I", "F"):
        v = np.asarray(im, dtype=np.float64)
        finite = np.isfinite(v)
        if not finite.all():
            notes.append(f"{int((~finite).sum())} non-finite values set to the minimum")
        if not finite.any():
            raise ImageError("The image contains no finite values (all NaN or infinite).")
        lo, hi = float(v[finite].min()), float(v[finite].max())
        v = np.where(finite, v, lo)
        if mode == "I" and src_mode.startswith("I;16"):
            v = v / 65535.0
            notes.append("16-bit values divided by 65535")
        elif mode == "F" and lo >= 0.0 and hi <= 1.0:
            notes.append("float values already in [0, 1], kept")
        else:
            span = hi - lo
            v = (v - lo) / span if span > 0 else np.zeros_like(v)
            notes.append(f"{'float' if mode == 'F' else 'integer'} values in [{lo:.4g}, {hi:.4g}] "
                         "mapped linearly onto [0, 1]")
        g = np.clip(v, 0.0, 1.0).astype(np.float32)
        return np.repeat(g[:, :, None], 3, axis=2)
    raise ImageError(f"Colour mode {mode!r} is not supported; save the image as an 8-bit "
                     "RGB PNG or JPEG.")


def load_image(data: bytes, *, max_side: int = MAX_SIDE) -> np.ndarray:
    """Decode an uploaded file into a float32 RGB image in [0, 1].

    .. math::  x = \\text{decode}(\\text{bytes}) / (2^{\\text{bits}} - 1)

    EXIF orientation applied; alpha composited on white; grey/palette/CMYK/16-bit/float
    converted (see the module docstring); first frame of animations and multi-page files;
    downscaled so the long side is at most ``max_side`` without a full-size float copy.

    Shape:
        bytes -> (H, W, 3) float32, max(H, W) <= max_side.

    Raises:
        ImageError: empty, truncated or damaged files, non-images (PDF, HTML, SVG, ZIP),
        headers above ``MAX_PIXELS`` (decompression bombs), HEIC without a decoder.
    """
    return load_image_info(data, max_side=max_side)[0]


# --------------------------------------------------------------------------- samples

def _sklearn_sample(name: str) -> np.ndarray:
    from sklearn.datasets import load_sample_image  # lazy: sklearn is heavy

    return np.asarray(load_sample_image(name), dtype=np.float32) / np.float32(255)


def _gradient(h: int = 256, w: int = 384) -> np.ndarray:
    """Horizontal red ramp, vertical green ramp, constant blue 0.5."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.stack([xx / (w - 1), yy / (h - 1), np.full((h, w), 0.5, np.float32)], axis=2)


def _checkerboard(h: int = 256, w: int = 384, cell: int = 32) -> np.ndarray:
    """Dark blue / light orange squares of ``cell`` pixels."""
    yy, xx = np.mgrid[0:h, 0:w]
    on = ((yy // cell + xx // cell) % 2).astype(bool)
    light = np.array([0.95, 0.75, 0.35], np.float32)
    dark = np.array([0.10, 0.15, 0.40], np.float32)
    return np.where(on[:, :, None], light, dark).astype(np.float32)


COLOUR_CAST_GAINS = (1.25, 0.95, 0.6)  # warm cast: more red, less blue
LOW_CONTRAST = (0.3, 0.35)  # x -> 0.3·x + 0.35


@lru_cache(maxsize=1)
def _samples_cached() -> tuple[tuple[str, np.ndarray], ...]:
    china = _sklearn_sample("china.jpg")
    flower = _sklearn_sample("flower.jpg")
    cast = np.clip(china * np.asarray(COLOUR_CAST_GAINS, np.float32), 0, 1)
    low = flower * np.float32(LOW_CONTRAST[0]) + np.float32(LOW_CONTRAST[1])
    items = (("china", china), ("flower", flower), ("gradient", _gradient()),
             ("checkerboard", _checkerboard()), ("china_cast", cast.astype(np.float32)),
             ("flower_low_contrast", low.astype(np.float32)))
    for _, arr in items:
        arr.setflags(write=False)
    return items


SAMPLE_LABELS = {
    "china": "China (sklearn sample)",
    "flower": "Flower (sklearn sample)",
    "gradient": "Gradient (generated)",
    "checkerboard": "Checkerboard (generated)",
    "china_cast": "China with a warm colour cast (gains 1.25, 0.95, 0.6, clipped)",
    "flower_low_contrast": "Flower at low contrast (0.3·x + 0.35)",
}


def samples() -> dict[str, np.ndarray]:
    """The bundled images: name -> float32 (H, W, 3) in [0, 1] (read-only arrays).

    china, flower: scikit-learn's ``load_sample_image`` (427×640, no download);
    gradient, checkerboard: generated 256×384; china_cast: china × per-channel gains
    ``COLOUR_CAST_GAINS`` (clipped to [0, 1]); flower_low_contrast: ``0.3·flower + 0.35``.
    """
    return dict(_samples_cached())


# --------------------------------------------------------------------------- transforms

BATCH_SIDE = 128


def square_crop_resize(img: np.ndarray, side: int = BATCH_SIDE) -> np.ndarray:
    """Centre-crop the largest square, then resize it to ``side``×``side`` (antialiased).

    Equivalent to "resize the short side to ``side``, centre-crop", but cropping first keeps
    a 1×5000 strip from being blown up to 128×640000 on the way.

    Shape:
        (H, W, 3) -> (side, side, 3) float32
    """
    from PIL import Image

    img = np.asarray(img, dtype=np.float32)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"Expected an H×W×3 image, got shape {img.shape}.")
    h, w = img.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    crop = img[top:top + s, left:left + s]
    if s == side:
        return np.ascontiguousarray(crop)
    # Resize each channel as a 32-bit float PIL image: no 8-bit rounding.
    chans = [np.asarray(Image.fromarray(np.ascontiguousarray(crop[:, :, c]), mode="F")
                        .resize((side, side), Image.Resampling.BILINEAR if s < side
                                else Image.Resampling.LANCZOS), dtype=np.float32)
             for c in range(3)]
    return np.stack(chans, axis=2)


def to_nchw(images: list[np.ndarray] | tuple[np.ndarray, ...], dtype=np.float64) -> np.ndarray:
    """Stack equally sized H×W×3 images into an N×3×H×W array.

    Shape:
        N × (H, W, 3) -> (N, 3, H, W)
    """
    return np.stack([np.asarray(im, dtype=dtype).transpose(2, 0, 1) for im in images])


def to_hwc(x: np.ndarray) -> np.ndarray:
    """(3, H, W) or (N, 3, H, W) -> (H, W, 3) or (N, H, W, 3)."""
    return np.moveaxis(x, -3, -1)


def affine(x: np.ndarray, a: float = 1.0, b: float = 0.0, *, clip: bool = False) -> np.ndarray:
    """Global contrast/brightness change ``a·x + b`` (optionally clipped to [0, 1])."""
    y = a * np.asarray(x) + b
    return np.clip(y, 0.0, 1.0) if clip else y


def channel_gains(x: np.ndarray, gains, *, clip: bool = False, channel_axis: int = -1) -> np.ndarray:
    """Per-channel colour cast ``a_c·x_c`` (optionally clipped to [0, 1])."""
    x = np.asarray(x)
    g = np.asarray(gains, dtype=x.dtype if x.dtype.kind == "f" else np.float64)
    if g.shape != (x.shape[channel_axis],):
        raise ValueError(f"Need one gain per channel ({x.shape[channel_axis]}), got {g.shape}.")
    shape = [1] * x.ndim
    shape[channel_axis] = -1
    y = x * g.reshape(shape)
    return np.clip(y, 0.0, 1.0) if clip else y


DISPLAY_RANGE = 3.0


def display(x_hat: np.ndarray, limit: float = DISPLAY_RANGE) -> np.ndarray:
    """The one fixed display mapping for normalized outputs: clip to [-limit, limit], map to [0, 1].

    Never stretched per image: a stretch would make every output look "normalized" and fake
    IN's invariance. 0 maps to mid-grey 0.5.
    """
    return (np.clip(x_hat, -limit, limit) + limit) / (2 * limit)


def to_uint8(img01: np.ndarray) -> np.ndarray:
    """[0, 1] float image -> uint8 for display."""
    return np.round(np.clip(img01, 0.0, 1.0) * 255).astype(np.uint8)
