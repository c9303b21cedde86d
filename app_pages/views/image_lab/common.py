"""What every image-lab view shares: the context it gets, the cached pure steps, small drawing helpers.

A view is ``render(ctx)``: a Streamlit fragment that reads its widgets, calls the library through
the cached steps below and draws. ``ctx`` carries the batch and the page's state; views read no
module globals.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from app_pages.kit import state_from_widgets, wkey, write_url
from normviz.images import features, figures as image_figures, lab as image_lab, load as images
from normviz.norms import NORMS
from normviz.state import ImageLabState

P = "image_lab"
LEGEND = ("Display mapping, the same for every norm and image: each channel's value x̂ is clipped to "
          "[−3, 3] and mapped linearly to [0, 1] (−3 black, 0 mid-grey, +3 white). No per-image "
          "stretching, which would fake InstanceNorm's invariance.")


@dataclass(frozen=True)
class Context:
    """The batch a view works on and the page's state when it was built.

    ``key``: the batch's cache key (content hashes of the uploads and the sample names);
    ``x``: (N, 3, S, S) float64, read-only; ``view``: the open tab.
    """

    key: tuple
    x: np.ndarray
    names: tuple[str, ...]
    thumbs: bytes
    state: ImageLabState
    view: str

    def shown(self, name: str) -> bool:
        return not self.state.is_locked(name)

    def current(self) -> ImageLabState:
        """The state as the widgets hold it now (inside a fragment, after its widgets)."""
        return state_from_widgets(ImageLabState, P, view=self.view)

    def save(self) -> None:
        write_url(self.current())


def k(name: str) -> str:
    return wkey(P, name)


def plain(text: str) -> str:
    """Escape every ASCII punctuation mark so user text (file names) renders as text, not markup."""
    return "".join("\\" + ch if (ch.isascii() and not ch.isalnum() and not ch.isspace()) else ch
                   for ch in str(text))


def show(img, *, alt: str, **kw) -> None:
    """st.image of PNG bytes (arrays are encoded here, fast); output_format="PNG" stops
    Streamlit from re-encoding them as JPEG on every rerun. ``alt`` is the text a screen reader
    reads instead (required: a caption is not an alt text)."""
    data = image_figures.png(img) if isinstance(img, np.ndarray) else img
    st.image(data, output_format="PNG", alt=alt, **kw)


def legend() -> None:
    show(constant_png("legend"), caption=LEGEND, alt="Colour legend: " + LEGEND)


def labels(views, groups: int, rho: float) -> dict:
    return {v: image_lab.view_label(v, groups=groups, rho=rho) for v in views}


def pick_image(ctx: Context, name: str, label: str, *, allow_none: bool = False, help: str | None = None) -> None:
    if not ctx.shown(name):
        return
    opts = ([-1] if allow_none else []) + list(range(len(ctx.names)))
    st.selectbox(label, opts, key=k(name), help=help,
                 format_func=lambda i: "none" if i < 0 else f"{i}: {ctx.names[i]}")


def norm_rows(rows: dict, groups: int, rho: float) -> None:
    """Each view's row of outputs, under its label and what the norm does."""
    for view, png in rows.items():
        key, is_eval = image_lab.view_norm(view)
        desc = ("fixed running statistics from the bundled samples (see below)." if is_eval
                else NORMS[key].description)
        st.markdown(f"**{image_lab.view_label(view, groups=groups, rho=rho)}**: {desc}")
        show(png, width="stretch", alt=f"The batch's images after {image_lab.view_label(view, groups=groups, rho=rho)}, "
             "one per column in the input's order")


# ---------------------------------------------------------------------- cached pure steps

@st.cache_data(show_spinner=False)
def constant_png(name: str) -> bytes:
    return image_figures.png(image_figures.legend_strip() if name == "legend" else image_figures.filter_grid())


@st.cache_data(max_entries=64, show_spinner=False)
def decode(digest: str, _data: bytes):
    """(image, notes) or (None, message); keyed by the content hash ``digest``."""
    try:
        # The lab works at SIDE×SIDE, so uploads are decoded straight to a long side of
        # 4·SIDE: 4× less memory per cached upload than the 1024 default, still sharp.
        img, info = images.load_image_info(_data, max_side=4 * image_lab.SIDE)
    except images.ImageError as err:
        return None, str(err)
    notes = [f"{info.format}, {info.original_size[0]}×{info.original_size[1]}, mode {info.mode}"]
    return img, notes + list(info.notes)


@st.cache_resource(max_entries=16, show_spinner=False)
def batch_for(key: tuple, _user: tuple, samples: tuple) -> image_lab.LabBatch:
    """Shared and read-only (no copy per rerun); keyed by the uploads' content hashes."""
    b = image_lab.build_batch(list(_user), list(samples))
    b.x.setflags(write=False)
    return b


@st.cache_resource(max_entries=4, show_spinner=False)
def feature_codes(key: tuple, _x: np.ndarray):
    z = features.encode(_x)
    z.setflags(write=False)
    return z, float(np.abs(features.decode(z) - _x).max())


@st.cache_data(max_entries=64, show_spinner=False)
def thumbs_png(key: tuple, _x: np.ndarray) -> bytes:
    return image_figures.png(image_figures.mosaic([images.to_uint8(images.to_hwc(im)) for im in _x]))


@st.cache_data(max_entries=512, show_spinner=False)
def row_png(key: tuple, space: str, view: str, params: tuple, _x: np.ndarray) -> bytes:
    """One view's outputs for the whole batch as one PNG row. Only the parameters the norm
    takes are part of the key, so moving ρ recomputes the Batch-Instance row and nothing else."""
    z = feature_codes(key, _x)[0] if space == "feature" else None
    kw = dict(params)
    out = image_lab.run_views(_x, keys=(view,), space=space, z=z, **kw)[view]
    return image_figures.png(image_figures.mosaic(list(image_lab.display_images(out))))


def rows_for(ctx: Context, space: str, views, groups: int, rho: float) -> dict:
    """PNG rows of the views, each cached on the parameters its norm takes."""
    out = {}
    for view in views:
        taken = image_lab.view_params(image_lab.view_norm(view)[0], groups=groups, rho=rho)
        params = tuple((name, taken[name]) for name in ("groups", "rho") if name in taken)
        out[view] = row_png(ctx.key, space, view, params, ctx.x)
    return out


@st.cache_data(max_entries=64, show_spinner=False)
def erase_for(key: tuple, _x: np.ndarray, index: int, change: image_lab.Change, groups: int, rho: float):
    # 6 strengths (0, 0.2, …, 1) draw the curve; the readout is computed at s = 1 exactly.
    res = image_lab.erase_curves(_x, index, change, groups=groups, rho=rho,
                                 strengths=tuple(np.linspace(0.0, 1.0, 6)))
    pred = image_lab.instance_eps_prediction(_x[index], change)

    def row(outs):
        return image_figures.png(image_figures.mosaic(
            [image_lab.display_images(outs[v][None])[0] for v in image_lab.VIEWS]))

    slim = {"strengths": res.strengths, "change": res.change, "at": res.at_setting,
            "clip_deviation": res.clip_deviation}
    return slim, pred, row(res.original), row(res.changed)


@st.cache_data(max_entries=64, show_spinner=False)
def changed_png(key: tuple, _x: np.ndarray, index: int, changes: tuple[image_lab.Change, ...]) -> bytes:
    """Image ``index`` and its changed versions side by side (clipped to [0, 1] for viewing),
    as PNG bytes: encoding it took a sixth of the "erases" tab's server time on every move."""
    parts = [_x[index]] + [change.apply(_x[index]) for change in changes]
    return image_figures.png(image_figures.mosaic([images.to_uint8(images.to_hwc(v)) for v in parts]))


@st.cache_data(max_entries=32, show_spinner=False)
def coupling_for(key: tuple, _img: np.ndarray, mates_a: tuple, mates_b: tuple, groups: int):
    ref = image_lab.build_batch([], list(dict.fromkeys(mates_a + mates_b)))
    pick = {n: ref.x[i] for i, n in enumerate(ref.names)}
    ma, mb = np.stack([pick[m] for m in mates_a]), np.stack([pick[m] for m in mates_b])
    c = image_lab.coupling(_img, ma, mb, groups=groups)
    heat = image_lab.COUPLING_HEAT
    oa = image_lab.apply_norm(np.concatenate([_img[None], ma]), heat)[0]
    ob = image_lab.apply_norm(np.concatenate([_img[None], mb]), heat)[0]
    return c, image_lab.display_images(np.stack([oa, ob]))


@st.cache_data(max_entries=16, show_spinner=False)
def stats_for(key: tuple, _x: np.ndarray, names: tuple, groups: int, rho: float):
    outs = image_lab.run_views(_x, groups=groups, rho=rho)
    rows = image_lab.stats_rows(_x, outs, names, groups=groups, rho=rho)
    hists = [image_lab.histograms({v: o[n] for v, o in outs.items()}) for n in range(len(names))]
    return rows, hists


@st.cache_data(max_entries=32, show_spinner=False)
def style_for(key: tuple, _x: np.ndarray, content: int, style: int, style2: int, weight2: float, alpha: float):
    """AdaIN's result and the PNG of content | style(s) | output (encoding it was a fifth of the
    tab's server time on every move, cached or not)."""
    res = image_lab.adain_transfer(_x[content], _x[style], alpha,
                                   style2=_x[style2] if style2 >= 0 else None, weight2=weight2)
    parts = [_x[content], _x[style]] + ([_x[style2]] if style2 >= 0 else []) + [res.image]
    return res, image_figures.png(image_figures.mosaic(
        [images.to_uint8(images.to_hwc(np.clip(v, 0, 1))) for v in parts]))


@st.cache_data(max_entries=32, show_spinner=False)
def style_distances_for(key: tuple, _x: np.ndarray, i: int, j: int, groups: int):
    return image_lab.style_distances(_x, i, j, groups=groups)


@st.cache_data(max_entries=8, show_spinner=False)
def erasure_for(key: tuple, _x: np.ndarray, names: tuple):
    return image_lab.instance_norm_erasure(_x, names)


@st.cache_data(max_entries=4, show_spinner=False)
def torch_check(key: tuple, _x: np.ndarray, views: tuple, groups: int, rho: float):
    return image_lab.torch_differences(_x, views=views, groups=groups, rho=rho)

