"""Transformer 2: RMSNorm vs LayerNorm (Zhang & Sennrich 2019) in the tiny transformer.

Both pre-norm, same seed, same settings (2 blocks, d_model 32, 400 steps, Adam lr 3e-3): the
final accuracy; then the time of a training step and of the norm layer alone (forward +
backward on 512 tokens × 32), in interleaved rounds, as ratios RMS/LN with their spread over
the rounds. Measured in native numerics: the timings are of this CPU's own kernels.
"""
from __future__ import annotations

from normviz.experiments.base import Experiment, PaperTable

DEFAULTS = dict(depth=2, steps=400, log_every=50, n_test=512, repeats=7, step_calls=30, layer_calls=300)
QUICK = dict(steps=60, log_every=20, n_test=64, repeats=3, step_calls=5, layer_calls=30)
NORMS = ("layer", "rms")  # the two norms this experiment trains
LABELS = {"layer": "pre-LN", "rms": "pre-RMSNorm", "none": "no norm"}


def run(seed: int = 0, quick: bool = False, progress=None, **overrides) -> dict:
    from normviz.transformer import TransformerConfig
    from normviz.transformer.study import ratio_with_spread, summary, time_norm_layers, time_steps

    c = {**DEFAULTS, **(QUICK if quick else {}), **overrides}
    cfg = {n: TransformerConfig(norm=n, depth=c["depth"], steps=c["steps"], log_every=c["log_every"],
                                n_test=c["n_test"], seed=seed) for n in NORMS}
    runs = {}
    for i, n in enumerate(NORMS):
        if progress:
            progress(i / 4, f"training {LABELS[n]}")
        runs[n] = summary(cfg[n], keep_history=True)
    if progress:
        progress(0.5, "timing training steps")
    steps = time_steps({**cfg, "none": cfg["layer"].replace(norm="none")}, repeats=c["repeats"], steps=c["step_calls"])
    if progress:
        progress(0.75, "timing the norm layers alone")
    layers = time_norm_layers(list(NORMS), repeats=c["repeats"], calls=c["layer_calls"])
    if progress:
        progress(1.0, "done")
    return {"config": {**c, "seed": seed, "quick": quick}, "runs": runs, "step_seconds": steps,
            "layer_seconds": layers,
            "step_ratio": ratio_with_spread(steps["rms"], steps["layer"]),
            "layer_ratio": ratio_with_spread(layers["rms"], layers["layer"]),
            "norm_share": ratio_with_spread(steps["layer"], steps["none"])}


def _r(x: dict) -> str:
    return f"{x['median']:.2f}× (rounds {x['min']:.2f}–{x['max']:.2f}×)"


def claim(results: dict) -> tuple[bool, str]:
    """RMSNorm matches LN's accuracy (within 0.02) at equal settings, and is not slower per layer."""
    a = {n: results["runs"][n]["test_acc"] for n in NORMS}
    lr = results["layer_ratio"]
    holds = a["rms"] >= a["layer"] - 0.02 and lr["median"] <= 1.0
    text = (f"Test accuracy per token: pre-RMSNorm {a['rms']:.3f}, pre-LN {a['layer']:.3f}. Time RMSNorm / LN: "
            f"the norm layer alone {_r(lr)}, a whole training step {_r(results['step_ratio'])}; a step with LN "
            f"takes {_r(results['norm_share'])} the time of one without any norm.")
    return holds, text


def headline(results: dict) -> dict:
    out = {f"{LABELS[n]}: test accuracy": round(results["runs"][n]["test_acc"], 3) for n in NORMS}
    out.update({f"{LABELS[n]}: exact sequences": round(results["runs"][n]["seq_acc"], 3) for n in NORMS})
    for name, key in (("norm layer alone", "layer_ratio"), ("training step", "step_ratio")):
        r = results[key]
        out[f"time RMS/LN, {name} (median)"] = round(r["median"], 3)
        out[f"time RMS/LN, {name} (spread over rounds)"] = round(r["max"] - r["min"], 3)
    out["time LN step / no-norm step (median)"] = round(results["norm_share"]["median"], 3)
    return out


def facts(results: dict) -> list:
    a = {n: results["runs"][n]["test_acc"] for n in NORMS}
    lr, sr = results["layer_ratio"], results["step_ratio"]
    return [
        ("RMSNorm is within 0.02 of LN's test accuracy", a["rms"] >= a["layer"] - 0.02),
        ("RMSNorm is at least as accurate as LN", a["rms"] >= a["layer"]),
        ("The RMSNorm layer alone is faster than LN in every timing round", lr["max"] < 1.0),
        ("A whole training step with RMSNorm is faster than with LN in every round", sr["max"] < 1.0),
        ("The step-time difference is within the round-to-round noise (rounds straddle 1.0)",
         sr["min"] <= 1.0 <= sr["max"]),
    ]


def figure(results: dict) -> list:
    import plotly.graph_objects as go

    from normviz.palette import colour

    f = go.Figure()
    for i, n in enumerate(NORMS):
        h = results["runs"][n]["history"]
        f.add_trace(go.Scatter(x=h["step"], y=h["test_acc"], name=LABELS[n], line=dict(color=colour(i))))
    f.update_layout(title="Test accuracy while training (same seed and settings)", xaxis_title="step",
                    yaxis_title="test accuracy per token", yaxis_range=[0, 1.02], legend_title="norm")
    t = go.Figure()
    for i, (label, key) in enumerate((("norm layer alone (fwd + bwd)", "layer_seconds"),
                                      ("training step", "step_seconds"))):
        sec = results[key]
        ratios = [a / b for a, b in zip(sec["rms"], sec["layer"])]
        t.add_trace(go.Box(y=ratios, name=label, boxpoints="all", marker_color=colour(i)))
    t.add_hline(y=1.0, line_dash="dot", annotation_text="same time")
    t.update_layout(title="Time RMSNorm / LayerNorm, one dot per interleaved round", yaxis_title="ratio",
                    xaxis_title="what was timed", showlegend=False)
    return [f, t]


SPEC = Experiment(
    key="transformer_rms",
    title="Transformers: RMSNorm vs LayerNorm, accuracy and cost",
    question="transformer",
    echoes="Zhang & Sennrich 2019 (Root Mean Square Layer Normalization)",
    paper=(PaperTable(
        source="Zhang & Sennrich 2019, abstract: running time of RMSNorm relative to LayerNorm across their models",
        columns=("bound", "running-time reduction %"),
        rows=(("smallest", 7), ("largest", 64)),
        note="'comparable performance ... reduces the running time by 7%∼64% on different models'; their "
             "implementations were not fused kernels",
    ),),
    look_for="Do the accuracy curves differ? In the timing box, do the dots sit below 1.0 and do the two boxes "
             "differ: the layer alone vs a whole step, where the norm is a small part of the work?",
    recommendation="RMSNorm where fused kernels make it cheaper (GPUs, large models): it drops the mean and β and "
                   "trains as well. Measure on your own hardware: the timings below are this CPU's and this torch's.",
    claim_text="Pre-RMSNorm's test accuracy is within 0.02 of pre-LN's at equal settings, and the RMSNorm layer "
               "alone takes no longer than LN (median over interleaved rounds).",
    how="Sorting 8 digits, 2 blocks, d_model 32, 2 heads, batch 64, Adam lr 3e-3, 400 steps; timings on one CPU "
        "thread in 7 interleaved rounds: 30 training steps, and 300 forward+backward calls of the norm layer on "
        "512 tokens × 32.",
    notes="Why RMSNorm is cheaper in fused GPU kernels even where it is not here: a fused norm kernel reads each "
          "token once and is bound by memory traffic; LN needs two reductions per token (mean, then variance) and "
          "its backward two more, RMSNorm one each, and no β to load or to accumulate a gradient for. On a GPU "
          "those reductions and synchronisations are a visible part of a memory-bound kernel, so fused RMSNorm is "
          "faster; the paper's 7–64 % came from unfused implementations, where each extra elementwise pass is a "
          "full trip through memory. Here the opposite can happen, and why is visible in torch's profiler (torch "
          "2.13, CPU): LayerNorm runs as one native kernel forward (native_layer_norm) and one backward "
          "(native_layer_norm_backward), while RMSNorm's forward is fused (_fused_rms_norm) but its backward goes "
          "through autograd over pow, mean, rsqrt, mul and div, one pass over memory each; normviz's RMSNorm also "
          "multiplies by γ as a separate op. Cost is a property of the implementation, not of the formula: the "
          "ratios above are this CPU's and this torch's, with their noise. In a whole step the norm is a small share "
          "beside the matrix products and Python overhead.",
    full_seconds=30,
    related=("transformer_lab",),
    numerics="native",
    run_fn=run,
    claim_fn=claim,
    figure_fn=figure,
    headline_fn=headline,
    facts_fn=facts,
)
