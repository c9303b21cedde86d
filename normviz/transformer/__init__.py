"""A tiny transformer whose normalization you choose: the transformer lab's library.

``config`` (what a run is: :class:`TransformerConfig`, its validation), ``task`` (the sorting task's
data), ``model`` (the transformer, nanoGPT style, shapes commented), ``train`` (a run with its
instruments), ``figures`` (plotly figures and exports). torch is imported inside ``model`` and
``train`` only, so importing this package stays cheap.
"""
from __future__ import annotations

from normviz.transformer.config import (PLACEMENTS, PRESETS, TransformerConfig, check_config,  # noqa: F401
                                        token_norms)
