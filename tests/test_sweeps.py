"""normviz.training.sweeps: the shipped GN batch-size sweep and its claims (re-runs: test_reproducibility.py)."""
from __future__ import annotations

import pytest

pytest.importorskip("torch")

from normviz.training import figures as training_figures  # noqa: E402
from normviz.training.sweeps import (  # noqa: E402
    BATCH_SIZES,
    NORMS,
    cell_config,
    claims,
    load_sweep,
    summarize,
)



@pytest.fixture(scope="module")
def sweep():
    return load_sweep()


def test_shipped_data_says_how_it_was_made(sweep):
    for key in ("recipe", "seeds", "date", "torch", "seconds", "command", "cells"):
        assert key in sweep, key
    assert sweep["batch_sizes"] == list(BATCH_SIZES) and sweep["norms"] == list(NORMS)
    assert len(sweep["seeds"]) >= 2
    assert len(sweep["cells"]) == len(NORMS) * len(BATCH_SIZES) * len(sweep["seeds"])
    samples = sweep["recipe"]["samples_seen"]
    for c in sweep["cells"]:
        assert c["steps"] == samples // c["batch_size"]  # samples seen held fixed
        assert c["lr"] == pytest.approx(0.05 * c["batch_size"] / 16)  # linear scaling rule
        assert not c["diverged"]


@pytest.mark.parametrize("seed", [0, 1])
def test_gn_is_flat_and_bn_falls_off_a_cliff_at_batch_two_in_every_seed(sweep, seed):
    from normviz.experiments.gn_figure1 import BN_CLIFF, GN_FLAT

    one = {**sweep, "seeds": [seed], "cells": [c for c in sweep["cells"] if c["seed"] == seed]}
    c = claims(one)
    assert c["gn_spread"] <= GN_FLAT, f"seed {seed}: GN eval error spread {c['gn_spread']:.2f} points"
    assert c["bn_drop"] >= BN_CLIFF, f"seed {seed}: BN at batch 2 only {c['bn_drop']:.2f} points worse than at 64"


def test_cell_config_holds_samples_and_scales_lr():
    a, b = cell_config("batch", 64, 0, samples=6400), cell_config("batch", 2, 0, samples=6400)
    assert a.steps * 64 == b.steps * 2 == 6400
    assert a.effective_lr / b.effective_lr == pytest.approx(32)
    with pytest.raises(ValueError, match="at least 2"):
        cell_config("batch", 1, 0)


def test_summary_and_claims_on_a_made_up_sweep():
    cells = [{"norm": n, "batch_size": b, "seed": s, "eval_error": e + s, "train_mode_error": e}
             for n, errs in (("batch", (1, 2, 30)), ("group", (2, 2, 3)), ("layer", (3, 3, 3)))
             for b, e in zip((64, 8, 2), errs) for s in (0, 1)]
    fake = {"norms": ["batch", "group", "layer"], "batch_sizes": [64, 8, 2], "cells": cells, "seeds": [0, 1]}
    s = summarize(fake)
    assert s["batch"]["eval"] == [1.5, 2.5, 30.5] and s["group"]["train_mode"] == [2, 2, 3]
    c = claims(fake)
    assert c == {"gn_spread": 1.0, "bn_drop": 29.0}


def test_sweep_figure_has_train_and_eval_panels_on_log2_axes(sweep):
    fig = training_figures.sweep_figure(sweep, extra_cells=[{"norm": "batch", "batch_size": 2, "eval_error": 50.0,
                                                "train_mode_error": 40.0}])
    assert fig.layout.xaxis.type == "log" and fig.layout.xaxis2.type == "log"
    assert list(fig.layout.xaxis.tickvals) == list(BATCH_SIZES)
    titles = [a.text for a in fig.layout.annotations]
    assert any("Train mode" in t for t in titles) and any("Eval mode" in t for t in titles)
    legend = {t.name for t in fig.data if t.showlegend is not False}
    assert {"BatchNorm", "GroupNorm", "LayerNorm", "live re-run"} <= legend
