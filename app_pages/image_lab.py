"""Image lab: your images as a batch under every norm — what IN erases and BN does not.

Thin page: the URL state and the inputs build the batch (cached by content hash); each tab is a
view in ``app_pages/views/image_lab/`` that gets a :class:`Context` and only draws.
"""
from __future__ import annotations

import hashlib

import streamlit as st

from app_pages.kit import show_locks, show_notices, state_from_widgets, url_state, write_url
from app_pages.views.image_lab import coupling, erase, feature, side, stats, style
from app_pages.views.image_lab.common import P, Context, batch_for, decode, k, plain, show, thumbs_png
from normviz.images import lab as image_lab, load as images
from normviz.state import IMAGE_LAB_VIEWS, ImageLabState

TAB_LABELS = {"side": "Side by side", "erase": "What each norm erases", "coupling": "Batch coupling",
              "stats": "Statistics", "feature": "Feature space", "style": "Style (AdaIN)"}
VIEWS = {"side": side.render, "erase": erase.render, "coupling": coupling.render, "stats": stats.render,
         "feature": feature.render, "style": style.render}
TAB_KEY = f"{P}:tab"

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
batch_key = tuple(user_keys) + state.samples
thumbs = thumbs_png(batch_key, batch.x)
show(thumbs, caption="Batch: " + " | ".join(f"{i}: {n}" for i, n in enumerate(batch.names)), width="stretch",
     alt=f"The batch of {batch.N} images side by side: " + ", ".join(batch.names))
st.caption(f"Batch rule: each image is centre-cropped to its largest square and resized to "
           f"{image_lab.SIDE}×{image_lab.SIDE} (N = {batch.N}, {batch.n_user} uploaded). ε = {image_lab.EPS:g} everywhere.")
for name, notes in user_notes:
    st.caption(f"{plain(name)}: " + plain("; ".join(notes)))
if batch.N == 1:
    st.warning("The batch holds one image: BatchNorm (train) then equals InstanceNorm. Add batch mates.")

# -- views: only the open tab computes anything (each view is a fragment that reruns on its own)
tab_views = IMAGE_LAB_VIEWS if shown("view") else (state.view,)  # a teacher's locked view is the only tab
tabs = st.tabs([TAB_LABELS[v] for v in tab_views], key=TAB_KEY, on_change="rerun")
open_view = next((v for v, t in zip(tab_views, tabs) if getattr(t, "open", False)), state.view)
for view, tab in zip(tab_views, tabs):
    if getattr(tab, "open", False):
        with tab:
            VIEWS[view](Context(batch_key, batch.x, batch.names, thumbs, state, open_view))

write_url(state_from_widgets(ImageLabState, P, view=open_view))
