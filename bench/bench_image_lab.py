"""Image lab: rerun round trip after a slider change vs a trivial app's, and peak RSS with uploads.

Both servers run in the same process tree and the same Chromium, alternating reps:
  trivial:   a one-slider app (`st.slider` + `st.write`).
  image lab: a 1024×768 photo uploaded through the real file input (N = 7 with the six
             samples), then one slider per view moved with the keyboard:
             side by side (ρ), what each norm erases (a), feature space (ρ), style (α).
The round trip is measured in the browser: from just before the key press to the moment
stApp's data-test-script-state returns to "notRunning" (script finished, all deltas sent),
with a MutationObserver so sub-frame changes are not missed. Medians over --reps moves
(alternating right/left, so every move is a real change and a cache miss for the new value
at first; later reps hit the page's content-hash caches, as a user moving a slider back does).

Then 10 large JPEG uploads (4000×3000 each) at once: the server's peak RSS (VmHWM) before
and after, and the time until the page is idle again.

Run: .venv/bin/python bench/bench_image_lab.py [--reps 10]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import CHROMIUM, CHROMIUM_ARGS, start_streamlit, stop_streamlit  # noqa: E402

TRIVIAL = 'import streamlit as st\nv = st.slider("x", 0, 100, 50)\nst.write(f"value {v}")\n'
# The floor of an image view: the trivial app plus what the "Side by side" tab sends on a move, eight
# PNG rows of seven 128×128 images (a smooth pattern that moves with the slider, so every row is a
# new PNG of about the lab's size), with no normalization computed.
IMAGE_FLOOR = TRIVIAL + """import io
import numpy as np
from PIL import Image
yy, xx = np.mgrid[0:128, 0:7 * 130]
for row in range(8):
    a = 0.5 + 0.25 * np.sin((xx + 3 * v) / (9 + row)) + 0.25 * np.cos((yy - 2 * v) / (11 + row))
    rgb = (np.stack([a, a[::-1], 1 - a], axis=2) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    st.image(buf.getvalue(), output_format="PNG", width="stretch")
"""
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
# time of every message the page receives from the server (the last one of a rerun ends it)
WS_SPY = """
window.__msgs = [];
const _WS = window.WebSocket;
window.WebSocket = function (...a) {
  const ws = new _WS(...a);
  ws.addEventListener('message', () => window.__msgs.push(performance.now()));
  return ws;
};
window.WebSocket.prototype = _WS.prototype;
Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
"""

OBSERVE = """
() => {
  const app = document.querySelector('[data-testid="stApp"]');
  window.__runs = [];
  if (window.__obs) window.__obs.disconnect();
  window.__obs = new MutationObserver(() => {
    window.__runs.push([app.getAttribute('data-test-script-state'), performance.now()]);
  });
  window.__obs.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}
"""
DONE = """
([t0, text]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const r = window.__runs.filter(x => x[1] >= t0);
  const i = r.findIndex(x => x[0] === 'running');
  if (i >= 0) {
    const j = r.slice(i).findIndex(x => x[0] === 'notRunning');
    if (j >= 0) return r[i + j][1] - t0;
  }
  // very fast reruns can flip running -> notRunning inside one React commit (no mutation):
  // then the new text on screen, with the app idle, marks the end
  if (text && app.getAttribute('data-test-script-state') === 'notRunning'
      && document.body.innerText.includes(text)) return performance.now() - t0;
  // or: idle, and no message from the server for 400 ms: the last message ended the rerun
  const m = window.__msgs.filter(x => x >= t0);
  if (!text && m.length && app.getAttribute('data-test-script-state') === 'notRunning'
      && performance.now() - m[m.length - 1] > 400) return m[m.length - 1] - t0;
  return null;
}
"""


def photo(path: Path, w: int = 1024, h: int = 768, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([0.5 + 0.4 * np.sin(xx / (17 + 7 * seed)), 0.4 + 0.3 * ((xx // 64 + yy // 64) % 2),
                     0.3 + 0.2 * yy / h], axis=2)
    arr = np.clip(base + rng.normal(0, 0.03, base.shape), 0, 1)
    Image.fromarray((arr * 255).astype(np.uint8)).save(path, "JPEG", quality=90)
    return path


def wait_idle(page, timeout=120000):
    page.wait_for_timeout(200)
    page.locator(IDLE).wait_for(state="attached", timeout=timeout)
    page.wait_for_timeout(200)
    page.locator(IDLE).wait_for(state="attached", timeout=timeout)


def round_trip(page, slider, key: str, text: str | None = None) -> float:
    """ms from the key press on ``slider`` to the end of the rerun it triggers.

    ``text``: what the page shows once the rerun is done (for reruns too fast to observe).
    """
    page.bring_to_front()  # a background tab is throttled
    page.evaluate(OBSERVE)
    slider.focus()
    t0 = page.evaluate("performance.now()")
    page.keyboard.press(key)
    handle = page.wait_for_function(DONE, arg=[t0, text], timeout=120000, polling="raf")
    ms = handle.json_value()
    wait_idle(page)
    return ms


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return float("nan")


def vm_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=10)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="bench_image_lab_"))
    (tmp / "trivial.py").write_text(TRIVIAL)
    (tmp / "floor.py").write_text(IMAGE_FLOOR)
    p_triv, url_triv, _ = start_streamlit(tmp / "trivial.py", cwd=tmp)
    p_floor, url_floor, _ = start_streamlit(tmp / "floor.py", cwd=tmp)
    p_lab, url_lab, _ = start_streamlit("app.py")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + [
                "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                "--disable-backgrounding-occluded-windows"])
            ctx = browser.new_context(viewport={"width": 1280, "height": 800})
            ctx.add_init_script(WS_SPY)
            triv = ctx.new_page()
            triv.goto(url_triv)
            wait_idle(triv)
            lab = ctx.new_page()
            lab.goto(f"{url_lab}/image_lab")
            wait_idle(lab)
            lab.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(photo(tmp / "photo.jpg")))
            lab.get_by_text("N = 7, 1 uploaded", exact=False).wait_for(timeout=120000)
            wait_idle(lab)

            # (tab, slider, first key): moves alternate between two values, so the first move
            # recomputes and later ones hit the caches; ρ is shared by two tabs, hence opposite keys.
            views = [("Side by side", "last", "ArrowRight"), ("What each norm erases", "first", "ArrowRight"),
                     ("Feature space", "last", "ArrowLeft"), ("Style (AdaIN)", "last", "ArrowLeft")]
            results = {"trivial": []}
            for tab, _, _ in views:
                results[tab] = []
            floor = ctx.new_page()
            floor.goto(url_floor)
            wait_idle(floor)
            results["floor"] = []
            fslider, fval = floor.get_by_role("slider").first, 50
            tkey, tval = "ArrowRight", 50
            for tab, which, key in views:
                lab.get_by_role("tab", name=tab).click()
                wait_idle(lab)
                sliders = lab.get_by_role("slider")
                slider = sliders.first if which == "first" else sliders.last
                tslider = triv.get_by_role("slider").first
                for r in range(args.reps):
                    tkey = "ArrowLeft" if tkey == "ArrowRight" and results["trivial"] and \
                        len(results["trivial"]) % 40 == 0 else tkey
                    tval += 1 if tkey == "ArrowRight" else -1
                    results["trivial"].append(round_trip(triv, tslider, tkey, f"value {tval}"))
                    # alternate right/left: the slider never runs into its end (a key press at
                    # the end changes nothing, no rerun, and the wait would time out)
                    back = {"ArrowRight": "ArrowLeft", "ArrowLeft": "ArrowRight"}[key]
                    results[tab].append(round_trip(lab, slider, key if r % 2 == 0 else back))
                    fkey = "ArrowRight" if r % 2 == 0 else "ArrowLeft"
                    fval += 1 if fkey == "ArrowRight" else -1
                    results["floor"].append(round_trip(floor, fslider, fkey, f"value {fval}"))
                    print(f"  {tab} rep {r}: trivial {results['trivial'][-1]:.0f} ms, "
                          f"lab {results[tab][-1]:.0f} ms", flush=True)
            import os

            med_t = statistics.median(results["trivial"])
            print(f"load average during the run (1/5/15 min): {os.getloadavg()} on {os.cpu_count()} cores "
                  "(other work on the machine inflates both sides, the heavier one more)")
            print(f"trivial app rerun round trip: median {med_t:.0f} ms over {len(results['trivial'])}")
            for tab, _, _ in views:
                m = statistics.median(results[tab])
                first = results[tab][0]
                print(f"image lab [{tab}]: median {m:.0f} ms (first move {first:.0f} ms), "
                      f"ratio to trivial {m / med_t:.2f}x (target <= 1.5x), to the image floor "
                      f"{m / statistics.median(results['floor']):.2f}x")
            med_f = statistics.median(results["floor"])
            print(f"image floor (trivial + 8 new PNG rows of 7x128x128 per move): median {med_f:.0f} ms, "
                  f"ratio to trivial {med_f / med_t:.2f}x: what sending and drawing the images costs alone")

            # 10 large uploads at once
            big = [photo(tmp / f"big{i}.jpg", 4000, 3000, seed=i) for i in range(10)]
            sizes = sum(f.stat().st_size for f in big) / 1e6
            lab.get_by_role("tab", name="Side by side").click()
            wait_idle(lab)
            rss0, hwm0 = vm_rss_mb(p_lab.pid), vm_hwm_mb(p_lab.pid)
            t0 = time.perf_counter()
            lab.get_by_test_id("stFileUploaderDropzoneInput").set_input_files([str(f) for f in big])
            # the input's file list is replaced (10 uploads) or extended (11), depending on the browser
            lab.wait_for_function("() => /N = 1[67], 1[01] uploaded/.test(document.body.innerText)",
                                  timeout=300000, polling=200)
            wait_idle(lab)
            dt = time.perf_counter() - t0
            rss1, hwm1 = vm_rss_mb(p_lab.pid), vm_hwm_mb(p_lab.pid)
            print(f"10 uploads of 4000×3000 JPEG ({sizes:.1f} MB in total): page idle after {dt:.1f} s; "
                  f"server RSS {rss0:.0f} -> {rss1:.0f} MB, peak RSS (VmHWM) {hwm0:.0f} -> {hwm1:.0f} MB "
                  f"(+{hwm1 - hwm0:.0f} MB)")
            browser.close()
    finally:
        stop_streamlit(p_triv)
        stop_streamlit(p_floor)
        stop_streamlit(p_lab)


if __name__ == "__main__":
    main()
