"""Lessons: every link opens its page without an error or a URL notice (AppTest with the link's
query parameters), the lessons last 45 minutes, and every sentence of what students will see is
recomputed here from the library, torch or the shipped data."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from normviz.classroom import exercises as E
from normviz.classroom import lessons as L

STEPS = [(lesson.key, i, step) for lesson in L.lessons() for i, step in enumerate(lesson.steps)]
DATA = Path(__file__).resolve().parents[1] / "data" / "experiments"


def test_three_lessons_of_45_minutes():
    assert [lesson.minutes for lesson in L.lessons()] == [45, 45, 45]
    pages = {s.page for _, _, s in STEPS}
    assert pages == set(L.PAGE_FILES)  # cube, image lab, training lab, experiments, exercises


@pytest.mark.parametrize("link", sorted({s.link for _, _, s in STEPS}))
def test_every_link_opens_its_page(link):
    path, query = link.lstrip("/").split("?", 1)
    at = AppTest.from_file(f"../app_pages/{L.PAGE_FILES[path]}", default_timeout=120)
    for part in query.split("&"):
        k, v = part.split("=", 1)
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    assert not [w.value for w in at.warning if "URL parameter" in w.value]  # every value was accepted
    assert any(":material/lock:" in c.value for c in at.caption)  # the lock shows


def test_cube_sentences_match_torch():
    x = torch.zeros(L.CUBE_SHAPE)
    counts = {"batch": (x.shape[1], x[:, 0].numel()), "layer": (x.shape[0], x[0].numel()),
              "instance": (x.shape[0] * x.shape[1], x[0, 0].numel()),
              "group": (x.shape[0] * 2, x[0, :3].numel())}
    for _, _, step in STEPS:
        if step.page == "cube":
            k, size = counts[step.query["norm"]]
            assert f"computes {k} means" in step.see and f"each over {size} values" in step.see


def test_race_and_claim_sentences_quote_every_seed():
    doc = json.loads((DATA / "bn_figure1.json").read_text())
    s = L.race_sentence("bn_figure1")
    for seed, run in doc["runs"].items():
        for v in run["results"]["steps_to_target"].values():
            assert f"after {v} steps" in s
        assert f"seed {seed}:" in s
    for key in ("gn_figures", "batch_instance"):
        doc = json.loads((DATA / f"{key}.json").read_text())
        holds = {r["claim"]["holds"] for r in doc["runs"].values()}
        text = L.claim_sentence(key)
        assert ("holds on every shipped seed" in text) == (holds == {True})
        assert ("does not reproduce" in text) == (holds == {False})
        assert next(iter(doc["runs"].values()))["claim"]["sentence"] in text


@pytest.mark.parametrize("edit", ["contrast", "cast"])
def test_image_sentences_match_torch(edit):
    text = L.change_sentence(edit)
    x = torch.from_numpy(E.image_batch())
    y = torch.from_numpy(E.edited(E.image_batch(), edit))
    ops = {"InstanceNorm": lambda t: torch.nn.functional.instance_norm(t),
           "LayerNorm": lambda t: torch.nn.functional.layer_norm(t, t.shape[1:]),
           "BatchNorm": lambda t: torch.nn.functional.batch_norm(t, None, None, training=True)}
    for name, op in ops.items():
        delta = float((op(x)[0] - op(y)[0]).abs().max())
        assert f"{name} {'changes' if delta > E.CHANGE_TOL else 'stays'} (max |Δy| {delta:.2g})" in text


def test_exercise_steps_state_the_library_answer():
    for _, _, step in STEPS:
        if step.page == "exercises":
            ex = E.by_id(step.query["ex"])
            if ex.kind == "set":
                assert f"{len(ex.answer)} cells" in step.see
            elif ex.kind == "change":
                assert step.see.endswith(f"{ex.answer}.")


def test_lessons_page_renders_every_step():
    at = AppTest.from_file("../app_pages/lessons.py", default_timeout=60)
    at.run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    for _, _, step in STEPS:
        assert f"]({step.link})" in text and step.see in text
