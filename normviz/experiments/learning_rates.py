"""Higher learning rates: the largest learning rate that still trains, per norm (Ioffe & Szegedy 2015, §3.3).

The seed repeats the BN paper: BatchNorm "allows higher learning rates". The paper's evidence is
Inception on ImageNet, where BN at 5× and 30× the learning rate reached the baseline's accuracy
in 14× fewer steps. Here the claim is put to a direct test at CPU scale: the same MLP on the
digits with no norm, BN, LN and GN, trained for a fixed number of steps at each learning rate of
a log grid; for each norm, the largest learning rate whose run still reaches 90 % test accuracy.
"""
from __future__ import annotations

from typing import Callable

from normviz.experiments.base import Experiment, PaperTable

NORMS = ("none", "batch", "layer", "group")
LABELS = {"none": "no norm", "batch": "BatchNorm", "layer": "LayerNorm", "group": "GroupNorm"}
LRS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
QUICK_LRS = (0.1, 3.0)
SETTINGS = dict(widths=(64, 64), batch_size=32, momentum=0.9)
STEPS, QUICK_STEPS = 500, 20
TARGET = 10.0  # test error %, i.e. 90 % accuracy
LAST = 3  # a run's error is the mean of its last logs


def final_error(log: dict, last: int = LAST) -> float:
    """Mean test error (%) of the last ``last`` logs; 100 if the loss became non-finite (diverged)."""
    if any(v is None or v != v or v in (float("inf"), float("-inf")) for v in log["loss"][1:]):
        return 100.0
    tail = log["val_error"][-last:]
    return sum(tail) / len(tail)


def lr_sweep(build: Callable, data, lrs, *, steps: int, batch_size: int, momentum: float, seed: int,
             progress: Callable | None = None, offset: float = 0.0, share: float = 1.0, label: str = "") -> dict:
    """Train ``build()`` (a fresh model, same init every call) at each learning rate.

    Returns ``{"lr": [...], "error": [...], "steps_to_target": [...]}``: the final error per lr
    (``final_error``), and the first logged step with test error ≤ ``TARGET`` (None if never).
    """
    from normviz.experiments.loop import fit

    out = {"lr": list(lrs), "error": [], "steps_to_target": []}
    for j, lr in enumerate(lrs):
        sub = (lambda f, t, j=j: progress(offset + share * (j + f) / len(lrs), t)) if progress else None
        log = fit(build(), data, steps=steps, batch_size=batch_size, lr=lr, momentum=momentum, seed=seed,
                  log_every=max(1, steps // 10), progress=sub, label=f"{label} lr {lr:g}")
        err = final_error(log)
        out["error"].append(err)
        hit = [s for s, e in zip(log["step"], log["val_error"]) if e <= TARGET]
        out["steps_to_target"].append(hit[0] if hit and err < 100.0 else None)
    return out


def largest_lr(sweep: dict, target: float = TARGET) -> float | None:
    """The largest learning rate whose run ends at or below ``target`` % test error (None if none does)."""
    ok = [lr for lr, e in zip(sweep["lr"], sweep["error"]) if e <= target]
    return max(ok) if ok else None


def run(seed: int = 0, quick: bool = False, progress=None) -> dict:
    from normviz.experiments.loop import digits, mlp

    steps, lrs = (QUICK_STEPS, QUICK_LRS) if quick else (STEPS, LRS)
    data = digits("mlp")
    out = {"seed": seed, "quick": quick, "target_error": TARGET,
           "settings": dict(SETTINGS, steps=steps, widths=list(SETTINGS["widths"]), lrs=list(lrs)), "sweeps": {}}
    for i, norm in enumerate(NORMS):
        out["sweeps"][norm] = lr_sweep(lambda norm=norm: mlp(norm, widths=SETTINGS["widths"], seed=seed), data, lrs,
                                       steps=steps, batch_size=SETTINGS["batch_size"], momentum=SETTINGS["momentum"],
                                       seed=seed, progress=progress, offset=i / len(NORMS), share=1 / len(NORMS),
                                       label=LABELS[norm])
    return out


def sweep_point(norm: str, lr: float, seed: int = 0) -> float:
    """One cell of the full sweep: the final error (%) of ``norm`` at ``lr`` (for live re-checks)."""
    from normviz.experiments.loop import digits, mlp

    return lr_sweep(lambda: mlp(norm, widths=SETTINGS["widths"], seed=seed), digits("mlp"), [lr], steps=STEPS,
                    batch_size=SETTINGS["batch_size"], momentum=SETTINGS["momentum"], seed=seed)["error"][0]


def _largest(results: dict) -> dict:
    return {k: largest_lr(results["sweeps"][k], results["target_error"]) for k in NORMS}


def _fmt(lr: float | None) -> str:
    return "none of the grid" if lr is None else f"{lr:g}"


def _ge(a: float | None, b: float | None) -> bool:
    """a's largest lr is at least b's (a run that never reached the target counts as below all)."""
    return (a if a is not None else -1.0) >= (b if b is not None else -1.0)


def claim(results: dict) -> tuple[bool, str]:
    """The seed's claim: BN trains to 90 % at a larger learning rate than no norm."""
    big = _largest(results)
    holds = _ge(big["batch"], big["none"]) and big["batch"] != big["none"]
    grid = ", ".join(f"{lr:g}" for lr in results["settings"]["lrs"])
    sentence = (f"Largest learning rate (of {grid}; SGD momentum {results['settings']['momentum']:g}, "
                f"{results['settings']['steps']} steps) that still reaches {100 - results['target_error']:g} % test "
                f"accuracy: " + ", ".join(f"{LABELS[k]} {_fmt(big[k])}" for k in NORMS)
                + f". BN allows a larger one than no norm: {'holds' if holds else 'does not hold in this run'}.")
    return holds, sentence


def headline(results: dict) -> dict:
    big = _largest(results)
    out = {f"{LABELS[k]}: largest lr reaching 90 %": big[k] for k in NORMS}
    for k in NORMS:
        s = results["sweeps"][k]
        out[f"{LABELS[k]}: best final test error (%)"] = round(min(s["error"]), 2)
    return out


def facts(results: dict) -> list:
    big = _largest(results)
    return [
        ("BN reaches 90 % at a larger learning rate than no norm (the seed's claim)", claim(results)[0]),
        ("LN reaches 90 % at a learning rate at least as large as no norm's", _ge(big["layer"], big["none"])),
        ("GN reaches 90 % at a learning rate at least as large as no norm's", _ge(big["group"], big["none"])),
        ("BN's largest learning rate is at least LN's and GN's", _ge(big["batch"], big["layer"])
         and _ge(big["batch"], big["group"])),
        ("Every norm reaches 90 % at some learning rate of the grid", all(v is not None for v in big.values())),
    ]


def figure(results: dict) -> list:
    import plotly.graph_objects as go

    from normviz.palette import OKABE_ITO as COLORS

    symbols = ("circle", "square", "diamond", "triangle-up")
    fig1 = go.Figure()
    for i, norm in enumerate(NORMS):
        s = results["sweeps"][norm]
        fig1.add_scatter(x=s["lr"], y=s["error"], mode="lines+markers", name=LABELS[norm], line_color=COLORS[i],
                         marker_symbol=symbols[i])
    fig1.add_hline(y=results["target_error"], line_dash="dot", annotation_text="90 % accuracy")
    fig1.update_layout(title="Final test error against learning rate (100 % = diverged)", xaxis_title="learning rate",
                       yaxis_title="test error %", xaxis_type="log")
    big = _largest(results)
    fig2 = go.Figure(go.Bar(x=[LABELS[k] for k in NORMS], y=[big[k] or 0 for k in NORMS],
                            marker_color=list(COLORS[:len(NORMS)]), text=[_fmt(big[k]) for k in NORMS],
                            textposition="outside"))
    fig2.update_layout(title="Largest learning rate of the grid that still reaches 90 % test accuracy",
                       yaxis_title="learning rate", yaxis_type="log", xaxis_title="norm", showlegend=False)
    return [fig1, fig2]


SPEC = Experiment(
    key="learning_rates",
    title="Higher learning rates: the largest that still trains, per norm",
    question="why",
    echoes="Ioffe & Szegedy 2015, §4.2.2 and Figure 3 (BN-x5, BN-x30 on ImageNet)",
    paper=(PaperTable(
        source="Ioffe & Szegedy 2015 (Batch Normalization), Figure 3: Inception on ImageNet, single crop; "
               "Inception's learning rate 0.0015",
        columns=("model", "learning rate", "steps to 72.2 %", "max accuracy %"),
        rows=(("Inception", 0.0015, "31.0 M", 72.2), ("BN-Baseline", 0.0015, "13.3 M", 72.7),
              ("BN-x5", 0.0075, "2.1 M", 73.0), ("BN-x30", 0.045, "2.7 M", 74.8)),
        note="BN-x5 and BN-x30 also removed dropout and changed other settings (§4.2.1), so the learning rate is "
             "not the only difference",
    ),),
    look_for="The error against learning rate per norm: where each curve leaves the 90 % line on the right is the "
             "largest learning rate that still trains. Compare no norm with BN, LN and GN.",
    recommendation="With any of BN, LN or GN, try a learning rate larger than you would without a norm; how much "
                   "larger depends on the net (measured below per seed).",
    claim_text="BatchNorm reaches 90 % test accuracy at a larger learning rate of the grid than the same net without "
               "a norm.",
    how="MLP 64 → 64 → 64 → 10 on the digits' 64 pixels, the norm after each hidden linear layer (GN: 8 groups "
        "of features); batch 32, SGD momentum 0.9, 500 steps per run, learning rates 0.01 to 3 (half decades); a "
        "run's error is the mean of its last 3 of 11 logs, 100 % if the loss became non-finite.",
    notes="A grid of half decades resolves the largest learning rate to a factor of about 3; 500 steps is short, so "
          "small learning rates may miss 90 % for lack of steps, not of stability.",
    full_seconds=60,
    related=("training_lab",),
    run_fn=run,
    claim_fn=claim,
    figure_fn=figure,
    headline_fn=headline,
    facts_fn=facts,
)
