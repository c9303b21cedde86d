"""The symbols every formula in normviz uses, each explained once (the Glossary page).

``symbols_in(latex)`` finds which of them a formula uses, so a page can link each formula to the
entries it needs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Symbol:
    anchor: str   # the entry's id on the Glossary page
    shown: str    # as printed
    latex: tuple[str, ...]  # its LaTeX tokens ("\\mu", "r"), or "raw:" + a substring to look for
    name: str
    meaning: str


GLOSSARY: tuple[Symbol, ...] = (
    Symbol("x", "x, x̂", ("x",), "input and normalized value",
           "x is one value of the layer's input (an element of the N×C×H×W tensor); x̂ is the same value after "
           "normalization, before the affine step."),
    Symbol("mu", "μ", (r"\mu",), "mean",
           "The average of the values in the set the norm pools over ($\\mu_B$: over the mini-batch; μ without a "
           "subscript in Batch Renorm: the running mean)."),
    Symbol("sigma2", "σ², σ", (r"\sigma",), "variance and standard deviation",
           "σ² is the mean squared distance from μ over the pooled set (the biased variance, as PyTorch uses in "
           "the forward pass); σ = √σ² ($\\sigma_B$: of the mini-batch; σ: running, in Batch Renorm)."),
    Symbol("nu2", "ν²", (r"\nu",), "mean of squares",
           "RMSNorm and FRN divide by √(ν² + ε) with ν² the average of x² over the set: no mean is subtracted."),
    Symbol("eps", "ε", (r"\epsilon",), "epsilon",
           "A small constant (1e-5 by default) added to σ² inside the square root, so a constant set (σ² = 0) does "
           "not divide by zero. It makes the invariances approximate: scaling the input by δ acts like ε/δ²."),
    Symbol("gamma", "γ", (r"\gamma",), "scale (gain)",
           "A learned parameter per channel that multiplies x̂: y = γ x̂ + β. With γ = σ and β = μ the layer can undo "
           "its own normalization, so nothing is lost in what the network can represent."),
    Symbol("beta", "β", (r"\beta",), "shift (bias)",
           "A learned parameter per channel added after the scale: y = γ x̂ + β."),
    Symbol("rho", "ρ", (r"\rho",), "gate (Batch-Instance Norm)",
           "A learned value in [0, 1] per channel: the output is ρ·BN(x) + (1 − ρ)·IN(x), so ρ = 1 is BatchNorm and "
           "ρ = 0 InstanceNorm."),
    Symbol("w", "w, w′", ("raw:w_k",), "importance weights (Switchable Norm)",
           "Softmaxed learned weights over (IN, LN, BN): w blends the three means, w′ the three variances."),
    Symbol("r", "r", ("r",), "scale correction (Batch Renorm)",
           "$r = \\mathrm{clip}(\\sigma_B/\\sigma,\\ 1/r_{max},\\ r_{max})$, treated as a constant (no gradient): it rescales the batch-normalized "
           "value towards what the running statistics would give."),
    Symbol("d", "d", ("d",), "shift correction (Batch Renorm)",
           "$d = \\mathrm{clip}((\\mu_B - \\mu)/\\sigma,\\ -d_{max},\\ d_{max})$, also a constant for the gradient. With $r_{max}$ = 1 and $d_{max}$ = 0 "
           "Batch Renorm is exactly BatchNorm."),
    Symbol("G", "G", ("G",), "number of groups (GroupNorm)",
           "GroupNorm splits the C channels into G equal groups of C/G; G must divide C. G = 1 is LayerNorm, G = C "
           "InstanceNorm."),
    Symbol("K", "K", ("K",), "number of statistics",
           "How many means (or scales) a norm computes for one tensor: C for BatchNorm, N for LayerNorm, N·C for "
           "InstanceNorm, N·G for GroupNorm."),
    Symbol("alpha", "α", (r"\alpha",), "steepness (Dynamic Tanh)",
           "DyT computes tanh(α·x) with one learned scalar α per layer: small α is almost linear, large α saturates."),
    Symbol("v", "v, g", ("v", "g"), "direction and length (Weight Norm)",
           "Weight Norm writes each unit's weights as w = g·v/‖v‖: v sets the direction, g the length."),
)


def _tokens(latex: str) -> set[str]:
    """The symbols of a formula: LaTeX commands (\\mu) and single letters, leaving out words inside
    \\text{...} or \\mathrm{...} and subscripts such as _{max}."""
    plain = re.sub(r"\\(text|mathrm|operatorname)\{[^}]*\}|_\{[^}]*\}|\\(frac|sqrt|quad|hat|left|right|sum|tfrac|"
                   r"textstyle|lVert|rVert|lfloor|rfloor|in|cdot|clip|max)\b", " ", latex)
    return set(re.findall(r"\\[A-Za-z]+|(?<![A-Za-z\\])[A-Za-z](?![A-Za-z])", plain))


def symbols_in(latex: str) -> list[Symbol]:
    """The glossary entries a LaTeX formula uses."""
    found = _tokens(latex)
    return [s for s in GLOSSARY if any(t[4:] in latex if t.startswith("raw:") else t in found for t in s.latex)]
