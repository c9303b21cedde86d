"""The norm registry: one :class:`NormSpec` per normalization, everything the app needs to know.

The cube, the image lab, the training lab and the tests all read this table. Adding a norm is one
entry here, its readable numpy reference in ``normviz.norms.reference`` and its torch module (with
its torch reference op) in ``normviz.norms.torch_modules``; a test checks the four agree on keys.

Pure Python on purpose (no numpy): the home page lists the norms without paying for numpy.
"""
from __future__ import annotations

from normviz.norms.spec import AXES, FAMILIES, FAMILY_TITLES, NormSpec, Param  # noqa: F401

_STD = r"\frac{x - \mu_S}{\sqrt{\sigma^2_S + \epsilon}}"
_AFFINE = r"y = \gamma_c\,\hat x + \beta_c"
_SAME = "The same in training and eval: the statistics always come from the input itself."
_RUNNING = ("Training: the mini-batch's statistics, and an update of running averages of them. Eval: the "
            "running averages, a fixed affine map per channel, so the output no longer depends on the batch.")

GROUPS = Param("groups", "G", "G (groups)", "divisor_C", 2, "channels per group = C / G; G must divide C")
GHOST = Param("ghost_size", "g", "ghost batch size", "divisor_N", 1, "samples per ghost batch; must divide N")
RHO = Param("rho", "ρ", "ρ (gate)", "unit", 0.5, "1 = BatchNorm, 0 = InstanceNorm; one value or one per channel",
            low=0.0, high=1.0, step=0.05)
MEAN_W = Param("mean_weights", "w", "weights for μ (IN, LN, BN)", "simplex", (1 / 3, 1 / 3, 1 / 3),
               "softmaxed importance of the IN, LN and BN means")
VAR_W = Param("var_weights", "w'", "weights for σ² (IN, LN, BN)", "simplex", (1 / 3, 1 / 3, 1 / 3),
              "softmaxed importance of the IN, LN and BN variances")
RUN_MEAN = Param("running_mean", "μ", "running mean μ", "real", 0.0,
                 "the running mean Batch Renorm corrects towards (one value or one per channel)",
                 low=-3.0, high=3.0, step=0.1, per_channel=True)
RUN_STD = Param("running_std", "σ", "running std σ", "positive", 1.0,
                "the running standard deviation Batch Renorm corrects towards (one value or one per channel)",
                low=0.1, high=5.0, step=0.1, per_channel=True)
R_MAX = Param("r_max", "r_max", "r_max", "at_least_1", 3.0, "r = σ_B/σ is clipped to [1/r_max, r_max]; 1 = BN",
              low=1.0, high=5.0, step=0.25)
ALPHA = Param("alpha", "α", "α (steepness)", "positive", 0.5,
              "tanh(α·x): small α is almost linear, large α saturates; learned, one scalar per layer",
              low=0.05, high=5.0, step=0.05)
D_MAX = Param("d_max", "d_max", "d_max", "non_negative", 5.0, "d = (μ_B − μ)/σ is clipped to [−d_max, d_max]; 0 = BN",
              low=0.0, high=5.0, step=0.25)

NORMS: dict[str, NormSpec] = {s.key: s for s in [
    NormSpec(
        "batch", "BatchNorm", "BN", "Standardizes each channel with statistics of the whole mini-batch.",
        family="statistics", featured=True, kind="activation",
        pools="every n, h, w of one channel c", axes=("N", "H", "W"),
        batch_dependent=True, running_stats=True, train_eval=_RUNNING,
        erases="Per image, nothing it can rely on: in training an image's output moves with its batch mates; "
               "in eval (running statistics) a change of contrast, brightness or colour passes straight through.",
        erases_why="its statistics are the batch's (or, in eval, fixed averages), never one image's own.",
        paper="Ioffe & Szegedy 2015", arxiv="1502.03167",
        formula=r"\hat x = " + _STD + r",\quad S = \{\text{all } n, h, w \text{ of channel } c\},\quad " + _AFFINE,
        module="BatchNorm", torch_code="F.batch_norm(x, None, None, training=True, eps={eps})",
        torch_nn=("nn.BatchNorm1d({c})", "nn.BatchNorm2d({c})")),
    NormSpec(
        "layer", "LayerNorm", "LN", "Standardizes each sample over all its channels and positions.",
        family="statistics", featured=True, kind="activation",
        pools="every c, h, w of one sample n", axes=("C", "H", "W"),
        batch_dependent=False, running_stats=False, train_eval=_SAME,
        erases="A global change of one image's contrast and brightness (the same gain and offset on every "
               "channel), up to ε; not a colour cast, which changes the channels differently.",
        erases_why="its mean and variance pool all channels and positions of one image, so a gain and offset "
                   "shared by all of them cancel.",
        paper="Ba, Kiros & Hinton 2016", arxiv="1607.06450",
        formula=r"\hat x = " + _STD + r",\quad S = \{\text{all } c, h, w \text{ of sample } n\},\quad " + _AFFINE,
        module="LayerNorm", torch_code="F.layer_norm(x, ({C}, {H}, {W}), eps={eps})",
        torch_nn=("nn.LayerNorm({c})", "nn.GroupNorm(1, {c})")),
    NormSpec(
        "instance", "InstanceNorm", "IN",
        "Standardizes each channel of each sample on its own: erases per-image contrast.",
        family="statistics", featured=True, kind="activation",
        pools="every h, w of one (n, c)", axes=("H", "W"),
        batch_dependent=False, running_stats=False,
        train_eval=_SAME + " (torch's InstanceNorm can also keep running statistics, off by default.)",
        erases="Each channel's contrast and brightness in each image, so global contrast and a colour cast too "
               "(up to ε): the image's style statistics.",
        erases_why="every (image, channel) is standardized with its own mean and variance.",
        paper="Ulyanov, Vedaldi & Lempitsky 2016", arxiv="1607.08022",
        formula=r"\hat x = " + _STD + r",\quad S = \{\text{all } h, w \text{ of } (n, c)\},\quad " + _AFFINE,
        module="InstanceNorm", torch_code="F.instance_norm(x, eps={eps})",
        torch_nn=("", "nn.InstanceNorm2d({c}, affine=True)"),
        dims=(2,), dims_why="InstanceNorm needs spatial positions (dims=2): on MLP features N×C each (n, c) is a "
                            "single number, so its mean is the value itself and the output is 0. Use 'layer' or "
                            "'group' for MLPs."),
    NormSpec(
        "group", "GroupNorm", "GN", "Splits the channels into G groups and standardizes each group of each sample.",
        family="statistics", featured=True, kind="activation",
        pools="every h, w and the C/G channels of c's group, in one sample n", axes=("C/G", "H", "W"),
        batch_dependent=False, running_stats=False, train_eval=_SAME,
        erases="A change shared by the channels of a group, such as global contrast and brightness; a colour "
               "cast only when each group holds a single channel (G = C, which is InstanceNorm).",
        erases_why="each group of channels of one image is standardized on its own.",
        paper="Wu & He 2018", arxiv="1803.08494",
        formula=r"\hat x = " + _STD + r",\quad S = \{\text{all } h, w \allowbreak\text{ of the } C/G \text{ channels of } c"
                r"\text{'s group,}\allowbreak\text{ sample } n\},\quad " + _AFFINE,
        params=(GROUPS,), module="GroupNorm", torch_code="F.group_norm(x, {groups}, eps={eps})",
        torch_nn=("nn.GroupNorm({G}, {c})", "nn.GroupNorm({G}, {c})")),
    NormSpec(
        "batch_instance", "Batch-Instance Norm", "BIN",
        "Per channel, a learned gate ρ mixes the outputs of BatchNorm (ρ = 1) and InstanceNorm (ρ = 0).",
        family="mixture", featured=True, kind="activation",
        pools="BN's set (all n, h, w of c) and IN's set (h, w of one (n, c)): two normalized outputs, mixed",
        axes=("N", "H", "W"), mixes=("batch", "instance"), mix="outputs",
        batch_dependent=True, running_stats=True,
        train_eval="Training: the BN branch uses batch statistics (and updates running averages), the IN branch "
                   "the image's own. Eval: the BN branch uses the running averages, the IN branch still the "
                   "image's own. ρ is learned and clipped to [0, 1].",
        erases="A share 1 − ρ of what InstanceNorm erases: the IN branch removes each image's channel statistics, "
               "the BN branch keeps them.",
        erases_why="it outputs ρ·BN(x) + (1 − ρ)·IN(x): two normalized images, mixed.",
        paper="Nam & Kim 2018", arxiv="1805.07925",
        formula=r"\hat x = \rho_c\,\hat x_{BN} + (1 - \rho_c)\,\hat x_{IN},\quad \rho_c \in [0, 1],\quad " + _AFFINE,
        params=(RHO,), module="BatchInstanceNorm",
        dims=(2,), dims_why="Batch-Instance Norm needs spatial positions (dims=2): its IN branch is meaningless on "
                            "MLP features N×C (one value per (n, c)). Use 'batch' for MLPs."),
    NormSpec(
        "switchable", "Switchable Norm", "SN",
        "Blends the IN, LN and BN statistics with learned softmax weights, separately for μ and σ², then "
        "normalizes once.",
        family="mixture", kind="activation",
        pools="IN's, LN's and BN's sets, weighted by the mean weights (for μ) and the variance weights (for σ²)",
        axes=("N", "C", "H", "W"), mixes=("instance", "layer", "batch"), mix="statistics",
        batch_dependent=True, running_stats=True,
        train_eval="Training: the BN statistics come from the batch (and update running averages). Eval: the BN "
                   "part uses the running averages; the IN and LN parts still come from the input.",
        erases="Depends on the learned weights: the IN part removes each image's channel statistics, the LN part "
               "its global ones, the BN part nothing per image.",
        erases_why="it normalizes with μ = Σ w_k μ_k and σ² = Σ w'_k σ²_k: one blend of three sets' statistics.",
        paper="Luo et al. 2019", arxiv="1806.10779",
        formula=r"\hat x = \frac{x - \sum_k w_k \mu_k}{\sqrt{\sum_k w'_k \sigma^2_k + \epsilon}},\quad "
                r"k \in \{IN, LN, BN\},\quad " + _AFFINE,
        params=(MEAN_W, VAR_W), module="SwitchableNorm",
        dims=(2,), dims_why="Switchable Norm (IN/LN/BN blend) needs spatial positions (dims=2): the IN statistics "
                            "of MLP features N×C are single values. Use 'layer' or 'batch' for MLPs."),
    NormSpec(
        "weight", "Weight Norm", "WN",
        "Reparameterizes each output unit's weight vector as g·v/‖v‖ (no activation statistics).",
        family="weights", kind="weight",
        pools="all weights of one output unit (C_in × k × k)", axes=("C_in", "k", "k"), centred=False,
        batch_dependent=False, running_stats=False,
        train_eval="The same in training and eval: it rewrites the weights, w = g·v/‖v‖, and never looks at the data.",
        erases="Nothing in the image: it normalizes the layer's weights, not its activations.",
        erases_why="the statistics (‖v‖) are the weights'; the image passes through the layer as through any other.",
        paper="Salimans & Kingma 2016", arxiv="1602.07868",
        formula=r"w = g\,\frac{v}{\lVert v \rVert},\quad y = w * x + b",
        module="WeightNorm", stat_names=("μ (not used)", "‖v‖²")),
    NormSpec(
        "rms", "RMSNorm", "RMS", "Divides each sample by its root mean square; no mean subtraction.",
        family="statistics", featured=True, kind="activation",
        pools="every c, h, w of one sample n (mean of squares, not variance)", axes=("C", "H", "W"), centred=False,
        batch_dependent=False, running_stats=False, train_eval=_SAME,
        erases="A global change of one image's contrast (a gain on every value), up to ε; not brightness: nothing "
               "is subtracted, so an offset stays.",
        erases_why="it divides by the root mean square of one image's values, which scales with a gain.",
        paper="Zhang & Sennrich 2019", arxiv="1910.07467",
        formula=r"\hat x = \frac{x}{\sqrt{\tfrac{1}{|S|}\sum_{S} x^2 + \epsilon}},\quad S = \{\text{all } c, h, w "
                r"\text{ of sample } n\},\quad " + _AFFINE,
        module="RMSNorm", torch_code="F.rms_norm(x, ({C}, {H}, {W}), eps={eps})", torch_nn=("nn.RMSNorm({c})", ""),
        stat_names=("μ (not used)", "ν² (mean of squares)")),
    NormSpec(
        "ghost_batch", "Ghost BatchNorm", "GBN", "BatchNorm computed separately on small 'ghost' chunks of the batch.",
        family="statistics", kind="activation",
        pools="every h, w of channel c in the ghost batch (chunk of samples) that holds n", axes=("N/g", "H", "W"),
        batch_dependent=True, running_stats=True,
        train_eval="Training: each ghost batch's statistics (running averages updated from them). Eval: the running "
                   "averages, like BatchNorm.",
        erases="Per image, nothing it can rely on: in training an image's output moves with the mates of its "
               "ghost batch.",
        erases_why="its statistics are those of a chunk of the batch, never one image's own.",
        paper="Hoffer, Hubara & Soudry 2017", arxiv="1705.08741",
        formula=r"\hat x = " + _STD + r",\quad S = \{\text{all } h, w \allowbreak\text{ of } c \text{ in } n\text{'s ghost "
                r"batch}\},\quad " + _AFFINE,
        params=(GHOST,), module="GhostBatchNorm",
        torch_code="torch.cat([F.batch_norm(xc, None, None, training=True, eps={eps}) for xc in x.split({ghost_size})])"),
    NormSpec(
        "batch_renorm", "Batch Renorm", "BRN",
        "BatchNorm whose batch statistics are corrected towards the running ones by r and d.",
        family="statistics", kind="stateful",
        pools="every n, h, w of one channel c, then corrected by the running statistics", axes=("N", "H", "W"),
        batch_dependent=True, running_stats=True,
        train_eval="Training: x̂ = (x − μ_B)/σ_B · r + d with r = clip(σ_B/σ, 1/r_max, r_max) and d = clip((μ_B − μ)/σ, "
                   "−d_max, d_max), both treated as constants (no gradient); the paper warms up from r_max = 1, "
                   "d_max = 0 (exactly BatchNorm) to 3 and 5. Eval: the running averages μ, σ.",
        erases="Like BatchNorm: nothing per image it can rely on; r and d pull the training output towards what "
               "eval will compute.",
        erases_why="its statistics are the batch's, corrected towards fixed running averages.",
        paper="Ioffe 2017", arxiv="1702.03275",
        formula=r"\hat x = \frac{x - \mu_B}{\sigma_B}\, r + d,\quad r = \mathrm{clip}_{[1/r_{max},\, r_{max}]}\!"
                r"\left(\tfrac{\sigma_B}{\sigma}\right),\ d = \mathrm{clip}_{[-d_{max},\, d_{max}]}\!\left("
                r"\tfrac{\mu_B - \mu}{\sigma}\right),\quad " + _AFFINE,
        params=(RUN_MEAN, RUN_STD, R_MAX, D_MAX), module="BatchRenorm",
        note="r and d are computed without gradient (stop-gradient), so training sees them as constants."),
    NormSpec(
        "weight_standardization", "Weight Standardization", "WS",
        "Standardizes each output filter's weights to zero mean and unit variance.",
        family="weights", kind="weight",
        pools="all weights of one output filter (C_in × k × k)", axes=("C_in", "k", "k"),
        batch_dependent=False, running_stats=False,
        train_eval="The same in training and eval: it rewrites the weights and never looks at the data.",
        erases="Nothing in the image: it normalizes the layer's weights (usually paired with GroupNorm).",
        erases_why="the statistics are each filter's weights'.",
        paper="Qiao et al. 2019", arxiv="1903.10520",
        formula=r"\hat W_o = \frac{W_o - \mathrm{mean}(W_o)}{\mathrm{std}(W_o) + \epsilon},\quad y = \hat W * x + b",
        module="WeightStandardization", stat_names=("mean(W_o)", "var(W_o) (unbiased)")),
    NormSpec(
        "pono", "Positional Norm", "PONO", "Standardizes each position across channels (per n, h, w).",
        family="statistics", kind="activation",
        pools="every c of one position (n, h, w)", axes=("C",),
        batch_dependent=False, running_stats=False, train_eval=_SAME,
        erases="At every pixel, the brightness and contrast shared by its channels; what is left is how the "
               "channels differ at that pixel.",
        erases_why="each pixel's channels are standardized with their own mean and variance.",
        paper="Li et al. 2019", arxiv="1907.04312",
        formula=r"\hat x = " + _STD + r",\quad S = \{\text{all } c \text{ at } (n, h, w)\},\quad " + _AFFINE,
        module="PositionalNorm",
        torch_code="(x - x.mean(1, keepdim=True)) / torch.sqrt(x.var(1, keepdim=True, unbiased=False) + {eps})",
        dims=(2,), dims_why="Positional Norm on MLP features N×C standardizes each sample across its features, "
                            "which is exactly LayerNorm: use 'layer' for MLPs."),
    NormSpec(
        "frn", "Filter Response Norm", "FRN",
        "Divides each (n, c) map by its root mean square over h, w; no mean subtracted, and its own "
        "nonlinearity (TLU).",
        family="statistics", kind="activation",
        pools="every h, w of one (n, c) (mean of squares, not variance)", axes=("H", "W"), centred=False,
        batch_dependent=False, running_stats=False, train_eval=_SAME,
        erases="Each channel's contrast in each image (a gain per channel, so a multiplicative colour cast too), "
               "up to ε; not brightness: nothing is subtracted.",
        erases_why="each (image, channel) is divided by its own root mean square.",
        paper="Singh & Krishnan 2019", arxiv="1911.09737",
        formula=r"\hat x = \frac{x}{\sqrt{\nu^2 + \epsilon}},\quad \nu^2 = \tfrac{1}{HW}\sum_{h,w} x^2,\quad "
                r"y = \max(\gamma_c\,\hat x + \beta_c,\ \tau_c)",
        module="FilterResponseNorm", torch_code="x * torch.rsqrt(x.pow(2).mean((2, 3), keepdim=True) + {eps})",
        stat_names=("μ (not used)", "ν² (mean of squares)"),
        dims=(2,), dims_why="Filter Response Norm on MLP features N×C divides each value by √(x² + ε) ≈ |x|, "
                            "leaving only its sign. Use it on conv features (dims=2), or 'rms' for MLPs."),
    NormSpec(
        "dyt", "Dynamic Tanh", "DyT",
        "Replaces the norm by tanh(α·x) with a learned scalar α: no statistics at all.",
        family="elementwise", kind="activation", featured=True,
        pools="nothing: every element on its own", axes=(),
        batch_dependent=False, running_stats=False,
        train_eval="The same in training and eval: a fixed function of each value, no statistics.",
        erases="Nothing per image: no statistic, so a change of contrast, brightness or colour passes through; "
               "large values are squashed towards ±1 (bright, high-contrast parts saturate), small ones pass "
               "almost linearly, scaled by α.",
        erases_why="tanh(α·x) looks at each value alone: nothing about the image, the batch or the channel "
                   "enters it.",
        paper="Zhu, Chen, He, LeCun & Liu 2025", arxiv="2503.10622",
        formula=r"\hat x = \tanh(\alpha\, x),\quad \alpha \text{ learned (one scalar)},\quad " + _AFFINE,
        params=(ALPHA,), module="DynamicTanh", stat_names=("μ (none)", "σ² (none)")),
]}

ACTIVATION_NORMS = tuple(k for k, s in NORMS.items() if s.kind == "activation")
WEIGHT_NORMS = tuple(k for k, s in NORMS.items() if s.kind == "weight")
PARTITION_NORMS = tuple(k for k, s in NORMS.items() if s.is_partition and s.kind == "activation")
MIXTURES = {k: s.mixes for k, s in NORMS.items() if s.is_mixture}


def get_spec(norm: str) -> NormSpec:
    """The registry entry for ``norm``, or a ValueError listing the valid keys."""
    try:
        return NORMS[norm]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown norm {norm!r}. Valid keys: {', '.join(NORMS)}.") from None


def display_name(key: str) -> str:
    """A norm's name for people, also for "none" and composites such as "weight+mean_only"."""
    if key == "none":
        return "no norm"
    return " + ".join(NORMS[p].name if p in NORMS else ("mean-only BN" if p == "mean_only" else p)
                      for p in key.split("+"))


def families() -> list[tuple[str, str, list[str]]]:
    """(title, what the family does, its norms' names) for each family that has norms, in
    registry order: what is true of each kind of norm, for the pages' introductions."""
    out = []
    for family, what in FAMILIES.items():
        names = [s.name for s in NORMS.values() if s.family == family]
        if names:
            out.append((FAMILY_TITLES[family], what, names))
    return out
