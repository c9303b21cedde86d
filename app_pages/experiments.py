"""Experiments: each one asks a question about normalization and answers it with a run.

Thin page over ``normviz.experiments.EXPERIMENTS``: pick an experiment; read the question, the
paper's numbers and what to look for; see the shipped results at once (with how they were
made); press Run (quick or full) to watch it happen. State in the URL (``?exp=switchable``).
"""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

import time

from normviz.experiments import EXPERIMENTS, QUESTIONS
from normviz.experiments.evidence import alt_text, evidence_figure
from normviz.experiments.seeds import claim_count, facts, headline_table
from normviz.numerics import rerun_line
from normviz.state import ExperimentsState
from app_pages._live_chart import live_chart
from app_pages.kit import (session_owner, show_locks, show_notices, state_from_widgets, training_service,
                               url_state, wkey, write_url)

P = "experiments"
RESULTS = "experiments:results"  # session: {(key, seed, quick): {"results", "claim", "seconds"}}
PENDING = "experiments:pending"  # session: the run in the training service (ticket, key, seed, quick)


def k(name: str) -> str:
    return wkey(P, name)


def verdict(holds: bool, sentence: str, label: str) -> None:
    if holds:
        st.success(f"**{label}: the claim holds.** {sentence}", icon=":material/check_circle:")
    else:
        st.error(f"**{label}: the claim does not hold.** {sentence}", icon=":material/cancel:")


def wrap_title(text: str, width: int = 42) -> str:
    """Break a long figure title into lines (plotly does not wrap; phones are narrow)."""
    if not text or len(text) <= width or "<br>" in text:
        return text
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join(lines + [line])


def compact(fig):
    """Legend below the plot and wrapped title, so figures read on a phone too."""
    title = wrap_title(fig.layout.title.text or "")
    lines = title.count("<br>") + 1
    fig.update_layout(title=dict(text=title, y=1, yref="container", yanchor="top", pad=dict(t=14)),
                      legend=dict(orientation="h", yanchor="top", y=-0.22, x=0, xanchor="left"),
                      margin=dict(t=50 + 24 * lines, b=140))  # room for the legend inside the figure
    return fig


def show_figures(spec, results, key: str) -> None:
    try:
        figs = [compact(f) for f in spec.figure(results)]
    except (KeyError, ValueError, TypeError, IndexError) as err:
        st.warning(f"Could not draw the figures for these results ({type(err).__name__}: {err}).")
        return
    for i, fig in enumerate(figs):
        live_chart(fig, key=f"{key}:{i}", alt=f"{spec.title}: figure {i + 1}", png_name=f"normviz-{spec.key}-{i + 1}")


def paper_tables(spec) -> None:
    for table in spec.paper:
        st.caption(table.source)
        st.dataframe(pd.DataFrame(table.records()), hide_index=True, width="stretch")
        if table.note:
            st.caption(table.note)


def shipped(spec, state) -> None:
    """The precomputed results at a glance: the claim and each fact counted over the seeds, the
    numbers with one column per seed, how they were made, and the figures of one seed."""
    doc = spec.precomputed()
    if doc is None:
        st.info("No shipped results for this experiment: press **Run** below (it takes "
                f"about {spec.full_seconds:.0f} s on 2 CPU cores).")
        return
    held, n = claim_count(doc)
    counted = f"**Shipped results: the claim holds in {held} of {n} seeds.** {spec.claim_text}"
    (st.success if held == n else st.error if held == 0 else st.warning)(
        counted, icon=":material/check_circle:" if held == n else ":material/cancel:" if held == 0 else ":material/contrast:")
    found = facts(spec, doc)
    if found:
        st.markdown("  \n".join(f"{i}. {':green[●]' if f.all else ':red[✕]' if f.none else ':orange[◐]'} {f.sentence()}"
                                for i, f in enumerate(found, 1)))
        live_chart(evidence_figure(spec, doc), key=k_(f"evidence:{spec.key}"), alt=alt_text(spec, doc),
                   png_name=f"normviz-{spec.key}-evidence")
    cols, rows = headline_table(spec, doc)
    if rows:
        st.dataframe(pd.DataFrame(rows, columns=cols), hide_index=True, width="stretch")
    with st.expander("Each seed's claim in words, and how these results were made"):
        for seed, run in doc["runs"].items():
            st.markdown(f"**Seed {seed}** ({'holds' if run['claim']['holds'] else 'does not hold'}): "
                        f"{run['claim']['sentence']}")
        secs = doc.get("seconds") or {}
        st.markdown(f"- command: `{doc.get('made_by', '')}`\n"
                    f"- seeds: {', '.join(map(str, doc.get('seeds', [])))}; date: {doc.get('date', '?')}\n"
                    f"- seconds per seed: {', '.join(f'{kk}: {v}' for kk, v in secs.items())}\n"
                    f"- machine: {doc.get('machine', '?')}")
        st.caption(rerun_line(doc.get("numerics")))
        if doc.get("how"):
            st.caption(doc["how"])
        st.download_button("Download these results (JSON)", json.dumps(doc, indent=1),
                           file_name=f"normviz-{spec.key}.json", mime="application/json", key=k("dl_shipped"))
    seeds = list(doc["runs"])
    shown = str(state.seed) if str(state.seed) in seeds else seeds[0]
    if len(seeds) > 1:
        st.caption(f"Figures of seed {shown} (set the seed below to {', '.join(seeds)} to see another).")
    show_figures(spec, doc["runs"][shown]["results"], f"shipped:{spec.key}:{shown}")


def k_(name: str) -> str:
    return f"{P}:{name}"


def live(spec, state) -> None:
    """Run buttons, the session's run in progress, and its finished runs of this experiment.

    Runs go to the server's training service (worker processes in the experiment's numerics
    mode), so the page stays usable while one runs and a class asking for the same run computes
    it once.
    """
    store = st.session_state.setdefault(RESULTS, {})
    c1, c2, c3 = st.columns([1, 1, 1])
    if not state.is_locked("seed"):  # a locked seed is named in the lock caption instead
        c1.number_input("Seed", 0, 9999, key=k("seed"),
                        help="initial weights and data order of a live run; also picks the shipped seed shown above")
    c2.button("Quick run (≈ 10 s)", key=k("quick"), width="stretch", on_click=start, args=(spec, state.seed, True),
              help="fewer steps: see it work; the claim need not hold")
    c3.button(f"Full run (≈ {spec.full_seconds:.0f} s on 2 cores)", key=k("full"), width="stretch",
              type="primary", on_click=start, args=(spec, state.seed, False),
              help="the settings the claim is stated for")
    doc = spec.precomputed() or {}
    st.caption(rerun_line(doc.get("numerics")))
    progress_of_pending(spec)
    mine = [(kk, v) for kk, v in store.items() if kk[0] == spec.key]
    for (key, seed, was_quick), run in reversed(mine):
        label = f"Your {'quick' if was_quick else 'full'} run, seed {seed} ({run['seconds']:.1f} s)"
        st.markdown(f"#### {label}")
        verdict(*run["claim"], label)
        if was_quick:
            st.caption("A quick run has too few steps for the claim; it shows the experiment working.")
        show_figures(spec, run["results"], f"live:{key}:{seed}:{was_quick}")
        st.download_button("Download this run (JSON)", json.dumps(run["results"]),
                           file_name=f"normviz-{key}-seed{seed}.json", mime="application/json",
                           key=k(f"dl:{key}:{seed}:{was_quick}"))


def start(spec, seed: int, quick: bool) -> None:
    stop()
    ticket = training_service().submit("normviz.experiments:run_experiment",
                                       {"key": spec.key, "seed": int(seed), "quick": bool(quick)},
                                       owner=session_owner(), kind="call", numerics=spec.numerics)
    st.session_state[PENDING] = {"ticket": ticket, "key": spec.key, "seed": int(seed), "quick": bool(quick),
                                 "t0": time.perf_counter()}


def stop() -> None:
    pending = st.session_state.pop(PENDING, None)
    if pending is not None:
        training_service().release(pending["ticket"])


@st.fragment(run_every=0.5)
def progress_of_pending(spec) -> None:
    """While a run of this session is in the service, show its progress and a Stop button."""
    pending = st.session_state.get(PENDING)
    if pending is None or pending["key"] != spec.key:
        return
    view = training_service().view(pending["ticket"])
    reports = [s for s in view.snapshots if "progress" in s]
    if view.active:
        text = (reports[-1]["text"] if reports else
                f"waiting for a free worker (number {view.position} in line)" if view.status == "queued" else "starting")
        st.progress(reports[-1]["progress"] if reports else 0.0,
                    text=f"{'Quick' if pending['quick'] else 'Full'} run, seed {pending['seed']}: {text}")
        st.button("Stop", key=k("stop"), on_click=stop, icon=":material/stop:")
        return
    del st.session_state[PENDING]
    if view.status == "done":
        out = view.snapshots[-1]["result"]
        st.session_state[RESULTS][(pending["key"], pending["seed"], pending["quick"])] = {
            "results": out["results"], "claim": tuple(out["claim"]), "seconds": time.perf_counter() - pending["t0"]}
    else:
        st.session_state[f"{P}:failed"] = view.message
    st.rerun()  # the whole page, so the finished run is drawn below


def main() -> None:
    st.title("Experiments")
    st.caption("Each experiment answers one question people ask about normalization, echoes a "
               "paper's figure or table at CPU scale (scikit-learn's 8×8 digits), and states a "
               "claim that the shipped results and your own runs either confirm or not.")
    state, notices = url_state(ExperimentsState, P)
    show_notices(P, notices)
    show_locks(state, {"exp": "experiment"}, {"exp": lambda key: EXPERIMENTS[key].title})
    keys = list(EXPERIMENTS)
    if not state.is_locked("exp"):
        st.selectbox("Experiment", keys, key=k("exp"),
                     format_func=lambda key: f"{EXPERIMENTS[key].title}  ·  {QUESTIONS[EXPERIMENTS[key].question]}")
    state = state_from_widgets(ExperimentsState, P)
    write_url(state)
    spec = EXPERIMENTS[state.exp]

    st.header(spec.title, divider="gray")
    st.markdown(f"**Question:** {QUESTIONS[spec.question]}  \n**Echoes:** {spec.echoes}")
    if spec.how:
        st.caption(f"Setting: {spec.how}")
    st.info(f"**What to look for.** {spec.look_for}", icon=":material/search:")
    if spec.claim_text:
        st.markdown(f"**Claim tested:** {spec.claim_text}")
    if spec.notes:
        st.warning(spec.notes, icon=":material/warning:")
    with st.expander("The paper's numbers", expanded=False):
        paper_tables(spec)
    st.subheader("Shipped results")
    shipped(spec, state)
    st.subheader("Run it yourself")
    failed = st.session_state.pop(f"{P}:failed", None)
    if failed:
        st.error(f"The run stopped: {failed}", icon="🚫")
    live(spec, state)


main()
