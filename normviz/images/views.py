"""The image lab's views, read off the registry (pure Python: the URL state reads it too).

A view is a norm in training mode, named by its key ("layer"), or a norm with running statistics
in eval mode, "<key>_eval" ("batch_eval"). The lab shows the registry's featured norms by default
(``NormSpec.featured``), each followed by its eval view when it has one.
"""
from __future__ import annotations

from normviz.norms.table import NORMS

EVAL = "_eval"


def has_eval(spec) -> bool:
    """Norms whose eval mode is a fixed affine map with running statistics (BN and its variants)."""
    return spec.running_stats and not spec.is_mixture


def view_norm(view: str) -> tuple[str, bool]:
    """(registry key, eval mode?) of a view id: "layer" → ("layer", False), "batch_eval" → ("batch", True)."""
    if view in NORMS:
        return view, False
    key = view[:-len(EVAL)]
    if view.endswith(EVAL) and key in NORMS and has_eval(NORMS[key]):
        return key, True
    raise ValueError(f"Unknown view {view!r}; choose one of {', '.join(all_views())}.")


def all_views() -> tuple[str, ...]:
    """Every view the lab can draw: each activation norm in training mode, then the eval mode of
    the norms that keep running statistics."""
    train = tuple(k for k, spec in NORMS.items() if not spec.is_weight)
    return train + tuple(k + EVAL for k, spec in NORMS.items() if has_eval(spec))


def default_views() -> tuple[str, ...]:
    """The featured norms in registry order, each followed by its eval view if it has one."""
    out = []
    for key, spec in NORMS.items():
        if spec.featured and not spec.is_weight:
            out += [key] + ([key + EVAL] if has_eval(spec) else [])
    return tuple(out)
