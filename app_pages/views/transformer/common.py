"""What the transformer lab's parts share: session keys, URL state <-> widgets, the runs as jobs.

Runs are :class:`normviz.training.jobs.Job` objects in the session state, computed by the server's
TrainingService (portable numerics) from ``normviz.transformer.train:snapshots``.
"""
from __future__ import annotations

import streamlit as st

from app_pages.kit import session_owner, training_service
from normviz.state import MAX_RUNS
from normviz.training import jobs
from normviz.transformer import TransformerConfig
from normviz.transformer.page_state import PER_RUN, TransformerLabState

P = "transformer"
TARGET = "normviz.transformer.train:snapshots"
RUNS = f"{P}:runs"            # list of Job
CELL = f"{P}:cell"            # a shipped sweep cell re-run live: list of Job
RUNNING = f"{P}:running"
LAST = f"{P}:last_state"


def k(name: str) -> str:
    return f"{P}.{name}"


def seed_widgets(state: TransformerLabState) -> None:
    """Set every control's session key from a state (URL, preset or the remembered state)."""
    ss = st.session_state
    ss[k("n_runs")] = state.n_runs
    for i in range(MAX_RUNS):
        j = min(i, state.n_runs - 1)
        for f in PER_RUN:
            v = getattr(state, f)[j]
            ss[k(f"{f}{i}")] = float(v) if f == "lr" else v
    for f in ("steps", "seed", "preset", "view", "lock"):
        ss[k(f)] = getattr(state, f)


def state_from_widgets() -> TransformerLabState:
    ss = st.session_state
    last = ss.get(LAST) or TransformerLabState()

    def get(name: str, i: int | None = None):
        # Widgets not drawn this run (a hidden column, another page) lose their keys: use the remembered state.
        key = k(name if i is None else f"{name}{i}")
        if key in ss and ss[key] is not None:
            return ss[key]
        v = getattr(last, name)
        return v[min(i, len(v) - 1)] if i is not None else v

    n = ss.get(k("n_runs")) or last.n_runs
    cols = {f: tuple(get(f, i) for i in range(n)) for f in PER_RUN}
    state, _ = TransformerLabState(**cols, steps=get("steps"), seed=get("seed"), preset=get("preset"),
                                   view=get("view"), lock=tuple(get("lock"))).validate()
    return state


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


def submit(label: str, cfg: TransformerConfig) -> jobs.Job:
    ticket = training_service().submit(TARGET, {"config": cfg.to_dict()}, owner=session_owner())
    return jobs.Job(label, cfg, ticket)


def start_runs(state: TransformerLabState) -> None:
    stop_runs()
    st.session_state[RUNS] = [jobs.invalid(label, err) if cfg is None else submit(label, cfg)
                              for label, cfg, err in configs(state)]
    st.session_state[RUNNING] = any(j.active for j in st.session_state[RUNS])


def stop_runs() -> None:
    for job in st.session_state.get(RUNS, []) + st.session_state.get(CELL, []):
        jobs.stop(training_service(), job)
    st.session_state[RUNNING] = False


def start_cell(label: str, cfg: TransformerConfig) -> None:
    st.session_state[CELL] = [submit(label, cfg)]
    st.session_state[RUNNING] = True
