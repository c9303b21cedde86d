"""The guide: each question people ask, a short answer from the papers, and the experiments whose
shipped results back it (their claim sentences carry the measured numbers)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GuideEntry:
    question: str  # a key of QUESTIONS
    answer: str
    experiments: tuple[str, ...]


GUIDE: tuple[GuideEntry, ...] = (
    GuideEntry("cnn", "With a healthy batch on each device (16–32 images or more), BatchNorm is the "
               "default and the best of the simple norms: the GN paper's ResNet-50 at 32 images per GPU "
               "has 23.6 % validation error with BN, 24.1 % with GN, 25.3 % with LN and 28.4 % with IN. "
               "GroupNorm comes within half a point without depending on the batch at all; learned mixtures "
               "(Batch-Instance, Switchable) edge BN out. IN alone throws away each image's contrast, which "
               "classification needs. Beware comparisons that change more than the norm (Keras defaults, "
               "`LayerNormalization(axis=3)`).",
               ("gn_figures", "keras", "switchable")),
    GuideEntry("rnn", "LayerNorm (or RMSNorm, its cheaper cousin without the mean): its statistics come from "
               "one example at one time step, so nothing depends on the batch, the sequence length or "
               "running averages, and training and inference compute the same thing. BN in an RNN needs "
               "statistics per time step and breaks on sequences longer than those seen in training. "
               "Switchable Norm, left to choose, picks LN for an LSTM.",
               ("rnn", "invariances")),
    GuideEntry("style", "InstanceNorm: a stylised image's contrast and colour should follow the style, not "
               "the content photo, and IN removes each image's own statistics inside the network (kept at "
               "test time). Batch-Instance Norm learns per channel where that helps: it goes to IN where "
               "contrast is a nuisance and stays with BN where contrast carries the label.",
               ("batch_instance",)),
    GuideEntry("batch", "Below about 8 images per device BN's batch statistics become noisy and differ from "
               "the running averages used at test time: the GN paper's BN error climbs from 23.6 % at 32 "
               "images per GPU to 34.7 % at 2, while GN stays at 24.0–24.2 %. Switchable Norm shifts its "
               "variance weight away from BN as the batch shrinks.",
               ("gn_figure1", "switchable")),
    GuideEntry("distributed", "BN's statistics are per device unless you synchronize them (SyncBN all-reduces "
               "mean and variance across processes, which behaves like one big batch); PyTorch's DDP by "
               "default broadcasts rank 0's running statistics to the others. GN and LN have nothing to "
               "synchronize. Ghost batches simulate small per-device batches in one process.",
               ("distributed",)),
    GuideEntry("cost", "All activation norms cost a few passes over the activations; BN was about 16 % slower "
               "per step than no norm in the Weight Norm paper, whose WN was not noticeably slower. Measure "
               "on your machine: the ratios below are from this one.",
               ("cost", "weight_norm")),
    GuideEntry("why", "Not mainly by fixing 'internal covariate shift' (that story is contested): BN makes the "
               "loss smoother along the gradient, so larger steps are safe, and it keeps each layer's inputs "
               "in the range where its nonlinearity learns.",
               ("bn_figure1", "santurkar")),
)
