"""Training runs for many browser sessions: worker processes, a shared cache, a fair queue.

A page asks for a run with :meth:`TrainingService.submit` and gets a :class:`Ticket`; every tick
it reads :meth:`TrainingService.view` (status, snapshots so far, queue position) and only draws.
The runs themselves execute in a bounded pool of worker processes
(:mod:`normviz.training.worker`), so training goes at library speed whatever the server is doing,
and the server stays responsive while it trains.

- **Same config, computed once.** A run is keyed by its target and arguments. Runs are
  deterministic, so a second session asking for the same run joins it while it is in flight and
  gets the finished snapshots at once afterwards (the last ``cache_runs`` finished runs are kept).
- **Reproducible.** A run executes in a worker of its ``numerics`` mode, "portable" by default
  (:mod:`normviz.numerics`), so it gives the same numbers on every x86-64 CPU: the same as the
  shipped precomputed results. Runs that time this CPU's kernels ask for "native" workers; the
  pool's size bounds both kinds together.
- **Fair.** Waiting runs start in turn across owners (one owner = one browser session): the next
  worker takes a run of the owner with the fewest runs in progress, oldest first. A view says
  where a waiting run is in line.
- **Nothing leaks.** A ticket not viewed for ``ttl`` seconds (a closed tab, another page) is
  released; a run that nobody follows any more is stopped, or dropped from the queue. A worker
  leaves as soon as its stdin closes, so workers end with the server; :meth:`close` stops them.
"""
from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from normviz.numerics import PORTABLE_ENV, ROOT

ACTIVE = ("queued", "running")


@dataclass(frozen=True)
class Ticket:
    """One owner's claim on one run (what a page keeps in its session state)."""

    id: int
    key: str
    owner: str


@dataclass(frozen=True)
class RunView:
    """What a page draws: the run's status, its snapshots so far, and its place in the queue.

    ``status``: "queued", "running", "done", "stopped" or "error"; ``position``: 1 for the next run
    to start (None unless queued); ``message``: why it ended (an error's sentence).
    """

    status: str
    snapshots: tuple
    message: str = ""
    position: int | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


@dataclass
class _Run:
    key: str
    target: str
    kwargs: dict
    kind: str
    numerics: str
    order: int
    status: str = "queued"
    snapshots: list = field(default_factory=list)
    message: str = ""
    owners: dict = field(default_factory=dict)  # ticket id -> (owner, last view time)
    worker: "_Worker | None" = None


class _Worker:
    """One worker process and the thread that reads its lines."""

    def __init__(self, service: "TrainingService", numerics: str):
        self.service, self.numerics = service, numerics
        self.run: _Run | None = None
        env = {k: v for k, v in os.environ.items() if k not in PORTABLE_ENV}
        if numerics == "portable":
            env.update(PORTABLE_ENV)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        self.proc = subprocess.Popen([sys.executable, "-m", "normviz.training.worker"], cwd=str(ROOT), env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, bufsize=1)
        self.ready = threading.Event()
        threading.Thread(target=self._read, name=f"training-worker-{self.proc.pid}", daemon=True).start()

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def send(self, msg: dict) -> None:
        try:
            self.proc.stdin.write(json.dumps(msg) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):  # it died; _read reports the run
            pass

    def _read(self) -> None:
        for line in self.proc.stdout:
            msg = json.loads(line)
            if msg.get("ready"):
                self.ready.set()
            else:
                self.service._on_message(self, msg)
        self.service._on_exit(self)

    def stop(self) -> None:
        if self.alive:
            self.send({"op": "exit"})
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=2)
            except (subprocess.TimeoutExpired, OSError):
                self.proc.kill()
                self.proc.wait()


class TrainingService:
    """Runs snapshot generators (``"module:function"`` + JSON kwargs) in worker processes.

    ``workers``: pool size, all numerics modes together (default: the CPU count, at most 4);
    ``cache_runs``: finished runs kept for reuse; ``ttl``: seconds a ticket survives without
    being viewed.
    """

    def __init__(self, *, workers: int | None = None, cache_runs: int = 64, ttl: float = 30.0):
        self.size = workers or max(1, min(4, os.cpu_count() or 1))
        self.cache_runs, self.ttl = cache_runs, ttl
        self._lock = threading.RLock()
        self._runs: dict[str, _Run] = {}
        self._finished: OrderedDict[str, None] = OrderedDict()  # LRU of finished run keys
        self._workers: list[_Worker] = []
        self._ids = itertools.count(1)
        self._closed = False

    def __repr__(self) -> str:
        with self._lock:
            counts = {s: sum(r.status == s for r in self._runs.values()) for s in ("queued", "running", "done")}
        return f"TrainingService({self.size} workers, {counts})"

    # -- what pages call ---------------------------------------------------------------------
    @staticmethod
    def run_key(target: str, kwargs: dict, kind: str = "stream", numerics: str = "portable") -> str:
        return f"{kind}:{numerics}:{target}" + json.dumps(kwargs, sort_keys=True)

    def submit(self, target: str, kwargs: dict, *, owner: str, kind: str = "stream",
               numerics: str = "portable") -> Ticket:
        """Ask for a run; join an identical one in flight, or reuse it finished.

        ``kind`` "stream": ``target`` is a generator function whose dicts are the snapshots;
        "call": a function taking ``progress(fraction, text)``, whose progress reports are the
        snapshots and whose return value is the last one, as ``{"result": ...}``.
        """
        if kind not in ("stream", "call"):
            raise ValueError(f"kind must be 'stream' or 'call', got {kind!r}.")
        if numerics not in ("portable", "native"):
            raise ValueError(f"numerics must be 'portable' or 'native', got {numerics!r}.")
        key = self.run_key(target, kwargs, kind, numerics)
        with self._lock:
            if self._closed:
                raise RuntimeError("the training service is closed")
            self._expire()
            run = self._runs.get(key)
            if run is None or run.status in ("stopped", "error"):
                run = _Run(key, target, dict(kwargs), kind, numerics, order=next(self._ids))
                self._runs[key] = run
                self._finished.pop(key, None)
            elif key in self._finished:
                self._finished.move_to_end(key)
            ticket = Ticket(next(self._ids), key, owner)
            run.owners[ticket.id] = (owner, time.monotonic())
            self._dispatch()
            return ticket

    def view(self, ticket: Ticket) -> RunView:
        """The run as it is now; viewing keeps the ticket alive."""
        with self._lock:
            self._expire()
            run = self._runs.get(ticket.key)
            if run is None or ticket.id not in run.owners and run.status in ACTIVE:
                return RunView("stopped", tuple(run.snapshots) if run else (), "Released (not viewed for a while).")
            if ticket.id in run.owners:
                run.owners[ticket.id] = (ticket.owner, time.monotonic())
            position = self._queue().index(run) + 1 if run.status == "queued" else None
            return RunView(run.status, tuple(run.snapshots), run.message, position)

    def release(self, ticket: Ticket) -> None:
        """Stop following a run; a run that nobody follows any more is stopped."""
        with self._lock:
            run = self._runs.get(ticket.key)
            if run is not None and run.owners.pop(ticket.id, None) is not None:
                self._abandon_if_orphan(run)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._workers = self._workers, []
        for w in workers:
            w.stop()

    def stats(self) -> dict:
        with self._lock:
            return {"workers": sum(w.alive for w in self._workers), "runs": len(self._runs),
                    "queued": len(self._queue()), "running": sum(r.status == "running" for r in self._runs.values()),
                    "cached": len(self._finished)}

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.proc.pid for w in self._workers if w.alive]

    # -- scheduling (called with the lock held) -------------------------------------------------
    def _queue(self) -> list[_Run]:
        """Waiting runs in the order they will start: fewest runs in progress per owner first."""
        waiting = [r for r in self._runs.values() if r.status == "queued" and r.owners]
        busy: dict[str, int] = {}
        for r in self._runs.values():
            if r.status == "running":
                for owner, _ in r.owners.values():
                    busy[owner] = busy.get(owner, 0) + 1
        order = []
        while waiting:
            nxt = min(waiting, key=lambda r: (min(busy.get(o, 0) for o, _ in r.owners.values()), r.order))
            order.append(nxt)
            waiting.remove(nxt)
            for o, _ in nxt.owners.values():
                busy[o] = busy.get(o, 0) + 1
        return order

    def _dispatch(self) -> None:
        """Start waiting runs on idle workers of their mode, starting (or swapping) workers
        while the pool has room."""
        self._workers = [w for w in self._workers if w.alive]
        for run in self._queue():
            idle = [w for w in self._workers if w.run is None]
            w = next((w for w in idle if w.numerics == run.numerics), None)
            if w is None and len(self._workers) >= self.size and idle:
                idle[0].stop()  # an idle worker of the other mode makes room
                self._workers.remove(idle[0])
            if w is None and len(self._workers) < self.size:
                w = _Worker(self, run.numerics)
                self._workers.append(w)
            if w is None:
                continue  # every worker is busy; a later run may still fit a free one
            run.status, run.worker, w.run = "running", w, run
            w.send({"op": "run", "id": run.key, "target": run.target, "kwargs": run.kwargs, "kind": run.kind})

    def _expire(self) -> None:
        now = time.monotonic()
        for run in list(self._runs.values()):
            stale = [t for t, (_, seen) in run.owners.items() if now - seen > self.ttl]
            for t in stale:
                del run.owners[t]
            if stale:
                self._abandon_if_orphan(run)

    def _abandon_if_orphan(self, run: _Run) -> None:
        if run.owners:
            return
        if run.status == "running":
            if run.worker is not None:
                run.worker.send({"op": "stop", "id": run.key})
        elif run.key not in self._finished:  # queued, stopped or failed: nothing to keep
            self._runs.pop(run.key, None)

    def _finish(self, run: _Run, status: str, message: str) -> None:
        run.status, run.message = status, message
        if run.worker is not None:
            run.worker.run = None
            run.worker = None
        if status == "done":
            self._finished[run.key] = None
            self._finished.move_to_end(run.key)
            while len(self._finished) > self.cache_runs:
                old, _ = self._finished.popitem(last=False)
                if not self._runs[old].owners:
                    del self._runs[old]
        elif not run.owners:
            self._runs.pop(run.key, None)

    # -- worker callbacks (reader threads) -------------------------------------------------------
    def _on_message(self, worker: _Worker, msg: dict) -> None:
        with self._lock:
            run = worker.run
            if run is None or run.key != msg.get("id"):
                return
            if "snap" in msg:
                run.snapshots.append(msg["snap"])
            else:
                self._finish(run, msg["end"], msg.get("message", ""))
                self._dispatch()

    def _on_exit(self, worker: _Worker) -> None:
        with self._lock:
            if worker.run is not None:
                self._finish(worker.run, "error", "The training process stopped unexpectedly; press Run to try again.")
            if worker in self._workers:
                self._workers.remove(worker)
            if not self._closed:
                self._dispatch()

