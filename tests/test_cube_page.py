"""The cube page under AppTest: every norm renders, G offers the divisors of C, edge cases are
explained, and URL query parameters become widget values (invalid ones replaced, with a notice).
"""
from __future__ import annotations

import json
from functools import partial

import pytest
from streamlit.components.v2.bidi_component.main import _make_trigger_id
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

import page_utils
from app_pages._live_chart import payload

from normviz.cube.keys import KEYS
from normviz.norms import NORMS
from normviz.validate import divisors

open_page = partial(page_utils.open_page, "cube.py")


def texts(at, kind: str) -> list[str]:
    return [el.value for el in getattr(at, kind)]


def bold_sentence(at) -> str:
    hits = [m for m in texts(at, "markdown") if m.startswith("**") and (" values" in m or "pools nothing" in m)]
    assert len(hits) == 1, texts(at, "markdown")
    return hits[0].strip("*")


charts = page_utils.live_chart_elements  # the page's live_chart elements, in page order


def chart_specs(at) -> list[dict]:
    return [payload(el)["figure"] for el in charts(at)]


def click(at: AppTest, element, point: dict, event: str = "click") -> AppTest:
    """Send what live_chart's JS sends on a click (setTriggerValue("click", point)), or with
    ``event="key"`` on a key press (setTriggerValue("key", name)), and rerun."""
    states = at._tree.get_widget_states()
    state = WidgetState(id=_make_trigger_id(element.proto.id, "events"))
    state.json_trigger_value = json.dumps([{"event": event, "value": point}])
    states.widgets.append(state)
    at._run(states)
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def page():
    return open_page()


def test_default_view_is_the_group_norm_paper_setting(page):
    assert page.selectbox(key="cube.norm").value == "group"
    assert page.selectbox(key="cube.G").value == 2
    assert [page.number_input(key=f"cube.{a}").value for a in "NCHW"] == [2, 6, 4, 4]
    assert bold_sentence(page).startswith("GroupNorm (G = 2) pools 3×4×4 = 48 values")
    assert any("K = 4 means" in c for c in texts(page, "caption"))
    specs = chart_specs(page)
    assert specs[0]["data"][0]["type"] == "scatter3d"          # the cube
    assert specs[1]["layout"]["clickmode"] == "event+select"    # the clickable unfolded view
    titles = [a["text"] for a in specs[2]["layout"]["annotations"]]
    assert titles[0].startswith("LN") and titles[1].startswith("GN") and titles[2].startswith("IN")
    cube, unfolded = (payload(el) for el in charts(page)[:2])
    assert cube["alt"] == bold_sentence(page)
    assert unfolded["alt"] == ("Unfolded view: " + bold_sentence(page)
                               + " Keys: ←/→ move w, ↑/↓ move h, Shift+←/→ move c, Shift+↑/↓ move n.")
    assert (cube["click"], unfolded["click"]) == (False, True)
    assert (cube["keys"], unfolded["keys"]) == ([], list(KEYS))  # only the unfolded view is focusable
    assert unfolded["status"].startswith("Selected (n, c, h, w) = (0, 0, 0, 0), x = ")
    assert cube["config"]["toImageButtonOptions"]["filename"] == "normviz-cube"  # the modebar's PNG


def test_a_click_on_the_unfolded_view_selects_that_cell():
    at = open_page()
    unfolded = charts(at)[1]
    trace = next(t for t in payload(unfolded)["figure"]["data"] if t.get("customdata"))
    point = {"curveNumber": 0, "pointNumber": 5, "pointIndex": 5, "x": None, "y": None, "z": None,
             "customdata": trace["customdata"][-1]}
    want = [int(v) for v in point["customdata"][:4]]
    assert want != [at.number_input(key=f"cube.{a}").value for a in "nchw"]
    click(at, unfolded, point)
    assert [at.number_input(key=f"cube.{a}").value for a in "nchw"] == want
    # the next run (a widget change) keeps the selection: the click was a one-run trigger
    at.selectbox(key="cube.G").set_value(3).run()
    assert [at.number_input(key=f"cube.{a}").value for a in "nchw"] == want


def test_keys_on_the_unfolded_view_walk_the_selection_and_clamp():
    at = open_page(n=0, c=0, h=0, w=0)
    selected = lambda: [at.number_input(key=f"cube.{a}").value for a in "nchw"]  # noqa: E731
    for key, want in [("ArrowRight", [0, 0, 0, 1]), ("ArrowDown", [0, 0, 1, 1]), ("Shift+ArrowRight", [0, 1, 1, 1]),
                      ("Shift+ArrowDown", [1, 1, 1, 1]), ("Shift+ArrowDown", [1, 1, 1, 1]),  # N = 2: clamped
                      ("ArrowLeft", [1, 1, 1, 0]), ("ArrowLeft", [1, 1, 1, 0])]:
        click(at, charts(at)[1], key, event="key")
        assert selected() == want, key
    status = payload(charts(at)[1])["status"]
    assert status.startswith("Selected (n, c, h, w) = (1, 1, 1, 0), x = ") and bold_sentence(at) in status
    assert any("Tab to the unfolded view" in c and "Shift+↑/↓ move n" in c for c in texts(at, "caption"))
    # the next run keeps the selection: the key was a one-run trigger
    at.selectbox(key="cube.G").set_value(3).run()
    assert selected() == [1, 1, 1, 0]


def test_every_registry_norm_can_be_selected_and_renders(page):
    for key, spec in NORMS.items():
        page.selectbox(key="cube.norm").set_value(key).run()
        assert not page.exception, f"{key}: {page.exception}"
        assert not page.error, f"{key}: {texts(page, 'error')}"
        sentence = bold_sentence(page)
        assert sentence.startswith(spec.name), (key, sentence)
        cube = chart_specs(page)[0]
        assert {t.get("meta", {}).get("norm") for t in cube["data"]} >= {key}


@pytest.mark.parametrize("C", [6, 12, 7, 1])
def test_group_choices_are_exactly_the_divisors_of_C(C):
    at = open_page(C=C)
    assert at.selectbox(key="cube.G").options == [str(d) for d in divisors(C)]
    at.number_input(key="cube.C").set_value(8).run()
    assert at.selectbox(key="cube.G").options == [str(d) for d in divisors(8)]
    assert at.selectbox(key="cube.G").value in divisors(8)


@pytest.mark.parametrize("query,kind,words", [
    ({"norm": "batch", "N": 1, "H": 1, "W": 1}, "error", "N·H·W = 1·1·1 = 1"),
    ({"norm": "instance", "H": 1, "W": 1}, "error", "H·W = 1·1 = 1"),
    ({"C": 6, "G": 4}, "warning", "G = 4 does not divide C = 6"),
    ({"norm": "instance", "data": "constant"}, "warning", "σ² = 0"),
    ({"norm": "group", "data": "constant", "eps": 0, "G": 6}, "error", "this is exactly why ε exists"),
])
def test_each_edge_case_shows_its_message(query, kind, words):
    at = open_page(**query)
    msgs = texts(at, kind)
    assert any(words in m for m in msgs), msgs
    assert charts(at), "the page keeps drawing"


def test_query_params_become_widget_values():
    at = open_page(norm="layer", N=3, C=8, H=2, W=5, n=2, c=7, h=1, w=4, layout="full", seed=7, colour_all=1)
    assert at.selectbox(key="cube.norm").value == "layer"
    assert [at.number_input(key=f"cube.{a}").value for a in ("N", "C", "H", "W", "n", "c", "h", "w", "seed")] == \
        [3, 8, 2, 5, 2, 7, 1, 4, 7]
    assert at.radio(key="cube.layout").value == "full"
    assert at.toggle(key="cube.colour_all").value is True
    assert not at.warning
    assert bold_sentence(at) == "LayerNorm pools 8×2×5 = 80 values: every c, h, w of sample n = 2."


def test_invalid_query_params_fall_back_with_a_notice_naming_them():
    at = open_page(N=99, norm="<script>", eps="abc", c=40, layout="sideways")
    notices = " ".join(texts(at, "warning"))
    for name in ("'N'", "'norm'", "'eps'", "'layout'", "'c'"):
        assert name in notices, (name, notices)
    assert at.number_input(key="cube.N").value == 2
    assert at.selectbox(key="cube.norm").value == "group"
    assert at.number_input(key="cube.eps").value == 1e-5
    assert at.radio(key="cube.layout").value == "paper"


def test_clamped_selection_is_explained():
    at = open_page(n=5)
    assert any("Selected n = 5 is outside the tensor (N = 2)" in w for w in texts(at, "warning"))
    assert at.number_input(key="cube.n").value == 1


def test_lock_hides_controls():
    at = open_page(lock="norm,C,G", norm="batch")
    keys = {getattr(w, "key", None) for w in at.selectbox} | {getattr(w, "key", None) for w in at.number_input}
    assert "cube.norm" not in keys and "cube.C" not in keys
    assert "cube.N" in keys
    assert bold_sentence(at).startswith("BatchNorm")


def test_mixture_controls_reach_the_figure():
    at = open_page(norm="switchable", sn_mode="probabilities", sn_mean="1,0,0", sn_var="0,0,1")
    s = bold_sentence(at)
    assert "with weight 1.00 for μ and 0.00 for σ²" in s and "with weight 0.00 for μ and 1.00 for σ²" in s
    assert "used as weights for μ: IN 1.00, LN 0.00, BN 0.00" in texts(at, "caption")
    at = open_page(norm="switchable", sn_mean="0,0,1")  # logits: shown softmaxed
    assert "used as weights for μ: IN 0.21, LN 0.21, BN 0.58" in texts(at, "caption")
    at = open_page(norm="batch_instance", rho="0.25")
    assert "ρ = 0.25" in bold_sentence(at)
    assert at.slider(key="cube.rho_shared").value == 0.25


def test_weight_norm_explains_it_is_a_different_kind():
    at = open_page(norm="weight_standardization", C=4, cin=2, k=3)
    assert any("normalizes weights, not activations" in i for i in texts(at, "info"))
    assert "every weight of output filter o = 0" in bold_sentence(at)
    assert chart_specs(at)[0]["layout"]["scene"]["xaxis"]["title"]["text"] == "C_out"


def test_numbers_view_checks_torch_and_offers_exports():
    at = open_page(view="numbers", norm="group", G=3)
    assert any("max |normviz − torch|" in s for s in texts(at, "success"))
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Statistics (CSV)", "PyTorch snippet (.py)"]
    assert "F.group_norm(x, int(groups)" in at.code[0].value and "groups=3" in at.code[0].value


def test_noise_and_sequence_views_render():
    at = open_page(view="noise")
    assert any("the batch mean misses the data mean" in m for m in texts(at, "markdown"))
    at = open_page(view="sequence", seq="layer_LD", L=4, D=3)
    assert any("pools 12 values" in m for m in texts(at, "markdown"))
