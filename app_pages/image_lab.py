"""Image lab: your images as a batch under every norm — what IN erases and BN does not.

Thin page: widgets -> normviz.image_lab (cached by content hash) -> pictures and figures.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import streamlit as st

from normviz import features, image_figures as figs, image_lab as lab, images
from normviz.norms import NORMS
from normviz.state import IMAGE_LAB_VIEWS, ImageLabState
from app_pages._shared import show_locks, show_notices, state_from_widgets, url_state, wkey, write_url

P = "image_lab"
TAB_LABELS = {"side": "Side by side", "erase": "What each norm erases", "coupling": "Batch coupling",
              "stats": "Statistics", "feature": "Feature space", "style": "Style (AdaIN)"}
TAB_KEY = f"{P}:tab"
FEATURE_GROUPS_HELP = ("27 channels, so G can be 1 (LayerNorm), 3 (one group per colour frequency: "
                       "luminance, red–blue, green–magenta), 9 or 27 (InstanceNorm).")


def k(name: str) -> str:
    return wkey(P, name)


def plain(text: str) -> str:
    """Escape every ASCII punctuation mark so user text (file names) renders as text, not markup."""
    return "".join("\\" + ch if (ch.isascii() and not ch.isalnum() and not ch.isspace()) else ch
                   for ch in str(text))


def show(img, **kw) -> None:
    """st.image of PNG bytes (arrays are encoded here, fast); output_format="PNG" stops
    Streamlit from re-encoding them as JPEG on every rerun."""
    data = figs.png(img) if isinstance(img, np.ndarray) else img
    st.image(data, output_format="PNG", **kw)


@st.cache_data(show_spinner=False)
def constant_png(name: str) -> bytes:
    return figs.png(figs.legend_strip() if name == "legend" else figs.filter_grid())


# ---------------------------------------------------------------------- cached pure steps

@st.cache_data(max_entries=64, show_spinner=False)
def decode(digest: str, _data: bytes):
    """(image, notes) or (None, message); keyed by the content hash ``digest``."""
    try:
        # The lab works at SIDE×SIDE, so uploads are decoded straight to a long side of
        # 4·SIDE: 4× less memory per cached upload than the 1024 default, still sharp.
        img, info = images.load_image_info(_data, max_side=4 * lab.SIDE)
    except images.ImageError as err:
        return None, str(err)
    notes = [f"{info.format}, {info.original_size[0]}×{info.original_size[1]}, mode {info.mode}"]
    return img, notes + list(info.notes)


@st.cache_resource(max_entries=16, show_spinner=False)
def batch_for(key: tuple, _user: tuple, samples: tuple) -> lab.LabBatch:
    """Shared and read-only (no copy per rerun); keyed by the uploads' content hashes."""
    b = lab.build_batch(list(_user), list(samples))
    b.x.setflags(write=False)
    return b


@st.cache_resource(max_entries=4, show_spinner=False)
def feature_codes(key: tuple, _x: np.ndarray):
    z = features.encode(_x)
    z.setflags(write=False)
    return z, float(np.abs(features.decode(z) - _x).max())


@st.cache_data(max_entries=64, show_spinner=False)
def thumbs_png(key: tuple, _x: np.ndarray) -> bytes:
    return figs.png(figs.mosaic([images.to_uint8(images.to_hwc(im)) for im in _x]))


@st.cache_data(max_entries=512, show_spinner=False)
def row_png(key: tuple, space: str, norm: str, groups: int, rho: float, _x: np.ndarray) -> bytes:
    """One norm's outputs for the whole batch as one PNG row. Only the parameters the norm
    uses are part of the key, so moving ρ recomputes the Batch-Instance row and nothing else."""
    z = feature_codes(key, _x)[0] if space == "feature" else None
    out = lab.run_views(_x, keys=(norm,), space=space, groups=groups, rho=rho, z=z)[norm]
    return figs.png(figs.mosaic(list(lab.display_images(out))))


def rows_for(space: str, keys, groups: int, rho: float) -> dict:
    return {kk: row_png(BKEY, space, kk, groups if kk == "group" else 0,
                        rho if kk == "batch_instance" else -1.0, X) for kk in keys}


@st.cache_data(max_entries=64, show_spinner=False)
def erase_for(key: tuple, _x: np.ndarray, index: int, change: lab.Change, groups: int, rho: float):
    # 6 strengths (0, 0.2, …, 1) draw the curve; the readout is computed at s = 1 exactly.
    res = lab.erase_curves(_x, index, change, groups=groups, rho=rho,
                           strengths=tuple(np.linspace(0.0, 1.0, 6)))
    pred = lab.instance_eps_prediction(_x[index], change)
    row = lambda outs: figs.png(figs.mosaic(  # noqa: E731
        [lab.display_images(outs[kk][None])[0] for kk in lab.VIEWS]))
    slim = {"strengths": res.strengths, "change": res.change, "at": res.at_setting,
            "clip_deviation": res.clip_deviation}
    return slim, pred, row(res.original), row(res.changed), change.apply(_x[index])


@st.cache_data(max_entries=32, show_spinner=False)
def coupling_for(key: tuple, _img: np.ndarray, mates_a: tuple, mates_b: tuple, groups: int):
    ref = lab.build_batch([], list(dict.fromkeys(mates_a + mates_b)))
    pick = {n: ref.x[i] for i, n in enumerate(ref.names)}
    ma, mb = np.stack([pick[m] for m in mates_a]), np.stack([pick[m] for m in mates_b])
    c = lab.coupling(_img, ma, mb, groups=groups)
    oa = lab.apply_norm(np.concatenate([_img[None], ma]), "batch")[0]
    ob = lab.apply_norm(np.concatenate([_img[None], mb]), "batch")[0]
    return c, lab.display_images(np.stack([oa, ob]))


@st.cache_data(max_entries=16, show_spinner=False)
def stats_for(key: tuple, _x: np.ndarray, names: tuple, groups: int, rho: float):
    outs = lab.run_views(_x, groups=groups, rho=rho)
    rows = lab.stats_rows(_x, outs, names, groups=groups, rho=rho)
    hists = [lab.histograms({kk: o[n] for kk, o in outs.items()}) for n in range(len(names))]
    return rows, hists


@st.cache_data(max_entries=32, show_spinner=False)
def style_for(key: tuple, _x: np.ndarray, content: int, style: int, style2: int, weight2: float,
              alpha: float):
    return lab.adain_transfer(_x[content], _x[style], alpha,
                              style2=_x[style2] if style2 >= 0 else None, weight2=weight2)


@st.cache_data(max_entries=32, show_spinner=False)
def style_distances_for(key: tuple, _x: np.ndarray, i: int, j: int, groups: int):
    return lab.style_distances(_x, i, j, groups=groups)


@st.cache_data(max_entries=4, show_spinner=False)
def torch_check(key: tuple, _x: np.ndarray, groups: int):
    return lab.torch_differences(_x, groups=groups)


# ---------------------------------------------------------------------- page

state, notices = url_state(ImageLabState, P)
if TAB_KEY not in st.session_state:
    st.session_state[TAB_KEY] = TAB_LABELS[state.view]

st.title("Image lab")
st.markdown(
    "Your images form a **batch** with bundled batch mates, and every norm runs on it. The claim "
    "to check with numbers: **InstanceNorm** erases each image's own contrast and colour cast, "
    "**LayerNorm** only what all channels share, and **BatchNorm** ties an image's output to its "
    "batch mates in training and to stored statistics in eval.")
show_notices(P, notices)
show_locks(state)


def shown(name: str) -> bool:
    return not state.is_locked(name)


def pick_image(name: str, label: str, names: tuple, *, allow_none: bool = False, help: str | None = None):
    if not shown(name):
        return
    opts = ([-1] if allow_none else []) + list(range(len(names)))
    st.selectbox(label, opts, key=k(name), help=help,
                 format_func=lambda i: "none" if i < 0 else f"{i}: {names[i]}")


# -- input ---------------------------------------------------------------------------------
limit_mb = st.get_option("server.maxUploadSize")
with st.expander("Images in the batch", expanded=True):
    left, right = st.columns([3, 2])
    with left:
        uploads = st.file_uploader(
            "Upload images (several at once is fine)", accept_multiple_files=True, key=f"{P}:uploads",
            help=f"PNG, JPEG, WebP, BMP, TIFF, GIF, HEIC (phones) and more. At most {limit_mb} MB per "
                 "file: that limit is server.maxUploadSize in .streamlit/config.toml, and the "
                 "uploader refuses bigger files before they reach the app.")
        st.caption(f"Up to {limit_mb} MB per file. Uploaded images live only in this browser session: "
                   "a copied link keeps the samples and every setting, but not your files.")
    with right:
        camera_shot = None
        if shown("camera"):
            st.toggle("Use the camera", key=k("camera"), help="Off by default so the camera never starts unasked.")
        if st.session_state.get(k("camera")):
            camera_shot = st.camera_input("Take a photo", key=f"{P}:camera_input")
    # Full width: six descriptive chips need the room (in a column they scrolled out of sight).
    if shown("samples"):
        st.multiselect("Bundled batch mates", ImageLabState.choices("samples"), key=k("samples"),
                       format_func=lambda n: images.SAMPLE_LABELS[n],
                       help="A lone image under BatchNorm (train) is just InstanceNorm, so the "
                            "bundled samples join your images by default.")

files = list(uploads or []) + ([camera_shot] if camera_shot is not None else [])
user, user_keys, user_notes = [], [], []
for f in files:
    data = f.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    img, extra = decode(digest, data)
    name = f.name if f is not camera_shot else "camera photo"
    if img is None:
        st.error(f"{plain(name)} could not be used: {plain(extra)}", icon=":material/block:")
        continue
    user.append((name, img))
    user_keys.append(digest)
    user_notes.append((name, extra))

state = state_from_widgets(ImageLabState, P, view=state.view)
try:
    batch = batch_for(tuple(user_keys) + state.samples, tuple(user), state.samples)
except ValueError as err:
    st.info(f"{err} The six bundled samples are one click away in 'Bundled batch mates'.")
    write_url(state)
    st.stop()
state, clamp_notes = state.clamp_images(batch.N)
for name in ("image", "content", "style", "style2"):
    if st.session_state.get(k(name), getattr(state, name)) != getattr(state, name):
        st.session_state[k(name)] = getattr(state, name)
for n in clamp_notes:
    st.warning(n)
BKEY = tuple(user_keys) + state.samples
X, NAMES = batch.x, batch.names

thumbs = thumbs_png(BKEY, X)
show(thumbs, caption="Batch: " + " | ".join(f"{i}: {n}" for i, n in enumerate(NAMES)), width="stretch")
st.caption(f"Batch rule: each image is centre-cropped to its largest square and resized to "
           f"{lab.SIDE}×{lab.SIDE} (N = {batch.N}, {batch.n_user} uploaded). ε = {lab.EPS:g} everywhere.")
for name, notes in user_notes:
    st.caption(f"{plain(name)}: " + plain("; ".join(notes)))
if batch.N == 1:
    st.warning("The batch holds one image: BatchNorm (train) then equals InstanceNorm. Add batch mates.")

LEGEND = ("Display mapping, the same for every norm and image: each channel's value x̂ is clipped to "
          "[−3, 3] and mapped linearly to [0, 1] (−3 black, 0 mid-grey, +3 white). No per-image "
          "stretching, which would fake InstanceNorm's invariance.")


def legend() -> None:
    show(constant_png("legend"), caption=LEGEND)


def labels(groups: int, rho: float) -> dict:
    return {kk: lab.view_label(kk, groups=groups, rho=rho) for kk in lab.VIEWS}


def norm_rows(rows: dict, keys, groups: int, rho: float) -> None:
    for kk in keys:
        desc = NORMS["batch" if kk == "batch_eval" else kk].description
        if kk == "batch_eval":
            desc = "BatchNorm with fixed running statistics from the bundled samples (see below)."
        st.markdown(f"**{lab.view_label(kk, groups=groups, rho=rho)}**: {desc}")
        show(rows[kk], width="stretch")


# -- views ------------------------------------------------------------------------------------
views = IMAGE_LAB_VIEWS if shown("view") else (state.view,)  # a teacher's locked view is the only tab
tabs = st.tabs([TAB_LABELS[v] for v in views], key=TAB_KEY, on_change="rerun")
open_view = {v: t for v, t in zip(views, tabs)}
view = next((v for v, t in open_view.items() if getattr(t, "open", False)), state.view)

@st.fragment
def side_view() -> None:
    """The "side" view; a fragment, so its own widgets rerun only this view."""
    c1, c2, c3 = st.columns([3, 1, 1])
    if shown("norms"):
        c1.multiselect("Norms shown", ImageLabState.choices("norms"), key=k("norms"),
                       format_func=lambda kk: lab.view_label(kk, groups=state.groups, rho=state.rho))
    if shown("groups"):
        c2.radio("GroupNorm G", (1, 3), key=k("groups"), horizontal=True,
                 help="Pixel space has C = 3 channels, so G must divide 3: G = 1 is LayerNorm, "
                      "G = 3 is InstanceNorm. The feature-space tab has 27 channels.")
    if shown("rho"):
        c3.slider("Batch-Instance ρ", 0.0, 1.0, step=0.05, key=k("rho"), help="1 = BatchNorm, 0 = InstanceNorm")
    s = state_from_widgets(ImageLabState, P, view=view)
    rows = rows_for("pixel", [kk for kk in lab.VIEWS if kk in s.norms], s.groups, s.rho)
    legend()
    st.markdown("**Input** (columns: " + plain(", ".join(f"{i} {n}" for i, n in enumerate(NAMES))) + ")")
    show(thumbs, width="stretch")
    norm_rows(rows, [kk for kk in lab.VIEWS if kk in s.norms], s.groups, s.rho)
    ref = lab.reference_stats()
    with st.expander("BatchNorm (eval): the running statistics"):
        st.markdown(f"Gathered over the reference set, the six bundled samples at {lab.SIDE}×{lab.SIDE}, "
                    "as PyTorch's cumulative average (momentum=None) after one pass: running mean = "
                    "their per-channel mean, running var = their unbiased per-channel variance.")
        st.table(pd.DataFrame({"channel": lab.CHANNELS, "running mean": ref.mean,
                               "running var": ref.var}).set_index("channel"))
    with st.expander("Check against PyTorch"):
        st.caption("Max-abs difference between normviz's numpy norms and torch.nn.functional on "
                   "this batch, in float64.")
        if st.button("Run torch.nn.functional", key=f"{P}:torch"):
            d = torch_check(BKEY, X, s.groups)
            st.table(pd.DataFrame({"view": [lab.view_label(kk, groups=s.groups) for kk in d],
                                   "max |normviz − torch|": [f"{v:.1e}" for v in d.values()]}))
    write_url(state_from_widgets(ImageLabState, P, view=view))



@st.fragment
def erase_view() -> None:
    """The "erase" view; a fragment, so its own widgets rerun only this view."""
    pick_image("image", "Image to change", NAMES)
    c1, c2, c3 = st.columns(3)
    if shown("a"):
        c1.slider("Contrast a", 0.25, 4.0, step=0.05, key=k("a"))
    if shown("b"):
        c2.slider("Brightness b", -1.0, 1.0, step=0.05, key=k("b"))
    if shown("clip"):
        c3.toggle("Clip to [0, 1]", key=k("clip"),
                  help="Off: the change stays exact (floats may leave [0, 1]). On: like saving a photo.")
    g1, g2, g3 = st.columns(3)
    for col, ch in zip((g1, g2, g3), ("r", "g", "b")):
        if shown(f"gain_{ch}"):
            col.slider(f"Colour cast: gain {ch.upper()}", 0.25, 4.0, step=0.05, key=k(f"gain_{ch}"))
    s = state_from_widgets(ImageLabState, P, view=view)
    glob = lab.Change(s.a, s.b, (1.0, 1.0, 1.0), s.clip)
    cast = lab.Change(1.0, 0.0, (s.gain_r, s.gain_g, s.gain_b), s.clip)
    res_g, pred_g, row_o, row_g, img_g = erase_for(BKEY, X, s.image, glob, s.groups, s.rho)
    res_c, pred_c, _, row_c, img_c = erase_for(BKEY, X, s.image, cast, s.groups, s.rho)
    lbl = labels(s.groups, s.rho)
    show(figs.mosaic([images.to_uint8(images.to_hwc(v)) for v in (X[s.image], img_g, img_c)]),
             caption=f"original | a·x + b with a = {s.a:g}, b = {s.b:g} | gains "
                     f"({s.gain_r:g}, {s.gain_g:g}, {s.gain_b:g}) — shown clipped to [0, 1] for viewing only")
    legend()
    st.markdown("Outputs, columns: " + ", ".join(lbl[kk] for kk in lab.VIEWS))
    show(row_o, caption="original", width="stretch")
    show(row_g, caption="after a·x + b", width="stretch")
    show(row_c, caption="after the colour cast", width="stretch")
    table = pd.DataFrame({
        "norm": [lbl[kk] for kk in lab.VIEWS],
        "change after a·x + b": [f"{res_g['at'][kk]:.2e}" for kk in lab.VIEWS],
        "change after gains": [f"{res_c['at'][kk]:.2e}" for kk in lab.VIEWS],
    })
    st.markdown("**Readout**: max |output change| of this image's output, per norm.")
    st.table(table.set_index("norm"))
    st.markdown("**Why**, one sentence per norm (a·x + b / colour cast):\n\n" + "\n".join(
        f"- **{lbl[kk]}**: {lab.REASONS_GLOBAL[kk]}"
        + ("" if lab.REASONS_GAINS[kk] == lab.REASONS_GLOBAL[kk] else f" / {lab.REASONS_GAINS[kk]}")
        for kk in lab.VIEWS))
    if s.clip:
        st.warning(f"Clipping changed the input itself by up to {res_g['clip_deviation']:.3f} (a·x + b) and "
                   f"{res_c['clip_deviation']:.3f} (gains): the invariances below no longer hold exactly.")
    st.markdown(
        f"**The ε effect, predicted and measured.** IN_ε(a·x + b) = IN_ε/a²(x), channel by channel "
        f"with a_c = a·g_c. For a·x + b: ε predicts a change of **{pred_g.predicted:.2e}**, measured "
        f"**{pred_g.observed:.2e}**, left after the identity **{pred_g.residual:.1e}**. For the colour "
        f"cast: predicted **{pred_c.predicted:.2e}**, measured **{pred_c.observed:.2e}**, left "
        f"**{pred_c.residual:.1e}**.")
    p1, p2 = st.columns(2)
    p1.plotly_chart(figs.strength_figure(res_g["strengths"], res_g["change"], lbl,
                                         title="a·x + b: output change vs strength"), width="stretch")
    p2.plotly_chart(figs.strength_figure(res_c["strengths"], res_c["change"], lbl,
                                         title="Colour cast: output change vs strength"), width="stretch")
    st.caption(f"Strength s moves the change linearly from none (s = 0, where every change is 0) "
               f"to your setting (s = 1). Log scale; exact zeros are drawn at {figs.FLOOR:g}.")
    write_url(state_from_widgets(ImageLabState, P, view=view))



@st.fragment
def coupling_view() -> None:
    """The "coupling" view; a fragment, so its own widgets rerun only this view."""
    pick_image("image", "Image", NAMES)
    c1, c2 = st.columns(2)
    if shown("mates_a"):
        c1.multiselect("Batch A: batch mates", ImageLabState.choices("mates_a"), key=k("mates_a"),
                       format_func=lambda n: images.SAMPLE_LABELS[n])
    if shown("mates_b"):
        c2.multiselect("Batch B: batch mates", ImageLabState.choices("mates_b"), key=k("mates_b"),
                       format_func=lambda n: images.SAMPLE_LABELS[n])
    s = state_from_widgets(ImageLabState, P, view=view)
    if not s.mates_a or not s.mates_b:
        st.info("Pick at least one batch mate for each batch.")
    else:
        c, bn = coupling_for(BKEY + (s.image,), X[s.image], s.mates_a, s.mates_b, s.groups)
        show(figs.mosaic([images.to_uint8(images.to_hwc(X[s.image])), bn[0], bn[1],
                              figs.heat_image(c.heatmap)]),
                 caption=f"input | BatchNorm (train) in batch A | in batch B | |A − B| (max over "
                         f"channels; dark 0, yellow {c.diff['batch']:.3f})", width="stretch")
        st.table(pd.DataFrame({
            "norm": [lab.view_label(kk, groups=s.groups) for kk in lab.COUPLING_KEYS],
            "max |output in A − output in B|": [f"{c.diff[kk]:.2e}" for kk in lab.COUPLING_KEYS],
        }).set_index("norm"))
        st.markdown("BatchNorm (train) normalizes with statistics of the whole batch, so the same "
                    "image gets a different output next to different batch mates. LayerNorm, "
                    "InstanceNorm and GroupNorm use only the image itself: their difference is 0 "
                    "(up to float rounding).")
    write_url(state_from_widgets(ImageLabState, P, view=view))



@st.fragment
def stats_view() -> None:
    """The "stats" view; a fragment, so its own widgets rerun only this view."""
    pick_image("image", "Image", NAMES)
    s = state_from_widgets(ImageLabState, P, view=view)
    rows, hists_all = stats_for(BKEY, X, NAMES, s.groups, s.rho)
    df = pd.DataFrame(rows)
    mine = df[df["image"] == NAMES[s.image]].drop(columns="image")
    st.markdown("Per-channel mean and standard deviation of the image before (input) and after "
                "each norm. InstanceNorm gives mean 0, std ≈ 1 per channel; LayerNorm only over "
                "all channels together; BatchNorm only over the batch.")
    st.dataframe(mine.style.format({c: "{:.4f}" for c in ("mean", "std", "min", "max")}),
                 hide_index=True, width="stretch")
    st.download_button("Download statistics (CSV, all images)", lab.rows_to_csv(rows),
                       file_name="normviz_image_statistics.csv", mime="text/csv", key=f"{P}:csv")
    lbl = labels(s.groups, s.rho)
    hists = hists_all[s.image]
    st.plotly_chart(figs.histogram_figure(hists, lab.HIST_EDGES, lbl,
                                          title=f"Values of image {s.image} after each norm"),
                    width="stretch")
    write_url(state_from_widgets(ImageLabState, P, view=view))



@st.fragment
def feature_view() -> None:
    """The "feature" view; a fragment, so its own widgets rerun only this view."""
    st.markdown(
        "Pixel space has only 3 channels. Here every pixel's 3×3 neighbourhood in all 3 colours "
        "(27 numbers) is expanded in the 27 orthonormal **3×3×3 DCT** filters (separable DCT-II over "
        "rows, columns and colours; reflect padding), giving C = 27 feature maps. Decoding is the "
        "transposed convolution divided by how many patches cover each pixel, an exact inverse.")
    show(constant_png("filters"), caption="The 27 filters (rows: colour frequency 0, 1, 2; grey = 0)")
    z, err = feature_codes(BKEY, X)
    st.markdown(f"Reconstruction check on this batch: max |decode(encode(x)) − x| = **{err:.1e}**.")
    c1, c2 = st.columns(2)
    if shown("fgroups"):
        c1.radio("GroupNorm G (27 channels)", (1, 3, 9, 27), key=k("fgroups"), horizontal=True,
                 help=FEATURE_GROUPS_HELP)
    if shown("rho"):
        c2.slider("Batch-Instance ρ", 0.0, 1.0, step=0.05, key=k("rho"))
    s = state_from_widgets(ImageLabState, P, view=view)
    rows = rows_for("feature", [kk for kk in lab.VIEWS if kk in s.norms], s.fgroups, s.rho)
    st.markdown("Each norm acts on the 27 feature maps; the result is decoded back to pixels.")
    legend()
    show(thumbs, caption="input", width="stretch")
    norm_rows(rows, [kk for kk in lab.VIEWS if kk in s.norms], s.fgroups, s.rho)
    st.caption("BatchNorm (eval) here uses running statistics of the bundled samples' 27 feature maps.")
    write_url(state_from_widgets(ImageLabState, P, view=view))



@st.fragment
def style_view() -> None:
    """The "style" view; a fragment, so its own widgets rerun only this view."""
    c1, c2, c3 = st.columns(3)
    with c1:
        pick_image("content", "Content image", NAMES)
    with c2:
        pick_image("style", "Style image", NAMES)
    with c3:
        pick_image("style2", "Second style (optional)", NAMES, allow_none=True)
    d1, d2 = st.columns(2)
    if shown("alpha"):
        d1.slider("α (0 = content, 1 = full style)", 0.0, 1.0, step=0.05, key=k("alpha"))
    s = state_from_widgets(ImageLabState, P, view=view)
    if s.style2 >= 0 and shown("weight2"):
        d2.slider("Weight of the second style", 0.0, 1.0, step=0.05, key=k("weight2"))
        s = state_from_widgets(ImageLabState, P, view=view)
    res = style_for(BKEY, X, s.content, s.style, s.style2, s.weight2, s.alpha)
    dists = style_distances_for(BKEY, X, s.content, s.style, s.fgroups)
    parts = [X[s.content], X[s.style]] + ([X[s.style2]] if s.style2 >= 0 else []) + [res.image]
    show(figs.mosaic([images.to_uint8(images.to_hwc(np.clip(v, 0, 1))) for v in parts]),
             caption="content | style" + (" | second style" if s.style2 >= 0 else "")
                     + f" | AdaIN output (α = {s.alpha:g}; decoded, clipped to [0, 1] for viewing)",
             width="stretch")
    st.markdown(
        "AdaIN(x, y) = σ(y)·(x − μ(x))/σ(x) + μ(y) on each of the 27 feature maps, then "
        "(1 − α)·x + α·AdaIN, decoded. The statistics transferred (colour means are channels "
        "c0h0w0, c1h0w0, c2h0w0):")
    live = res.content_stats[1] > 1e-9
    idx = [0, 9, 18]
    names27 = features.filter_labels()
    st.table(pd.DataFrame({
        "channel": [names27[i] for i in idx],
        "μ content": res.content_stats[0][idx], "μ target": res.target_stats[0][idx],
        "μ output": res.output_stats[0][idx],
        "σ content": res.content_stats[1][idx], "σ target": res.target_stats[1][idx],
        "σ output": res.output_stats[1][idx]}).set_index("channel"))
    st.caption(f"Over all 27 channels: max |μ output − μ target| = "
               f"{np.abs(res.output_stats[0] - res.target_stats[0]).max():.1e}, max |σ output − σ target| = "
               f"{np.abs(res.output_stats[1] - res.target_stats[1])[live].max() if live.any() else 0:.1e} "
               f"(at α = 1 the σ gap is ε's: σ(y)·(1 − sqrt(σ²(x)/(σ²(x) + ε)))).")
    st.plotly_chart(figs.sigma_figure(res.content_stats[1], res.target_stats[1], res.output_stats[1],
                                      title="σ of each feature map"), width="stretch")
    st.markdown(
        f"**Style erasure**, measured by something IN does not set by construction: the distance "
        f"between the two images' feature Gram matrices G = F Fᵀ/HW (relative: ‖G₁ − G₂‖ / "
        f"sqrt(‖G₁‖·‖G₂‖)), for image {s.content} vs image {s.style}. The off-diagonal column keeps "
        f"only cross-channel correlations.")
    st.table(pd.DataFrame(dists).set_index("stage").style.format("{:.3f}"))
    st.caption("Try flower vs flower_low_contrast (same content, different contrast): InstanceNorm "
               "brings their Gram matrices together, BatchNorm does not. Pairs with a synthetic image "
               "can go the other way: IN blows up feature maps that are nearly constant.")
    write_url(state_from_widgets(ImageLabState, P, view=view))


# Only the open tab computes anything (each view is a fragment that reruns on its own).
VIEW_FUNCTIONS = {"side": side_view, "erase": erase_view, "coupling": coupling_view, "stats": stats_view,
                  "feature": feature_view, "style": style_view}
for name, tab in open_view.items():
    if getattr(tab, "open", False):
        with tab:
            VIEW_FUNCTIONS[name]()


write_url(state_from_widgets(ImageLabState, P, view=view))
