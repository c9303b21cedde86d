"""The run scaffold the training lab and the transformer lab share: runs side by side in the server's
TrainingService, polled by a fragment and drawn live.

A lab is one :class:`RunsLab` (its key prefix, URL state class, per-run fields, how a state becomes
run configs, which worker function trains them); the page calls, in order::

    shown = LAB.open(LOCK_LABELS, formats)    # URL -> widget keys on the first visit, notices, locks
    ... the lab's own presets and run controls ...
    LAB.run_bar(shown)                        # state -> URL, Run / Stop, invalid runs, the view selector
    LAB.live(draw)                            # the fragment: poll the jobs, then draw(view)

and its views draw with :meth:`RunsLab.runs_or_hint`, :meth:`RunsLab.chart` and :meth:`RunsLab.export`.

Session keys of a lab with prefix ``P``: ``P:runs`` (list of :class:`normviz.training.jobs.Job`),
``P:running`` (True while some job is queued or running), the cell key (a shipped sweep cell
re-run live), ``P:figs`` (the chart cache), ``P:last_state`` (the state of the page's last run;
it survives page switches), ``P:notices``; each control's key is ``P.name`` (``P.norm0`` …).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd
import streamlit as st

from app_pages._live_chart import live_chart
from app_pages.kit import session_owner, show_locks, show_notices, training_service, write_url, wkey
from normviz.state import MAX_RUNS, PageState
from normviz.training import jobs

TICK_S = 0.25    # fragment period: each tick reads the runs' new snapshots
REDRAW_S = 1.0   # while training, a chart is rebuilt at most this often
SHARED = ("steps", "seed", "preset", "view", "lock")  # the state's fields that are not per run


def throttled(cache: dict, name: str, build: Callable, *, live: bool, now: float, period: float = REDRAW_S):
    """The figure ``name`` from ``cache`` (name -> (built at, figure)), rebuilt by ``build()`` when it is
    missing, when nothing is live any more, or when it is ``period`` seconds old.

    Building a plotly figure costs far more than re-sending one, so between rebuilds a live
    fragment re-sends the last figure (a fragment must re-emit its elements every tick).
    """
    hit = cache.get(name)
    if hit is None or not live or now - hit[0] >= period:
        hit = cache[name] = (now, build())
    return hit[1]


def progress(job: jobs.Job) -> None:
    """One run's line: where it is (queue position, step, test accuracy) or why it ended badly."""
    if job.status == "error":
        st.error(f"{job.label}: {job.message}", icon="🚫")
    elif job.status == "diverged":
        st.error(f"{job.label}: {job.message}", icon="💥")
    elif job.snapshots:
        last = job.snapshots[-1]
        st.progress(min(1.0, last["step"] / job.config.steps),
                    text=f"{job.label}: step {last['step']} / {job.config.steps} · test accuracy "
                         f"{last['test_acc']:.1%} · {job.message or job.status}")
    elif job.status == "queued":
        st.progress(0.0, text=f"{job.label}: {job.message}")


def _tick(lab: "RunsLab", draw: Callable[[str], None], after_refresh: Callable[[], None] | None) -> None:
    """Poll the service for the session's runs, then draw the open view (the body of the live fragment)."""
    ss = st.session_state
    if ss[lab.running]:
        for job in ss[lab.runs] + ss[lab.cell]:
            jobs.refresh(training_service(), job)
        if after_refresh is not None:
            after_refresh()
    draw(lab.view())
    if ss[lab.running] and not any(j.active for j in ss[lab.runs] + ss[lab.cell]):
        ss[lab.running] = False
        st.rerun()  # the whole page, so the fragment stops ticking and the buttons update


@dataclass(frozen=True)
class RunsLab:
    """One lab's runs: what differs between the training lab and the transformer lab.

    ``configs(state)`` gives (label, config or None, why it is invalid) per run; a config is trained by
    the worker function ``target``. ``coerce`` names the widget type of a per-run field whose URL
    value may come as another (a float field given "1" must seed a float ``number_input``); ``spare``
    is what a run column beyond ``n_runs`` is seeded with instead of the last run's value.
    ``views`` maps view keys to labels, the first is the default; ``live_exports`` offers the
    exports while the runs still train (of the runs that have snapshots).
    """

    prefix: str
    state_cls: type[PageState]
    per_run: tuple[str, ...]
    configs: Callable[[PageState], list[tuple[str, object, str]]]
    views: dict[str, str]
    cell_name: str = "cell"
    target: str = jobs.TARGET
    coerce: dict[str, Callable] = field(default_factory=dict)
    spare: dict[str, object] = field(default_factory=dict)
    invalid_prefix: str = ""
    png_prefix: str = "normviz-"
    live_exports: bool = False

    # The lab's session keys (see the module docstring).
    runs = property(lambda self: f"{self.prefix}:runs")
    cell = property(lambda self: f"{self.prefix}:{self.cell_name}")
    running = property(lambda self: f"{self.prefix}:running")
    last = property(lambda self: f"{self.prefix}:last_state")

    def k(self, name: str) -> str:
        return wkey(self.prefix, name)

    def view(self) -> str:
        return st.session_state.get(self.k("view")) or next(iter(self.views))

    # --- URL state <-> widgets ---

    def seed_widgets(self, state: PageState) -> None:
        """Set every control's session key from a state (URL, preset or the remembered state)."""
        ss, n = st.session_state, state.n_runs
        ss[self.k("n_runs")] = n
        for i in range(MAX_RUNS):
            for f in self.per_run:
                v = self.spare[f] if i >= n and f in self.spare else getattr(state, f)[min(i, n - 1)]
                ss[self.k(f"{f}{i}")] = self.coerce[f](v) if f in self.coerce else v
        for f in SHARED:
            ss[self.k(f)] = getattr(state, f)

    def state_from_widgets(self) -> PageState:
        ss = st.session_state
        last = ss.get(self.last) or self.state_cls()

        def get(name: str, i: int | None = None):
            # Streamlit forgets the keys of widgets that were not drawn (a run column that was hidden,
            # another page): fall back to the remembered state.
            key = self.k(name if i is None else f"{name}{i}")
            if key in ss and ss[key] is not None:
                return ss[key]
            v = getattr(last, name)
            return v[min(i, len(v) - 1)] if i is not None else v

        n = ss.get(self.k("n_runs")) or last.n_runs
        cols = {f: tuple(get(f, i) for i in range(n)) for f in self.per_run}
        shared = {f: get(f) for f in SHARED} | {"lock": tuple(get("lock"))}
        state, _ = self.state_cls(**cols, **shared).validate()
        return state

    # --- the jobs ---

    def submit(self, label: str, cfg, *, cell: tuple | None = None) -> jobs.Job:
        return jobs.submit(training_service(), session_owner(), label, cfg, cell=cell, target=self.target)

    def start_runs(self, state: PageState) -> None:
        ss = st.session_state
        self.stop_runs()
        ss[f"{self.prefix}:figs"] = {}
        ss[self.runs] = [jobs.invalid(label, err) if cfg is None else self.submit(label, cfg)
                         for label, cfg, err in self.configs(state)]
        ss[self.running] = any(j.active for j in ss[self.runs])

    def start_from_widgets(self) -> None:
        self.start_runs(self.state_from_widgets())

    def stop_runs(self) -> None:
        ss = st.session_state
        for job in ss.get(self.runs, []) + ss.get(self.cell, []):
            jobs.stop(training_service(), job)
        ss[self.running] = False

    def start_cell(self, label: str, cfg, *, cell: tuple | None = None) -> None:
        """Re-run one shipped sweep cell live (beside the page's runs)."""
        st.session_state[self.cell] = [self.submit(label, cfg, cell=cell)]
        st.session_state[self.running] = True

    # --- the page's parts ---

    def open(self, lock_labels: dict[str, str], formats: dict[str, Callable]) -> Callable[[str], bool]:
        """Session defaults, the URL read into the widget keys on the first visit (or the remembered
        state after a page switch), its notices, the teacher's locks; returns ``shown(field)``."""
        ss = st.session_state
        for key, empty in ((self.runs, []), (self.cell, []), (self.running, False)):
            ss.setdefault(key, empty)
        if self.k("n_runs") not in ss:  # first visit in this session (or after a page switch)
            params = {name: st.query_params.get_all(name) for name in st.query_params.keys()}
            if params or self.last not in ss:
                state, notices = self.state_cls.from_query(params)
            else:
                state, notices = ss[self.last], []
            self.seed_widgets(state)
            ss[f"{self.prefix}:notices"] = notices
        show_notices(self.prefix, ss.get(f"{self.prefix}:notices", []))
        locks = self.state_from_widgets()  # only its ``lock`` is used: the controls a teacher's link fixed
        show_locks(locks, lock_labels, formats)
        return lambda name: not locks.is_locked(name)

    def run_bar(self, shown: Callable[[str], bool]) -> PageState:
        """After the controls: their state (remembered, mirrored into the URL), Run and Stop, what is
        wrong with an invalid run, and the view selector. Returns the state."""
        ss = st.session_state
        state = self.state_from_widgets()
        ss[self.last] = state
        write_url(state)
        b1, b2, b3 = st.columns([1, 1, 3])
        b1.button("Run", key=f"{self.prefix}:run", icon=":material/play_arrow:", on_click=self.start_from_widgets,
                  disabled=ss[self.running])
        b2.button("Stop", key=f"{self.prefix}:stop", icon=":material/stop:", on_click=self.stop_runs,
                  disabled=not ss[self.running])
        for label, cfg, err in self.configs(state):
            if cfg is None:
                b3.error(f"{self.invalid_prefix}{label}: {err}", icon="🚫")
        if shown("view"):
            st.segmented_control("View", list(self.views), key=self.k("view"), format_func=self.views.get)
        return state

    def live(self, draw: Callable[[str], None], after_refresh: Callable[[], None] | None = None) -> None:
        """The fragment that ticks every TICK_S while runs are live: refresh the jobs (then
        ``after_refresh()``), ``draw(view)``, and rerun the page once every job has ended."""
        run_every = TICK_S if st.session_state[self.running] else None
        st.fragment(_tick, run_every=run_every)(self, draw, after_refresh)

    # --- the views' parts ---

    def runs_or_hint(self, run_jobs: list[jobs.Job]) -> list[tuple[str, list[dict]]]:
        """Each run's progress line; the (label, snapshots) to draw, or a hint when there are none."""
        for job in run_jobs:
            progress(job)
        runs = jobs.curves(run_jobs)
        if not runs:
            st.info("Nothing has run yet: press **Run**, or a preset above. Nothing starts by itself.", icon="ℹ️")
        return runs

    def chart(self, name: str, build: Callable, *, alt: str) -> None:
        """Draw ``build()`` (a plotly figure or None); while runs are live, rebuilt at most every REDRAW_S."""
        ss = st.session_state
        fig = throttled(ss.setdefault(f"{self.prefix}:figs", {}), name, build, live=ss[self.running],
                        now=time.perf_counter())
        if fig is not None:  # in place: a live run redraws the same div, the user's zoom stays
            live_chart(fig, key=f"{self.prefix}:{name}", alt=alt, png_name=f"{self.png_prefix}{name}")

    def export(self, run_jobs: list[jobs.Job], *, rows: Callable, snippet: Callable, stem: str) -> None:
        """Run log as CSV (``rows(snapshots, run=label)`` per run) and JSON, and each run's PyTorch code."""
        if self.live_exports:
            run_jobs = [j for j in run_jobs if j.snapshots]  # the runs that have a log so far
        elif st.session_state[self.running]:  # the logs are still growing; exports appear when the runs end
            st.caption("Exports (CSV, JSON, PyTorch code) appear when the runs end or are stopped.")
            return

        def csv_text() -> str:
            return pd.DataFrame([r for j in run_jobs for r in rows(j.snapshots, run=j.label)]).to_csv(index=False)

        def json_text() -> str:
            return json.dumps([{"label": j.label, "config": j.config.to_dict() if j.config else None,
                                "status": j.status, "message": j.message, "snapshots": j.snapshots}
                               for j in run_jobs])

        c1, c2, c3 = st.columns(3)
        c1.download_button("Run log (CSV)", csv_text, f"{stem}.csv", "text/csv", key=f"{self.prefix}:csv",
                           icon=":material/download:", on_click="ignore")
        c2.download_button("Run log (JSON)", json_text, f"{stem}.json", "application/json",
                           key=f"{self.prefix}:json", icon=":material/download:", on_click="ignore")
        with c3.popover("PyTorch code", icon=":material/code:"):
            for j in run_jobs:
                if j.config is not None:
                    st.markdown(f"**{j.label}**")
                    st.code(snippet(j.config), language="python")
