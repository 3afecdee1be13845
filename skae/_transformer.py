"""AutoencoderTransformer: nonlinear dimensionality reduction, a PCA drop-in.

Owns what the transformer adds to the base: codes (``transform``), decoding
(``inverse_transform``), reconstruction scores and sampling from a
variational module.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_array, check_is_fitted

from ._base import BaseAutoencoder, check_n_components, float_dtype, store_params
from ._data import draw_seed
from ._docstrings import fill_doc


@fill_doc
class AutoencoderTransformer(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseAutoencoder
):
    """Nonlinear dimensionality reduction with an autoencoder.

    A drop-in for :class:`~sklearn.decomposition.PCA`: ``transform`` gives
    each row's code of ``n_components`` numbers, ``inverse_transform`` maps
    codes back to the original feature space, and ``score`` is the negative
    reconstruction error, so model selection works without a scorer.

    Features are standardized in ``fit``, so raw columns of any scale train
    well. The default network starts from PCA's solution (a linear path set
    to the principal axes, plus a nonlinear correction that starts at zero)
    and is trained with early stopping on a held-out part of the rows, so it
    reconstructs at least about as well as PCA and better where the data
    are nonlinear.

    Parameters
    ----------
    n_components : int, default=2
        Width of the code, the number of output features of ``transform``.
        At most the number of input features.

    %(network_parameters)s

    %(training_parameters)s

    Attributes
    ----------
    noise_std_ : ndarray of shape (n_numeric_features,) or None
        Residual spread of each scaled numeric feature, the noise
        :meth:`sample` adds; None unless the module is variational.

    %(network_attributes)s

    See Also
    --------
    sklearn.decomposition.PCA : Linear dimensionality reduction.
    AutoencoderAnomalyDetector : Anomaly scores from reconstruction errors.
    AutoencoderImputer : Missing-value imputation with a denoising autoencoder.

    Notes
    -----
    ``score`` and ``score_samples`` measure reconstruction error in the
    standardized units the network trains in, so every feature counts
    equally whatever its scale.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> ae = AutoencoderTransformer(n_components=2, max_epochs=5, random_state=0)
    >>> codes = ae.fit_transform(X)
    >>> codes.shape
    (1797, 2)
    >>> ae.inverse_transform(codes).shape
    (1797, 64)
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_components=2,
        *,
        module=None,
        hidden_layer_sizes=(256, 128),
        activation="silu",
        dropout=0.0,
        scaling="auto",
        categorical_features="from_dtype",
        handle_unknown="missing",
        max_epochs=500,
        batch_size=256,
        lr=3e-3,
        optimizer="adam",
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=20,
        tol=1e-4,
        random_state=None,
        device="auto",
        mixed_precision=False,
        verbose=0,
        callbacks=None,
        **kwargs,
    ):
        store_params(self, locals())

    def _module_arguments(self):
        return {**super()._module_arguments(), "n_components": self.n_components}

    def _validate_training_data(self, X, *, reset: bool):
        X = super()._validate_training_data(X, reset=reset)
        check_n_components(self.n_components, self.n_features_in_)
        return X

    @property
    def _n_features_out(self):
        if not self.__sklearn_is_fitted__():
            raise AttributeError("_n_features_out is defined once fitted")
        return self.n_components

    def fit_transform(self, X, y=None):
        """Fit the autoencoder to ``X`` and return the codes of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Codes, in the float dtype of ``X``.
        """
        self.fit(X)
        return self._encode(self._validate_input(X, reset=False))

    def transform(self, X):
        """Encode ``X`` into codes of ``n_components`` numbers per row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Codes, in the float dtype of ``X``.
        """
        return self._encode(self._check_fitted_input(X))

    def _encode(self, X):
        return self._map_encoded(
            self._network_input(X), self.module_.encode, self.n_components, float_dtype(X)
        )

    def inverse_transform(self, X):
        """Decode codes back to the original feature space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, as returned by :meth:`transform`.

        Returns
        -------
        X_original : ndarray or DataFrame of shape (n_samples, n_features)
            Reconstructed rows in the original units, in the float dtype of
            the codes; a DataFrame with the fitted column types when the
            training data had categorical columns.
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32], input_name="X")
        if Z.shape[1] != self.n_components:
            raise ValueError(
                f"X has {Z.shape[1]} columns, but inverse_transform expects codes "
                f"of n_components={self.n_components} columns."
            )
        out = self._map_encoded(Z, self.module_.decode, self.encoder_.width, float_dtype(Z))
        return self.encoder_.decode(out)

    def score_samples(self, X):
        """Negative mean reconstruction error of each row.

        Errors are squared errors in the standardized units the network
        trains in (categories: cross-entropy divided by the column's
        entropy).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Higher is better (a better reconstruction).
        """
        X = self._check_fitted_input(X)
        return -self._column_errors(self._network_input(X), float_dtype(X)).mean(axis=1)

    def score(self, X, y=None):
        """Negative mean squared reconstruction error over all rows.

        Like :meth:`sklearn.decomposition.PCA.score`, this lets
        :class:`~sklearn.model_selection.GridSearchCV` compare settings
        without a scorer.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
            Higher is better.
        """
        return float(np.mean(self.score_samples(X)))

    def _after_training(self, X, data):
        self.noise_std_ = None
        if self.net_.capabilities_.variational:
            # The decoder's noise: each feature's residual spread, scaled units.
            x = data[self._row_sample(len(data), 10_000, salt=0x5A3)]
            errors = self._column_errors(x, float_dtype(X))
            self.noise_std_ = np.sqrt(errors.mean(axis=0))[self.encoder_.numeric]

    def sample(self, n_samples=1, random_state=None):
        """Generate new rows from a variational module.

        Draws codes from the prior (a standard normal), decodes them, adds
        Gaussian noise with each feature's residual spread (the decoder's
        noise, ``noise_std_``) and undoes the scaling: rows in the original
        feature space, like the training rows.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to generate.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features)
            Generated rows.
        """
        check_is_fitted(self)
        if not self.net_.capabilities_.variational:
            raise ValueError(
                "sample needs a variational module, such as "
                "module=VariationalAutoencoder; this one is "
                f"{type(self.module_).__name__}."
            )
        if not isinstance(n_samples, numbers.Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive int; got {n_samples!r}.")
        seed = draw_seed(random_state)
        generator = torch.Generator().manual_seed(seed)
        self.module_.eval()
        with torch.inference_mode():
            z = self.module_.sample_codes(n_samples, generator)
            rows = self.module_.decode(z).float().cpu().numpy().astype(np.float64)
        positions = self.encoder_.numeric_positions if self.encoder_.mixed else slice(None)
        rows[:, positions] += np.random.default_rng(seed).normal(
            size=(n_samples, len(self.noise_std_))
        ) * self.noise_std_
        return self.encoder_.decode(rows)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
