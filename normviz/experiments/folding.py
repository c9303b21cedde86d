"""Inference cost and folding: which norms disappear at test time, and what that buys on a CPU.

At inference BN (eval mode: running statistics), Ghost BN and Batch Renorm are fixed per-channel
affine maps, and Weight Norm and Weight Standardization fix the weight; all of them fold into
the conv or linear layer before them (:mod:`normviz.training.fold`), so the deployed network has
no norm at all. LN, IN, GN, RMSNorm, PONO, FRN, the mixtures and DyT compute from the input at test
time and stay (the registry's ``folds_at_inference``).

The experiment trains the digits CNN (two 3×3 conv blocks of 16 and 32 channels, BN) with SGD,
folds it and checks the function is unchanged in float32 (max |Δ| of the logits, predictions on
every test image), does the same for Weight Norm + mean-only BN and for Weight Standardization +
BN, then times eval passes of the unfolded and the folded BN net round-robin (batch 64 and batch 1,
one thread) and reports the speed-up with its quartiles. The recommendation table joins the
registry's folding with the ``cost`` experiment's shipped per-step ratios.
"""
from __future__ import annotations

import time

import numpy as np

from normviz.experiments.base import Experiment, PaperTable

DEFAULTS = dict(steps=400, batch_size=32, lr=0.05, rounds=15, reps=20)
QUICK = dict(steps=60, rounds=5, reps=10)
WIDTHS = (16, 32)
FOLDED_NETS = ("batch", "weight+mean_only", "weight_standardization+batch")
TOL = 1e-4  # float32 logits of order 10: folding reorders a few multiply-adds per output


def _eval_ms(model, x, reps: int) -> float:
    import torch

    with torch.no_grad():
        t0 = time.perf_counter()
        for _ in range(reps):
            model(x)
    return (time.perf_counter() - t0) / reps * 1e3


def _check_fold(norm: str, data, cfg: dict, seed: int, steps: int):
    """Train, fold; (trained model, folded model, max |Δ| logits, predictions changed, test error %)."""
    import torch

    from normviz.experiments import loop
    from normviz.training.fold import fold_model

    model = loop.cnn(norm, widths=WIDTHS, seed=seed)
    loop.fit(model, data, steps=steps, batch_size=cfg["batch_size"], lr=cfg["lr"], seed=seed, log_every=steps)
    model.eval()
    folded = fold_model(model)
    Xte = data[2]
    with torch.no_grad():
        a, b = model(Xte), folded(Xte)
    scale = max(1.0, float(a.abs().max()))
    changed = int((a.argmax(1) != b.argmax(1)).sum())
    return model, folded, float((a - b).abs().max()) / scale, changed, loop.error(model, Xte, data[3])


def run(seed: int = 0, quick: bool = False, progress=None, **overrides) -> dict:
    import torch

    from normviz.experiments import loop
    from normviz.training import threads

    cfg = {**DEFAULTS, **(QUICK if quick else {}), **overrides}
    data = loop.digits("cnn")
    out = {"config": {**cfg, "seed": seed, "quick": quick, "widths": list(WIDTHS), "dtype": "float32",
                      "threads": 1}, "folds": {}}
    with threads(1):
        nets = {}
        for i, norm in enumerate(FOLDED_NETS):
            if progress:
                progress(0.5 * i / len(FOLDED_NETS), f"training and folding the {norm} net")
            steps = cfg["steps"] if norm == "batch" else max(20, cfg["steps"] // 4)
            model, folded, diff, changed, err = _check_fold(norm, data, cfg, seed, steps)
            nets[norm] = (model, folded)
            out["folds"][norm] = {"max_rel_diff": diff, "predictions_changed": changed, "test_error": err,
                                  "steps": steps}
        model, folded = nets["batch"]
        timings = {}
        for batch in (64, 1):
            x = data[2][:batch]
            for m in (model, folded):
                _eval_ms(m, x, 3)  # warm-up
            ratios, plain_ms, folded_ms = [], [], []
            for r in range(cfg["rounds"]):  # round-robin: a load change hits both alike
                if progress:
                    progress(0.5 + 0.5 * (r + (batch == 1) * cfg["rounds"]) / (2 * cfg["rounds"]),
                             f"timing eval at batch {batch}, round {r + 1}")
                t_plain, t_fold = _eval_ms(model, x, cfg["reps"]), _eval_ms(folded, x, cfg["reps"])
                plain_ms.append(t_plain)
                folded_ms.append(t_fold)
                ratios.append(t_plain / t_fold)
            q1, med, q3 = np.percentile(ratios, [25, 50, 75]).tolist()
            timings[str(batch)] = {"speedup": [med, q1, q3], "plain_ms": float(np.median(plain_ms)),
                                   "folded_ms": float(np.median(folded_ms))}
        out["timing"] = timings
        out["torch_threads"] = torch.get_num_threads()
    return out


def recommendation_table(results: dict) -> list[dict]:
    """Per norm: folds at inference (registry), train and eval step ratios vs no norm (cost experiment)."""
    from normviz.experiments import EXPERIMENTS
    from normviz.norms import NORMS

    cost = EXPERIMENTS["cost"].precomputed()
    rows = next(iter(cost["runs"].values()))["results"]["rows"] if cost else {}
    table = []
    for key, spec in NORMS.items():
        r = rows.get(key, {})
        table.append({"norm": spec.name, "folds at inference": "yes" if spec.folds_at_inference else "no",
                      "train step vs none (CPU)": round(r["train_ratio"], 2) if r else None,
                      "eval pass vs none (CPU, unfolded)": round(r["eval_ratio"], 2) if r else None,
                      "deployed cost": "none (folded)" if spec.folds_at_inference else "its own pass"})
    return table


def facts(results: dict) -> list:
    f = results["folds"]
    t = results["timing"]
    out = [
        (f"Folding the trained BN net changes its float32 logits by less than {TOL:g} (relative) and no test "
         f"prediction", f["batch"]["max_rel_diff"] < TOL and f["batch"]["predictions_changed"] == 0),
        (f"Weight Norm + mean-only BN and Weight Standardization + BN fold just as exactly (< {TOL:g}, no "
         f"prediction changed)", all(f[k]["max_rel_diff"] < TOL and f[k]["predictions_changed"] == 0
                                     for k in FOLDED_NETS[1:])),
    ]
    for batch in ("64", "1"):
        med, q1, q3 = t[batch]["speedup"]
        out.append((f"At batch {batch} the folded net's eval pass is faster than the unfolded one beyond the timing "
                    f"noise (speed-up quartiles above 1)", q1 > 1.0))
    return out


def claim(results: dict) -> tuple[bool, str]:
    f, t = results["folds"], results["timing"]
    exact = all(h for _, h in facts(results)[:2])
    speed = "; ".join(f"batch {b}: {t[b]['speedup'][0]:.2f}× (quartiles {t[b]['speedup'][1]:.2f}–"
                      f"{t[b]['speedup'][2]:.2f}, {t[b]['plain_ms']:.3f} → {t[b]['folded_ms']:.3f} ms)" for b in t)
    text = (f"Folded into the convs, the trained BN net computes the same function: float32 logits within "
            f"{f['batch']['max_rel_diff']:.1e} (relative), {f['batch']['predictions_changed']} of the test predictions "
            f"changed; WN + mean-only BN {f['weight+mean_only']['max_rel_diff']:.1e}, WS + BN "
            f"{f['weight_standardization+batch']['max_rel_diff']:.1e}. Eval speed-up from folding on this CPU "
            f"(one thread): {speed}.")
    return exact, text


def headline(results: dict) -> dict:
    out = {f"max |Δ| logits after folding, {k}": float(f"{v['max_rel_diff']:.2g}") for k, v in results["folds"].items()}
    out.update({f"eval speed-up from folding, batch {b}": round(v["speedup"][0], 2)
                for b, v in results["timing"].items()})
    out["BN net test error %"] = round(results["folds"]["batch"]["test_error"], 2)
    return out


def figure(results: dict) -> list:
    import plotly.graph_objects as go

    t = results["timing"]
    fig = go.Figure()
    for b, color in (("64", "#0072B2"), ("1", "#E69F00")):
        med, q1, q3 = t[b]["speedup"]
        fig.add_trace(go.Bar(x=[f"batch {b}"], y=[med], name=f"batch {b}", marker_color=color,
                             error_y=dict(type="data", symmetric=False, array=[q3 - med], arrayminus=[med - q1]),
                             text=[f"{med:.2f}×"], textposition="outside"))
    fig.add_hline(y=1.0, line_dash="dot", annotation_text="no speed-up")
    fig.update_layout(title="Eval speed-up from folding BN into the convs (median, quartiles over rounds; CPU, "
                            "one thread)", yaxis_title="unfolded time / folded time", xaxis_title="batch",
                      showlegend=False)
    rows = recommendation_table(results)
    cols = list(rows[0])
    table = go.Figure(go.Table(header=dict(values=cols, align="left"),
                               cells=dict(values=[[r[c] if r[c] is not None else "–" for r in rows] for c in cols],
                                          align="left")))
    table.update_layout(title="Which norms cost nothing at inference (registry) and what each costs per step on "
                              "this CPU (cost experiment, seed 0)", height=560)
    return [fig, table]


SPEC = Experiment(
    key="folding",
    title="Inference cost: folding BN, WN and WS into the layer before them",
    question="cost",
    echoes="The inference-time fusion of BN into convolutions (e.g. TensorRT, torch.ao's fuse_modules)",
    paper=(PaperTable(
        source="Ioffe & Szegedy 2015, §3.1 (at inference BN is a linear transform that can be composed with the "
               "layer before it); Salimans & Kingma 2016 (WN: a reparameterization, nothing at test time)",
        columns=("norm", "at inference"),
        rows=(("BatchNorm", "a fixed linear transform, folds into the conv"),
              ("Weight Norm", "a fixed weight w = g·v/‖v‖"),
              ("LayerNorm, GroupNorm, InstanceNorm", "statistics of each test input: stays")),
        note="qualitative",
    ),),
    look_for="Logits identical to float32 round-off after folding; the speed-up bars and their quartiles, at a "
             "large and a single-image batch.",
    recommendation="Deploy BN, WN and WS nets folded: the norm costs nothing at inference. LN, GN, IN and RMSNorm "
                   "stay as their own pass; on GPUs fused kernels make that pass cheap, on this CPU it is "
                   "measured in the cost experiment.",
    claim_text="A trained BN net folded into its convs gives the same logits (float32 round-off) and the same "
               "predictions; WN + mean-only BN and WS + BN too.",
    how="Digits 8×8, CNN conv 3×3 ×16 → norm → ReLU → conv ×32 → norm → ReLU → pool → linear, SGD lr 0.05 momentum "
        "0.9 batch 32, 400 steps (BN) and 100 (WN, WS); folding by normviz.training.fold; eval passes timed "
        "round-robin, 15 rounds × 20 passes, one thread.",
    notes="CPU timings here are not GPU timings: inference engines fuse BN into the convolution on GPUs as well, "
          "and fused LN/RMSNorm kernels make the norms that stay much cheaper than two extra passes over memory. "
          "The timing shipped is this CPU's (native kernels).",
    full_seconds=40,
    numerics="native",
    run_fn=run,
    claim_fn=claim,
    figure_fn=figure,
    headline_fn=headline,
    facts_fn=facts,
)
