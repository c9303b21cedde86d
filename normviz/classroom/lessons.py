"""Three ready 45-minute lessons, each a sequence of locked links into the app's pages with the
question to ask before each and what students should see. Every number in "see" is computed here
from the library or the shipped data (the tests recompute them)."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import numpy as np

from normviz.classroom.exercises import by_id, locked_link, output_change, race_result, shipped
from normviz.norms import count_sets, display_name, pooling_weights

CUBE_SHAPE = (2, 6, 4, 4)  # the cube page's default N, C, H, W (G = 2)
PAGE_FILES = {"cube": "cube.py", "image_lab": "image_lab.py", "training": "training_lab.py",
              "experiments": "experiments.py", "exercises": "exercises.py"}


@dataclass(frozen=True)
class Step:
    page: str        # url_path of the page (a key of PAGE_FILES)
    query: dict      # its query parameters, lock included
    minutes: int
    ask: str         # the question to ask before opening the link
    see: str         # what students should see

    @property
    def link(self) -> str:
        return f"/{self.page}?{urlencode(self.query, safe=',')}"


@dataclass(frozen=True)
class Lesson:
    key: str
    title: str
    goal: str
    steps: tuple[Step, ...]

    @property
    def minutes(self) -> int:
        return sum(s.minutes for s in self.steps)


def _exercise(ex_id: str, minutes: int, ask: str) -> Step:
    ex = by_id(ex_id)
    query = dict(p.split("=", 1) for p in locked_link(ex_id).split("?", 1)[1].split("&"))
    shown = (display_name(ex.answer) if ex.kind == "race" and ex.answer != "seeds disagree" else ex.answer) \
        if isinstance(ex.answer, str) else f"{len(ex.answer)} cells" if ex.kind == "set" else \
        " or ".join(display_name(k) for k in sorted(ex.answer))
    return Step("exercises", query, minutes, ask, f"The page scores the answer at once; the right answer is: {shown}.")


def set_sentence(norm: str, shape=CUBE_SHAPE, groups: int = 2) -> str:
    """'BatchNorm computes 6 means, each over 32 values.' for the cube's default tensor."""
    k = count_sets(shape, norm, groups=groups)
    size = int(np.count_nonzero(pooling_weights(shape, norm, (0, 0, 0, 0), groups=groups)))
    return f"{display_name(norm)} computes {k} means on the {'×'.join(map(str, shape))} tensor, each over {size} values."


def _cube(norm: str, minutes: int, ask: str, **extra) -> Step:
    return Step("cube", {"norm": norm, **extra, "lock": "norm"}, minutes, ask, set_sentence(norm, groups=extra.get("G", 2)))


def race_sentence(key: str = "bn_figure1") -> str:
    per_seed = race_result(key)
    parts = []
    for seed, r in per_seed.items():
        steps = ", ".join(f"{'no norm' if k == 'none' else display_name(k)} after {v} steps" for k, v in r["steps"].items())
        parts.append(f"seed {seed}: {steps}")
    winners = {r["winner"] for r in per_seed.values()}
    agree = "every shipped seed agrees" if len(winners) == 1 else "the shipped seeds disagree"
    target = next(iter(per_seed.values()))["target"]
    return f"Reaching {target:.0%} test accuracy: " + "; ".join(parts) + f" ({agree})."


def claim_sentence(key: str) -> str:
    """The experiment's own generated claim on every shipped seed, saying whether the seeds agree."""
    runs = shipped(key)["runs"]
    holds = {r["claim"]["holds"] for r in runs.values()}
    verdict = ("the claim holds on every shipped seed" if holds == {True} else
               "the claim does not reproduce on any shipped seed" if holds == {False} else "the seeds disagree")
    seed, first = next(iter(runs.items()))
    return f"Seed {seed}: {first['claim']['sentence']} Over {len(runs)} seeds, {verdict}."


EDIT_WORDS = {"contrast": "contrast ×2", "brightness": "brightness +0.3", "cast": "a colour cast", "mate": "a swapped batch mate"}


def change_sentence(edit: str, norms=("instance", "layer", "batch")) -> str:
    parts = [f"{display_name(n)} {'changes' if output_change(n, edit) > 1e-2 else 'stays'} "
             f"(max |Δy| {output_change(n, edit):.2g})" for n in norms]
    return f"In the exercises' batch of 4 images, {EDIT_WORDS[edit]} on image 0 — its output: " + ", ".join(parts) + "."


def lessons() -> tuple[Lesson, ...]:
    return (
        Lesson("pool", "What does a norm pool over?",
               "Students can point at the set of values behind one μ for BN, LN, IN and GN, and count the sets.", (
                   _cube("batch", 8, "Before you look: which values does BatchNorm average to get the μ of one cell?"),
                   _cube("layer", 6, "LayerNorm: does it look across the batch? How many means will it compute?"),
                   _cube("instance", 6, "InstanceNorm: how many values go into one μ now?"),
                   _cube("group", 7, "GroupNorm with G = 2: where does it sit between LN and IN?", G=2),
                   _exercise("set-group", 6, "Click the cells yourself: which ones share μ with the marked cell?"),
                   _exercise("which-layer", 6, "Here is a highlighted set. Which norm is it? Is there only one?"),
                   _exercise("which-instance", 6, "And this set? Could two different norms give it?"),
               )),
        Lesson("batch", "Batch size and BatchNorm",
               "Students see that BN trains faster, that its output depends on the batch mates, and what eval changes.", (
                   _exercise("race-bn_figure1", 5, "Before the run: with or without BatchNorm, which reaches 90 % first?"),
                   Step("experiments", {"exp": "bn_figure1", "lock": "exp"}, 10,
                        "What happens to the inputs of the sigmoid during training, with and without BN?",
                        race_sentence("bn_figure1")),
                   _exercise("change-batch-mate", 6, "Swap one other image in the batch. Does image 0's BN output move?"),
                   _exercise("change-batch_eval-mate", 6, "Same swap, but BN in eval mode. And now?"),
                   Step("experiments", {"exp": "gn_figures", "lock": "exp"}, 10,
                        "When batches get small, which norm would you pick, and why?", claim_sentence("gn_figures")),
                   Step("training", {"preset": "bn_fig1", "lock": "preset"}, 8,
                        "Run it live: do your curves look like the shipped ones?", race_sentence("bn_figure1")),
               )),
        Lesson("style", "Style is statistics: IN and AdaIN",
               "Students see that IN removes per-channel contrast, brightness and colour casts, and AdaIN puts them back.", (
                   _exercise("change-instance-contrast", 5, "Double the contrast of one image. Does its IN output change?"),
                   _exercise("change-layer-cast", 5, "Add a colour cast. LayerNorm pools over the channels too: does it remove it?"),
                   Step("image_lab", {"view": "side", "lock": "view"}, 10,
                        "Which rows look the same after the edit, which do not?", change_sentence("contrast")),
                   Step("image_lab", {"view": "erase", "lock": "view"}, 8,
                        "What is left of an image after IN? What did it erase?", change_sentence("cast")),
                   Step("image_lab", {"view": "style", "lock": "view"}, 10,
                        "Give the content image another image's channel means and stds: what do you see?",
                        "AdaIN keeps the content's x̂ and takes the style image's μ and σ per channel."),
                   Step("experiments", {"exp": "batch_instance", "lock": "exp"}, 7,
                        "When is erasing contrast good, and when does it throw away the label?",
                        claim_sentence("batch_instance")),
               )),
    )
