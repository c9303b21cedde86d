"""Image lab, "Statistics": per-channel mean and spread of one image before and after each norm."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages._live_chart import live_chart
from app_pages.views.image_lab.common import Context, k, labels, pick_image, stats_for
from normviz.images import figures as image_figures, lab as image_lab


@st.fragment
def render(ctx: Context) -> None:
    pick_image(ctx, "image", "Image")
    s = ctx.current()
    rows, hists_all = stats_for(ctx.key, ctx.x, ctx.names, s.groups, s.rho)
    df = pd.DataFrame(rows)
    mine = df[df["image"] == ctx.names[s.image]].drop(columns="image")
    st.markdown("Per-channel mean and standard deviation of the image before (input) and after "
                "each norm: which statistics a norm fixes shows as mean 0 and std ≈ 1 in the rows it "
                "normalizes on its own.")
    st.dataframe(mine.style.format({c: "{:.4f}" for c in ("mean", "std", "min", "max")}),
                 hide_index=True, width="stretch")
    st.download_button("Download statistics (CSV, all images)", image_lab.rows_to_csv(rows),
                       file_name="normviz_image_statistics.csv", mime="text/csv", key=k("csv"))
    live_chart(image_figures.histogram_figure(hists_all[s.image], image_lab.HIST_EDGES,
                                              labels(image_lab.VIEWS, s.groups, s.rho),
                                              title=f"Values of image {s.image} after each norm"),
               key=k("histogram"), png_name="normviz-image-histogram",
               alt=f"Histograms of the values of image {s.image}, the input and after each norm.")
    ctx.save()
