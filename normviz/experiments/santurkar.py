"""Experiment 3: why does BatchNorm help? Santurkar et al. 2018 at CPU scale.

Two experiments on the digits MLP 64 → 4×100 → 10 (ReLU, ``normviz.training.build_model``):

1. **Noisy BN.** After every BN layer (after its γ, β) add random noise that changes at every
   step: ``y ← s ⊙ y + m`` with, per step and unit j, a mean shift μ_j ~ U(−1, 1) and a scale
   κ_j ~ U(0.5, 2), and per sample and activation ``m = μ_j + 0.5·z``, ``s = κ_j·(1 + 0.2·z')``
   (z, z' standard normal): non-zero mean, non-unit variance, per activation, per sample,
   resampled every step. Only in training, as in the paper. The layer inputs now move far more
   than with plain BN; does training suffer?

   Stability is measured on a fixed probe batch (test images) in training mode (what the next
   layer sees while it trains, noise included): the input of the last hidden linear layer,
   per-unit mean and standard deviation, and their change between consecutive log points in
   units of the typical standard deviation ("drift", 0 = perfectly stable).

2. **Loss landscape along the gradient.** Every ``probe_every`` steps of the runs with and
   without BN, on a *copy* of the model (so BN's running statistics are not disturbed) and
   the current batch: g = ∇L(θ); for step sizes η ∈ {0.05, 0.1, 0.2, 0.4} record L(θ − ηg)
   (the "loss landscape" band: its range), ‖∇L(θ − ηg) − g‖ (gradient predictiveness: small =
   the gradient stays predictive) and max ‖Δ∇L‖ / ‖ηg‖ (effective β-smoothness). Plotted over
   the whole trajectory (at step 0 the ordering can be reversed, norm-spec §6.5).

.. note:: The original BN paper explained BN by reducing "internal covariate shift" (ICS). That
   story is **contested**: Santurkar et al. show that BN with injected noise (more "ICS", not
   less) trains as well as BN, and argue that BN instead makes the loss landscape smoother.
   Others dispute parts of that too; there is no settled single explanation.
"""
from __future__ import annotations

import copy
import time

import numpy as np

from normviz.experiments.base import Experiment, PaperTable

ETAS = (0.05, 0.1, 0.2, 0.4)
RUNS = ("none", "batch", "noisy")
RUN_LABELS = {"none": "no norm", "batch": "BatchNorm", "noisy": "noisy BatchNorm"}
DEFAULTS = dict(steps=1500, batch_size=64, lr=0.1, hidden=100, depth=4, log_every=50, probe_every=50)
QUICK = dict(steps=200, log_every=50, probe_every=50)


def _noise_module(seed: int):
    import torch
    from torch import nn

    class NoisyShift(nn.Module):
        """y ← s ⊙ y + m, resampled every call in training mode (identity in eval)."""

        def __init__(self):
            super().__init__()
            self.gen = torch.Generator().manual_seed(seed)

        def forward(self, y):
            if not self.training:
                return y
            N, C = y.shape
            g = self.gen
            mu = torch.rand(C, generator=g) * 2 - 1            # per-unit mean shift, U(−1, 1)
            kappa = 0.5 + torch.rand(C, generator=g) * 1.5      # per-unit scale, U(0.5, 2)
            m = mu + 0.5 * torch.randn(N, C, generator=g)       # per sample and activation
            s = kappa * (1 + 0.2 * torch.randn(N, C, generator=g))
            return s * y + m

    return NoisyShift()


def build(run: str, cfg: dict, seed: int):
    """The MLP for ``run`` (none / batch / noisy) with ``normviz.training.build_model``."""
    from torch import nn

    from normviz.training import TrainConfig, build_model

    tc = TrainConfig(norm="none" if run == "none" else "batch", model="mlp", activation="relu",
                     hidden=cfg["hidden"], depth=cfg["depth"], batch_size=cfg["batch_size"],
                     lr=cfg["lr"], steps=cfg["steps"], init_std=None, seed=seed)
    model = build_model(tc)
    if run == "noisy":
        for k, block in enumerate(list(model)[:-1]):
            block[1] = nn.Sequential(block[1], _noise_module(10_000 * seed + k))
    return model, tc


def probe_landscape(model, xb, yb, etas=ETAS) -> dict:
    """Loss and gradient along −∇L from the current parameters, on a copy of ``model``."""
    import torch
    import torch.nn.functional as F

    m = copy.deepcopy(model)  # BN running statistics of the real model stay untouched
    m.train()
    params = [p for p in m.parameters()]
    loss0 = F.cross_entropy(m(xb), yb)
    g = torch.autograd.grad(loss0, params)
    gflat = torch.cat([t.reshape(-1) for t in g])
    gnorm = float(gflat.norm())
    theta = [p.detach().clone() for p in params]
    losses, gchange, beta = [], [], []
    for eta in etas:
        with torch.no_grad():
            for p, t, d in zip(params, theta, g):
                p.copy_(t - eta * d)
        loss = F.cross_entropy(m(xb), yb)
        g2 = torch.autograd.grad(loss, params)
        diff = float((torch.cat([t.reshape(-1) for t in g2]) - gflat).norm())
        losses.append(float(loss.detach()))
        gchange.append(diff)
        beta.append(diff / max(eta * gnorm, 1e-12))
    return {"loss0": float(loss0.detach()), "losses": losses, "grad_change": gchange, "beta": beta, "grad_norm": gnorm}


def _layer_input_stats(model, X) -> tuple[list, list]:
    """Per-unit mean and std of the last hidden linear layer's input, train mode (noise on)."""
    import torch

    blocks = list(model)[:-1]
    captured = {}
    h = blocks[-1][0].register_forward_pre_hook(lambda mod, inp: captured.__setitem__("x", inp[0].detach()))
    saved = [b.detach().clone() for b in model.buffers()]
    try:
        with torch.no_grad():
            model.train()
            model(X)
    finally:
        h.remove()
        with torch.no_grad():
            for b, s in zip(model.buffers(), saved):
                b.copy_(s)
    x = captured["x"]
    return x.mean(0).tolist(), x.std(0).tolist()


def train_run(run: str, cfg: dict, seed: int, *, probe: bool) -> dict:
    """Train one run; log accuracy, loss, layer-input stats and (optionally) landscape probes."""
    import torch
    import torch.nn.functional as F

    from normviz.training import load_data, threads

    with threads(1):
        torch.manual_seed(seed)
        model, tc = build(run, cfg, seed)
        Xtr, ytr, Xte, yte = load_data(tc)
        opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"])
        rng = np.random.default_rng(seed + 7)
        Xp = Xte[:256]
        log = {"steps": [], "loss": [], "acc": [], "in_mean": [], "in_std": []}
        probes = {"steps": [], "loss_min": [], "loss_max": [], "grad_change": [], "beta": []}
        t0 = time.perf_counter()
        for step in range(cfg["steps"] + 1):
            idx = rng.choice(len(ytr), cfg["batch_size"], replace=False)
            xb, yb = Xtr[idx], ytr[idx]
            if probe and step % cfg["probe_every"] == 0:
                p = probe_landscape(model, xb, yb)
                probes["steps"].append(step)
                probes["loss_min"].append(min(p["losses"] + [p["loss0"]]))
                probes["loss_max"].append(max(p["losses"] + [p["loss0"]]))
                probes["grad_change"].append(max(p["grad_change"]))
                probes["beta"].append(max(p["beta"]))
            if step % cfg["log_every"] == 0:
                mu, sd = _layer_input_stats(model, Xp)
                model.eval()
                with torch.no_grad():
                    acc = float((model(Xte).argmax(1) == yte).float().mean())
                model.train()
                log["steps"].append(step)
                log["acc"].append(acc)
                log["in_mean"].append(mu)
                log["in_std"].append(sd)
            if step == cfg["steps"]:
                break
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if step % cfg["log_every"] == 0:
                log["loss"].append(float(loss.detach()))
        log["seconds"] = time.perf_counter() - t0
    mu, sd = np.array(log.pop("in_mean")), np.array(log.pop("in_std"))  # (T, units)
    scale = float(np.mean(sd)) + 1e-12
    log["drift_mean"] = (np.sqrt(((mu[1:] - mu[:-1]) ** 2).mean(1)) / scale).tolist()
    log["drift_std"] = (np.sqrt(((sd[1:] - sd[:-1]) ** 2).mean(1)) / scale).tolist()
    log["unit0_mean"] = mu[:, 0].tolist()
    log["unit0_std"] = sd[:, 0].tolist()
    log["final_acc"] = log["acc"][-1]
    if probe:
        log["probes"] = probes
    return log


def run(seed: int = 0, quick: bool = False, progress=None, **overrides) -> dict:
    """The three runs (no norm, BN, noisy BN); landscape probes on no norm and BN."""
    cfg = {**DEFAULTS, **(QUICK if quick else {}), **overrides}
    runs = {}
    for i, r in enumerate(RUNS):
        if progress:
            progress(i / len(RUNS), f"training: {RUN_LABELS[r]}")
        runs[r] = train_run(r, cfg, seed, probe=r in ("none", "batch"))
    return {"config": {**cfg, "seed": seed, "quick": quick, "etas": list(ETAS)}, "runs": runs}


def _median_after_start(xs, steps) -> float:
    v = [x for x, s in zip(xs, steps) if s > 0]
    return float(np.median(v)) if v else float("nan")


LABEL = {"none": "no norm", "batch": "BN", "noisy": "noisy BN"}


def summary(results: dict) -> dict:
    """The numbers the claim uses."""
    r = results["runs"]
    out = {k: {"final_acc": r[k]["final_acc"], "drift": float(np.mean(r[k]["drift_mean"]) + np.mean(r[k]["drift_std"]))}
           for k in RUNS}
    for k in ("none", "batch"):
        p = r[k]["probes"]
        out[k]["loss_range"] = _median_after_start(np.subtract(p["loss_max"], p["loss_min"]), p["steps"])
        out[k]["grad_change"] = _median_after_start(p["grad_change"], p["steps"])
        out[k]["beta"] = _median_after_start(p["beta"], p["steps"])
    return out


def headline(results: dict) -> dict:
    s = summary(results)
    out = {f"{LABEL[k]}: test accuracy": round(s[k]["final_acc"], 3) for k in RUNS}
    out.update({f"{LABEL[k]}: drift of the last hidden layer's inputs": round(s[k]["drift"], 3) for k in RUNS})
    for q, name in (("loss_range", "loss range along the gradient"), ("grad_change", "gradient change along it"),
                    ("beta", "effective β")):
        out.update({f"{LABEL[k]}: {name}": round(s[k][q], 3) for k in ("none", "batch")})
    return out


def facts(results: dict) -> list:
    s = summary(results)
    n, b, z = s["noisy"], s["batch"], s["none"]
    return [
        ("Noisy BN's test accuracy is within 0.03 of BN's", n["final_acc"] >= b["final_acc"] - 0.03),
        ("Noisy BN's last hidden layer's inputs drift at least 2× as much as BN's", n["drift"] >= 2 * b["drift"]),
        ("Noisy BN's inputs drift more than without any norm", n["drift"] > z["drift"]),
        ("Along the gradient, BN's loss varies less than without BN", b["loss_range"] < z["loss_range"]),
        ("Along the gradient, BN's gradient changes less than without BN", b["grad_change"] < z["grad_change"]),
        ("BN's effective β (gradient smoothness) is smaller than without BN", b["beta"] < z["beta"]),
        ("BN ends more accurate than no norm", b["final_acc"] > z["final_acc"]),
    ]


def claim(results: dict) -> tuple[bool, str]:
    """Noisy BN trains about as well as BN although its layer inputs drift more; BN's landscape is smoother."""
    s = summary(results)
    n, b, z = s["noisy"], s["batch"], s["none"]
    holds = (n["final_acc"] >= b["final_acc"] - 0.03 and n["drift"] >= 2 * b["drift"]
             and b["loss_range"] < z["loss_range"] and b["grad_change"] < z["grad_change"])
    text = (f"Noisy BN {n['final_acc']:.3f} vs BN {b['final_acc']:.3f} test accuracy with "
            f"{n['drift'] / max(b['drift'], 1e-12):.0f}× BN's input drift; along the gradient BN's loss varies by "
            f"{b['loss_range']:.3f} vs {z['loss_range']:.3f} without it.")
    return holds, text


def figure(results: dict) -> list:
    """Accuracy, layer-input drift, and the landscape probes over the trajectory."""
    import plotly.graph_objects as go

    r = results["runs"]
    colors = {"none": "#D55E00", "batch": "#0072B2", "noisy": "#CC79A7"}
    dashes = {"none": "dash", "batch": "solid", "noisy": "dot"}
    acc = go.Figure()
    for k in RUNS:
        acc.add_trace(go.Scatter(x=r[k]["steps"], y=r[k]["acc"], name=RUN_LABELS[k],
                                 line=dict(color=colors[k], dash=dashes[k])))
    acc.update_layout(title="Test accuracy: noisy BN trains about as well as BN", xaxis_title="step",
                      yaxis_title="test accuracy (eval mode)", yaxis_range=[0, 1], legend_title="run")
    unit = go.Figure()
    for k in RUNS:
        m, sd = np.array(r[k]["unit0_mean"]), np.array(r[k]["unit0_std"])
        unit.add_trace(go.Scatter(x=r[k]["steps"], y=m, name=f"{RUN_LABELS[k]}: mean",
                                  line=dict(color=colors[k], dash=dashes[k])))
        unit.add_trace(go.Scatter(x=r[k]["steps"] + r[k]["steps"][::-1], y=list(m + sd) + list((m - sd)[::-1]),
                                  fill="toself", fillcolor=colors[k], opacity=0.15, line=dict(width=0),
                                  name=f"{RUN_LABELS[k]}: mean ± std", hoverinfo="skip"))
    unit.update_layout(title="Input of the last hidden layer, unit 0 (probe batch, training mode)",
                       xaxis_title="step", yaxis_title="value", legend_title="run")
    land = go.Figure()
    for k in ("none", "batch"):
        p = r[k]["probes"]
        land.add_trace(go.Scatter(x=p["steps"] + p["steps"][::-1], y=p["loss_max"] + p["loss_min"][::-1],
                                  fill="toself", fillcolor=colors[k], opacity=0.3, line=dict(width=0),
                                  name=f"{RUN_LABELS[k]}: loss range along −g"))
    land.update_layout(title="Loss landscape: range of L(θ − ηg), η ∈ {0.05, 0.1, 0.2, 0.4}",
                       xaxis_title="step", yaxis=dict(title="loss", type="log", dtick=1), legend_title="run")
    grad = go.Figure()
    beta = go.Figure()
    for k in ("none", "batch"):
        p = r[k]["probes"]
        grad.add_trace(go.Scatter(x=p["steps"], y=p["grad_change"], name=RUN_LABELS[k],
                                  line=dict(color=colors[k], dash=dashes[k])))
        beta.add_trace(go.Scatter(x=p["steps"], y=p["beta"], name=RUN_LABELS[k],
                                  line=dict(color=colors[k], dash=dashes[k])))
    grad.update_layout(title="Gradient predictiveness: max ‖∇L(θ − ηg) − ∇L(θ)‖ (lower = more predictive)",
                       xaxis_title="step", yaxis=dict(title="gradient change", type="log", dtick=1),
                       legend_title="run")
    beta.update_layout(title="Effective β-smoothness: max ‖Δ∇L‖ / ‖ηg‖ (lower = smoother)",
                       xaxis_title="step", yaxis=dict(title="effective β", type="log", dtick=1),
                       legend_title="run")
    return [acc, unit, land, grad, beta]


SPEC = Experiment(
    key="santurkar",
    title="Why does BN help? Noisy BN and the loss landscape",
    question="why",
    echoes="Santurkar et al. 2018, Figures 2 and 4 (noisy BN; loss and gradient along the gradient)",
    paper=(PaperTable(
        source="Santurkar et al. 2018, VGG on CIFAR-10",
        columns=("setting", "test accuracy %"),
        rows=(("no BN", 80.0), ("BN", 83.0)),
        note="≈, single secondary source; noisy BN trains about as well as BN (plot only)",
    ),),
    look_for="Compare how far each run's layer inputs drift with how well it trains (noisy BN injects drift on "
             "purpose), and how much the loss and the gradient change along the gradient direction with and "
             "without BN.",
    recommendation="Why BN helps is not settled: steadier layer inputs (the BN paper) and a smoother loss "
                   "landscape (Santurkar et al.) are both hypotheses; these runs probe each at toy scale.",
    notes="The 'internal covariate shift' explanation of BN is contested. The BN paper said BN "
          "helps by keeping layer inputs steady; Santurkar et al. show that BN with injected noise "
          "(unsteady inputs) trains as well as BN, and point to a smoother loss landscape instead. "
          "Neither story is settled; treat both as hypotheses that these runs probe at toy scale.",
    claim_text="Noisy BN's test accuracy is within 0.03 of BN's while its last hidden layer's inputs "
               "drift at least 2× as much; along the gradient, BN's loss range and gradient change "
               "(medians over the trajectory after step 0) are smaller than without BN.",
    how="MLP 64 → 4×100 ReLU → 10, digits, batch 64, SGD lr 0.1, 1500 steps; probes every 50 steps "
        "at η ∈ {0.05, 0.1, 0.2, 0.4} on a copy of the model (running statistics untouched).",
    full_seconds=45,
    run_fn=run,
    claim_fn=claim,
    figure_fn=figure,
    headline_fn=headline,
    facts_fn=facts,
)
