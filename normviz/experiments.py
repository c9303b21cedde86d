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
date, seconds, how the numbers reproduce, and the results per seed), made by::

    python -m normviz.experiments --precompute KEY [--seeds 0 1]

which runs each experiment in a fresh process in its ``numerics`` mode (portable unless it
times this CPU's kernels), so a live re-run in that mode gives the shipped numbers exactly.

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

# Okabe–Ito, colour-blind safe; figures add a second cue (marker symbol, dash, pattern).
COLORS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")

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
    precomputed_path: str | None = None  # a loader "module:function" when the data lives elsewhere
    # How the shipped results are made (normviz.numerics): "portable" reproduces bit for bit on any
    # x86-64 CPU; "native" for experiments whose results are timings of this CPU's fast kernels.
    numerics: str = "portable"

    # -- calling the functions --------------------------------------------------------------
    def available(self) -> bool:
        """Whether the experiment's module exists (a registered experiment may still be in the works)."""
        import importlib.util

        return importlib.util.find_spec(self.run_path.partition(":")[0]) is not None

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
        """The shipped results file (see :func:`precompute`), or None if there is none.

        Format: ``{"made_by", "how", "seeds", "date", "seconds", "machine",
        "runs": {seed: {"results": ..., "claim": {"holds", "sentence"}}}}``.
        """
        if self.precomputed_path:
            return _resolve(self.precomputed_path)()
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

# Entries for santurkar, rnn, distributed and cost were pre-registered with placeholder text so
# their modules (normviz.exp_santurkar, exp_rnn, exp_distributed, exp_cost) only need to land;
# their authors edit the text in place.
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
        precomputed_path="normviz.exp_presets:gn_figure1_precomputed",
        claim_text="GN's error spread across batch sizes is at most 1.5 points; BN's eval error at "
                   "batch 2 is at least 10 points worse than at 64.",
        how="The training lab's batch-size sweep (normviz.sweeps), samples seen held fixed, lr "
            "scaled with the batch size.",
        full_seconds=240,
        related=("training_lab",),
    ),
    Experiment(
        key="batch_instance",
        title="Batch-Instance Norm: where contrast is noise and where it is signal",
        question="style",
        echoes="Nam & Kim 2018, Figure 2 (ρ histograms by depth) and Table 1",
        paper=(
            PaperTable(
                source="Nam & Kim 2018, Figure 2: learned gates ρ, CIFAR-100 ResNet-110, fraction of gates per bin",
                columns=("ρ bin", "all layers", "lower", "middle", "upper"),
                rows=(("0.0–0.1", 0.10, 0.21, 0.13, 0.07), ("0.8–0.9", 0.06, 0.09, 0.08, 0.04),
                      ("0.9–1.0", 0.72, 0.38, 0.64, 0.85)),
                note="≈, read off the figure; bins 0.1–0.8 each hold 1–5 %",
            ),
            PaperTable(
                source="Nam & Kim 2018, top-1 accuracy % (official repo, mean where ± std given)",
                columns=("dataset", "BN", "BIN"),
                rows=(("CIFAR-10 ResNet-110", 93.72, 94.29), ("CIFAR-100 ResNet-110", 74.26, 75.88),
                      ("ImageNet ResNet-18", 69.89, 70.68), ("Office-Home average", 78.95, 80.08)),
            ),
        ),
        look_for="When contrast is a nuisance, the first layer's gates drop towards IN (ρ → 0) "
                 "while the last layer's stay near BN, and IN beats BN outright. When brightness is "
                 "the label, IN erases it: IN alone sits at chance and the gates stay with BN.",
        run_path="normviz.exp_bin:run",
        claim_path="normviz.exp_bin:claim",
        figure_path="normviz.exp_bin:figure",
        claim_text="Contrast nuisance: layer 1's mean ρ is at least 0.3 below the last layer's. "
                   "Brightness as label: IN's accuracy is clearly below BN's and BIN's.",
        how="The training lab's CNN (3 conv layers × 16 channels at 8×8, GAP), batch 32, SGD lr 0.05, "
            "momentum 0.9; 1000 steps on the contrast task, 600 on the brightness task; BIN with ρ init 1, "
            "×10 lr, no weight decay, clipped to [0, 1].",
        full_seconds=60,
    ),
    Experiment(
        key="switchable",
        title="Switchable Norm: what it learns at batch 32 and at batch 2",
        question="batch",
        echoes="Luo et al. 2019, Figure 7 (importance ratios vs batch setting and by depth)",
        paper=(
            PaperTable(
                source="Luo et al. 2019: learned importance ratios, ResNet-50 ImageNet, averaged over layers",
                columns=("(GPUs, batch/GPU)", "BN", "IN", "LN"),
                rows=(("(8,32)", 0.58, 0.16, 0.25), ("(8,16)", 0.52, 0.19, 0.29), ("(8,8)", 0.40, 0.21, 0.40),
                      ("(8,4)", 0.27, 0.25, 0.48), ("(8,2)", 0.15, 0.30, 0.55), ("(8,1)", 0.00, 0.52, 0.48)),
                note="≈, read off the official blog's figure",
            ),
            PaperTable(
                source="Luo et al. 2019: top-1 accuracy %, ResNet-50 ImageNet",
                columns=("norm", "(8,32)", "(8,16)", "(8,8)", "(8,4)", "(8,2)"),
                rows=(("BN", 76.4, 76.3, 75.2, 72.7, 65.3), ("GN", 75.9, 75.8, 76.0, 75.8, 75.9),
                      ("SN", 76.9, 76.7, 76.7, 75.9, 75.6)),
            ),
        ),
        look_for="At batch 2 the BN share of the *variance* collapses and LN takes over; the BN "
                 "share of the mean drops much less (the batch variance is the noisier statistic).",
        run_path="normviz.exp_switchable:run",
        claim_path="normviz.exp_switchable:claim",
        figure_path="normviz.exp_switchable:figure",
        claim_text="BN's variance weight at batch 2 is at most half its value at batch 32.",
        how="The training lab's CNN (3 conv layers × 16 channels at 8×8, ReLU, GAP) with Switchable Norm "
            "(biased variances), SGD lr 0.05, momentum 0.9, 1200 steps at each batch size.",
        notes="At this scale the layer-averaged BN variance weight hardly moves (about 0.33 → 0.30): "
              "on 8×8 maps BN still pools 128 values per channel at batch 2. The collapse the paper "
              "describes shows in the last layer, so that is what the claim tests.",
        full_seconds=40,
    ),
    Experiment(
        key="santurkar",
        title="Why does BN help? Noisy BN and the loss landscape",
        question="why",
        echoes="Santurkar et al. 2018, Figures 2 and 4 (noisy BN; loss and gradient along the gradient)",
        paper=(PaperTable(
            source="Santurkar et al. 2018, VGG on CIFAR-10",
            columns=("setting", "test accuracy %"),
            rows=(("no BN", 80.0), ("BN", 83.0)),
            note="≈, single secondary source; noisy BN trains about as well as BN (plot only)",
        ),),
        look_for="Noisy BN's layer inputs move more than without BN, yet it trains about as well "
                 "as BN; along the gradient, BN's loss and gradient change far less.",
        run_path="normviz.exp_santurkar:run",
        claim_path="normviz.exp_santurkar:claim",
        figure_path="normviz.exp_santurkar:figure",
        notes="The 'internal covariate shift' explanation of BN is contested. The BN paper said BN "
              "helps by keeping layer inputs steady; Santurkar et al. show that BN with injected noise "
              "(unsteady inputs) trains as well as BN, and point to a smoother loss landscape instead. "
              "Neither story is settled; treat both as hypotheses that these runs probe at toy scale.",
        claim_text="Noisy BN's test accuracy is within 0.03 of BN's while its last hidden layer's inputs "
                   "drift at least 2× as much; along the gradient, BN's loss range and gradient change "
                   "(medians over the trajectory after step 0) are smaller than without BN.",
        how="MLP 64 → 4×100 ReLU → 10, digits, batch 64, SGD lr 0.1, 1500 steps; probes every 50 steps "
            "at η ∈ {0.05, 0.1, 0.2, 0.4} on a copy of the model (running statistics untouched).",
        full_seconds=45,
    ),
    Experiment(
        key="rnn",
        title="RNNs and sequences: BN over time vs per-step BN vs LN",
        question="rnn",
        echoes="Ba, Kiros & Hinton 2016 (Layer Normalization), the motivation for LN in RNNs",
        paper=(PaperTable(
            source="Luo et al. 2019 (Switchable Norm), Figure 1a",
            columns=("task", "norm SN selects"),
            rows=(("LSTM (architecture search)", "LN"), ("style transfer", "IN"),
                  ("classification backbone", "BN (mixed)")),
            note="qualitative",
        ),),
        look_for="LN needs no batch statistics and no per-step statistics, so it works the same "
                 "at every time step and every batch size.",
        run_path="normviz.exp_rnn:run",
        claim_path="normviz.exp_rnn:claim",
        figure_path="normviz.exp_rnn:figure",
        claim_text="At batch 32, LN's test accuracy is at least shared BN's (−0.01) with no train/eval "
                   "gap, and shared BN's running statistics are at least 3× further from step 1's "
                   "statistics than per-step BN's; at batch 4, LN beats both BN variants by 0.02 or more "
                   "and shared BN's train/eval gap exceeds LN's by 0.02 or more.",
        how="Digits read as 8 rows (time steps) of 8 pixels; hand-written tanh RNN, hidden 64, the norm "
            "on each step's pre-activation; Adam lr 2e-3, 800 steps, batch 32 and 4.",
        notes="Over only 8 steps a plain tanh RNN trains well too; LN's case is that it computes the "
              "same thing at every batch size, time step and in train and eval mode.",
        full_seconds=60,
    ),
    Experiment(
        key="weight_norm",
        title="Weight Norm, with and without mean-only BN",
        question="cost",
        echoes="Salimans & Kingma 2016, Table 1 (CIFAR-10 test error)",
        paper=(PaperTable(
            source="Salimans & Kingma 2016: CIFAR-10 test error %, modified ConvPool-CNN-C",
            columns=("parameterization", "test error %"),
            rows=(("normal", 8.43), ("Weight Norm", 8.46), ("BatchNorm", 8.05), ("WN + mean-only BN", 7.31)),
            note="BN was ≈ 16 % slower per iteration; WN not noticeably slower",
        ),),
        look_for="‖v‖ only grows under plain SGD (the gradient is orthogonal to v), which slows "
                 "the effective step; WN costs about nothing per step, BN more.",
        claim_text="Under plain SGD ‖v‖ never shrinks, in every layer, and has grown by the end.",
        how="CNN conv 16 → conv 32 at 8×8, GAP, linear; batch 32, plain SGD lr 0.5 (no momentum, so "
            "the growth law is exact), 1500 steps. Time per step: fastest of 60 round-robin rounds.",
        run_path="normviz.exp_weightnorm:run",
        claim_path="normviz.exp_weightnorm:claim",
        figure_path="normviz.exp_weightnorm:figure",
        full_seconds=30,
    ),
    Experiment(
        key="keras",
        title="The Keras BN-vs-LN example, as written and as a fair comparison",
        question="cnn",
        echoes="The Keras example comparing BatchNormalization and LayerNormalization on MNIST",
        paper=(
            PaperTable(
                source="Wu & He 2018 (GN paper): a fair BN vs LN comparison, ResNet-50 ImageNet, 32 images/GPU",
                columns=("norm", "val error %"),
                rows=(("BN", 23.6), ("LN", 25.3), ("GN", 24.1), ("IN", 28.4)),
            ),
            PaperTable(
                source="Defaults that differ between the frameworks (Keras docs, torch.nn)",
                columns=("setting", "Keras", "PyTorch"),
                rows=(("BN momentum", "0.99 (keeps 99 % of the old running value)",
                       "0.1 (takes 10 % of the new batch value); Keras 0.99 ↔ p = 0.01"),
                      ("BN ε", "1e-3", "1e-5"),
                      ("LN axes", "LayerNormalization(axis=3) on NHWC: C of each pixel",
                       "LayerNorm([C, H, W]): all of C, H, W per sample")),
                note="Keras' momentum m corresponds to PyTorch's p = 1 − m",
            ),
        ),
        look_for="As written, the comparison is not BN vs LN: Keras' LayerNormalization(axis=3) "
                 "normalizes the channels of each pixel (PONO-like), and BN's momentum 0.99 (PyTorch "
                 "p = 0.01) leaves its running statistics near their start for hundreds of steps, so "
                 "eval-mode BN looks bad early. The fair runs (PyTorch's p = 0.1, LN over C, H, W) "
                 "show what the norms themselves do.",
        run_path="normviz.exp_keras:run",
        claim_path="normviz.exp_keras:claim",
        figure_path="normviz.exp_keras:figure",
        claim_text="LayerNormalization(axis=3) equals per-pixel normalization over C, not LN over "
                   "(C, H, W); with Keras' momentum BN's eval error over the first half of the run is "
                   "higher than with PyTorch's.",
        how="Keras BatchNormalization(momentum=0.99, epsilon=1e-3) ↦ PyTorch momentum p = 1 − 0.99 = "
            "0.01, eps 1e-3. Same CNN for all four runs (conv 16 → conv 32 at 8×8, GAP, linear), "
            "batch 32, SGD lr 0.1, momentum 0.9, 600 steps, same data order.",
        full_seconds=60,
    ),
    Experiment(
        key="distributed",
        title="Distributed training, for real: per-device BN vs synchronized BN vs GN",
        question="distributed",
        echoes="Wu & He 2018, Figure 1 (batch per GPU) and the SyncBN practice",
        paper=(_GN_FIG1,),
        look_for="With ≤ 4 samples per process, per-device BN statistics are noisy; all-reducing "
                 "them behaves like one big batch; GN does not care.",
        run_path="normviz.exp_distributed:run",
        claim_path="normviz.exp_distributed:claim",
        figure_path="normviz.exp_distributed:figure",
        claim_text="Synced BN and GN beat per-device BN by at least 0.02 test accuracy, synced running "
                   "statistics are closer to the full-data ones, and the one-process simulation "
                   "reproduces the first forward and gradients to 1e-9.",
        how="2 CPU processes (torch.distributed, gloo, localhost) × 2 samples each, DDP with its default "
            "broadcast_buffers=True; MLP 64 → 64 → 64 → 10 ReLU, float64, SGD lr 0.02 momentum 0.9, "
            "1500 steps. Simulated: Ghost BN (ghost size 2) and BN on the global batch of 4.",
        notes="PyTorch's DDP broadcasts rank 0's buffers at every forward (broadcast_buffers=True), so "
              "per-device BN keeps rank 0's running statistics only. torch.nn.SyncBatchNorm refuses CPU "
              "tensors, so normviz all-reduces the statistics itself. The processes are forked from the one "
              "already running, so they do not import torch again.",
        full_seconds=120,
    ),
    Experiment(
        key="gn_figures",
        title="GN paper Figures 4 and 6: error curves and the last layer's responses",
        question="cnn",
        echoes="Wu & He 2018, Figure 4 (train/val error curves) and Figure 6 (percentiles of features)",
        paper=(PaperTable(
            source="Wu & He 2018: ResNet-50 ImageNet, batch 32/GPU, validation error %",
            columns=("norm", "val error %"),
            rows=(("BN", 23.6), ("LN", 25.3), ("IN", 28.4), ("GN", 24.1)),
            note="GN also has lower *training* error than BN (Figure 4)",
        ),),
        look_for="GN's training error ends below BN's while BN's validation error is as low or "
                 "lower (BN's batch noise regularises); without a norm the last layer's response "
                 "percentiles spread out, with BN or GN they stay in a steady band.",
        run_path="normviz.exp_gn_figures:run",
        claim_path="normviz.exp_gn_figures:claim",
        figure_path="normviz.exp_gn_figures:figure",
        claim_text="Without a norm the last conv layer's 1–99 % response band widens over training more "
                   "than twice as much as with BN or GN.",
        how="CNN conv 16 → conv 32 at 8×8, GAP, linear (GN with 8 groups); batch 32, SGD lr 0.05, "
            "momentum 0.9, 1500 steps; percentiles on 360 test images in eval mode.",
        notes="Not reproduced at this scale: the paper's Figure 4 has GN with the lowest training "
              "error; on the digits BN reaches a lower training error than GN (numbers below).",
        full_seconds=60,
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
    Experiment(
        key="cost",
        numerics="native",  # its results are time ratios of this CPU's fast kernels
        title="Cost: time per step and activation memory of each norm",
        question="cost",
        echoes="Salimans & Kingma 2016 (BN ≈ 16 % slower per iteration) and the papers' accuracy tables",
        paper=(PaperTable(
            source="ResNet-50 ImageNet top-1 %, batch 32/GPU (GN and SN papers)",
            columns=("norm", "top-1 %"),
            rows=(("BN", 76.4), ("GN", 75.9), ("SN", 76.9), ("LN", 74.7), ("IN", 71.6)),
        ),),
        look_for="Ratios to no norm, measured in one run on this machine: most activation norms about "
                 "double the activation memory (one more saved tensor per layer) and the blends (BIN, "
                 "SN) cost the most; hover a point to see what the papers say it buys in accuracy.",
        run_path="normviz.exp_cost:run",
        claim_path="normviz.exp_cost:claim",
        figure_path="normviz.exp_cost:figure",
        claim_text="Every norm that divides activations by a statistic at least 1.5× the activation "
                   "memory of no norm (Weight Norm ≤ 1.1×); BIN and SN at least 1.5× BN's memory; SN's "
                   "training step at least 1.2× BN's time ratio.",
        how="Training lab CNN (3 × conv 32 at 8×8), batch 64, float32, 1 thread; 12 interleaved rounds "
            "of 2 steps per norm, each against no norm timed just before it (median ratio); memory = "
            "bytes autograd saves in one forward.",
        notes="Times are ratios to no norm measured in the same run on a shared CPU; the papers' "
              "accuracy numbers come from ImageNet/CIFAR-scale models, not from this run.",
        full_seconds=35,
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


# The guide (design.md §1 item 4): each question, a short answer from the papers, and the
# experiments whose shipped results back it (their claim sentences carry the measured numbers).
@dataclass(frozen=True)
class GuideEntry:
    question: str  # a key of QUESTIONS
    answer: str
    experiments: tuple[str, ...]


GUIDE: tuple[GuideEntry, ...] = (
    GuideEntry("cnn", "With a healthy batch on each device (16–32 images or more), BatchNorm is the "
               "default and the best of the simple norms: the GN paper's ResNet-50 at 32 images per GPU "
               "has 23.6 % validation error with BN, 24.1 % with GN, 25.3 % with LN and 28.4 % with IN. "
               "GroupNorm comes within half a point without depending on the batch at all; learned mixtures "
               "(Batch-Instance, Switchable) edge BN out. IN alone throws away each image's contrast, which "
               "classification needs. Beware comparisons that change more than the norm (Keras defaults, "
               "`LayerNormalization(axis=3)`).",
               ("gn_figures", "keras", "switchable")),
    GuideEntry("rnn", "LayerNorm (or RMSNorm, its cheaper cousin without the mean): its statistics come from "
               "one example at one time step, so nothing depends on the batch, the sequence length or "
               "running averages, and training and inference compute the same thing. BN in an RNN needs "
               "statistics per time step and breaks on sequences longer than those seen in training. "
               "Switchable Norm, left to choose, picks LN for an LSTM.",
               ("rnn", "invariances")),
    GuideEntry("style", "InstanceNorm: a stylised image's contrast and colour should follow the style, not "
               "the content photo, and IN removes each image's own statistics inside the network (kept at "
               "test time). Batch-Instance Norm learns per channel where that helps: it goes to IN where "
               "contrast is a nuisance and stays with BN where contrast carries the label.",
               ("batch_instance",)),
    GuideEntry("batch", "Below about 8 images per device BN's batch statistics become noisy and differ from "
               "the running averages used at test time: the GN paper's BN error climbs from 23.6 % at 32 "
               "images per GPU to 34.7 % at 2, while GN stays at 24.0–24.2 %. Switchable Norm shifts its "
               "variance weight away from BN as the batch shrinks.",
               ("gn_figure1", "switchable")),
    GuideEntry("distributed", "BN's statistics are per device unless you synchronize them (SyncBN all-reduces "
               "mean and variance across processes, which behaves like one big batch); PyTorch's DDP by "
               "default broadcasts rank 0's running statistics to the others. GN and LN have nothing to "
               "synchronize. Ghost batches simulate small per-device batches in one process.",
               ("distributed",)),
    GuideEntry("cost", "All activation norms cost a few passes over the activations; BN was about 16 % slower "
               "per step than no norm in the Weight Norm paper, whose WN was not noticeably slower. Measure "
               "on your machine: the ratios below are from this one.",
               ("cost", "weight_norm")),
    GuideEntry("why", "Not mainly by fixing 'internal covariate shift' (that story is contested): BN makes the "
               "loss smoother along the gradient, so larger steps are safe, and it keeps each layer's inputs "
               "in the range where its nonlinearity learns.",
               ("bn_figure1", "santurkar")),
)


def by_question(question: str) -> list[Experiment]:
    """The experiments that answer one question, in registry order."""
    return [e for e in EXPERIMENTS.values() if e.question == question]


def get(key: str) -> Experiment:
    try:
        return EXPERIMENTS[key]
    except KeyError:
        raise ValueError(f"unknown experiment {key!r}; choose one of {', '.join(EXPERIMENTS)}") from None


def run_experiment(key: str, seed: int = 0, quick: bool = False, progress: Callable | None = None) -> dict:
    """Run one experiment and judge it, JSON in and out (what a worker process runs for a page).

    Returns ``{"results": ..., "claim": [holds, sentence]}``.
    """
    spec = get(key)
    results = jsonable(spec.run(seed=seed, quick=quick, progress=progress))
    holds, sentence = spec.claim(results)
    return {"results": results, "claim": [holds, sentence]}


# --------------------------------------------------------------------------------------------
# Precompute: python -m normviz.experiments --precompute KEY [--seeds 0 1]


def precompute(key: str, seeds: tuple[int, ...] = (0, 1), quick: bool = False,
               path: Path | None = None) -> dict:
    """Run an experiment for each seed and write ``data/experiments/KEY.json``.

    The file records how it was made: the command, seeds, date, seconds per seed, versions,
    and each seed's results and claim verdict.
    """
    spec = get(key)
    if spec.precomputed_path and path is None:
        raise ValueError(f"{key}'s shipped results are made elsewhere (loaded by {spec.precomputed_path}); "
                         f"for gn_figure1 run `python -m normviz.sweeps --out data/gn_batch_sweep.json`.")
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
    from normviz.numerics import describe

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
        "numerics": describe(),
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
    ap.add_argument("--in-this-process", action="store_true",
                    help="(internal) precompute here instead of in a fresh process per experiment")
    args = ap.parse_args(argv)
    if args.list or not args.precompute:
        for e in EXPERIMENTS.values():
            print(f"{e.key:16s} [{e.question}] {e.title}")
        return 0
    if args.in_this_process:
        from normviz import numerics

        if numerics.mode() == "portable":  # the parent asked for it through the environment
            numerics.use_portable()
        for key in args.precompute:
            precompute(key, tuple(args.seeds), quick=args.quick)
        return 0
    for key in args.precompute:
        _precompute_in_fresh_process(get(key), tuple(args.seeds), args.quick)
    return 0


def _precompute_in_fresh_process(spec: Experiment, seeds: tuple[int, ...], quick: bool) -> None:
    """torch fixes its kernels when it starts, so each experiment runs in its own interpreter
    whose environment selects its numerics mode."""
    import os
    import subprocess

    from normviz.numerics import PORTABLE_ENV, ROOT

    env = {k: v for k, v in os.environ.items() if k not in PORTABLE_ENV}
    if spec.numerics == "portable":
        env.update(PORTABLE_ENV)
    cmd = [sys.executable, "-m", "normviz.experiments", "--precompute", spec.key, "--in-this-process",
           "--seeds", *map(str, seeds)] + (["--quick"] if quick else [])
    subprocess.run(cmd, cwd=str(ROOT), env=env, check=True)


if __name__ == "__main__":
    sys.exit(main())
