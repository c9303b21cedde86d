"""One browser session's training runs, as typed jobs in the :class:`TrainingService`.

A page keeps a list of :class:`Job` in its session state. :func:`submit` hands a config to the
service (which computes it in a worker process, shared with any other session that asks for the
same config); :func:`refresh` copies the service's view of the run into the job; :func:`stop`
releases it. The page only draws what the jobs hold.

A job runs any config dataclass with ``steps`` and ``to_dict()`` whose ``target`` function
(``"module:function"``, called in the worker with ``config=cfg.to_dict()``) yields snapshot dicts
with ``step``, ``test_acc``, ``diverged`` and, in the last one, ``message``: the training lab's
:class:`TrainConfig` (the default target) and the transformer lab's ``TransformerConfig``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from normviz.training.service import Ticket, TrainingService

TARGET = "normviz.training:snapshots"
ACTIVE = ("queued", "running")


@dataclass
class Job:
    """One run as a page sees it.

    ``status``: "queued", "running", "done", "diverged", "stopped" or "error"; ``message`` says
    why it ended (or where it waits); ``cell`` is the (norm, batch size, seed) of a re-run sweep
    cell; ``config`` (a TrainConfig, TransformerConfig, ...) is None for a run whose settings were
    invalid (``message`` says why).
    """

    label: str
    config: Any
    ticket: Ticket | None = None
    snapshots: list[dict] = field(default_factory=list)
    status: str = "queued"
    message: str = ""
    cell: tuple | None = None

    @property
    def active(self) -> bool:
        return self.ticket is not None and self.status in ACTIVE

    @property
    def step(self) -> int:
        return self.snapshots[-1]["step"] if self.snapshots else 0

    def __repr__(self) -> str:
        return f"Job({self.label!r}, {self.status}, step {self.step})"


def invalid(label: str, message: str) -> Job:
    """A run that could not be configured: shown with its message, never submitted."""
    return Job(label, None, status="error", message=message)


def submit(service: TrainingService, owner: str, label: str, config, *, cell: tuple | None = None,
           target: str = TARGET) -> Job:
    """Queue ``target(config=config.to_dict())`` in the service for ``owner`` (a browser session)."""
    ticket = service.submit(target, {"config": config.to_dict()}, owner=owner)
    return Job(label, config, ticket, cell=cell)


def curves(jobs: list[Job]) -> list[tuple[str, list[dict]]]:
    """(label, snapshots) of every job that has some: what the figure builders draw."""
    return [(j.label, j.snapshots) for j in jobs if j.snapshots]


def refresh(service: TrainingService, job: Job) -> None:
    """Copy the run's status and snapshots from the service (the training happens there)."""
    if job.ticket is None:
        return
    view = service.view(job.ticket)
    job.snapshots = list(view.snapshots)
    if view.status == "queued":
        job.status, job.message = "queued", f"waiting for a free worker (number {view.position} in line)"
    elif view.status == "running":
        job.status, job.message = "running", ""
    else:
        job.ticket = None
        last = job.snapshots[-1] if job.snapshots else None
        if view.status == "done" and last is not None:
            job.status, job.message = ("diverged" if last["diverged"] else "done"), last["message"]
        else:
            job.status, job.message = ("stopped" if view.status == "stopped" else "error"), view.message


def stop(service: TrainingService, job: Job) -> None:
    """Release the job's run (the service stops it if nobody else follows it)."""
    if job.ticket is not None:
        service.release(job.ticket)
        job.ticket = None
        if job.status in ACTIVE:
            job.status, job.message = "stopped", f"Stopped by you at step {job.step}."


def cell_result(job: Job) -> dict | None:
    """A finished sweep-cell re-run as a sweep cell (errors in %), or None."""
    if job.cell is None or job.status != "done" or not job.snapshots:
        return None
    last = job.snapshots[-1]
    norm, batch, seed = job.cell
    return {"norm": norm, "batch_size": batch, "seed": seed,
            "eval_error": round(100 * (1 - last["test_acc"]), 4),
            "train_mode_error": round(100 * (1 - last["train_mode_acc"]), 4)}
