"""The experiment registry: named experiments that answer the questions people ask about norms.

``EXPERIMENTS`` maps a key to an :class:`Experiment` (``normviz.experiments.base``), the way
``NORMS`` maps a key to a norm. Each experiment lives in its own module here, which holds its
functions and its text and ends with ``SPEC = Experiment(...)``; this package only collects them,
in the order the pages show them. The experiments page and the guide are built on it; the tests
check every entry. Collecting imports neither torch nor scikit-learn.

To add an experiment: write ``normviz/experiments/<key>.py`` (``run``, ``claim``, ``figure``,
``SPEC``) and add its key to ``ORDER``. Shipped results: ``python -m normviz.experiments
--precompute <key>`` (``normviz.experiments.precompute``).
"""
from __future__ import annotations

import importlib

from normviz.experiments.base import QUESTIONS, Experiment, PaperTable, jsonable  # noqa: F401
from normviz.experiments.guide import GUIDE, GuideEntry  # noqa: F401

ORDER = ("bn_figure1", "gn_figure1", "ghost_bn", "batch_instance", "switchable", "switchable_depth", "santurkar",
         "affine", "scale_invariance", "learning_rates", "input_scaling", "rnn", "weight_norm", "keras",
         "distributed", "distributed_params", "gn_figures", "invariances", "cost", "folding",
         "transformer_placement", "transformer_rms", "transformer_dyt", "transformer_depth")

EXPERIMENTS: dict[str, Experiment] = {}
for _key in ORDER:
    _spec = importlib.import_module(f"normviz.experiments.{_key}").SPEC
    if _spec.key != _key or _spec.question not in QUESTIONS:
        raise ValueError(f"experiment module {_key!r}: SPEC.key {_spec.key!r} and question {_spec.question!r} "
                         f"must be the module's name and one of {', '.join(QUESTIONS)}")
    EXPERIMENTS[_key] = _spec


def by_question(question: str) -> list[Experiment]:
    """The experiments that answer one question, in registry order."""
    return [e for e in EXPERIMENTS.values() if e.question == question]


def get(key: str) -> Experiment:
    try:
        return EXPERIMENTS[key]
    except KeyError:
        raise ValueError(f"unknown experiment {key!r}; choose one of {', '.join(EXPERIMENTS)}") from None


def run_experiment(key: str, seed: int = 0, quick: bool = False, progress=None) -> dict:
    """Run one experiment and judge it, JSON in and out (what a worker process runs for a page).

    Returns ``{"results": ..., "claim": [holds, sentence]}``.
    """
    spec = get(key)
    results = jsonable(spec.run(seed=seed, quick=quick, progress=progress))
    holds, sentence = spec.claim(results)
    return {"results": results, "claim": [holds, sentence]}
