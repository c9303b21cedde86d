// live_chart: one plotly graph div per keyed component, updated in place with Plotly.react.
// Streamlit calls this function again, with the same parentElement, whenever the data change.

// plotly.js is a classic script that sets window.Plotly: one <script> per page, shared by charts.
const loadPlotly = (src) => (window.__liveChartPlotly ??= new Promise((resolve, reject) => {
  if (window.Plotly) return resolve(window.Plotly);
  const script = Object.assign(document.createElement("script"), { src, async: true });
  script.onload = () => resolve(window.Plotly);
  script.onerror = () => {
    window.__liveChartPlotly = undefined; // let the next call try again
    reject(new Error(`live_chart: could not load plotly.js from ${src}`));
  };
  document.head.appendChild(script);
}));

// Frames (the cube walkthrough's steps): window.__liveChartFrame(name, k) draws frame k of the chart
// keyed `name` with no rerun; the choice outlives reruns (a rerun's payload names its own first frame).
window.__liveChartFrames ??= {};
window.__liveChartFrame ??= (name, k) => {
  window.__liveChartFrames[name] = k;
  const div = window.__liveCharts?.get(name);
  if (div) redraw(div);
};

// The figure with frame k applied: its data replace the traces it names, its layout keys the layout's.
const compose = (figure, k) => {
  const frame = figure.frames?.[k];
  if (!frame) return { data: figure.data, layout: { ...figure.layout } };
  const data = figure.data.slice();
  (frame.traces ?? frame.data.map((_, i) => i)).forEach((t, i) => { data[t] = frame.data[i]; });
  return { data, layout: { ...figure.layout, ...frame.layout } };
};

// One draw at a time per div (Plotly.react is async): calls queue, and each draws the newest state.
const redraw = (div) => (div.liveChart.drawing = (div.liveChart.drawing ?? Promise.resolve())
  .then(() => draw(div)).catch((error) => console.error("live_chart:", error)));

// A chart is drawn only while it is on or near the screen, and drawn (with its newest figure) as it
// comes near. A chart far below the fold, in a closed expander or an unselected tab costs nothing
// until seen: on the cube page the grid of every norm was ~100 ms of each selection rerun and ~180 ms
// of the first render's drawing (bench/bench_cube.py).
const NEAR_PX = 400;
window.__liveChartNear ??= new IntersectionObserver((entries) => {
  for (const { target, isIntersecting } of entries) {
    target.liveChart.near = isIntersecting;
    if (isIntersecting && target.liveChart.Plotly) redraw(target);
  }
  // Streamlit's page scrolls inside <main>, not the window: scrollMargin is the margin there.
}, { rootMargin: `${NEAR_PX}px 0px`, scrollMargin: `${NEAR_PX}px 0px` });
// The observer reports on the next frame, and a background tab has none: the first answer is
// measured at once. A closed expander's content keeps its box but is not rendered (checkVisibility).
const isNear = (div) => {
  const r = div.getBoundingClientRect();
  return (div.checkVisibility?.() ?? true) && r.width > 0 && r.height > 0
    && r.bottom > -NEAR_PX && r.top < window.innerHeight + NEAR_PX;
};
// Printing shows every chart: draw the ones that never came near.
window.addEventListener("beforeprint", () => window.__liveCharts?.forEach((div) => {
  div.liveChart.near = true;
  redraw(div);
}));

async function draw(div) {
  const state = div.liveChart, { spec, Plotly } = state;
  if (!Plotly || !div.isConnected || !state.near) return; // not near the screen: drawn when it comes near
  const chosen = window.__liveChartFrames[state.name];
  const k = spec.figure.frames?.[chosen ?? spec.frame] ? (chosen ?? spec.frame) : null;
  // Streamlit also calls again when only the app theme changed: skip an unchanged figure.
  if (state.text === state.drawnText && k === state.drawnFrame) return;
  const { data, layout } = compose(spec.figure, k);
  // uirevision keeps a dragged 3D camera only if plotly.js saved the drag as a GUI edit in the
  // current layout/_fullLayout; a scene saves it into those of its first plot (react and resize
  // swap in new ones). Save the camera the user sees into the current ones before reacting.
  for (const id of div._fullLayout?._subplots?.gl3d ?? []) {
    const scene = div._fullLayout[id]._scene;
    if (scene?.saveLayout) Object.assign(scene, { fullLayout: div._fullLayout }).saveLayout(div.layout);
    // A figure that sets its own camera would win over the user's: plotly keeps a GUI edit only
    // if the new value equals the one the edit replaced, and that comparison fails on the
    // defaults plotly filled in (up, center, projection). Same uirevision = same view: give the new figure the user's camera.
    const edited = Object.keys(div._fullLayout._preGUI ?? {}).some((key) => key.startsWith(`${id}.camera`));
    const revision = (f) => f?.[id]?.uirevision ?? f?.uirevision;
    if (edited && scene?.getCamera && revision(layout) === revision(div.layout) && revision(layout) !== undefined) {
      layout[id] = { ...layout[id], camera: scene.getCamera() };
    }
  }
  Object.assign(state, { drawnText: state.text, drawnFrame: k });
  div.setAttribute("aria-label", layout.meta?.alt ?? spec.alt);
  const t0 = performance.now();
  await Plotly.react(div, data, layout, spec.config);
  state.renders += 1;
  state.reactMs = performance.now() - t0; // read by bench/bench_cube.py
  if (state.renders === 1) wire(div);
}

// Once per div, after its first draw (plotly adds div.on then): resize with the container, report clicks.
function wire(div) {
  const state = div.liveChart, { Plotly } = state;
  let frame = 0;
  state.observer = new ResizeObserver(() => { // also called once at observe(): skip if no change
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => {
      const full = div._fullLayout;
      if (div.isConnected && full && (div.clientWidth !== full.width || div.clientHeight !== full.height)) {
        Plotly.Plots.resize(div);
      }
    });
  });
  state.observer.observe(div);
  div.on("plotly_click", (event) => {
    const p = event.points[0];
    if (!state.spec.click || !p) return;
    state.send("click", {
      curveNumber: p.curveNumber, pointNumber: p.pointNumber, pointIndex: p.pointIndex ?? p.pointNumber,
      x: p.x ?? null, y: p.y ?? null, z: p.z ?? null, customdata: p.customdata ?? null,
    });
  });
}

export default async function ({ data, parentElement, setTriggerValue }) {
  const text = new TextDecoder().decode(data); // bytes: the figure JSON exactly as Python wrote it
  const spec = JSON.parse(text);
  if (spec.preload) { // preload_plotly(): fetch and evaluate plotly.js now, before any chart needs it
    loadPlotly(spec.preload).catch((error) => console.error("live_chart:", error));
    return;
  }
  let div = parentElement.querySelector(":scope > .live-chart");
  if (!div) {
    div = Object.assign(document.createElement("div"), { className: "live-chart" });
    div.liveChart = { calls: 0, renders: 0, text: null };
    parentElement.appendChild(div);
    // scrollZoom is off, yet a 3D scene's camera takes every wheel event over its canvas (plotly's
    // mouse-wheel listener calls preventDefault whatever the config), so the page would not scroll
    // while the pointer is on the cube. Stopped before the canvas, the wheel scrolls the page.
    div.addEventListener("wheel", (event) => {
      if (!div.liveChart.spec?.config?.scrollZoom) event.stopPropagation();
    }, { capture: true });
    // Keyboard walking (on_key): handled keys go to Python and not to the page's own listeners
    // (the cube walkthrough steps on ← / → at the document). The div outlives reruns, so it keeps focus.
    div.addEventListener("keydown", (event) => {
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      const name = (event.shiftKey ? "Shift+" : "") + event.key;
      if (!div.liveChart.spec.keys?.includes(name)) return;
      event.preventDefault();
      event.stopPropagation();
      div.liveChart.send("key", name);
    });
  }
  const state = div.liveChart;
  const call = ++state.calls; // a later call supersedes this one while plotly.js loads
  Object.assign(state, { send: setTriggerValue, text, spec, name: spec.name });
  if (spec.keys?.length) div.tabIndex = 0; else div.removeAttribute("tabindex");
  let status = parentElement.querySelector(":scope > .live-chart-status");
  if (spec.status != null) { // a live region: screen readers read each new text (e.g. the new selection)
    if (!status) {
      status = Object.assign(document.createElement("div"), { className: "live-chart-status" });
      status.setAttribute("role", "status");
      status.setAttribute("aria-live", "polite");
      parentElement.appendChild(status);
    }
    if (status.textContent !== spec.status) status.textContent = spec.status;
  } else status?.remove();
  // "figure", not "img": an img's children are presentational, and the chart holds buttons (its
  // mode bar), which axe-core reports as nested interactive controls.
  div.setAttribute("role", "figure");
  if (!div.hasAttribute("aria-label")) div.setAttribute("aria-label", spec.alt); // draw() keeps it current
  // Presenter mode: one figure per screen, so the chart takes the viewport's height and plotly sizes
  // to the div (autosize) instead of to the figure's own height.
  div.style.height = spec.fill ? "max(360px, calc(100vh - 4.5rem))" : `${spec.height}px`;
  if (spec.fill) delete spec.figure.layout.height;

  (window.__liveCharts ??= new Map()).set(spec.name, div);

  const Plotly = await loadPlotly(spec.src);
  state.plotlyReadyAt ??= performance.now(); // read by bench/bench_cube.py
  const cleanup = () => {
    if (call !== state.calls) return; // Streamlit drops a superseded call: the div lives on
    state.observer?.disconnect();
    window.__liveChartNear.unobserve(div);
    Plotly.purge(div);
    div.remove();
    if (window.__liveCharts.get(state.name) === div) window.__liveCharts.delete(state.name);
    parentElement.querySelector(":scope > .live-chart-status")?.remove();
  };
  if (call !== state.calls) return cleanup;
  if (!state.Plotly) {
    state.near = isNear(div);
    window.__liveChartNear.observe(div);
  }
  state.Plotly = Plotly;
  await redraw(div);
  return cleanup;
}
