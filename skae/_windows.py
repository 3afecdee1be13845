"""Sliding windows: from a long series to rows, and from window scores back to steps."""

from __future__ import annotations

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._docstrings import shared_doc


def _check_window(window_length, step, n_steps: int | None = None) -> None:
    for name, value in (("window_length", window_length), ("step", step)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int; got {value!r}.")
    if n_steps is not None and window_length > n_steps:
        raise ValueError(
            f"window_length={window_length} is longer than the series ({n_steps} steps)."
        )


@shared_doc
def n_windows(n_steps: int, window_length: int, step: int = 1) -> int:
    """Number of windows :func:`sliding_windows` cuts from ``n_steps`` steps.

    Parameters
    ----------
    n_steps : int
        Length of the series.
    %(window)s

    Returns
    -------
    n_windows : int
        ``(n_steps - window_length) // step + 1``.

    Examples
    --------
    >>> from skae import n_windows
    >>> n_windows(100, window_length=10, step=5)
    19
    """
    _check_window(window_length, step, n_steps)
    return (n_steps - window_length) // step + 1


@shared_doc
def sliding_windows(series, window_length: int, step: int = 1) -> np.ndarray:
    """Cut a series into overlapping windows, one window per row.

    Window ``i`` covers time steps ``i * step`` to ``i * step +
    window_length - 1``; its row holds them time step by time step, all
    channels of a step together, the layout of ``module__sequence_shape=
    (window_length, n_channels)`` for :class:`~skae.RecurrentAutoencoder` and
    :class:`~skae.RecurrentImputer`. Steps after the last whole window are
    left out. Missing values (NaN) are kept, for the imputer.

    Parameters
    ----------
    series : array-like of shape (n_steps,) or (n_steps, n_channels)
        The series, oldest step first. A DataFrame gives one channel per column.
    %(window)s

    Returns
    -------
    windows : ndarray of shape (n_windows, window_length * n_channels)
        A new array in the series' float dtype (float64 for other dtypes).

    See Also
    --------
    window_scores_to_steps : Map scores of these windows back to time steps.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import sliding_windows
    >>> sliding_windows(np.arange(6.0), window_length=3, step=2)
    array([[0., 1., 2.],
           [2., 3., 4.]])
    >>> sliding_windows(np.arange(8.0).reshape(4, 2), window_length=2).shape
    (3, 4)
    """
    values = np.asarray(series)
    if values.dtype not in (np.float32, np.float64):
        values = values.astype(np.float64)
    if values.ndim not in (1, 2):
        raise ValueError(
            f"series must be 1-D (n_steps,) or 2-D (n_steps, n_channels); got shape "
            f"{values.shape}."
        )
    if values.ndim == 1:
        values = values[:, None]
    _check_window(window_length, step, len(values))
    windows = sliding_window_view(values, window_length, axis=0)[::step]
    # sliding_window_view puts the window axis last: (n_windows, channels, length).
    return np.ascontiguousarray(windows.transpose(0, 2, 1)).reshape(len(windows), -1)


@shared_doc
def window_scores_to_steps(
    scores, n_steps: int, window_length: int, step: int = 1, how: str = "mean"
) -> np.ndarray:
    """Map scores of sliding windows back to the time steps they cover.

    Each time step gets the mean (or the maximum) of the scores of all the
    windows that contain it. Per-window scores (one number per window, such
    as ``-detector.score_samples(windows)``) spread over each window's
    steps; per-entry scores (one number per value of each window, such as
    ``detector.explain(windows)``) go to their own step and channel.

    Parameters
    ----------
    scores : array-like of shape (n_windows,) or (n_windows, window_length * k)
        Scores of the windows of :func:`sliding_windows` with the same
        ``window_length`` and ``step``.
    n_steps : int
        Length of the series the windows were cut from.
    %(window)s
    how : {"mean", "max"}, default="mean"
        How to combine the scores of the windows that share a step.

    Returns
    -------
    step_scores : ndarray of shape (n_steps,) or (n_steps, k)
        One score per time step (and channel, for per-entry scores). Steps
        that no window covers (the tail after the last whole window) are NaN.

    See Also
    --------
    sliding_windows : Cut a series into windows.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import window_scores_to_steps
    >>> window_scores_to_steps([1.0, 3.0], n_steps=5, window_length=3, step=2)
    array([1., 1., 2., 3., 3.])
    >>> window_scores_to_steps([1.0, 3.0], 5, 3, step=2, how="max")
    array([1., 1., 3., 3., 3.])
    """
    if how not in ("mean", "max"):
        raise ValueError(f"how must be 'mean' or 'max'; got {how!r}.")
    if not isinstance(n_steps, numbers.Integral) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive int; got {n_steps!r}.")
    expected = n_windows(n_steps, window_length, step)
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim not in (1, 2) or len(values) != expected:
        raise ValueError(
            f"scores must have one row per window: {expected} windows of length "
            f"{window_length} with step {step} in {n_steps} steps; got shape {values.shape}."
        )
    per_step = values.ndim == 1
    if per_step:
        values = np.repeat(values[:, None, None], window_length, axis=1)
    elif values.shape[1] % window_length:
        raise ValueError(
            f"per-entry scores need window_length * n_channels columns; got "
            f"{values.shape[1]} columns for window_length={window_length}."
        )
    else:
        values = values.reshape(expected, window_length, -1)
    starts = np.arange(expected) * step
    total = np.zeros((n_steps, values.shape[2]))
    count = np.zeros(n_steps)
    if how == "max":
        total.fill(-np.inf)
    for offset in range(window_length):
        # Windows start at distinct steps, so each offset touches a step at most once.
        at = starts + offset
        if how == "mean":
            total[at] += values[:, offset]
        else:
            total[at] = np.maximum(total[at], values[:, offset])
        count[at] += 1
    covered = count > 0
    if how == "mean":
        total[covered] /= count[covered, None]
    total[~covered] = np.nan
    return total[:, 0] if per_step else total
