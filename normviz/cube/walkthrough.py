r"""A norm, one step at a time, on the cube's live numbers: the walkthrough a teacher steps through.

``steps(spec, x)`` returns the :class:`Step` list for the spec's norm and selected element. The
list is chosen by the registry spec, never by the norm's key:

- statistics norms: pick the element -> its set S -> μ_S (the values and their sum) -> σ²_S ->
  x̂ -> (Batch Renorm: r and d -> x̂·r + d) -> γ, β -> the output over the set; norms that are not
  centred (RMSNorm, FRN) skip μ and use the mean of squares ν²_S;
- mixtures of outputs (BIN): each part's set and statistics, each part's x̂, the gate ρ;
- mixtures of statistics (SN): each part's μ_k, σ²_k, their blend, one x̂;
- weight norms (WN, WS): statistics over one output filter's weights, not over activations;
- element-wise norms (DyT): nothing pooled, the function applied to the element alone.

Each step has a title, a sentence, a LaTeX formula with the numbers, the cells to highlight
(a boolean mask shaped like x) and ``values``: the numbers it states, by name, so tests check
them against ``normviz.norms.normalize`` and torch. γ = 1 and β = 0 (a fresh layer) throughout.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from normviz.cube.numbers import CubeSpec, ElementStats, _fmt, _neg, element_stats, summary_sentence
from normviz.norms import NORMS
from normviz.norms.sets import group_ids
from normviz.palette import BLUE, VERMILLION

MAX_LISTED = 6  # values written out in a sum; a longer set is shown as its first few, "…", and the total


@dataclass(frozen=True)
class Step:
    """One step of a walkthrough.

    ``cells``: bool array shaped like x, True where the step highlights; ``focus`` the selected
    element; ``values``: the numbers the step states (``mu``, ``var``, ``x_hat``, ``y``, ...).
    """

    title: str
    text: str
    latex: str
    cells: np.ndarray
    values: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Step({self.title!r}, {int(self.cells.sum())} cells, {sorted(self.values)})"


def _root(v: float) -> np.float64:
    """√v as a numpy float, so a 0 or NaN spread gives inf/NaN (then explained) instead of raising."""
    return np.sqrt(np.float64(v))


def _listed_sum(vals: np.ndarray, square: bool = False) -> str:
    """'0.12 + (−0.5) + …': the set's values written out (the first MAX_LISTED)."""
    shown = [(_fmt(v) + "^2" if v >= 0 else f"({_fmt(v)})^2") if square else (_fmt(v) if i == 0 else _neg(v))
             for i, v in enumerate(vals[:MAX_LISTED])]
    more = r" + \dots" if vals.size > MAX_LISTED else ""
    return " + ".join(shown) + more


def _where(x: np.ndarray, ids: np.ndarray, i) -> np.ndarray:
    return ids == ids[i]


def _only(x: np.ndarray, i) -> np.ndarray:
    cells = np.zeros(x.shape, dtype=bool)
    cells[i] = True
    return cells


def _pick(spec: CubeSpec, x: np.ndarray) -> Step:
    i = tuple(spec.index)
    what = "weight" if spec.is_weight else "value"
    names = ", ".join(f"{a} = {v}" for a, v in zip(spec.index_names, i))
    return Step("Pick the element", f"The selected {what} at {names}.",
                rf"x_{{{','.join(map(str, i))}}} = {_fmt(float(x[i]))}", _only(x, i), {"x": float(x[i])})


def _set_step(title: str, text: str, cells: np.ndarray) -> Step:
    return Step(title, text, rf"|S| = {int(cells.sum())}", cells, {"size": int(cells.sum())})


def _mean_step(x, cells, sym: str = r"\mu_S", title: str = "The mean μ") -> Step:
    vals = x[cells].astype(np.float64)
    mu = float(vals.mean())
    return Step(title, f"Add the {vals.size} values of the set and divide by their number.",
                # Two lines (\quad: the page shows each part on its own line): the sum alone is wide.
                rf"{sym} = \frac{{1}}{{{vals.size}}}({_listed_sum(vals)}) \quad = \frac{{{_fmt(float(vals.sum()))}}}"
                rf"{{{vals.size}}} = {_fmt(mu)}",
                cells, {"sum": float(vals.sum()), "mu": mu})


def _var_step(x, cells, mu: float, sym: str = r"\sigma^2_S", title: str = "The variance σ²") -> Step:
    d = x[cells].astype(np.float64) - mu
    var = float(np.mean(d * d))
    return Step(title, "The mean of the squared distances from μ (biased: divided by |S|, as torch does).",
                rf"{sym} = \frac{{1}}{{{d.size}}}\sum_{{S}} (x - {_neg(mu)})^2 = \frac{{{_fmt(float(np.sum(d * d)))}}}"
                rf"{{{d.size}}} = {_fmt(var)}", cells, {"var": var})


def _affine_steps(spec: CubeSpec, x, x_hat_all: np.ndarray, cells: np.ndarray, centred: bool,
                  corrected: bool = False) -> list[Step]:
    """γ, β on the element, then the output over its whole set (``corrected``: Batch Renorm's r, d
    moved it, so the set's output is not standardized)."""
    i = tuple(spec.index)
    xh = float(x_hat_all[i])
    out = x_hat_all[cells].astype(np.float64)
    gb = Step("Scale and shift: γ, β", "A learned scale γ and shift β per channel; a fresh layer has γ = 1, "
              "β = 0, so the output equals x̂.", rf"y = \gamma\,\hat x + \beta = 1\cdot {_fmt(xh) if xh >= 0 else f'({_fmt(xh)})'}"
              rf" + 0 = {_fmt(xh)}", _only(x, i), {"y": xh})
    if corrected:
        m, v = float(out.mean()), float(out.var())
        said = rf"\text{{over }} S:\ \operatorname{{mean}}(y) = {_fmt(m)},\ \operatorname{{var}}(y) = {_fmt(v)}"
        text = (f"r and d moved the set's output towards the running statistics: over the set its mean is {m:.3g} "
                f"and its variance {v:.3g} (BatchNorm would give 0 and 1).")
        values = {"out_mean": m, "out_var": v}
    elif centred:
        m, v = float(out.mean()), float(out.var())
        said = (rf"\text{{over }} S:\ \operatorname{{mean}}(y) = {_fmt(m)},\ \operatorname{{var}}(y) = {_fmt(v)}")
        text = (f"Every value of the set went through the same μ and σ², so over the set the output has mean "
                f"{m:.3g} and variance {v:.3g} (1 up to ε).")
        values = {"out_mean": m, "out_var": v}
    else:
        ms = float(np.mean(out * out))
        said = rf"\text{{over }} S:\ \operatorname{{mean}}(y^2) = {_fmt(ms)}"
        text = (f"No mean was subtracted, so only the scale is fixed: over the set the output's mean of squares "
                f"is {ms:.3g} (1 up to ε); its mean is {float(out.mean()):.3g}, not forced to 0.")
        values = {"out_mean_square": ms}
    return [gb, Step("The output", text, said, cells, values)]


def _statistics_steps(spec: CubeSpec, x, stats: ElementStats) -> list[Step]:
    ns = spec.norm_spec
    i = tuple(spec.index)
    cells = _where(x, stats.group, i)
    steps = [_pick(spec, x), _set_step("Light up its set", summary_sentence(spec), cells)]
    xv, eps = float(x[i]), spec.eps
    if ns.centred:
        mean = _mean_step(x, cells)
        mu = mean.values["mu"]
        var_step = _var_step(x, cells, mu)
        var = var_step.values["var"]
        steps += [mean, var_step]
        xh = (xv - mu) / _root(var + eps)
        steps.append(Step("Standardize: x̂", "Subtract μ and divide by the standard deviation; ε keeps the "
                          "division finite.", rf"\hat x = \frac{{x - \mu_S}}{{\sqrt{{\sigma^2_S + \epsilon}}}} = "
                          rf"\frac{{{_fmt(xv)} - {_neg(mu)}}}{{\sqrt{{{_fmt(var)} + {_fmt(eps)}}}}} = {_fmt(xh)}",
                          _only(x, i), {"x_hat": xh}))
    else:
        vals = x[cells].astype(np.float64)
        nu2 = float(np.mean(vals * vals))
        steps.append(Step("The mean of squares ν² (no mean)", f"{ns.name} subtracts nothing: it divides by the "
                          "root mean square of the set, so only the scale is normalized.",
                          rf"\nu^2_S = \frac{{1}}{{{vals.size}}}({_listed_sum(vals, square=True)}) \quad = "
                          rf"\frac{{{_fmt(float(np.sum(vals * vals)))}}}{{{vals.size}}} = {_fmt(nu2)}", cells, {"sum_squares": float(np.sum(vals * vals)), "nu2": nu2}))
        xh = xv / _root(nu2 + eps)
        steps.append(Step("Rescale: x̂", "Divide by the root mean square.",
                          rf"\hat x = \frac{{x}}{{\sqrt{{\nu^2_S + \epsilon}}}} = \frac{{{_fmt(xv)}}}"
                          rf"{{\sqrt{{{_fmt(nu2)} + {_fmt(eps)}}}}} = {_fmt(xh)}", _only(x, i), {"x_hat": xh}))
    corrected = ns.kind == "stateful"  # Batch Renorm: BN's x̂ corrected by r, d
    if corrected:
        steps += _renorm_steps(spec, x, steps[-1].values["x_hat"], mu, var)
    return steps + _affine_steps(spec, x, stats.x_hat, cells, ns.centred, corrected)


def _renorm_steps(spec: CubeSpec, x, xh: float, mu: float, var: float) -> list[Step]:
    i = tuple(spec.index)
    kw = spec.norm_kwargs()
    c = i[1]
    per_channel = lambda v: float(np.broadcast_to(np.asarray(v, dtype=np.float64), (spec.shape[1],))[c])  # noqa: E731
    run_mu, run_sigma = per_channel(kw["running_mean"]), per_channel(kw["running_std"])
    sigma_b = _root(var + spec.eps)
    r = min(max(sigma_b / run_sigma, 1 / kw["r_max"]), kw["r_max"])
    d = min(max((mu - run_mu) / run_sigma, -kw["d_max"]), kw["d_max"])
    channel = np.zeros(x.shape, dtype=bool)
    channel[:, c] = True
    corr = Step("Batch Renorm's correction: r and d", "r and d move the batch's statistics towards the running "
                "ones (μ, σ), clipped to [1/r_max, r_max] and [−d_max, d_max]; no gradient flows through them.",
                rf"r = \mathrm{{clip}}_{{[1/{_fmt(kw['r_max'])},\,{_fmt(kw['r_max'])}]}}\left(\tfrac{{{_fmt(sigma_b)}}}"
                rf"{{{_fmt(run_sigma)}}}\right) = {_fmt(r)},\quad d = \mathrm{{clip}}_{{[\pm{_fmt(kw['d_max'])}]}}"
                rf"\left(\tfrac{{{_fmt(mu)} - {_neg(run_mu)}}}{{{_fmt(run_sigma)}}}\right) = {_fmt(d)}",
                channel, {"r": r, "d": d})
    out = xh * r + d
    return [corr, Step("Correct x̂", "At r = 1, d = 0 this is BatchNorm.",
                       rf"\hat x\,r + d = {_fmt(xh)}\cdot{_fmt(r)} + {_neg(d)} = {_fmt(out)}", _only(x, i),
                       {"x_hat": out})]


def _part_steps(spec: CubeSpec, x, part: str) -> tuple[list[Step], np.ndarray, float, float]:
    i = tuple(spec.index)
    ps = NORMS[part]
    cells = _where(x, group_ids(x.shape, part), i)
    mean = _mean_step(x, cells, rf"\mu_{{{ps.short}}}", f"{ps.name}'s mean μ_{ps.short}")
    mu = mean.values["mu"]
    var = _var_step(x, cells, mu, rf"\sigma^2_{{{ps.short}}}", f"{ps.name}'s variance σ²_{ps.short}")
    lit = _set_step(f"{ps.name}'s set", f"{ps.name} pools {ps.pools}.", cells)
    return [lit, mean, var], cells, mu, var.values["var"]


def _mixture_steps(spec: CubeSpec, x, stats: ElementStats) -> list[Step]:
    ns = spec.norm_spec
    i = tuple(spec.index)
    xv, eps = float(x[i]), spec.eps
    steps = [_pick(spec, x)]
    parts = []
    for part in ns.mixes:
        more, cells, mu, var = _part_steps(spec, x, part)
        steps += more
        parts.append((NORMS[part], cells, mu, var))
    if ns.mix == "outputs":
        rho = spec.rho_value(i[1])
        hats = [(xv - mu) / _root(var + eps) for _, _, mu, var in parts]
        for (ps, cells, mu, var), h in zip(parts, hats):
            steps.append(Step(f"{ps.name}'s x̂", f"Standardize with {ps.name}'s statistics.",
                              rf"\hat x_{{{ps.short}}} = \frac{{{_fmt(xv)} - {_neg(mu)}}}{{\sqrt{{{_fmt(var)} + "
                              rf"{_fmt(eps)}}}}} = {_fmt(h)}", _only(x, i), {f"x_hat_{ps.key}": h}))
        xh = rho * hats[0] + (1 - rho) * hats[1]
        a, b = (p[0].short for p in parts)
        steps.append(Step("Mix with the gate ρ", f"ρ = {rho:.3g} for channel {i[1]}: 1 is {parts[0][0].name}, "
                          f"0 is {parts[1][0].name}.", rf"\hat x = \rho\,\hat x_{{{a}}} + (1 - \rho)\,\hat x_{{{b}}} = "
                          rf"{rho:.3g}\cdot{_neg(hats[0])} + {1 - rho:.3g}\cdot{_neg(hats[1])} = {_fmt(xh)}",
                          _only(x, i), {"x_hat": xh, "rho": rho}))
        union = parts[0][1] | parts[1][1]
    else:
        mu = sum(w * p[2] for w, p in zip(spec.mean_weights, parts))
        var = sum(w * p[3] for w, p in zip(spec.var_weights, parts))
        terms_mu = " + ".join(f"{w:.3g}\\cdot{_neg(p[2])}" for w, p in zip(spec.mean_weights, parts))
        terms_var = " + ".join(f"{w:.3g}\\cdot{_fmt(p[3])}" for w, p in zip(spec.var_weights, parts))
        union = np.logical_or.reduce([p[1] for p in parts])
        steps.append(Step("Blend the statistics", "A weighted mean of the parts' μ and σ² (the weights are "
                          "softmaxed and learned), then one normalization.",
                          rf"\mu = {terms_mu} = {_fmt(mu)},\quad \sigma^2 = {terms_var} = {_fmt(var)}", union,
                          {"mu_blend": mu, "var_blend": var}))
        xh = (xv - mu) / _root(var + eps)
        steps.append(Step("Standardize: x̂", "One normalization with the blended statistics.",
                          rf"\hat x = \frac{{{_fmt(xv)} - {_neg(mu)}}}{{\sqrt{{{_fmt(var)} + {_fmt(eps)}}}}} = {_fmt(xh)}",
                          _only(x, i), {"x_hat": xh}))
    gb = _affine_steps(spec, x, stats.x_hat, union, True)[0]
    out = Step("The output", "A mixture has no single set: the output is not standardized over any one of the "
               "parts' sets.", rf"y = {_fmt(float(stats.x_hat[i]))}", _only(x, i), {"y": float(stats.x_hat[i])})
    return steps + [gb, out]


def _weight_steps(spec: CubeSpec, x, stats: ElementStats) -> list[Step]:
    ns = spec.norm_spec
    i = tuple(spec.index)
    cells = _where(x, stats.group, i)
    vals = x[cells].astype(np.float64)
    wv = float(x[i])
    steps = [_pick(spec, x), _set_step("Light up its filter", summary_sentence(spec) + " No activation and no "
                                       "batch is involved.", cells)]
    if ns.centred:  # Weight Standardization: mean and unbiased std of the filter
        mean = _mean_step(x, cells, r"\bar W", "The filter's mean W̄")
        mu = mean.values["mu"]
        std = np.float64(np.std(vals, ddof=1))
        steps += [mean, Step("The filter's standard deviation", "Unbiased (divided by |S| − 1), as the official "
                             "layer computes it; ε is added to the std, not inside the root.",
                             rf"\mathrm{{std}} = \sqrt{{\frac{{1}}{{{vals.size - 1}}}\sum (W - {_neg(mu)})^2}} = {_fmt(std)}",
                             cells, {"std": std})]
        out = (wv - mu) / (std + spec.eps)
        steps.append(Step("Standardize the weight", "The convolution then uses Ŵ in place of W.",
                          rf"\hat W = \frac{{W - \bar W}}{{\mathrm{{std}} + \epsilon}} = \frac{{{_fmt(wv)} - {_neg(mu)}}}"
                          rf"{{{_fmt(std)} + {_fmt(spec.eps)}}} = {_fmt(out)}", _only(x, i), {"x_hat": out}))
    else:  # Weight Norm: divide by the filter's Euclidean norm, times g
        norm = np.float64(np.sqrt(np.sum(vals * vals)))
        steps.append(Step("The filter's length ‖v‖", "The Euclidean norm of the output unit's weight vector.",
                          rf"\lVert v \rVert^2 = {_listed_sum(vals, square=True)} \quad = {_fmt(float(np.sum(vals * vals)))},\quad"
                          rf"\lVert v \rVert = \sqrt{{{_fmt(float(np.sum(vals * vals)))}}} = {_fmt(norm)}", cells,
                          {"norm": norm}))
        out = wv / norm
        steps.append(Step("Rescale: w = g·v/‖v‖", "The direction v/‖v‖ and the length g are learned separately; "
                          "g = 1 here.", rf"w = g\,\frac{{v}}{{\lVert v \rVert}} = 1\cdot\frac{{{_fmt(wv)}}}{{{_fmt(norm)}}}"
                          rf" = {_fmt(out)}", _only(x, i), {"x_hat": out}))
    return steps + [Step("The output", "The layer's output is the convolution with the normalized weights; the "
                         "activations themselves are not normalized.", rf"w = {_fmt(float(stats.x_hat[i]))}",
                         cells, {"y": float(stats.x_hat[i])})]


def _elementwise_steps(spec: CubeSpec, x, stats: ElementStats) -> list[Step]:
    ns = spec.norm_spec
    i = tuple(spec.index)
    xv, xh = float(x[i]), float(stats.x_hat[i])
    shown = r",\ ".join(rf"{p.symbol} = {_fmt(float(np.ravel(v)[0]))}" for p, v in
                        zip(ns.params, spec.norm_kwargs().values()))
    head = ns.formula.split(r",\quad")[0]  # the function, without the registry's affine tail
    return [_pick(spec, x),
            Step("Nothing to pool", f"{ns.name} computes no statistic: no other value affects this one.",
                 r"S = \{x\},\quad \text{no } \mu,\ \text{no } \sigma^2", _only(x, i), {}),
            Step("Apply the function", ns.description, rf"{head},\quad {shown},\quad x = {_fmt(xv)}"
                 rf"\ \Rightarrow\ \hat x = {_fmt(xh)}", _only(x, i), {"x_hat": xh}),
            *_affine_steps(spec, x, stats.x_hat, _only(x, i), True)[:1]]


def steps(spec: CubeSpec, x: np.ndarray, stats: ElementStats | None = None) -> list[Step]:
    """The walkthrough of ``spec.norm`` at ``spec.index`` on ``x`` (N, C, H, W; a weight for
    the weight norms), chosen by the spec's family. If the norm is undefined on this input
    (``stats.error``), the steps up to the statistics are still given and the error is the last."""
    stats = stats or element_stats(spec, x)
    ns = spec.norm_spec
    make = {"statistics": _statistics_steps, "mixture": _mixture_steps, "weights": _weight_steps,
            "elementwise": _elementwise_steps}[ns.family]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = make(spec, x, stats)
    if stats.error:
        keep = [s for s in out if not {"x_hat", "y", "out_mean", "out_mean_square"} & set(s.values)]
        keep.append(Step("Undefined here", stats.error, r"\hat x = \text{undefined}", out[0].cells, {}))
        return keep
    return out


def clamp_step(step: int, count: int) -> int:
    """A step number from the URL, kept inside 0 … count − 1."""
    return max(0, min(int(step), count - 1))


def _labels(spec: CubeSpec, x: np.ndarray) -> tuple[list[str], list[str]]:
    """Row labels (the (n, c) pairs, for a weight (o, i)) and column labels (the (h, w) positions)."""
    N, C, H, W = x.shape
    a, b, hh, ww = spec.index_names
    return ([f"{a}{n} {b}{c}" for n in range(N) for c in range(C)],
            [f"{hh}{h} {ww}{w}" for h in range(H) for w in range(W)])


def outline_rects(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Few rectangles that cover exactly the True cells of a 2D ``mask``.

    Each row's runs of consecutive True cells, each run merged with the same run in the rows
    right below it. Returns ``(r0, r1, c0, c1)`` (inclusive bounds), disjoint, sorted. A pooling
    set in the flat (n, c) × (h, w) layout is a union of whole or partial rows, so a norm's set
    is one to a few rectangles (BatchNorm: one per sample; LayerNorm: one)."""
    mask = np.asarray(mask, dtype=bool)
    done, open_runs = [], {}  # open_runs: (c0, c1) -> the row it started in
    for r in range(mask.shape[0] + 1):
        row = mask[r] if r < mask.shape[0] else np.zeros(mask.shape[1], dtype=bool)
        edges = np.flatnonzero(np.diff(np.concatenate(([0], row.astype(np.int8), [0]))))
        runs = {(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2])}
        for run in [run for run in open_runs if run not in runs]:
            done.append((open_runs.pop(run), r - 1, *run))
        for run in runs:
            open_runs.setdefault(run, r)
    return sorted(done)


def _box(r0: int, r1: int, c0: int, c1: int, colour: str, inset: float) -> dict:
    """A rectangle around cells r0…r1 × c0…c1 (category positions), drawn above the heatmap."""
    return dict(type="rect", xref="x", yref="y", x0=c0 - 0.5 + inset, x1=c1 + 0.5 - inset, y0=r0 - 0.5 + inset,
                y1=r1 + 0.5 - inset, line=dict(color=colour, width=3), fillcolor="rgba(0,0,0,0)", layer="above")


def _shapes(step: Step, selected: tuple[int, int], n_rows: int, n_cols: int) -> list[dict]:
    """The step's cells outlined in blue (in data units, so the outline fits the cells at any
    width, where fixed-size markers overlapped into a band), the selected element in vermillion."""
    outlines = [_box(*r, colour=BLUE, inset=0.06) for r in outline_rects(step.cells.reshape(n_rows, n_cols))]
    r, c = selected
    return outlines + [_box(r, r, c, c, colour=VERMILLION, inset=-0.12)]


def _selected_cell(spec: CubeSpec, x: np.ndarray) -> tuple[int, int]:
    """The selected element's (row, column) in the flat (n, c) × (h, w) layout."""
    n, c, h, w = spec.index
    _, C, _, W = x.shape
    return n * C + c, h * W + w


def _title(step: Step) -> dict:
    return dict(text=f"{step.title}: {int(step.cells.sum())} highlighted", font=dict(size=14))


def step_figure(spec: CubeSpec, x: np.ndarray, step: Step):
    """A flat heatmap of x with the step's cells outlined and the selected element boxed.

    Rows are the (n, c) pairs (for a weight: (o, i)), columns the (h, w) positions, each cell
    labelled with its value when there are few enough to read. Returns a ``go.Figure`` with
    one trace, the heatmap; the outlines are ``layout.shapes`` (:func:`outline_rects`, then the
    selected element's box, last so it is drawn on top).
    """
    import plotly.graph_objects as go

    N, C, H, W = x.shape
    z = x.reshape(N * C, H * W)
    rows, cols = _labels(spec, x)
    fig = go.Figure(go.Heatmap(z=z, x=cols, y=rows, colorscale="Greys", showscale=False, xgap=1, ygap=1,
                               texttemplate="%{z:.2f}" if z.size <= 400 else None, hoverinfo="x+y+z"))
    fig.update_layout(height=max(220, 26 * N * C + 80), margin=dict(l=10, r=10, t=30, b=10), showlegend=False,
                      title=_title(step), yaxis=dict(autorange="reversed"), template="plotly_white",
                      shapes=_shapes(step, _selected_cell(spec, x), N * C, H * W))
    return fig


def step_alt(step: Step, number: int, count: int) -> str:
    """The text alternative of a step's figure (and what a screen reader hears on stepping)."""
    return f"Step {number} of {count}, {step.title}: {step.text}"


def walk_figure(spec: CubeSpec, x: np.ndarray, steps: list[Step], shown: int = 0) -> dict:
    """Every step's figure in one plotly figure: the browser steps through it without the server.

    The figure is :func:`step_figure` of ``steps[shown]``; ``frames[k]`` (named ``"k+1"``) turns it
    into step k's figure: its ``layout`` replaces the outlines (``shapes``) and the title, with
    ``layout.meta.alt`` the step's text alternative (:func:`step_alt`); no trace changes
    (``traces=[]``). The heatmap, the largest part, travels once. Returns a plotly dict
    (``to_plotly_json`` form).
    """
    fig = step_figure(spec, x, steps[shown]).to_plotly_json()
    N, C, H, W = x.shape
    selected = _selected_cell(spec, x)
    fig["frames"] = [dict(name=str(k + 1), traces=[], data=[],
                          layout=dict(title=_title(step), shapes=_shapes(step, selected, N * C, H * W),
                                      meta=dict(alt=step_alt(step, k + 1, len(steps)))))
                     for k, step in enumerate(steps)]
    return fig
