"""deploy/nginx.conf on loopback: Debian's nginx in front of two app processes.

What a class on more than one server process needs from the proxy (deploy/compose.yaml):
a browser's page load and its websocket reach the same replica, browsers spread over the
replicas, and when one replica dies only its sessions are lost: they reconnect to the other
replica and get a working page again, while the other replica's sessions carry on.

The config under test is the shipped file with only its upstream list, listen port and temp
paths rewritten for loopback.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.browser_utils import goto, wait_for_app
from tests.conftest import ROOT, _free_port, start_streamlit, stop_streamlit

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CONF = ROOT / "deploy" / "nginx.conf"

pytestmark = pytest.mark.browser


def render_conf(upstreams: list[str], port: int, tmp: Path) -> str:
    """The shipped config with loopback upstreams, a free listen port and private temp paths."""
    text = CONF.read_text()
    servers = "\n".join(f"        server {u} max_fails=1 fail_timeout=10s;" for u in upstreams)
    text, n = re.subn(r"# UPSTREAMS-BEGIN.*?# UPSTREAMS-END", servers, text, flags=re.S)
    assert n == 1, "deploy/nginx.conf lost its UPSTREAMS-BEGIN/END markers"
    text = text.replace("listen 8080;", f"listen 127.0.0.1:{port};")
    text = text.replace("/tmp/normviz-nginx", str(tmp / "nginx"))
    return text.replace("worker_processes auto;", "worker_processes 1;")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Two app replicas and nginx: yields (proxy_url, {replica address: process})."""
    if not Path(NGINX).exists():
        pytest.fail("nginx not found: `apt-get install -y nginx` (Debian's), see .ci/run")
    tmp = tmp_path_factory.mktemp("proxy")
    replicas = {}
    for _ in range(2):
        proc, url, _log = start_streamlit("app.py")
        replicas[url.removeprefix("http://")] = proc
    port = _free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(render_conf(list(replicas), port, tmp))
    check = subprocess.run([NGINX, "-t", "-c", str(conf), "-p", str(tmp)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    nginx = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp), "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=2)
            break
        except OSError:
            time.sleep(0.1)
    yield url, replicas
    nginx.terminate()
    nginx.wait(timeout=10)
    for proc in replicas.values():
        stop_streamlit(proc)


def replica_for(url: str, route: str | None) -> tuple[str, str | None]:
    """(replica address that answered, Set-Cookie route if one was set) for a request with ``route``."""
    req = urllib.request.Request(url + "/_stcore/health")
    if route:
        req.add_header("Cookie", f"normviz_route={route}")
    with urllib.request.urlopen(req, timeout=10) as r:
        cookies = r.headers.get_all("Set-Cookie") or []
        routes = [m.group(1) for c in cookies if (m := re.match(r"normviz_route=([0-9a-f]+);", c))]
        return r.headers["X-Normviz-Replica"], (routes[0] if routes else None)


def routes_by_replica(url: str, n: int = 40) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for _ in range(n):
        route = uuid.uuid4().hex
        found.setdefault(replica_for(url, route)[0], []).append(route)
    return found


def test_a_browser_stays_on_its_replica_and_browsers_spread(cluster):
    url, replicas = cluster
    first, route = replica_for(url, None)
    assert route, "the first response must set the route cookie"
    assert first in replicas
    assert {replica_for(url, route)[0] for _ in range(20)} == {first}
    assert replica_for(url, route)[1] is None, "a browser that has the cookie must not get a new one"
    spread = routes_by_replica(url)
    assert set(spread) == set(replicas), f"40 browsers all went to {set(spread)}"


def test_killing_a_replica_loses_only_its_sessions(cluster, browser):
    url, replicas = cluster
    spread = routes_by_replica(url)
    (dead, routes_dead), (alive, routes_alive) = sorted(spread.items())
    pages = {}
    for name, route in (("dead", routes_dead[0]), ("alive", routes_alive[0])):
        ctx = browser.new_context(viewport={"width": 1280, "height": 800})
        ctx.add_cookies([{"name": "normviz_route", "value": route, "url": url}])
        pages[name] = ctx.new_page()
        goto(pages[name], url + "/cube")
    # The websocket of each session is on its own replica: the session lives there.
    replicas[dead].kill()
    replicas[dead].wait(timeout=10)

    # The other replica's session carries on: a rerun through its websocket works.
    alive_page = pages["alive"]
    alive_page.get_by_role("link", name="Image lab").first.click()
    wait_for_app(alive_page)
    assert "/image" in alive_page.url
    assert alive_page.locator('[data-testid="stException"]').count() == 0

    # The dead replica's browser reconnects through the proxy to the survivor and works again.
    dead_page = pages["dead"]
    dead_page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]',
                                timeout=60000)
    wait_for_app(dead_page)
    assert replica_for(url, routes_dead[0])[0] == alive
    dead_page.get_by_role("link", name="Image lab").first.click()
    wait_for_app(dead_page)
    assert dead_page.locator('[data-testid="stException"]').count() == 0
    for p in pages.values():
        p.context.close()
