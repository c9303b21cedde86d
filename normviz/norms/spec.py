"""What a norm is, as data: :class:`NormSpec` and its :class:`Param` controls.

Pure Python (no numpy), so the home page lists the norms without paying for numpy. Every fact a
consumer needs (which elements share a statistic, whether it needs a batch, what it does in eval,
what it erases from an image, its parameters and their controls) is a field here, so no code
outside ``normviz.norms`` ever compares norm keys.
"""
from __future__ import annotations

from dataclasses import dataclass, field

AXES = ("N", "C", "H", "W")

# What each family of norms does, in words (the cube and the home page say this, not one story for all).
FAMILIES: dict[str, str] = {
    "statistics": "standardizes each element with statistics pooled over a set of elements: a mean and a "
                  "variance, or only a mean of squares (RMSNorm, FRN); which elements form the set is what "
                  "tells these norms apart",
    "weights": "normalizes a layer's weights, not its activations: the statistics are those of each output "
               "unit's weights, and the activations are never looked at",
    "mixture": "combines other norms: Batch-Instance Norm mixes their normalized outputs, Switchable Norm "
               "mixes their statistics before normalizing",
    "elementwise": "transforms each element on its own: no statistics, nothing pooled",
}
FAMILY_TITLES = {"statistics": "Statistics of a set", "weights": "Weights, not activations",
                 "mixture": "Mixtures of norms", "elementwise": "Element by element"}


@dataclass(frozen=True)
class Param:
    """One parameter of a norm: its keyword in ``normalize`` and the factories, and its control.

    ``kind``: "divisor_C" (a divisor of C, e.g. G), "divisor_N" (a divisor of N), "unit" (a
    value in [0, 1], per channel or shared), "simplex" (3 probabilities), "positive", "at_least_1",
    "non_negative" or "real": one number, or with ``per_channel`` one per channel (or one shared).
    ``low``/``high``/``step`` bound a slider.
    """

    name: str
    symbol: str
    label: str
    kind: str
    default: object
    help: str
    low: float | None = None
    high: float | None = None
    step: float | None = None
    per_channel: bool = False  # a number kind given as one value or one per channel (cleaned to (C,))


@dataclass(frozen=True)
class NormSpec:
    """Everything the app knows about one normalization, for people and for code.

    ``axes`` are the pooled axes of a statistics norm, as tokens: ``N``, ``C``, ``H``, ``W``, and
    ``C/G`` (the channels of one group), ``N/g`` (the samples of one ghost batch); for weight norms
    the axes of one output unit's weights; empty for element-wise norms. ``kind`` says which
    function computes it: "activation" (``normalize``), "weight" (``normalize_weight``) or
    "stateful" (``normalize`` with running statistics given). ``centred``: whether a mean is
    subtracted (False: a mean of squares only). Mixtures list their parts in ``mixes`` and say
    whether they mix the parts' ``"outputs"`` or ``"statistics"``.
    """

    key: str
    name: str
    short: str
    description: str
    family: str
    kind: str
    pools: str
    axes: tuple[str, ...]
    batch_dependent: bool
    running_stats: bool
    train_eval: str
    erases: str
    erases_why: str
    paper: str
    arxiv: str
    formula: str
    centred: bool = True
    mixes: tuple[str, ...] = ()
    mix: str = ""
    params: tuple[Param, ...] = field(default=())
    module: str | None = None
    torch_code: str = ""
    # The torch.nn module a script puts after a layer, for dims 1 and 2 ("" where torch.nn has none);
    # {c} is the width, {G} the groups. Used by the training lab's "PyTorch code" export.
    torch_nn: tuple[str, str] = ("", "")
    dims: tuple[int, ...] = (1, 2)
    dims_why: str = ""
    stat_names: tuple[str, str] = ("μ", "σ²")
    note: str = ""
    featured: bool = False  # shown by default where the app shows a selection (the image lab's rows)

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv}"

    @property
    def is_partition(self) -> bool:
        """Every element belongs to exactly one pooled set (statistics and weight norms)."""
        return self.family in ("statistics", "weights")

    @property
    def is_mixture(self) -> bool:
        return self.family == "mixture"

    @property
    def is_weight(self) -> bool:
        return self.kind == "weight"

    @property
    def is_elementwise(self) -> bool:
        return self.family == "elementwise"

    @property
    def folds_at_inference(self) -> bool:
        """Whether the trained layer folds into the conv or linear layer before it at inference.

        A weight norm fixes the weight once trained; a statistics norm whose eval mode uses only
        running statistics is a fixed per-channel affine map, ``y = s_c x + t_c``, which merges into
        the layer's weight and bias. Norms whose statistics come from the input at test time
        (LN, IN, GN, RMSNorm, PONO, FRN, the mixtures' IN/LN parts) and DyT's tanh cannot fold.
        """
        return self.is_weight or (self.running_stats and self.family == "statistics")

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)

    def defaults(self) -> dict:
        """Keyword arguments of ``normalize`` with every parameter at its default."""
        return {p.name: p.default for p in self.params}

    def __repr__(self) -> str:
        return f"NormSpec({self.key!r}: {self.name}, {self.family}, pools {''.join(self.axes) or 'nothing'})"
