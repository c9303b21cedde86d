"""Image lab, "What each norm erases": change one image's contrast, brightness or colour and
measure how much each norm's output moves, with the reason from the registry."""
from __future__ import annotations

import streamlit as st

from app_pages._live_chart import live_chart
from app_pages.kit import number_table
from app_pages.views.image_lab.common import Context, changed_png, erase_for, k, labels, legend, pick_image, show
from normviz.images import figures as image_figures, lab as image_lab


@st.fragment
def render(ctx: Context) -> None:
    pick_image(ctx, "image", "Image to change")
    c1, c2, c3 = st.columns(3)
    if ctx.shown("a"):
        c1.slider("Contrast a", 0.25, 4.0, step=0.05, key=k("a"))
    if ctx.shown("b"):
        c2.slider("Brightness b", -1.0, 1.0, step=0.05, key=k("b"))
    if ctx.shown("clip"):
        c3.toggle("Clip to [0, 1]", key=k("clip"),
                  help="Off: the change stays exact (floats may leave [0, 1]). On: like saving a photo.")
    for col, ch in zip(st.columns(3), ("r", "g", "b")):
        if ctx.shown(f"gain_{ch}"):
            col.slider(f"Colour cast: gain {ch.upper()}", 0.25, 4.0, step=0.05, key=k(f"gain_{ch}"))
    s = ctx.current()
    glob = image_lab.Change(s.a, s.b, (1.0, 1.0, 1.0), s.clip)
    cast = image_lab.Change(1.0, 0.0, (s.gain_r, s.gain_g, s.gain_b), s.clip)
    res_g, pred_g, row_o, row_g = erase_for(ctx.key, ctx.x, s.image, glob, s.groups, s.rho)
    res_c, pred_c, _, row_c = erase_for(ctx.key, ctx.x, s.image, cast, s.groups, s.rho)
    views = image_lab.VIEWS
    lbl = labels(views, s.groups, s.rho)
    show(changed_png(ctx.key, ctx.x, s.image, (glob, cast)),
         alt="Three panels: the original image, after a·x + b and after the colour cast",
         caption=f"original | a·x + b with a = {s.a:g}, b = {s.b:g} | gains "
                 f"({s.gain_r:g}, {s.gain_g:g}, {s.gain_b:g}) — shown clipped to [0, 1] for viewing only")
    legend()
    st.markdown("Outputs, columns: " + ", ".join(lbl[v] for v in views))
    for row, what in ((row_o, "original"), (row_g, "after a·x + b"), (row_c, "after the colour cast")):
        show(row, caption=what, width="stretch", alt=f"Outputs of each norm for the image {what}, one per column: "
             + ", ".join(lbl[v] for v in views))
    st.markdown("**Readout**: max |output change| of this image's output, per norm.")
    number_table(["norm", "change after a·x + b", "change after gains"],
                 [[lbl[v], f"{res_g['at'][v]:.2e}", f"{res_c['at'][v]:.2e}"] for v in views],
                 label="Readout: max |output change| per norm")
    st.markdown("**Why**, per norm (a·x + b / colour cast), from the measured change and what the norm pools:\n\n"
                + "\n".join(_why(v, lbl[v], res_g["at"][v], res_c["at"][v]) for v in views))
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
    with p1:
        live_chart(image_figures.strength_figure(res_g["strengths"], res_g["change"], lbl,
                                                 title="a·x + b: output change vs strength"),
                   key=k("strength_affine"), png_name="normviz-erase-affine",
                   alt="Each norm's output change against the strength of a·x + b, log scale.")
    with p2:
        live_chart(image_figures.strength_figure(res_c["strengths"], res_c["change"], lbl,
                                                 title="Colour cast: output change vs strength"),
                   key=k("strength_cast"), png_name="normviz-erase-cast",
                   alt="Each norm's output change against the strength of the colour cast, log scale.")
    st.caption(f"Strength s moves the change linearly from none (s = 0, where every change is 0) "
               f"to your setting (s = 1). Log scale; exact zeros are drawn at {image_figures.FLOOR:g}.")
    ctx.save()


def _why(view: str, label: str, global_change: float, cast_change: float) -> str:
    g = image_lab.erase_reason(view, global_change)
    c = image_lab.erase_reason(view, cast_change)
    if g.split(":")[0].split(" (")[0] == c.split(":")[0].split(" (")[0]:
        return f"- **{label}**: a·x + b and colour cast {g}"
    return f"- **{label}**: a·x + b {g.split(':')[0]}; colour cast {c}"
