"""What the training lab's parts share: its :class:`RunsLab` (session keys, URL state <-> widgets,
the jobs; see ``views/runs_lab.py``), how a state becomes run configs, and the sweep-cell re-run.

The runs themselves are :class:`normviz.training.jobs.Job` objects in the session state; the
training happens in the server's TrainingService.
"""
from __future__ import annotations

from app_pages.views.runs_lab import RunsLab
from normviz.norms.table import display_name
from normviz.state import TrainingLabState
from normviz.training import TrainConfig
from normviz.training.sweeps import cell_config

P = "training"
CELLS = f"{P}:cells"            # finished live re-runs of sweep cells (as sweep cells)
PER_RUN = ("norm", "batch", "lr", "model", "init", "affine", "wd")
RUN_LABELS = {"lr": "lr", "batch": "batch", "init": "init std", "wd": "weight decay"}


def run_value(name: str, value) -> str:
    """One run's locked value, as the run column names it (e.g. "batch 8")."""
    if name == "norm":
        return display_name(value)
    if name == "model":
        return value.upper()
    if name == "affine":
        return "γ, β on" if value else "no γ, β"
    return f"{RUN_LABELS[name]} {value:g}"


def configs(state: TrainingLabState) -> list[tuple[str, TrainConfig | None, str]]:
    """(label, config or None, error message) per run."""
    out = []
    for i in range(state.n_runs):
        label = f"{i + 1}: {display_name(state.norm[i])} · B={state.batch[i]} · lr={state.lr[i]:g}"
        label += (" · no γ, β" if not state.affine[i] else "") + (f" · wd={state.wd[i]:g}" if state.wd[i] else "")
        model = state.model[i]
        try:
            cfg = TrainConfig(norm=state.norm[i], model=model, batch_size=state.batch[i], lr=state.lr[i],
                              init_std=state.init[i], steps=state.steps, seed=state.seed,
                              log_every=50, momentum=0.0 if model == "mlp" else 0.9,
                              affine=bool(state.affine[i]), weight_decay=float(state.wd[i]))
            out.append((label, cfg, ""))
        except ValueError as err:
            out.append((label, None, str(err)))
    return out


VIEWS = {"bn_fig1": "BN Figure 1", "overview": "Loss & accuracy", "distributions": "Percentile bands",
         "histograms": "Histograms over time", "sweep": "Batch-size sweep (GN Figure 1)"}
LAB = RunsLab(P, TrainingLabState, PER_RUN, configs, VIEWS, cell_name="cell_jobs",
              coerce={"lr": float, "init": float, "wd": float, "affine": bool}, spare={"norm": "batch"})
k = LAB.k  # a control's session key
RUNS, CELL_JOBS, RUNNING, LAST = LAB.runs, LAB.cell, LAB.running, LAB.last  # session keys (views/runs_lab.py)


def start_cell(norm: str, batch: int, seed: int) -> None:
    cfg = cell_config(norm, batch, seed)
    LAB.start_cell(f"{norm} B={batch} seed {seed}", cfg.replace(log_every=max(1, cfg.steps // 20)),
                   cell=(norm, batch, seed))
