"""Predict-then-reveal exercises, generated from the norm registry and checked by the library.

Four kinds, each with its answer computed, never typed:

* ``pool``  — *Mark every cell that shares μ with the marked one* (a small N×C×H×W tensor): the
  answer is the support of ``normviz.norms.pooling_weights`` for that norm and cell;
* ``which`` — *Which norm is this?* from a highlighted set: every norm whose set is the same
  is a right answer (LayerNorm and RMSNorm pool the same values);
* ``change`` — *Will this image's output change?* under a change of the input (contrast ×2,
  brightness +0.3, a colour cast, a batch mate swapped) for IN, LN, GN and BN in training and
  eval mode: answered by normalizing both batches (``normviz.norms.normalize``; eval mode with
  the statistics of the original batch as running statistics) and comparing the image's
  output (max |Δ| above ``CHANGE_TOL``);
* ``race``  — *Which run reaches 90 % test accuracy first?* before the BN Figure 1 preset:
  the answer comes from the shipped experiment (``bn_figure1``), seed 0.

A student's answers become a short **result code** (:func:`result_code`): the exercise ids'
catalogue positions and right/wrong bits, base32 with a checksum, so a teacher can read a
score without accounts and nothing is stored on the server (:func:`read_result_code`).

Shapes: pool/which exercises use tensors of shape ``POOL_SHAPE`` = (N, C, H, W) = (2, 4, 2, 2);
change exercises a batch of ``CHANGE_BATCH`` generated images (N, 3, 8, 8).
"""
from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

POOL_SHAPE = (2, 4, 2, 2)
POOL_GROUPS = 2
MARKED = ((0, 1, 0, 1), (1, 2, 1, 0))
CHANGE_BATCH = 4
CHANGE_TOL = 1e-3  # outputs are O(1) and a real change moves them by > 0.1; ε alone moves them < 4e-4
CODE_PREFIX = "NV"


@dataclass(frozen=True)
class Exercise:
    """One exercise: ``answer`` is the set of right options (one of them suffices for single choice)."""

    id: str
    kind: str  # pool | which | change | race
    prompt: str
    options: tuple[str, ...]
    answer: frozenset[str]
    explain: str
    multi: bool = False  # the student marks several options (pool); else one
    marked: tuple[int, ...] = ()  # pool/which: the marked cell
    highlighted: frozenset[str] = field(default=frozenset())  # which: the shown set

    def check(self, chosen) -> "Verdict":
        chosen = frozenset([chosen] if isinstance(chosen, str) else chosen or ())
        unknown = chosen - set(self.options)
        if unknown:
            raise ValueError(f"{sorted(unknown)} are not options of exercise {self.id}; choose from {self.options}.")
        if self.multi:
            return Verdict(chosen == self.answer, tuple(sorted(chosen - self.answer)),
                           tuple(sorted(self.answer - chosen)))
        right = len(chosen) == 1 and chosen <= self.answer
        return Verdict(right, tuple(sorted(chosen - self.answer)), () if right else tuple(sorted(self.answer)))


@dataclass(frozen=True)
class Verdict:
    correct: bool
    wrong: tuple[str, ...]  # chosen but not right
    missing: tuple[str, ...]  # right but not chosen (for single choice: the right answers)


def cell_label(idx) -> str:
    n, c, h, w = idx
    return f"n{n} c{c} h{h} w{w}"


def _cells() -> list[tuple[int, ...]]:
    return [tuple(int(v) for v in i) for i in np.ndindex(*POOL_SHAPE)]


def _pool_set(norm: str, idx) -> frozenset[str]:
    from normviz.norms import pooling_weights

    wts = pooling_weights(POOL_SHAPE, norm, idx, groups=POOL_GROUPS, ghost_size=1)
    return frozenset(cell_label(i) for i in _cells() if wts[i] > 0)


def _pool_norms() -> list[str]:
    """Norms whose μ is one set of activations (partitions of the activation tensor)."""
    from normviz.norms import NORMS

    return [k for k, s in NORMS.items() if s.is_partition and not s.is_weight]


def _pool_exercises() -> list[Exercise]:
    from normviz.norms import NORMS

    out = []
    labels = tuple(cell_label(i) for i in _cells())
    for key in _pool_norms():
        spec = NORMS[key]
        for j, idx in enumerate(MARKED):
            answer = _pool_set(key, idx)
            extra = f" (G = {POOL_GROUPS})" if "groups" in spec.param_names else ""
            extra += " (ghost batches of 1)" if "ghost_size" in spec.param_names else ""
            out.append(Exercise(
                id=f"pool-{key}-{j}", kind="pool", multi=True, options=labels, answer=answer, marked=idx,
                prompt=f"{spec.name}{extra} on a tensor of shape N×C×H×W = {'×'.join(map(str, POOL_SHAPE))}: mark "
                       f"every cell whose value enters the {spec.stat_names[0]} used for the cell "
                       f"{cell_label(idx)} (the marked cell included).",
                explain=f"{spec.name} pools {spec.pools}: {len(answer)} cells."))
    return out


def _which_exercises() -> list[Exercise]:
    from normviz.norms import NORMS

    keys = _pool_norms()
    names = tuple(NORMS[k].name for k in keys)
    out = []
    for key in keys:
        idx = MARKED[0]
        shown = _pool_set(key, idx)
        right = frozenset(NORMS[k].name for k in keys if _pool_set(k, idx) == shown)
        out.append(Exercise(
            id=f"which-{key}", kind="which", options=names, answer=right, marked=idx, highlighted=shown,
            prompt=f"These {len(shown)} cells share one {NORMS[key].stat_names[0]} with the cell {cell_label(idx)} "
                   f"(tensor {'×'.join(map(str, POOL_SHAPE))}, G = {POOL_GROUPS}). Which norm is this?",
            explain="Every norm that pools exactly this set is right: " + ", ".join(sorted(right)) + "."))
    return out


CHANGES = {
    "contrast": "its contrast doubles (x → m + 2(x − m), m its mean)",
    "brightness": "its brightness rises by 0.3 (x → x + 0.3)",
    "cast": "a colour cast (red ×1.3, blue ×0.7)",
    "mate": "a batch mate (another image of the batch) is swapped for a new image",
}
CHANGE_NORMS = (("instance", "train"), ("layer", "train"), ("group", "train"), ("batch", "train"), ("batch", "eval"))


@lru_cache(maxsize=1)
def change_batch() -> np.ndarray:
    """CHANGE_BATCH textured random colour images, shape (N, 3, 8, 8) (generated, seed 0)."""
    rng = np.random.default_rng(0)
    base = rng.random((CHANGE_BATCH, 3, 1, 1)) * 0.5 + 0.25
    yy, xx = np.mgrid[0:8, 0:8] / 7.0
    # Enough texture (σ ≈ 0.2–0.3 per map) that ε = 1e-5 matters little: an invariant output moves < 4e-4.
    texture = rng.normal(0, 0.15, (CHANGE_BATCH, 3, 8, 8)) + 0.25 * np.sin(3 * xx + 2 * yy)[None, None]
    return base + texture


def changed_batch(x: np.ndarray, change: str) -> np.ndarray:
    """``x`` with ``change`` applied to image 0 (or, for "mate", image 1 replaced)."""
    y = x.copy()
    if change == "contrast":
        m = y[0].mean()
        y[0] = m + 2 * (y[0] - m)
    elif change == "brightness":
        y[0] = y[0] + 0.3
    elif change == "cast":
        y[0] = y[0] * np.array([1.3, 1.0, 0.7])[:, None, None]
    elif change == "mate":
        y[1] = np.random.default_rng(1).random(y[1].shape)
    else:
        raise ValueError(f"unknown change {change!r}; choose one of {', '.join(CHANGES)}")
    return y


def output_change(norm: str, mode: str, change: str) -> float:
    """max |Δ| of image 0's output when the batch is changed by ``change``.

    Training mode: both batches normalized with their own statistics. Eval mode: both with fixed
    statistics — the original batch's, standing in for running statistics.
    """
    from normviz.norms import normalize

    x = change_batch()
    y = changed_batch(x, change)
    if mode == "train":
        a, b = normalize(x, norm, groups=3), normalize(y, norm, groups=3)
    else:
        mu, var = x.mean(axis=(0, 2, 3), keepdims=True), x.var(axis=(0, 2, 3), keepdims=True)
        a, b = (x - mu) / np.sqrt(var + 1e-5), (y - mu) / np.sqrt(var + 1e-5)
    return float(np.abs(a[0] - b[0]).max())


def _change_exercises() -> list[Exercise]:
    from normviz.norms import NORMS

    out = []
    for change, what in CHANGES.items():
        for norm, mode in CHANGE_NORMS:
            delta = output_change(norm, mode, change)
            changes = delta > CHANGE_TOL
            name = NORMS[norm].name + (f" ({mode} mode)" if NORMS[norm].running_stats else "")
            out.append(Exercise(
                id=f"change-{change}-{norm}-{mode}", kind="change", options=("changes", "stays the same"),
                answer=frozenset({"changes" if changes else "stays the same"}),
                prompt=f"A batch of {CHANGE_BATCH} images goes through {name} (G = 3 for GroupNorm). Image 0 "
                       f"is changed: {what}. Will image 0's normalized output change?",
                explain=f"Measured: max |Δ| of image 0's output = {delta:.2g} "
                        f"({'above' if changes else 'below'} {CHANGE_TOL:g})."
                        + (" On 3 colour channels G = 3 puts one channel in each group: GroupNorm acts as "
                           "InstanceNorm here." if norm == "group" else "")))
    return out


def _race_exercises() -> list[Exercise]:
    from normviz.experiments import EXPERIMENTS
    from normviz.norms import NORMS

    doc = EXPERIMENTS["bn_figure1"].precomputed()
    res = doc["runs"]["0"]["results"] if doc else None
    if not res:
        return []
    steps = res["steps_to_target"]
    label = {k: (NORMS[k].name if k in NORMS else "no norm") for k in steps}
    reached = {k: s for k, s in steps.items() if s is not None}
    first = min(reached.values()) if reached else None
    answer = frozenset(label[k] for k, s in reached.items() if s == first)
    return [Exercise(
        id="race-bn_fig1", kind="race", options=tuple(label[k] for k in steps), answer=answer,
        prompt=f"The BN Figure 1 preset trains the same sigmoid MLP on digits with and without BatchNorm "
               f"({res['config']['steps']} steps, lr {res['config']['lr']:g}). Which run reaches "
               f"{res['target']:.0%} test accuracy first?",
        explain="Shipped run, seed 0: " + "; ".join(
            f"{label[k]} at step {s}" if s is not None else f"{label[k]} never" for k, s in steps.items()) + ".")]


@lru_cache(maxsize=1)
def catalogue() -> tuple[Exercise, ...]:
    """Every exercise, in a fixed order (the result code refers to positions in it)."""
    return tuple(_pool_exercises() + _which_exercises() + _change_exercises() + _race_exercises())


KINDS = {"pool": "Mark the pooled set", "which": "Which norm is this?", "change": "Will the output change?",
         "race": "Which run reaches 90 % first?"}


def get(exercise_id: str) -> Exercise:
    for ex in catalogue():
        if ex.id == exercise_id:
            return ex
    raise ValueError(f"unknown exercise {exercise_id!r}; e.g. {', '.join(e.id for e in catalogue()[:3])}, ...")


def result_code(results: dict[str, bool]) -> str:
    """A short code for ``{exercise id: correct}``: base32 of (position, bit) pairs and a CRC-32 byte pair."""
    ids = [e.id for e in catalogue()]
    body = bytearray()
    for ex_id, ok in sorted(results.items(), key=lambda kv: ids.index(kv[0])):
        pos = ids.index(ex_id)
        body += (pos << 1 | bool(ok)).to_bytes(2, "big")
    crc = zlib.crc32(bytes(body)).to_bytes(4, "big")[:2]
    text = base64.b32encode(bytes(body) + crc).decode().rstrip("=")
    return f"{CODE_PREFIX}-" + "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def read_result_code(code: str) -> dict[str, bool]:
    """Inverse of :func:`result_code`; ValueError (saying so) if the code was mistyped."""
    text = code.strip().upper().replace(" ", "")
    if not text.startswith(CODE_PREFIX + "-"):
        raise ValueError(f"A result code starts with {CODE_PREFIX}-, e.g. NV-AAAQ-EAQ; got {code!r}.")
    text = text[len(CODE_PREFIX) + 1:].replace("-", "")
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except (ValueError, base64.binascii.Error):
        raise ValueError(f"{code!r} is not a result code (letters A–Z and digits 2–7 only).") from None
    body, crc = raw[:-2], raw[-2:]
    canonical = base64.b32encode(raw).decode().rstrip("=") == text  # a typo in the last letter's spare bits
    if not canonical or len(raw) < 2 or len(body) % 2 or zlib.crc32(body).to_bytes(4, "big")[:2] != crc:
        raise ValueError(f"{code!r} does not check out: a letter was mistyped. Ask the student to read it again.")
    ids = [e.id for e in catalogue()]
    out = {}
    for i in range(0, len(body), 2):
        v = int.from_bytes(body[i:i + 2], "big")
        if v >> 1 >= len(ids):
            raise ValueError(f"{code!r} refers to an exercise this version of normviz does not have.")
        out[ids[v >> 1]] = bool(v & 1)
    return out
