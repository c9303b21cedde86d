"""The image lab's claims, asserted as numbers over every bundled sample at the page's size."""
from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from normviz.images import features, lab as L, load as images
from normviz.norms import normalize

NAMES = list(images.samples())


@pytest.fixture(scope="module")
def batch():
    return L.build_batch([], NAMES)  # the six samples at SIDE×SIDE, as on the page


def test_batch_rule(batch):
    assert batch.x.shape == (6, 3, L.SIDE, L.SIDE) and batch.x.dtype == np.float64
    assert batch.x.min() >= 0 and batch.x.max() <= 1
    assert batch.names == tuple(NAMES) and batch.n_user == 0
    user = L.build_batch([("thin.png", np.full((1, 900, 3), 0.5, np.float32))], NAMES[:2])
    assert user.N == 3 and user.n_user == 1 and user.names[0] == "thin.png"
    with pytest.raises(ValueError, match="Unknown sample"):
        L.build_batch([], ["nope"])
    with pytest.raises(ValueError, match="batch is empty"):
        L.build_batch([], [])


def test_reference_stats_are_the_samples_statistics(batch):
    r = L.reference_stats()
    n = 6 * L.SIDE * L.SIDE
    np.testing.assert_allclose(r.mean, batch.x.mean(axis=(0, 2, 3)), atol=1e-12)
    np.testing.assert_allclose(r.var, batch.x.var(axis=(0, 2, 3)) * n / (n - 1), atol=1e-12)
    assert L.reference_stats(space="feature").mean.shape == (27,)


# ------------------------------------------------------------- global a·x + b

@pytest.mark.parametrize("a", [0.25, 0.5, 2.0, 4.0])
@pytest.mark.parametrize("b", [0.0, -0.3, 0.5])
def test_eps_identity_for_global_change(batch, a, b):
    """IN, LN and GN of a·x + b equal the original's with ε/a², to 1e-6 (unclipped)."""
    for n in range(batch.N):
        for key, groups in [("instance", 3), ("layer", 3), ("group", 1), ("group", 3)]:
            r = L.eps_identity_residual(batch.x[n], a, b, key, groups=groups)
            assert r < 1e-6, (NAMES[n], key, groups, r)
        pred = L.instance_eps_prediction(batch.x[n], L.Change(a, b))
        assert pred.residual < 1e-6
        # what is left of IN's change is exactly what ε predicts
        assert abs(pred.observed - pred.predicted) < 1e-6


@pytest.mark.parametrize("a", [0.5, 2.0])
def test_bn_eval_changes_with_contrast(batch, a):
    for n in range(batch.N):
        res = L.erase_curves(batch.x, n, L.Change(a, 0.0), keys=("batch_eval", "instance"),
                             strengths=(0.0, 1.0))
        assert res.at_setting["batch_eval"] >= 0.3, (NAMES[n], res.at_setting)
        assert res.change["batch_eval"][0] == 0.0  # strength 0 is the identity


def test_erase_curves_ordering(batch):
    """IN's change stays at ε size while BN (eval) and BN (train) move, on every sample."""
    for n in range(batch.N):
        res = L.erase_curves(batch.x, n, L.Change(2.0, 0.2), keys=("batch", "batch_eval", "instance", "rms"))
        assert res.at_setting["instance"] < 1e-2
        assert res.at_setting["batch_eval"] > 10 * res.at_setting["instance"]
        assert res.at_setting["rms"] > 0.01  # +b is not erased by RMSNorm
        assert res.clip_deviation == 0.0
        assert np.all(np.diff(res.change["batch_eval"]) >= -1e-12)  # grows with strength


def test_clip_toggle_reports_its_deviation(batch):
    res = L.erase_curves(batch.x, 0, L.Change(3.0, 0.2, clip=True), keys=("instance",))
    unclipped = 3.0 * batch.x[0] + 0.2
    assert res.clip_deviation == pytest.approx(float((unclipped - np.clip(unclipped, 0, 1)).max()))
    assert res.clip_deviation > 0.5
    # clipping breaks the identity: IN now changes by far more than ε predicts
    pred = L.instance_eps_prediction(batch.x[0], L.Change(3.0, 0.2, clip=True))
    assert pred.residual > 0.1


# ------------------------------------------------------------- per-channel gains

GAINS = (1.5, 1.0, 0.6)


def test_gains_instance_identity_per_channel_and_layer_changes(batch):
    for n in range(batch.N):
        pred = L.instance_eps_prediction(batch.x[n], L.Change(gains=GAINS))
        assert pred.residual < 1e-6, NAMES[n]
        res = L.erase_curves(batch.x, n, L.Change(gains=GAINS), keys=("layer", "instance"),
                             strengths=(0.0, 1.0))
        assert res.at_setting["layer"] >= 0.1, (NAMES[n], res.at_setting)


# ------------------------------------------------------------- batch coupling

def test_swapping_batch_mates(batch):
    for n in range(batch.N):
        others = [m for m in range(batch.N) if m != n]
        c = L.coupling(batch.x[n], batch.x[others[:2]], batch.x[others[2:]])
        assert c.diff["batch"] >= 0.1, (NAMES[n], c.diff)
        for k in ("instance", "layer", "group"):
            assert c.diff[k] <= 1e-12, (NAMES[n], k, c.diff[k])
        assert c.heatmap.shape == (L.SIDE, L.SIDE)
        assert c.heatmap.max() == pytest.approx(c.diff["batch"])


def test_coupling_needs_mates(batch):
    with pytest.raises(ValueError, match="at least one batch mate"):
        L.coupling(batch.x[0], batch.x[1:2], batch.x[:0])


# ------------------------------------------------------------- views, statistics, torch

@pytest.mark.parametrize("space,groups", [("pixel", 1), ("pixel", 3), ("feature", 1), ("feature", 3),
                                          ("feature", 9), ("feature", 27)])
def test_run_views_shapes(batch, space, groups):
    x = batch.x[:, :, :32, :32]  # small crop: shapes and identities only
    outs = L.run_views(x, space=space, groups=groups, rho=0.3)
    assert list(outs) == list(L.VIEWS)
    for o in outs.values():
        assert o.shape == x.shape and np.isfinite(o).all()
    same_as = {"pixel": {1: "layer", 3: "instance"}, "feature": {1: "layer", 27: "instance"}}[space]
    if groups in same_as:  # G = 1 is LN, G = C is IN
        np.testing.assert_allclose(outs["group"], outs[same_as[groups]], atol=1e-12)
    d = L.display_images(outs["instance"])
    assert d.dtype == np.uint8 and d.shape == (6, 32, 32, 3)


def test_feature_group_27_is_instance(batch):
    z = features.encode(batch.x[:2, :, :24, :24])
    np.testing.assert_allclose(normalize(z, "group", groups=27), normalize(z, "instance"), atol=1e-12)


def test_stats_rows_and_csv(batch):
    outs = L.run_views(batch.x, keys=("instance", "layer"))
    rows = L.stats_rows(batch.x, outs, batch.names)
    assert len(rows) == 3 * 6 * 3
    inst = [r for r in rows if r["stage"] == "InstanceNorm"]
    assert all(abs(r["mean"]) < 1e-9 for r in inst)
    assert all(r["std"] < 1.0 + 1e-9 for r in inst)
    parsed = list(csv.DictReader(io.StringIO(L.rows_to_csv(rows))))
    assert len(parsed) == len(rows) and float(parsed[5]["std"]) == rows[5]["std"]
    h = L.histograms({"x": outs["instance"][0]})
    assert h["x"].shape == (80,) and h["x"].sum() == pytest.approx(1.0)


def test_torch_agrees(batch):
    diffs = L.torch_differences(batch.x[:, :, :32, :32], groups=3)
    assert set(diffs) == set(L.VIEWS)
    assert max(diffs.values()) < 1e-10, diffs


# ------------------------------------------------------------- style

@pytest.mark.parametrize("c", range(6))
def test_adain_transfer_alpha_zero_and_one(batch, c):
    s = (c + 1) % 6
    r0 = L.adain_transfer(batch.x[c], batch.x[s], 0.0)
    assert np.abs(r0.image - batch.x[c]).max() < 1e-6
    r1 = L.adain_transfer(batch.x[c], batch.x[s], 1.0, eps=0.0)
    live = r1.content_stats[1] > 1e-9
    np.testing.assert_allclose(r1.output_stats[0], r1.target_stats[0], atol=1e-6)
    np.testing.assert_allclose(r1.output_stats[1][live], r1.target_stats[1][live], atol=1e-6)


def test_erasure_over_pairs_agrees_with_style_distances_and_its_sentence(batch):
    pairs = L.instance_norm_erasure(batch.x, batch.names)
    assert len(pairs) == len(NAMES) * (len(NAMES) - 1) // 2
    i, j = NAMES.index("flower"), NAMES.index("flower_low_contrast")
    rows = {r["stage"]: r["gram distance"] for r in L.style_distances(batch.x, i, j)}
    mine = next(p for p in pairs if p["pair"] == "flower – flower_low_contrast")
    assert mine["raw"] == pytest.approx(rows["raw features"], rel=1e-9)
    assert mine["after_in"] == pytest.approx(rows["after InstanceNorm"], rel=1e-9)
    text = L.erasure_sentence(pairs)
    n_closer = sum(p["closer"] for p in pairs)
    assert f"brings {n_closer} closer" in text
    assert (f"moves {len(pairs) - n_closer} apart" in text) == (n_closer < len(pairs))
    # Twice the same image is at distance 0 both ways: not "closer".
    same = L.instance_norm_erasure(batch.x[[i, i]], ["a", "b"])
    assert same[0]["raw"] == 0 and same[0]["after_in"] == 0 and not same[0]["closer"]
    with pytest.raises(ValueError, match="one name per image"):
        L.instance_norm_erasure(batch.x, ["a"])


def test_style_erasure_by_gram_distance(batch):
    """Same content, different contrast (flower vs its low-contrast copy): IN brings the
    feature Gram matrices together, BN (train, over the batch) does not."""
    i, j = NAMES.index("flower"), NAMES.index("flower_low_contrast")
    rows = {r["stage"]: r["gram distance"] for r in L.style_distances(batch.x, i, j)}
    raw, inst = rows["raw features"], rows["after InstanceNorm"]
    bn = rows["after BatchNorm (train, whole batch)"]
    assert inst < 0.5 * raw, rows
    assert bn > 3 * inst, rows
