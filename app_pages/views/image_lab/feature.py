"""Image lab, "Feature space": the norms on 27 invertible DCT feature maps, decoded back to pixels."""
from __future__ import annotations

import streamlit as st

from app_pages.views.image_lab.common import Context, constant_png, feature_codes, k, legend, norm_rows, rows_for, show

FEATURE_GROUPS_HELP = ("27 channels, so G can be 1 (LayerNorm), 3 (one group per colour frequency: "
                       "luminance, red–blue, green–magenta), 9 or 27 (InstanceNorm).")


@st.fragment
def render(ctx: Context) -> None:
    st.markdown(
        "Pixel space has only 3 channels. Here every pixel's 3×3 neighbourhood in all 3 colours "
        "(27 numbers) is expanded in the 27 orthonormal **3×3×3 DCT** filters (separable DCT-II over "
        "rows, columns and colours; reflect padding), giving C = 27 feature maps. Decoding is the "
        "transposed convolution divided by how many patches cover each pixel, an exact inverse.")
    show(constant_png("filters"), caption="The 27 filters (rows: colour frequency 0, 1, 2; grey = 0)",
         alt="The 27 3×3×3 DCT filters as small colour patches, in three rows by colour frequency")
    _, err = feature_codes(ctx.key, ctx.x)
    st.markdown(f"Reconstruction check on this batch: max |decode(encode(x)) − x| = **{err:.1e}**.")
    c1, c2 = st.columns(2)
    if ctx.shown("fgroups"):
        c1.radio("GroupNorm G (27 channels)", (1, 3, 9, 27), key=k("fgroups"), horizontal=True,
                 help=FEATURE_GROUPS_HELP)
    if ctx.shown("rho"):
        c2.slider("Batch-Instance ρ", 0.0, 1.0, step=0.05, key=k("rho"))
    s = ctx.current()
    rows = rows_for(ctx, "feature", s.norms, s.fgroups, s.rho)
    st.markdown("Each norm acts on the 27 feature maps; the result is decoded back to pixels.")
    legend()
    show(ctx.thumbs, caption="input", width="stretch", alt="The batch's input images: " + ", ".join(ctx.names))
    norm_rows(rows, s.fgroups, s.rho)
    st.caption("Eval views here use running statistics of the bundled samples' 27 feature maps.")
    ctx.save()
