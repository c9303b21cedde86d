"""normviz: see what each normalization layer pools over, and what that does.

The library is importable without streamlit, torch or scikit-learn; those are imported only by
the functions that need them. Even numpy waits: ``import normviz.norms.table`` (what the home page
needs) stays pure Python, and the names below load ``normviz.norms`` on first use.
"""
__all__ = ["NORMS", "normalize", "normalize_weight", "pooling_weights", "statistics"]


def __getattr__(name):
    if name in __all__:
        from normviz import norms

        return getattr(norms, name)
    raise AttributeError(f"module 'normviz' has no attribute {name!r}")
