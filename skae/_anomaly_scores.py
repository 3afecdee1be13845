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
from scipy.stats import median_abs_deviation, rankdata
from sklearn.neighbors import NearestNeighbors

from ._threads import openmp_threads, resolve_n_threads


def _dense(Z) -> np.ndarray:
    """Rows as a float64 array; sparse network input (at most the rows scored) densified."""
    return Z.toarray().astype(np.float64) if sp.issparse(Z) else np.asarray(Z, dtype=np.float64)


#: A spread below this share of the scores' largest magnitude is round-off:
#: float32 arithmetic leaves about 1e-7 of it on scores that are all equal.
_RELATIVE_TOLERANCE = 1e-6


def robust_center_scale(scores: np.ndarray) -> tuple[float, float]:
    """Median and scaled median absolute deviation (never round-off) of ``scores``.

    When most training rows score the same (a table of a few balanced
    categories; a regular grid's neighbour distances), the median absolute
    deviation is zero or round-off, and dividing by it would blow the scores
    of new rows up to 1e14 (a new user's trial). Then the standard deviation
    serves, or 1 when it is round-off too.
    """
    scores = np.asarray(scores, dtype=np.float64)
    center = float(np.median(scores))
    tolerance = _RELATIVE_TOLERANCE * float(np.max(np.abs(scores), initial=0.0))
    scale = float(median_abs_deviation(scores, scale="normal"))
    if not scale > tolerance:
        scale = float(np.std(scores))
    if not scale > tolerance:
        scale = 1.0
    return center, scale


def column_medians(Z) -> np.ndarray:
    """Median of each column of ``Z``, a scipy.sparse matrix's unstored zeros included."""
    if not sp.issparse(Z):
        return np.median(np.asarray(Z, dtype=np.float64), axis=0)
    Z = sp.csc_matrix(Z)
    medians = np.zeros(Z.shape[1])
    # A column that is zero in more than half the rows has the median 0.
    for j in np.flatnonzero(2 * np.diff(Z.indptr) >= Z.shape[0]):
        medians[j] = np.median(Z[:, [j]].toarray())
    return medians


def _sample_rows(Z: np.ndarray, max_rows: int, rng: np.random.Generator) -> np.ndarray:
    if len(Z) <= max_rows:
        return np.arange(len(Z))
    return np.sort(rng.choice(len(Z), max_rows, replace=False))


# The fitted state of each part is a dict of arrays and numbers, so that
# skops.io loads it without trusting new types. Each ``fit`` returns the
# state, the scores of the training rows (the part's score function would
# give the same), and the scores its centre and scale are estimated on.
def fit_neighbour_distance(Z, rng, n_neighbors: int = 5, max_rows: int = 2000):
    """State and training scores of :func:`neighbour_distance`.

    The centre and scale are estimated on scores that leave out a reference
    row's own distance of zero.
    """
    Z = _dense(Z)
    std = Z.std(axis=0)
    state = {"mean": Z.mean(axis=0), "scale": np.where(std > 0, std, 1.0)}
    reference = _sample_rows(Z, max_rows, rng)
    state["reference"] = (Z[reference] - state["mean"]) / state["scale"]
    state["k"] = max(1, min(n_neighbors, len(reference) - 1))
    if len(reference) < 2:
        scores = neighbour_distance(state, Z)
        return state, scores, scores
    # One query for both: the k-th and the (k+1)-th nearest reference rows.
    distances = _kneighbor_distances(state["reference"], _standardized(state, Z), state["k"] + 1)
    scores = distances[:, -2]
    own_left_out = scores.copy()
    own_left_out[reference] = distances[reference, -1]
    return state, scores, own_left_out


def _standardized(state: dict, Z) -> np.ndarray:
    return (_dense(Z) - state["mean"]) / state["scale"]


def neighbour_distance(state: dict, Z) -> np.ndarray:
    """Distance to the k-th nearest of (at most 2,000) training rows.

    Features are standardized by their training mean and standard deviation.
    """
    return _kneighbor_distances(state["reference"], _standardized(state, Z), state["k"])[:, -1]


def _kneighbor_distances(reference: np.ndarray, Z: np.ndarray, k: int) -> np.ndarray:
    """Distances of ``Z``'s rows to their ``k`` nearest ``reference`` rows.

    scikit-learn's distance kernels run on every OpenMP thread; for a query
    of a few rows, thread start-up and waiting on a busy core dominate (a
    user's one-row ``score_samples``: 37-83 ms on two threads, 5 ms on one,
    trial 48). The threads follow skae's size rule (``n_jobs=None``).
    """
    work = float(len(Z)) * len(reference) * max(reference.shape[1], 1)
    with openmp_threads(resolve_n_threads(None, work)):
        return NearestNeighbors().fit(reference).kneighbors(Z, n_neighbors=k)[0]


def fit_tail_probability(Z, rng, max_rows: int = 2000, tolerance=None):
    """State and training scores of :func:`tail_probability`.

    ``tolerance`` (per feature, or None): values this close to a training
    value count as equal to it (see :func:`_tail_counts`).
    """
    Z = _dense(Z)
    rows = _sample_rows(Z, max_rows, rng)
    if len(rows) < len(Z) or np.isnan(Z).any() or tolerance is not None:
        # (NaN breaks the runs of ties that ranks rely on, and so does a tolerance.)
        state = {"sorted": np.sort(Z[rows], axis=0)}
        if tolerance is not None:
            state["tolerance"] = np.asarray(tolerance, dtype=Z.dtype)
        scores = tail_probability(state, Z)
        return state, scores, scores
    # Every row is a reference row: its counts are its ranks among the rows
    # (ties counted in full), rather than two binary searches per feature.
    columns = Z.T
    n = columns.shape[1]
    at_most = rankdata(columns, method="max", axis=1)
    at_least = n + 1 - rankdata(columns, method="min", axis=1)
    scores = _tail_scores(at_most, at_least, n)
    return {"sorted": np.sort(Z, axis=0)}, scores, scores


def _tail_logs(at_most: np.ndarray, at_least: np.ndarray, n: int) -> np.ndarray:
    """log tail probability of each feature (rows of the counts) of each row (columns)."""
    return np.ascontiguousarray(np.log((np.minimum(at_most, at_least) + 1.0) / (n + 1.0)))


def _tail_scores(at_most: np.ndarray, at_least: np.ndarray, n: int) -> np.ndarray:
    """ECOD's sum over features (rows of the counts) of -log tail probability.

    Summed one feature after the other, as a loop over the features would.
    """
    return -_tail_logs(at_most, at_least, n).sum(axis=0)


def tail_probability(state: dict, Z) -> np.ndarray:
    """ECOD's score: how far into the tails of each feature's distribution a row lies.

    The sum over features of ``-log`` of the smaller of the left and right
    tail probabilities, read off each feature's empirical distribution on (at
    most 2,000) training rows, with one pseudo-count so that values beyond
    the training range stay finite (Li et al., "ECOD", IEEE TKDE 2022).
    """
    return _tail_scores(*_tail_counts(state, Z))


def feature_tail_scores(state: dict, Z) -> np.ndarray:
    """The terms of :func:`tail_probability`: ``-log`` tail probability, shape ``Z.shape``."""
    at_most, at_least, n = _tail_counts(state, Z)
    return -_tail_logs(at_most, at_least, n).T


def _tail_counts(state: dict, Z) -> tuple[np.ndarray, np.ndarray, int]:
    """Training values at most and at least each entry of ``Z``, features as rows.

    With a ``"tolerance"`` in ``state``, a training value within it of the
    entry counts as equal: a value tied with many training rows otherwise
    loses the whole block of ties to a rounding error (trial 58: the same
    rows scored as float32 after a float64 fit moved by up to 1.2).
    """
    Z = _dense(Z)
    ordered = state["sorted"]
    n = ordered.shape[0]
    tolerance = state.get("tolerance")
    at_most = np.empty((Z.shape[1], len(Z)), dtype=np.int64)
    at_least = np.empty_like(at_most)
    for j in range(Z.shape[1]):
        slack = 0.0 if tolerance is None else tolerance[j]
        at_most[j] = np.searchsorted(ordered[:, j], Z[:, j] + slack, side="right")
        at_least[j] = n - np.searchsorted(ordered[:, j], Z[:, j] - slack, side="left")
    return at_most, at_least, n


#: The parts beside the reconstruction error, by name: (fit, score).
SCORE_PARTS = {
    "neighbours": (fit_neighbour_distance, neighbour_distance),
    "tails": (fit_tail_probability, tail_probability),
}
