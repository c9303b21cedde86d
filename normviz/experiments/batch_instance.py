"""Experiment 1 — Batch-Instance Norm: where contrast is noise and where it is signal.

Nam & Kim (2018) gate BN and IN per channel, ``y = γ(ρ·x̂_BN + (1 − ρ)·x̂_IN) + β``, and
find the learned ρ polarised: most gates stay at BN (ρ ≈ 1), a minority switch to IN (ρ ≈ 0),
most of them low in the network. Two tasks on the digits show when each side wins:

- **contrast is noise** (``digits_contrast``: each image × a random factor in [0, 2)): the
  label does not depend on contrast, IN removes it, and the first layer's gates fall towards
  IN while the last layer's stay with BN (BN and IN alone are trained too, for comparison);
- **brightness is the label** (``digits_brightness``: bright ×1 vs dark ×0.5): IN erases
  exactly the signal, so IN alone sits at chance while BN and BIN solve it, and BIN's gates
  stay with BN.

Settings (norm-spec §6.4): the training lab's CNN, 3 conv layers of 16 channels at 8×8,
batch 32, SGD lr 0.05 with momentum 0.9, BIN with ρ init 1, ×10 lr, no weight decay on ρ,
clipped to [0, 1] after each step (all done by ``normviz.training``).
"""
from __future__ import annotations

from normviz.experiments.base import Experiment, PaperTable

RHO_EDGES = [i / 10 for i in range(11)]
NORM_LABELS = {"batch": "BN", "instance": "IN", "batch_instance": "BIN"}
CONTRAST_STEPS, BRIGHTNESS_STEPS, QUICK_STEPS = 1000, 600, 30
CLAIM_RHO_GAP = 0.3  # layer 1's mean ρ at least this far below the last layer's
CLAIM_ACC_GAP = 0.2  # IN's accuracy at least this far below BN's and BIN's ("clearly")


def _config(**kw):
    from normviz.training import TrainConfig

    base = dict(model="cnn", depth=3, hidden=16, batch_size=32, lr=0.05, momentum=0.9, init_std=None)
    base.update(kw)
    base["log_every"] = base["steps"]
    return TrainConfig(**base)


def _hist(values, edges=RHO_EDGES) -> list[float]:
    import numpy as np

    counts, _ = np.histogram(np.clip(values, 0.0, 1.0), bins=edges)
    return (counts / max(len(values), 1)).tolist()


def run(seed: int = 0, quick: bool = False, progress=None) -> dict:
    """Train BIN on the contrast task, and BN, IN, BIN on the brightness task.

    Returns ρ per layer and channel, its mean and histogram by depth (fractions per 0.1 bin),
    and test accuracies (eval mode).
    """
    import numpy as np

    from normviz.training import final_snapshot

    c_steps = QUICK_STEPS if quick else CONTRAST_STEPS
    b_steps = QUICK_STEPS if quick else BRIGHTNESS_STEPS
    report = progress or (lambda f, t: None)

    report(0.0, "contrast task: training Batch-Instance Norm")
    cfg = _config(norm="batch_instance", dataset="digits_contrast", steps=c_steps, seed=seed)
    snap = final_snapshot(cfg)
    contrast = {
        "rho": snap.rho,
        "rho_mean": [float(np.mean(r)) for r in snap.rho],
        "rho_hist": [_hist(r) for r in snap.rho],
        "test_acc": snap.test_acc,
        "acc": {},
    }
    for i, norm in enumerate(("batch", "instance")):  # the pure norms on the same task, for comparison
        report((i + 1) / 6, f"contrast task: training {NORM_LABELS[norm]}")
        contrast["acc"][norm] = final_snapshot(_config(norm=norm, dataset="digits_contrast", steps=c_steps,
                                                       seed=seed)).test_acc
    contrast["acc"]["batch_instance"] = snap.test_acc
    brightness = {"acc": {}, "rho": None}
    for i, norm in enumerate(("batch", "instance", "batch_instance")):
        report((i + 3) / 6, f"brightness task: training {NORM_LABELS[norm]}")
        snap = final_snapshot(_config(norm=norm, dataset="digits_brightness", steps=b_steps, seed=seed))
        brightness["acc"][norm] = snap.test_acc
        if snap.rho:
            brightness["rho"] = snap.rho
            brightness["rho_mean"] = [float(np.mean(r)) for r in snap.rho]
            brightness["rho_hist"] = [_hist(r) for r in snap.rho]
    report(1.0, "done")
    return {
        "seed": seed,
        "quick": quick,
        "config": {"contrast": {k: v for k, v in cfg.to_dict().items() if k != "norm"},
                   "brightness_steps": b_steps},
        "rho_edges": RHO_EDGES,
        "contrast": contrast,
        "brightness": brightness,
    }


def claim(results: dict) -> tuple[bool, str]:
    """Contrast: layer 1's mean ρ ≥ 0.3 below the last layer's. Brightness: IN clearly worst."""
    rho = results["contrast"]["rho_mean"]
    acc = results["brightness"]["acc"]
    gap = rho[-1] - rho[0]
    in_gap = min(acc["batch"], acc["batch_instance"]) - acc["instance"]
    holds_rho, holds_acc = gap >= CLAIM_RHO_GAP, in_gap >= CLAIM_ACC_GAP
    sentence = (
        f"Contrast as noise: mean ρ is {rho[0]:.2f} in layer 1 and {rho[-1]:.2f} in layer {len(rho)} "
        f"(gap {gap:.2f}; claim ≥ {CLAIM_RHO_GAP}: {'holds' if holds_rho else 'fails'}). "
        f"Brightness as label: test accuracy BN {acc['batch']:.1%}, BIN {acc['batch_instance']:.1%}, "
        f"IN {acc['instance']:.1%} (IN is {in_gap:.1%} below the lower of BN and BIN; claim ≥ "
        f"{CLAIM_ACC_GAP:.0%}: {'holds' if holds_acc else 'fails'})."
    )
    c_acc = results["contrast"].get("acc")
    if c_acc:
        sentence += (f" For comparison, with contrast as noise: IN {c_acc['instance']:.1%}, BIN "
                     f"{c_acc['batch_instance']:.1%}, BN {c_acc['batch']:.1%}.")
    return holds_rho and holds_acc, sentence


def headline(results: dict) -> dict:
    rho, c_acc, b_acc = results["contrast"]["rho_mean"], results["contrast"]["acc"], results["brightness"]["acc"]
    out = {"contrast task: mean ρ, layer 1": round(rho[0], 3), f"contrast task: mean ρ, layer {len(rho)}": round(rho[-1], 3)}
    out.update({f"contrast task: {NORM_LABELS[k]} test accuracy": round(c_acc[k], 4) for k in NORM_LABELS})
    out.update({f"brightness task: {NORM_LABELS[k]} test accuracy": round(b_acc[k], 4) for k in NORM_LABELS})
    return out


def facts(results: dict) -> list:
    rho, c_acc, b_acc = results["contrast"]["rho_mean"], results["contrast"]["acc"], results["brightness"]["acc"]
    return [
        (f"Contrast as noise: layer 1's gates sit at least {CLAIM_RHO_GAP} closer to IN than the last layer's",
         rho[-1] - rho[0] >= CLAIM_RHO_GAP),
        ("Contrast as noise: IN alone is the most accurate of IN, BIN and BN",
         c_acc["instance"] >= max(c_acc["batch"], c_acc["batch_instance"])),
        ("Contrast as noise: BIN is at least as accurate as BN", c_acc["batch_instance"] >= c_acc["batch"]),
        (f"Brightness as label: IN is at least {CLAIM_ACC_GAP:.0%} below both BN and BIN",
         min(b_acc["batch"], b_acc["batch_instance"]) - b_acc["instance"] >= CLAIM_ACC_GAP),
    ]


def figure(results: dict) -> list:
    """ρ histograms by depth (contrast task), mean ρ by depth in both tasks, brightness accuracy."""
    import plotly.graph_objects as go

    from normviz.palette import OKABE_ITO as COLORS

    edges = results["rho_edges"]
    centers = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
    fig1 = go.Figure()
    for i, h in enumerate(results["contrast"]["rho_hist"]):
        fig1.add_bar(x=centers, y=h, name=f"layer {i + 1}", marker_color=COLORS[i % len(COLORS)],
                     marker_pattern_shape=["", "/", "."][i % 3], width=0.028)
    fig1.update_layout(title="Contrast is noise: learned gates ρ by depth (0 = IN, 1 = BN)",
                       xaxis_title="ρ (bin centre)", yaxis_title="fraction of the layer's channels",
                       barmode="group", xaxis_range=[0, 1], legend_title="layer")

    fig2 = go.Figure()
    layers = list(range(1, len(results["contrast"]["rho_mean"]) + 1))
    fig2.add_scatter(x=layers, y=results["contrast"]["rho_mean"], mode="lines+markers",
                     name="contrast is noise", marker_symbol="circle", line_color=COLORS[0])
    if results["brightness"].get("rho_mean"):
        fig2.add_scatter(x=layers, y=results["brightness"]["rho_mean"], mode="lines+markers",
                         name="brightness is the label", marker_symbol="square", line_color=COLORS[1],
                         line_dash="dash")
    fig2.update_layout(title="Mean ρ by depth: IN early where contrast is noise, BN where it is signal",
                       xaxis_title="layer", yaxis_title="mean ρ (0 = IN, 1 = BN)", yaxis_range=[-0.02, 1.05],
                       xaxis_dtick=1)

    fig3 = go.Figure()
    tasks = [("contrast is noise", results["contrast"].get("acc")),
             ("brightness is the label", results["brightness"]["acc"])]
    for i, norm in enumerate(NORM_LABELS):
        xs = [t for t, acc in tasks if acc and norm in acc]
        ys = [100 * acc[norm] for t, acc in tasks if acc and norm in acc]
        fig3.add_bar(x=xs, y=ys, name=NORM_LABELS[norm], marker_color=COLORS[i],
                     marker_pattern_shape=["", "/", "."][i], text=[f"{y:.1f} %" for y in ys], textposition="outside")
    fig3.add_hline(y=50, line_dash="dot", annotation_text="chance on the brightness task",
                   annotation_position="bottom left")
    fig3.update_layout(title="Test accuracy: IN wins where contrast is noise, fails where it is the label",
                       xaxis_title="task", yaxis_title="test accuracy %", yaxis_range=[0, 112], barmode="group",
                       legend_title="norm")
    return [fig1, fig2, fig3]


SPEC = Experiment(
    key="batch_instance",
    title="Batch-Instance Norm: where contrast is noise and where it is signal",
    question="style",
    echoes="Nam & Kim 2018, Figure 2 (ρ histograms by depth) and Table 1",
    paper=(
        PaperTable(
            source="Nam & Kim 2018, Figure 2: learned gates ρ, CIFAR-100 ResNet-110, fraction of gates per bin",
            columns=("ρ bin", "all layers", "lower", "middle", "upper"),
            rows=(("0.0–0.1", 0.10, 0.21, 0.13, 0.07), ("0.8–0.9", 0.06, 0.09, 0.08, 0.04),
                  ("0.9–1.0", 0.72, 0.38, 0.64, 0.85)),
            note="≈, read off the figure; bins 0.1–0.8 each hold 1–5 %",
        ),
        PaperTable(
            source="Nam & Kim 2018, top-1 accuracy % (official repo, mean where ± std given)",
            columns=("dataset", "BN", "BIN"),
            rows=(("CIFAR-10 ResNet-110", 93.72, 94.29), ("CIFAR-100 ResNet-110", 74.26, 75.88),
                  ("ImageNet ResNet-18", 69.89, 70.68), ("Office-Home average", 78.95, 80.08)),
        ),
    ),
    look_for="Where do the gates ρ go by depth when contrast is a nuisance, and how do IN, BIN and BN compare on "
             "that task? When brightness is the label, IN erases exactly the signal: compare its accuracy with BN's "
             "and BIN's.",
    recommendation="A learned gate between BN and IN goes where the task wants: towards IN early when contrast "
                   "is a nuisance, to BN when brightness carries the label (Nam & Kim report +0.6 to +1.6 points).",
    claim_text="Contrast nuisance: layer 1's mean ρ is at least 0.3 below the last layer's. "
               "Brightness as label: IN's accuracy is clearly below BN's and BIN's.",
    how="The training lab's CNN (3 conv layers × 16 channels at 8×8, GAP), batch 32, SGD lr 0.05, "
        "momentum 0.9; 1000 steps on the contrast task, 600 on the brightness task; BIN with ρ init 1, "
        "×10 lr, no weight decay, clipped to [0, 1].",
    full_seconds=60,
    run_fn=run,
    claim_fn=claim,
    figure_fn=figure,
    headline_fn=headline,
    facts_fn=facts,
)
