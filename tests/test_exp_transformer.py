"""The transformer experiments on their shipped runs (2 seeds each): each claim recomputed from the
numbers on both seeds and reported as it is (holding, mixed, or not reproducing), sentences built
from the data. (A live re-run of a shipped cell, through the page's portable worker:
tests/test_transformer_page.py.)"""
from __future__ import annotations

import pytest

from normviz.experiments import EXPERIMENTS, GUIDE
from normviz.experiments import transformer_depth as depth
from normviz.experiments import transformer_dyt as dyt
from normviz.experiments import transformer_placement as placement
from normviz.experiments import transformer_rms as rms
from normviz.experiments.seeds import claim_count, facts
from normviz.transformer.study import trained, trained_accuracy
from normviz.transformer.task import chance_accuracy
from tests.shipped import shipped_results

KEYS = ("transformer_placement", "transformer_rms", "transformer_dyt", "transformer_depth")


def _runs(key):
    doc = shipped_results(key)
    assert len(doc["runs"]) == 2
    return doc, [run["results"] for run in doc["runs"].values()]


@pytest.mark.parametrize("key", KEYS)
def test_claim_recomputed_on_both_seeds_matches_what_ships(key):
    doc, results = _runs(key)
    spec = EXPERIMENTS[key]
    for run, res in zip(doc["runs"].values(), results):
        holds, sentence = spec.claim(res)
        assert holds == run["claim"]["holds"] and sentence == run["claim"]["sentence"]
    assert doc["numerics"]["mode"] == spec.numerics
    for f in facts(spec, doc):  # every fact is worded the same on both seeds and counted over both
        assert f.seeds == tuple(doc["runs"]) and f.sentence().endswith(".")


def test_placement_pre_ln_trains_at_larger_rates_on_both_seeds():
    doc, results = _runs("transformer_placement")
    assert claim_count(doc) == (2, 2)
    for res in results:
        best = placement._largest(res)
        pre, post = best["pre"], best["post"]
        assert pre is not None and post is not None and pre > post
        # the sentence carries the numbers it was built from
        assert f"{pre:g} for pre-LN and {post:g} for post-LN" in placement.claim(res)[1]
        failed = placement.cell(res, "post", res["warmup_lr"])
        assert failed["diverged"] and failed["message"].startswith(("Diverged", "Stalled"))  # a sentence
        assert any(trained(w) for w in res["warmup"])
        # what 'trained' means: no divergence and accuracy halfway from chance to 1
        assert trained_accuracy() == pytest.approx((chance_accuracy(8, 10) + 1) / 2)
        assert all(trained(r) == (not r["diverged"] and r["test_acc"] >= trained_accuracy())
                   for p in placement.PLACES for r in res["sweep"][p])
        assert len(res["init_grad"]["pre"]) == res["config"]["depth"]


def test_rms_accuracy_and_timing_are_reported_with_their_noise():
    doc, results = _runs("transformer_rms")
    for res in results:
        r = res["runs"]
        assert abs(r["rms"]["test_acc"] - r["layer"]["test_acc"]) < 0.2  # both train; the claim says how close
        for key in ("layer_ratio", "step_ratio"):
            q = res[key]
            assert q["min"] <= q["median"] <= q["max"] and q["rounds"] == res["config"]["repeats"]
            assert f"{q['median']:.2f}×" in rms.claim(res)[1]
    assert "fused" in EXPERIMENTS["transformer_rms"].notes


def test_dyt_reports_alpha_and_scatter_and_says_when_it_does_not_match():
    doc, results = _runs("transformer_dyt")
    k, n = claim_count(doc)
    for res in results:
        al = dyt.alphas(res["runs"]["dyt"][0])
        assert len(al) == 2 * res["config"]["depth"] + 1 and all(a[0] == pytest.approx(0.5, abs=0.05) for a in al)
        fit = res["runs"]["layer"][0]["fit"]
        assert 0 <= fit["linear_r2"] <= 1 and fit["tanh_r2"] >= fit["linear_r2"] - 1e-9  # tanh(bx) ≈ bx for small b
    from app_pages.views.transformer.shipped import verdict

    text = verdict(EXPERIMENTS["transformer_dyt"], doc)
    assert text.startswith("**Reproduces" if k == n else "**Does not reproduce" if k == 0 else "**Mixed")


def test_no_norm_depth_sweep_on_both_seeds():
    doc, results = _runs("transformer_depth")
    for res in results:
        for n in depth.NORMS:
            assert [int(d) for d in res["runs"][n]] == res["config"]["depths"]
        holds, sentence = depth.claim(res)
        for d in res["config"]["depths"]:
            assert f"{d} blocks: largest lr that trained" in sentence


def test_guide_answers_the_transformer_question_from_these_experiments():
    entry = next(g for g in GUIDE if g.question == "transformer")
    assert set(entry.experiments) == set(KEYS)
    for paper in ("Xiong", "Zhang & Sennrich", "Zhu"):
        assert paper in entry.answer

