"""What the training lab's parts share: session keys, the URL state <-> widgets glue, the jobs.

The runs themselves are :class:`normviz.training.jobs.Job` objects in the session state; the
training happens in the server's TrainingService.
"""
from __future__ import annotations

import streamlit as st

from app_pages.kit import session_owner, training_service
from normviz.norms.table import display_name
from normviz.state import MAX_RUNS, TrainingLabState
from normviz.training import TrainConfig, jobs
from normviz.training.sweeps import cell_config

P = "training"
RUNS = f"{P}:runs"              # the page's runs: list of Job
CELL_JOBS = f"{P}:cell_jobs"    # a sweep cell being re-run: list of Job
RUNNING = f"{P}:running"        # True while some job is queued or running in the service
CELLS = f"{P}:cells"            # finished live re-runs of sweep cells (as sweep cells)
LAST = f"{P}:last_state"        # the state of the last run of this page (survives page switches)
PER_RUN = ("norm", "batch", "lr", "model", "init", "affine", "wd")
RUN_LABELS = {"lr": "lr", "batch": "batch", "init": "init std", "wd": "weight decay"}


def k(name: str) -> str:
    return f"{P}.{name}"


def run_value(name: str, value) -> str:
    """One run's locked value, as the run column names it (e.g. "batch 8")."""
    if name == "norm":
        return display_name(value)
    if name == "model":
        return value.upper()
    if name == "affine":
        return "γ, β on" if value else "no γ, β"
    return f"{RUN_LABELS[name]} {value:g}"


def seed_widgets(state: TrainingLabState) -> None:
    """Set every control's session key from a state (URL, preset or the remembered state)."""
    ss = st.session_state
    ss[k("n_runs")] = state.n_runs
    for i in range(MAX_RUNS):
        j = min(i, state.n_runs - 1)
        ss[k(f"model{i}")] = state.model[j]
        ss[k(f"norm{i}")] = state.norm[j] if i < state.n_runs else "batch"
        ss[k(f"batch{i}")] = state.batch[j]
        ss[k(f"lr{i}")] = float(state.lr[j])
        ss[k(f"init{i}")] = float(state.init[j])
        ss[k(f"affine{i}")] = bool(state.affine[j])
        ss[k(f"wd{i}")] = float(state.wd[j])
    ss[k("steps")], ss[k("seed")] = state.steps, state.seed
    ss[k("preset")], ss[k("view")] = state.preset, state.view
    ss[k("lock")] = state.lock


def state_from_widgets() -> TrainingLabState:
    ss = st.session_state
    last = ss.get(LAST) or TrainingLabState()

    def get(name: str, i: int | None = None):
        # Streamlit forgets the keys of widgets that were not drawn (a run column that was hidden,
        # another page): fall back to the remembered state.
        key = k(name if i is None else f"{name}{i}")
        if key in ss and ss[key] is not None:
            return ss[key]
        v = getattr(last, name)
        return v[min(i, len(v) - 1)] if i is not None else v

    n = ss.get(k("n_runs")) or last.n_runs
    cols = {f: tuple(get(f, i) for i in range(n)) for f in PER_RUN}
    state, _ = TrainingLabState(**cols, steps=get("steps"), seed=get("seed"), preset=get("preset"),
                                view=get("view"), lock=tuple(get("lock"))).validate()
    return state


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


def start_runs(state: TrainingLabState) -> None:
    stop_runs()
    st.session_state[f"{P}:figs"] = {}
    service, owner = training_service(), session_owner()
    st.session_state[RUNS] = [jobs.invalid(label, err) if cfg is None else jobs.submit(service, owner, label, cfg)
                              for label, cfg, err in configs(state)]
    st.session_state[RUNNING] = any(j.active for j in st.session_state[RUNS])


def stop_runs() -> None:
    for job in st.session_state.get(RUNS, []) + st.session_state.get(CELL_JOBS, []):
        jobs.stop(training_service(), job)
    st.session_state[RUNNING] = False


def start_cell(norm: str, batch: int, seed: int) -> None:
    cfg = cell_config(norm, batch, seed)
    job = jobs.submit(training_service(), session_owner(), f"{norm} B={batch} seed {seed}",
                      cfg.replace(log_every=max(1, cfg.steps // 20)), cell=(norm, batch, seed))
    st.session_state[CELL_JOBS] = [job]
    st.session_state[RUNNING] = True
