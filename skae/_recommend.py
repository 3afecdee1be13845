"""Top-N recommendations from a filled-in rating matrix."""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp


def top_n_items(predicted, X, n: int = 10) -> np.ndarray:
    """The ``n`` items with the highest predicted ratings that each user has not rated.

    With :class:`~skae.AutoencoderImputer` as an AutoRec-style recommender,
    ``predicted`` is the filled-in ratings matrix, ``imputer.transform(X)``
    (or ``imputer.transform(X.T).T`` for an imputer trained on the items x
    users orientation), and ``X`` the ratings with unrated entries missing.
    Entries rated in ``X`` are never recommended.

    Parameters
    ----------
    predicted : array-like of shape (n_users, n_items)
        Predicted ratings; only the entries missing in ``X`` are read.
    X : {array-like, sparse matrix} of shape (n_users, n_items)
        Known ratings, with ``np.nan`` where a user has not rated an item;
        or a scipy.sparse matrix whose stored entries are the ratings (those
        not stored are unrated, as for ``AutoencoderImputer(missing_values=0)``).
    n : int, default=10
        Items per user.

    Returns
    -------
    items : ndarray of shape (n_users, n), dtype int
        Column indices of the recommended items, best first. A user with
        fewer than ``n`` unrated items gets ``-1`` in the remaining places.

    See Also
    --------
    AutoencoderImputer : Fills the rating matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import top_n_items
    >>> X = np.array([[5.0, np.nan, np.nan, 1.0], [np.nan, 4.0, np.nan, np.nan]])
    >>> predicted = np.array([[5.0, 2.0, 4.5, 1.0], [3.0, 4.0, 2.0, 3.5]])
    >>> top_n_items(predicted, X, n=2)
    array([[2, 1],
           [3, 0]])
    """
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive int; got {n!r}.")
    scores = np.array(predicted, dtype=np.float64)
    rated = _rated(X)
    if scores.ndim != 2 or scores.shape != rated.shape:
        raise ValueError(
            f"predicted and X must be 2-D arrays of the same shape (n_users, n_items); "
            f"got {scores.shape} and {rated.shape}."
        )
    if np.isnan(scores[~rated]).any():
        raise ValueError("predicted has NaN where X is missing; pass the filled-in matrix.")
    scores[rated] = -np.inf
    k = min(n, scores.shape[1])
    # argpartition then a sort of the k best: O(n_items) per user, not a full sort.
    best = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    # Highest score first; ties in column order, so the result is deterministic.
    order = np.lexsort((best, -np.take_along_axis(scores, best, axis=1)), axis=1)
    items = np.take_along_axis(best, order, axis=1)
    items[np.take_along_axis(scores, items, axis=1) == -np.inf] = -1
    if k < n:
        items = np.hstack([items, np.full((len(items), n - k), -1)])
    return items


def _rated(X) -> np.ndarray:
    """Boolean mask of the known ratings: non-NaN entries, or stored ones if sparse."""
    if not sp.issparse(X):
        return ~np.isnan(np.asarray(X, dtype=np.float64))
    X = sp.coo_matrix(X)
    rated = np.zeros(X.shape, dtype=bool)
    stored = ~np.isnan(X.data.astype(np.float64))
    rated[X.row[stored], X.col[stored]] = True
    return rated
