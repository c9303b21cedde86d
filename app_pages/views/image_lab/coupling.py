"""Image lab, "Batch coupling": the same image next to two different sets of batch mates."""
from __future__ import annotations

import streamlit as st

from app_pages.kit import number_table
from app_pages.views.image_lab.common import Context, coupling_for, k, pick_image, show
from normviz.images import figures as image_figures, lab as image_lab, load as images
from normviz.norms import NORMS
from normviz.state import ImageLabState


@st.fragment
def render(ctx: Context) -> None:
    pick_image(ctx, "image", "Image")
    c1, c2 = st.columns(2)
    if ctx.shown("mates_a"):
        c1.multiselect("Batch A: batch mates", ImageLabState.choices("mates_a"), key=k("mates_a"),
                       format_func=lambda n: images.SAMPLE_LABELS[n])
    if ctx.shown("mates_b"):
        c2.multiselect("Batch B: batch mates", ImageLabState.choices("mates_b"), key=k("mates_b"),
                       format_func=lambda n: images.SAMPLE_LABELS[n])
    s = ctx.current()
    if not s.mates_a or not s.mates_b:
        st.info("Pick at least one batch mate for each batch.")
        ctx.save()
        return
    c, outs = coupling_for(ctx.key + (s.image,), ctx.x[s.image], s.mates_a, s.mates_b, s.groups)
    heat = image_lab.view_label(image_lab.COUPLING_HEAT)
    show(image_figures.mosaic([images.to_uint8(images.to_hwc(ctx.x[s.image])), outs[0], outs[1],
                               image_figures.heat_image(c.heatmap)]),
         alt=f"Four panels: the input image, its {heat} output in batch A and in batch B, and a heat map of "
             "their difference",
         caption=f"input | {heat} in batch A | in batch B | |A − B| (max over channels; dark 0, yellow "
                 f"{c.diff[image_lab.COUPLING_HEAT]:.3f})", width="stretch")
    number_table(["norm", "max |output in A − output in B|"],
                 [[image_lab.view_label(v, groups=s.groups), f"{c.diff[v]:.2e}"] for v in image_lab.COUPLING_KEYS],
                 label="Batch coupling: max |output in A − output in B| per norm")
    coupled = [image_lab.view_label(v, groups=s.groups) for v in image_lab.COUPLING_KEYS if c.diff[v] > 1e-9]
    alone = [image_lab.view_label(v, groups=s.groups) for v in image_lab.COUPLING_KEYS if c.diff[v] <= 1e-9]
    coupler = NORMS[image_lab.view_norm(image_lab.COUPLING_HEAT)[0]]
    st.markdown(f"Measured: {', '.join(coupled) or 'no norm'} gave this image a different output next to "
                f"different batch mates; {', '.join(alone) or 'none'} did not (difference ≤ 1e-9, float "
                f"rounding). Why {coupler.name} does: {coupler.erases_why}")
    ctx.save()
