"""Image lab, "Style (AdaIN)": another image's feature statistics on this one, and what IN erases."""
from __future__ import annotations

import numpy as np
import streamlit as st

from app_pages._live_chart import live_chart
from app_pages.kit import number_table
from app_pages.views.image_lab.common import (
    Context,
    erasure_for,
    k,
    pick_image,
    show,
    style_distances_for,
    style_for,
)
from normviz.images import features, figures as image_figures, lab as image_lab

WHAT_IT_IS = (
    "**What this is, and is not.** AdaIN here works in a fixed, invertible space: the 27 DCT filters of "
    "3×3 colour patches (see *Feature space*), not the VGG features with a trained decoder of Huang & "
    "Belongie (2017). Matching the mean and σ of these 27 maps transfers **colour and local contrast**, "
    "not brush strokes or textures, which need deep features.")


@st.fragment
def render(ctx: Context) -> None:
    c1, c2, c3 = st.columns(3)
    with c1:
        pick_image(ctx, "content", "Content image")
    with c2:
        pick_image(ctx, "style", "Style image")
    with c3:
        pick_image(ctx, "style2", "Second style (optional)", allow_none=True)
    d1, d2 = st.columns(2)
    if ctx.shown("alpha"):
        d1.slider("α (0 = content, 1 = full style)", 0.0, 1.0, step=0.05, key=k("alpha"))
    s = ctx.current()
    if s.style2 >= 0 and ctx.shown("weight2"):
        d2.slider("Weight of the second style", 0.0, 1.0, step=0.05, key=k("weight2"))
        s = ctx.current()
    st.info(WHAT_IT_IS, icon=":material/info:")
    res, mosaic = style_for(ctx.key, ctx.x, s.content, s.style, s.style2, s.weight2, s.alpha)
    dists = style_distances_for(ctx.key, ctx.x, s.content, s.style, s.fgroups)
    show(mosaic,
         alt="Panels: the content image, the style image" + (", the second style image" if s.style2 >= 0 else "")
             + " and the AdaIN output",
         caption="content | style" + (" | second style" if s.style2 >= 0 else "")
                 + f" | AdaIN output (α = {s.alpha:g}; decoded, clipped to [0, 1] for viewing)", width="stretch")
    st.markdown(
        "AdaIN(x, y) = σ(y)·(x − μ(x))/σ(x) + μ(y) on each of the 27 feature maps, then "
        "(1 − α)·x + α·AdaIN, decoded. The statistics transferred (colour means are channels "
        "c0h0w0, c1h0w0, c2h0w0):")
    live = res.content_stats[1] > 1e-9
    idx = [0, 9, 18]
    names27 = features.filter_labels()
    stats = (res.content_stats, res.target_stats, res.output_stats)
    number_table(["channel", "μ content", "μ target", "μ output", "σ content", "σ target", "σ output"],
                 [[names27[i]] + [f"{st_[m][i]:.4f}" for m in (0, 1) for st_ in stats] for i in idx],
                 label="Statistics transferred, per colour-mean channel")
    st.caption(f"Over all 27 channels: max |μ output − μ target| = "
               f"{np.abs(res.output_stats[0] - res.target_stats[0]).max():.1e}, max |σ output − σ target| = "
               f"{np.abs(res.output_stats[1] - res.target_stats[1])[live].max() if live.any() else 0:.1e} "
               f"(at α = 1 the σ gap is ε's: σ(y)·(1 − sqrt(σ²(x)/(σ²(x) + ε)))).")
    live_chart(image_figures.sigma_figure(res.content_stats[1], res.target_stats[1], res.output_stats[1],
                                          title="σ of each feature map"),
               key=k("sigma"), png_name="normviz-style-sigma",
               alt="σ of each of the 27 feature maps for the content, the style target and the output.")
    st.markdown(
        f"**Style erasure**, measured by something IN does not set by construction: the distance "
        f"between the two images' feature Gram matrices G = F Fᵀ/HW (relative: ‖G₁ − G₂‖ / "
        f"sqrt(‖G₁‖·‖G₂‖)), for image {s.content} vs image {s.style}. The off-diagonal column keeps "
        f"only cross-channel correlations.")
    number_table(["stage", "gram distance", "off-diagonal gram distance"],
                 [[d["stage"], f"{d['gram distance']:.3f}", f"{d['off-diagonal gram distance']:.3f}"] for d in dists],
                 label="Gram distance of the two images' features, per stage")
    raw, after_in = dists[0]["gram distance"], dists[1]["gram distance"]
    verdict = "brings them closer" if after_in < raw else "does not bring them closer"
    st.caption(f"For this pair, InstanceNorm {verdict}: Gram distance {raw:.3f} raw, {after_in:.3f} after IN. "
               + image_lab.erasure_sentence(erasure_for(ctx.key, ctx.x, ctx.names))
               + " These 27 features also mix the three colours (a DCT across R, G, B), so a colour cast, a "
               "different gain per RGB channel, is not one gain per feature map and IN here does not undo it; "
               "IN on the pixels (the *Erase* view) does, up to ε and clipping.")
    ctx.save()
