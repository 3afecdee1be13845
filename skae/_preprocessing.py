"""Feature scaling the estimators learn in ``fit``."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.preprocessing import RobustScaler, StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

SCALINGS = ("auto", "standard", "robust", "global")


class GlobalScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Scale all features by one mean and one standard deviation.

    For pixels of images (or samples of a signal), where scaling each feature
    on its own would distort the picture and blow up features that are
    almost constant. Missing values (NaN) are ignored in ``fit`` and kept.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        The overall mean, repeated for each feature.
    scale_ : ndarray of shape (n_features,)
        The overall standard deviation (1 when it is 0), repeated.
    n_features_in_ : int
        Number of features seen during fit.
    """

    def fit(self, X, y=None):
        """Learn the overall mean and standard deviation of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data, possibly with NaN.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            Fitted scaler.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_all_finite="allow-nan")
        mean = float(np.nanmean(X)) if np.isfinite(X).any() else 0.0
        std = float(np.nanstd(X)) if np.isfinite(X).any() else 1.0
        self.mean_ = np.full(X.shape[1], mean)
        self.scale_ = np.full(X.shape[1], std if std > 0 else 1.0)
        return self

    def transform(self, X):
        """Scale ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to scale.

        Returns
        -------
        X_scaled : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32],
                          ensure_all_finite="allow-nan")
        return ((X - self.mean_) / self.scale_).astype(X.dtype, copy=False)

    def inverse_transform(self, X):
        """Undo the scaling.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Scaled data.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        X = np.asarray(X)
        return (X * self.scale_ + self.mean_).astype(X.dtype, copy=False)


def make_scaler(scaling: str | None, default: str, module) -> TransformerMixin:
    """The scaler for the ``scaling`` parameter.

    ``"auto"`` is ``"global"`` for modules that prefer it (images) and the
    estimator's ``default`` otherwise; ``None`` leaves the data as they are.
    """
    if scaling == "auto":
        prefers_global = getattr(module, "prefers_global_scaling", False)
        scaling = "global" if prefers_global else default
    if scaling is None:
        return StandardScaler(with_mean=False, with_std=False)
    return {"standard": StandardScaler, "robust": RobustScaler, "global": GlobalScaler}[scaling]()
