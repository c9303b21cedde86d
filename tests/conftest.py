"""Shared pytest set-up: the hypothesis profile and the browser-test fixtures.

Fixtures
--------
app_url  (session) the app served by ``streamlit run app.py`` on a free port;
         returns "http://127.0.0.1:PORT". With pytest-xdist each worker has its own.
browser  (session) Playwright Chromium (Debian's, /usr/bin/chromium or $CHROMIUM).
page     (function) a fresh 1280x800 context and page, closed after the test.

Without Chromium the browser tests skip outside CI; with CI=true they fail,
because CI must prove the pages open in a real browser.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
HEALTH_TIMEOUT_S = 60.0

# Flags for Debian's Chromium as root in a container. No --disable-gpu: plotly's
# scatter3d needs WebGL, which headless Chromium provides through SwiftShader.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

settings.register_profile(
    "ci",
    deadline=None,
    max_examples=60,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.read().decode().strip() == "ok"
    except OSError:
        return False


def start_streamlit(script: str | Path, cwd: Path = ROOT, timeout: float = HEALTH_TIMEOUT_S):
    """Start ``streamlit run script`` on a free port; return (process, url, log_path).

    Waits until ``/_stcore/health`` answers ``ok``; on timeout or early exit it
    stops the server and raises RuntimeError with the server log.
    """
    port = _free_port()
    log = tempfile.NamedTemporaryFile(prefix="streamlit-", suffix=".log", delete=False)
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.headless=true", "--server.port", str(port),
        "--server.address=127.0.0.1", "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none",
    ]
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if _healthy(url):
            return proc, url, Path(log.name)
        time.sleep(0.1)
    stop_streamlit(proc)
    text = Path(log.name).read_text(errors="replace")
    raise RuntimeError(
        f"streamlit did not become healthy within {timeout:.0f} s "
        f"(exit code {proc.returncode}); log {log.name}:\n{text}"
    )


def stop_streamlit(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def serve(script: str | Path):
    """A module fixture's body: ``yield from serve(DEMO)`` yields the URL of ``script`` served, and
    stops the server (and drops its log) when the module is done."""
    proc, url, log = start_streamlit(script)
    try:
        yield url
    finally:
        stop_streamlit(proc)
        log.unlink(missing_ok=True)


_app_log: Path | None = None  # log of this worker's app server, shown when a test fails


@pytest.fixture(scope="session")
def app_url():
    global _app_log
    proc, url, log = start_streamlit("app.py")
    _app_log = log
    yield url
    stop_streamlit(proc)
    _app_log = None
    log.unlink(missing_ok=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach the tail of the app server's log to a failing browser test: users see
    no tracebacks (showErrorDetails = "none"), so the server log is where they are."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and "app_url" in item.fixturenames and _app_log and _app_log.exists():
        tail = "\n".join(_app_log.read_text(errors="replace").splitlines()[-80:])
        rep.sections.append(("streamlit server log (last 80 lines)", tail))


def _no_browser(reason: str):
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: browser tests must run; install with `make chromium`)")
    pytest.skip(f"{reason}; install Debian's chromium (`make chromium`) to run browser tests")


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        _no_browser(f"Chromium not found at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:  # pragma: no cover - playwright is in requirements-dev
        _no_browser(f"playwright is not installed ({e})")
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception:
        pw.stop()
        raise
    yield b
    b.close()
    pw.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    yield pg
    context.close()
