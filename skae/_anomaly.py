"""AutoencoderAnomalyDetector: anomaly detection from reconstruction error."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.base import OutlierMixin
from sklearn.preprocessing import RobustScaler
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseAutoencoder, _float_dtype
from ._docstrings import fill_doc

#: ``contamination="auto"`` flags training scores beyond the upper quartile
#: by this many interquartile ranges (Tukey's boxplot rule).
AUTO_FENCE_IQRS = 1.5


@fill_doc(
    hidden_default="(64,)",
    activation_default='"relu"',
    dropout_default="0.0",
    max_epochs_default="200",
    batch_size_default="256",
    lr_default="1e-3",
    n_iter_no_change_default="10",
)
class AutoencoderAnomalyDetector(OutlierMixin, BaseAutoencoder):
    """Unsupervised anomaly detection from autoencoder reconstruction errors.

    The autoencoder learns to reconstruct typical rows; a row it reconstructs
    badly is anomalous. Follows scikit-learn's outlier-detector contract, like
    :class:`~sklearn.ensemble.IsolationForest`: ``score_samples`` (higher is
    more normal), ``decision_function`` (negative is anomalous), ``predict``
    (+1 inlier, -1 outlier) and ``offset_`` set from ``contamination``.
    :meth:`explain` splits each row's anomaly score over the features.

    Parameters
    ----------
    n_components : int or None, default=None
        Width of the code. ``None`` uses ``ceil(n_features / 4)``.

    contamination : "auto" or float in (0, 0.5], default="auto"
        How ``offset_`` (the threshold of ``predict``) is set. A float flags
        that share of the training rows. ``"auto"`` applies Tukey's boxplot
        rule to the anomaly scores of the training rows: a row is an outlier
        when its score exceeds the upper quartile by more than 1.5
        interquartile ranges. The share flagged then follows the data (none
        when the scores have no outlying tail).

    %(network_parameters)s

    %(training_parameters)s

    Attributes
    ----------
    offset_ : float
        Threshold on ``score_samples``: ``decision_function`` is
        ``score_samples - offset_``.

    error_scale_ : ndarray of shape (n_features,)
        Typical squared reconstruction error of each feature on the training
        rows; each feature's error is measured relative to it.

    %(network_attributes)s

    See Also
    --------
    sklearn.ensemble.IsolationForest : Isolation-based anomaly detection.
    AutoencoderTransformer : The same network as a dimensionality reduction.

    Notes
    -----
    The anomaly score of a row is the mean over features of its squared
    reconstruction error, each feature's error divided by that feature's
    typical error on the training rows (robustly scaled inputs). Dividing
    keeps features that are simply hard to predict from drowning out the
    others, and makes :meth:`explain` comparable across features.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import AutoencoderAnomalyDetector
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 4))
    >>> X[:, 3] = X[:, 0] + X[:, 1]
    >>> X_new = np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 5.0]])
    >>> det = AutoencoderAnomalyDetector(random_state=0).fit(X)
    >>> det.predict(X_new)
    array([ 1, -1])
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        "n_components": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "contamination": [
            StrOptions({"auto"}),
            Interval(numbers.Real, 0, 0.5, closed="right"),
        ],
    }

    _scaler = RobustScaler

    def __init__(
        self,
        n_components=None,
        *,
        contamination="auto",
        module=None,
        hidden_layer_sizes=(64,),
        activation="relu",
        dropout=0.0,
        max_epochs=200,
        batch_size=256,
        lr=1e-3,
        optimizer="adam",
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        random_state=None,
        device="auto",
        verbose=0,
        callbacks=None,
        **kwargs,
    ):
        self.n_components = n_components
        self.contamination = contamination
        super().__init__(
            module=module,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            dropout=dropout,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            optimizer=optimizer,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            random_state=random_state,
            device=device,
            verbose=verbose,
            callbacks=callbacks,
            **kwargs,
        )

    def _n_code(self) -> int:
        if self.n_components is None:
            return max(1, int(np.ceil(self.n_features_in_ / 4)))
        return self.n_components

    def _validate_training_data(self, X, *, reset: bool):
        X = super()._validate_training_data(X, reset=reset)
        if self.n_components is not None and self.n_components > self.n_features_in_:
            raise ValueError(
                f"n_components={self.n_components} must be at most the number of "
                f"features, {self.n_features_in_}."
            )
        return X

    def _after_training(self, X):
        errors = self._squared_errors(X)
        # Typical error of each feature; features the network reconstructs
        # perfectly keep a floor so that new errors on them still count.
        scale = errors.mean(axis=0)
        floor = max(float(scale.mean()), 1e-12) * 1e-3
        self.error_scale_ = np.maximum(scale, floor)
        scores = self._anomaly_scores(errors)
        self.offset_ = -self._threshold(scores)

    def _threshold(self, scores: np.ndarray) -> float:
        if self.contamination != "auto":
            return float(np.quantile(scores, 1.0 - self.contamination))
        q1, q3 = np.quantile(scores, [0.25, 0.75])
        return float(q3 + AUTO_FENCE_IQRS * (q3 - q1))

    def _anomaly_scores(self, errors: np.ndarray) -> np.ndarray:
        return (errors / self.error_scale_).mean(axis=1)

    def score_samples(self, X):
        """Opposite of the anomaly score: higher means more normal.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Negative scaled reconstruction error of each row.
        """
        X = self._check_fitted_input(X)
        return -self._anomaly_scores(self._squared_errors(X)).astype(np.float64)

    def decision_function(self, X):
        """Shifted score: negative for outliers, positive for inliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        decision : ndarray of shape (n_samples,)
            ``score_samples(X) - offset_``.
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Label each row: +1 for an inlier, -1 for an outlier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to label.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            +1 or -1.
        """
        return np.where(self.decision_function(X) >= 0, 1, -1)

    def explain(self, X):
        """Each feature's share of each row's anomaly score.

        The entries of a row add up to its anomaly score
        (``-score_samples``): the largest entries are the features that
        make the row anomalous.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to explain.

        Returns
        -------
        contributions : pandas.DataFrame of shape (n_samples, n_features)
            Columns are the feature names seen in ``fit`` (``x0``, ``x1``,
            ... for arrays); a DataFrame input keeps its index.
        """
        index = X.index if isinstance(X, pd.DataFrame) else None
        X = self._check_fitted_input(X)
        errors = self._squared_errors(X)
        contributions = errors / self.error_scale_ / self.n_features_in_
        columns = getattr(self, "feature_names_in_", None)
        if columns is None:
            columns = [f"x{i}" for i in range(self.n_features_in_)]
        return pd.DataFrame(
            contributions.astype(_float_dtype(X)), columns=list(columns), index=index
        )
