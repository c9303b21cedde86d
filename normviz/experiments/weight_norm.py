"""Experiment 5 — Weight Norm, with and without mean-only BN (Salimans & Kingma 2016).

Weight Norm writes each unit's weights as ``w = g·v/‖v‖``. Because the gradient with respect
to ``v`` is orthogonal to ``v``, a plain SGD step can only lengthen it:
``‖v′‖² = ‖v‖² + η²‖∇_v L‖²`` (norm-spec §2.2). A longer ``v`` means a smaller effective step
(the direction moves by about ``η‖∇‖/‖v‖``), so WN damps its own learning rate. Mean-only BN
adds the centring that WN lacks, without BN's division by a noisy batch std.

Four runs of the same small CNN on the digits, plain SGD (no momentum, so the growth law is
exact): no norm, Weight Norm, WN + mean-only BN, BatchNorm. Logged: errors, ‖v‖ per layer,
time per step.
"""
from __future__ import annotations

from normviz.experiments.base import Experiment, PaperTable

NORMS = ("none", "weight", "weight+mean_only", "batch")
LABELS = {"none": "no norm", "weight": "Weight Norm", "weight+mean_only": "WN + mean-only BN",
          "batch": "BatchNorm"}
SETTINGS = dict(widths=(16, 32), batch_size=32, lr=0.5, momentum=0.0)
STEPS, QUICK_STEPS = 1500, 40


def _v_norms(model) -> list[float]:
    from normviz.norms.torch_modules import WeightNorm

    return [float(m.v.detach().norm()) for m in model.modules() if isinstance(m, WeightNorm)]


def time_steps(models: dict, X, y, repeats: int) -> dict:
    """Seconds of one training step (forward, backward, no update) per model: [fastest, 25th and
    75th percentile over rounds] (the quartiles are the noise the comparisons must exceed).

    The models are timed round-robin, one step each per round, so a machine whose load drifts
    slows all of them alike; the minimum over rounds drops every round another process
    interrupted (on a shared machine the median still wanders by ±50 %).
    """
    import time

    import numpy as np
    import torch
    import torch.nn.functional as F

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    times = {k: [] for k in models}
    try:
        for _ in range(repeats):
            for k, model in models.items():
                model.train()
                t0 = time.perf_counter()
                F.cross_entropy(model(X), y).backward()
                times[k].append(time.perf_counter() - t0)
                model.zero_grad(set_to_none=True)
    finally:
        torch.set_num_threads(before)
    return {k: [min(v), *np.percentile(v, [25, 75]).tolist()] for k, v in times.items()}


def step_times(seed: int, repeats: int) -> dict:
    """Fastest seconds of one training step per norm on freshly built models (a step's time does
    not depend on the weights' values)."""
    from normviz.experiments.loop import cnn, digits

    data, B = digits("cnn"), SETTINGS["batch_size"]
    models = {norm: cnn(norm, widths=SETTINGS["widths"], seed=seed) for norm in NORMS}
    return time_steps(models, data[0][:B], data[1][:B], repeats=repeats)


def run(seed: int = 0, quick: bool = False, progress=None) -> dict:
    from normviz.experiments.loop import cnn, digits, fit

    steps = QUICK_STEPS if quick else STEPS
    data = digits("cnn")
    out = {"seed": seed, "quick": quick, "settings": dict(SETTINGS, steps=steps, widths=list(SETTINGS["widths"])),
           "runs": {}}
    for i, norm in enumerate(NORMS):
        model = cnn(norm, widths=SETTINGS["widths"], seed=seed)
        sub = (lambda f, t, i=i: progress((i + f) / len(NORMS), t)) if progress else None
        log = fit(model, data, steps=steps, batch_size=SETTINGS["batch_size"], lr=SETTINGS["lr"],
                  momentum=SETTINGS["momentum"], seed=seed, log_every=max(1, steps // (3 if quick else 15)),
                  measure=_v_norms if norm.startswith("weight") else None, progress=sub, label=LABELS[norm])
        log["v_norm"] = log.pop("measure") if norm.startswith("weight") else None
        if log["v_norm"] is None:
            log.pop("measure", None)
        out["runs"][norm] = log
    from normviz import numerics

    repeats = 5 if quick else 60
    # Step times are a property of this CPU's fast kernels, so they are always measured natively
    # (a portable precompute times them in a fresh native process).
    timing = (numerics.run_fresh("normviz.experiments.weight_norm:step_times", "native", seed=seed, repeats=repeats)
              if numerics.mode() == "portable" else step_times(seed, repeats))
    out["timed_in"] = "native"
    for norm, (fastest, q1, q3) in timing.items():
        out["runs"][norm]["mean_sec_per_step"] = fastest  # the round-robin minimum, not the training loop's mean
        out["runs"][norm]["sec_per_step_quartiles"] = [q1, q3]
    return out


def claim(results: dict) -> tuple[bool, str]:
    """‖v‖ never shrinks under plain SGD (every layer, every log) and has grown by the end."""
    runs = results["runs"]
    grows, parts = True, []
    for norm in ("weight", "weight+mean_only"):
        v = runs[norm]["v_norm"]  # logs × layers
        for layer in range(len(v[0])):
            series = [row[layer] for row in v]
            mono = all(b >= a * (1 - 1e-6) for a, b in zip(series, series[1:]))
            grows &= mono and series[-1] > series[0]
            parts.append(f"{LABELS[norm]} layer {layer + 1}: ‖v‖ {series[0]:.2f} → {series[-1]:.2f}")
    err = ", ".join(f"{LABELS[k]} {runs[k]['val_error'][-1]:.1f} %" for k in NORMS)
    best = min(NORMS, key=lambda k: runs[k]["val_error"][-1])
    sentence = (f"‖v‖ only grows under plain SGD ({'holds' if grows else 'fails'}): " + "; ".join(parts)
                + f". Final test error: {err}; lowest: {LABELS[best]}.")
    return grows, sentence


def _slower(runs: dict, a: str, b: str) -> bool:
    """a's step is slower than b's beyond the timing noise: a's fastest round is above b's 75th percentile."""
    q = runs[b].get("sec_per_step_quartiles", [runs[b]["mean_sec_per_step"]] * 2)
    return runs[a]["mean_sec_per_step"] > q[1]


def headline(results: dict) -> dict:
    runs = results["runs"]
    out = {f"{LABELS[k]}: final test error (%)": round(runs[k]["val_error"][-1], 2) for k in NORMS}
    t_none = runs["none"]["mean_sec_per_step"]
    out.update({f"{LABELS[k]}: time per step / no norm": round(runs[k]["mean_sec_per_step"] / t_none, 2)
                for k in NORMS if k != "none"})
    for norm in ("weight", "weight+mean_only"):
        v = runs[norm]["v_norm"]
        out[f"{LABELS[norm]}: ‖v‖ end / start, layer 1"] = round(v[-1][0] / v[0][0], 2)
    return out


def facts(results: dict) -> list:
    runs = results["runs"]
    err = {k: runs[k]["val_error"][-1] for k in NORMS}
    return [
        ("‖v‖ never shrinks under plain SGD, in every layer", claim(results)[0]),
        ("WN + mean-only BN has the lowest final test error of the four (the paper's headline)",
         err["weight+mean_only"] <= min(err.values())),
        ("Weight Norm beats no norm", err["weight"] < err["none"]),
        ("BatchNorm beats Weight Norm", err["batch"] < err["weight"]),
        ("BatchNorm's step is slower than Weight Norm's beyond the timing noise", _slower(runs, "batch", "weight")),
        ("Weight Norm's step is slower than no norm's beyond the timing noise", _slower(runs, "weight", "none")),
    ]


def figure(results: dict) -> list:
    import plotly.graph_objects as go

    from normviz.palette import OKABE_ITO as COLORS

    runs = results["runs"]
    symbols = ("circle", "square", "diamond", "triangle-up")
    fig1 = go.Figure()
    for i, (norm, log) in enumerate(runs.items()):
        fig1.add_scatter(x=log["step"], y=log["val_error"], mode="lines+markers", name=LABELS[norm],
                         line_color=COLORS[i], marker_symbol=symbols[i])
    fig1.update_layout(title="Test error (eval mode)", xaxis_title="step", yaxis_title="error %",
                       yaxis_type="log")

    fig2 = go.Figure()
    for i, norm in enumerate(("weight", "weight+mean_only")):
        v = runs[norm]["v_norm"]
        for layer in range(len(v[0])):
            fig2.add_scatter(x=runs[norm]["step"], y=[row[layer] / v[0][layer] for row in v],
                             mode="lines+markers", name=f"{LABELS[norm]}, layer {layer + 1}",
                             line_color=COLORS[1 + i], line_dash=("solid", "dash")[layer % 2],
                             marker_symbol=symbols[1 + i])
    fig2.update_layout(title="‖v‖ relative to its start: plain SGD can only lengthen v",
                       xaxis_title="step", yaxis_title="‖v‖ / ‖v₀‖")

    t_none = runs["none"]["mean_sec_per_step"]
    names = [LABELS[k] for k in runs]
    ratios = [runs[k]["mean_sec_per_step"] / t_none for k in runs]
    fig3 = go.Figure(go.Bar(x=names, y=ratios, marker_color=list(COLORS[:len(ratios)]),
                            text=[f"{r:.2f}×" for r in ratios], textposition="outside"))
    fig3.update_layout(title="Time per step (forward + backward) relative to no norm, fastest of round-robin timings",
                       yaxis_title="ratio", xaxis_title="parameterization", showlegend=False)
    return [fig1, fig2, fig3]


SPEC = Experiment(
    key="weight_norm",
    title="Weight Norm, with and without mean-only BN",
    question="cost",
    echoes="Salimans & Kingma 2016, Table 1 (CIFAR-10 test error)",
    paper=(PaperTable(
        source="Salimans & Kingma 2016: CIFAR-10 test error %, modified ConvPool-CNN-C",
        columns=("parameterization", "test error %"),
        rows=(("normal", 8.43), ("Weight Norm", 8.46), ("BatchNorm", 8.05), ("WN + mean-only BN", 7.31)),
        note="BN was ≈ 16 % slower per iteration; WN not noticeably slower",
    ),),
    look_for="‖v‖ against training: under plain SGD the gradient is orthogonal to v, so a step can only "
             "lengthen it, which shrinks the effective step. Then the errors of the four runs, and the time per step "
             "(measured natively; 'slower' only outside the timing noise).",
    recommendation="Weight Norm is nearly free per step and needs no batch; the paper's best result came from "
                   "pairing it with mean-only BN (7.31 % vs BN's 8.05 % on CIFAR-10).",
    claim_text="Under plain SGD ‖v‖ never shrinks, in every layer, and has grown by the end.",
    how="CNN conv 16 → conv 32 at 8×8, GAP, linear; batch 32, plain SGD lr 0.5 (no momentum, so "
        "the growth law is exact), 1500 steps. Time per step: fastest of 60 round-robin rounds, with the "
        "quartiles over rounds as its noise, measured with this CPU's native kernels.",
    full_seconds=30,
    run_fn=run,
    claim_fn=claim,
    figure_fn=figure,
    headline_fn=headline,
    facts_fn=facts,
)
