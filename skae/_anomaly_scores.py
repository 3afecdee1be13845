"""The parts of AutoencoderAnomalyDetector's anomaly score, apart from the network.

Each part maps encoded rows (the network's input) to one number per row,
larger for more anomalous rows, and depends on nothing but the row and what
was fitted: a row's score never depends on the other rows of the call. The
detector standardizes every part by its median and median absolute deviation
on the training rows (:func:`robust_center_scale`) and adds them up.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.stats import median_abs_deviation
from sklearn.neighbors import NearestNeighbors


def _dense(Z) -> np.ndarray:
    """Rows as a float64 array; sparse network input (at most the rows scored) densified."""
    return Z.toarray().astype(np.float64) if sp.issparse(Z) else np.asarray(Z, dtype=np.float64)


def robust_center_scale(scores: np.ndarray) -> tuple[float, float]:
    """Median and scaled median absolute deviation (never zero) of ``scores``."""
    center = float(np.median(scores))
    scale = float(median_abs_deviation(scores, scale="normal"))
    if not scale > 0:
        scale = float(np.std(scores)) or 1.0
    return center, scale


def _sample_rows(Z: np.ndarray, max_rows: int, rng: np.random.Generator) -> np.ndarray:
    if len(Z) <= max_rows:
        return np.arange(len(Z))
    return np.sort(rng.choice(len(Z), max_rows, replace=False))


# The fitted state of each part is a dict of arrays and numbers, so that
# skops.io loads it without trusting new types.
def fit_neighbour_distance(Z, rng, n_neighbors: int = 5, max_rows: int = 2000):
    """State and training scores of :func:`neighbour_distance`.

    A training row's score leaves out its own distance of zero.
    """
    Z = _dense(Z)
    std = Z.std(axis=0)
    state = {"mean": Z.mean(axis=0), "scale": np.where(std > 0, std, 1.0)}
    reference = _sample_rows(Z, max_rows, rng)
    state["reference"] = (Z[reference] - state["mean"]) / state["scale"]
    state["k"] = max(1, min(n_neighbors, len(reference) - 1))
    scores = neighbour_distance(state, Z)
    if len(reference) > 1:
        index = NearestNeighbors().fit(state["reference"])
        own = index.kneighbors(state["reference"], n_neighbors=state["k"] + 1)[0][:, -1]
        scores[reference] = own
    return state, scores


def neighbour_distance(state: dict, Z) -> np.ndarray:
    """Distance to the k-th nearest of (at most 2,000) training rows.

    Features are standardized by their training mean and standard deviation.
    """
    Z = (_dense(Z) - state["mean"]) / state["scale"]
    index = NearestNeighbors().fit(state["reference"])
    return index.kneighbors(Z, n_neighbors=state["k"])[0][:, -1]


def fit_tail_probability(Z, rng, max_rows: int = 2000):
    """State and training scores of :func:`tail_probability`."""
    Z = _dense(Z)
    state = {"sorted": np.sort(Z[_sample_rows(Z, max_rows, rng)], axis=0)}
    return state, tail_probability(state, Z)


def tail_probability(state: dict, Z) -> np.ndarray:
    """ECOD's score: how far into the tails of each feature's distribution a row lies.

    The sum over features of ``-log`` of the smaller of the left and right
    tail probabilities, read off each feature's empirical distribution on (at
    most 2,000) training rows, with one pseudo-count so that values beyond
    the training range stay finite (Li et al., "ECOD", IEEE TKDE 2022).
    """
    Z = _dense(Z)
    ordered = state["sorted"]
    n = ordered.shape[0]
    total = np.zeros(len(Z))
    for j in range(Z.shape[1]):
        at_most = np.searchsorted(ordered[:, j], Z[:, j], side="right")
        at_least = n - np.searchsorted(ordered[:, j], Z[:, j], side="left")
        total -= np.log((np.minimum(at_most, at_least) + 1.0) / (n + 1.0))
    return total


#: The parts beside the reconstruction error, by name: (fit, score).
SCORE_PARTS = {
    "neighbours": (fit_neighbour_distance, neighbour_distance),
    "tails": (fit_tail_probability, tail_probability),
}
