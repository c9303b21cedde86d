"""Normalization layers: the registry and everything computed from it.

- ``table``: ``NORMS``, one :class:`NormSpec` per norm: every fact the app and the tests need
  (pure Python: the home page reads it without numpy);
- ``reference``: every norm in a few readable lines of numpy (the tests' oracle, "show the code");
- ``kernel``: ``normalize`` and ``normalize_weight``, the fast numpy computation (blocked, accurate);
- ``sets``: which elements share a statistic (``group_ids``, ``pooling_weights``, ``statistics``);
- ``running``: BatchNorm's running statistics and eval mode;
- ``torch_*``: the torch modules the training lab uses, each with its torch reference op.

``from normviz.norms import NORMS, normalize, pooling_weights, ...`` is the public API
(design.md §3). Only the table is imported eagerly; the rest loads numpy on first use.
"""
from normviz.norms.table import (  # noqa: F401
    ACTIVATION_NORMS,
    AXES,
    FAMILIES,
    MIXTURES,
    NORMS,
    PARTITION_NORMS,
    WEIGHT_NORMS,
    NormSpec,
    Param,
    display_name,
    get_spec,
)

_LAZY = {
    "normalize": "kernel", "normalize_weight": "kernel", "instance_moments": "kernel",
    "group_ids": "sets", "pooling_weights": "sets", "statistics": "sets", "GroupStats": "sets",
    "count_sets": "sets", "describe_set": "sets",
    "RunningStats": "running", "update_running": "running", "normalize_eval": "running",
    "keras_to_torch_momentum": "running", "torch_to_keras_momentum": "running",
    "REFERENCES": "reference",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"normviz.norms.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'normviz.norms' has no attribute {name!r}")
