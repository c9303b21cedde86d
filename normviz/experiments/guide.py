"""The guide: each question people ask, a one-line recommendation, a short answer from the papers
(their numbers cited), and the experiments whose shipped results back it.

Nothing here states one of *our* results: the pages show those from each experiment's facts and
numbers, counted over every shipped seed (``normviz.experiments.seeds``).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GuideEntry:
    question: str  # a key of QUESTIONS
    answer: str  # at most two lines, from the papers, numbers cited
    experiments: tuple[str, ...]
    recommendation: str = ""  # one line: what to do


GUIDE: tuple[GuideEntry, ...] = (
    GuideEntry(
        "cnn",
        "The GN paper's ResNet-50 at 32 images per GPU: 23.6 % validation error with BN, 24.1 % GN, 25.3 % LN, "
        "28.4 % IN. The mixtures' own papers report small gains over BN (BIN +0.6 to +1.6 points, SN +0.5).",
        ("gn_figures", "keras", "switchable", "switchable_depth", "batch_instance"),
        recommendation="BatchNorm with 16–32 or more images per device; GroupNorm when the batch is small. IN "
                       "erases each image's contrast: a loss where contrast is the signal, a gain where it is "
                       "noise (see the contrast task below).",
    ),
    GuideEntry(
        "rnn",
        "Ba, Kiros & Hinton proposed LN for recurrent nets because its statistics come from one example at one "
        "time step; Switchable Norm, left to choose, picks LN for an LSTM (Luo et al. 2019).",
        ("rnn", "invariances"),
        recommendation="LayerNorm (or RMSNorm): nothing depends on the batch or on running averages, and training "
                       "and inference compute the same. No norm is immune to inputs unlike training.",
    ),
    GuideEntry(
        "style",
        "Ulyanov et al. replaced BN by IN in style-transfer generators: a stylised image's contrast and colour "
        "should follow the style, not the content photo. Batch-Instance Norm learns per channel where IN helps.",
        ("batch_instance",),
        recommendation="InstanceNorm, kept at test time; a BN–IN gate (BIN) where only some channels should forget "
                       "contrast.",
    ),
    GuideEntry(
        "batch",
        "The GN paper's BN error climbs from 23.6 % at 32 images per GPU to 34.7 % at 2 while GN stays at "
        "24.0–24.2 %. At exactly 2 samples per feature every BN output is ±1: a cliff of its own.",
        ("gn_figure1", "switchable", "ghost_bn"),
        recommendation="Keep at least 8–16 samples per BN feature per device, or switch to GroupNorm; never BN "
                       "with 2 samples.",
    ),
    GuideEntry(
        "distributed",
        "SyncBN combines every device's count, Σx and Σx² (never the per-device variances, whose average drops "
        "the spread between device means); PyTorch's DDP broadcasts rank 0's running statistics by default.",
        ("distributed", "distributed_params"),
        recommendation="Per-device BN at 16–32 images per device is standard and works; with fewer, synchronize BN "
                       "(one all-reduce per BN layer per step) or use GroupNorm, which has nothing to synchronize. "
                       "γ and β need nothing: DDP keeps every parameter identical on every device.",
    ),
    GuideEntry(
        "cost",
        "Salimans & Kingma measured BN about 16 % slower per iteration than no norm and Weight Norm not noticeably "
        "slower. Ratios depend on the hardware: fused GPU kernels hide most of a norm's passes.",
        ("cost", "folding", "weight_norm"),
        recommendation="Measure on your hardware; at inference fold BN (eval) and Weight Norm into the layer before "
                       "them, which LN, GN and IN cannot do.",
    ),
    GuideEntry(
        "why",
        "The BN paper credited steadier layer inputs ('internal covariate shift'); Santurkar et al. (2018) found BN "
        "with injected noise trains as well, and measured a smoother loss landscape instead. Neither is settled.",
        ("bn_figure1", "santurkar", "affine", "scale_invariance", "learning_rates", "input_scaling"),
        recommendation="Use it for what is measured: faster, more stable training at larger learning rates; treat "
                       "both explanations as hypotheses.",
    ),
    GuideEntry(
        "invariances",
        "LN paper Table 1: BN ignores what is done to a unit across the batch, LN and RMSNorm what is done to one "
        "example across its units, Weight Norm rescaling of the weight rows.",
        ("invariances",),
        recommendation="Choose the norm whose invariances match the nuisance in your data; with ε > 0 they hold only "
                       "approximately.",
    ),
    GuideEntry(
        "transformer",
        "Xiong et al. 2020: post-LN (the original Transformer) needs a learning-rate warm-up, pre-LN trains without "
        "one. Zhang & Sennrich 2019: RMSNorm matches LN and cut running time 7–64 %. Zhu et al. 2025: DyT matches LN "
        "(ViT-B 82.5 vs 82.3 % top-1).",
        ("transformer_placement", "transformer_rms", "transformer_dyt", "transformer_depth"),
        recommendation="Pre-norm: LayerNorm or RMSNorm inside each residual branch and one before the head; post-LN "
                       "only with a warm-up; no norm only at small depth and learning rate.",
    ),
)
