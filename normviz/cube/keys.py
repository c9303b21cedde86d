"""Walking the unfolded view with the keyboard: which key moves the selected element where.

The unfolded view draws one H×W block per (n, c): block row n, block column c, h growing
downwards inside a block, w to the right (``figures.unfolded_figure``, y axis reversed). So the
arrows move the selection the way it looks: ←/→ step w, ↑/↓ step h; with Shift they jump a
whole block: Shift+←/→ step c, Shift+↑/↓ step n. Key names are the browser's ``KeyboardEvent.key``
with a "Shift+" prefix, as ``live_chart(on_key=...)`` reports them.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# key name -> (axis of (n, c, h, w), step)
KEY_MOVES: dict[str, tuple[int, int]] = {
    "ArrowLeft": (3, -1), "ArrowRight": (3, 1),
    "ArrowUp": (2, -1), "ArrowDown": (2, 1),
    "Shift+ArrowLeft": (1, -1), "Shift+ArrowRight": (1, 1),
    "Shift+ArrowUp": (0, -1), "Shift+ArrowDown": (0, 1),
}
KEYS: tuple[str, ...] = tuple(KEY_MOVES)


def moved(index: Sequence[int], shape: Sequence[int], key: str) -> tuple[int, int, int, int]:
    """The selected element after pressing ``key``: one step along one axis, clamped at the edge.

    index' = index + step·e_axis, with index'[axis] clipped to [0, shape[axis] − 1], where
    (axis, step) = ``KEY_MOVES[key]``; at an edge the index stays put (no wrapping: a wrap
    would jump to the far side of the view without the user seeing why).

    Shape: index and shape are (n, c, h, w) and (N, C, H, W) -> (n, c, h, w).

    >>> moved((0, 0, 0, 3), (2, 6, 4, 4), "ArrowRight")
    (0, 0, 0, 3)
    >>> moved((0, 0, 0, 0), (2, 6, 4, 4), "Shift+ArrowRight")
    (0, 1, 0, 0)
    """
    if len(index) != 4 or len(shape) != 4:
        raise ValueError(f"index and shape must both be (n, c, h, w), got index={tuple(index)}, shape={tuple(shape)}")
    if key not in KEY_MOVES:
        raise ValueError(f"unknown key {key!r}; the unfolded view handles {', '.join(KEYS)}")
    axis, step = KEY_MOVES[key]
    out = [int(v) for v in index]
    out[axis] = int(np.clip(out[axis] + step, 0, int(shape[axis]) - 1))
    return tuple(out)


def key_help(index_names: Sequence[str] = ("n", "c", "h", "w")) -> str:
    """'←/→ move w, ↑/↓ move h, Shift+←/→ move c, Shift+↑/↓ move n' with the view's index names."""
    n, c, h, w = index_names
    return f"←/→ move {w}, ↑/↓ move {h}, Shift+←/→ move {c}, Shift+↑/↓ move {n}"


def selection_text(index_names: Sequence[str], index: Sequence[int], value: float, sentence: str) -> str:
    """What a screen reader hears after a move: the element, its value, and the pooling sentence.

    E.g. "Selected (n, c, h, w) = (0, 1, 2, 3), x = 0.53. GroupNorm pools 24 values: ..."
    """
    return f"Selected ({', '.join(index_names)}) = ({', '.join(str(int(i)) for i in index)}), x = {value:.3g}. {sentence}"
