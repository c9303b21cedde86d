"""The training data: scikit-learn's bundled 8×8 digits and the variants the experiments use.

Loaded once per process (``lru_cache``), split with a fixed seed, read-only; torch and
scikit-learn are imported inside the functions.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from normviz.training.config import TrainConfig


@lru_cache(maxsize=4)
def _digits_arrays(split_seed: int, test_fraction: float):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)  # pixel values 0..16 -> [0, 1]
    order = np.random.RandomState(split_seed).permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    test, train = order[:n_test], order[n_test:]
    for a in (X, y):
        a.setflags(write=False)
    return X[train], y[train].astype(np.int64), X[test], y[test].astype(np.int64)


@lru_cache(maxsize=8)
def _dataset_arrays(dataset: str, split_seed: int, test_fraction: float):
    # The variants of DATASETS: one seeded factor per image (train and test alike).
    Xtr, ytr, Xte, yte = _digits_arrays(split_seed, test_fraction)
    if dataset == "digits":
        return Xtr, ytr, Xte, yte
    rng = np.random.RandomState(10_000 + split_seed)
    out = []
    for X, y in ((Xtr, ytr), (Xte, yte)):
        if dataset == "digits_contrast":
            factor = rng.uniform(0.0, 2.0, size=len(y)).astype(np.float32)
        else:  # digits_brightness
            y = rng.randint(0, 2, size=len(y)).astype(np.int64)
            factor = np.where(y == 1, 1.0, 0.5).astype(np.float32)
        X = X * factor[:, None]
        for a in (X, y):
            a.setflags(write=False)
        out += [X, y]
    return tuple(out)


def load_data(cfg: TrainConfig):
    """(X_train, y_train, X_test, y_test) as torch tensors; images are (N, 64) or (N, 1, 8, 8)."""
    import torch

    Xtr, ytr, Xte, yte = _dataset_arrays(cfg.dataset, cfg.split_seed, cfg.test_fraction)
    shape = (-1, 64) if cfg.model == "mlp" else (-1, 1, 8, 8)
    return (torch.from_numpy(Xtr.copy()).reshape(shape), torch.from_numpy(ytr.copy()),
            torch.from_numpy(Xte.copy()).reshape(shape), torch.from_numpy(yte.copy()))
