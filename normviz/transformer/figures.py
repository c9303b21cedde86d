"""Plotly figures of live transformer runs: ``runs`` is a list of (label, snapshots) pairs, one per
run, snapshots as :func:`normviz.transformer.train.train` yields them. plotly imported lazily.
"""
from __future__ import annotations

from normviz.palette import colour

DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")


def _grid(n: int, titles: list[str], **kw):
    from plotly.subplots import make_subplots

    return make_subplots(rows=1, cols=max(n, 1), subplot_titles=titles, horizontal_spacing=0.06, **kw)


def overview(runs: list[tuple[str, list[dict]]]):
    """Training loss (left) and test accuracy per token (right) of every run."""
    import plotly.graph_objects as go

    fig = _grid(2, ["Mini-batch loss", "Test accuracy per token"])
    for i, (label, snaps) in enumerate(runs):
        steps = [s["step"] for s in snaps]
        for col, key in ((1, "loss"), (2, "test_acc")):
            fig.add_trace(go.Scatter(
                x=steps, y=[s[key] for s in snaps], name=label, legendgroup=label, showlegend=col == 1,
                line=dict(color=colour(i))), 1, col)
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_yaxes(range=[0, 1.02], row=1, col=2)
    fig.update_xaxes(title_text="step")
    fig.update_layout(title="Loss and accuracy while training", legend_title="run", height=380)
    return fig


def gradients(runs: list[tuple[str, list[dict]]]):
    """Gradient norm of each block's parameters over training: one panel per run, one line per block."""
    import plotly.graph_objects as go

    fig = _grid(len(runs), [label for label, _ in runs], shared_yaxes=True)
    for i, (label, snaps) in enumerate(runs, 1):
        steps = [s["step"] for s in snaps]
        for b in range(len(snaps[0]["grad_norm"]) if snaps else 0):
            fig.add_trace(go.Scatter(x=steps, y=[s["grad_norm"][b] for s in snaps], name=f"block {b + 1}",
                                     legendgroup=str(b), showlegend=i == 1,
                                     line=dict(color=colour(b), dash=DASHES[b % 6])), 1, i)
    fig.update_yaxes(type="log")
    fig.update_yaxes(title_text="‖∂loss/∂θ_block‖₂", row=1, col=1)
    fig.update_xaxes(title_text="step")
    fig.update_layout(title="Gradient norm per block over training (step 0 = at initialisation)",
                      legend_title="block", height=360)
    return fig


def residual(runs: list[tuple[str, list[dict]]]):
    """Residual stream norm after the embeddings and after each block: at the start and at the end."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, (label, snaps) in enumerate(runs):
        for snap, dash in ((snaps[0], "dot"), (snaps[-1], "solid")):
            r = snap["resid_norm"]
            fig.add_trace(go.Scatter(x=["embeddings"] + [f"block {b}" for b in range(1, len(r))], y=r,
                                     mode="lines+markers", name=f"{label}, step {snap['step']}",
                                     line=dict(color=colour(i), dash=dash)))
    fig.update_layout(title="Residual stream: mean per-token ‖x‖₂ after each block (dotted: first snapshot)",
                      xaxis_title="position in the network", yaxis_title="‖x‖₂", yaxis_type="log",
                      legend_title="run, step", height=380)
    return fig


def token_stats(runs: list[tuple[str, list[dict]]]):
    """Per-token μ and σ (over D) of the first norm layer's input, for one probe sequence, at the end:
    each token's own statistics, no batch and no other token involved."""
    import plotly.graph_objects as go

    fig = _grid(2, ["μ of each token (over its D features)", "σ of each token"])
    for i, (label, snaps) in enumerate(runs):
        stats = snaps[-1]["norm_stats"]
        if not stats:
            continue
        st = stats[0]
        x = [f"token {t + 1}" for t in range(len(st["mu_token"]))]
        fig.add_trace(go.Bar(x=x, y=st["mu_token"], name=f"{label} ({st['layer']})", legendgroup=label,
                             marker_color=colour(i)), 1, 1)
        fig.add_trace(go.Bar(x=x, y=st["sigma_token"], name=label, legendgroup=label, showlegend=False,
                             marker_color=colour(i)), 1, 2)
    fig.update_layout(title="Per-token statistics of the first norm layer's input, one probe sequence, end of "
                            "training", barmode="group", legend_title="run (layer)", height=360)
    return fig


def norm_scatter(runs: list[tuple[str, list[dict]]]):
    """Input vs output of the last block's first norm, four channels, at the end of each run (the DyT
    paper's Figure 2 view)."""
    import plotly.graph_objects as go

    have = [(label, snaps[-1]["scatter"]) for label, snaps in runs if snaps[-1].get("scatter")]
    fig = _grid(len(have), [f"{label}<br>{sc['layer']}" for label, sc in have])
    for k, (label, sc) in enumerate(have, 1):
        for i, (x, y, ch) in enumerate(zip(sc["x"], sc["y"], sc["channels"])):
            fig.add_trace(go.Scattergl(x=x, y=y, mode="markers", name=f"channel {ch}", legendgroup=str(ch),
                                       showlegend=k == 1, marker=dict(size=4, color=colour(i), opacity=0.6)), 1, k)
    fig.update_xaxes(title_text="input")
    fig.update_yaxes(title_text="output (after γ, β)", row=1, col=1)
    fig.update_layout(title="Norm layer input vs output per token (end of training)", legend_title="channel",
                      height=380)
    return fig


def learned(runs: list[tuple[str, list[dict]]]):
    """What each norm layer learns beyond γ, β over training (DyT's α), per run and layer; None if nothing."""
    import plotly.graph_objects as go

    fig, any_trace = go.Figure(), False
    for i, (label, snaps) in enumerate(runs):
        layers = snaps[0]["learned"]
        for j, layer in enumerate(layers):
            for key in (k for k in layer if k != "layer"):
                any_trace = True
                fig.add_trace(go.Scatter(x=[s["step"] for s in snaps], y=[s["learned"][j][key] for s in snaps],
                                         name=f"{label}: {layer['layer']}", line=dict(color=colour(i),
                                                                                    dash=DASHES[j % 6])))
    if not any_trace:
        return None
    fig.update_layout(title="DyT's α over training, per layer", xaxis_title="step", yaxis_title="α",
                      legend_title="run: layer", height=380)
    return fig
