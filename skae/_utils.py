"""Small public helpers."""

from __future__ import annotations

import pandas as pd
from sklearn.utils.validation import check_is_fitted


def history_frame(estimator) -> pd.DataFrame:
    """The training history of a fitted skae estimator as a DataFrame.

    One row per epoch, indexed by epoch number, with the columns skorch
    records (``train_loss``, ``valid_loss`` when early stopping holds rows
    out, ``dur`` in seconds, and the ``*_best`` flags), ready to plot.

    Parameters
    ----------
    estimator : skae estimator
        A fitted :class:`AutoencoderTransformer`,
        :class:`AutoencoderAnomalyDetector` or :class:`AutoencoderImputer`.

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
    """
    check_is_fitted(estimator)
    records = [{k: v for k, v in epoch.items() if k != "batches"} for epoch in estimator.history_]
    return pd.DataFrame.from_records(records).set_index("epoch")
