"""AutoencoderAnomalyDetector: anomaly detection from reconstruction error.

Owns what the detector adds to the base: anomaly scores (combined with
neighbour distances and tail scores, hybrid with an isolation forest,
reconstruction, variational; the parts in ``_anomaly_scores``), their
threshold from ``contamination``, the training length, and explanations.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import OutlierMixin
from sklearn.ensemble import IsolationForest
from sklearn.utils import gen_batches
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils._param_validation import Interval, StrOptions

from ._anomaly_scores import (
    SCORE_PARTS,
    column_medians,
    feature_tail_scores,
    robust_center_scale,
)
from ._base import BaseAutoencoder, float_dtype, store_params
from ._docstrings import fill_doc
from ._modules._protocol import capabilities
from ._persist import pack_forest, unpack_forest

#: ``contamination="auto"`` flags training scores beyond the upper quartile
#: by this many interquartile ranges (Tukey's fence). Chosen leave-one-kind-out
#: on the 105 development tasks of ``benchmarks/bench_anomaly.py`` (43 tables,
#: 16 embeddings, 32 synthetic, 14 labelled), by the F1 score of ``predict``
#: on their held-out rows, among the fences of 1, 1.5, 2 and 3 (the far-out
#: fence, the previous default) that flag at most 5% of the normal rows
#: (median over the tasks; ``benchmarks/probe_threshold.py``): 1.5 in two
#: folds, 2 in the other two, held-out F1 0.350 against 0.284 for 3 (which
#: flagged no row at all on 13% of the tasks); on all four kinds 1.5 (F1
#: 0.363; 1, which flags 8% of the normal rows, 0.384). Median share flagged
#: 8% (anomalies: 7%), of the normal rows 5%.
AUTO_FENCE_IQRS = 1.5
#: The gap, in interquartile ranges of the rows below it, that sets a group of
#: the highest scores apart (:func:`auto_threshold`).
AUTO_GAP_IQRS = 3.0

#: The score statistics set in ``fit`` (the robust centres and scales of the
#: hybrid, the threshold) are estimated on at most this many training rows.
SCORE_STATISTICS_ROWS = 20_000

#: With ``max_epochs=None`` the network trains for about this many optimizer
#: steps, and for at most 10 epochs when its code is as wide as its input
#: (this budget and the two below are multiplied by the module's
#: ``training_length_factor``).
STEP_BUDGET = 1_500

#: ... for at most this many epochs: PyOD's AutoEncoder trains 10, and an
#: epoch of skae's network costs about half as much on narrow inputs.
EPOCH_LIMIT = 20

#: ... and for at most this many entries (epochs x rows x features), but at
#: least 10 epochs: an epoch costs in proportion to its rows times its
#: features, so that wide inputs train about as long as PyOD's AutoEncoder.
ENTRY_BUDGET = 2_000_000

#: When EPOCH_LIMIT or ENTRY_BUDGET shortens the training, the learning rate
#: is ``lr`` times this: fewer, larger steps (embeddings 0.834 -> 0.842).
SHORT_TRAINING_LR_FACTOR = 3.0


@fill_doc
class AutoencoderAnomalyDetector(OutlierMixin, BaseAutoencoder):
    """Unsupervised anomaly detection from autoencoder reconstruction errors.

    The autoencoder learns to reconstruct typical rows; a row it reconstructs
    badly is anomalous. Follows scikit-learn's outlier-detector contract, like
    :class:`~sklearn.ensemble.IsolationForest`: ``score_samples`` (higher is
    more normal), ``decision_function`` (negative is anomalous), ``predict``
    (+1 inlier, -1 outlier) and ``offset_`` set from ``contamination``.
    :meth:`explain` tells how much each feature raises a row's anomaly score
    (how much the score falls when that feature alone takes its typical
    value), so the feature that makes a row anomalous can be read off, or
    gives an account of the whole score.

    The training rows may contain anomalies. The defaults keep the network
    from learning to reconstruct them: a small network with dropout, on
    robustly scaled features, trained briefly (see ``max_epochs``), and a
    score that adds to the reconstruction error two views an autoencoder
    lacks, the distance to the nearest training rows and how far into each
    feature's tails a row lies. The default was chosen across four kinds of
    data, each held out in turn (see Notes and the user guide).

    Parameters
    ----------
    n_components : int or None, default=None
        Width of the code. ``None`` uses ``min(32, n_features)``.

    contamination : "auto" or float in (0, 0.5], default="auto"
        How ``offset_`` (the threshold of ``predict``) is set. A float flags
        that share of the training rows (estimated on 20,000 of them when
        there are more). ``"auto"`` applies Tukey's fence to the anomaly
        scores of the training rows: a row is an outlier when its score
        exceeds the upper quartile by more than 1.5 interquartile ranges,
        or, when the highest scores form a group set apart from the rest by
        a gap of more than 3 of the rest's interquartile ranges, that group
        (up to half the rows; the plain fence misses a group that holds a
        quarter of the rows or more). The share flagged then follows the data: on the development tasks
        (median anomaly share 7%%) it flagged a median 8%% of the rows, 5%% of
        the normal ones, and a third of the anomalies, differing much between
        tables (4%% to 15%% from the tenth to the ninetieth percentile). When
        the share of anomalies is known, pass it.

    score_method : {"combined", "hybrid", "reconstruction", "variational"}, \
            default="combined"
        ``"reconstruction"``: the anomaly score is the row's mean squared
        reconstruction error (in robustly scaled units). ``"combined"``: the
        sum of that error, the distance to the 5th nearest of (at most
        2,000) training rows on standardized features, and ECOD's tail score
        (how improbable each feature's value is in the tails of its
        training distribution, summed over features), each first
        standardized by its median and median absolute deviation on the
        training rows. Reconstruction error finds rows that break the
        relations between features; the distance finds isolated rows and the
        tails rows extreme on single features, which an autoencoder can
        reconstruct well. ``"hybrid"`` (the former default): the
        standardized reconstruction error plus the standardized score of an
        :class:`~sklearn.ensemble.IsolationForest`. ``"variational"``
        needs a variational module (``module=VariationalAutoencoder``) and
        scores each row by the loss the module trains on: reconstruction
        error plus ``beta`` times the KL divergence of its code distribution
        from the prior, per feature.

    %(network_parameters)s

    %(training_parameters)s

    Attributes
    ----------
    offset_ : float
        Threshold on ``score_samples``: ``decision_function`` is
        ``score_samples - offset_``.

    error_scale_ : ndarray of shape (n_features,)
        Mean squared reconstruction error of each feature on the training
        rows. With ``score_method="reconstruction"``,
        ``explain(X, relative=False) * n_features_in_ / error_scale_`` is
        each feature's squared error relative to it.

    isolation_forest_ : sklearn.ensemble.IsolationForest or None
        The isolation part of the hybrid score (None for the other score
        methods).

    %(network_attributes)s

    See Also
    --------
    sklearn.ensemble.IsolationForest : Isolation-based anomaly detection.
    AutoencoderTransformer : The same network as a dimensionality reduction.

    Notes
    -----
    Features are scaled by their median and interquartile range
    (:class:`~sklearn.preprocessing.RobustScaler`): a rare binary column,
    which standardization would blow up to tens of standard deviations,
    then cannot dominate the reconstruction error. A feature whose
    quartiles coincide (mostly one value) is divided by the median distance
    from its median of its other values, so that no feature's units matter.

    With ``max_epochs=None`` the network trains for about 1,500 optimizer
    steps (at least one epoch, at most 20), and for at most 10 epochs when
    its code is as wide as its input (fewer than 33 features by default):
    such a network can learn to copy its input, anomalies included, and
    longer training lost on small tables. It also trains on at most 2
    million entries (epochs x rows x features), but for 10 epochs at least:
    an epoch costs in proportion to its entries, and a few hundred rows of
    1,000 features train 10 epochs, as long as PyOD's AutoEncoder, rather
    than about 190 (which scored about 0.015 higher on embeddings, at six
    times the fit time). :class:`~skae.RecurrentAutoencoder`, which learns
    more slowly per step, trains three times as long under each of these
    budgets. When either limit shortens a dense network's training, the
    learning rate is three times ``lr``: fewer, larger steps (embeddings
    0.834 -> 0.842 at the same fit time, no kind lower; 3 x ``lr`` on all
    data lost 0.005 on the tables and 0.013 on the labelled tasks). An
    explicit ``max_epochs`` trains at ``lr``. Training also stops when the
    training loss has not improved for ``n_iter_no_change`` epochs.

    Dropout keeps the network from fitting exact linear relations between
    columns (totals, products, unit conversions): on one user's table whose
    anomalies broke such a relation with every value in range (a charge
    that is a rate times the minutes), the default scored ROC-AUC 0.70,
    ``score_method="reconstruction"`` 0.79, ``dropout=0`` 0.88-0.90, and a
    PCA reconstruction error on standardized columns 0.99. For such data
    set ``dropout=0``, or use a linear detector (see the user guide).

    Mean ROC-AUC under ADBench's unsupervised protocol (training and test
    parts capped at 2,000 rows; one seed), on four kinds of data: 43
    ADBench classical tables, 16 image and text embeddings (ViT, RoBERTa),
    32 synthetic sets of ADBench's four anomaly types, 14 anomaly tasks
    built from labelled tables, and fit seconds summed per kind (2 busy
    cores, one thread; "limits, lr x1": the limits on the training length
    without the larger learning rate, an earlier run). The score was chosen
    leave-one-kind-out, the limits on the training length from fit times,
    the larger learning rate on the embeddings; ``benchmarks/bench_anomaly.py``
    and ``benchmarks/search_anomaly.py`` reproduce the figures.

    ========================  ======  ==========  =========  ========
    detector                  tables  embeddings  synthetic  labelled
    ========================  ======  ==========  =========  ========
    IsolationForest           0.776   0.791       0.890      0.801
    kNN distance              0.745   0.847       0.891      0.789
    PyOD AutoEncoder          0.754   0.823       0.910      0.804
    hybrid, 10 epochs         0.795   0.832       0.919      0.797
    combined, 1,500 steps     0.797   0.856       0.921      0.813
    combined, limits, lr x1   0.797   0.834       0.921      0.811
    combined (default)        0.798   0.842       0.921      0.813
    fit s, default            18.2    2.3         12.0       4.2
    fit s, PyOD AutoEncoder   37.1    2.7         22.2       9.3
    ========================  ======  ==========  =========  ========

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

    #: The ``handle_unknown`` entry of the docstring (the detector's own option).
    _handle_unknown_doc = """\
handle_unknown : {"rarest", "missing", "error"}, default=%(default)s
        A category not seen in ``fit``: score the entry as the column's
        rarest category in ``fit`` (``"rarest"``), so that a new category
        weighs like the rarest known one; treat it as missing
        (``"missing"``: its one-hot code is all zeros and the column adds
        nothing to the score, so a row made unusual only by a new category
        scores as usual); or raise a ``ValueError`` naming the column
        (``"error"``). The first two warn, naming the column and the values.
        A missing category in a column that had none in ``fit`` is such a
        category."""

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        "n_components": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "contamination": [
            StrOptions({"auto"}),
            Interval(numbers.Real, 0, 0.5, closed="right"),
        ],
        "score_method": [
            StrOptions({"combined", "hybrid", "reconstruction", "variational"})
        ],
        "max_epochs": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "handle_unknown": [StrOptions({"rarest", "missing", "error"})],
    }

    _default_scaling = "robust"

    def __init__(
        self,
        n_components=None,
        *,
        contamination="auto",
        score_method="combined",
        module=None,
        hidden_layer_sizes=(64,),
        activation="relu",
        dropout=0.2,
        scaling="auto",
        categorical_features="from_dtype",
        handle_unknown="rarest",
        max_epochs=None,
        batch_size=32,
        lr=1e-3,
        optimizer="adam",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        random_state=None,
        device="auto",
        mixed_precision=False,
        n_jobs=None,
        verbose=0,
        callbacks=None,
        **kwargs,
    ):
        store_params(self, locals())

    def _length_factor(self) -> float:
        # Modules that learn more slowly per step (recurrent ones) train
        # this many times longer under every budget below.
        return capabilities(self._module()).training_length_factor

    def _step_rule_epochs(self, n_rows: int) -> int:
        """Epochs of about STEP_BUDGET steps (at most 10 for a code as wide as the input)."""
        steps_per_epoch = -(-n_rows // self.batch_size)
        epochs = -(-int(STEP_BUDGET * self._length_factor()) // steps_per_epoch)
        code = self.n_components or min(32, self.n_features_in_)
        if code >= self.n_features_in_:
            # A code as wide as the input can learn to copy its input,
            # anomalies included: stop early.
            epochs = min(epochs, 10)
        return epochs

    def _training_epochs(self, X) -> int:
        if self.max_epochs is not None:
            return self.max_epochs
        n_rows = X.shape[0]
        by_entries = max(10, ENTRY_BUDGET // (n_rows * self.n_features_in_))
        return min(self._step_rule_epochs(n_rows),
                   int(self._length_factor() * min(EPOCH_LIMIT, by_entries)))

    def _training_lr(self, n_rows: int, n_epochs: int) -> float:
        # Measured for the dense modules only: the recurrent ones (a length
        # factor) keep ``lr``.
        if (self.max_epochs is None and self._length_factor() == 1
                and n_epochs < self._step_rule_epochs(n_rows)):
            # The limits cut the training short: larger steps make up for it.
            return self.lr * SHORT_TRAINING_LR_FACTOR
        return self.lr

    def _module_arguments(self):
        n_components = self.n_components
        if n_components is None:
            n_components = min(32, self.n_features_in_)
        # A plain MLP: the PCA start that serves the transformer would let the
        # network reconstruct anomalies from the first epoch.
        return {**super()._module_arguments(), "n_components": n_components,
                "linear_path": False}

    def _validate_training_data(self, X, *, reset: bool):
        X = super()._validate_training_data(X, reset=reset)
        if self.score_method == "variational" and not capabilities(self._module()).variational:
            raise ValueError(
                "score_method='variational' needs a variational module, such as "
                "module=VariationalAutoencoder."
            )
        return X

    def _after_training(self, X, data):
        x = data[self._row_sample(data.shape[0], SCORE_STATISTICS_ROWS, salt=0xA40)]
        errors = self._column_errors(x, float_dtype(X), exact=True)
        self._typical_row_ = self._typical_encoded_row(x)
        typical = errors.mean(axis=0)
        # A floor, so that a feature reconstructed perfectly in training
        # does not turn any later error into an infinite relative error.
        self.error_scale_ = np.maximum(typical, max(float(typical.mean()), 1e-12) * 1e-3)
        self._score_parts_, self._centers_ = {}, {}
        self.isolation_forest_ = None
        known = {}
        if self.score_method in ("combined", "hybrid"):
            known = self._fit_score_parts(x, errors)
        scores = sum(self._score_parts_of(x, errors, known).values())
        self.offset_ = -self._threshold(scores)

    def _fit_score_parts(self, x, errors) -> dict[str, np.ndarray]:
        """Fit the parts beside the reconstruction error, and each part's centre and scale.

        Returns the parts' (unstandardized) scores of the training rows ``x``.
        """
        self._centers_["reconstruction"] = robust_center_scale(
            self._reconstruction_scores(errors))
        if self.score_method == "hybrid":
            self.isolation_forest_ = IsolationForest(random_state=self._seed_ % (2**32))
            self.isolation_forest_.fit(x)
            isolation = -self.isolation_forest_.score_samples(x)
            self._centers_["isolation"] = robust_center_scale(isolation)
            return {"isolation": isolation}
        rng = np.random.default_rng((self._seed_, 0xA41))
        options = {"tails": {"tolerance": self._rounding_tolerance(x)}}
        known = {}
        for name, (fit, _) in SCORE_PARTS.items():
            self._score_parts_[name], known[name], scores = fit(x, rng, **options.get(name, {}))
            self._centers_[name] = robust_center_scale(scores)
        return known

    def _rounding_tolerance(self, x) -> np.ndarray:
        """How far rounding an input value to float32 can move each encoded entry.

        The scaled value of ``v`` is ``(v - center) / scale``; rounding ``v``
        moves it by ``|v| / scale`` float32 epsilons, that is ``|scaled +
        center / scale|``. Four times that, at the training rows' largest
        magnitude (one-hot entries, 0 or 1, are far apart beside it).
        """
        magnitude = abs(x).max(axis=0)
        magnitude = np.asarray(magnitude.todense() if sp.issparse(magnitude) else magnitude,
                               dtype=np.float64).ravel()
        offset = np.zeros_like(magnitude)
        scaler, encoder = self.scaler_, self.encoder_
        center = getattr(scaler, "center_", getattr(scaler, "mean_", None))
        scale = getattr(scaler, "scale_", None)
        if center is not None and scale is not None:
            positions = (encoder.numeric_positions if encoder.mixed
                         else np.arange(len(magnitude)))
            offset[positions] = np.abs(np.asarray(center) / np.asarray(scale))
        return 4.0 * np.finfo(np.float32).eps * (magnitude + offset)

    def _typical_encoded_row(self, x) -> np.ndarray:
        """The encoded row of typical values of the training rows ``x``.

        Each numeric feature's median, and each categorical feature's most
        frequent category.
        """
        typical = column_medians(x)
        if self.encoder_.mixed:
            for j in self.encoder_.categorical:
                columns = self.encoder_.slices[j]
                counts = np.asarray(x[:, columns].sum(axis=0)).ravel()
                typical[columns] = np.arange(len(counts)) == np.argmax(counts)
        return typical.astype(np.float32)

    def _threshold(self, scores: np.ndarray) -> float:
        if self.contamination != "auto":
            return float(np.quantile(scores, 1.0 - self.contamination))
        return auto_threshold(scores)

    def _reconstruction_scores(self, errors: np.ndarray) -> np.ndarray:
        return errors.mean(axis=1)

    def _score_parts_of(self, x: np.ndarray, errors: np.ndarray,
                        known: dict | None = None) -> dict[str, np.ndarray]:
        """The parts of the anomaly score of the encoded rows ``x``; the score is their sum.

        ``"reconstruction"`` always comes first; for the combined and hybrid
        scores every part is standardized on the training rows. ``known``
        holds parts already computed for ``x`` (in ``fit``), by name.
        """
        known = known or {}
        parts = {"reconstruction": self._reconstruction_scores(errors)}
        if self.score_method == "variational":
            kl = self._map_encoded(
                x, lambda t: self.module_.kl_divergence(t)[:, None], 1, np.float64
            )[:, 0]
            parts["kl"] = self.module_.beta * kl / self.encoder_.width
            return parts
        if self.score_method == "reconstruction":
            return parts
        if self.isolation_forest_ is not None:
            parts["isolation"] = (known["isolation"] if "isolation" in known
                                  else -self.isolation_forest_.score_samples(x))
        for name, state in self._score_parts_.items():
            parts[name] = known[name] if name in known else SCORE_PARTS[name][1](state, x)
        return {name: (score - self._centers_[name][0]) / self._centers_[name][1]
                for name, score in parts.items()}

    def score_samples(self, X):
        """Opposite of the anomaly score: higher means more normal.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            The negative anomaly score: the negative sum of the parts of
            the score (see ``score_method``), each standardized on the
            training rows, or the negative mean squared reconstruction error
            for ``score_method="reconstruction"``.
        """
        X = self._check_fitted_input(X)
        return -self._anomaly_scores(self._network_input(X), float_dtype(X)).astype(np.float64)

    def _anomaly_scores(self, x, dtype=np.float64) -> np.ndarray:
        """The anomaly scores of the encoded rows ``x``, the sum of the score's parts."""
        errors = self._column_errors(x, dtype, exact=True)
        return sum(self._score_parts_of(x, errors).values())

    def decision_function(self, X):
        """Shifted score: negative for outliers, positive for inliers.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
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
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to label.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            +1 or -1.
        """
        return np.where(self.decision_function(X) >= 0, 1, -1)

    def explain(self, X, relative=True):
        """Which features make a row anomalous: each feature's part in its anomaly score.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to explain.
        relative : bool, default=True
            ``True``: the larger of two measures of the feature's part in the
            row's anomaly score (``-score_samples``): how much the score
            falls when that feature alone takes its typical value (its median
            on the training rows, or its most frequent category) while the
            others keep theirs, and the feature's share of the score (its
            entry with ``relative=False``). The first names a feature extreme
            on its own, the second one of several that break a relation
            together; the largest entry names the feature that makes the row
            anomalous. Costs about ``n_features + 1`` scorings of the rows.
            ``False``: an
            account of the whole anomaly score: each feature's share of it,
            plus one column for each part of the score that no feature owns,
            so that a row's entries add up to its anomaly score,
            ``-score_samples(X)``. A feature's share is its part of the mean
            squared reconstruction error and, for ``score_method="combined"``,
            its ``-log`` tail probability (the terms of the tail score), each
            divided by the scale that standardizes its part of the score. The
            extra columns are ``"neighbours"`` for ``"combined"``,
            ``"isolation"`` for ``"hybrid"``, ``"kl"`` for ``"variational"``,
            each that part's (standardized) score; the standardized scores
            also have an ``"offset"`` column, the constant that centres them.

        Returns
        -------
        explanation : pandas.DataFrame of shape (n_samples, n_features + n_extra)
            Columns are the feature names seen in ``fit`` (``x0``, ``x1``,
            ... for arrays), then, with ``relative=False``, the extra columns
            (``n_extra`` is 0 for ``score_method="reconstruction"``); a
            DataFrame input keeps its index.
        """
        index = X.index if isinstance(X, pd.DataFrame) else None
        X = self._check_fitted_input(X)
        x = self._network_input(X)
        columns = getattr(self, "feature_names_in_", None)
        if columns is None:
            columns = [f"x{i}" for i in range(self.n_features_in_)]
        columns = list(columns)
        if relative and not hasattr(self, "_typical_row_"):  # saved before explain measured drops
            raise ValueError(
                "This AutoencoderAnomalyDetector was fitted with an earlier skae, "
                "whose explain() reported reconstruction errors; refit it to use "
                "explain(X), or call explain(X, relative=False)."
            )
        shares, extra = self._score_account(x, self._column_errors(x, float_dtype(X), exact=True))
        if relative:
            # A feature extreme on its own shows in the drop; one of several
            # that break a relation together, in its share of the score.
            table = self._without_absent_categories(
                np.maximum(self._typical_value_drops(x), shares), x)
        else:
            columns += list(extra)
            table = np.column_stack([shares, *extra.values()])
        table = table.astype(float_dtype(X)) + 0.0  # no -0.0 (a certain category's -log 1)
        return pd.DataFrame(table, columns=columns, index=index)

    def _typical_value_drops(self, x) -> np.ndarray:
        """How much each row's anomaly score falls when each feature alone is typical.

        Every row of ``x`` is scored once as it is and once with each feature
        set to its value in ``_typical_row_``, in chunks of rows within
        ``sklearn.get_config()["working_memory"]``.
        """
        n, width = x.shape
        n_features = self.encoder_.n_columns
        if self.encoder_.mixed:
            slices = self.encoder_.slices
        else:
            slices = [slice(j, j + 1) for j in range(n_features)]
        drops = np.zeros((n, n_features))
        chunk = get_chunk_n_rows(row_bytes=8 * width * (n_features + 1), max_n_rows=max(n, 1))
        for rows in gen_batches(n, chunk):
            block = x[rows].toarray() if sp.issparse(x) else x[rows]
            copies = np.repeat(block[None], n_features + 1, axis=0)
            for j, columns in enumerate(slices, start=1):
                copies[j, :, columns] = self._typical_row_[columns]
            scores = self._anomaly_scores(copies.reshape(-1, width))
            scores = scores.reshape(n_features + 1, len(block))
            drops[rows] = (scores[0] - scores[1:]).T
        return drops

    def _without_absent_categories(self, table, x) -> np.ndarray:
        """``table`` with 0 for each absent category (one unseen in ``fit``, under
        ``handle_unknown="missing"``): no part of the score."""
        if self.encoder_.mixed:
            for j in self.encoder_.categorical:
                absent = np.asarray(x[:, self.encoder_.slices[j]].sum(axis=1)).ravel() == 0
                table[absent, j] = 0.0
        return table

    def _score_account(self, x, errors):
        """Each feature's share of the anomaly score, and the parts no feature owns."""
        shares = errors / self.encoder_.n_columns
        parts = self._score_parts_of(x, errors)
        parts.pop("reconstruction")
        if "reconstruction" not in self._centers_:
            return shares, parts
        # (mean error - center) / scale: each feature's share over the scale,
        # and the centre as a constant column.
        center, scale = self._centers_["reconstruction"]
        shares, offset = shares / scale, -center / scale
        if "tails" in parts:
            # (sum of the features' -log tail probabilities - center) / scale,
            # split the same way.
            parts.pop("tails")
            center, scale = self._centers_["tails"]
            tails = feature_tail_scores(self._score_parts_["tails"], x)
            shares = shares + self._feature_sums(tails) / scale
            offset -= center / scale
        parts["offset"] = np.full(len(errors), offset)
        return shares, parts

    def _feature_sums(self, values: np.ndarray) -> np.ndarray:
        """Sums of ``values`` over the encoded columns of each feature (a category's one-hot)."""
        if not self.encoder_.mixed:
            return values
        starts = [s.start for s in self.encoder_.slices]
        return np.add.reduceat(values, starts, axis=1)

    def __getstate__(self):
        """The base's compact state, with the isolation forest packed into a few arrays."""
        state = super().__getstate__()
        if state.get("isolation_forest_") is not None:
            state["isolation_forest_"] = pack_forest(state["isolation_forest_"])
        return state

    def __setstate__(self, state):
        forest = state.get("isolation_forest_")
        if isinstance(forest, dict):
            state = {**state, "isolation_forest_": unpack_forest(forest)}
        super().__setstate__(state)


def auto_threshold(scores: np.ndarray) -> float:
    """The score above which ``contamination="auto"`` flags a row.

    Tukey's fence (upper quartile plus :data:`AUTO_FENCE_IQRS`
    interquartile ranges) of the scores, or lower: when the highest scores
    form a group that lies wholly beyond the fence of the rest, that group is
    flagged, however large (up to half the rows), provided a gap of more than
    :data:`AUTO_GAP_IQRS` interquartile ranges of the rest sets it apart.
    The plain fence misses such a group once it holds a quarter of the rows,
    since the upper quartile then falls inside it. On data without such a group (a smooth tail) the two
    agree, up to the few rows at the edge of the fence.
    """
    s = np.sort(np.asarray(scores, dtype=np.float64))
    n = len(s)
    fence = _fences(s, np.array([n]))[0][0]
    # Splits with i rows below and n - i above, i >= n / 2: rows s[:i] have
    # the fence f_i, and the split holds when f_i < s[i] and a gap of more
    # than AUTO_GAP_IQRS of their interquartile ranges precedes s[i].
    i = np.arange(max(1, -(-n // 2)), n)
    if len(i):
        f, iqr = _fences(s, i)
        gap = s[i] - s[i - 1]
        holds = (f < s[i]) & (gap > AUTO_GAP_IQRS * iqr)
        if holds.any():
            fence = min(fence, float(f[np.argmax(holds)]))  # the largest group
    return float(fence)


def _fences(sorted_scores: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Far-out fence and interquartile range of each prefix ``sorted_scores[:size]``."""

    def quantile(q):
        position = q * (sizes - 1)
        low = np.floor(position).astype(int)
        high = np.minimum(low + 1, sizes - 1)
        weight = position - low
        return sorted_scores[low] * (1 - weight) + sorted_scores[high] * weight

    q1, q3 = quantile(0.25), quantile(0.75)
    return q3 + AUTO_FENCE_IQRS * (q3 - q1), q3 - q1
