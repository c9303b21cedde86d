// The walkthrough's step bar: Back / Next / Close and the ← / → keys step in the browser, with no rerun.
// Python sends every step at once (their blocks are on the page, all but one hidden by CSS keyed on this
// bar's data-step; the chart holds every step as a plotly frame). Stepping sets data-step, asks the chart
// for the frame, writes step= into the URL and, once the user pauses, tells Python (one rerun per pause,
// not per step) so later runs and the URL writer keep the step.

const SYNC_MS = 700; // a pause this long ends a burst of steps

const clamp = (k, count) => Math.max(1, Math.min(count, k));

function show(bar) {
  const w = bar.walk, { step } = w, { count } = w.spec;
  bar.dataset.step = String(step);
  w.prev.disabled = step <= 1;
  w.next.disabled = step >= count;
  w.status.textContent = w.spec.alts[step - 1] ?? "";
  window.__liveChartFrame?.(w.spec.chart, step - 1);
}

function move(bar, delta) {
  const w = bar.walk, step = clamp(w.step + delta, w.spec.count);
  if (step === w.step) return;
  w.step = step;
  show(bar);
  // The URL follows at once (a reload or a copied link keeps the step); Streamlit's own URL writer
  // agrees again after the sync below.
  writeUrl(step);
  keepUrl(bar);
  clearTimeout(w.timer);
  w.timer = setTimeout(() => {
    if (!bar.isConnected) return;
    (w.sent ??= []).push(w.step);
    w.setState("step", w.step);
  }, SYNC_MS);
}

// step= in the URL, if the URL has one (a closed walkthrough has none).
function writeUrl(step, always = true) {
  const url = new URL(window.location.href);
  if (!always && !url.searchParams.has("step")) return;
  if (url.searchParams.get("step") === String(step)) return;
  url.searchParams.set("step", String(step));
  window.history.replaceState(window.history.state, "", url);
}

// While the browser is ahead of Python (a step not synced yet), a rerun that was already going ends by
// writing Python's older step into the URL. Put this bar's step back, each frame, until Python has
// caught up (the next sync), so a link copied meanwhile opens the step on screen.
function keepUrl(bar) {
  const w = bar.walk;
  cancelAnimationFrame(w.urlFrame);
  const check = () => {
    if (!bar.isConnected || w.server === w.step) return;
    writeUrl(w.step, false);
    w.urlFrame = requestAnimationFrame(check);
  };
  check();
}

function button(label, title, onClick) {
  const b = Object.assign(document.createElement("button"), { type: "button", textContent: label, title });
  b.addEventListener("click", onClick);
  return b;
}

export default function ({ data, parentElement, setStateValue, setTriggerValue }) {
  let bar = parentElement.querySelector(":scope > .normviz-walk");
  if (!bar) {
    // The class also tells the page's key listener that a walkthrough is on the page.
    bar = Object.assign(document.createElement("div"), { className: "normviz-walk" });
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", "Walkthrough steps");
    const w = (bar.walk = {});
    w.prev = button("← Back", "Previous step (← key)", () => move(bar, -1));
    w.next = button("Next →", "Next step (→ key)", () => move(bar, +1));
    const close = button("✕ Close", "Close the walkthrough", () => w.trigger("close", true));
    const hint = Object.assign(document.createElement("span"), { className: "hint", textContent: "← / → keys step too" });
    w.status = Object.assign(document.createElement("div"), { className: "normviz-walk-status" });
    w.status.setAttribute("role", "status");
    w.status.setAttribute("aria-live", "polite"); // a screen reader hears each step
    bar.append(w.prev, w.next, close, hint, w.status);
    parentElement.appendChild(bar);
  }
  const w = bar.walk;
  Object.assign(w, { spec: data, setState: setStateValue, trigger: setTriggerValue });
  // Python's step wins only when Python changed it (a new norm clamps it, a link sets it), not when a
  // run merely echoes a step this bar sent (the user may have stepped on while that run was going).
  // Any step sent, not only the last: a run cut short by the next sync still draws its older echo.
  const echoed = w.sent?.indexOf(data.step) ?? -1;
  const adopted = w.step === undefined || (data.step !== w.server && echoed < 0);
  if (echoed >= 0) w.sent.splice(0, echoed + 1); // echoes arrive in the order sent: the earlier ones are past
  if (adopted) w.step = data.step;
  w.server = data.step;
  w.step = clamp(w.step, data.count);
  show(bar);
  if (adopted) writeUrl(w.step, false); // the guard below may have written the step Python just replaced
  if (w.step !== w.server) keepUrl(bar);

  if (!window.__normvizStepListener) { // one listener per page (it outlives page switches: no bar, no steps)
    window.__normvizStepListener = (event) => {
      if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
      const t = event.target;
      const typing = t && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName)
        || t.getAttribute("role") === "slider" || t.getAttribute("role") === "combobox");
      if (typing) return; // arrows belong to the focused control
      const delta = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      const bar = document.querySelector(".normviz-walk");
      if (!delta || !bar) return;
      event.preventDefault();
      move(bar, delta);
    };
    document.addEventListener("keydown", window.__normvizStepListener);
  }
  // Streamlit calls this cleanup before every new call too (new data): act only once the bar has left
  // the page (closed, locked, another page), and then drop the pending sync and the chart's frame choice.
  return () => setTimeout(() => {
    if (bar.isConnected) return;
    clearTimeout(w.timer);
    delete window.__liveChartFrames?.[w.spec.chart];
  }, 0);
}
