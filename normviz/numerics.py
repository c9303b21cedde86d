"""Portable numerics: the same training numbers, bit for bit, on every x86-64 CPU.

Why a mode is needed. torch chooses its CPU kernels by the machine it runs on: ATen's
vectorised kernels by instruction set (AVX-512, AVX2 or the baseline ``default`` build), MKL's
BLAS by CPU family, oneDNN's and NNPACK's convolutions by instruction set and cache sizes.
Float addition is not associative, so each path rounds differently in the last bit, and a few
hundred SGD steps amplify that into a different final network. Measured on one GroupNorm sweep
cell (batch 64, seed 0, 375 steps): 2.23 % test error on the AVX-512 machine that first shipped
it, 2.79 % on an AVX2 AMD EPYC, 2.51 % on the same EPYC with ATen's default kernels.

Portable mode pins every one of those choices, so the bits no longer depend on the CPU:

==============================  =================================================================
``ATEN_CPU_CAPABILITY=default``  ATen's kernels built for baseline x86-64 (SSE2), on every CPU
``MKL_CBWR=COMPATIBLE``          MKL's conditional bitwise reproducibility: one BLAS code path
oneDNN and NNPACK off            convolutions through ATen's im2col + MKL GEMM (oneDNN's JIT and
                                 NNPACK pick their kernels by the CPU's instruction set)
one thread                       no reduction is split differently across threads
==============================  =================================================================

The environment variables are read when torch (and MKL) first start, so the mode must be set
before torch is imported: :func:`use_portable` does that for a whole process (the precompute
commands call it first), :func:`run_portable` runs one function in a fresh interpreter that
has it (tests and pages that must reproduce shipped numbers use it).

Verified bit-identical (``docs/reproducibility.md``): an AMD EPYC with AVX2 and FMA, and under
QEMU's CPU emulation an Intel Nehalem (SSE4.2, no AVX, no FMA) and an Intel Haswell (AVX2 +
FMA), on the training lab's MLP (sigmoid, BN) and CNN (IN, BIN) and a GN sweep cell. Scope:
x86-64 with the pinned torch wheel; another architecture (ARM) or another torch build has other
kernels and reproduces only within the tolerances the tests state. What the mode costs is
measured by ``bench/bench_numerics.py``.
"""
from __future__ import annotations

import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

PORTABLE_ENV = {
    "ATEN_CPU_CAPABILITY": "default",
    "MKL_CBWR": "COMPATIBLE",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
# The order in which x86-64 instruction-set levels are reported (best last).
_ISA_LEVELS = (("sse4_2", "SSE4.2"), ("avx", "AVX"), ("avx2", "AVX2"), ("avx512f", "AVX-512"))


def use_portable() -> None:
    """Put this process in portable mode. Call it before anything imports torch.

    Raises ``RuntimeError`` if torch was already imported with another kernel level: its kernel
    choice is fixed at start-up, so such a process cannot switch (use :func:`run_portable`).
    """
    if "torch" in sys.modules and mode() != "portable":
        import torch

        if torch.backends.cpu.get_cpu_capability() != "DEFAULT":
            raise RuntimeError(
                "torch was imported before use_portable(), with its "
                f"{torch.backends.cpu.get_cpu_capability()} kernels; portable mode must be set before "
                "the first `import torch` (or run the function with normviz.numerics.run_portable).")
    os.environ.update(PORTABLE_ENV)
    import torch

    torch.backends.mkldnn.enabled = False
    torch.backends.nnpack.set_flags(False)
    torch.set_num_threads(1)


def mode() -> str:
    """``"portable"`` if every pin of the mode is in effect in this process, else ``"native"``."""
    if "torch" not in sys.modules:
        return "portable" if all(os.environ.get(k) == v for k, v in PORTABLE_ENV.items()) else "native"
    import torch

    pinned = (torch.backends.cpu.get_cpu_capability() == "DEFAULT"
              and os.environ.get("MKL_CBWR") == PORTABLE_ENV["MKL_CBWR"]
              and not torch.backends.mkldnn.enabled and not torch._C._get_nnpack_enabled())
    return "portable" if pinned else "native"


def cpu_isa() -> str:
    """The best x86-64 vector instruction-set level of this CPU (from /proc/cpuinfo), or the
    machine name elsewhere."""
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("flags")).split()
    except (OSError, StopIteration):
        return platform.machine()
    have = [label for flag, label in _ISA_LEVELS if flag in flags]
    return have[-1] if have else "SSE2"


def cpu_name() -> str:
    try:
        return next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def describe() -> dict:
    """How numbers made in this process reproduce: what shipped results record beside them."""
    import torch

    return {
        "mode": mode(),
        "cpu": cpu_name(),
        "cpu_isa": cpu_isa(),
        "torch_kernels": torch.backends.cpu.get_cpu_capability(),
        "threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def rerun_line(shipped: dict | None) -> str:
    """The one line a page shows beside "re-run live": how a live run compares with shipped
    numbers whose ``numerics`` record (:func:`describe`) is ``shipped``."""
    shipped = shipped or {}
    where = f"a {shipped.get('cpu_isa', 'an unrecorded')} CPU with torch {shipped.get('torch', '?')}"
    if shipped.get("mode") == "portable":
        return ("Live runs here use portable numerics (ATen's default kernels, reproducible MKL, one thread), "
                f"so they give the shipped numbers bit for bit on any x86-64 CPU (these were made on {where}).")
    return (f"The shipped numbers were measured natively on {where}; a live run measures this CPU, so its "
            "numbers differ with the machine and its load.")


# --------------------------------------------------------------------------------------------
# One function in a fresh portable interpreter


def _resolve(target: str):
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def run_portable(target: str, timeout: float | None = None, **kwargs) -> Any:
    """Call ``target`` (``"module:function"``) with JSON-able ``kwargs`` in a fresh interpreter
    in portable mode, and return its JSON result (see :func:`run_fresh`)."""
    return run_fresh(target, "portable", timeout=timeout, **kwargs)


def run_fresh(target: str, numerics: str, timeout: float | None = None, **kwargs) -> Any:
    """Call ``target`` with JSON-able ``kwargs`` in a fresh interpreter in mode ``numerics``
    (``"portable"`` or ``"native"``) and return its JSON result.

    A ``ValueError`` raised there is raised here with the same message; any other failure
    becomes a ``RuntimeError`` with the child's last lines of output.
    """
    if numerics not in ("portable", "native"):
        raise ValueError(f"numerics must be 'portable' or 'native', got {numerics!r}.")
    env = {k: v for k, v in os.environ.items() if k not in PORTABLE_ENV}
    if numerics == "portable":
        env.update(PORTABLE_ENV)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    with tempfile.TemporaryDirectory(prefix="normviz-fresh-") as tmp:
        out = Path(tmp) / "result.json"
        proc = subprocess.run([sys.executable, "-m", "normviz.numerics", target, json.dumps(kwargs), str(out)],
                              cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=timeout)
        if out.exists():
            doc = json.loads(out.read_text())
            if "error" in doc:
                raise ValueError(doc["error"])
            return doc["result"]
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise RuntimeError(f"{target} failed in its fresh process (exit {proc.returncode}): {tail}")


def _main(argv: list[str]) -> int:
    target, kwargs, out = argv
    if mode() == "portable":  # run_fresh put the mode in the environment
        use_portable()
    try:
        result = _resolve(target)(**json.loads(kwargs))
    except ValueError as err:
        Path(out).write_text(json.dumps({"error": str(err)}))
        return 1
    Path(out).write_text(json.dumps({"result": result}))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
