"""The norm registry: what each normalization is, for people and for code.

One entry of ``NORMS`` is everything the app needs to know about a norm: its name, what it
pools over (in words and as axes), its kind, its paper, its formula and where its torch module
lives. The cube, the image lab, the training lab and the tests all read this registry, so adding
a norm is one entry here (plus its numpy reference in ``normviz.norms`` and its torch module in
``normviz.modules`` when it can be trained).

Pure Python on purpose (no numpy): the home page lists the norms without paying for numpy.
"""
from __future__ import annotations

from dataclasses import dataclass, field

AXES = ("N", "C", "H", "W")


@dataclass(frozen=True)
class NormSpec:
    """What one normalization is, for people and for code.

    ``axes`` are the axes a statistic is pooled over (for weight norms, the axes of a weight
    tensor C_out×C_in×k×k); ``kind`` is "activation" (``normalize`` computes it), "weight"
    (``normalize_weight``) or "stateful" (needs running statistics: ``normviz.modules``).
    ``module`` names the torch class in ``normviz.modules`` used for training;
    ``torch_op`` names the ``torch.nn.functional`` op it equals, if any.
    """

    key: str
    name: str
    description: str
    pools: str
    axes: tuple[str, ...]
    kind: str
    batch_dependent: bool
    paper: str
    arxiv: str
    formula: str
    module: str | None = None
    torch_op: str | None = None
    params: tuple[str, ...] = field(default=())

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv}"

    def __repr__(self) -> str:
        return f"NormSpec({self.key!r}: {self.name}, pools {''.join(self.axes) or '—'}, {self.kind})"


_XHAT = r"\hat x = \frac{x - \mu_S}{\sqrt{\sigma^2_S + \epsilon}}"

NORMS: dict[str, NormSpec] = {s.key: s for s in [
    NormSpec(
        "batch", "BatchNorm", "Standardizes each channel with statistics of the whole mini-batch.",
        "every n, h, w of one channel c", ("N", "H", "W"), "activation", True,
        "Ioffe & Szegedy 2015", "1502.03167",
        _XHAT + r",\quad S = \{(n, c, h, w) : \text{all } n, h, w\}",
        module="BatchNorm", torch_op="batch_norm"),
    NormSpec(
        "layer", "LayerNorm", "Standardizes each sample over all its channels and positions.",
        "every c, h, w of one sample n", ("C", "H", "W"), "activation", False,
        "Ba, Kiros & Hinton 2016", "1607.06450",
        _XHAT + r",\quad S = \{(n, c, h, w) : \text{all } c, h, w\}",
        module="LayerNorm", torch_op="layer_norm"),
    NormSpec(
        "instance", "InstanceNorm", "Standardizes each channel of each sample on its own: erases per-image contrast.",
        "every h, w of one (n, c)", ("H", "W"), "activation", False,
        "Ulyanov, Vedaldi & Lempitsky 2016", "1607.08022",
        _XHAT + r",\quad S = \{(n, c, h, w) : \text{all } h, w\}",
        module="InstanceNorm", torch_op="instance_norm"),
    NormSpec(
        "group", "GroupNorm", "Splits the channels into G groups and standardizes each group of each sample.",
        "every h, w and the C/G channels of c's group, in one sample n", ("C/G", "H", "W"), "activation", False,
        "Wu & He 2018", "1803.08494",
        _XHAT + r",\quad S = \{(n, c', h, w) : \lfloor c'/(C/G) \rfloor = \lfloor c/(C/G) \rfloor\}",
        module="GroupNorm", torch_op="group_norm", params=("groups",)),
    NormSpec(
        "batch_instance", "Batch-Instance Norm", "Per channel, a learned gate ρ mixes BatchNorm (ρ = 1) and InstanceNorm (ρ = 0).",
        "BN's set (all n, h, w) weighted ρ_c and IN's set (h, w of one n) weighted 1 − ρ_c",
        ("N", "H", "W"), "activation", True,
        "Nam & Kim 2018", "1805.07925",
        r"\hat x = \rho_c\,\hat x_{BN} + (1 - \rho_c)\,\hat x_{IN},\quad \rho_c \in [0, 1]",
        module="BatchInstanceNorm", params=("rho",)),
    NormSpec(
        "switchable", "Switchable Norm", "Blends IN, LN and BN statistics with learned softmax weights, separately for μ and σ².",
        "IN's, LN's and BN's sets, weighted by the mean weights (for μ) and the variance weights (for σ²)",
        ("N", "C", "H", "W"), "activation", True,
        "Luo et al. 2019", "1806.10779",
        r"\hat x = \frac{x - \sum_k w_k \mu_k}{\sqrt{\sum_k w'_k \sigma^2_k + \epsilon}},\quad k \in \{IN, LN, BN\}",
        module="SwitchableNorm", params=("mean_weights", "var_weights")),
    NormSpec(
        "weight", "Weight Norm", "Reparameterizes each output unit's weight vector as g·v/‖v‖ (no activation statistics).",
        "all weights of one output unit (C_in × k × k)", ("C_in", "k", "k"), "weight", False,
        "Salimans & Kingma 2016", "1602.07868",
        r"w = g\,\frac{v}{\lVert v \rVert}",
        module="WeightNorm"),
    NormSpec(
        "rms", "RMSNorm", "Divides each sample by its root mean square; no mean subtraction.",
        "every c, h, w of one sample n (mean of squares, not variance)", ("C", "H", "W"), "activation", False,
        "Zhang & Sennrich 2019", "1910.07467",
        r"\hat x = \frac{x}{\sqrt{\tfrac{1}{|S|}\sum_{S} x^2 + \epsilon}},\quad S = \{\text{all } c, h, w\}",
        module="RMSNorm", torch_op="rms_norm"),
    NormSpec(
        "ghost_batch", "Ghost BatchNorm", "BatchNorm computed separately on small 'ghost' chunks of the batch.",
        "every h, w of channel c in the ghost batch (chunk of samples) that holds n", ("N/g", "H", "W"),
        "activation", True,
        "Hoffer, Hubara & Soudry 2017", "1705.08741",
        _XHAT + r",\quad S = \{(n', c, h, w) : n' \text{ in } n\text{'s ghost batch}\}",
        module="GhostBatchNorm", params=("ghost_size",)),
    NormSpec(
        "batch_renorm", "Batch Renorm", "BatchNorm whose batch statistics are corrected towards the running ones (r, d).",
        "every n, h, w of one channel c, corrected by running statistics", ("N", "H", "W"), "stateful", True,
        "Ioffe 2017", "1702.03275",
        r"\hat x = \frac{x - \mu_B}{\sigma_B}\, r + d,\quad r = \mathrm{clip}\!\left(\tfrac{\sigma_B}{\sigma}\right),\ d = \mathrm{clip}\!\left(\tfrac{\mu_B - \mu}{\sigma}\right)",
        module="BatchRenorm"),
    NormSpec(
        "weight_standardization", "Weight Standardization", "Standardizes each output filter's weights to zero mean and unit variance.",
        "all weights of one output filter (C_in × k × k)", ("C_in", "k", "k"), "weight", False,
        "Qiao et al. 2019", "1903.10520",
        r"\hat W_i = \frac{W_i - \mathrm{mean}(W_i)}{\mathrm{std}(W_i) + \epsilon}",
        module="WeightStandardization"),
    NormSpec(
        "pono", "Positional Norm", "Standardizes each position across channels (per n, h, w).",
        "every c of one position (n, h, w)", ("C",), "activation", False,
        "Li et al. 2019", "1907.04312",
        _XHAT + r",\quad S = \{(n, c', h, w) : \text{all } c'\}",
        module="PositionalNorm"),
    NormSpec(
        "frn", "Filter Response Norm", "Divides each (n, c) map by its root mean square over h, w (paired with a TLU).",
        "every h, w of one (n, c) (mean of squares, not variance)", ("H", "W"), "activation", False,
        "Singh & Krishnan 2019", "1911.09737",
        r"\hat x = \frac{x}{\sqrt{\nu^2 + \epsilon}},\quad \nu^2 = \tfrac{1}{HW}\sum_{h,w} x^2",
        module="FilterResponseNorm"),
]}

ACTIVATION_NORMS = tuple(k for k, s in NORMS.items() if s.kind == "activation")
WEIGHT_NORMS = tuple(k for k, s in NORMS.items() if s.kind == "weight")
# Norms whose statistic sets partition the tensor (every element belongs to exactly one set).
PARTITION_NORMS = ("batch", "layer", "instance", "group", "rms", "ghost_batch", "pono", "frn")
MIXTURES = {"batch_instance": ("batch", "instance"), "switchable": ("instance", "layer", "batch")}


def get_spec(norm: str) -> NormSpec:
    """The registry entry for ``norm``, or a ValueError listing the valid keys."""
    try:
        return NORMS[norm]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown norm {norm!r}. Valid keys: {', '.join(NORMS)}."
        ) from None
