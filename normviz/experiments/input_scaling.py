"""Input scaling vs normalization layers: features on wildly different scales.

The seed's "normalization" starts with data preprocessing: standardize each input feature,
``x′ = (x − mean)/std`` over the training set. Here a few digit pixels are multiplied by 100, so
those features dominate every first-layer pre-activation and their weights' gradients (the
gradient of a first-layer weight is proportional to its input). Four MLPs of the same shape:

- ``clean``: the original pixels, no norm (the reference);
- ``raw``: the scaled pixels, no norm;
- ``standardized``: the scaled pixels standardized with the training set's mean and std;
- ``bn_first``: the scaled pixels, BN after the first linear layer only.

For each, the learning rate is swept on a log grid: the largest that still reaches 90 % test
accuracy, and the fewest steps to 90 % over the grid.
"""
from __future__ import annotations

from normviz.experiments.base import Experiment, PaperTable
from normviz.experiments.learning_rates import TARGET, largest_lr, lr_sweep

SETUPS = ("clean", "raw", "standardized", "bn_first")
LABELS = {"clean": "original pixels, no norm", "raw": "scaled pixels, no norm",
          "standardized": "scaled pixels, standardized inputs", "bn_first": "scaled pixels, BN after layer 1"}
N_SCALED, FACTOR = 4, 100.0
LRS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
QUICK_LRS = (1e-2,)
SETTINGS = dict(widths=(64, 64), batch_size=32, momentum=0.9)
STEPS, QUICK_STEPS = 500, 20


def scaled_features(X_train) -> list[int]:
    """The ``N_SCALED`` pixel features with the largest training variance (those that carry the
    most signal), in increasing index order."""
    return sorted(X_train.var(0).argsort(descending=True)[:N_SCALED].tolist())


def make_data(setup: str, data):
    """(X_train, y_train, X_test, y_test) for a setup: scale the chosen features by ``FACTOR``;
    ``standardized`` then z-scores every feature with the training set's mean and std (features
    constant in training keep std 1)."""
    Xtr, ytr, Xte, yte = data
    if setup == "clean":
        return data
    idx = scaled_features(Xtr)
    Xtr, Xte = Xtr.clone(), Xte.clone()
    Xtr[:, idx] *= FACTOR
    Xte[:, idx] *= FACTOR
    if setup == "standardized":
        mean, std = Xtr.mean(0), Xtr.std(0)
        std[std == 0] = 1.0
        Xtr, Xte = (Xtr - mean) / std, (Xte - mean) / std
    return Xtr, ytr, Xte, yte


def build(setup: str, seed: int):
    """The MLP for a setup: BN in the first block only for ``bn_first``, no norm otherwise."""
    from torch import nn

    from normviz.experiments.loop import mlp

    if setup != "bn_first":
        return mlp("none", widths=SETTINGS["widths"], seed=seed)
    model = mlp("batch", widths=SETTINGS["widths"], seed=seed)
    for block in model[1:-1]:
        block[1] = nn.Identity()
    return model


def run(seed: int = 0, quick: bool = False, progress=None) -> dict:
    from normviz.experiments.loop import digits

    steps, lrs = (QUICK_STEPS, QUICK_LRS) if quick else (STEPS, LRS)
    data = digits("mlp")
    out = {"seed": seed, "quick": quick, "target_error": TARGET, "scaled_features": scaled_features(data[0]),
           "factor": FACTOR, "settings": dict(SETTINGS, steps=steps, widths=list(SETTINGS["widths"]), lrs=list(lrs)),
           "sweeps": {}}
    for i, setup in enumerate(SETUPS):
        out["sweeps"][setup] = lr_sweep(lambda setup=setup: build(setup, seed), make_data(setup, data), lrs,
                                        steps=steps, batch_size=SETTINGS["batch_size"],
                                        momentum=SETTINGS["momentum"], seed=seed, progress=progress,
                                        offset=i / len(SETUPS), share=1 / len(SETUPS), label=LABELS[setup])
    return out


def _largest(results: dict) -> dict:
    return {k: largest_lr(results["sweeps"][k], results["target_error"]) for k in SETUPS}


def _fewest_steps(results: dict) -> dict:
    """Fewest logged steps to 90 % over the grid, per setup (None if no run reached it)."""
    out = {}
    for k in SETUPS:
        hits = [s for s in results["sweeps"][k]["steps_to_target"] if s is not None]
        out[k] = min(hits) if hits else None
    return out


def _below(a: float | None, b: float | None) -> bool:
    """a < b where None (never reached) is below everything."""
    return (a if a is not None else -1.0) < (b if b is not None else -1.0)


def _fewer(a: int | None, b: int | None) -> bool:
    """a needs fewer steps than b, where None (never reached) is more than any count."""
    inf = float("inf")
    return (a if a is not None else inf) < (b if b is not None else inf)


def _fmt(v) -> str:
    return "none of the grid" if v is None else f"{v:g}"


def claim(results: dict) -> tuple[bool, str]:
    """Both standardizing the inputs and BN after the first layer train to 90 % at a larger
    learning rate than the scaled inputs without either."""
    big, few = _largest(results), _fewest_steps(results)
    holds = _below(big["raw"], big["standardized"]) and _below(big["raw"], big["bn_first"])
    pixels = ", ".join(map(str, results["scaled_features"]))
    sentence = (f"Pixels {pixels} ×{results['factor']:g}. Largest learning rate reaching "
                f"{100 - results['target_error']:g} % (grid {', '.join(f'{lr:g}' for lr in results['settings']['lrs'])}): "
                + ", ".join(f"{LABELS[k]} {_fmt(big[k])}" for k in SETUPS)
                + ". Fewest steps to 90 % over the grid: "
                + ", ".join(f"{LABELS[k]} {'never' if few[k] is None else few[k]}" for k in SETUPS)
                + f". Standardizing and BN after layer 1 both allow a larger learning rate than the scaled pixels "
                  f"alone: {'holds' if holds else 'does not hold in this run'}.")
    return holds, sentence


def headline(results: dict) -> dict:
    big, few = _largest(results), _fewest_steps(results)
    out = {f"{LABELS[k]}: largest lr reaching 90 %": big[k] for k in SETUPS}
    out.update({f"{LABELS[k]}: fewest steps to 90 %": few[k] for k in SETUPS})
    out.update({f"{LABELS[k]}: best final test error (%)": round(min(results["sweeps"][k]["error"]), 2)
                for k in SETUPS})
    return out


def facts(results: dict) -> list:
    big, few = _largest(results), _fewest_steps(results)
    return [
        ("Scaling 4 pixels ×100 lowers the largest learning rate that reaches 90 % (vs the original pixels)",
         _below(big["raw"], big["clean"])),
        ("Standardized inputs allow a larger learning rate than the scaled pixels", _below(big["raw"], big["standardized"])),
        ("BN after layer 1 allows a larger learning rate than the scaled pixels", _below(big["raw"], big["bn_first"])),
        ("Standardized inputs allow at least the learning rate of BN after layer 1",
         not _below(big["standardized"], big["bn_first"])),
        ("Standardized inputs reach 90 % in fewer steps than the scaled pixels", _fewer(few["standardized"], few["raw"])),
        ("BN after layer 1 reaches 90 % in fewer steps than the scaled pixels", _fewer(few["bn_first"], few["raw"])),
        ("The scaled pixels without any normalization still reach 90 % at some learning rate", big["raw"] is not None),
    ]


def figure(results: dict) -> list:
    import plotly.graph_objects as go

    from normviz.palette import OKABE_ITO as COLORS

    symbols = ("circle", "square", "diamond", "triangle-up")
    fig1, fig2 = go.Figure(), go.Figure()
    for i, setup in enumerate(SETUPS):
        s = results["sweeps"][setup]
        kw = dict(mode="lines+markers", name=LABELS[setup], line_color=COLORS[i], marker_symbol=symbols[i])
        fig1.add_scatter(x=s["lr"], y=s["error"], **kw)
        fig2.add_scatter(x=s["lr"], y=[v if v is not None else None for v in s["steps_to_target"]], **kw)
    fig1.add_hline(y=results["target_error"], line_dash="dot", annotation_text="90 % accuracy")
    fig1.update_layout(title="Final test error against learning rate (100 % = diverged)", xaxis_title="learning rate",
                       yaxis_title="test error %", xaxis_type="log")
    fig2.update_layout(title="Steps to 90 % test accuracy against learning rate (gaps: never reached)",
                       xaxis_title="learning rate", yaxis_title="steps", xaxis_type="log")
    return [fig1, fig2]


SPEC = Experiment(
    key="input_scaling",
    title="Input scaling vs normalization layers",
    question="why",
    echoes="LeCun, Bottou, Orr & Müller 1998 (Efficient BackProp, §4.3: normalize the inputs); Ioffe & Szegedy 2015 "
           "(§1–2: whitening inputs speeds training, BN extends it inside the net)",
    paper=(PaperTable(
        source="LeCun et al. 1998, Efficient BackProp, §4.3; Ioffe & Szegedy 2015, §1–2",
        columns=("paper", "what it says"),
        rows=(("LeCun et al. 1998", "convergence is faster if each input variable has mean near 0 and the variables' "
                                    "covariances are about the same"),
              ("Ioffe & Szegedy 2015", "networks converge faster with whitened inputs; BN applies the idea to each "
                                       "layer's inputs, per feature over the mini-batch")),
        note="statements of the papers, no numbers quoted",
    ),),
    look_for="Where each curve leaves the 90 % line on the right (largest learning rate that trains) and how many steps "
             "the best run needs. Standardizing fixes the inputs only; BN after layer 1 fixes layer 1's outputs, "
             "while layer 1's own weight gradients still see the ×100 pixels.",
    recommendation="Standardize the inputs (training-set mean and std, kept for test time); do not count on a norm "
                   "layer to do it: layer 1's weights still see the raw scales (whether BN after layer 1 rescues "
                   "training here is measured below, per seed).",
    claim_text="With 4 digit pixels ×100, both standardizing the inputs and BN after the first layer train to 90 % at a "
               "larger learning rate than the scaled pixels alone.",
    how="MLP 64 → 64 → 64 → 10 on the digits' 64 pixels (values in [0, 1]), the 4 pixels with the largest training "
        "variance ×100; batch 32, SGD momentum 0.9, 500 steps per run, learning rates 1e-4 to 1 (decades); a run's "
        "error is the mean of its last 3 of 11 logs, 100 % if the loss became non-finite.",
    notes="A grid of decades resolves the largest learning rate to a factor of 10. Standardizing needs the training "
          "set's statistics, fixed at test time; BN uses the batch's, so it also changes what the net computes.",
    full_seconds=60,
    related=("learning_rates",),
    run_fn=run,
    claim_fn=claim,
    figure_fn=figure,
    headline_fn=headline,
    facts_fn=facts,
)
