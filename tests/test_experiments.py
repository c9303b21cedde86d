"""The experiment registry: schema, quick runs of every entry, and the claims of experiments
1, 2, 5, 6, 8 and the BN/GN Figure 1 presets on their shipped results (2 seeds), with a live
re-check of a sample (training re-runs against shipped numbers: test_reproducibility.py).
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from normviz.experiments import EXPERIMENTS, GUIDE, QUESTIONS, Experiment, PaperTable, get, jsonable
from normviz.experiments.precompute import precompute

ROOT = Path(__file__).resolve().parent.parent
MINE = ("bn_figure1", "gn_figure1", "batch_instance", "switchable", "weight_norm", "keras", "gn_figures")


# --- schema ---------------------------------------------------------------------------------


def test_registry_schema():
    assert len(EXPERIMENTS) >= 12
    for key, spec in EXPERIMENTS.items():
        assert isinstance(spec, Experiment) and spec.key == key
        assert spec.question in QUESTIONS, key
        assert spec.title and spec.echoes and spec.look_for, key
        assert spec.paper and all(isinstance(t, PaperTable) for t in spec.paper), key
        for t in spec.paper:
            assert t.source and t.rows, key
            assert all(len(r) == len(t.columns) for r in t.rows), f"{key}: {t.source} has a ragged row"
            assert t.records()[0].keys() == set(t.columns)
        # One module per experiment holds its functions and its SPEC.
        for fn in (spec.run_fn, spec.claim_fn, spec.figure_fn):
            assert callable(fn) and fn.__module__ == f"normviz.experiments.{key}", (key, fn)


def test_every_question_of_the_guide_is_answered_by_registered_experiments():
    asked = {g.question for g in GUIDE}
    assert {"cnn", "rnn", "style", "batch", "distributed", "cost"} <= asked
    for g in GUIDE:
        assert g.answer and g.experiments
        assert all(k in EXPERIMENTS for k in g.experiments), g.question


def test_import_is_light():
    code = "import sys, normviz.experiments; print(sorted(m for m in ('torch', 'sklearn', 'streamlit') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_key_is_explained():
    with pytest.raises(ValueError, match="unknown experiment 'nope'; choose one of bn_figure1"):
        get("nope")


def test_jsonable():
    out = jsonable({"a": np.arange(3), "b": (np.float32(1.5), float("nan")), 3: np.int64(4), "c": [np.inf]})
    assert out == {"a": [0, 1, 2], "b": [1.5, None], "3": 4, "c": [None]}
    json.dumps(out, allow_nan=False)
    with pytest.raises(TypeError, match="cannot turn object"):
        jsonable(object())


# --- quick runs of every entry --------------------------------------------------------------


@pytest.mark.parametrize("key", list(EXPERIMENTS))
def test_quick_run_completes_and_is_json(key):
    spec = EXPERIMENTS[key]
    seen = []
    res = spec.run(seed=0, quick=True, progress=lambda f, t: seen.append(f))
    text = json.dumps(jsonable(res), allow_nan=False)
    assert json.loads(text) == jsonable(res)
    holds, sentence = spec.claim(json.loads(text))  # the claim works on the JSON round trip
    assert isinstance(holds, bool) and len(sentence) > 20
    figs = spec.figure(json.loads(text))
    assert all(hasattr(f, "to_plotly_json") and f.layout.title.text for f in figs)
    assert all(0 <= f <= 1 for f in seen)


def test_precompute_writes_how_it_was_made(tmp_path):
    doc = precompute("invariances", seeds=(0, 1), quick=True, path=tmp_path / "inv.json")
    back = json.loads((tmp_path / "inv.json").read_text())
    assert back == json.loads(json.dumps(doc))
    assert back["seeds"] == [0, 1] and set(back["runs"]) == {"0", "1"}
    assert "--precompute invariances" in back["made_by"] and back["date"] and back["machine"]
    assert all(isinstance(r["claim"]["holds"], bool) for r in back["runs"].values())


# --- claims on the shipped results (2 seeds each) -------------------------------------------


def shipped(key):
    doc = EXPERIMENTS[key].precomputed()
    assert doc is not None, f"no shipped results for {key}: run python -m normviz.experiments --precompute {key}"
    return doc


@pytest.mark.parametrize("key", MINE)
def test_shipped_claim_holds_for_two_seeds(key):
    doc = shipped(key)
    spec = EXPERIMENTS[key]
    assert len(doc["runs"]) >= 2 and not doc["quick"]  # the sweep too: one run per seed
    for seed, run in doc["runs"].items():
        holds, sentence = spec.claim(run["results"])  # recomputed from the numbers, not the stored verdict
        assert holds, f"{key} seed {seed}: {sentence}"


def test_bin_margins():
    for run in shipped("batch_instance")["runs"].values():
        r = run["results"]
        rho = r["contrast"]["rho_mean"]
        assert rho[-1] - rho[0] >= 0.3 + 0.2, rho  # claim 0.3, measured gap ≈ 0.9
        acc = r["brightness"]["acc"]
        assert acc["instance"] < 0.65 and min(acc["batch"], acc["batch_instance"]) > 0.9, acc
        assert all(0 <= v <= 1 for layer in r["contrast"]["rho"] for v in layer)
        assert np.mean(r["brightness"]["rho_mean"]) > np.mean(rho)  # gates lean to BN when brightness is signal


def test_switchable_margins_and_weights():
    for run in shipped("switchable")["runs"].values():
        b = run["results"]["batches"]
        for B in ("32", "2"):
            for w in b[B]["mean_weights"] + b[B]["var_weights"]:
                assert math.isclose(sum(w), 1.0, abs_tol=1e-5) and min(w) >= 0
        assert b["2"]["var_weights"][-1][2] <= 0.25 * b["32"]["var_weights"][-1][2]


def test_bn_figure1_margins():
    for run in shipped("bn_figure1")["runs"].values():
        r = run["results"]
        assert r["final_acc"]["batch"] >= 0.9
        unit = np.array([s["bn_unit"] for s in r["runs"]["batch"][1:]])
        assert np.all(np.diff(unit, axis=1) >= 0)  # 15th ≤ 50th ≤ 85th percentile


# --- live re-check of a sample --------------------------------------------------------------


def test_live_recheck_keras_axis3():
    from normviz.experiments.keras import axis3_check, keras_to_torch_momentum

    assert keras_to_torch_momentum(0.99) == pytest.approx(0.01)
    got = axis3_check(0)
    assert got == pytest.approx(shipped("keras")["runs"]["0"]["results"]["axis3"], abs=1e-12)
    assert got["vs_pono"] < 1e-12 < 0.5 < got["vs_layer"]


def test_weight_norm_keras_gn_figures_margins():
    for run in shipped("weight_norm")["runs"].values():
        v = run["results"]["runs"]["weight"]["v_norm"]
        assert all(v[-1][i] >= 1.5 * v[0][i] for i in range(len(v[0]))), v  # ‖v‖ grows a lot at lr 0.5
    for run in shipped("keras")["runs"].values():
        r = run["results"]["runs"]
        half = len(r["written_bn"]["val_error"]) // 2
        early = [sum(r[k]["val_error"][1:half + 1]) / half for k in ("written_bn", "fair_bn")]
        assert early[0] >= early[1] + 10, early  # Keras momentum: ≥ 10 points worse early on
        assert r["written_bn"]["options"] == {"momentum": 0.01, "eps": 1e-3}
    for run in shipped("gn_figures")["runs"].values():
        r = run["results"]["runs"]
        width = {k: (r[k]["bands"][-1][-1] - r[k]["bands"][-1][0]) / (r[k]["bands"][0][-1] - r[k]["bands"][0][0])
                 for k in ("none", "batch", "group")}
        assert width["none"] > 5 * max(width["batch"], width["group"]), width


def test_fit_loop_is_deterministic_and_logs_what_it_says():
    from normviz.experiments.loop import cnn, digits, fit

    data = digits("cnn")
    logs = [fit(cnn("group", widths=(8,), seed=3, norm_opts={"groups": 4}), data, steps=12, batch_size=16,
                lr=0.1, seed=3, log_every=5) for _ in range(2)]
    assert logs[0] == {k: v for k, v in logs[1].items() if k != "sec_per_step"} | {"sec_per_step": logs[0]["sec_per_step"]}
    assert logs[0]["step"] == [0, 5, 10, 12]
    assert all(0 <= e <= 100 for e in logs[0]["train_error"] + logs[0]["val_error"])


def test_dataset_variants_added_to_training():
    from normviz.training import TrainConfig, load_data

    base = load_data(TrainConfig(model="mlp"))
    con = load_data(TrainConfig(model="mlp", dataset="digits_contrast"))
    bri = load_data(TrainConfig(model="mlp", dataset="digits_brightness"))
    for X0, y0, Xc, yc, Xb, yb in ((base[0], base[1], con[0], con[1], bri[0], bri[1]),
                                   (base[2], base[3], con[2], con[3], bri[2], bri[3])):
        assert (yc == y0).all()  # contrast is noise: the digit labels stay
        factor = (Xc.sum(1) / X0.sum(1))
        assert factor.min() >= 0 and factor.max() < 2 and factor.std() > 0.4
        assert set(yb.tolist()) == {0, 1}  # brightness is the label
        ratio = Xb.sum(1) / X0.sum(1)
        assert np.allclose(ratio.numpy(), np.where(yb.numpy() == 1, 1.0, 0.5), atol=1e-5)
    with pytest.raises(ValueError, match="dataset must be one of digits, digits_contrast, digits_brightness"):
        TrainConfig(dataset="mnist")


def test_precompute_points_to_the_sweep_for_gn_figure1():
    with pytest.raises(ValueError, match="python -m normviz.training.sweeps"):
        precompute("gn_figure1")
