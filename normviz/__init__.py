"""normviz: see what each normalization layer pools over, and what that does.

The library is importable without streamlit, torch or scikit-learn; those are imported only by
the functions that need them.
"""
from normviz.norms import NORMS, normalize, normalize_weight, pooling_weights, statistics

__all__ = ["NORMS", "normalize", "normalize_weight", "pooling_weights", "statistics"]
