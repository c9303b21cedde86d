"""The training lab's two presets as registry experiments: BN paper Figure 1, GN paper Figure 1.

Both reuse the training lab as it is: ``normviz.training`` (BN Figure 1: its default
``TrainConfig`` is that preset) and ``normviz.sweeps`` (the GN batch-size sweep, whose full
results ship in ``data/gn_batch_sweep.json``). Figures come from ``normviz.training_figures``.
"""
from __future__ import annotations

BN_NORMS = ("none", "batch")
BN_LABELS = {"none": "no norm", "batch": "BatchNorm"}
BN_TARGET = 0.9  # accuracy whose first crossing is compared
QUICK_SAMPLES = 480  # samples seen per sweep cell in a quick run


# --- BN paper Figure 1 ------------------------------------------------------------------------


def bn_figure1_run(seed: int = 0, quick: bool = False, progress=None) -> dict:
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


def bn_figure1_claim(results: dict) -> tuple[bool, str]:
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


def bn_figure1_figure(results: dict) -> list:
    from normviz.training_figures import bn_figure1

    return [bn_figure1([(BN_LABELS[k], v) for k, v in results["runs"].items()])]


# --- GN paper Figure 1 ------------------------------------------------------------------------


def gn_figure1_run(seed: int = 0, quick: bool = False, progress=None) -> dict:
    """The sweep of ``normviz.sweeps`` for one seed (quick: batch 32 and 2, 480 samples seen per cell)."""
    from normviz.sweeps import BATCH_SIZES, SAMPLES, run_sweep

    if quick:
        return run_sweep(seeds=(seed,), batch_sizes=(32, 2), samples=QUICK_SAMPLES, progress=progress)
    return run_sweep(seeds=(seed,), batch_sizes=BATCH_SIZES, samples=SAMPLES, progress=progress)


def gn_figure1_claim(results: dict) -> tuple[bool, str]:
    """GN's eval-error spread over batch sizes ≤ 1.5 points; BN's at batch 2 ≥ 10 points worse than at 64."""
    from normviz.sweeps import claims, summarize

    c = claims(results)
    s = summarize(results)
    bs = results["batch_sizes"]
    lo, hi = bs.index(min(bs)), bs.index(max(bs))
    holds = c["gn_spread"] <= 1.5 and c["bn_drop"] >= 10
    sentence = (f"Eval-mode test error, batch {max(bs)} → {min(bs)}: BN {s['batch']['eval'][hi]:.1f} % → "
                f"{s['batch']['eval'][lo]:.1f} % (+{c['bn_drop']:.1f} points; claim ≥ 10), GN "
                f"{s['group']['eval'][hi]:.1f} % → {s['group']['eval'][lo]:.1f} % (spread over all batch sizes "
                f"{c['gn_spread']:.1f} points; claim ≤ 1.5). Mean over seeds {', '.join(map(str, results['seeds']))}.")
    return holds, sentence


def gn_figure1_figure(results: dict) -> list:
    from normviz.training_figures import sweep_figure

    return [sweep_figure(results)]


def gn_figure1_precomputed() -> dict | None:
    """The shipped sweep (``data/gn_batch_sweep.json``, both seeds) in the registry's file format."""
    from normviz.sweeps import DATA_PATH, load_sweep

    if not DATA_PATH.exists():
        return None
    sweep = load_sweep()
    holds, sentence = gn_figure1_claim(sweep)
    return {"key": "gn_figure1", "made_by": sweep.get("command", ""), "how": sweep.get("what", ""),
            "seeds": sweep["seeds"], "date": sweep.get("date", ""), "seconds": {"all": sweep.get("seconds")},
            "machine": f"python {sweep.get('python')}, torch {sweep.get('torch')}",
            "runs": {"all": {"results": sweep, "claim": {"holds": holds, "sentence": sentence}}}}
