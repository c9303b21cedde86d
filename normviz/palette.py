"""One palette for every figure: Okabe–Ito colours (colour-blind safe), and a fixed look per norm.

Figures never rely on colour alone: a norm also has its own dash and marker symbol, so a line or
a point is told apart in greyscale and by colour-blind readers (Okabe & Ito, jfly.uni-koeln.de/color).
"""
from __future__ import annotations

BLUE, ORANGE, GREEN, VERMILLION = "#0072B2", "#E69F00", "#009E73", "#D55E00"
PURPLE, SKY, YELLOW, BLACK = "#CC79A7", "#56B4E9", "#F0E442", "#000000"
GREY = "#999999"  # "no norm" and other baselines
OKABE_ITO = (BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, YELLOW, BLACK)
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
SYMBOLS = ("circle", "square", "diamond", "cross", "x", "triangle-up", "triangle-down", "star", "hexagon",
           "pentagon", "hourglass", "bowtie", "asterisk", "y-up", "star-triangle-up")


def colour(i: int) -> str:
    """The i-th colour of the cycle (yellow, hard to read on white, comes late)."""
    return OKABE_ITO[i % len(OKABE_ITO)]


def norm_style(key: str) -> tuple[str, str, str]:
    """(colour, dash, symbol) of a registry norm (or "none"): the same in every figure."""
    from normviz.norms.table import NORMS

    if key not in NORMS:
        return GREY, "dot", "circle-open"
    i = list(NORMS).index(key)
    return colour(i), DASHES[i % len(DASHES)], SYMBOLS[i % len(SYMBOLS)]
