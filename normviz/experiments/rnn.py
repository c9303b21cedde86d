"""Experiment 4: normalization in a recurrent net — BN shared over time, BN per step, LN.

Each 8×8 digit is read row by row: 8 time steps of 8 features. A hand-written tanh RNN
(hidden 64) normalizes its pre-activation at every step,

    a_t = W_x x_t + W_h h_{t−1} + b,    h_t = tanh(norm_t(a_t)),    logits = W_o h_8,

with ``norm_t`` one of

* ``none``       — identity;
* ``bn_shared``  — one BN module used at every step: the training statistics come from the
  batch at step t, but γ, β and the *running* statistics are shared by all steps, so at eval
  every step is normalized with one running average (dominated by the last steps, EMA order);
* ``bn_step``    — a separate BN per time step (Cooijmans et al. 2017 style): right statistics
  per step, but nothing for a step it never saw (a longer sequence at test time must reuse the
  last step's statistics);
* ``layer``      — LN over the 64 hidden units of each sample at each step: no batch, no
  running statistics, the same computation at train and test and at any length.

Measured: test accuracy (eval mode), the train/eval gap (accuracy with batch statistics in
training mode minus eval accuracy on the same test images), the same at a small batch (4), and
accuracy on sequences two steps longer than in training (two blank rows prepended; per-step BN
reuses step 8's statistics for steps 9 and 10).
"""
from __future__ import annotations

import time

import numpy as np

from normviz.experiments.base import Experiment, PaperTable

NORMS = ("none", "bn_shared", "bn_step", "layer")
LABELS = {"none": "no norm", "bn_shared": "BN shared over time", "bn_step": "BN per time step",
          "layer": "LayerNorm"}
T, D = 8, 8
DEFAULTS = dict(hidden=64, steps=800, lr=2e-3, batches=(32, 4), log_every=100)
QUICK = dict(steps=100, log_every=50)


def _rnn_class():
    import torch
    from torch import nn

    from normviz.norms.torch_modules import make_norm

    class NormRNN(nn.Module):
        """tanh RNN with a norm on each step's pre-activation. Input (N, T, D) -> logits (N, 10)."""

        def __init__(self, norm: str, hidden: int = 64, steps: int = T):
            super().__init__()
            self.norm_kind = norm
            self.wx = nn.Linear(D, hidden)
            self.wh = nn.Linear(hidden, hidden, bias=False)
            self.out = nn.Linear(hidden, 10)
            if norm == "bn_step":
                self.norms = nn.ModuleList(make_norm("batch", hidden, dims=1) for _ in range(steps))
            elif norm == "bn_shared":
                self.norms = nn.ModuleList([make_norm("batch", hidden, dims=1)])
            elif norm == "layer":
                self.norms = nn.ModuleList([make_norm("layer", hidden, dims=1)])
            else:
                self.norms = nn.ModuleList([nn.Identity()])
            nn.init.orthogonal_(self.wh.weight)

        def norm_at(self, t: int):
            # Per-step BN has statistics only for the steps it was trained on: reuse the last.
            return self.norms[min(t, len(self.norms) - 1)]

        def hidden(self, x):
            """The hidden state after the last step. Shape: (N, T, D) -> (N, hidden)."""
            N, L, _ = x.shape  # (N, T, D)
            h = x.new_zeros(N, self.wh.in_features)
            for t in range(L):
                a = self.wx(x[:, t]) + self.wh(h)  # (N, hidden)
                h = torch.tanh(self.norm_at(t)(a))
            return h

        def forward(self, x):
            return self.out(self.hidden(x))

    return NormRNN


def _data():
    from normviz.training import TrainConfig, load_data

    Xtr, ytr, Xte, yte = load_data(TrainConfig(model="mlp"))
    return Xtr.reshape(-1, T, D), ytr, Xte.reshape(-1, T, D), yte  # rows as time steps


def _acc(model, X, y, *, train_mode: bool = False, batch: int = 32) -> float:
    """Accuracy in eval mode, or in training mode with batch statistics (chunks of ``batch``).

    Both use the first ``(len(y) // batch) * batch`` images when ``batch`` is given, so the two
    accuracies of a train/eval gap are measured on the same images.
    """
    import torch

    saved = [b.detach().clone() for b in model.buffers()]
    model.train(train_mode)
    n = (len(y) // batch) * batch if batch else len(y)
    correct = 0
    with torch.no_grad():
        if train_mode:
            for i in range(0, n, batch):
                correct += int((model(X[i:i + batch]).argmax(1) == y[i:i + batch]).sum())
        else:
            correct = int((model(X[:n]).argmax(1) == y[:n]).sum())
        for b, s in zip(model.buffers(), saved):
            b.copy_(s)
    model.train()
    return correct / n


def stat_mismatch(model, X) -> list[float]:
    """Per time step: how far the running statistics a BN variant uses at eval are from the actual
    statistics of that step's pre-activations on ``X`` (RMS over units of (μ_t − running μ)/σ_t
    plus RMS of |log(running σ / σ_t)|). 0 = the eval normalization matches; [] for LN / none.
    """
    import torch

    if model.norm_kind not in ("bn_shared", "bn_step"):
        return []
    seen = []  # (step, module, input) in call order
    hooks = [m.register_forward_pre_hook(lambda mod, inp: seen.append((mod, inp[0].detach()))) for m in model.norms]
    try:
        model.eval()
        with torch.no_grad():
            model(X)
    finally:
        for h in hooks:
            h.remove()
        model.train()
    out = []
    for mod, a in seen:
        mu, var = a.mean(0), a.var(0, unbiased=False)
        sd = torch.sqrt(var + mod.eps)
        d_mean = torch.sqrt((((mod.running_mean - mu) / sd) ** 2).mean())
        d_std = torch.sqrt((0.5 * torch.log((mod.running_var + mod.eps) / (var + mod.eps))) ** 2).mean()
        out.append(float(d_mean + d_std))
    return out


def train_one(norm: str, batch: int, cfg: dict, seed: int) -> dict:
    import torch
    import torch.nn.functional as F

    from normviz.training import threads

    with threads(1):
        torch.manual_seed(seed)
        Xtr, ytr, Xte, yte = _data()
        model = _rnn_class()(norm, cfg["hidden"])
        opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
        rng = np.random.default_rng(seed + 11)
        steps, accs, losses = [], [], []
        t0 = time.perf_counter()
        for step in range(cfg["steps"]):
            idx = rng.choice(len(ytr), batch, replace=False)
            loss = F.cross_entropy(model(Xtr[idx]), ytr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if step % cfg["log_every"] == 0 or step == cfg["steps"] - 1:
                steps.append(step)
                losses.append(float(loss.detach()))
                accs.append(_acc(model, Xte, yte, batch=None))
        seconds = time.perf_counter() - t0
        longer = torch.cat([Xte.new_zeros(len(yte), 2, D), Xte], 1)  # two blank rows first: 10 steps
        model.eval()
        with torch.no_grad():
            # What two blank rows leave in the hidden state (the "why" of the longer-sequence result):
            # its RMS, against the RMS after two real rows at the start of a normal sequence.
            blank_rms = float(model.hidden(Xte.new_zeros(len(yte), 2, D)).pow(2).mean().sqrt())
            start_rms = float(model.hidden(Xte[:, :2]).pow(2).mean().sqrt())
        model.train()
        return {"hidden_rms_after_blank": blank_rms, "hidden_rms_after_two_rows": start_rms,"steps": steps, "loss": losses, "acc": accs, "seconds": seconds,
                "eval_acc": _acc(model, Xte, yte, batch=None),
                "eval_acc_same": _acc(model, Xte, yte, batch=batch),
                "train_mode_acc": _acc(model, Xte, yte, train_mode=True, batch=batch),
                "longer_acc": _acc(model, longer, yte, batch=None),
                "stat_mismatch": stat_mismatch(model, Xte)}


def run(seed: int = 0, quick: bool = False, progress=None, **overrides) -> dict:
    """Every norm at every batch size of ``batches``; plain JSON-able results."""
    cfg = {**DEFAULTS, **(QUICK if quick else {}), **overrides}
    runs, total, done = {}, len(cfg["batches"]) * len(NORMS), 0
    for b in cfg["batches"]:
        runs[str(b)] = {}
        for n in NORMS:
            if progress:
                progress(done / total, f"batch {b}: {LABELS[n]}")
            runs[str(b)][n] = train_one(n, b, cfg, seed)
            done += 1
    return {"config": {**cfg, "batches": list(cfg["batches"]), "seed": seed, "quick": quick}, "runs": runs}


def gap(r: dict) -> float:
    """|train-mode accuracy − eval accuracy| on the same test images."""
    return abs(r["train_mode_acc"] - r["eval_acc_same"])


def claim(results: dict) -> tuple[bool, str]:
    """LN at least as accurate as shared BN, no train/eval gap, and unaffected by a small batch."""
    bs = [str(b) for b in results["config"]["batches"]]
    big, small = results["runs"][bs[0]], results["runs"][bs[-1]]
    acc = lambda runs, n: runs[n]["eval_acc"]  # noqa: E731
    mm_shared, mm_step = big["bn_shared"]["stat_mismatch"], big["bn_step"]["stat_mismatch"]
    holds = (acc(big, "layer") >= acc(big, "bn_shared") - 0.01
             and gap(big["layer"]) == 0.0
             and mm_shared[0] >= 3 * mm_step[0] and mm_shared[0] > mm_shared[-1]
             and acc(small, "layer") >= max(acc(small, "bn_shared"), acc(small, "bn_step")) + 0.02
             and gap(small["bn_shared"]) > gap(small["layer"]) + 0.02)
    text = (f"At batch {bs[0]}: LN {acc(big, 'layer'):.3f} vs shared BN {acc(big, 'bn_shared'):.3f} test accuracy, "
            f"train/eval gap {gap(big['layer']):.3f} vs {gap(big['bn_shared']):.3f}; at batch {bs[-1]}: LN "
            f"{acc(small, 'layer'):.3f} vs {acc(small, 'bn_shared'):.3f} (shared BN) and {acc(small, 'bn_step'):.3f} "
            f"(per-step BN).")
    return holds, text


def headline(results: dict) -> dict:
    bs = [str(b) for b in results["config"]["batches"]]
    out = {}
    for b in bs:
        for n in NORMS:
            out[f"batch {b}: {LABELS[n]} test accuracy"] = round(results["runs"][b][n]["eval_acc"], 3)
    big = results["runs"][bs[0]]
    for n in NORMS:
        out[f"10-step sequences (batch {bs[0]}): {LABELS[n]}"] = round(big[n]["longer_acc"], 3)
    for n in NORMS:
        out[f"hidden-state RMS after two blank rows: {LABELS[n]}"] = round(big[n]["hidden_rms_after_blank"], 3)
    return out


def facts(results: dict) -> list:
    bs = [str(b) for b in results["config"]["batches"]]
    big, small = results["runs"][bs[0]], results["runs"][bs[-1]]
    acc = lambda runs, n: runs[n]["eval_acc"]  # noqa: E731
    mm_shared, mm_step = big["bn_shared"]["stat_mismatch"], big["bn_step"]["stat_mismatch"]
    longer = {n: big[n]["longer_acc"] for n in NORMS}
    blank = {n: big[n]["hidden_rms_after_blank"] for n in NORMS}
    return [
        (f"At batch {bs[0]}, LN is at least as accurate as BN shared over time (within 0.01)",
         acc(big, "layer") >= acc(big, "bn_shared") - 0.01),
        ("LN has no train/eval gap", gap(big["layer"]) == 0.0 and gap(small["layer"]) == 0.0),
        (f"At batch {bs[0]}, shared BN's running statistics are at least 3× further from step 1's statistics "
         f"than per-step BN's", mm_shared[0] >= 3 * mm_step[0]),
        (f"At batch {bs[-1]}, LN beats both BN variants by at least 0.02",
         acc(small, "layer") >= max(acc(small, "bn_shared"), acc(small, "bn_step")) + 0.02),
        (f"At batch {bs[0]}, a plain tanh RNN (no norm) is at least as accurate as LN over 8 steps",
         acc(big, "none") >= acc(big, "layer")),
        ("On 10-step sequences with two blank rows first, LN is the least accurate of the four",
         longer["layer"] <= min(longer.values())),
        ("On 10-step sequences, shared BN is the most accurate of the four", longer["bn_shared"] >= max(longer.values())),
        ("After two blank rows LN leaves the largest hidden state of the four (it rescales even an empty step "
         "to unit variance)", blank["layer"] >= max(blank.values())),
    ]


def figure(results: dict) -> list:
    """Accuracy curves per batch size, and a bar chart of eval vs train-mode accuracy."""
    import plotly.graph_objects as go

    colors = {"none": "#999999", "bn_shared": "#D55E00", "bn_step": "#E69F00", "layer": "#0072B2"}
    figs = []
    for b, runs in results["runs"].items():
        f = go.Figure()
        for n in NORMS:
            f.add_trace(go.Scatter(x=runs[n]["steps"], y=runs[n]["acc"], name=LABELS[n], line=dict(color=colors[n])))
        f.update_layout(title=f"Test accuracy (eval mode) while training, batch {b}", xaxis_title="step",
                        yaxis_title="test accuracy", yaxis_range=[0, 1], legend_title="norm in the RNN")
        figs.append(f)
    bars = go.Figure()
    short = {"none": "none", "bn_shared": "BN shared", "bn_step": "BN per step", "layer": "LN"}
    xs = [f"{short[n]}<br>batch {b}" for b in results["runs"] for n in NORMS]
    for key, label in (("eval_acc", "eval mode (running stats)"), ("train_mode_acc", "training mode (batch stats)"),
                       ("longer_acc", "eval, 10-step sequences")):
        bars.add_trace(go.Bar(x=xs, y=[results["runs"][b][n][key] for b in results["runs"] for n in NORMS], name=label))
    bars.update_layout(title="Train/eval gap and longer sequences", barmode="group", xaxis_title="norm and batch size",
                       xaxis_tickangle=0,
                       yaxis_title="test accuracy", yaxis_range=[0, 1], legend_title="measured in")
    figs.append(bars)
    mm = go.Figure()
    for b, runs in results["runs"].items():
        for n in ("bn_shared", "bn_step"):
            v = runs[n].get("stat_mismatch") or []
            first = b == str(results["config"]["batches"][0])
            mm.add_trace(go.Scatter(x=list(range(1, len(v) + 1)), y=v, name=f"{LABELS[n]}, batch {b}",
                                    line=dict(color=colors[n], dash="solid" if first else "dash")))
    mm.update_layout(title="Eval mode: how far the running statistics are from each time step's own statistics",
                     xaxis_title="time step (image row)", yaxis_title="mismatch (σ units; 0 = exact)",
                     legend_title="BN variant")
    figs.append(mm)
    return figs


SPEC = Experiment(
    key="rnn",
    title="RNNs and sequences: BN over time vs per-step BN vs LN",
    question="rnn",
    echoes="Ba, Kiros & Hinton 2016 (Layer Normalization), the motivation for LN in RNNs",
    paper=(PaperTable(
        source="Luo et al. 2019 (Switchable Norm), Figure 1a",
        columns=("task", "norm SN selects"),
        rows=(("LSTM (architecture search)", "LN"), ("style transfer", "IN"),
              ("classification backbone", "BN (mixed)")),
        note="qualitative",
    ),),
    look_for="Compare the norms at batch 32 and at batch 4, their train/eval gaps, and what happens on sequences "
             "two steps longer than in training (two blank rows first).",
    recommendation="LayerNorm: it needs no batch and no per-step statistics and computes the same in training and "
                   "inference. It is not immune to inputs unlike training: see the longer sequences below.",
    claim_text="At batch 32, LN's test accuracy is at least shared BN's (−0.01) with no train/eval "
               "gap, and shared BN's running statistics are at least 3× further from step 1's "
               "statistics than per-step BN's; at batch 4, LN beats both BN variants by 0.02 or more "
               "and shared BN's train/eval gap exceeds LN's by 0.02 or more.",
    how="Digits read as 8 rows (time steps) of 8 pixels; hand-written tanh RNN, hidden 64, the norm "
        "on each step's pre-activation; Adam lr 2e-3, 800 steps, batch 32 and 4.",
    notes="Over only 8 steps a plain tanh RNN trains well too: LN's case is that it computes the same thing at "
          "every batch size, time step and in train and eval mode, not that it makes the RNN better here.",
    full_seconds=60,
    run_fn=run,
    claim_fn=claim,
    figure_fn=figure,
    headline_fn=headline,
    facts_fn=facts,
)
