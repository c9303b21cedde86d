"""Training: small, instrumented runs on scikit-learn's digits, and the machinery around them.

- ``config``: :class:`TrainConfig` (what a run is) and its validation;
- ``data``, ``models``: the digits and the MLP/CNN built from a config;
- ``loop``: :func:`train`, a generator of :class:`Snapshot` (the distributions the papers plot);
- ``snippet``: a runnable PyTorch script of a run;
- ``figures``: plotly figures of snapshots; ``sweeps``: the GN batch-size sweep;
- ``service``, ``worker``: runs in worker processes for many browser sessions.

The names below are the public API (design.md §3); nothing here imports torch until a run starts.
"""
from normviz.training.config import (  # noqa: F401
    ACTIVATIONS,
    BN_UNIT_LEVELS,
    DATASETS,
    LR_RULES,
    MODELS,
    N_DIGITS,
    QUANTILE_LABELS,
    QUANTILE_LEVELS,
    TrainConfig,
    check_config,
)
from normviz.training.data import load_data  # noqa: F401
from normviz.training.loop import (  # noqa: F401
    LayerStats,
    Snapshot,
    divergence_message,
    final_snapshot,
    final_test_accuracy,
    loss_trace,
    run_log_to_rows,
    snapshots,
    steps_to_accuracy,
    threads,
    train,
)
from normviz.training.models import build_model  # noqa: F401
from normviz.training.snippet import pytorch_snippet  # noqa: F401
