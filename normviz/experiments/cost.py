"""Experiment 10: what each norm costs — time per step and activation memory — beside what the
papers say it buys in accuracy.

The model is the training lab's CNN (``normviz.training.build_model``, model="cnn": 3 × (3×3
conv, 32 channels at 8×8 → norm → ReLU), global pool, linear), batch 64, float32, one thread,
once per norm of ``normviz.norms.torch_modules.available_norms(2)``. Measured in one run, interleaved
(round-robin over the norms, with "none" timed again right before every other norm), and
reported as ratios to "none": the median over rounds of each norm's time divided by the "none"
time measured just before it, so a change in machine load hits both sides of a ratio alike.
Absolute times are the fastest round (the one least disturbed by other work, as ``timeit``
advises):

* ``train_ms``: one training step (forward, backward, SGD step);
* ``eval_ms``: one eval-mode forward under ``torch.no_grad()``;
* ``saved_bytes``: bytes of the tensors autograd saves for the backward pass during one
  training forward (``torch.autograd.graph.saved_tensors_hooks``; parameters excluded, each
  storage counted once) — the activation memory a norm adds;
* parameter and buffer counts.

The papers' accuracy numbers (``PAPER``, norm-spec §5, with sources) sit beside them as data:
they come from ImageNet/CIFAR-scale models, not from this CPU run.
"""
from __future__ import annotations

import time

import numpy as np

from normviz.experiments.base import Experiment, PaperTable
from normviz.norms.table import NORMS

DEFAULTS = dict(batch=64, hidden=32, depth=3, rounds=12, reps=2)
QUICK = dict(rounds=3, reps=2)

# Accuracy (or error) the papers report, as data: norm key -> list of (what, source).
PAPER: dict[str, list[tuple[str, str]]] = {
    "batch": [("76.4 % top-1 at 32 img/GPU, 65.3 % at 2 img/GPU", "SN paper, ResNet-50 ImageNet (8 GPUs)"),
              ("≈16 % slower per iteration than no norm", "Salimans & Kingma 2016 (WN paper)")],
    "group": [("75.9 % at 32 img/GPU, 75.9 % at 2 img/GPU", "SN paper, ResNet-50 ImageNet"),
              ("24.1 % error at every batch size 2–32 (BN 34.7 % at 2)", "Wu & He 2018, Figure 1")],
    "layer": [("74.7 % top-1 at 32 img/GPU", "SN paper, ResNet-50 ImageNet"),
              ("25.3 % error (BN 23.6 %)", "Wu & He 2018")],
    "instance": [("71.6 % top-1 at 32 img/GPU", "SN paper, ResNet-50 ImageNet"),
                 ("28.4 % error", "Wu & He 2018")],
    "switchable": [("76.9 % at 32 img/GPU, 75.6 % at 2 img/GPU", "SN paper, ResNet-50 ImageNet")],
    "batch_instance": [("75.88 ± 0.30 % (BN 74.26 ± 0.33 %)", "BIN official repo, CIFAR-100 ResNet-110")],
    "weight": [("8.46 % error (plain 8.43 %, BN 8.05 %)", "Salimans & Kingma 2016, CIFAR-10")],
    "weight+mean_only": [("7.31 % error, the best in the paper's table", "Salimans & Kingma 2016, CIFAR-10")],
    "rms": [("quality ≈ LN; 501 s vs LN 665 s vs no norm 399 s on one task", "Zhang & Sennrich 2019")],
    "batch_renorm": [("73.7 % at 4 img/GPU (BN 72.7 %)", "SN paper, ResNet-50 ImageNet")],
    "weight_standardization+group": [("GN+WS at 1 img/GPU matches or beats large-batch BN (claim)",
                                      "Qiao et al. 2019, README")],
}


def _model(norm: str, cfg: dict, seed: int):
    from normviz.training import TrainConfig, build_model

    return build_model(TrainConfig(norm=norm, model="cnn", hidden=cfg["hidden"], depth=cfg["depth"],
                                   batch_size=cfg["batch"], groups=8, ghost_size=16, init_std=None, seed=seed))


def saved_tensor_bytes(model, x, y) -> int:
    """Bytes autograd saves for backward in one training forward (parameters excluded, each storage once)."""
    import torch
    import torch.nn.functional as F

    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen: dict[int, int] = {}

    def pack(t):
        ptr = t.untyped_storage().data_ptr()
        if ptr not in params:
            seen[ptr] = max(seen.get(ptr, 0), t.untyped_storage().nbytes())
        return t

    model.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = F.cross_entropy(model(x), y)
    loss.backward()
    model.zero_grad(set_to_none=True)
    return int(sum(seen.values()))


def _time_train(model, opt, x, y, reps: int) -> float:
    import torch.nn.functional as F

    model.train()
    t0 = time.perf_counter()
    for _ in range(reps):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return (time.perf_counter() - t0) / reps * 1e3


def _time_eval(model, x, reps: int) -> float:
    import torch

    model.eval()
    with torch.no_grad():
        t0 = time.perf_counter()
        for _ in range(reps):
            model(x)
    return (time.perf_counter() - t0) / reps * 1e3


def run(seed: int = 0, quick: bool = False, progress=None, *, norms=None, **overrides) -> dict:
    """Time and memory of every norm on the CNN; ratios to 'none' in the same run."""
    import torch

    from normviz.norms.torch_modules import available_norms
    from normviz.training import threads

    cfg = {**DEFAULTS, **(QUICK if quick else {}), **overrides}
    norms = list(norms or available_norms(2))
    if "none" not in norms:
        norms.insert(0, "none")
    with threads(1):
        gen = torch.Generator().manual_seed(seed)
        x = torch.randn(cfg["batch"], 1, 8, 8, generator=gen)
        y = torch.randint(0, 10, (cfg["batch"],), generator=gen)
        models = {n: _model(n, cfg, seed) for n in norms}
        opts = {n: torch.optim.SGD(m.parameters(), lr=1e-3) for n, m in models.items()}
        rows = {}
        for n, m in models.items():
            rows[n] = {"params": sum(p.numel() for p in m.parameters()),
                       "buffers": sum(b.numel() for b in m.buffers() if b.dtype.is_floating_point),
                       "saved_bytes": saved_tensor_bytes(m, x, y)}
            _time_train(m, opts[n], x, y, 2)  # warm-up
            _time_eval(m, x, 2)
        train, evals = {n: [] for n in norms}, {n: [] for n in norms}
        tr_ratio, ev_ratio = {n: [] for n in norms}, {n: [] for n in norms}
        base_m = models["none"]
        for i in range(cfg["rounds"]):  # round-robin: load changes hit every norm alike
            if progress:
                progress(i / cfg["rounds"], f"timing round {i + 1} of {cfg['rounds']}")
            for n, m in models.items():
                # "none" right before each norm: the pair sees the same machine load.
                t0 = _time_train(base_m, opts["none"], x, y, cfg["reps"])
                e0 = _time_eval(base_m, x, cfg["reps"])
                t1 = _time_train(m, opts[n], x, y, cfg["reps"])
                e1 = _time_eval(m, x, cfg["reps"])
                train[n].append(t1)
                evals[n].append(e1)
                tr_ratio[n].append(t1 / t0)
                ev_ratio[n].append(e1 / e0)
    base = rows["none"]
    for n in norms:
        r = rows[n]
        r["train_ms"] = float(np.min(train[n]))
        r["eval_ms"] = float(np.min(evals[n]))
        r["train_ms_median"] = float(np.median(train[n]))
    for n in norms:
        r = rows[n]
        r["train_ratio"] = 1.0 if n == "none" else float(np.median(tr_ratio[n]))
        r["eval_ratio"] = 1.0 if n == "none" else float(np.median(ev_ratio[n]))
        r["train_ratio_quartiles"] = [float(np.percentile(tr_ratio[n], 25)), float(np.percentile(tr_ratio[n], 75))]
        r["memory_ratio"] = r["saved_bytes"] / base["saved_bytes"]
        r["paper"] = [list(p) for p in PAPER.get(n, [])]
    return {"config": {**cfg, "seed": seed, "quick": quick, "model": "cnn", "dtype": "float32", "threads": 1},
            "norms": norms, "rows": rows}


def table(results: dict) -> list[dict]:
    """One row per norm for a dataframe: ratios to none, counts, the papers' numbers."""
    out = []
    for n in results["norms"]:
        r = results["rows"][n]
        out.append({"norm": n, "train step ×none": round(r["train_ratio"], 2), "eval ×none": round(r["eval_ratio"], 2),
                    "activation memory ×none": round(r["memory_ratio"], 2), "train ms": round(r["train_ms"], 2),
                    "saved KiB": round(r["saved_bytes"] / 1024, 1), "params": r["params"], "buffers": r["buffers"],
                    "paper": "; ".join(f"{a} ({b})" for a, b in r["paper"])})
    return out


def claim(results: dict) -> tuple[bool, str]:
    """No normalizer is free; the blends (BIN, SN) cost more than BN; LN/GN/BN keep activations alike."""
    rows = results["rows"]
    g = lambda n, k: rows[n][k] if n in rows else float("nan")  # noqa: E731
    # Norms that divide activations by a statistic (mean-only BN subtracts only, and saves ~nothing).
    act = [n for n in results["norms"] if n in NORMS and NORMS[n].family != "weights"]
    # Memory is exact, so its margins are tight; timings are noisy on a shared CPU, so the timing
    # part only compares Switchable Norm (three sets of statistics) with BN (one).
    holds = (all(g(n, "memory_ratio") >= 1.5 for n in act)
             and g("weight", "memory_ratio") <= 1.1
             and min(g("switchable", "memory_ratio"), g("batch_instance", "memory_ratio")) >= 1.5 * g("batch", "memory_ratio")
             and g("switchable", "train_ratio") >= 1.2 * g("batch", "train_ratio"))
    lo, hi = rows["batch"]["train_ratio_quartiles"]
    spread = (hi - lo) / 2
    cheapest = min(act, key=lambda n: rows[n]["train_ratio"])
    dearest = max(act, key=lambda n: rows[n]["train_ratio"])
    text = (f"Relative to no norm on the same CNN in the same run: BN {g('batch', 'train_ratio'):.2f}× time per "
            f"training step and {g('batch', 'memory_ratio'):.2f}× activation memory, GN "
            f"{g('group', 'train_ratio'):.2f}× / {g('group', 'memory_ratio'):.2f}×, LN "
            f"{g('layer', 'train_ratio'):.2f}× / {g('layer', 'memory_ratio'):.2f}×, Switchable Norm "
            f"{g('switchable', 'train_ratio'):.2f}× / {g('switchable', 'memory_ratio'):.2f}×; Weight Norm "
            f"{g('weight', 'train_ratio'):.2f}× / {g('weight', 'memory_ratio'):.2f}× (it normalizes weights, not "
            f"activations). Cheapest activation norm here: {cheapest} ({rows[cheapest]['train_ratio']:.2f}×), "
            f"dearest: {dearest} ({rows[dearest]['train_ratio']:.2f}×). Time ratios are medians over rounds, each "
            f"against no norm timed just before, on a shared 2-core CPU (BN's ratio varies by ±{spread:.2f} "
            f"between rounds: smaller differences are noise); memory is exact.")
    return holds, text


def _beyond_noise(rows: dict, a: str, b: str) -> bool:
    """a's training step is slower than b's beyond the noise: a's quartiles lie above b's."""
    return rows[a]["train_ratio_quartiles"][0] > rows[b]["train_ratio_quartiles"][1]


def headline(results: dict) -> dict:
    rows = results["rows"]
    keys = [n for n in results["norms"] if n in rows and n != "none"]
    out = {f"{SHORT.get(n, n)}: time per step / no norm": round(rows[n]["train_ratio"], 2) for n in keys}
    out.update({f"{SHORT.get(n, n)}: activation memory / no norm": round(rows[n]["memory_ratio"], 2) for n in keys})
    return out


def facts(results: dict) -> list:
    rows = results["rows"]
    act = [n for n in results["norms"] if n in NORMS and NORMS[n].family != "weights"]
    cheapest = min(act, key=lambda n: rows[n]["train_ratio"])
    return [
        ("Every norm that divides activations by a statistic needs at least 1.5× the activation memory of no norm",
         all(rows[n]["memory_ratio"] >= 1.5 for n in act)),
        ("Weight Norm needs at most 1.1× the activation memory of no norm", rows["weight"]["memory_ratio"] <= 1.1),
        ("BatchNorm's step is slower than no norm's beyond the timing noise", _beyond_noise(rows, "batch", "none")),
        ("Switchable Norm's step is slower than BatchNorm's beyond the timing noise",
         _beyond_noise(rows, "switchable", "batch")),
        ("Some activation norm is cheaper per step than BN beyond the timing noise (see the table for which)",
         cheapest != "batch" and _beyond_noise(rows, "batch", cheapest)),
    ]


SHORT = {"none": "none", "batch": "BN", "layer": "LN", "instance": "IN", "group": "GN", "batch_instance": "BIN",
         "switchable": "SN", "weight": "WN", "rms": "RMS", "ghost_batch": "Ghost BN", "batch_renorm": "BRN",
         "weight_standardization": "WS", "pono": "PONO", "frn": "FRN", "weight+mean_only": "WN+mean-only",
         "weight_standardization+group": "WS+GN", "weight_standardization+batch": "WS+BN"}


def figure(results: dict) -> list:
    """The trade-off table, time and memory ratios per norm (bars), and time vs memory (scatter)."""
    import plotly.graph_objects as go

    norms = results["norms"]
    rows = results["rows"]
    labels = [SHORT.get(n, n) for n in norms]
    tab = table(results)
    cols = ["norm", "train step ×none", "eval ×none", "activation memory ×none", "params", "paper"]
    tbl = go.Figure(go.Table(
        columnwidth=[1.1, 0.9, 0.8, 1.1, 1.0, 4.5],
        header=dict(values=["norm", "train step × none", "eval × none", "activation memory × none", "parameters",
                            "what the papers report (not this run)"], align="left"),
        cells=dict(values=[[SHORT.get(r["norm"], r["norm"]) for r in tab]] + [[r[c] for r in tab] for c in cols[1:]],
                   align="left", height=26)))
    tbl.update_layout(title="Compute/accuracy trade-off: measured cost here, accuracy from the papers",
                      height=140 + 50 * len(tab), margin=dict(l=10, r=10, t=60, b=10))
    bars = go.Figure()
    for key, label in (("train_ratio", "training step (fwd+bwd+SGD)"), ("eval_ratio", "eval forward"),
                       ("memory_ratio", "activation memory")):
        bars.add_trace(go.Bar(x=labels, y=[rows[n][key] for n in norms], name=label))
    bars.add_hline(y=1.0, line_dash="dot", annotation_text="no norm = 1", annotation_position="top left")
    bars.update_layout(title="Cost of each norm on the digits CNN, relative to no norm (same run)",
                       barmode="group", xaxis_title="norm", yaxis_title="× no norm", legend_title="measure")
    sc = go.Figure(go.Scatter(
        x=[rows[n]["train_ratio"] for n in norms], y=[rows[n]["memory_ratio"] for n in norms],
        mode="markers+text", text=labels, textposition="top center",
        hovertext=[f"{n}<br>" + ("<br>".join(f"{a} ({b})" for a, b in rows[n]["paper"]) or "no paper number here")
                   for n in norms],
        hoverinfo="text", marker=dict(size=10, color="#0072B2"), name="norm"))
    sc.update_layout(title="Time vs memory per norm (hover: what the papers report it buys)",
                     xaxis_title="training step time × no norm", yaxis_title="activation memory × no norm")
    return [tbl, bars, sc]


SPEC = Experiment(
    key="cost",
    numerics="native",  # its results are time ratios of this CPU's fast kernels
    title="Cost: time per step and activation memory of each norm",
    question="cost",
    echoes="Salimans & Kingma 2016 (BN ≈ 16 % slower per iteration) and the papers' accuracy tables",
    paper=(PaperTable(
        source="ResNet-50 ImageNet top-1 %, batch 32/GPU (GN and SN papers)",
        columns=("norm", "top-1 %"),
        rows=(("BN", 76.4), ("GN", 75.9), ("SN", 76.9), ("LN", 74.7), ("IN", 71.6)),
    ),),
    look_for="Ratios to no norm, measured in one run on this machine: time per training step (with its spread "
             "over rounds) and activation memory (exact: the bytes autograd saves). Hover a point to see what "
             "the papers say it buys in accuracy.",
    recommendation="Every activation norm costs extra memory and time; the blends (BIN, SN) the most. Weight Norm "
                   "and BN in eval can be folded into the layer before them at inference.",
    claim_text="Every norm that divides activations by a statistic at least 1.5× the activation "
               "memory of no norm (Weight Norm ≤ 1.1×); BIN and SN at least 1.5× BN's memory; SN's "
               "training step at least 1.2× BN's time ratio.",
    how="Training lab CNN (3 × conv 32 at 8×8), batch 64, float32, 1 thread; 12 interleaved rounds "
        "of 2 steps per norm, each against no norm timed just before it (median ratio); memory = "
        "bytes autograd saves in one forward.",
    notes="Times are ratios to no norm measured in the same run on a shared CPU; the papers' "
          "accuracy numbers come from ImageNet/CIFAR-scale models, not from this run.",
    full_seconds=35,
    run_fn=run,
    claim_fn=claim,
    figure_fn=figure,
    headline_fn=headline,
    facts_fn=facts,
)
