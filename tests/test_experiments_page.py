"""AppTest of app_pages/experiments.py and app_pages/guide.py: every experiment renders from the URL,
shipped results appear at once, a quick run renders its verdict and figures, bad URLs explain."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from page_utils import live_chart_elements
from streamlit.testing.v1 import AppTest

from app_pages._live_chart import payload

from normviz.experiments import EXPERIMENTS, GUIDE

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def open_page(page: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("key", list(EXPERIMENTS))
def test_each_experiment_renders(key):
    spec = EXPERIMENTS[key]
    at = open_page("app_pages/experiments.py", {"exp": key})
    assert [h.value for h in at.header] == [spec.title]
    assert at.selectbox(key="experiments.exp").value == key
    assert any(spec.look_for in i.value for i in at.info)
    doc = spec.precomputed()
    verdicts = [s.value for s in at.success] + [e.value for e in at.error] + [w.value for w in at.warning]
    if doc is not None:  # shipped results shown at once: the claim counted over the seeds, facts, figures
        from normviz.experiments.seeds import claim_count, facts

        held, n = claim_count(doc)
        assert sum(f"the claim holds in {held} of {n} seeds" in v for v in verdicts) == 1
        text = " ".join(m.value for m in at.markdown)
        assert all(f.sentence() in text for f in facts(spec, doc))  # every fact, with its seed count
        charts = live_chart_elements(at)
        assert len(charts) >= 1 and all(payload(c)["figure"]["data"] for c in charts)
        assert payload(charts[0])["alt"]
    assert [b.label for b in at.button if "run" in b.label.lower()][:2] == [
        "Quick run (≈ 10 s)", f"Full run (≈ {spec.full_seconds:.0f} s on 2 cores)"]


def test_quick_run_button_shows_verdict_and_figures():
    at = open_page("app_pages/experiments.py", {"exp": "keras", "seed": "3"})
    before = len(live_chart_elements(at))
    at.button(key="experiments.quick").click().run()
    assert not at.exception, [e.value for e in at.exception]
    # The run happens in the training service's worker; the page polls it.
    deadline = time.monotonic() + 180
    while not any("Your quick run, seed 3" in m.value for m in at.markdown) and time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()
    assert any("Your quick run, seed 3" in m.value for m in at.markdown)
    assert len(live_chart_elements(at)) > before
    at.run()  # results survive a rerun
    assert any("Your quick run, seed 3" in m.value for m in at.markdown)


def test_bad_url_values_fall_back_with_a_notice():
    at = open_page("app_pages/experiments.py", {"exp": "nope", "seed": "-4"})
    text = " ".join(w.value for w in at.warning)
    assert "'exp' = 'nope'" in text and "'seed' = '-4'" in text
    assert at.selectbox(key="experiments.exp").value == "bn_figure1"


def test_guide_answers_each_question_with_links():
    at = open_page("app_pages/guide.py")
    headers = [h.value for h in at.header]
    assert len(headers) == len(GUIDE)
    links = at.get("page_link")
    keys = [k for g in GUIDE for k in g.experiments]
    assert len(links) == len(keys)
    text = " ".join(m.value for m in at.markdown)
    assert "shipped seeds" in text and all(g.recommendation in text for g in GUIDE)


def test_teacher_lock_hides_the_experiment_choice():
    at = open_page("app_pages/experiments.py", {"exp": "switchable", "lock": "exp,seed"})
    assert not [s for s in at.selectbox if s.key == "experiments.exp"]
    assert [h.value for h in at.header] == [EXPERIMENTS["switchable"].title]
    assert not [n for n in at.number_input if n.key == "experiments.seed"]  # hidden like every locked control
