"""Home page: what normviz is, the norms of the registry, links to the pillars."""
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException

from normviz.norms.table import FAMILY_TITLES, NORMS, families

PAGES_DIR = Path(__file__).resolve().parent

# (page file, title, what it shows). A pillar is linked only once its page is in the
# navigation of app.py; until then it is listed as coming, never as a dead link.
PILLARS = [
    ("app_pages/cube.py", "Cube",
     "The N×C×H×W activation tensor as a 3D cube: pick a norm and an element, and the "
     "cells that share its mean and variance light up, with the formula in live numbers."),
    ("app_pages/image_lab.py", "Image lab",
     "Your images as a batch: each norm's output side by side, and what it erases "
     "(contrast, brightness, colour cast, style)."),
    ("app_pages/training_lab.py", "Training lab",
     "The same small network trained under different norms, side by side: loss, accuracy "
     "and activation distributions as they move."),
    ("app_pages/transformer_lab.py", "Transformer lab",
     "A tiny transformer learns to sort digits: where LayerNorm goes (pre vs post), RMSNorm, "
     "DyT and no norm, with gradients and the residual stream per block."),
    ("app_pages/guide.py", "Guide",
     "Which norm for CNNs, transformers, style transfer; what batch size does; "
     "distributed training; what each costs. Each answer is an experiment you can run."),
]

def _cell(text: str) -> str:
    """Make text safe inside a markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def norms_table() -> str:
    rows = [
        "| Norm | What it does | Pools over | Kind | In eval | Paper |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for spec in NORMS.values():
        paper = _cell(spec.paper)
        if spec.arxiv:
            paper = f"[{paper}]({spec.url})"
        rows.append(
            f"| **{_cell(spec.name)}** | {_cell(spec.description)} | {_cell(spec.pools)} "
            f"| {FAMILY_TITLES[spec.family]} | {'running statistics' if spec.running_stats else 'same as training'} "
            f"| {paper} |"
        )
    return "\n".join(rows)


def pillar(path: str, title: str, blurb: str) -> None:
    with st.container(border=True, height="stretch"):
        head, body = st.empty(), st.container()
        body.caption(blurb)
        linked = False
        if (PAGES_DIR.parent / path).is_file():
            try:
                body.page_link(path, label=f"Open {title}", icon=":material/arrow_forward:")
                linked = True
            except StreamlitAPIException:  # the file exists but is not in app.py yet
                pass
        head.markdown(f"**{title}**" if linked else f"**{title}** · *coming*")


st.title("normviz")
st.markdown(
    "**See what each normalization layer pools over, and what that does** to images "
    "and to training. Most normalization layers subtract a mean and divide by a standard "
    "deviation pooled over a set of values, then scale and shift with learned γ, β; they differ in "
    "*which values* share those statistics. Not all: some skip the mean, some normalize weights, some "
    "mix other norms, one uses no statistics at all (below). "
    "normviz draws those sets, applies every norm to real images and trains small "
    "networks under each, all computed live by a small numpy/PyTorch library you can "
    "also import in a notebook (`from normviz.norms import normalize`)."
)

for col, (path, title, blurb) in zip(st.columns(len(PILLARS)), PILLARS):
    with col:
        pillar(path, title, blurb)

st.subheader(f"The {len(NORMS)} norms")
st.markdown(norms_table())
st.caption("Axes: N = samples in the batch, C = channels, H×W = spatial positions. *In eval*: whether the "
           "norm switches to running statistics at test time or computes the same as in training.")
st.markdown("\n".join(f"- **{title}** ({', '.join(names)}): {what}." for title, what, names in families()))
