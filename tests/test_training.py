"""normviz.training: determinism, the snapshot schema, divergence, gates, BN Figure 1 claim, figures."""
from __future__ import annotations

import csv
import io
import json
import math

import pytest

torch = pytest.importorskip("torch")

from normviz.training import figures as training_figures  # noqa: E402
from normviz.norms.torch_modules import available_norms  # noqa: E402
from normviz.training import (  # noqa: E402
    QUANTILE_LEVELS,
    TrainConfig,
    pytorch_snippet,
    run_log_to_rows,
    steps_to_accuracy,
    train,
)

SHORT = TrainConfig(steps=120, log_every=40)
TIMING = ("sec_per_step", "elapsed", "message")


def _strip(d: dict) -> dict:
    return {k: v for k, v in d.items() if k not in TIMING}


@pytest.fixture(scope="module")
def short_run():
    return list(train(SHORT))


def test_same_config_same_numbers(short_run):
    again = list(train(SHORT))
    assert [_strip(s.to_dict()) for s in again] == [_strip(s.to_dict()) for s in short_run]


def test_seed_changes_the_numbers(short_run):
    other = list(train(SHORT.replace(seed=1)))
    assert [s.loss for s in other] != [s.loss for s in short_run]


def test_interleaved_runs_stay_deterministic(short_run):
    # The page advances several runs in turns; a run must not depend on the others.
    a, b = train(SHORT), train(SHORT.replace(norm="none"))
    mixed = []
    for sa, _ in zip(a, b):
        mixed.append(_strip(sa.to_dict()))
    assert mixed == [_strip(s.to_dict()) for s in short_run]


def test_threads_restored_between_snapshots():
    before = torch.get_num_threads()
    gen = train(SHORT)
    next(gen)
    assert torch.get_num_threads() == before
    list(gen)
    assert torch.get_num_threads() == before


def test_snapshot_schema(short_run):
    cfg = SHORT
    assert [s.step for s in short_run] == [0, 40, 80, 120]
    assert [s.done for s in short_run] == [False, False, False, True]
    width, n_values = cfg.width, cfg.n_probe * cfg.width
    for s in short_run:
        d = s.to_dict()
        json.dumps(d, allow_nan=False)  # plain JSON
        assert 0 <= d["test_acc"] <= 1 and 0 <= d["train_mode_acc"] <= 1
        assert math.isfinite(d["loss"]) and d["loss"] > 0
        assert d["sec_per_step"] >= 0 and d["lr"] == cfg.effective_lr
        assert len(d["layers"]) == cfg.depth
        assert len(d["hist_edges"]) == cfg.hist_bins + 1
        for layer in d["layers"]:
            for key in ("norm_input", "act_input"):
                q = layer[f"{key}_q"]
                assert len(q) == len(QUANTILE_LEVELS) == 9
                assert q == sorted(q)
                assert len(layer[f"{key}_hist"]) == cfg.hist_bins
                assert sum(layer[f"{key}_hist"]) == n_values
        assert len(d["bn_unit"]) == 3 and d["bn_unit"] == sorted(d["bn_unit"])
        assert not d["diverged"] and d["rho"] is None and d["sn_mean"] is None
    assert width == 100
    # BN's nonlinearity input is standardized in train mode; the norm's input is not.
    last = short_run[-1].layers[-1]
    assert last.norm_input_q != last.act_input_q


def test_sigmoid_input_matches_a_direct_forward_pass():
    # The hooks must report the nonlinearity's input: recompute it by hand for the last snapshot.
    from normviz.training import build_model, load_data

    cfg = TrainConfig(norm="none", steps=1, log_every=1)
    snap = next(train(cfg))  # step 0: the initial weights
    model = build_model(cfg).eval()
    _, _, Xte, _ = load_data(cfg)
    with torch.no_grad():
        h = Xte[:cfg.n_probe]
        for block in list(model)[:-1]:
            z = block[1](block[0](h))
            h = block[2](z)
    expect = torch.quantile(z[:, 0].double(), torch.tensor([0.15, 0.5, 0.85], dtype=torch.float64)).tolist()
    assert snap.bn_unit == pytest.approx(expect, abs=1e-6)


@pytest.mark.parametrize("model, lr", [("mlp", 1000.0), ("cnn", 50.0)])
def test_absurd_lr_diverges_with_a_message(model, lr):
    cfg = TrainConfig(model=model, norm="none", lr=lr, momentum=0.9, steps=200, log_every=50,
                      init_std=None if model == "cnn" else 0.1)
    snaps = list(train(cfg))  # never raises
    last = snaps[-1]
    assert last.diverged and last.done
    assert last.step < cfg.steps
    assert f"step {last.step}" in last.message
    assert "lower lr" in last.message and f"from {lr:g}" in last.message
    assert not any(s.diverged for s in snaps[:-1])


def test_exploding_but_finite_loss_counts_as_divergence():
    # A sigmoid MLP at lr 50 climbs far above its start without becoming NaN.
    cfg = TrainConfig(norm="none", lr=50.0, steps=500, log_every=100)
    last = list(train(cfg))[-1]
    assert last.diverged, last.message
    assert "lower lr from 50 to 0.5" in last.message


def test_healthy_run_does_not_diverge(short_run):
    assert not short_run[-1].diverged
    assert short_run[-1].message.startswith("Finished")


def test_bin_rho_stays_in_unit_interval():
    cfg = TrainConfig(model="cnn", norm="batch_instance", init_std=None, lr=0.2, momentum=0.9,
                      steps=60, log_every=20)
    snaps = list(train(cfg))
    assert all(s.rho is not None and len(s.rho) == cfg.depth for s in snaps)
    values = [v for s in snaps for layer in s.rho for v in layer]
    assert all(0.0 <= v <= 1.0 for v in values)
    assert min(values) < 1.0  # the gates did train (they start at 1)


def test_sn_weights_sum_to_one():
    cfg = TrainConfig(model="cnn", norm="switchable", init_std=None, lr=0.1, momentum=0.9,
                      steps=40, log_every=20)
    snaps = list(train(cfg))
    for s in snaps:
        assert len(s.sn_mean) == len(s.sn_var) == cfg.depth
        for w in s.sn_mean + s.sn_var:
            assert len(w) == 3 and sum(w) == pytest.approx(1.0, abs=1e-6) and min(w) >= 0
    assert snaps[-1].sn_mean != snaps[0].sn_mean


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_every_available_norm_trains(model):
    dims = 1 if model == "mlp" else 2
    for norm in available_norms(dims):
        cfg = TrainConfig(model=model, norm=norm, steps=4, log_every=2, batch_size=16,
                          init_std=0.1 if model == "mlp" else None, lr=0.05)
        snaps = list(train(cfg))
        assert snaps[-1].step == 4 or snaps[-1].diverged, norm
        assert len(snaps[0].layers) == cfg.depth, norm


def test_uninstrumented_run_yields_only_the_end():
    snaps = list(train(SHORT, instrument=False))
    assert len(snaps) == 1 and snaps[0].step == SHORT.steps and snaps[0].done
    full = list(train(SHORT))[-1]
    assert snaps[0].test_acc == full.test_acc  # instrumentation does not change training


@pytest.mark.parametrize("bad, match", [
    (dict(norm="group", hidden=100, groups=8), "divisible by G"),
    (dict(model="resnet"), "model must be one of"),
    (dict(lr=-1.0), "lr must be a positive number"),
    (dict(batch_size=1), "batch_size must be a whole number"),
    (dict(init_std=0.0), "init_std must be a positive number"),
])
def test_bad_config_explains(bad, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**bad)


def test_cnn_keeps_spatial_size_for_instance_norms():
    from normviz.training import build_model

    model = build_model(TrainConfig(model="cnn", norm="instance", init_std=None))
    shapes = []
    hooks = [block[1].register_forward_hook(lambda m, i, o: shapes.append(tuple(i[0].shape)))
             for block in list(model)[:-1]]
    model(torch.zeros(2, 1, 8, 8))
    for h in hooks:
        h.remove()
    assert all(s[2] * s[3] >= 4 for s in shapes) and len(shapes) == 3


def test_run_log_rows_and_csv(short_run):
    rows = run_log_to_rows(short_run, run="BN")
    assert len(rows) == len(short_run)
    assert rows[-1]["step"] == SHORT.steps and rows[0]["run"] == "BN"
    assert "L3_act_in_50%" in rows[0] and "bn_unit_p85" in rows[0]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    assert buf.getvalue().count("\n") == len(rows) + 1


@pytest.mark.parametrize("norm, model", [("batch", "mlp"), ("group", "cnn"), ("switchable", "cnn"), ("batch_renorm", "mlp")])
def test_pytorch_snippet_runs(norm, model, capsys):
    cfg = TrainConfig(norm=norm, model=model, steps=3, batch_size=16, init_std=None if model == "cnn" else 0.1)
    code = pytorch_snippet(cfg)
    compile(code, "snippet", "exec")
    exec(code, {"__name__": "snippet"})
    out = capsys.readouterr().out
    assert "test accuracy" in out
    assert ("RenormWarmup.scaled(3)" in code) == (norm == "batch_renorm")


def test_bn_figure1_claim_over_two_seeds():
    """BN paper Figure 1 at the default init: BN reaches 90 % test accuracy in at most half the
    steps of "none" (or "none" never does), and ends at least as high."""
    for seed in (0, 1):
        runs = {norm: list(train(TrainConfig(norm=norm, seed=seed, log_every=100))) for norm in ("none", "batch")}
        bn, none = (steps_to_accuracy(runs[k], 0.9) for k in ("batch", "none"))
        assert bn is not None, f"seed {seed}: BN never reached 90 %"
        assert none is None or bn <= none / 2, f"seed {seed}: BN {bn} steps vs none {none}"
        assert runs["batch"][-1].test_acc >= runs["none"][-1].test_acc, seed


def test_figures_have_titles_axes_and_one_trace_group_per_run(short_run):
    runs = [("BN", short_run), ("BN again", short_run)]
    for fig in (training_figures.metrics_figure(runs), training_figures.percentile_bands_figure(runs), training_figures.histogram_heatmap_figure(runs),
                training_figures.bn_figure1(runs)):
        assert fig.layout.title.text
        layout = fig.layout.to_plotly_json()
        x_titles = [v.get("title", {}).get("text") for k, v in layout.items() if k.startswith("xaxis")]
        assert "step" in x_titles
        names = {t.name for t in fig.data if t.name}
        assert names
    fig = training_figures.metrics_figure(runs)
    assert {t.legendgroup for t in fig.data} == {"BN", "BN again"}
    hm = training_figures.histogram_heatmap_figure(runs)
    assert sum(t.type == "heatmap" for t in hm.data) == 2 * SHORT.depth
    assert training_figures.gates_figure(runs) is None


def test_batch_renorm_runs_warm_up_unless_told_not_to():
    from normviz.norms.torch_modules import RenormWarmup
    from normviz.training.models import build_model

    cfg = TrainConfig(norm="batch_renorm", steps=160, log_every=80)
    warm = [m.warmup for m in build_model(cfg).modules() if hasattr(m, "warmup")]
    assert warm == [RenormWarmup.scaled(160)] * cfg.depth
    assert all(m.warmup is None for m in build_model(cfg.replace(renorm_warmup=False)).modules() if hasattr(m, "warmup"))
    # The run reports the bounds in force: BN's at step 0, the full correction at the end.
    snaps = list(train(cfg))
    assert snaps[0].learned[0]["Batch Renorm r_max"] == 1.0 and snaps[0].learned[0]["Batch Renorm d_max"] == 0.0
    assert snaps[-1].learned[0]["Batch Renorm r_max"] == 3.0 and snaps[-1].learned[0]["Batch Renorm d_max"] == 5.0


def test_affine_summaries_match_the_norm_parameters_and_vanish_without_affine():
    import torch

    from normviz.training.loop import affine_summaries
    from normviz.training.models import build_model

    model = build_model(TrainConfig(norm="batch", hidden=12, groups=4))
    with torch.no_grad():
        for i, block in enumerate(list(model)[:-1]):
            block[1].weight.copy_(torch.linspace(0.5, 2.0 + i, 12))
            block[1].bias.copy_(torch.linspace(-1.0, 1.0, 12) + i)
    for i, row in enumerate(affine_summaries(model)):
        g, b = model[i][1].weight.detach().double(), model[i][1].bias.detach().double()
        assert row == pytest.approx({"gamma_mean": float(g.mean()), "gamma_std": float(g.std()),
                                     "beta_mean": float(b.mean()), "beta_std": float(b.std())}, rel=1e-12)
    # RMSNorm has γ and no β; no norm, affine=False and weight-side norms have neither.
    assert set(affine_summaries(build_model(TrainConfig(norm="rms")))[0]) == {"gamma_mean", "gamma_std"}
    for cfg in (TrainConfig(norm="batch", affine=False), TrainConfig(norm="none"), TrainConfig(norm="weight")):
        assert affine_summaries(build_model(cfg)) is None, cfg.norm
    n_on = sum(p.numel() for p in build_model(TrainConfig(norm="layer")).parameters())
    n_off = sum(p.numel() for p in build_model(TrainConfig(norm="layer", affine=False)).parameters())
    assert n_on - n_off == 2 * 3 * 100  # γ and β of 100 units in 3 layers


def test_no_affine_run_logs_no_gamma_and_affine_run_logs_them():
    off = list(train(SHORT.replace(affine=False)))
    on = list(train(SHORT))
    assert all(s.affine is None for s in off)
    assert on[0].affine[0] == {"gamma_mean": 1.0, "gamma_std": 0.0, "beta_mean": 0.0, "beta_std": 0.0}
    assert on[-1].affine[0] != on[0].affine[0]  # γ, β trained
    row = run_log_to_rows(on)[-1]
    assert row["L1_gamma_mean"] == on[-1].affine[0]["gamma_mean"] and "L3_beta_std" in row
    assert off[-1].test_acc != on[-1].test_acc or off[-1].loss != on[-1].loss  # a different net


def test_weight_decay_shrinks_the_weights_before_bn(monkeypatch):
    """With BN after every layer the loss ignores the weights' scale, so plain SGD cannot shrink
    them (w ⊥ ∇w) while weight decay multiplies them by (1 − ηλ) each step: after 120 steps at
    ηλ = 0.5 · 0.01 the first layer's ‖w‖ is below the plain run's by about that factor."""
    from normviz.training import loop
    from normviz.training.models import build_model

    built = []
    monkeypatch.setattr(loop, "build_model", lambda cfg: built.append(build_model(cfg)) or built[-1])
    plain = SHORT.replace(norm="batch")
    list(train(plain))
    list(train(plain.replace(weight_decay=0.01)))
    w0 = float(build_model(plain)[0][0].weight.detach().norm())
    w_plain, w_decay = (float(m[0][0].weight.detach().norm()) for m in built)
    assert w_plain >= w0 * (1 - 1e-4)  # plain SGD: ‖w‖ does not shrink
    shrink = (1 - 0.5 * 0.01) ** 120  # ≈ 0.548 from the decay alone
    assert w_decay < w_plain * (shrink + 0.1)
    assert w_decay > w0 * shrink * 0.9  # and not much more than the decay explains
    with pytest.raises(ValueError, match="weight_decay must be ≥ 0"):
        TrainConfig(weight_decay=-0.1)
    with pytest.raises(ValueError, match="affine must be True or False"):
        TrainConfig(affine="no")


def test_pytorch_snippet_without_affine_builds_a_norm_without_gamma_beta(capsys):
    cfg = TrainConfig(norm="batch", steps=3, batch_size=16, affine=False, weight_decay=1e-3)
    code = pytorch_snippet(cfg)
    assert "affine=False" in code and "weight_decay=0.001" in code
    scope = {"__name__": "snippet"}
    exec(code, scope)
    assert "test accuracy" in capsys.readouterr().out
    norms = [b[1] for b in list(scope["model"])[:-1]]
    assert norms and all(getattr(n, "weight", None) is None for n in norms)
