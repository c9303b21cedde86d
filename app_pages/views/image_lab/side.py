"""Image lab, "Side by side": every norm's output for the whole batch, one row per norm."""
from __future__ import annotations

import streamlit as st

from app_pages.kit import number_table
from app_pages.views.image_lab.common import Context, k, legend, norm_rows, plain, rows_for, show, torch_check
from normviz.images import lab as image_lab
from normviz.state import ImageLabState


@st.fragment
def render(ctx: Context) -> None:
    c1, c2, c3 = st.columns([3, 1, 1])
    if ctx.shown("norms"):
        c1.multiselect("Norms shown", ImageLabState.choices("norms"), key=k("norms"),
                       format_func=lambda v: image_lab.view_label(v, groups=ctx.state.groups, rho=ctx.state.rho))
    if ctx.shown("groups"):
        c2.radio("GroupNorm G", (1, 3), key=k("groups"), horizontal=True,
                 help="Pixel space has C = 3 channels, so G must divide 3: G = 1 is LayerNorm, "
                      "G = 3 is InstanceNorm. The feature-space tab has 27 channels.")
    if ctx.shown("rho"):
        c3.slider("Batch-Instance ρ", 0.0, 1.0, step=0.05, key=k("rho"), help="1 = BatchNorm, 0 = InstanceNorm")
    s = ctx.current()
    rows = rows_for(ctx, "pixel", s.norms, s.groups, s.rho)
    legend()
    st.markdown("**Input** (columns: " + plain(", ".join(f"{i} {n}" for i, n in enumerate(ctx.names))) + ")")
    show(ctx.thumbs, width="stretch", alt="The batch's input images: " + ", ".join(ctx.names))
    norm_rows(rows, s.groups, s.rho)
    ref = image_lab.reference_stats()
    with st.expander("Eval mode: the running statistics"):
        st.markdown(f"Gathered over the reference set, the six bundled samples at {image_lab.SIDE}×{image_lab.SIDE}, "
                    "as PyTorch's cumulative average (momentum=None) after one pass: running mean = "
                    "their per-channel mean, running var = their unbiased per-channel variance.")
        number_table(["channel", "running mean", "running var"],
                     [[ch, f"{m:.4f}", f"{v:.4f}"] for ch, m, v in zip(image_lab.CHANNELS, ref.mean, ref.var)],
                     label="Running statistics per channel")
    with st.expander("Check against PyTorch"):
        st.caption("Max-abs difference between normviz's numpy norms and each norm's torch reference op on "
                   "this batch, in float64.")
        if st.button("Run the torch reference ops", key=f"{k('torch')}"):
            d = torch_check(ctx.key, ctx.x, tuple(s.norms), s.groups, s.rho)
            number_table(["view", "max |normviz − torch|"],
                         [[image_lab.view_label(v, groups=s.groups, rho=s.rho), f"{diff:.1e}"] for v, diff in d.items()],
                         label="Max |normviz − torch| per view")
    ctx.save()
