"""The set-up itself: pinned requirements, Makefile, CI script, config, Dockerfile,
and that `import normviz` stays light (no torch, sklearn or streamlit)."""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "sklearn", "streamlit")


def pins(name: str) -> dict[str, str]:
    """name -> version of every `name==version` line of a requirements file."""
    out = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==([^\s;]+)", line)
        assert m, f"{name}: '{line}' is not pinned exactly (use name==version)"
        out[m.group(1).lower().replace("_", "-")] = m.group(2)
    return out


def test_torch_is_pinned_exactly():
    # A looser torch specifier pulls a multi-GB CUDA build (design.md §6).
    assert pins("requirements.txt")["torch"] == "2.13.0"


@pytest.mark.parametrize("name", ["requirements.txt", "requirements-dev.txt", "constraints.txt"])
def test_requirements_are_exact_pins(name):
    assert pins(name), f"{name} pins nothing"


def test_dev_requirements_include_runtime():
    lines = [ln.strip() for ln in (ROOT / "requirements-dev.txt").read_text().splitlines()]
    assert "-r requirements.txt" in lines


def test_constraints_agree_with_requirements():
    constraints = pins("constraints.txt")
    for name in ("requirements.txt", "requirements-dev.txt"):
        for pkg, ver in pins(name).items():
            assert constraints.get(pkg) == ver, f"{pkg}: {name} says {ver}, constraints.txt says {constraints.get(pkg)}"


def test_installed_versions_match_pins():
    wanted = pins("requirements.txt") | pins("requirements-dev.txt")
    for pkg, ver in wanted.items():
        got = Version(metadata.version(pkg))
        # torch's CPU wheels carry a local label (2.13.0+cpu); the pin matches it too.
        assert got.public == Version(ver).public, f"{pkg}: installed {got}, pinned {ver}"


def test_import_normviz_is_light():
    code = (
        "import json, sys, normviz, normviz.norms; "
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    heavy = json.loads(out.stdout.strip().splitlines()[-1])
    assert heavy == [], f"`import normviz` pulled in {heavy[:10]}"


def make_dry_run(*args: str) -> str:
    out = subprocess.run(["make", "-n", "-B", *args], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_make_test_installs_pins_and_runs_pytest():
    cmds = make_dry_run("test")
    assert "-r requirements-dev.txt" in cmds and "-c constraints.txt" in cmds
    assert "-m pytest" in cmds
    assert "--extra-index-url" not in cmds  # TORCH_INDEX is unset by default
    assert "apt-get" not in cmds


def test_make_torch_index_reaches_pip():
    idx = "https://example.invalid/whl/cpu"
    cmds = make_dry_run("install", f"TORCH_INDEX={idx}")
    assert f"--extra-index-url {idx}" in cmds


def test_make_run_serves_on_8501():
    cmds = make_dry_run("run")
    assert "-m streamlit run app.py --server.port 8501 --server.address localhost" in cmds


def test_ci_script_is_strict_and_runs_make_test():
    path = ROOT / ".ci" / "run"
    text = path.read_text()
    assert path.stat().st_mode & 0o111, ".ci/run is not executable"
    assert "set -euo pipefail" in text
    # Debian's chromium (browser tests) and nginx (the proxy test) are installed when missing.
    assert "apt-get install -y" in text and "need+=(chromium)" in text and "need+=(nginx)" in text
    assert re.search(r"^make test$", text, re.M)
    assert subprocess.run(["bash", "-n", str(path)]).returncode == 0
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme


def test_streamlit_config():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["headless"] is True
    assert cfg["server"]["fileWatcherType"] == "none"
    assert 0 < cfg["server"]["maxUploadSize"] <= 50
    assert cfg["browser"]["gatherUsageStats"] is False
    assert cfg["client"]["showErrorDetails"] == "none"
    # A full gc.collect(2) after every run costs ~190 ms of GIL with torch loaded (bench/bench_class_ws.py).
    assert cfg["runner"]["postScriptGC"] is False
    colors = cfg["theme"]["chartCategoricalColors"]
    assert len(colors) == 8 and all(re.fullmatch(r"#[0-9A-F]{6}", c) for c in colors)


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, comments dropped, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_by_the_book():
    ins = dockerfile()
    known = {"FROM", "ARG", "ENV", "RUN", "WORKDIR", "COPY", "USER", "EXPOSE", "HEALTHCHECK", "CMD"}
    assert {w for w, _ in ins} <= known, "unknown Dockerfile instruction"
    assert ins[0] == ("FROM", "python:3.11-slim")
    args = {w: [a for x, a in ins if x == w] for w in known}
    assert args["WORKDIR"] == ["/app"]
    assert args["EXPOSE"] == ["8501"]
    assert len(args["USER"]) == 1 and args["USER"][0] not in ("root", "0")
    assert any("--uid 1000" in r and args["USER"][0] in r for r in args["RUN"])
    assert "/_stcore/health" in args["HEALTHCHECK"][0]
    cmd = json.loads(args["CMD"][0])  # exec form
    assert cmd[:3] == ["streamlit", "run", "app.py"] and "--server.port=8501" in cmd
    assert "--server.headless=true" in cmd


def test_dockerfile_installs_requirements_before_code():
    ins = dockerfile()
    words = [w for w, _ in ins]
    pip = next(i for i, (w, a) in enumerate(ins) if w == "RUN" and "pip install" in a)
    assert "-r requirements.txt" in ins[pip][1] and "-c constraints.txt" in ins[pip][1]
    assert "TORCH_INDEX" in ins[pip][1]
    copies = [i for i, w in enumerate(words) if w == "COPY"]
    assert copies[0] < pip < copies[-1], "requirements must be installed before the code is copied"
    assert words.index("USER") > pip
    for i in copies:
        srcs = [s for s in shlex.split(ins[i][1]) if not s.startswith("--")][:-1]
        for src in srcs:
            assert (ROOT / src).exists(), f"Dockerfile copies {src}, which does not exist"


def test_dockerignore_keeps_venv_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored
    for needed in ("app.py", "app_pages", "normviz", ".streamlit", "data"):
        assert needed not in ignored, f".dockerignore drops {needed}, which the app needs"


def test_app_pages_exist():
    text = (ROOT / "app.py").read_text()
    paths = re.findall(r"st\.Page\(\s*[\"']([^\"']+)[\"']", text)
    assert "app_pages/home.py" in paths
    for p in paths:
        assert (ROOT / p).is_file(), f"app.py lists {p}, which does not exist"


@pytest.mark.parametrize("ci", ["true", ""])
def test_missing_chromium_fails_in_ci_and_skips_elsewhere(tmp_path, ci):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_b.py").write_text("def test_b(browser):\n    assert browser.is_connected()\n")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env |= {"CHROMIUM": str(tmp_path / "no-chromium"), "PYTHONPATH": str(ROOT / "tests")}
    if ci:
        env["CI"] = ci
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "conftest", "-q", "-rs", "test_b.py"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    if ci:
        assert out.returncode == 1, out.stdout
        assert "CI=true: browser tests must run" in out.stdout and "1 error" in out.stdout
    else:
        assert out.returncode == 0, out.stdout
        assert "1 skipped" in out.stdout and "Chromium not found" in out.stdout
