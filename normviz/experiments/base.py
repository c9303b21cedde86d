"""What an experiment is: :class:`Experiment` (text, paper numbers as data, and its functions),
:class:`PaperTable`, the guide's questions and :func:`jsonable`.

Each experiment module (``normviz.experiments.<key>``) defines ``run``, ``claim`` and ``figure``
and ends with its ``SPEC = Experiment(...)``; ``normviz.experiments`` only collects them.

- ``run(seed=0, quick=False, progress=None) -> dict``: plain JSON-serialisable results
  (numbers, lists, strings; use :func:`jsonable` on numpy output). ``quick=True`` finishes in
  ~10 s (fewer steps; the claim need not hold then). ``progress``, if the function takes it, is
  called as ``progress(fraction, text)``.
- ``claim(results) -> (holds, sentence)``: whether the claim holds, and a sentence built from
  the measured numbers.
- ``figure(results) -> list[plotly Figure]``.
- ``headline(results) -> dict[str, float]`` (optional): the run's key numbers, by name; pages
  show them as a table with one column per shipped seed.
- ``facts(results) -> list[tuple[str, bool]]`` (optional): every qualitative comparison the
  experiment's text makes ("LN beats shared BN at batch 32"), measured on one run. Pages say in
  how many shipped seeds each holds (``normviz.experiments.seeds``), never one seed alone.

Modules import torch, scikit-learn and plotly inside their functions, so collecting the
registry stays cheap.
"""
from __future__ import annotations

import inspect
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

DATA_DIR = Path(__file__).resolve().parent.parent.parent / "data" / "experiments"

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
    "transformer": "Which norm for a transformer, and where does it go?",
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


GN_FIGURE1 = PaperTable(
    source="Wu & He 2018 (Group Norm), Figure 1: ResNet-50 on ImageNet, 8 GPUs, validation error %",
    columns=("norm", "batch 32", "batch 16", "batch 8", "batch 4", "batch 2"),
    rows=(("BN", 23.6, 23.7, 24.8, 27.3, 34.7), ("GN", 24.1, 24.2, 24.0, 24.2, 24.1)),
    note="batch = images per GPU",
)


@dataclass(frozen=True)
class Experiment:
    """One experiment: what it asks, what the papers found, and how to run and judge it."""

    key: str
    title: str
    question: str  # a key of QUESTIONS
    echoes: str  # the paper figure or table, in words
    paper: tuple[PaperTable, ...]
    look_for: str  # one or two sentences: what to look for in the figures
    run_fn: Callable[..., dict]
    claim_fn: Callable[[dict], tuple[bool, str]]
    figure_fn: Callable[[dict], list] | None = None
    claim_text: str = ""  # the claim in words, before any run (the test's statement)
    how: str = ""  # setting at CPU scale (model, data, steps), shown beside the results
    full_seconds: float = 0.0  # rough time of a full run on 2 cores
    related: tuple[str, ...] = ()  # other pages, e.g. ("training_lab",)
    notes: str = ""  # caveats the page states plainly
    load_fn: Callable[[], dict | None] | None = None  # loads the shipped results when they live elsewhere
    headline_fn: Callable[[dict], dict] | None = None  # the run's key numbers, by name
    facts_fn: Callable[[dict], list] | None = None  # the comparisons the text makes: (statement, holds)
    recommendation: str = ""  # what to do, in one line (from the papers and, where it says so, our runs)
    # How the shipped results are made (normviz.numerics): "portable" reproduces bit for bit on any
    # x86-64 CPU; "native" for experiments whose results are timings of this CPU's fast kernels.
    numerics: str = "portable"

    def __repr__(self) -> str:
        return f"Experiment({self.key!r}: {self.title})"

    def run(self, seed: int = 0, quick: bool = False, progress: Callable | None = None) -> dict:
        """Run the experiment; plain JSON-serialisable results."""
        kwargs: dict[str, Any] = {"seed": seed, "quick": quick}
        if progress is not None and "progress" in inspect.signature(self.run_fn).parameters:
            kwargs["progress"] = progress
        return self.run_fn(**kwargs)

    def claim(self, results: dict) -> tuple[bool, str]:
        """(holds, sentence with the numbers) for one run's results."""
        holds, sentence = self.claim_fn(results)
        return bool(holds), str(sentence)

    def figure(self, results: dict) -> list:
        """Plotly figures for one run's results (empty if the experiment has none)."""
        if self.figure_fn is None:
            return []
        figs = self.figure_fn(results)
        return list(figs) if isinstance(figs, (list, tuple)) else [figs]

    def headline(self, results: dict) -> dict:
        return dict(self.headline_fn(results)) if self.headline_fn else {}

    def facts(self, results: dict) -> list[tuple[str, bool]]:
        return [(str(t), bool(h)) for t, h in self.facts_fn(results)] if self.facts_fn else []

    @property
    def data_path(self) -> Path:
        return DATA_DIR / f"{self.key}.json"

    def precomputed(self) -> dict | None:
        """The shipped results file (see ``normviz.experiments.precompute``), or None.

        Format: ``{"made_by", "how", "seeds", "date", "seconds", "machine", "numerics",
        "runs": {seed: {"results": ..., "claim": {"holds", "sentence"}}}}``.
        """
        if self.load_fn is not None:
            return self.load_fn()
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
