"""Small public helpers."""

from __future__ import annotations

import pandas as pd
from sklearn.utils.validation import check_is_fitted
from skorch.history import History


def history_frame(estimator) -> pd.DataFrame:
    """The training history of a fitted skae estimator (or its ``history_``) as a DataFrame.

    One row per epoch, indexed by epoch number, with the columns skorch
    records (``train_loss``, ``valid_loss`` when early stopping holds rows
    out, ``dur`` in seconds, and the ``*_best`` flags), ready to plot.

    Parameters
    ----------
    estimator : skae estimator or skorch History
        A fitted :class:`AutoencoderTransformer`,
        :class:`AutoencoderAnomalyDetector` or :class:`AutoencoderImputer`,
        or the ``history_`` of one (a :class:`skorch.history.History`, or
        the list of per-epoch dicts it holds).

    Returns
    -------
    history : pandas.DataFrame of shape (n_epochs, n_columns)

    Examples
    --------
    >>> import numpy as np
    >>> from skae import AutoencoderTransformer, history_frame
    >>> X = np.random.default_rng(0).normal(size=(200, 5))
    >>> ae = AutoencoderTransformer(n_components=2, max_epochs=3, random_state=0).fit(X)
    >>> history_frame(ae)[["train_loss", "valid_loss"]].shape
    (3, 2)
    >>> history_frame(ae.history_).index.tolist()
    [1, 2, 3]
    """
    if isinstance(estimator, (History, list)):
        history = estimator
    elif hasattr(estimator, "history_") or hasattr(estimator, "fit"):
        check_is_fitted(estimator)
        history = estimator.history_
    else:
        raise TypeError(
            "history_frame expects a fitted skae estimator or its history_, got "
            f"{type(estimator).__name__}."
        )
    if not all(isinstance(epoch, dict) and "epoch" in epoch for epoch in history):
        raise TypeError("history_frame expects a history of per-epoch dicts with an 'epoch' key.")
    records = [{k: v for k, v in epoch.items() if k != "batches"} for epoch in history]
    return pd.DataFrame.from_records(records).set_index("epoch")
