"""A teacher's ``?lock=`` works on every page: locked controls are not drawn, their values come
from the URL, a caption names them, and the lock survives the page's own URL rewrite.
README's "For teachers" table lists exactly the lockable parameters of each state class."""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import lab_utils
import page_utils
from normviz.state import CubeState, ExperimentsState, ImageLabState, TrainingLabState

ROOT = Path(__file__).resolve().parent.parent
PAGES = {  # page file, session-key prefix of its controls, state class, URL path
    "cube": ("cube.py", "cube", CubeState, "/cube"),
    "image_lab": ("image_lab.py", "image_lab", ImageLabState, "/image_lab"),
    "training": ("training_lab.py", "training", TrainingLabState, "/training"),
    "experiments": ("experiments.py", "experiments", ExperimentsState, "/experiments"),
}
INPUTS = ("selectbox", "multiselect", "number_input", "slider", "select_slider", "radio", "toggle",
          "checkbox", "text_input", "button_group")
LOCK_NOTE = "fixed by your teacher"


def open_page(page: str, **query) -> AppTest:
    return page_utils.open_page(PAGES[page][0], timeout=90, **query)


def input_keys(at) -> set[str]:
    """Keys of every input widget on the page (buttons and charts excluded)."""
    keys = set()
    for kind in INPUTS:
        keys |= {w.key for w in at.get(kind) if getattr(w, "key", None)}
    return keys


def lock_caption(at) -> str:
    hits = [c.value for c in at.caption if LOCK_NOTE in c.value]
    assert len(hits) == 1, [c.value for c in at.caption]
    return hits[0]


def test_no_lock_no_caption():
    at = open_page("experiments", exp="switchable")
    assert not [c for c in at.caption if LOCK_NOTE in c.value]
    assert "experiments.exp" in input_keys(at) and "experiments.seed" in input_keys(at)


figures = lab_utils.live_charts  # the figures of the page's in-place charts (app_pages/_live_chart)


def test_cube_lock():
    at = open_page("cube", lock="norm,C,G,view", norm="group", C=8, G=4, view="numbers")
    keys = input_keys(at)
    assert not keys & {"cube.norm", "cube.C", "cube.G", "cube.view"}, keys
    assert {"cube.N", "cube.H", "cube.seed"} <= keys  # unlocked controls stay
    sentence = [m.value for m in at.markdown if m.value.startswith("**") and " values" in m.value]
    assert sentence and sentence[0].startswith("**GroupNorm")
    assert at.session_state["cube.C"] == 8 and at.session_state["cube.G"] == 4
    assert at.dataframe, "the locked view (numbers) is open"
    cube = [f for f in figures(at) if any(t.get("type") == "scatter3d" for t in f["data"])]
    assert len(cube) == 1 and not cube[0]["layout"].get("updatemenus")  # no in-figure norm buttons
    free_at = open_page("cube")
    free = [f for f in figures(free_at) if any(t.get("type") == "scatter3d" for t in f["data"])]
    assert free[0]["layout"]["updatemenus"]  # which an unlocked cube has
    # ... and the intro mentions those buttons only where they exist.
    assert any("buttons above the cube" in m.value for m in free_at.markdown)
    assert not any("buttons above the cube" in m.value for m in at.markdown)
    note = lock_caption(at)
    assert "C = 8" in note and "G = 4" in note and "norm = group" in note
    assert at.query_params["lock"] == "norm,C,G,view"


def test_image_lab_lock():
    at = open_page("image_lab", lock="view,a,image", view="erase", a="3", image="2")
    keys = input_keys(at)
    assert not keys & {"image_lab.a", "image_lab.image"}, keys
    assert "image_lab.b" in keys
    assert [t.label for t in at.tabs] == ["What each norm erases"]  # a locked view is the only tab
    captions = [img.caption for el in at.get("image") for img in el.proto.imgs]
    assert any("a·x + b with a = 3," in c for c in captions), captions  # the locked value is used
    assert at.session_state["image_lab.image"] == 2
    assert "a = 3" in lock_caption(at)


def test_experiments_lock():
    at = open_page("experiments", lock="exp,seed", exp="switchable", seed="1")
    keys = input_keys(at)
    assert not keys & {"experiments.exp", "experiments.seed"}, keys
    assert len(at.header) == 1 and "Switchable" in at.header[0].value
    assert at.session_state["experiments.seed"] == 1
    assert f"experiment = {at.header[0].value}; seed = 1" in lock_caption(at)


def test_training_lock_fixes_runs_and_hides_presets():
    at = open_page("training", lock="norm,batch,steps,view", norm="layer,group", batch="8,16",
                   steps="20", view="overview")
    keys = input_keys(at)
    hidden = {"training.n_runs", "training.steps", "training.view"} | {f"training.{f}{i}" for f in ("norm", "batch")
                                                                        for i in range(2)}
    assert not keys & hidden, keys & hidden
    assert {"training.seed", "training.lr0", "training.model1"} <= keys
    buttons = {b.key for b in at.button}
    assert not buttons & {"training:preset_bn", "training:preset_gn"}  # both would change locked values
    note = lock_caption(at)
    assert "norms = LayerNorm, GroupNorm" in note and "steps = 20" in note
    runs = [c.value for c in at.caption if c.value.startswith(":material/lock: ") and LOCK_NOTE not in c.value]
    assert runs == [":material/lock: LayerNorm, batch 8", ":material/lock: GroupNorm, batch 16"]  # in each run
    at.button(key="training:run").click().run()
    deadline = time.monotonic() + 180  # the runs train in the service's workers; the page polls
    while at.session_state["training:running"] and time.monotonic() < deadline:
        time.sleep(0.2)
        at.run()
    jobs = at.session_state["training:runs"]
    assert [(j.config.norm, j.config.batch_size, j.config.steps, j.status) for j in jobs] == \
        [("layer", 8, 20, "done"), ("group", 16, 20, "done")]
    assert figures(at) and "Loss" in json.dumps(figures(at)[0])  # the locked view
    assert at.query_params["lock"] == "norm,batch,steps,view"  # the URL rewrite keeps the lock


def test_training_lock_keeps_presets_that_touch_no_locked_value():
    at = open_page("training", lock="seed", seed="7")
    assert "training.seed" not in input_keys(at)
    assert {"training:preset_bn", "training:preset_gn"} <= {b.key for b in at.button}
    at.button(key="training:preset_gn").click().run()
    assert at.session_state["training.view"] == "sweep" and at.session_state["training.seed"] == 7


@pytest.mark.parametrize("page", list(PAGES))
def test_locking_everything_hides_every_control(page):
    _, prefix, cls, _ = PAGES[page]
    names = [n for n in cls.field_names() if n != "lock"]
    assert {key for key in input_keys(open_page(page)) if key.startswith(f"{prefix}.")}  # not vacuous
    at = open_page(page, lock=",".join(names))
    # State controls have keys "<prefix>.<name>..." (per-run and per-item widgets add a suffix).
    left = {key for key in input_keys(at) if key.startswith(f"{prefix}.")}
    assert not left, f"{page}: locked controls still shown: {sorted(left)}"
    assert lock_caption(at)


def test_readme_lists_every_lockable_parameter():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## For teachers", 1)[1].split("\n## ", 1)[0]
    for page, (_, _, cls, path) in PAGES.items():
        rows = [line for line in section.splitlines() if line.startswith("|") and f"`{path}`" in line]
        assert len(rows) == 1, f"README has no row for {path}"
        listed = re.findall(r"`([^`/]+)`", rows[0].split(f"`{path}`", 1)[1])
        generated = {n for n in cls.field_names() if n not in getattr(cls, "__bases__")[0].field_names()} \
            if cls.__name__ == "CubeState" else set()  # one field per number-valued norm parameter
        assert listed == [n for n in cls.field_names() if n != "lock" and n not in generated], page
        if generated:
            assert "every number-valued norm parameter" in rows[0], page


@pytest.mark.browser
def test_training_lock_in_chromium(app_url, page):
    from browser_utils import assert_no_exception, screenshot, wait_for_app
    from lab_utils import open_link

    url = f"{app_url}/training?lock=norm,batch,steps&norm=layer,group&batch=8,16&steps=30&preset=custom"
    open_link(page, url)
    main = page.locator('[data-testid="stMain"]')
    assert "fixed by your teacher" in main.inner_text()
    page.get_by_label("Learning rate", exact=True).nth(1).wait_for(timeout=30000)  # both runs' controls drawn
    assert page.get_by_label("Norm", exact=True).count() == 0  # no per-run norm selectbox
    assert page.get_by_label("Batch size", exact=True).count() == 0
    assert page.get_by_label("Steps", exact=True).count() == 0
    assert page.get_by_label("Learning rate", exact=True).count() == 2  # unlocked controls stay
    assert page.get_by_role("button", name="Run BN Figure 1").count() == 0
    screenshot(page, "training_lab_locked", full_page=False)
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_role("button", name="Run log (CSV)").wait_for(timeout=90000)  # shown once both runs end
    wait_for_app(page)
    assert_no_exception(page)
    text = main.inner_text()
    assert "1: LayerNorm · B=8" in text and "2: GroupNorm · B=16" in text, text[:3000]
    assert text.count("step 30 / 30") == 2, text[-1500:]
    assert "lock=norm%2Cbatch%2Csteps" in page.url or "lock=norm,batch,steps" in page.url
