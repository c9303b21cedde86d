"""What the transformer lab's parts share: its :class:`RunsLab` (session keys, URL state <-> widgets,
the jobs; see ``views/runs_lab.py``) and how a state becomes run configs.

Runs are :class:`normviz.training.jobs.Job` objects in the session state, computed by the server's
TrainingService (portable numerics) from ``normviz.transformer.train:snapshots``.
"""
from __future__ import annotations

from app_pages.views.runs_lab import RunsLab
from normviz.transformer import TransformerConfig
from normviz.transformer.page_state import PER_RUN, TransformerLabState

P = "transformer"
TARGET = "normviz.transformer.train:snapshots"
VIEWS = {"overview": "Loss & accuracy", "gradients": "Gradient per block", "residual": "Residual stream",
         "tokens": "Per-token statistics", "dyt": "DyT α & norm scatter", "experiments": "Shipped experiments"}


def configs(state: TransformerLabState) -> list[tuple[str, TransformerConfig | None, str]]:
    """(label, config or None, the reason it is invalid) per run."""
    out = []
    for i in range(state.n_runs):
        try:
            cfg = TransformerConfig(**state.run_settings(i))
            out.append((f"{i + 1}: {cfg.label()}", cfg, ""))
        except ValueError as err:
            out.append((f"{i + 1}", None, str(err)))
    return out


LAB = RunsLab(P, TransformerLabState, PER_RUN, configs, VIEWS, target=TARGET, coerce={"lr": float},
              invalid_prefix="Run ", png_prefix="normviz-transformer-", live_exports=True)
k = LAB.k  # a control's session key
RUNS, CELL, RUNNING, LAST = LAB.runs, LAB.cell, LAB.running, LAB.last  # session keys (views/runs_lab.py)
