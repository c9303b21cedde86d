"""The cube walkthrough: every number a step states equals torch on the highlighted cells, and the
x̂ / output steps equal normviz.norms.normalize (normalize_weight), for every norm (hypothesis)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

from normviz.cube import numbers as cn, walkthrough as wt
from normviz.norms import NORMS, normalize, normalize_weight
from normviz.norms.sets import pooling_weights
from normviz.palette import BLUE, VERMILLION

KEYS = list(NORMS)


def _case(norm, dims, index_seed, seed):
    ns = NORMS[norm]
    N, C, H, W = dims
    if ns.is_weight:
        C, H = max(C, 1), max(H, 2)  # C_out × C_in × k × k with at least 2 weights per filter
        shape = (C, max(N, 1), H, H)
    else:
        shape = (N, C, H, W)
    rng = np.random.default_rng(index_seed)
    index = tuple(int(rng.integers(s)) for s in shape)
    groups = max(d for d in range(1, C + 1) if C % d == 0 and d <= 2)
    spec = cn.CubeSpec(norm=norm, shape=shape, index=index, groups=groups,
                       rho=(float(rng.uniform()),), ghost_size=1)
    x = np.random.default_rng(seed).normal(0.3, 1.5, size=shape)
    return spec, x


def _reference(spec, x):
    ns = spec.norm_spec
    if ns.is_weight:
        return normalize_weight(x, spec.norm, eps=spec.eps)
    return normalize(x, spec.norm, eps=spec.eps, **spec.norm_kwargs())


def check_steps(spec, x):
    steps = wt.steps(spec, x)
    i = tuple(spec.index)
    ref = _reference(spec, x)
    assert steps[0].cells.sum() == 1 and steps[0].cells[i] and steps[0].values["x"] == x[i]
    for s in steps:
        assert s.cells.shape == x.shape and s.latex and s.title
        t = torch.from_numpy(x[s.cells])
        v = s.values
        if "size" in v:
            assert v["size"] == s.cells.sum()
        if "mu" in v:
            assert v["mu"] == pytest.approx(t.mean().item(), rel=1e-9, abs=1e-12)
            assert v["sum"] == pytest.approx(t.sum().item(), rel=1e-9, abs=1e-12)
        if "var" in v:
            assert v["var"] == pytest.approx(t.var(unbiased=False).item(), rel=1e-9, abs=1e-12)
        if "std" in v:
            assert v["std"] == pytest.approx(t.std(unbiased=True).item(), rel=1e-9)
        if "nu2" in v:
            assert v["nu2"] == pytest.approx(t.square().mean().item(), rel=1e-9)
        if "norm" in v:
            assert v["norm"] == pytest.approx(torch.linalg.vector_norm(t).item(), rel=1e-9)
        for name in ("out_mean", "out_var", "out_mean_square"):
            if name in v:
                out = torch.from_numpy(ref[s.cells])
                want = {"out_mean": out.mean(), "out_var": out.var(unbiased=False),
                        "out_mean_square": out.square().mean()}[name].item()
                assert v[name] == pytest.approx(want, rel=1e-9, abs=1e-12)
    hats = [s for s in steps if "x_hat" in s.values]
    assert hats, [s.title for s in steps]
    assert hats[-1].values["x_hat"] == pytest.approx(ref[i], rel=1e-7, abs=1e-9)
    final = [s.values["y"] for s in steps if "y" in s.values]
    assert final and final[-1] == pytest.approx(ref[i], rel=1e-7, abs=1e-9)
    return steps


@pytest.mark.parametrize("norm", KEYS)
def test_steps_follow_the_family(norm):
    ns = NORMS[norm]
    spec, x = _case(norm, (2, 6, 4, 4), 1, 2)
    steps = check_steps(spec, x)
    titles = " | ".join(s.title for s in steps)
    if ns.family == "statistics":
        # the second step lights up exactly the set pooling_weights names
        w = pooling_weights(spec.shape, norm, spec.index, **spec.set_kwargs())
        assert np.array_equal(steps[1].cells, w > 0)
        assert ("The mean μ" in titles) == ns.centred and ("ν²" in titles) == (not ns.centred)
        assert ("r and d" in titles) == (ns.kind == "stateful")
    if ns.is_mixture:
        assert all(f"{NORMS[p].name}'s set" in titles for p in ns.mixes)
    if ns.is_weight:
        assert steps[1].cells.sum() == x[0].size  # one output filter: C_in·k·k weights
    if ns.is_elementwise:
        assert all(s.cells.sum() == 1 for s in steps)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(norm=st.sampled_from(KEYS), dims=st.tuples(*(st.integers(1, 4),) * 2, st.integers(1, 3), st.integers(1, 3)),
       index_seed=st.integers(0, 2 ** 16), seed=st.integers(0, 2 ** 16))
def test_every_number_in_the_steps_equals_torch_and_normalize(norm, dims, index_seed, seed):
    spec, x = _case(norm, dims, index_seed, seed)
    stats = cn.element_stats(spec, x)
    if stats.error:  # undefined here (BN on one value, ...): the walkthrough ends with the reason
        steps = wt.steps(spec, x, stats)
        assert steps[-1].text == stats.error and not any("x_hat" in s.values for s in steps)
        return
    check_steps(spec, x)


def test_renorm_steps_use_the_running_statistics():
    spec, x = _case("batch_renorm", (4, 2, 2, 2), 0, 0)
    spec = cn.CubeSpec(**{**spec.__dict__, "extra": (("running_mean", 2.0), ("running_std", 0.5))})
    steps = check_steps(spec, x)
    rd = next(s for s in steps if "r" in s.values)
    c = spec.index[1]
    t = torch.from_numpy(x[:, c])
    sigma_b = torch.sqrt(t.var(unbiased=False) + spec.eps).item()
    assert rd.values["r"] == pytest.approx(min(max(sigma_b / 0.5, 1 / 3), 3))
    assert rd.values["d"] == pytest.approx(min(max((t.mean().item() - 2.0) / 0.5, -5), 5))


def test_an_undefined_norm_ends_with_the_reason():
    spec = cn.CubeSpec(norm="instance", shape=(1, 1, 1, 1), index=(0, 0, 0, 0))
    steps = wt.steps(spec, np.ones((1, 1, 1, 1)))
    assert steps[-1].title == "Undefined here" and "H·W = 1" in steps[-1].text
    spec = cn.CubeSpec(norm="instance", shape=(1, 1, 2, 2), index=(0, 0, 0, 0), eps=0.0)
    steps = wt.steps(spec, np.ones((1, 1, 2, 2)))  # σ² = 0 and ε = 0: 0/0
    assert steps[-1].title == "Undefined here" and "ε" in steps[-1].text
    assert [s.values["var"] for s in steps if "var" in s.values] == [0.0]
    assert wt.clamp_step(99, len(steps)) == len(steps) - 1 and wt.clamp_step(-3, len(steps)) == 0


def covered(shapes: list[dict], n_rows: int, n_cols: int, colour: str) -> np.ndarray:
    """The cells inside the rectangles of ``colour`` (shape bounds are category positions ± ½)."""
    mask = np.zeros((n_rows, n_cols), dtype=int)
    for s in shapes:
        if s["line"]["color"] == colour:
            r0, r1 = sorted((s["y0"], s["y1"]))
            c0, c1 = sorted((s["x0"], s["x1"]))
            mask[int(np.ceil(r0)):int(np.floor(r1)) + 1, int(np.ceil(c0)):int(np.floor(c1)) + 1] += 1
    return mask


@given(st.lists(st.lists(st.booleans(), min_size=1, max_size=9), min_size=1, max_size=9).filter(
    lambda rows: len({len(r) for r in rows}) == 1))
def test_outline_rects_cover_the_cells_exactly_once(rows):
    mask = np.array(rows, dtype=bool)
    rects = wt.outline_rects(mask)
    count = np.zeros(mask.shape, dtype=int)
    for r0, r1, c0, c1 in rects:
        assert r0 <= r1 and c0 <= c1
        count[r0:r1 + 1, c0:c1 + 1] += 1
    assert np.array_equal(count, mask.astype(int))  # every True cell once, no False cell


@pytest.mark.parametrize("norm", KEYS)
def test_each_frame_of_the_walk_figure_is_that_steps_figure(norm):
    """The browser steps by applying frame k to the figure (the layout's shapes and title replaced):
    that must draw exactly what step_figure draws for step k, for every norm, and the outlines must
    cover exactly the step's cells."""
    spec, x = _case(norm, (2, 4, 3, 3), 1, 2)
    steps = wt.steps(spec, x)
    shown = len(steps) // 2
    walk = wt.walk_figure(spec, x, steps, shown)
    assert [f["name"] for f in walk["frames"]] == [str(k) for k in range(1, len(steps) + 1)]
    base = wt.step_figure(spec, x, steps[shown]).to_plotly_json()
    assert walk["layout"]["title"] == base["layout"]["title"]  # the server draws its own step first
    n, c, h, w = spec.index
    N, C, H, W = x.shape  # a weight norm's x is the weight, (o, i, kh, kw)
    for k, (step, frame) in enumerate(zip(steps, walk["frames"])):
        want = wt.step_figure(spec, x, step).to_plotly_json()
        assert frame["traces"] == [] and frame["data"] == [] and len(want["data"]) == 1
        assert np.array_equal(walk["data"][0]["z"], want["data"][0]["z"])  # the heatmap travels once
        layout = {**walk["layout"], **frame["layout"]}
        assert layout["title"] == want["layout"]["title"]
        assert [dict(s) for s in layout["shapes"]] == [dict(s) for s in want["layout"]["shapes"]]
        assert frame["layout"]["meta"]["alt"] == wt.step_alt(step, k + 1, len(steps))
        cells = step.cells.reshape(N * C, H * W)
        assert np.array_equal(covered(frame["layout"]["shapes"], *cells.shape, BLUE), cells.astype(int))
        selected = covered(frame["layout"]["shapes"], *cells.shape, VERMILLION)
        assert np.argwhere(selected).tolist() == [[n * C + c, h * W + w]]
