"""Experiment 9: the invariance table of the Layer Normalization paper (Table 1), computed live.

A small layer: inputs u (N×D), a weight matrix W (H×D), pre-activations ``a = u Wᵀ`` (N×H),
then one of four normalizers, all without affine (γ = 1, β = 0, so "invariant" means the
normalized output x̂ itself is unchanged):

* BN  — per hidden unit over the batch (``normalize(a, "batch")``),
* WN  — Weight Norm with g = 1: ``a = u (W / ‖W_i‖)ᵀ`` (``normalize_weight(W, "weight")``),
* LN  — per sample over the H hidden units (``normalize(a, "layer")``),
* RMS — per sample, divide by the root mean square over the H units (``normalize(a, "rms")``).

Six transformations (as in the paper):

* weight-matrix re-scaling   W → δ·W              (one scalar δ > 0)
* weight-matrix re-centering W → W + 1·γᵀ         (the same vector γ added to every row)
* weight-vector re-scaling   W_i → δ_i·W_i        (one δ_i > 0 per row)
* dataset re-scaling         u_n → δ·u_n          (every example, one scalar δ > 0)
* dataset re-centering       u_n → u_n + γ        (every example, one vector γ)
* single-case re-scaling     u_n → δ_n·u_n        (each example its own δ_n > 0)

Each cell is the max-abs change of the normalized output, computed with ε = 0 (the exact
statement: a "yes" is float round-off, ~1e-15) and with the usual ε = 1e-5. With ε > 0 a scale
δ acts like replacing ε by ε/δ² (norm-spec §1.1), so rescaling invariance holds only
approximately; ``eps_caveat`` measures how large the change gets when δ is small.
"""
from __future__ import annotations

import numpy as np

from normviz.experiments.base import Experiment, PaperTable
from normviz.norms import NORMS, normalize, normalize_weight

NORM_KEYS = ("batch", "weight", "layer", "rms")
NORM_LABELS = {"batch": "BatchNorm", "weight": "WeightNorm", "layer": "LayerNorm", "rms": "RMSNorm"}
TRANSFORMS = ("w_matrix_rescale", "w_matrix_recenter", "w_vector_rescale",
              "data_rescale", "data_recenter", "single_rescale")
TRANSFORM_LABELS = {
    "w_matrix_rescale": "weight matrix re-scaling",
    "w_matrix_recenter": "weight matrix re-centering",
    "w_vector_rescale": "weight vector re-scaling",
    "data_rescale": "dataset re-scaling",
    "data_recenter": "dataset re-centering",
    "single_rescale": "single training case re-scaling",
}

# LN paper (Ba, Kiros & Hinton 2016) Table 1, as quoted in norm-spec §2.3 (RMSNorm row from
# Zhang & Sennrich 2019). True = the normalized output is invariant.
PAPER_TABLE = {
    "batch": dict(zip(TRANSFORMS, (True, False, True, True, True, False))),
    "weight": dict(zip(TRANSFORMS, (True, False, True, False, False, False))),
    "layer": dict(zip(TRANSFORMS, (True, True, False, True, False, True))),
    "rms": dict(zip(TRANSFORMS, (True, False, False, True, False, True))),
}

EPS = 1e-5
TOL = 1e-8           # "unchanged" at ε = 0: float64 round-off is ~1e-15, a real change ≳ 1e-2
CAVEAT_DELTAS = (1.0, 0.3, 0.1, 0.03, 0.01, 0.003)


def layer_output(u: np.ndarray, W: np.ndarray, norm: str, *, eps: float = EPS) -> np.ndarray:
    """Normalized pre-activations of the layer ``a = u Wᵀ`` under ``norm`` (no affine).

    Shape:
        u: (N, D), W: (H, D) -> (N, H).
    """
    if NORMS[norm].is_weight:
        return u @ normalize_weight(W, norm).T
    a = u @ W.T  # (N, H)
    return normalize(a[:, :, None, None], norm, eps=eps)[:, :, 0, 0]  # (N, H, 1, 1) -> (N, H)


def transform(u: np.ndarray, W: np.ndarray, name: str, rng: np.random.Generator):
    """Apply one of the six transformations; returns the new (u, W)."""
    N, D = u.shape
    H = W.shape[0]
    if name == "w_matrix_rescale":
        return u, rng.uniform(0.2, 5.0) * W
    if name == "w_matrix_recenter":
        return u, W + rng.normal(0, 1, size=(1, D))  # the same vector γ added to every row
    if name == "w_vector_rescale":
        return u, rng.uniform(0.2, 5.0, size=(H, 1)) * W
    if name == "data_rescale":
        return rng.uniform(0.2, 5.0) * u, W
    if name == "data_recenter":
        return u + rng.normal(0, 1, size=(1, D)), W
    if name == "single_rescale":
        return rng.uniform(0.2, 5.0, size=(N, 1)) * u, W
    raise ValueError(f"Unknown transformation {name!r}; choose one of {', '.join(TRANSFORMS)}.")


def _change(u, W, u2, W2, norm, eps) -> float:
    return float(np.max(np.abs(layer_output(u2, W2, norm, eps=eps) - layer_output(u, W, norm, eps=eps))))


def run(seed: int = 0, quick: bool = False, *, N: int = 16, D: int = 12, H: int = 10) -> dict:
    """Compute the invariance table (max-abs output change per norm and transformation).

    Returns plain JSON-able results: ``change_eps0`` and ``change_eps`` (norm → transformation
    → max-abs change, over ``trials`` random draws), ``table`` (norm → transformation → bool,
    from ε = 0 with tolerance ``TOL``), ``paper`` (the LN paper's Table 1) and ``eps_caveat``
    (dataset re-scaling by δ at ε = 1e-5: the max-abs change of BN, LN and RMS outputs).
    """
    rng = np.random.default_rng(seed)
    trials = 2 if quick else 8
    change0 = {k: {t: 0.0 for t in TRANSFORMS} for k in NORM_KEYS}
    change_e = {k: {t: 0.0 for t in TRANSFORMS} for k in NORM_KEYS}
    for _ in range(trials):
        u = rng.normal(0, 1, size=(N, D)) + rng.normal(0, 1, size=(1, D))  # non-zero-mean data
        W = rng.normal(0, 1 / np.sqrt(D), size=(H, D))
        for t in TRANSFORMS:
            u2, W2 = transform(u, W, t, rng)
            for k in NORM_KEYS:
                change0[k][t] = max(change0[k][t], _change(u, W, u2, W2, k, 0.0))
                change_e[k][t] = max(change_e[k][t], _change(u, W, u2, W2, k, EPS))
    table = {k: {t: change0[k][t] < TOL for t in TRANSFORMS} for k in NORM_KEYS}

    u = rng.normal(0, 1, size=(N, D))
    W = rng.normal(0, 1 / np.sqrt(D), size=(H, D))
    caveat = []
    for delta in CAVEAT_DELTAS:
        row = {"delta": delta, "eps_effective": EPS / delta ** 2}
        for k in ("batch", "layer", "rms"):
            row[k] = _change(u, W, delta * u, W, k, EPS)
        caveat.append(row)
    return {
        "config": {"seed": seed, "quick": quick, "N": N, "D": D, "H": H, "trials": trials,
                   "eps": EPS, "tol": TOL, "scales": "δ ~ U(0.2, 5), shifts γ ~ N(0, 1)"},
        "norms": list(NORM_KEYS),
        "transforms": list(TRANSFORMS),
        "change_eps0": change0,
        "change_eps": change_e,
        "table": table,
        "paper": PAPER_TABLE,
        "eps_caveat": caveat,
    }


def claim(results: dict) -> tuple[bool, str]:
    """The computed table equals the paper's Table 1, with a clear gap between yes and no."""
    c0 = results["change_eps0"]
    yes = [c0[k][t] for k in results["norms"] for t in results["transforms"] if results["paper"][k][t]]
    no = [c0[k][t] for k in results["norms"] for t in results["transforms"] if not results["paper"][k][t]]
    cells = [(k, t) for k in results["norms"] for t in results["transforms"]]
    mismatches = [f"{NORM_LABELS[k]} / {TRANSFORM_LABELS[t]}" for k, t in cells
                  if results["table"][k][t] != results["paper"][k][t]]
    ce = results["change_eps"]
    eps_yes = max(ce[k][t] for k, t in cells if results["paper"][k][t])
    small = results["eps_caveat"][-1]
    holds = not mismatches
    head = ("The computed table equals the LN paper's Table 1 in all 24 cells" if holds else
            f"The computed table differs from the paper in {len(mismatches)} cell(s): {'; '.join(mismatches)}")
    text = (f"{head}. With ε = 0 every 'invariant' cell changes by at most {max(yes):.1e} (round-off) "
            f"while every other cell changes by at least {min(no):.2f}. With ε = {EPS:g} the invariant "
            f"cells change by up to {eps_yes:.1e}: only approximately invariant, and re-scaling the "
            f"data by δ = {small['delta']:g} (ε acts like ε/δ² = {small['eps_effective']:.2g}) moves "
            f"BatchNorm's output by {small['batch']:.3f} and LayerNorm's by {small['layer']:.3f}.")
    return holds, text


def headline(results: dict) -> dict:
    c0, cells = results["change_eps0"], [(k, t) for k in results["norms"] for t in results["transforms"]]
    yes = [c0[k][t] for k, t in cells if results["paper"][k][t]]
    no = [c0[k][t] for k, t in cells if not results["paper"][k][t]]
    ce = results["change_eps"]
    return {"cells equal to the paper's table": sum(results["table"][k][t] == results["paper"][k][t] for k, t in cells),
            "largest change of an invariant cell, ε = 0": max(yes), "smallest change of another cell, ε = 0": min(no),
            f"largest change of an invariant cell, ε = {EPS:g}": max(ce[k][t] for k, t in cells if results["paper"][k][t])}


def facts(results: dict) -> list:
    cells = [(k, t) for k in results["norms"] for t in results["transforms"]]
    ce = results["change_eps"]
    return [
        ("The computed table equals the LN paper's Table 1 in every cell",
         all(results["table"][k][t] == results["paper"][k][t] for k, t in cells)),
        (f"With ε = {EPS:g} some 'invariant' cell changes by more than round-off (1e-12)",
         max(ce[k][t] for k, t in cells if results["paper"][k][t]) > 1e-12),
    ]


def figure(results: dict) -> list:
    """A heatmap of log10 max-abs change (ε = 0) with yes/no marks, and the ε caveat curve."""
    import plotly.graph_objects as go

    norms, ts = results["norms"], results["transforms"]
    z = [[float(np.log10(max(results["change_eps0"][k][t], 1e-17))) for t in ts] for k in norms]
    text = [[("invariant" if results["table"][k][t] else "changes") + f"<br>{results['change_eps0'][k][t]:.1e}"
             + ("" if results["table"][k][t] == results["paper"][k][t] else "<br>≠ paper")
             for t in ts] for k in norms]
    heat = go.Figure(go.Heatmap(
        z=z, x=[TRANSFORM_LABELS[t] for t in ts], y=[NORM_LABELS[k] for k in norms],
        text=text, texttemplate="%{text}", colorscale="Cividis", zmin=-16, zmax=1,
        colorbar=dict(title="log10 max |Δ output|"),
        hovertemplate="%{y} under %{x}: %{text}<extra></extra>",
    ))
    heat.update_layout(title="LN paper Table 1, computed (ε = 0): which outputs stay unchanged",
                       xaxis_title="transformation", yaxis_title="normalizer", yaxis_autorange="reversed")

    cav = [r for r in results["eps_caveat"] if r["delta"] != 1.0]  # δ = 1 changes nothing at all
    eps_fig = go.Figure()
    for k, dash in (("batch", "solid"), ("layer", "dash"), ("rms", "dot")):
        eps_fig.add_trace(go.Scatter(
            x=[r["delta"] for r in cav], y=[max(r[k], 1e-17) for r in cav], mode="lines+markers",
            name=NORM_LABELS[k], line=dict(dash=dash), customdata=[r["eps_effective"] for r in cav],
            hovertemplate="δ = %{x}: ε acts like ε/δ² = %{customdata:.2g}; max |Δ| = %{y:.2g}<extra></extra>"))
    eps_fig.update_layout(title=f"The ε caveat: re-scaling the data by δ with ε = {EPS:g} (ε acts like ε/δ²)",
                          xaxis=dict(title="data scale δ", type="log", autorange="reversed"),
                          yaxis=dict(title="max |Δ output|", type="log", dtick=1, exponentformat="power"),
                          legend_title="normalizer")
    return [heat, eps_fig]


SPEC = Experiment(
    key="invariances",
    title="LN paper Table 1, live: what each norm's output ignores",
    question="invariances",
    echoes="Ba, Kiros & Hinton 2016 (Layer Normalization), Table 1",
    paper=(PaperTable(
        source="Ba, Kiros & Hinton 2016, Table 1 (RMSNorm row: Zhang & Sennrich 2019)",
        columns=("norm", "W-matrix re-scale", "W-matrix re-center", "W-row re-scale",
                 "dataset re-scale", "dataset re-center", "single-case re-scale"),
        rows=(("BN", "yes", "no", "yes", "yes", "yes", "no"),
              ("WN", "yes", "no", "yes", "no", "no", "no"),
              ("LN", "yes", "yes", "no", "yes", "no", "yes"),
              ("RMSNorm", "yes", "no", "no", "yes", "no", "yes")),
        note="yes = the normalized output is unchanged by the transformation",
    ),),
    look_for="Dark cells changed by round-off only (about 1e-15): the norm ignores that "
             "transformation. BN ignores anything done to a unit across the whole batch, LN "
             "and RMSNorm anything done to one example across its units. With ε > 0 the "
             "re-scaling cells are only approximately invariant: see the ε curve.",
    claim_text="The computed table (ε = 0, max-abs change < 1e-8) equals the paper's Table 1 "
               "in all 24 cells.",
    how="One layer a = u Wᵀ: u 16×12 (non-zero-mean Gaussian), W 10×12; 8 random draws of "
        "each transformation (scales δ in [0.2, 5]); float64 numpy (normviz.norms).",
    full_seconds=1,
    notes="With ε > 0, scaling the input by δ is the same as using ε/δ²: invariance to "
          "re-scaling is exact only for ε = 0.",
    run_fn=run,
    claim_fn=claim,
    figure_fn=figure,
    headline_fn=headline,
    facts_fn=facts,
)
