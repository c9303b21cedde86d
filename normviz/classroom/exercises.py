"""Predict-then-reveal exercises, generated from the norm registry and the shipped data.

Four kinds, each exercise with a stable ``id``, a ``prompt``, the ``answer`` computed here by
the library, and ``check(response) -> Verdict``:

- ``set-<norm>``: click every cell that shares μ with the marked one. Answer: the support of
  ``pooling_weights(SHAPE, norm, MARKED)`` (the marked cell itself may be clicked or not).
- ``change-<norm>-<edit>``: will image 0's output change under an edit of the input (contrast
  ×2, brightness +0.3, a colour cast, a batch mate swapped) for IN, LN, GN, BN train and BN eval?
  Answer: both batches are normalized and compared; "changes" means max |Δy| > ``CHANGE_TOL``.
- ``race-<experiment>``: which run reaches the target accuracy first? Answer from the shipped
  results in data/experiments (every seed; where seeds disagree the answer says so).
- ``which-<norm>``: which norm pools this highlighted set? Every norm whose pooling weights at
  the marked cell equal the highlighted ones is accepted.

A student's answers become a short result code (:func:`encode_result`): base32 of (exercise
number, correct) pairs with a CRC-16 so a typo is detected; :func:`decode_result` reads it back.
Nothing is stored on a server.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from normviz.norms import NORMS, display_name, normalize, pooling_weights

SHAPE = (2, 4, 2, 2)  # N, C, H, W of the clicking exercises: 32 cells, G = 2 gives 2 channels a group
MARKED = (1, 1, 0, 1)
GROUPS = 2
AXIS_LETTERS = {"activation": "nchw", "weight": "oikl"}  # weight norms: (out, in, kh, kw)
CHANGE_TOL = 1e-2  # max |Δy| above this counts as "changes"; ε = 1e-5 alone moves IN under contrast ×2 by ~6e-4
IMAGE_SHAPE = (4, 3, 8, 8)
EDITS = {"contrast": "contrast ×2 (x → 2x)", "brightness": "brightness +0.3 (x → x + 0.3)",
         "cast": "a colour cast (R ×1.3, G ×1.0, B ×0.7)", "mate": "batch mate 2 swapped for another image"}
EDITS_DONE = {"contrast": "image 0's contrast is doubled (x → 2x)", "brightness": "0.3 is added to image 0 (x → x + 0.3)",
              "cast": "image 0 gets a colour cast (R ×1.3, G ×1.0, B ×0.7)",
              "mate": "batch mate 2 is swapped for another image"}
CHANGE_NORMS = {"instance": "InstanceNorm", "layer": "LayerNorm", "group": "GroupNorm (G = 3)",
                "batch": "BatchNorm (train)", "batch_eval": "BatchNorm (eval, running statistics)"}
DATA = Path(__file__).resolve().parents[2] / "data" / "experiments"


@dataclass(frozen=True)
class Verdict:
    correct: bool
    message: str
    wrong: tuple = ()    # cells clicked that are not in the set
    missing: tuple = ()  # cells of the set not clicked


@dataclass(frozen=True)
class Exercise:
    id: str
    kind: str                 # "set", "change", "race", "which"
    title: str
    prompt: str
    options: tuple            # what the student may answer (cells, yes/no, run names, norm keys)
    answer: object            # the library's answer
    explanation: str
    check: Callable = field(repr=False, compare=False)
    norm: str = ""
    highlight: tuple = ()     # cells highlighted for "which" (and the marked cell for "set")
    link: str = ""            # the page that reveals it, as a URL path with query


def cell_label(cell, kind: str = "activation") -> str:
    """(1, 0, 1, 0) -> 'n1 c0 h1 w0' (weight tensors: 'o1 i0 k1 l0')."""
    letters = AXIS_LETTERS["weight" if kind == "weight" else "activation"]
    return " ".join(f"{a}{i}" for a, i in zip(letters, cell))


def all_cells(shape=SHAPE) -> tuple:
    return tuple(tuple(int(i) for i in ix) for ix in np.ndindex(*shape))


def _kind(norm: str) -> str:
    return "weight" if NORMS[norm].is_weight else "activation"


def _kwargs(norm: str) -> dict:
    """The registry's default parameters (ρ, the switch weights, ghost size 1), with G = 2."""
    kw = {k: v for k, v in NORMS[norm].defaults().items() if k in ("rho", "mean_weights", "ghost_size")}
    kw["groups"] = GROUPS
    return kw


def shared_set(norm: str, index=MARKED, shape=SHAPE) -> frozenset:
    """Cells whose value enters the μ used at ``index`` (support of ``pooling_weights``)."""
    w = pooling_weights(shape, norm, index, **_kwargs(norm))
    return frozenset(tuple(int(i) for i in ix) for ix in zip(*np.nonzero(w > 0)))


# -- (a) click the set ------------------------------------------------------------------------
def _set_exercise(norm: str) -> Exercise:
    spec = NORMS[norm]
    kind = _kind(norm)
    answer = shared_set(norm)
    what = "a weight" if kind == "weight" else "an activation"
    extra = " (G = 2)" if "groups" in spec.param_names else " (ghost batch of 1)" if "ghost_size" in spec.param_names else ""

    def check(clicked) -> Verdict:
        clicked = frozenset(tuple(int(i) for i in c) for c in clicked) | {MARKED}
        wrong = tuple(sorted(clicked - answer))
        missing = tuple(sorted(answer - clicked))
        ok = not wrong and not missing
        msg = (f"Right: {len(answer)} cells share μ with the marked one." if ok else
               f"Not quite: {len(wrong)} cell(s) do not share μ, {len(missing)} cell(s) of the set were missed.")
        return Verdict(ok, msg, wrong, missing)

    axes = "·".join(spec.axes) or "nothing"
    return Exercise(
        id=f"set-{norm}", kind="set", title=f"{spec.name}: which cells share μ?",
        prompt=(f"Take {what} tensor of shape {SHAPE}{extra}. Under **{spec.name}**, click every cell whose value "
                f"enters the mean μ used for the marked cell {cell_label(MARKED, kind)}."),
        options=all_cells(), answer=answer, check=check, norm=norm, highlight=(MARKED,),
        explanation=f"{spec.name} pools over {axes}: {spec.pools}. The set has {len(answer)} of {len(all_cells())} cells.",
        link=f"/cube?norm={norm}&N={SHAPE[0]}&C={SHAPE[1]}&H={SHAPE[2]}&W={SHAPE[3]}&G={GROUPS}&lock=norm")


# -- (b) will the output change? --------------------------------------------------------------
def image_batch(seed: int = 0) -> np.ndarray:
    """A fixed batch of 4 RGB 8×8 images in [0, 1] (smooth blobs plus noise, one tint each)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.2, 0.8, size=IMAGE_SHAPE)
    return x * rng.uniform(0.6, 1.0, size=(IMAGE_SHAPE[0], 3, 1, 1))


def edited(x: np.ndarray, edit: str) -> np.ndarray:
    """The batch with image 0 edited ("mate": image 2 replaced by a new image instead)."""
    y = x.copy()
    if edit == "contrast":
        y[0] = 2.0 * x[0]
    elif edit == "brightness":
        y[0] = x[0] + 0.3
    elif edit == "cast":
        y[0] = x[0] * np.array([1.3, 1.0, 0.7]).reshape(3, 1, 1)
    elif edit == "mate":
        y[2] = np.random.default_rng(99).uniform(0.0, 1.0, size=x.shape[1:])
    else:
        raise ValueError(f"unknown edit {edit!r}; choose one of {', '.join(EDITS)}.")
    return y


def apply_norm(x: np.ndarray, norm: str, running=None) -> np.ndarray:
    """IN, LN, GN (G = 3), BN train, or BN eval with ``running`` = (mean, var) per channel."""
    if norm == "batch_eval":
        mean, var = running
        return (x - mean.reshape(1, -1, 1, 1)) / np.sqrt(var.reshape(1, -1, 1, 1) + 1e-5)
    return normalize(x, norm, groups=3)


def output_change(norm: str, edit: str, seed: int = 0) -> float:
    """max |Δy| over image 0's output when the batch is edited (running stats from the original batch)."""
    x = image_batch(seed)
    running = (x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3)))
    return float(np.abs(apply_norm(x, norm, running)[0] - apply_norm(edited(x, edit), norm, running)[0]).max())


def _change_exercise(norm: str, edit: str) -> Exercise:
    delta = output_change(norm, edit)
    answer = "changes" if delta > CHANGE_TOL else "stays"

    def check(choice) -> Verdict:
        ok = choice == answer
        return Verdict(ok, f"{'Right' if ok else 'Not quite'}: image 0's output {answer} "
                           f"(max |Δy| = {delta:.2g}; the tolerance is {CHANGE_TOL:g}).")

    base = "batch" if norm == "batch_eval" else norm
    return Exercise(
        id=f"change-{norm}-{edit}", kind="change", title=f"{CHANGE_NORMS[norm]}: {EDITS[edit]}",
        prompt=(f"A batch of 4 images goes through **{CHANGE_NORMS[norm]}**. Now {EDITS_DONE[edit]}. "
                "Will image 0's normalized output change?"),
        options=("changes", "stays"), answer=answer, check=check, norm=base,
        explanation=f"Normalizing both batches: max |Δy| on image 0 = {delta:.2g} ({answer}).",
        link="/image_lab?view=side&lock=view")


# -- (c) which run reaches the target first? --------------------------------------------------
@lru_cache(maxsize=None)
def shipped(key: str) -> dict:
    return json.loads((DATA / f"{key}.json").read_text())


def race_result(key: str = "bn_figure1") -> dict:
    """Per seed: steps each run needed to reach the target, and the winner (None on a tie)."""
    doc = shipped(key)
    out = {}
    for seed, run in doc["runs"].items():
        steps = run["results"]["steps_to_target"]
        reached = {k: v for k, v in steps.items() if v is not None}
        best = min(reached.values()) if reached else None
        winners = [k for k, v in reached.items() if v == best]
        out[seed] = {"steps": steps, "winner": winners[0] if len(winners) == 1 else None,
                     "target": run["results"]["target"]}
    return out


def _race_exercise(key: str = "bn_figure1") -> Exercise:
    per_seed = race_result(key)
    runs = tuple(next(iter(per_seed.values()))["steps"])
    winners = {r["winner"] for r in per_seed.values()}
    target = next(iter(per_seed.values()))["target"]
    answer = winners.pop() if len(winners) == 1 else "seeds disagree"
    names = {k: ("no norm" if k == "none" else display_name(k)) for k in runs}
    detail = "; ".join(f"seed {s}: " + ", ".join(f"{names[k]} {v if v is not None else 'never'}"
                                                  for k, v in r["steps"].items()) for s, r in per_seed.items())

    def check(choice) -> Verdict:
        ok = choice == answer
        said = names.get(answer, answer)
        return Verdict(ok, f"{'Right' if ok else 'Not quite'}: {said} first on "
                           f"{'every' if answer != 'seeds disagree' else 'not every'} shipped seed (steps to "
                           f"{target:.0%}: {detail}).")

    doc = shipped(key)
    return Exercise(
        id=f"race-{key}", kind="race", title=f"Race to {target:.0%}: {doc['title'].split(':')[0]}",
        prompt=f"{doc['how']} Which run reaches {target:.0%} test accuracy first?",
        options=runs + (("seeds disagree",) if answer == "seeds disagree" else ()), answer=answer, check=check,
        explanation=f"Steps to {target:.0%} in the shipped results: {detail}.",
        link="/training?preset=bn_fig1&lock=preset")


# -- (d) which norm is this? ------------------------------------------------------------------
def _weights(norm: str) -> np.ndarray:
    return pooling_weights(SHAPE, norm, MARKED, **_kwargs(norm))


def same_set_norms(norm: str) -> frozenset:
    """Norms of the same kind whose pooling weights at the marked cell equal ``norm``'s."""
    w = _weights(norm)
    return frozenset(k for k in NORMS if _kind(k) == _kind(norm) and np.allclose(_weights(k), w))


def _which_exercise(norm: str) -> Exercise:
    kind = _kind(norm)
    answer = same_set_norms(norm)
    options = tuple(k for k in NORMS if _kind(k) == kind)
    cells = tuple(sorted(shared_set(norm)))
    names = ", ".join(display_name(k) for k in sorted(answer))

    def check(choice) -> Verdict:
        ok = choice in answer
        return Verdict(ok, f"{'Right' if ok else 'Not quite'}: the highlighted weights are those of {names}"
                           f"{' (any of them counts)' if len(answer) > 1 else ''}.")

    return Exercise(
        id=f"which-{norm}", kind="which", title=f"Which norm is this? ({len(cells)} cells)",
        prompt=(f"In a tensor of shape {SHAPE} (G = 2), the highlighted cells are the ones whose values enter μ "
                f"for the marked cell {cell_label(MARKED, kind)}, shaded by their weight. Which norm is it?"),
        options=options, answer=answer, check=check, norm=norm, highlight=cells,
        explanation=f"Norms with exactly these weights: {names}.", link=f"/cube?norm={norm}")


@lru_cache(maxsize=1)
def catalogue() -> tuple[Exercise, ...]:
    """Every exercise, in a fixed order (the result code numbers them by position)."""
    out = [_set_exercise(k) for k in NORMS]
    out += [_change_exercise(n, e) for n in CHANGE_NORMS for e in EDITS]
    out.append(_race_exercise("bn_figure1"))
    out += [_which_exercise(k) for k in NORMS]
    return tuple(out)


def by_id(ex_id: str) -> Exercise:
    for ex in catalogue():
        if ex.id == ex_id:
            return ex
    raise KeyError(f"No exercise is called {ex_id!r}.")


# -- result code ------------------------------------------------------------------------------
def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: detects every burst of ≤ 16 flipped bits, so every one-character typo."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def encode_result(answers: dict[str, bool]) -> str:
    """{exercise id: correct} -> e.g. 'AAAQ-CAYD-...': base32 of 2 bytes per answer
    (position·2 + correct) and a 2-byte CRC-16, grouped by 4 characters."""
    ids = [ex.id for ex in catalogue()]
    payload = b"".join((ids.index(i) * 2 + bool(ok)).to_bytes(2, "big") for i, ok in sorted(answers.items(),
                                                                                              key=lambda t: ids.index(t[0])))
    raw = payload + crc16(payload).to_bytes(2, "big")
    text = base64.b32encode(raw).decode().rstrip("=")
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def decode_result(code: str) -> dict[str, bool]:
    """The inverse of :func:`encode_result`; ValueError with a clear message on a typo."""
    text = "".join(code.split()).replace("-", "").upper()
    if not text:
        raise ValueError("The result code is empty.")
    bad = sorted(set(text) - set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"))
    if bad:
        raise ValueError(f"A result code uses only A–Z and 2–7; found {''.join(bad)!r}.")
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except Exception:
        raise ValueError("This result code has the wrong length: check for a missing or extra character.") from None
    if len(raw) < 2 or len(raw) % 2:
        raise ValueError("This result code has the wrong length: check for a missing or extra character.")
    payload, check = raw[:-2], int.from_bytes(raw[-2:], "big")
    if crc16(payload) != check:
        raise ValueError("This result code does not check out: a character is mistyped.")
    ids = [ex.id for ex in catalogue()]
    out = {}
    for i in range(0, len(payload), 2):
        value = int.from_bytes(payload[i:i + 2], "big")
        if value // 2 >= len(ids):
            raise ValueError("This result code names an exercise this version does not have.")
        out[ids[value // 2]] = bool(value % 2)
    return out


# -- URL state of the exercises page ----------------------------------------------------------
from dataclasses import dataclass as _dataclass  # noqa: E402

from normviz.state import PageState, param  # noqa: E402


def _exercise_ids() -> list[str]:
    return [""] + [ex.id for ex in catalogue()]


@_dataclass(frozen=True)
class ExercisesState(PageState):
    """``?ex=<id>&lock=ex``: the exercise a teacher hands out, with the chooser hidden."""

    ex: str = param("", choices=_exercise_ids, doc="the exercise shown ('' = the first)")


def locked_link(ex_id: str) -> str:
    """The link a teacher hands out: this exercise only, the chooser hidden."""
    by_id(ex_id)
    return f"/exercises?ex={ex_id}&lock=ex"
