"""BN paper Figure 1 as an experiment: the training lab's preset, none vs BatchNorm.

Reuses the training lab as it is: ``normviz.training`` (its default ``TrainConfig`` is that
preset); figures from ``normviz.training.figures``.
"""
from __future__ import annotations

from normviz.experiments.base import Experiment, PaperTable

BN_NORMS = ("none", "batch")
BN_LABELS = {"none": "no norm", "batch": "BatchNorm"}
BN_TARGET = 0.9  # accuracy whose first crossing is compared


# --- BN paper Figure 1 ------------------------------------------------------------------------


def run(seed: int = 0, quick: bool = False, progress=None) -> dict:
    """None vs BN on the BN-paper MLP (batch 60, lr 0.5, 3000 steps, init N(0, 0.1²)).

    Per run: step, test accuracy, loss and the BN-paper unit's 15/50/85th percentiles per log.
    """
    from normviz.training import TrainConfig, steps_to_accuracy, train

    report = progress or (lambda f, t: None)
    steps, log_every = (100, 50) if quick else (3000, 100)
    out = {"seed": seed, "quick": quick, "target": BN_TARGET, "runs": {}, "steps_to_target": {},
           "final_acc": {}}
    for i, norm in enumerate(BN_NORMS):
        cfg = TrainConfig(norm=norm, seed=seed, steps=steps, log_every=log_every)
        out["config"] = {k: v for k, v in cfg.to_dict().items() if k != "norm"}
        snaps = []
        for s in train(cfg):
            snaps.append({"step": s.step, "test_acc": s.test_acc, "loss": s.loss, "bn_unit": s.bn_unit})
            report((i + s.step / steps) / len(BN_NORMS), f"{BN_LABELS[norm]}: step {s.step} of {steps}")
        out["runs"][norm] = snaps
        out["steps_to_target"][norm] = steps_to_accuracy(snaps, BN_TARGET)
        out["final_acc"][norm] = snaps[-1]["test_acc"]
    return out


def claim(results: dict) -> tuple[bool, str]:
    """BN reaches 90 % in at most half the steps of none (or none never does), ends at least as high."""
    s_bn, s_none = results["steps_to_target"]["batch"], results["steps_to_target"]["none"]
    a_bn, a_none = results["final_acc"]["batch"], results["final_acc"]["none"]
    target = results.get("target", BN_TARGET)
    faster = s_bn is not None and (s_none is None or s_bn <= s_none / 2)
    higher = a_bn >= a_none
    never = "never (within the run)"
    sentence = (f"Steps to {target:.0%} test accuracy: BN {s_bn if s_bn is not None else never}, no norm "
                f"{s_none if s_none is not None else never}; final accuracy BN {a_bn:.1%} vs no norm {a_none:.1%}.")
    return faster and higher, sentence


def _median_travel(snaps: list) -> float:
    """How far the unit's median (50th percentile of the sigmoid's input) travels after step 0:
    its range over the run."""
    medians = [s["bn_unit"][1] for s in snaps[1:]]
    return max(medians) - min(medians)


def headline(results: dict) -> dict:
    never = float("nan")
    out = {}
    for norm in BN_NORMS:
        steps = results["steps_to_target"][norm]
        out[f"{BN_LABELS[norm]}: steps to {results.get('target', BN_TARGET):.0%}"] = never if steps is None else steps
    for norm in BN_NORMS:
        out[f"{BN_LABELS[norm]}: final test accuracy"] = round(results["final_acc"][norm], 4)
    for norm in BN_NORMS:
        out[f"{BN_LABELS[norm]}: range of the unit's median"] = round(_median_travel(results["runs"][norm]), 3)
    return out


def facts(results: dict) -> list:
    s_bn, s_none = results["steps_to_target"]["batch"], results["steps_to_target"]["none"]
    target = results.get("target", BN_TARGET)
    return [
        (f"BN reaches {target:.0%} test accuracy in at most half the steps of no norm",
         s_bn is not None and (s_none is None or s_bn <= s_none / 2)),
        ("BN ends at least as accurate as no norm", results["final_acc"]["batch"] >= results["final_acc"]["none"]),
        ("The unit's median moves less with BN than without",
         _median_travel(results["runs"]["batch"]) < _median_travel(results["runs"]["none"])),
    ]


def figure(results: dict) -> list:
    from normviz.training.figures import bn_figure1

    return [bn_figure1([(BN_LABELS[k], v) for k, v in results["runs"].items()])]


SPEC = Experiment(
    key="bn_figure1",
    title="BN paper Figure 1: BN keeps a sigmoid's input steady and learns faster",
    question="why",
    echoes="Ioffe & Szegedy 2015, Figure 1 (MNIST MLP, 3×100 sigmoid units, batch 60)",
    paper=(PaperTable(
        source="Ioffe & Szegedy 2015: Inception on ImageNet, steps to 72.2 % top-1 (single crop)",
        columns=("model", "steps to 72.2 %", "max accuracy %"),
        rows=(("Inception", "31.0 M", 72.2), ("BN-Baseline", "13.3 M", 72.7),
              ("BN-x5", "2.1 M", 73.0), ("BN-x30", "2.7 M", 74.8)),
        note="Figure 1 itself (MNIST) is a plot only: BN trains faster and ends higher; the "
             "15/50/85th percentiles of a sigmoid's input drift without BN and stay steady with it.",
    ),),
    look_for="Compare the steps to 90 % test accuracy, and how far the 15/50/85th percentile band of one "
             "sigmoid's input moves over training, with and without BN.",
    recommendation="BN speeds up this sigmoid MLP and keeps the sigmoid's input in range; that is the BN paper's "
                   "Figure 1, whose own numbers are a plot only.",
    claim_text="BN reaches 90 % test accuracy in at most half the steps of no norm (or no norm "
               "never does), and ends at least as high.",
    how="MLP 64→100→100→100→10 sigmoid, digits, batch 60, SGD lr 0.5, 3000 steps.",
    full_seconds=10,
    related=("training_lab",),
    run_fn=run,
    claim_fn=claim,
    figure_fn=figure,
    headline_fn=headline,
    facts_fn=facts,
)
