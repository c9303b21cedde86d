"""The cube's figures and numbers (normviz.cube, normviz.cube.numbers, normviz.cube.batch_noise).

What the figures highlight is read back from the figure JSON (each point's customdata starts
with its (n, c, h, w); each trace's meta says its norm and role) and compared with
``pooling_weights``: the picture must show exactly the set the library computes.
"""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from normviz.cube.batch_noise import batch_noise, noise_figure, noise_sentence
from normviz.cube.figures import (
    grid_entries,
    COMPARE,
    cube_figure,
    kept_indices,
    selected_from_point,
    sequence_figure,
    sequence_sentence,
    sequence_weights,
    small_multiples_figure,
    unfolded_figure,
)
from normviz.cube.numbers import (
    CubeSpec,
    count_caption,
    count_sets,
    data_for,
    edge_notes,
    element_stats,
    formula_numbers,
    make_data,
    pytorch_snippet,
    statistics_csv,
    statistics_rows,
    summary_sentence,
    switchable_probabilities,
    torch_difference,
    weights,
)
from normviz.norms import MIXTURES, NORMS, pooling_weights
from normviz.state import CubeState

ACTIVATION = [k for k, s in NORMS.items() if s.kind != "weight"]
POOLING = [k for k in ACTIVATION if not NORMS[k].is_elementwise]  # norms that pool a set
WEIGHT = [k for k, s in NORMS.items() if s.kind == "weight"]
# N = 1; G = 2 and G = 3 (neither 1 nor C = 6); a non-square map; an odd C with G = C.
SHAPES = [((1, 6, 3, 3), 3, (0, 4, 2, 1)), ((2, 6, 4, 4), 2, (1, 3, 0, 2)), ((4, 6, 2, 5), 3, (3, 5, 1, 4)),
          ((2, 5, 3, 2), 5, (1, 2, 2, 0))]
RHO = (0.3,)
SN = (switchable_probabilities([1.0, 0.0, -1.0]).tolist(), switchable_probabilities([-0.5, 0.5, 2.0]).tolist())


def spec_for(norm, shape, G, index, **kw) -> CubeSpec:
    ghost = max(d for d in range(1, shape[0] + 1) if shape[0] % d == 0 and d <= 2)
    return CubeSpec(norm=norm, shape=shape, index=index, groups=G, ghost_size=ghost, rho=RHO,
                    mean_weights=tuple(SN[0]), var_weights=tuple(SN[1]), **kw)


def traces(fig, **match) -> list:
    out = []
    for t in fig.data:
        meta = t.meta or {}
        if all(meta.get(k) == v for k, v in match.items()):
            out.append(t)
    return out


def cells_of(trs) -> set[tuple[int, ...]]:
    return {tuple(int(v) for v in cd[:4]) for t in trs for cd in (t.customdata or [])}


def heat_cells(trs, shape) -> dict[tuple[int, ...], float]:
    """Cells a small-multiples heatmap colours (weight > 0), with their weight; cell
    (n, c, h, w) sits at x = c·(W + 1) + w, y = n·(H + 1) + h."""
    N, C, H, W = shape
    out = {}
    for t in trs:
        for y, zr in zip(t.y, t.z):
            for x, z in zip(t.x, zr):
                if z is not None and z > 0:
                    c, w = divmod(int(x), W + 1)
                    n, h = divmod(int(y), H + 1)
                    assert w < W and h < H, "a gap is coloured"
                    out[(n, c, h, w)] = z
    return out


def expected(spec, norm=None, stat="mean") -> set[tuple[int, ...]]:
    w = weights(spec, norm, stat)
    return {tuple(int(v) for v in i) for i in np.argwhere(w > 0)}


def visible_view(fig) -> list:
    return [t for t in fig.data if t.visible is not False and (t.meta or {}).get("role") != "selected"]


# --------------------------------------------------------------------------------------------
# The highlighted set is the pooled set


@pytest.mark.parametrize("norm", ACTIVATION)
@pytest.mark.parametrize("shape,G,index", SHAPES)
def test_cube_and_unfolded_highlight_equal_pooling_weights(norm, shape, G, index):
    spec = spec_for(norm, shape, G, index)
    x = make_data(shape, seed=1)
    cube, flat = cube_figure(spec, x), unfolded_figure(spec, x)
    for stat in (("mean", "var") if norm == "switchable" else ("mean",)):
        want = expected(spec, norm, stat)
        assert cells_of(traces(cube, norm=norm, stat=stat, role="pooled")) == want
        assert cells_of(traces(flat, norm=norm, stat=stat, role="pooled")) == want
        # every drawn cell is either pooled or not, never both, never missing
        every = {tuple(i) for i in np.ndindex(shape)}
        other = cells_of(traces(cube, norm=norm, stat=stat, role="other"))
        assert other == every - want
    # the chosen norm's own view is the one visible at first, and the selected cell is drawn
    assert all(t.meta["norm"] == norm for t in visible_view(cube))
    sel = traces(cube, role="selected")
    assert len(sel) == 1


@pytest.mark.parametrize("norm", sorted(MIXTURES))
@pytest.mark.parametrize("shape,G,index", SHAPES[:3])
def test_mixture_intensity_is_the_pooling_weight(norm, shape, G, index):
    spec = spec_for(norm, shape, G, index)
    x = make_data(shape, seed=2)
    for stat in (("mean", "var") if norm == "switchable" else ("mean",)):
        w = pooling_weights(shape, norm, index, rho=np.array(RHO), mean_weights=SN[0], var_weights=SN[1], stat=stat)
        got = heat_cells(traces(small_multiples_figure(spec), norm=norm, stat=stat, role="pooled-map"), shape)
        assert set(got) == {tuple(int(v) for v in i) for i in np.argwhere(w > 0)}
        np.testing.assert_allclose([got[c] for c in got], [w[c] for c in got], rtol=1e-5)
    for fig in (cube_figure(spec, x), unfolded_figure(spec, x)):
        for stat in (("mean", "var") if norm == "switchable" else ("mean",)):
            w = pooling_weights(shape, norm, index, rho=np.array(RHO), mean_weights=SN[0], var_weights=SN[1], stat=stat)
            trs = traces(fig, norm=norm, stat=stat, role="pooled")
            assert trs, f"no pooled trace for {norm}/{stat}"
            for t in trs:
                got = np.asarray(t.marker.color, dtype=float)
                cells = [tuple(int(v) for v in cd[:4]) for cd in t.customdata]
                want = np.array([w[c] for c in cells])
                np.testing.assert_allclose(got, want, rtol=1e-3)
    if norm == "batch_instance":
        # BN set and IN set at once: two intensity levels, the IN set (own sample) the darker
        w = weights(spec)
        levels = np.unique(np.round(w[w > 0], 12))
        assert len(levels) == (2 if shape[0] > 1 else 1)  # N = 1: BN's set is IN's set


def test_switchable_mean_and_var_blends_are_drawn_separately():
    spec = spec_for("switchable", (2, 6, 4, 4), 2, (1, 3, 0, 2))
    x = make_data(spec.shape)
    cube = cube_figure(spec, x)
    labels = [b.label for b in cube.layout.updatemenus[0].buttons]
    assert labels[:2] == ["SN μ", "SN σ²"]
    m = traces(cube, norm="switchable", stat="mean", role="pooled")[0]
    v = traces(cube, norm="switchable", stat="var", role="pooled")[0]
    assert not np.allclose(m.marker.color, v.marker.color)  # different weights, different pictures
    flat = unfolded_figure(spec, x)
    assert {t.meta.get("stat") for t in flat.data if t.meta.get("role") == "pooled"} == {"mean", "var"}


@pytest.mark.parametrize("shape,G,index", SHAPES[:3])
def test_in_figure_buttons_switch_between_ln_gn_in_bn(shape, G, index):
    spec = spec_for("batch", shape, G, index)
    fig = cube_figure(spec, make_data(shape))
    buttons = fig.layout.updatemenus[0].buttons
    norms = [v[0] for v in fig.layout.meta["views"]]
    assert norms[0] == "batch" and set(norms) == {"batch", *COMPARE}
    assert [b.label for b in buttons] == [{"batch": "BN", "layer": "LN", "group": "GN", "instance": "IN"}[k] for k in norms]
    for b, norm in zip(buttons, norms):
        vis = b.args[0]["visible"]
        assert len(vis) == len(fig.data)
        shown = [t for t, v in zip(fig.data, vis) if v]
        assert {(t.meta or {}).get("norm") for t in shown} - {None} == {norm}
        pooled = [t for t in shown if t.meta.get("role") == "pooled"]
        assert cells_of(pooled) == expected(spec, norm)
        assert str(len(expected(spec, norm))) in b.args[1]["title.text"]


@pytest.mark.parametrize("norm", [k for k in POOLING if k not in MIXTURES])
@pytest.mark.parametrize("shape,G,index", SHAPES)
def test_colour_every_group_draws_exactly_K_groups(norm, shape, G, index):
    spec = spec_for(norm, shape, G, index, colour_all=True)
    fig = cube_figure(spec, make_data(shape))
    (t,) = traces(fig, norm=norm, role="groups")
    K = count_sets(spec)
    groups = [int(cd[5]) for cd in t.customdata]
    assert len(set(groups)) == K == t.meta["K"]
    colour_of = {}
    for g, col in zip(groups, t.marker.color):
        assert colour_of.setdefault(g, col) == col  # one colour per group
    assert len(set(colour_of.values())) == K  # and K different colours
    assert f"K = {K}" in count_caption(spec)
    assert f"K = {K}" in fig.layout.title.text
    (flat,) = traces(unfolded_figure(spec, make_data(shape)), norm=norm, role="groups")  # the 2D view too
    assert len({int(cd[5]) for cd in flat.customdata}) == K == len(set(flat.marker.color))


def test_count_caption_names_the_paper_counts():
    spec = CubeSpec(shape=(2, 6, 4, 4), groups=2)
    assert count_caption(spec.with_norm("batch")).startswith("BatchNorm computes K = 6 means (C = 6)")
    assert "K = 2 means (N = 2)" in count_caption(spec.with_norm("layer"))
    assert "K = 12 means (N·C = 2·6)" in count_caption(spec.with_norm("instance"))
    assert "K = 4 means (N·G = 2·2)" in count_caption(spec.with_norm("group"))


# --------------------------------------------------------------------------------------------
# Small multiples, sequences


@pytest.mark.parametrize("shape,G,index", SHAPES[:3])
def test_small_multiples_show_every_activation_norm_with_ln_gn_in_first(shape, G, index):
    spec = spec_for("group", shape, G, index)
    fig = small_multiples_figure(spec)
    titles = [a.text for a in fig.layout.annotations]
    assert [t.split(" ")[0].rstrip(":") for t in titles[:3]] == ["LN", "GN", "IN"]
    drawn = {t.meta["norm"] for t in fig.data if "norm" in (t.meta or {})}
    assert drawn == {k for k in ACTIVATION}
    for norm, stat in grid_entries(None):
        assert set(heat_cells(traces(fig, norm=norm, stat=stat, role="pooled-map"), shape)) == expected(spec, norm, stat)
    # GN's set lies between LN's and IN's: IN ⊆ GN ⊆ LN
    ln, gn, inn = (expected(spec, k) for k in ("layer", "group", "instance"))
    assert inn <= gn <= ln


@pytest.mark.parametrize("kind,size", [("layer_D", 5), ("rms_D", 5), ("layer_LD", 15), ("batch_D", 6)])
def test_sequence_view_pools_normalized_shape(kind, size):
    shape, index = (2, 3, 5), (1, 2, 4)
    w = sequence_weights(shape, kind, index)
    assert np.count_nonzero(w) == size and np.isclose(w.sum(), 1)
    fig = sequence_figure(shape, kind, index)
    pooled = {tuple(cd) for cd in traces(fig, role="pooled")[0].customdata}
    assert pooled == {tuple(int(v) for v in i) for i in np.argwhere(w > 0)}
    assert f"pools {size} values" in sequence_sentence(shape, kind, index)


# --------------------------------------------------------------------------------------------
# Weight norms


@pytest.mark.parametrize("norm", WEIGHT)
def test_weight_norms_draw_the_weight_tensor(norm):
    spec = CubeSpec(norm=norm, shape=(4, 3, 3, 3), index=(2, 1, 0, 2))
    w = data_for(spec)
    fig = cube_figure(spec, w)
    assert fig.layout.scene.xaxis.title.text == "C_out"
    assert cells_of(traces(fig, norm=norm, role="pooled")) == {(2, i, a, b) for i in range(3) for a in range(3) for b in range(3)}
    assert "output filter o = 2" in summary_sentence(spec)
    diff, name = torch_difference(spec, w)
    assert diff < 1e-10, name


# --------------------------------------------------------------------------------------------
# Numbers and words


def test_summary_sentence_reads_like_the_example():
    spec = CubeSpec(norm="batch", shape=(2, 6, 4, 4), index=(1, 2, 3, 0))
    assert summary_sentence(spec) == "BatchNorm pools 2×4×4 = 32 values: every n, h, w of channel c = 2."
    gn = summary_sentence(CubeSpec(norm="group", shape=(2, 6, 4, 4), index=(1, 4, 0, 0), groups=2))
    assert gn == ("GroupNorm (G = 2) pools 3×4×4 = 48 values: every h, w of channels c = 3–5 (group 1 of 2) "
                  "in sample n = 1.")
    assert "weighted ρ = 0.3" in summary_sentence(spec_for("batch_instance", (2, 6, 4, 4), 2, (0, 0, 0, 0)))


@pytest.mark.parametrize("norm", list(NORMS))
def test_sentence_size_matches_the_highlight(norm):
    shape = (3, 6, 2, 3) if norm not in WEIGHT else (6, 3, 2, 2)
    spec = spec_for(norm, shape, 3, (2, 4, 1, 1) if norm not in WEIGHT else (2, 2, 1, 1))
    text = summary_sentence(spec)
    if norm in MIXTURES:
        for k in MIXTURES[norm]:
            assert f"= {len(expected(spec, k))} values" in text
    elif NORMS[norm].is_elementwise:
        assert "pools nothing" in text and len(expected(spec)) == 1
    else:
        assert f"= {len(expected(spec))} values" in text


@pytest.mark.parametrize("norm", list(NORMS))
@pytest.mark.parametrize("shape,G,index", SHAPES[:2])
def test_torch_agrees_to_1e_10_in_float64(norm, shape, G, index):
    spec = spec_for(norm, shape if norm not in WEIGHT else (6, 3, 3, 3), G, index)
    x = data_for(spec, seed=3)
    diff, name = torch_difference(spec, x)
    assert diff is not None and diff < 1e-10, f"{norm}: {diff} vs {name}"


def test_formula_shows_the_selected_sets_numbers():
    spec = CubeSpec(norm="group", shape=(2, 6, 4, 4), index=(0, 1, 2, 3), groups=2)
    x = make_data(spec.shape, seed=4)
    st = element_stats(spec, x)
    sel = x[0, 0:3].ravel()
    assert np.isclose(st.mean[0, 1, 2, 3], sel.mean()) and np.isclose(st.var[0, 1, 2, 3], sel.var())
    tex = formula_numbers(spec, x, st)
    assert "|S| = 48" in tex and f"{sel.mean():.4g}" in tex and f"{st.x_hat[0, 1, 2, 3]:.4g}" in tex
    assert "- -" not in tex.replace(" ", " ")  # a negative mean is subtracted in parentheses
    neg = make_data(spec.shape, seed=4) - 10.0
    assert r"- (-" in formula_numbers(spec, neg)


def test_statistics_rows_one_per_statistic_and_csv():
    spec = CubeSpec(norm="group", shape=(2, 6, 4, 4), groups=3)
    x = make_data(spec.shape)
    rows = statistics_rows(spec, x)
    assert len(rows) == count_sets(spec) == 6
    csv = statistics_csv(rows)
    assert csv.splitlines()[0].startswith("norm,part,set,first element,size,mean,var")
    assert len(csv.strip().splitlines()) == 7
    mix = statistics_rows(spec.with_norm("switchable"), x)
    assert len(mix) == count_sets(spec.with_norm("switchable")) == 2 * 6 + 2 + 6


@pytest.mark.parametrize("norm", ["group", "switchable", "batch_instance", "ghost_batch", "weight", "pono"])
def test_pytorch_snippet_runs(norm):
    spec = spec_for(norm, (2, 6, 3, 3) if norm not in WEIGHT else (4, 3, 3, 3), 2, (1, 2, 1, 0))
    x = data_for(spec, seed=5)
    for code, exact in ((pytorch_snippet(spec), False), (pytorch_snippet(spec, x=x), True)):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, "snippet", "exec"), {})
        text = out.getvalue()
        assert "(1, 2, 1, 0)" in text or "filter 1, weight (2, 1, 0)" in text
        if exact:  # the app's own input is in the script: it prints the app's x̂
            printed = float(text.splitlines()[0].rsplit(" ", 1)[1])
            assert abs(printed - element_stats(spec, x).x_hat[1, 2, 1, 0]) < 1e-10


# --------------------------------------------------------------------------------------------
# Edge cases: explained, never raised


@pytest.mark.parametrize("norm,shape,words", [
    ("batch", (1, 3, 1, 1), "N·H·W"), ("batch_instance", (1, 3, 1, 1), "N·H·W"),
    ("instance", (2, 3, 1, 1), "H·W"), ("switchable", (3, 2, 1, 1), "H·W"),
])
def test_undefined_norms_give_a_message_and_still_draw(norm, shape, words):
    spec = spec_for(norm, shape, 1, (0, 1, 0, 0))
    x = make_data(shape)
    notes = edge_notes(spec, x)
    assert notes and notes[0][0] == "error" and words in notes[0][1]
    fig = cube_figure(spec, x)  # still drawn
    assert cells_of(traces(fig, norm=norm, role="pooled")) == expected(spec)
    assert torch_difference(spec, x)[0] is None


def test_constant_channel_sigma_zero_eps_decides():
    spec = CubeSpec(norm="instance", shape=(2, 4, 3, 3), index=(1, 2, 0, 0))
    x = make_data(spec.shape, "constant", constant_channel=2)
    notes = edge_notes(spec, x)
    assert notes[0][0] == "warning" and "σ² = 0" in notes[0][1] and "ε" in notes[0][1]
    assert element_stats(spec, x).x_hat[1, 2, 0, 0] == 0
    notes0 = edge_notes(CubeSpec(norm="instance", shape=(2, 4, 3, 3), index=(1, 2, 0, 0), eps=0.0), x)
    assert notes0[0][0] == "error" and "NaN" in notes0[0][1]


# --------------------------------------------------------------------------------------------
# Size, budget, validity


def test_default_figure_is_small():
    s, _ = CubeState.from_query({})
    spec = CubeSpec(norm=s.norm, shape=s.shape, index=s.index, groups=s.G)
    x = make_data(spec.shape)
    size = len(cube_figure(spec, x).to_json().encode())
    assert size <= 150_000, f"default cube figure is {size} bytes"


def test_downsampling_above_the_budget_keeps_the_selection_and_says_so():
    shape, index = (8, 32, 16, 16), (5, 17, 9, 3)
    spec = CubeSpec(norm="group", shape=shape, index=index, groups=4, max_cells=1200)
    x = make_data(shape)
    fig = cube_figure(spec, x)
    drawn = cells_of(fig.data)
    assert len(drawn) <= 1200 and index in drawn
    note = fig.layout.meta["note"]
    assert note and "downsampled" in note and f"{np.prod(shape):,}" in note
    ks, _ = kept_indices(shape, index, 1200)
    kept = {c for c in expected(spec) if all(c[a] in ks[a] for a in range(4))}
    assert cells_of(traces(fig, norm="group", role="pooled")) == kept
    assert len(fig.to_json()) < 400_000  # the largest shape stays a light figure
    small = cube_figure(CubeSpec(), make_data((2, 6, 4, 4)))
    assert small.layout.meta["note"] is None


@pytest.mark.parametrize("norm", ["group", "switchable", "batch_instance", "weight"])
def test_figures_pass_plotly_validation(norm):
    spec = spec_for(norm, (2, 6, 3, 3) if norm not in WEIGHT else (4, 3, 3, 3), 2, (1, 2, 1, 0))
    x = data_for(spec)
    figs = [cube_figure(spec, x), unfolded_figure(spec, x), cube_figure(spec.__class__(**{**spec.__dict__, "colour_all": True}), x)]
    if norm not in WEIGHT:
        figs.append(small_multiples_figure(spec))
    figs += [sequence_figure((2, 3, 4), "layer_D", (0, 1, 2))]
    for fig in figs:
        go.Figure(json.loads(fig.to_json()))  # raises on any invalid property


def test_selected_from_point_reads_customdata():
    assert selected_from_point({"customdata": [1, 2, 3, 0, 0.5]}) == (1, 2, 3, 0)
    assert selected_from_point({"x": 1}) is None


def test_switchable_probabilities():
    np.testing.assert_allclose(switchable_probabilities([0, 0, 0]), [1 / 3] * 3)
    p = switchable_probabilities([2, 1, 1], mode="probabilities")
    np.testing.assert_allclose(p, [0.5, 0.25, 0.25])
    with pytest.raises(ValueError, match="≥ 0"):
        switchable_probabilities([-1, 1, 1], mode="probabilities")


# --------------------------------------------------------------------------------------------
# Batch noise


def test_gaussian_batch_variance_is_sqrt2_noisier_and_sentence_says_so():
    rng = np.random.default_rng(0)
    maps = rng.standard_normal((4000, 1, 1))  # one value per "image": the textbook case
    r = batch_noise(maps=maps, sizes=(8, 32), trials=4000, source="digits")
    np.testing.assert_allclose(r.mean_sd, 1 / np.sqrt([8, 32]), rtol=0.08)
    np.testing.assert_allclose(r.ratio, np.sqrt(2), rtol=0.1)
    assert "the batch variance is the noisier statistic" in noise_sentence(r)
    assert "at every batch size measured" in noise_sentence(r)


def test_batch_noise_sentence_follows_the_measurement_on_real_data():
    for source in ("digits", "patches"):
        r = batch_noise(source, sizes=(4, 16, 64), trials=500)
        assert np.all(np.diff(r.mean_sd) < 0) and np.all(np.diff(r.var_sd) < 0)  # shrinks with B
        text = noise_sentence(r, B=16)
        noisier_var = r.ratio[1] > 1
        assert ("the batch variance is the noisier statistic" in text) == noisier_var
        assert f"{r.mean_sd[1]:.1%}" in text and f"{r.var_sd[1]:.1%}" in text
        go.Figure(json.loads(noise_figure(r).to_json()))


@pytest.mark.parametrize("value, latex", [(0.4492, "0.4492"), (-2.442, "-2.442"), (1e-5, r"1\times10^{-5}"),
                                          (2.776e-17, r"2.776\times10^{-17}"), (-3.2e20, r"-3.2\times10^{20}"),
                                          (123456.0, r"1.235\times10^{5}"), (float("nan"), r"\text{undefined}")])
def test_numbers_in_formulas_are_balanced_latex(value, latex):
    """Two-digit exponents too (a mean of 2.8e-17 once came out as "2.776e-17}", which KaTeX rejects)."""
    from normviz.cube.numbers import _fmt

    assert _fmt(value) == latex
    assert latex.count("{") == latex.count("}")
