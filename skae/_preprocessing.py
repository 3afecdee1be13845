"""Feature scaling the estimators learn in ``fit``, for dense and CSR input.

Owns the ``scaling`` parameter's scalers (:class:`GlobalScaler` beside
scikit-learn's) and fitting them on the stored entries of a sparse matrix.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.preprocessing import RobustScaler, StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

SCALINGS = ("auto", "standard", "robust", "global")


class GlobalScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Scale all features by one mean and one standard deviation.

    For pixels of images (or samples of a signal), where scaling each feature
    on its own would distort the picture and blow up features that are
    almost constant. Missing values (NaN) are ignored in ``fit`` and kept.

    Parameters
    ----------
    with_mean : bool, default=True
        Subtract the overall mean. ``False`` only divides by the overall
        standard deviation, which keeps zeros at zero: the scaling of
        scipy.sparse input, as for ``StandardScaler(with_mean=False)``.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        The overall mean, repeated for each feature.
    scale_ : ndarray of shape (n_features,)
        The overall standard deviation (1 when it is 0), repeated.
    n_features_in_ : int
        Number of features seen during fit.
    """

    def __init__(self, with_mean=True):
        self.with_mean = with_mean

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
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_all_finite="allow-nan",
                          accept_sparse=False if self.with_mean else "csr")
        if sp.issparse(X):  # every entry counts, the ones not stored as zeros
            values = X.data.astype(np.float64)
            mean = values.sum() / max(X.shape[0] * X.shape[1], 1)
            std = float(np.sqrt(max((values**2).sum() / max(X.shape[0] * X.shape[1], 1)
                                    - mean**2, 0.0)))
        else:
            mean = float(np.nanmean(X)) if np.isfinite(X).any() else 0.0
            std = float(np.nanstd(X)) if np.isfinite(X).any() else 1.0
        self.mean_ = np.full(X.shape[1], mean if self.with_mean else 0.0)
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
                          ensure_all_finite="allow-nan",
                          accept_sparse=False if self.with_mean else "csr")
        if sp.issparse(X):
            return X.multiply(1.0 / self.scale_).tocsr().astype(X.dtype, copy=False)
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


def make_scaler(scaling: str | None, default: str, prefers_global: bool = False,
                centered: bool = True) -> TransformerMixin:
    """The scaler for the ``scaling`` parameter.

    ``"auto"`` is ``"global"`` for modules that prefer it (images) and the
    estimator's ``default`` otherwise; ``None`` leaves the data as they are.
    ``centered=False`` gives the variant that only divides (no centering),
    which keeps the zeros of scipy.sparse input at zero.
    """
    if scaling == "auto":
        scaling = "global" if prefers_global else default
    if scaling is None:
        return StandardScaler(with_mean=False, with_std=False)
    if scaling == "robust":
        return RobustScaler(with_centering=centered)
    if scaling == "standard":
        return StandardScaler(with_mean=centered)
    return GlobalScaler(with_mean=centered)


#: Ratio of the widest numeric feature's range to the narrowest's beyond which
#: ``scaling="auto"`` chosen as one shared scale (image modules) warns: the
#: pixels of an image share a range (digits: 1 to 16, a ratio of 16), the
#: columns of a table in different units do not (Ecdat's Caschool: 0.42 to
#: 27,095, whose narrowest column a convolutional network then ignored).
_SHARED_SCALE_RANGE_RATIO = 1000.0


def warn_if_scales_differ(X, numeric: np.ndarray, module_name: str) -> None:
    """Warn when one shared scale (``scaling="auto"`` for ``module_name``) meets unequal ranges.

    ``numeric`` are the positions of ``X``'s numeric columns; sparse input
    is not checked.
    """
    if sp.issparse(X) or len(numeric) < 2:
        return
    if hasattr(X, "iloc"):  # pandas' NA in nullable columns becomes NaN
        values = X.iloc[:, numeric].to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        # An image module's array, numeric throughout: read in place, not
        # copied (70,000 MNIST rows would take 440 MB as float64).
        values = np.asarray(X)
        if len(numeric) < values.shape[1]:
            values = values[:, numeric]
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        spans = (np.nanmax(values, axis=0).astype(np.float64)
                 - np.nanmin(values, axis=0))
    spans = spans[np.isfinite(spans) & (spans > 0)]
    if len(spans) >= 2 and spans.max() > _SHARED_SCALE_RANGE_RATIO * spans.min():
        warnings.warn(
            f'scaling="auto" scales every feature by one shared mean and standard '
            f"deviation for {module_name} (the pixels of an image share one scale), but "
            f"these features' ranges go from {spans.min():.3g} to {spans.max():.3g}: the "
            f"network will barely reconstruct the narrow ones. If they are not pixels or "
            f'samples of one signal, pass scaling="standard".',
            UserWarning, stacklevel=_caller_outside_skae())


def _caller_outside_skae() -> int:
    """The ``stacklevel`` of the first caller outside skae, for its caller's warning."""
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith("skae."):
        frame, level = frame.f_back, level + 1
    return level


def fit_scaler(scaler: TransformerMixin, X) -> TransformerMixin:
    """``scaler.fit(X)``; a RobustScaler on a finite dense array from one sort.

    scikit-learn's :class:`~sklearn.preprocessing.RobustScaler` computes the
    quantiles column by column in Python (about 0.1 s for 1,000 columns,
    more than a short training of a small network); the same median and
    quartiles read off the sorted columns take a few milliseconds.
    """
    robust = (isinstance(scaler, RobustScaler) and not scaler.unit_variance
              and scaler.with_scaling)
    fast = (robust and isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[0] > 0
            and X.dtype in (np.float32, np.float64) and np.isfinite(X).all())
    if not fast:
        scaler.fit(X)
        if robust and not sp.issparse(X):
            X = np.asarray(X, dtype=np.float64)
            with np.errstate(invalid="ignore"):
                low, high = np.nanpercentile(X, scaler.quantile_range, axis=0)
            _scale_zero_spread(scaler, X, ~(high - low >= 10 * np.finfo(X.dtype).eps))
        return scaler
    # (skae's own scalers: parameters already valid.) Sets n_features_in_.
    validate_data(scaler, X, dtype=[np.float64, np.float32])
    ordered = np.sort(X, axis=0)
    middle = len(ordered) // 2
    if scaler.with_centering:  # np.median's value
        scaler.center_ = (ordered[middle] if len(ordered) % 2
                          else np.mean(ordered[middle - 1:middle + 1], axis=0))
    else:
        scaler.center_ = None
    if scaler.with_scaling:
        low, high = np.percentile(ordered, scaler.quantile_range, axis=0)
        scale = high - low
        # RobustScaler's rule for constant features: a spread of (about) 0 -> 1.
        zero = scale < 10 * np.finfo(scale.dtype).eps
        scale[zero] = 1.0
        scaler.scale_ = scale
        _scale_zero_spread(scaler, X, zero)
    else:
        scaler.scale_ = None
    return scaler


def _scale_zero_spread(scaler: RobustScaler, X: np.ndarray, zero: np.ndarray) -> None:
    """Scale the features whose quartiles coincide (``zero``) by their other values' spread.

    RobustScaler leaves such a feature unscaled (a scale of 1): a column
    that is mostly zeros, an amount such as a debt, kept its units, and a
    new user's detector scores changed when it was given in thousands
    (ROC-AUC 0.629 -> 0.707; its largest score 228,957 -> 61). Its scale is
    now the median distance from the median of the values that differ from
    the median: 1 for a rare 0/1 flag, as before, and the typical size of
    the amounts of a zero-inflated column, so that its units no longer
    matter. Constant features keep 1.
    """
    for j in np.flatnonzero(zero):
        values = X[:, j][~np.isnan(X[:, j])]
        if not len(values):
            continue
        center = np.median(values)
        distance = np.abs(values[values != center] - center)
        if len(distance) and np.median(distance) > 0:
            scaler.scale_[j] = np.median(distance)


#: Entries per dense block when sparse rows are handled block by block.
_BLOCK_ENTRIES = 2**21


def fit_on_stored(scaler: TransformerMixin, X) -> TransformerMixin:
    """Fit ``scaler`` on the stored entries of the CSR matrix ``X`` alone.

    The entries that are not stored count as missing, as NaN would in a
    dense array, and ``X`` is never densified: the global scaling reads the
    stored values, the standard scaling (and none) learns from dense blocks
    of rows at a time. The robust scaling needs per-column quantiles and is
    refused.
    """
    if isinstance(scaler, GlobalScaler):
        values = X.data.astype(np.float64)
        mean = float(values.mean()) if len(values) else 0.0
        std = float(values.std()) if len(values) else 1.0
        scaler.n_features_in_ = X.shape[1]
        scaler.mean_ = np.full(X.shape[1], mean)
        scaler.scale_ = np.full(X.shape[1], std if std > 0 else 1.0)
        return scaler
    if not isinstance(scaler, StandardScaler):
        raise ValueError(
            "scaling='robust' is not available for sparse input: its quantiles need "
            "the dense columns. Use scaling='standard', 'global' or None."
        )
    for block in dense_blocks(X):
        scaler.partial_fit(block)
    return scaler


def dense_blocks(X, max_rows: int | None = None):
    """Blocks of rows of the CSR matrix ``X``, dense, NaN where no entry is stored.

    Each block holds at most :data:`_BLOCK_ENTRIES` entries (and ``max_rows``
    rows), which bounds the memory used beyond ``X``.
    """
    step = max(1, _BLOCK_ENTRIES // max(X.shape[1], 1))
    if max_rows is not None:
        step = max(1, min(step, max_rows))
    for start in range(0, X.shape[0], step):
        yield stored_as_dense(X[start : start + step])


def entry_rows(X) -> np.ndarray:
    """The row of each stored entry of the CSR matrix ``X``, in the order of ``X.data``."""
    return np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))


def stored_as_dense(X) -> np.ndarray:
    """The rows of a CSR matrix as a dense array, NaN where no entry is stored."""
    dense = np.full(X.shape, np.nan, dtype=X.dtype)
    dense[entry_rows(X), X.indices] = X.data
    return dense
