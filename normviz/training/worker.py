"""A training worker process: runs snapshot generators and streams them back as JSON lines.

Started by :class:`normviz.training.service.TrainingService` as ``python -m
normviz.training.worker``, with the service's numerics mode in its environment. It imports torch
and loads the digits once, then runs one job at a time for as long as its parent lives.

Protocol (one JSON object per line):

- stdin, from the service: ``{"op": "run", "id": ID, "target": "module:function", "kwargs": {...},
  "kind": "stream" | "call"}``. A "stream" target is a generator function yielding JSON-ready
  dicts, each sent back as a snapshot. A "call" target is a function taking a
  ``progress(fraction, text)`` callback (if its signature has one): each call is sent back as ``{"progress", "text"}`` and
  the return value last, as ``{"result": ...}``; a stop request raises inside the callback.
  ``{"op": "stop", "id": ID}`` stops that job at its next snapshot; ``{"op": "exit"}``.
- stdout, to the service: ``{"id": ID, "snap": {...}}`` per yielded dict, then
  ``{"id": ID, "end": STATUS, "message": TEXT}`` with STATUS "done", "stopped" or "error"
  (a ``ValueError``'s sentence, or the last line of any other exception).
"""
from __future__ import annotations

import importlib
import inspect
import json
import os
import queue
import sys
import threading


WORKER_NICENESS = 10  # added to the server's; Linux gives a nice-10 process ~1/10 the CPU share of a nice-0 one
_PROTOCOL = None  # the real stdout; sys.stdout goes to stderr so a stray print cannot break a line


def _send(msg: dict) -> None:
    _PROTOCOL.write(json.dumps(msg) + "\n")  # NaN stays NaN: both ends are Python
    _PROTOCOL.flush()


class _Stopped(Exception):
    """Raised inside a ``call`` job's progress callback when the service stops the job."""


def _run(job: dict, stopped: set, lock: threading.Lock) -> None:
    job_id = job["id"]
    module, _, name = job["target"].partition(":")

    def stop_requested() -> bool:
        with lock:
            return job_id in stopped

    def progress(fraction: float, text: str) -> None:
        if stop_requested():
            raise _Stopped
        _send({"id": job_id, "snap": {"progress": float(fraction), "text": str(text)}})

    try:
        fn = getattr(importlib.import_module(module), name)
        if job.get("kind") == "call":
            extra = {"progress": progress} if "progress" in inspect.signature(fn).parameters else {}
            _send({"id": job_id, "snap": {"result": fn(**job["kwargs"], **extra)}})
        else:
            gen = fn(**job["kwargs"])
            for snap in gen:
                if stop_requested():
                    gen.close()
                    raise _Stopped
                _send({"id": job_id, "snap": snap})
    except _Stopped:
        _send({"id": job_id, "end": "stopped", "message": "Stopped."})
        return
    except ValueError as err:
        _send({"id": job_id, "end": "error", "message": str(err)})
        return
    except Exception as err:  # noqa: BLE001 - reported to the page as a message, never a traceback
        _send({"id": job_id, "end": "error", "message": f"The run failed: {type(err).__name__}: {err}"})
        return
    _send({"id": job_id, "end": "done", "message": ""})


def main() -> int:
    global _PROTOCOL
    _PROTOCOL = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    from normviz import numerics

    # Training is batch work next to a server answering clicks: on a small machine the workers would
    # otherwise take every core and a class's reruns would wait behind them. Niceness only matters
    # when the CPU is contended; an idle machine runs the worker at full speed.
    os.nice(WORKER_NICENESS)
    if numerics.mode() == "portable":  # the service asked for it through the environment
        numerics.use_portable()
    from normviz.training import TrainConfig, load_data

    load_data(TrainConfig())  # torch, scikit-learn and the digits, once, before the first job
    jobs: queue.Queue = queue.Queue()
    stopped: set = set()
    lock = threading.Lock()

    def read_commands() -> None:
        for line in sys.stdin:
            msg = json.loads(line)
            if msg["op"] == "stop":
                with lock:
                    stopped.add(msg["id"])
            else:
                jobs.put(msg)
        # The service closed our stdin: it stopped us, or its process died (the kernel closes the
        # pipe then). Either way, leave now, even in the middle of a job. (Not PR_SET_PDEATHSIG:
        # it fires when the *thread* that started us ends, and Streamlit's script threads end.)
        os._exit(0)

    threading.Thread(target=read_commands, daemon=True).start()
    _send({"ready": True})
    while True:
        job = jobs.get()
        if job["op"] == "exit":
            return 0
        with lock:
            skip = job["id"] in stopped
        if skip:
            _send({"id": job["id"], "end": "stopped", "message": "Stopped before it started."})
        else:
            _run(job, stopped, lock)


if __name__ == "__main__":
    sys.exit(main())
