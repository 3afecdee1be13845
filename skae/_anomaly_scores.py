"""The parts of AutoencoderAnomalyDetector's anomaly score, apart from the network.

Each part maps encoded rows (the network's input) to one number per row,
larger for more anomalous rows, and depends on nothing but the row and what
was fitted: a row's score never depends on the other rows of the call. The
detector standardizes every part by its median and median absolute deviation
on the training rows (:class:`RobustStandardizer`) and adds them up.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from sklearn.neighbors import NearestNeighbors

from ._base import _rows
from ._data import map_row_chunks


class RobustStandardizer:
    """``(score - median) / (1.4826 * MAD)`` with the training rows' statistics."""

    def fit(self, scores: np.ndarray) -> RobustStandardizer:
        self.center = float(np.median(scores))
        scale = 1.4826 * float(np.median(np.abs(scores - self.center)))
        if not scale > 0:
            scale = float(np.std(scores)) or 1.0
        self.scale = scale
        return self

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        return (scores - self.center) / self.scale


class NeighbourDistance:
    """Distance to the ``k``-th nearest of (at most ``max_rows``) training rows.

    Features are standardized by their training mean and standard deviation.
    :meth:`fit` returns the training rows' scores, each reference row's own
    distance of zero left out.
    """

    def __init__(self, n_neighbors: int = 5, max_rows: int = 2000):
        self.n_neighbors = n_neighbors
        self.max_rows = max_rows

    def fit(self, Z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        Z = np.asarray(Z, dtype=np.float64)
        self.mean = Z.mean(axis=0)
        std = Z.std(axis=0)
        self.scale = np.where(std > 0, std, 1.0)
        Z = (Z - self.mean) / self.scale
        reference = np.arange(len(Z))
        if len(Z) > self.max_rows:
            reference = np.sort(rng.choice(len(Z), self.max_rows, replace=False))
        self.k = min(self.n_neighbors, len(reference) - 1) if len(reference) > 1 else 1
        self.index = NearestNeighbors(n_neighbors=self.k).fit(Z[reference])
        scores = self.index.kneighbors(Z, n_neighbors=self.k)[0][:, -1]
        if len(reference) > 1:
            own = self.index.kneighbors(Z[reference], n_neighbors=self.k + 1)[0][:, -1]
            scores[reference] = own
        return scores

    def __call__(self, Z: np.ndarray) -> np.ndarray:
        Z = (np.asarray(Z, dtype=np.float64) - self.mean) / self.scale
        return self.index.kneighbors(Z, n_neighbors=self.k)[0][:, -1]


class TailProbability:
    """ECOD's score: how far into the tails of each feature's distribution a row lies.

    The sum over features of ``-log`` of the smaller of the left and right
    tail probabilities, read off each feature's empirical distribution on (at
    most ``max_rows``) training rows, with one pseudo-count so that values
    beyond the training range stay finite (Li et al., "ECOD", IEEE TKDE 2022).
    """

    def __init__(self, max_rows: int = 2000):
        self.max_rows = max_rows

    def fit(self, Z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        Z = np.asarray(Z, dtype=np.float64)
        sample = Z
        if len(Z) > self.max_rows:
            sample = Z[np.sort(rng.choice(len(Z), self.max_rows, replace=False))]
        self.sorted = np.sort(sample, axis=0)
        return self(Z)

    def __call__(self, Z: np.ndarray) -> np.ndarray:
        Z = np.asarray(Z, dtype=np.float64)
        n = self.sorted.shape[0]
        total = np.zeros(len(Z))
        for j in range(Z.shape[1]):
            column = self.sorted[:, j]
            at_most = np.searchsorted(column, Z[:, j], side="right")
            at_least = n - np.searchsorted(column, Z[:, j], side="left")
            smaller = np.minimum(at_most, at_least)
            total -= np.log((smaller + 1.0) / (n + 1.0))
        return total


def float64_column_errors(estimator, X) -> np.ndarray:
    """Reconstruction error of each column of each row, computed in float64.

    In float32, a row's error changes in the 7th digit with the number of
    rows in the call (matrix products take other paths for one row than for
    many); in float64 the difference is far below any tolerance, so a row's
    score does not depend on the other rows it is scored with.
    """
    module = copy.deepcopy(estimator.module_).double().eval()
    encoder = estimator.encoder_

    def errors(rows):
        x = estimator._network_input(_rows(X, rows))
        x = torch.from_numpy(np.asarray(x, dtype=np.float64)).to(estimator.device_)
        return encoder.column_errors(module.decode(module.encode(x)), x).cpu().numpy()

    out = np.empty((X.shape[0], encoder.n_columns), dtype=np.float64)
    return map_row_chunks(errors, X.shape[0], out, estimator._chunk_rows())
