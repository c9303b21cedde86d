"""Training lab: small live training runs on 8×8 digits, side by side under different norms.

Thin page: widgets -> runs submitted to the server's TrainingService (worker processes in
portable numerics mode, identical configs shared across sessions) -> a fragment that polls their
snapshots and draws normviz.training_figures. The GN batch-size sweep is shipped precomputed
(data/gn_batch_sweep.json) and any cell can be re-run live, with the shipped numbers.
"""
from __future__ import annotations

import json
import time

import pandas as pd
import streamlit as st

from normviz import training_figures as tf
from normviz.norms import NORMS
from normviz.state import MAX_RUNS, TRAINING_MODELS, TrainingLabState
from normviz.sweeps import BATCH_SIZES, NORMS as SWEEP_NORMS, cell_config, claims, load_sweep, summarize
from normviz.numerics import rerun_line
from normviz.training import TrainConfig, pytorch_snippet, run_log_to_rows, steps_to_accuracy
from app_pages._shared import session_owner, show_locks, show_notices, training_service, write_url

P = "training"
RUNS = f"{P}:runs"          # list of job dicts (config, generator, snapshots, status)
RUNNING = f"{P}:running"    # True while some job is queued or running in the service
CELLS = f"{P}:cells"        # finished live re-runs of sweep cells
LAST = f"{P}:last_state"    # the state of the last run of this page (survives page switches)
TICK_S = 0.25               # fragment period: each tick reads the runs' new snapshots
TARGET = "normviz.training:snapshots"
REDRAW_S = 1.0              # while training, charts are rebuilt at most this often
VIEWS = {"bn_fig1": "BN Figure 1", "overview": "Loss & accuracy", "distributions": "Percentile bands",
         "histograms": "Histograms over time", "sweep": "Batch-size sweep (GN Figure 1)"}
BN_PRESET = dict(norm=("none", "batch"), batch=(60, 60), lr=(0.5, 0.5), model=("mlp", "mlp"), steps=3000,
                 preset="bn_fig1", view="bn_fig1")
BN_TEXT = ("**BN paper Figure 1** (Ioffe & Szegedy 2015): 3×100 sigmoid MLP, none vs BatchNorm, batch 60, "
           "lr 0.5, 3000 steps. Watch the steps to 90 % accuracy and the 15/50/85th percentiles of one sigmoid's "
           "input: they drift without BN and stay put with it.")
GN_TEXT = ("**GN paper Figure 1** (Wu & He 2018; ImageNet error of BN 23.6 % at 32 images per GPU, 34.7 % at 2; "
           "GN 24.1 %): BN vs GN vs LN over batch sizes 64 … 2, samples seen held fixed. Watch BN's eval error "
           "at batch 2.")


PER_RUN = ("norm", "batch", "lr", "model", "init")
LOCK_LABELS = {"norm": "norms", "batch": "batch sizes", "lr": "learning rates", "model": "models",
               "init": "init std", "steps": "steps", "seed": "seed", "preset": "preset", "view": "view"}
INIT_NOTE = ("The gap is largest at a small init (init std 0.01: without BN the net sits near chance for "
             "thousands of steps). At the standard 0.1 both nets learn; what lasts is speed (steps to 90 %) and "
             "steady distributions.")


def k(name: str) -> str:
    return f"{P}.{name}"


def norm_name(key: str) -> str:
    if key == "none":
        return "no norm"
    parts = key.split("+")
    names = [NORMS[p].name if p in NORMS else ("mean-only BN" if p == "mean_only" else p) for p in parts]
    return " + ".join(names)


def run_value(name: str, value) -> str:
    """One run's locked value, as the run column names it (e.g. "batch 8")."""
    if name == "norm":
        return norm_name(value)
    if name == "model":
        return value.upper()
    return f"{ {'lr': 'lr', 'batch': 'batch', 'init': 'init std'}[name]} {value:g}"


@st.cache_resource(show_spinner=False)
def norm_options(model: str) -> list[str]:
    from normviz.modules import available_norms

    return available_norms(1 if model == "mlp" else 2)


@st.cache_data(show_spinner=False)
def shipped_sweep() -> dict:
    return load_sweep()


# ---------------------------------------------------------------------- state <-> widgets

def seed_widgets(state: TrainingLabState) -> None:
    """Set every control's session key from a state (URL, preset or the remembered state)."""
    ss = st.session_state
    ss[k("n_runs")] = state.n_runs
    for i in range(MAX_RUNS):
        j = min(i, state.n_runs - 1)
        ss[k(f"model{i}")] = state.model[j]
        ss[k(f"norm{i}")] = state.norm[j] if i < state.n_runs else "batch"
        ss[k(f"batch{i}")] = state.batch[j]
        ss[k(f"lr{i}")] = float(state.lr[j])
        ss[k(f"init{i}")] = float(state.init[j])
    ss[k("steps")], ss[k("seed")] = state.steps, state.seed
    ss[k("preset")], ss[k("view")] = state.preset, state.view
    ss[k("lock")] = state.lock


def state_from_widgets() -> TrainingLabState:
    ss = st.session_state
    last = ss.get(LAST) or TrainingLabState()

    def get(name: str, i: int | None = None):
        # Streamlit forgets the keys of widgets that were not drawn (a run column that was hidden,
        # another page): fall back to the remembered state.
        key = k(name if i is None else f"{name}{i}")
        if key in ss and ss[key] is not None:
            return ss[key]
        v = getattr(last, name)
        return v[min(i, len(v) - 1)] if i is not None else v

    n = ss.get(k("n_runs")) or last.n_runs
    cols = {f: tuple(get(f, i) for i in range(n)) for f in ("norm", "batch", "lr", "model", "init")}
    state, _ = TrainingLabState(**cols, steps=get("steps"), seed=get("seed"), preset=get("preset"),
                                view=get("view"), lock=tuple(get("lock"))).validate()
    return state


def configs(state: TrainingLabState) -> list[tuple[str, TrainConfig | None, str]]:
    """(label, config or None, error message) per run."""
    out = []
    for i in range(state.n_runs):
        label = f"{i + 1}: {norm_name(state.norm[i])} · B={state.batch[i]} · lr={state.lr[i]:g}"
        model = state.model[i]
        try:
            cfg = TrainConfig(norm=state.norm[i], model=model, batch_size=state.batch[i], lr=state.lr[i],
                              init_std=state.init[i], steps=state.steps, seed=state.seed,
                              log_every=50,  # one snapshot ≈ 50 steps: well inside a 0.2 s tick
                              momentum=0.0 if model == "mlp" else 0.9)
            out.append((label, cfg, ""))
        except ValueError as err:
            out.append((label, None, str(err)))
    return out


# ---------------------------------------------------------------------- jobs

def submit(cfg: TrainConfig) -> dict:
    ticket = training_service().submit(TARGET, {"config": cfg.to_dict()}, owner=session_owner())
    return {"cfg": cfg, "ticket": ticket, "snaps": [], "status": "queued", "message": ""}


def start_runs(state: TrainingLabState) -> None:
    stop_runs()
    st.session_state[f"{P}:figs"] = {}
    jobs = []
    for label, cfg, err in configs(state):
        job = ({"cfg": None, "ticket": None, "snaps": [], "status": "error", "message": err} if cfg is None
               else submit(cfg))
        jobs.append({**job, "label": label, "kind": "run"})
    st.session_state[RUNS] = jobs
    st.session_state[RUNNING] = any(j["ticket"] is not None for j in jobs)


def stop_runs() -> None:
    for job in st.session_state.get(RUNS, []) + st.session_state.get(f"{P}:cell_jobs", []):
        if job.get("ticket") is not None:
            training_service().release(job["ticket"])
            job["ticket"] = None
            if job["status"] in ("queued", "running"):
                job["status"], job["message"] = "stopped", f"Stopped by you at step {job['snaps'][-1]['step'] if job['snaps'] else 0}."
    st.session_state[RUNNING] = False


def start_cell(norm: str, batch: int, seed: int) -> None:
    cfg = cell_config(norm, batch, seed)
    job = submit(cfg.replace(log_every=max(1, cfg.steps // 20)))
    st.session_state[f"{P}:cell_jobs"] = [{**job, "label": f"{norm} B={batch} seed {seed}", "kind": "cell",
                                          "cell": (norm, batch, seed)}]
    st.session_state[RUNNING] = True


def refresh(jobs: list[dict]) -> None:
    """Copy each live run's status and snapshots from the service (the training happens there)."""
    for job in jobs:
        if job.get("ticket") is None:
            continue
        view = training_service().view(job["ticket"])
        job["snaps"] = list(view.snapshots)
        last = job["snaps"][-1] if job["snaps"] else None
        if view.status == "queued":
            job["status"], job["message"] = "queued", f"waiting for a free worker (number {view.position} in line)"
        elif view.status == "running":
            job["status"], job["message"] = "running", ""
        else:
            job["ticket"] = None
            if view.status == "done" and last is not None:
                job["status"] = "diverged" if last["diverged"] else "done"
                job["message"] = last["message"]
            else:
                job["status"], job["message"] = ("stopped" if view.status == "stopped" else "error"), view.message


def chart(name: str, build, *, alt: str) -> None:
    """Draw a figure; while runs are live, rebuild it at most every REDRAW_S seconds.

    Building a plotly figure costs far more than re-sending one, so between rebuilds the
    fragment re-sends the last figure (a fragment must re-emit its elements every tick).
    """
    cache = ss.setdefault(f"{P}:figs", {})
    hit = cache.get(name)
    now = time.perf_counter()
    if hit is None or not ss[RUNNING] or now - hit[0] >= REDRAW_S:
        hit = (now, build())
        cache[name] = hit
    st.plotly_chart(hit[1], key=f"{P}:{name}", alt=alt)


def job_runs(jobs: list[dict]) -> list[tuple[str, list[dict]]]:
    return [(j["label"], j["snaps"]) for j in jobs if j["snaps"]]


# ---------------------------------------------------------------------- page

st.title("Training lab")
st.markdown("Train small networks on scikit-learn's 8×8 digits (1 438 training and 359 test images, bundled; "
            "no download) and watch what a normalization layer does to the distributions inside the network "
            "and to learning. Runs take seconds on a CPU.")

ss = st.session_state
ss.setdefault(RUNS, [])
ss.setdefault(RUNNING, False)
ss.setdefault(CELLS, [])
if k("n_runs") not in ss:  # first visit in this session (or after a page switch)
    params = {name: st.query_params.get_all(name) for name in st.query_params.keys()}
    if params or LAST not in ss:
        state, notices = TrainingLabState.from_query(params)
    else:
        state, notices = ss[LAST], []
    seed_widgets(state)
    ss[f"{P}:notices"] = notices
show_notices(P, ss.get(f"{P}:notices", []))
locks = state_from_widgets()  # only its ``lock`` is used: the controls a teacher's link fixed
show_locks(locks, LOCK_LABELS, {"norm": lambda v: ", ".join(map(norm_name, v))})


def shown(name: str) -> bool:
    return not locks.is_locked(name)


def apply_bn_preset():
    cur = state_from_widgets()
    # The init is the one knob of this preset: keep run 1's init std if the preset is already open.
    init = (cur.init[0],) * 2 if cur.preset == "bn_fig1" else (0.1, 0.1)
    seed_widgets(cur.replace(**BN_PRESET, init=init))
    start_runs(state_from_widgets())


def apply_gn_preset():
    ss[k("preset")], ss[k("view")] = "gn_fig1", "sweep"


def bn_preset_panel() -> None:
    st.markdown(BN_TEXT)
    st.button("Run BN Figure 1", key=f"{P}:preset_bn", on_click=apply_bn_preset, type="primary",
              icon=":material/play_arrow:", help="none vs BatchNorm, MLP, batch 60, lr 0.5, 3000 steps; "
              "uses the init std set for run 1 below (default 0.1)")
    st.caption(INIT_NOTE)


def gn_preset_panel() -> None:
    st.markdown(GN_TEXT)
    st.button("Show GN Figure 1", key=f"{P}:preset_gn", on_click=apply_gn_preset, type="primary",
              icon=":material/bar_chart:", help="precomputed results, shown at once; any cell can be re-run")
    st.caption("Precomputed (minutes of CPU time) and shown at once, with how it was made; any cell "
               "can be re-run live.")


# A preset that would change a control the teacher fixed is not offered.
panels = [panel for panel, offered in ((bn_preset_panel, all(shown(n) for n in (*BN_PRESET, "init"))),
                                       (gn_preset_panel, shown("preset") and shown("view"))) if offered]
if panels:
    # Presets open while nothing has run; afterwards they fold away so the charts sit higher up.
    with st.expander("**Presets**: BN paper Figure 1, GN paper Figure 1" if len(panels) == 2 else "**Preset**",
                     icon=":material/bookmark:", expanded=not ss[RUNS] and ss[k("view")] != "sweep"):
        for col, panel in zip(st.columns(len(panels)), panels):
            with col:
                panel()

# Fixing any per-run value fixes the number of runs too (a new run would invent its values).
runs_fixed = not all(shown(f) for f in PER_RUN)
with st.expander("Configure runs (up to four, side by side)", expanded=ss[k("preset")] == "custom"):
    top = iter(st.columns(3))  # shown controls fill from the left
    if not runs_fixed:
        next(top).number_input("Runs", 1, MAX_RUNS, key=k("n_runs"), help="configurations trained side by side")
    if shown("steps"):
        next(top).number_input("Steps", 10, 20000, step=100, key=k("steps"), help="training steps of every run")
    if shown("seed"):
        next(top).number_input("Seed", 0, 2**31 - 1, key=k("seed"), help="initial weights and data order")
    st.caption("The MLP (3×100 sigmoid, norm before each sigmoid) trains with plain SGD, as in the BN paper; "
               "the CNN (3 conv layers of 16 channels at 8×8, ReLU) with SGD momentum 0.9. Weights start "
               "~ N(0, init std²). Snapshots every 50 steps on 128 test images (distributions) and all 359 "
               "(accuracy).")
    cols = st.columns(MAX_RUNS) if any(shown(f) for f in PER_RUN) else []
    for i, col in zip(range(ss[k("n_runs")]), cols):
        if k(f"norm{i}") not in ss:  # a column shown again after it was hidden
            prev = state_from_widgets()
            for f in ("model", "norm", "batch", "lr", "init"):
                ss.setdefault(k(f"{f}{i}"), getattr(prev, f)[-1])
        with col:
            st.markdown(f"**Run {i + 1}**")
            fixed = [run_value(f, ss[k(f"{f}{i}")]) for f in PER_RUN if not shown(f)]
            if fixed:
                st.caption(":material/lock: " + ", ".join(fixed))
            if shown("model"):
                st.selectbox("Model", TRAINING_MODELS, key=k(f"model{i}"),
                             format_func={"mlp": "MLP 3×100 sigmoid", "cnn": "CNN 3 conv (8×8)"}.get)
            model = ss[k(f"model{i}")]
            opts = norm_options(model)
            if ss.get(k(f"norm{i}")) not in opts:
                st.warning(f"{norm_name(ss.get(k(f'norm{i}'), ''))} does not fit the {model.upper()}; "
                           "using BatchNorm.", icon="⚠️")
                ss[k(f"norm{i}")] = "batch"
            if shown("norm"):
                st.selectbox("Norm", opts, key=k(f"norm{i}"), format_func=norm_name)
            if shown("batch"):
                st.number_input("Batch size", 2, 512, key=k(f"batch{i}"))
            if shown("lr"):
                st.number_input("Learning rate", 1e-5, 1000.0, key=k(f"lr{i}"), format="%g", step=0.05)
            if shown("init"):
                st.number_input("Init std", 1e-4, 10.0, key=k(f"init{i}"), format="%g", step=0.01,
                                help="weights ~ N(0, std²); the BN paper used a small init")

state = state_from_widgets()
ss[LAST] = state
write_url(state)

b1, b2, b3 = st.columns([1, 1, 3])
b1.button("Run", key=f"{P}:run", icon=":material/play_arrow:", on_click=lambda: start_runs(state_from_widgets()),
          disabled=ss[RUNNING])
b2.button("Stop", key=f"{P}:stop", icon=":material/stop:", on_click=stop_runs, disabled=not ss[RUNNING])
for label, cfg, err in configs(state):
    if cfg is None:
        b3.error(f"{label}: {err}", icon="🚫")

if shown("view"):
    st.segmented_control("View", list(VIEWS), key=k("view"), format_func=VIEWS.get)


def show_sweep(view_jobs: list[dict]) -> None:
    try:
        sweep = shipped_sweep()
    except ValueError as err:
        st.error(str(err), icon="🚫")
        return
    extra = list(ss[CELLS]) + [dict(j["result"]) for j in view_jobs if j.get("result")]
    st.plotly_chart(tf.sweep_figure(sweep, extra_cells=extra), key=f"{P}:sweep_chart",
                    alt="Test error versus batch size for BatchNorm, GroupNorm and LayerNorm, train and eval mode")
    c = claims(sweep)
    mean = summarize(sweep)
    bs = sweep["batch_sizes"]
    bn_ev, bn_tm = mean["batch"]["eval"], mean["batch"]["train_mode"]
    st.markdown(f"GN's eval error varies by **{c['gn_spread']:.1f} points** across batch sizes; BN's eval "
                f"error at batch {bs[-1]} is **{c['bn_drop']:.1f} points** worse than at {bs[0]} "
                f"({bn_ev[-1]:.1f} % vs {bn_ev[0]:.1f} %). At batch 2 every BN feature in train mode is exactly ±1 "
                "((x₁ − x₂)/|x₁ − x₂|): all magnitude is lost, so the net cannot learn much, and the running "
                "statistics the deployed net uses do not match what it was trained on. Train mode also "
                f"reacts earlier: at batch {bs[-2]} BN's train-mode error is {bn_tm[-2]:.1f} % (the test "
                f"images normalized 4 at a time) while its eval error is still {bn_ev[-2]:.1f} %. Here BN "
                "falls off a cliff at batch 2; in the paper (ResNet-50, ImageNet) it degrades gradually from 8 down.")
    r = sweep["recipe"]
    st.caption(f"How it was made: {r['model']}; {r['samples_seen']:,} samples seen per run (steps = samples / "
               f"batch size), {r['lr_rule']}, SGD momentum {r['momentum']}, GN with {r['groups']} groups; "
               f"seeds {', '.join(map(str, sweep['seeds']))}; {sweep['date']}, torch {sweep['torch']}, "
               f"{sweep['seconds']:.0f} s on a 2-core CPU. Re-make with `{sweep['command']}`.")
    with st.expander("Table of every cell"):
        st.dataframe(pd.DataFrame(sweep["cells"]), hide_index=True)
    with st.container(border=True):
        st.markdown("**Re-run one cell live**")
        st.caption(rerun_line(sweep.get("numerics")))
        c1, c2, c3, c4 = st.columns(4)
        norm = c1.selectbox("Norm", SWEEP_NORMS, key=f"{P}:cell_norm", format_func=tf.NORM_NAMES.get)
        batch = c2.selectbox("Batch size", BATCH_SIZES, key=f"{P}:cell_batch")
        seed = c3.selectbox("Seed", sweep["seeds"], key=f"{P}:cell_seed")
        c4.button("Re-run cell", key=f"{P}:cell_run", on_click=start_cell, args=(norm, batch, seed),
                  disabled=ss[RUNNING], icon=":material/replay:")
        shipped = [cc for cc in sweep["cells"] if (cc["norm"], cc["batch_size"], cc["seed"]) == (norm, batch, seed)]
        for job in view_jobs:
            step = job["snaps"][-1]["step"] if job["snaps"] else 0
            st.progress(step / job["cfg"].steps, text=f"{job['label']}: " + (
                f"step {step} of {job['cfg'].steps}" if job["snaps"] else job["message"] or "starting"))
        for cell in ss[CELLS][-3:]:
            ref = [cc for cc in sweep["cells"] if (cc["norm"], cc["batch_size"], cc["seed"]) ==
                   (cell["norm"], cell["batch_size"], cell["seed"])]
            if ref:
                st.markdown(f"Re-run {tf.NORM_NAMES[cell['norm']]} B={cell['batch_size']} seed {cell['seed']}: "
                            f"eval error {cell['eval_error']:.2f} % (shipped {ref[0]['eval_error']:.2f} %), "
                            f"train mode {cell['train_mode_error']:.2f} % (shipped {ref[0]['train_mode_error']:.2f} %).")
        if shipped:
            st.caption(f"This cell trains {shipped[0]['steps']:,} steps; it took {shipped[0]['seconds']:.0f} s "
                       "when the data was made.")


WHICH_LABELS = {"act_input": "the nonlinearity's input (after the norm)", "norm_input": "the norm's input"}


def show_runs(jobs: list[dict], view: str) -> None:
    runs = job_runs(jobs)
    for job in jobs:
        cfg = job["cfg"]
        if job["status"] == "error":
            st.error(f"{job['label']}: {job['message']}", icon="🚫")
        elif job["status"] == "diverged":
            st.error(f"{job['label']}: {job['message']}", icon="💥")
        elif job["snaps"]:
            last = job["snaps"][-1]
            st.progress(min(1.0, last["step"] / cfg.steps),
                        text=f"{job['label']}: step {last['step']} / {cfg.steps} · test accuracy "
                             f"{last['test_acc']:.1%} · {job['message'] or job['status']}")
        elif job["status"] == "queued":
            st.progress(0.0, text=f"{job['label']}: {job['message']}")
    if not runs:
        st.info("Nothing has run yet: press **Run**, or a preset above. Nothing starts by itself.", icon="ℹ️")
        return
    if view == "bn_fig1":
        chart("bn_chart", lambda: tf.bn_figure1(runs),
              alt="Test accuracy over steps, and 15/50/85th percentiles of one sigmoid's input per run")
        reach = []
        for label, snaps in runs:
            s90 = steps_to_accuracy(snaps, 0.9)
            reach.append(f"{label}: {'never' if s90 is None else f'step {s90}'} (final {snaps[-1]['test_acc']:.1%})")
        st.markdown("Steps to 90 % test accuracy — " + "; ".join(reach) + ".")
        st.caption(INIT_NOTE + " Change the init std under *Configure runs*.")
    elif view == "overview":
        chart("metrics_chart", lambda: tf.metrics_figure(runs),
              alt="Loss, test accuracy, train vs eval accuracy and time per step for every run")
    elif view == "distributions":
        which = st.radio("Distribution of", ["act_input", "norm_input"], horizontal=True, key=f"{P}:which",
                         format_func=WHICH_LABELS.get)
        chart(f"bands_chart_{which}", lambda: tf.percentile_bands_figure(runs, which),
              alt="Percentile bands of each layer's values over steps, one row per run")
        gates = tf.gates_figure(runs)
        if gates is not None:
            chart("gates_chart", lambda: gates, alt="Learned BIN rho and SN weights over steps")
    elif view == "histograms":
        which = st.radio("Histogram of", ["act_input", "norm_input"], horizontal=True, key=f"{P}:which_h",
                         format_func=WHICH_LABELS.get)
        chart(f"hist_chart_{which}", lambda: tf.histogram_heatmap_figure(runs, which),
              alt="Histogram of each layer's values over steps as a heatmap, one row per run")
    export(jobs)


def export(jobs: list[dict]) -> None:
    if ss[RUNNING]:  # the logs are still growing; exports appear when the runs end or are stopped
        st.caption("Exports (CSV, JSON, PyTorch code) appear when the runs end or are stopped.")
        return
    if not any(j["snaps"] for j in jobs):
        return

    def csv_text() -> str:
        rows = [r for j in jobs for r in run_log_to_rows(j["snaps"], run=j["label"])]
        return pd.DataFrame(rows).to_csv(index=False)

    def json_text() -> str:
        return json.dumps([{"label": j["label"], "config": j["cfg"].to_dict() if j["cfg"] else None,
                            "status": j["status"], "message": j["message"], "snapshots": j["snaps"]} for j in jobs])

    c1, c2, c3 = st.columns(3)
    c1.download_button("Run log (CSV)", csv_text, "training_log.csv", "text/csv",
                       key=f"{P}:csv", icon=":material/download:", on_click="ignore")
    c2.download_button("Run log (JSON)", json_text, "training_log.json", "application/json",
                       key=f"{P}:json", icon=":material/download:", on_click="ignore")
    with c3.popover("PyTorch code", icon=":material/code:"):
        for j in jobs:
            if j["cfg"] is not None:
                st.markdown(f"**{j['label']}**")
                st.code(pytorch_snippet(j["cfg"]), language="python")


@st.fragment(run_every=TICK_S if ss[RUNNING] else None)
def live() -> None:
    jobs, cell_jobs = ss[RUNS], ss.get(f"{P}:cell_jobs", [])
    if ss[RUNNING]:
        refresh(jobs + cell_jobs)
        for job in cell_jobs:
            if job["ticket"] is None and job["snaps"] and job["status"] == "done" and not job.get("result"):
                last = job["snaps"][-1]
                norm, batch, seed = job["cell"]
                job["result"] = {"norm": norm, "batch_size": batch, "seed": seed,
                                 "eval_error": round(100 * (1 - last["test_acc"]), 4),
                                 "train_mode_error": round(100 * (1 - last["train_mode_acc"]), 4)}
                ss[CELLS].append(job["result"])
    view = ss[k("view")] or "bn_fig1"
    if view == "sweep":
        show_sweep([j for j in cell_jobs if j["ticket"] is not None])
    else:
        show_runs(jobs, view)
    if ss[RUNNING] and all(j.get("ticket") is None for j in jobs + cell_jobs):
        ss[RUNNING] = False
        st.rerun()  # the whole page, so the fragment stops ticking and the buttons update


live()
