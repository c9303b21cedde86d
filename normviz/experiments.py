"""The experiment registry: named experiments that answer the questions people ask about norms.

``EXPERIMENTS`` maps a key to an :class:`Experiment` spec, the way ``NORMS`` maps a key to a
norm. The experiments page and the guide are built on it; the tests check every entry.

A spec holds text and data (title, the question it answers, the paper figure or table it
echoes with the paper's numbers as a :class:`PaperTable`, what to look for) and *dotted paths*
to three functions in an ``normviz.exp_*`` module, resolved with importlib on call, so
``import normviz.experiments`` imports neither torch nor sklearn:

- ``run(seed=0, quick=False, progress=None) -> dict``: plain JSON-serialisable results
  (numbers, lists, strings; use :func:`jsonable` on numpy output). ``quick=True`` finishes in
  under ~10 s (fewer steps; the claim need not hold then). ``progress``, if the function takes
  it, is called as ``progress(fraction, text)``.
- ``claim(results) -> (holds, sentence)``: whether the claim holds, and a sentence with the
  measured numbers.
- ``figure(results) -> list[plotly Figure]`` (optional).

Results that take minutes ship precomputed in ``data/experiments/KEY.json`` (config, seeds,
date, seconds, and the results per seed), made by::

    python -m normviz.experiments --precompute KEY [--seeds 0 1]

To add an experiment: write ``normviz/exp_NAME.py`` with ``run``/``claim``/``figure`` and add
one ``Experiment(...)`` entry to ``_SPECS`` below.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import inspect
import json
import math
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "experiments"

# The questions the guide answers (design.md §1, item 4), key -> the question in words.
QUESTIONS: dict[str, str] = {
    "cnn": "Which norm for convolutional networks?",
    "rnn": "Which norm for RNNs and transformers?",
    "style": "Which norm for style transfer?",
    "batch": "What does the batch size do?",
    "distributed": "What happens in distributed training?",
    "cost": "What does each norm cost?",
    "why": "Why does BatchNorm help at all?",
    "invariances": "What is each norm invariant to?",
}


@dataclass(frozen=True)
class PaperTable:
    """Numbers from a paper, as data: ``rows`` are tuples aligned with ``columns``.

    ``source`` names the paper and the figure or table (and the setting: model, dataset);
    ``note`` says how the numbers were read (e.g. "≈, read off a figure").
    """

    source: str
    columns: tuple[str, ...]
    rows: tuple[tuple, ...]
    note: str = ""

    def records(self) -> list[dict]:
        """Rows as dicts (for a dataframe)."""
        return [dict(zip(self.columns, r)) for r in self.rows]


def _resolve(path: str) -> Callable:
    """``"normviz.exp_bin:run"`` -> the function (imports the module on first use)."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class Experiment:
    """One experiment: what it asks, what the papers found, and how to run and judge it."""

    key: str
    title: str
    question: str  # a key of QUESTIONS
    echoes: str  # the paper figure or table, in words
    paper: tuple[PaperTable, ...]
    look_for: str  # one or two sentences: what to look for in the figures
    run_path: str  # "normviz.exp_x:run"
    claim_path: str  # "normviz.exp_x:claim"
    figure_path: str | None = None  # "normviz.exp_x:figure"
    claim_text: str = ""  # the claim in words, before any run (the test's statement)
    how: str = ""  # setting at CPU scale (model, data, steps), shown beside the results
    full_seconds: float = 0.0  # rough time of a full run on 2 cores
    related: tuple[str, ...] = ()  # other pages, e.g. ("training_lab",)
    notes: str = ""  # caveats the page states plainly

    # -- calling the functions --------------------------------------------------------------
    def run(self, seed: int = 0, quick: bool = False, progress: Callable | None = None) -> dict:
        """Run the experiment; plain JSON-serialisable results."""
        fn = _resolve(self.run_path)
        kwargs: dict[str, Any] = {"seed": seed, "quick": quick}
        if progress is not None and "progress" in inspect.signature(fn).parameters:
            kwargs["progress"] = progress
        return fn(**kwargs)

    def claim(self, results: dict) -> tuple[bool, str]:
        """(holds, sentence with the numbers) for one run's results."""
        holds, sentence = _resolve(self.claim_path)(results)
        return bool(holds), str(sentence)

    def figure(self, results: dict) -> list:
        """Plotly figures for one run's results (empty if the experiment has none)."""
        if not self.figure_path:
            return []
        figs = _resolve(self.figure_path)(results)
        return list(figs) if isinstance(figs, (list, tuple)) else [figs]

    # -- precomputed results -----------------------------------------------------------------
    @property
    def data_path(self) -> Path:
        return DATA_DIR / f"{self.key}.json"

    def precomputed(self) -> dict | None:
        """The shipped results file (see :func:`precompute`), or None if there is none."""
        try:
            return json.loads(self.data_path.read_text())
        except FileNotFoundError:
            return None


def jsonable(obj: Any) -> Any:
    """numpy arrays/scalars, tuples, nested dicts -> plain lists, floats, ints, strings.

    Non-finite floats become None (JSON has no NaN), so a diverged curve stays valid JSON.
    """
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "tolist") and not isinstance(obj, (str, bytes)):  # numpy / torch
        return jsonable(obj.tolist())
    if isinstance(obj, bool) or obj is None or isinstance(obj, (int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    try:
        v = float(obj)
    except (TypeError, ValueError):
        raise TypeError(f"jsonable: cannot turn {type(obj).__name__} into JSON") from None
    return v if math.isfinite(v) else None


# --------------------------------------------------------------------------------------------
# The registry. Keep entries in the order the page shows them.

_GN_FIG1 = PaperTable(
    source="Wu & He 2018 (Group Norm), Figure 1: ResNet-50 on ImageNet, 8 GPUs, validation error %",
    columns=("norm", "batch 32", "batch 16", "batch 8", "batch 4", "batch 2"),
    rows=(("BN", 23.6, 23.7, 24.8, 27.3, 34.7), ("GN", 24.1, 24.2, 24.0, 24.2, 24.1)),
    note="batch = images per GPU",
)

_SPECS: list[Experiment] = [
    Experiment(
        key="bn_figure1",
        title="BN paper Figure 1: BN keeps a sigmoid's input steady and learns faster",
        question="why",
        echoes="Ioffe & Szegedy 2015, Figure 1 (MNIST MLP, 3×100 sigmoid units, batch 60)",
        paper=(PaperTable(
            source="Ioffe & Szegedy 2015: Inception on ImageNet, steps to 72.2 % top-1 (single crop)",
            columns=("model", "steps to 72.2 %", "max accuracy %"),
            rows=(("Inception", "31.0 M", 72.2), ("BN-Baseline", "13.3 M", 72.7),
                  ("BN-x5", "2.1 M", 73.0), ("BN-x30", "2.7 M", 74.8)),
            note="Figure 1 itself (MNIST) is a plot only: BN trains faster and ends higher; the "
                 "15/50/85th percentiles of a sigmoid's input drift without BN and stay steady with it.",
        ),),
        look_for="The BN curve reaches 90 % accuracy in a fraction of the steps; without BN the "
                 "15/50/85th percentile band of the unit's input wanders, with BN it stays put.",
        run_path="normviz.exp_presets:bn_figure1_run",
        claim_path="normviz.exp_presets:bn_figure1_claim",
        figure_path="normviz.exp_presets:bn_figure1_figure",
        claim_text="BN reaches 90 % test accuracy in at most half the steps of no norm (or no norm "
                   "never does), and ends at least as high.",
        how="MLP 64→100→100→100→10 sigmoid, digits, batch 60, SGD lr 0.5, 3000 steps.",
        full_seconds=10,
        related=("training_lab",),
    ),
    Experiment(
        key="gn_figure1",
        title="GN paper Figure 1: BN's error grows as the batch shrinks, GN's does not",
        question="batch",
        echoes="Wu & He 2018, Figure 1 (error vs batch size, BN vs GN)",
        paper=(_GN_FIG1,),
        look_for="Read the eval-mode error: BN's climbs at batch 4 and 2 while GN and LN stay "
                 "flat. BN's train-mode error at batch 2 is an artefact (its output is ±1).",
        run_path="normviz.exp_presets:gn_figure1_run",
        claim_path="normviz.exp_presets:gn_figure1_claim",
        figure_path="normviz.exp_presets:gn_figure1_figure",
        claim_text="GN's error spread across batch sizes is at most 1.5 points; BN's eval error at "
                   "batch 2 is at least 10 points worse than at 64.",
        how="The training lab's batch-size sweep (normviz.sweeps), samples seen held fixed, lr "
            "scaled with the batch size.",
        full_seconds=240,
        related=("training_lab",),
    ),
    Experiment(
        key="invariances",
        title="LN paper Table 1, live: what each norm's output ignores",
        question="invariances",
        echoes="Ba, Kiros & Hinton 2016 (Layer Normalization), Table 1",
        paper=(PaperTable(
            source="Ba, Kiros & Hinton 2016, Table 1 (RMSNorm row: Zhang & Sennrich 2019)",
            columns=("norm", "W-matrix re-scale", "W-matrix re-center", "W-row re-scale",
                     "dataset re-scale", "dataset re-center", "single-case re-scale"),
            rows=(("BN", "yes", "no", "yes", "yes", "yes", "no"),
                  ("WN", "yes", "no", "yes", "no", "no", "no"),
                  ("LN", "yes", "yes", "no", "yes", "no", "yes"),
                  ("RMSNorm", "yes", "no", "no", "yes", "no", "yes")),
            note="yes = the normalized output is unchanged by the transformation",
        ),),
        look_for="Dark cells changed by round-off only (about 1e-15): the norm ignores that "
                 "transformation. BN ignores anything done to a unit across the whole batch, LN "
                 "and RMSNorm anything done to one example across its units. With ε > 0 the "
                 "re-scaling cells are only approximately invariant: see the ε curve.",
        run_path="normviz.exp_invariances:run",
        claim_path="normviz.exp_invariances:claim",
        figure_path="normviz.exp_invariances:figure",
        claim_text="The computed table (ε = 0, max-abs change < 1e-8) equals the paper's Table 1 "
                   "in all 24 cells.",
        how="One layer a = u Wᵀ: u 16×12 (non-zero-mean Gaussian), W 10×12; 8 random draws of "
            "each transformation (scales δ in [0.2, 5]); float64 numpy (normviz.norms).",
        full_seconds=1,
        notes="With ε > 0, scaling the input by δ is the same as using ε/δ²: invariance to "
              "re-scaling is exact only for ε = 0.",
    ),
]

EXPERIMENTS: dict[str, Experiment] = {}


def register(spec: Experiment) -> Experiment:
    """Add a spec to ``EXPERIMENTS`` (keys are unique; the question must be a QUESTIONS key)."""
    if spec.key in EXPERIMENTS:
        raise ValueError(f"experiment key {spec.key!r} is registered twice")
    if spec.question not in QUESTIONS:
        raise ValueError(f"experiment {spec.key!r}: question {spec.question!r} is not one of "
                         f"{', '.join(QUESTIONS)}")
    EXPERIMENTS[spec.key] = spec
    return spec


for _spec in _SPECS:
    register(_spec)


def by_question(question: str) -> list[Experiment]:
    """The experiments that answer one question, in registry order."""
    return [e for e in EXPERIMENTS.values() if e.question == question]


def get(key: str) -> Experiment:
    try:
        return EXPERIMENTS[key]
    except KeyError:
        raise ValueError(f"unknown experiment {key!r}; choose one of {', '.join(EXPERIMENTS)}") from None


# --------------------------------------------------------------------------------------------
# Precompute: python -m normviz.experiments --precompute KEY [--seeds 0 1]


def precompute(key: str, seeds: tuple[int, ...] = (0, 1), quick: bool = False,
               path: Path | None = None) -> dict:
    """Run an experiment for each seed and write ``data/experiments/KEY.json``.

    The file records how it was made: the command, seeds, date, seconds per seed, versions,
    and each seed's results and claim verdict.
    """
    spec = get(key)
    runs, seconds = {}, {}
    for seed in seeds:
        t0 = time.perf_counter()
        res = jsonable(spec.run(seed=seed, quick=quick))
        seconds[str(seed)] = round(time.perf_counter() - t0, 2)
        holds, sentence = spec.claim(res)
        runs[str(seed)] = {"results": res, "claim": {"holds": holds, "sentence": sentence}}
        print(f"{key} seed {seed}: {seconds[str(seed)]} s; claim {'holds' if holds else 'FAILS'}: {sentence}",
              file=sys.stderr)
    try:
        import torch
        torch_version = torch.__version__
    except ImportError:  # pragma: no cover
        torch_version = None
    doc = {
        "key": key,
        "title": spec.title,
        "made_by": f"python -m normviz.experiments --precompute {key} --seeds {' '.join(map(str, seeds))}"
                   + (" --quick" if quick else ""),
        "how": spec.how,
        "seeds": list(seeds),
        "quick": quick,
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": seconds,
        "machine": f"{platform.machine()}, python {platform.python_version()}, torch {torch_version}",
        "runs": runs,
    }
    out = path or spec.data_path
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1) + "\n")
    return doc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m normviz.experiments", description=__doc__.split("\n")[0])
    ap.add_argument("--list", action="store_true", help="list the registered experiments")
    ap.add_argument("--precompute", nargs="+", metavar="KEY", help="run and write data/experiments/KEY.json")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    if args.list or not args.precompute:
        for e in EXPERIMENTS.values():
            print(f"{e.key:16s} [{e.question}] {e.title}")
        return 0
    for key in args.precompute:
        precompute(key, tuple(args.seeds), quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
