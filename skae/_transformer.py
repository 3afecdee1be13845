"""AutoencoderTransformer: nonlinear dimensionality reduction, a PCA drop-in.

Owns what the transformer adds to the base: codes (``transform``), decoding
(``inverse_transform``), reconstruction scores and sampling from a
variational module.
"""

from __future__ import annotations

import copy
import inspect
import numbers
import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from scipy.stats import spearmanr
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import roc_auc_score
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array, check_is_fitted
from skorch.callbacks import Callback
from skorch.dataset import unpack_data
from torch import nn

from . import _distributed
from ._base import (
    BaseAutoencoder,
    _init_rows,
    _same_value,
    float_dtype,
    store_params,
)
from ._data import draw_seed
from ._docstrings import fill_doc
from ._modules._layers import ReconstructionModule
from ._modules._protocol import capabilities
from ._net import AutoencoderNet, ParameterAverage, TrainingDivergedError, as_float32
from ._projection import at_least_rows, refine_codes

#: What the default module (``module=None``) trains with in the transformer:
#: a denoising autoencoder. Gaussian noise of 0.3 standard deviations on the
#: scaled inputs regularises the nonlinear correction; chosen on the
#: development tables of ``benchmarks/bench_transformer.py`` (issue 17).
_DEFAULT_MODULE_SETTINGS = {"noise": 0.3}


#: Relative gain over the PCA start, on the validation rows, that a network
#: fitted without y must show to be kept rather than become PCA (issue 17:
#: chosen on all the reconstruction tables of ``benchmarks/bench_transformer.py``,
#: where it made no case worse than PCA at an unchanged geometric mean).
_PCA_MARGIN = 0.05

#: Cross-fitting of the keep-or-PCA decision (issue 17), on tables of fewer
#: than ``_PATIENCE_ROWS`` rows (fits without y): a network that beats the
#: PCA start by ``_PCA_MARGIN`` on the validation rows is kept only if the
#: same recipe (PCA start, as many epochs as early stopping kept), refitted
#: on ``_CROSS_FIT_FOLDS`` folds of the rows, beats PCA on the rows each fold
#: left out by more than ``_CROSS_FIT_MARGIN``, pooled
#: (:meth:`AutoencoderTransformer._out_of_fold_errors`). On the cases of
#: fewer than 1,000 training rows of ``benchmarks/bench_transformer.py``, at
#: network seeds 0-2 (three draws of the folds): development geometric mean
#: 0.7398 without, 0.7454 / 0.7398 / 0.7398 with (WBC k=2 at one seed
#: returned to PCA), fit time 2.4x; report tables 0.6340 to 0.6339, and
#: body measurements k=2 (1.003 / 1.015 / 1.000 of PCA's held-out error)
#: PCA at every seed. 0 folds: no cross-fitting.
_CROSS_FIT_FOLDS = 3
_CROSS_FIT_MARGIN = 0.0

#: Hidden layer sizes of a second, narrower network trained on the tables
#: that are cross-fitted (fewer than ``_PATIENCE_ROWS`` rows, fits without y),
#: with the default module and ``hidden_layer_sizes`` (issue 17; None: never).
#: Each network passes the keep-or-PCA decision on its own; of those kept,
#: the one with the lower pooled out-of-fold error is the model
#: (:meth:`AutoencoderTransformer._fit_narrower`). On the 27 development
#: case-seeds of fewer than 1,000 training rows (``benchmarks/probe_crossfit.py
#: configs`` and ``choose``, network seeds 0-2, one process), geometric mean
#: of the held-out error / PCA's 0.7454 with (256, 128) alone, 0.7547 with
#: (128, 64) alone, 0.7020 choosing between them, none above PCA, fit time
#: 1.65x; fixed alternatives were all worse (noise 0.5 / 0.8: 0.787 /
#: 0.824; (64, 32): 0.815, two case-seeds above PCA; (128, 64) with noise 0.5:
#: 0.796), and so were choices with them in (0.696-0.745).
_NARROWER_HIDDEN = (128, 64)

#: Codes fitted with class labels: when the validation rows hold fewer than
#: this many rows of the rarest class, the loss comparison of
#: :meth:`_ReductionNet.keep_target_codes_unless_beaten` is left out (the
#: other classes dominate the cross-entropy) and the ranking score decides
#: alone (a credit-default table, 3.8% defaulters, about three among the
#: validation rows: codes with half PCA's validation ROC-AUC and a lower
#: cross-entropy were kept). No decision changed on the development or report
#: tables of ``bench_transformer.py --downstream``.
_FEW_CLASS_ROWS = 10

#: ``n_iter_no_change="auto"``: epochs without progress before early stopping,
#: on tables of fewer / at least ``_PATIENCE_ROWS`` rows (issue 17). Waiting
#: longer let training reach lower held-out errors on the development tables
#: (35 rather than 20: geometric mean 0.979 of the shorter wait's, fit time
#: 1.17x); with fewer than about 100 validation rows, the longer search found
#: epochs that beat the PCA start there by chance (body measurements, k=2:
#: 1.011 of PCA's held-out error), so small tables keep the short wait.
_PATIENCE_SMALL, _PATIENCE_LARGE, _PATIENCE_ROWS = 20, 35, 1000

#: Relative ridge penalty of the closed-form refit of the decoder's output
#: after training (:meth:`_ReductionNet._refit_output`).
_OUTPUT_RIDGE = 1e-3

#: Time constant, in epochs, of the average of the weights that validation
#: scores and early stopping keeps (:class:`_ValidatedAverage`; issue 17),
#: on tables of at least ``_AVERAGE_ROWS`` rows (None: never). On the 34
#: development cases (one process): geometric mean 0.953 of the raw
#: weights' at 1.44x the fit time (training runs longer: the average keeps
#: improving); 10 epochs 0.952, 2 epochs 0.978. On the 9 cases below 1,000
#: rows, at network seeds 0, 1 and 2, the average was 1.9% worse (glass k=2
#: 0.475 to 0.578): one or two steps an epoch leave little noise to average,
#: and the few validation rows choose among more candidates. Those tables
#: train as before.
_AVERAGE_EPOCHS = 5
_AVERAGE_ROWS = _PATIENCE_ROWS


class _Target:
    """What a supervised fit predicts from the codes: ``y`` encoded once in ``fit``.

    Class labels (``type_of_target`` binary or multiclass, of a dtype other
    than float) become class indices, scored by cross-entropy; anything
    else numeric (floats, whole or not; several outputs; label indicators)
    is standardized per column and scored by its mean squared error, so
    that ``target_weight`` means the same on every scale.
    """

    def __init__(self, y, n_rows: int):
        if sp.issparse(y):
            raise ValueError("y must be dense for target_weight > 0; got a sparse matrix.")
        y = np.asarray(y)
        if y.ndim == 0 or y.ndim > 2 or len(y) != n_rows:
            raise ValueError(
                f"y must have one value (or one row of values) per row of X: X has "
                f"{n_rows} rows, y has shape {y.shape}."
            )
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.dtype.kind in "fc" and not np.isfinite(y).all():
            raise ValueError("Input y contains NaN or infinity.")
        try:
            kind = type_of_target(y, input_name="y")
        except (TypeError, ValueError) as error:
            raise ValueError(f"y cannot be read as a target: {error}") from None
        # Floats are numbers even when whole (counts, ratings, ages: a
        # regression target); integers, strings and booleans are labels.
        if kind in ("binary", "multiclass") and y.dtype.kind != "f":
            self.classes = np.unique(y)
            self.values = np.searchsorted(self.classes, y).astype(np.int64)
            self.n_outputs = len(self.classes)
            self.constant = len(self.classes) < 2
            return
        try:
            values = y.astype(np.float64).reshape(n_rows, -1)
        except (TypeError, ValueError):
            raise ValueError(
                f"target_weight > 0 needs class labels or numbers in y; got a target of "
                f"type {kind!r} with values of dtype {y.dtype}."
            ) from None
        spread = values.std(axis=0)
        self.classes = None
        self.values = ((values - values.mean(axis=0)) / np.where(spread > 0, spread, 1.0))
        self.n_outputs = values.shape[1]
        self.constant = not (spread > 0).any()

    def tensor(self, device) -> torch.Tensor:
        dtype = torch.int64 if self.classes is not None else torch.float32
        return torch.as_tensor(self.values, dtype=dtype, device=device)

    def head(self, n_components: int, weight: float, lr: float) -> _TargetHead:
        loss = F.cross_entropy if self.classes is not None else F.mse_loss
        return _TargetHead(nn.Linear(n_components, self.n_outputs), loss, weight, lr)


class _TargetHead:
    """A linear head predicting the target from the codes, with its own optimizer.

    Training scaffolding of a supervised fit (not an ``nn.Module`` attribute
    of the net, so neither skorch's optimizer nor the saved state holds it):
    the net adds ``weight`` times its loss to the reconstruction error and
    steps its optimizer with every batch; the estimator drops it after
    training, since ``transform`` needs no ``y``.
    """

    def __init__(self, layer: nn.Linear, loss, weight: float, lr: float):
        self.layer, self.loss, self.weight = layer, loss, weight
        self.optimizer = torch.optim.Adam(layer.parameters(), lr=lr)

    def __call__(self, codes: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.weight * self.loss(self.layer(codes.float()), target)


class _RowsWithTarget(torch.utils.data.Dataset):
    """Training rows (dense or sparse) and the target, batched together.

    Batches are ``(rows, target)``; ``rows`` is the dataset the PCA start
    reads.
    """

    def __init__(self, rows, target: torch.Tensor):
        self.rows_dataset, self.target = rows, target

    def __len__(self) -> int:
        return len(self.target)

    def __getitem__(self, index):
        return (*self.rows_dataset[index], self.target[index])

    @property
    def device(self) -> torch.device:
        return self.target.device

    def rows(self, index) -> list[torch.Tensor]:
        return [*self.rows_dataset.rows(index), self.target[index]]

    def subset(self, index: torch.Tensor) -> _RowsWithTarget:
        return _RowsWithTarget(self.rows_dataset.subset(index), self.target[index])


class _ValidatedAverage(Callback):
    """Validate an exponential moving average of the weights instead of the weights.

    After every optimizer step, an average follows the network's parameters
    (a supervised fit's target head included) with a time constant of
    ``epochs`` epochs' steps (:class:`~skae._net.ParameterAverage`). Each
    validation pass scores the average, not the last weights, so early
    stopping watches the averaged network and restores the best average;
    training resumes from its own weights at the next epoch. The weights
    then kept are those of the best average (or the PCA start, epoch 0).
    Averaging smooths out the step-to-step noise of the last updates, which
    is what denoising training with a constant learning rate leaves.
    Every training call (of ``partial_fit`` too) starts a new average.
    """

    def __init__(self, epochs: float):
        self.epochs = epochs

    def on_train_begin(self, net, **kwargs):
        self.average_, self.swapped_ = None, False

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        if self.average_ is None and dataset_train is not None:
            steps = len(net.get_iterator(dataset_train, training=True))
            self.average_ = ParameterAverage(self.epochs * steps)

    def on_batch_begin(self, net, training=False, **kwargs):
        # The average in for validation; the trained weights back for training.
        if self.average_ is None or self.average_.average is None:
            return
        if training == self.swapped_:
            self.average_.swap(net.trained_parameters())
            self.swapped_ = not training

    def on_batch_end(self, net, training=False, **kwargs):
        if training and self.average_ is not None:
            self.average_.update(net.trained_parameters())

    def on_train_end(self, net, **kwargs):
        # The network now holds the best average (restored by early stopping,
        # or the last epoch's, swapped in for its validation pass).
        self.average_, self.swapped_ = None, False


class _ReductionNet(AutoencoderNet):
    """The transformer's net: a fair PCA start, clean validation, PCA when not beaten.

    - The PCA start is fitted to the training rows only, once the validation
      rows are split off. A start fitted to the validation rows too would be
      scored on rows it was fitted to; on small tables nothing trained could
      beat that score, and early stopping kept the start.
    - Validation rows are reconstructed as they are, without the training
      corruption of a denoising module (on tables of ``_AVERAGE_ROWS``
      rows or more, by a moving average of the weights,
      :class:`_ValidatedAverage`): early stopping keeps the network (the
      PCA start included, as epoch 0) that reconstructs held-out rows best,
      which is what ``score`` measures.
    - After training, the decoder's output maps are refitted in closed form
      to the training rows (kept only if that lowers the validation error).
    - Unless the network then beats the start by ``_PCA_MARGIN`` (and, on
      small tables, its recipe beats PCA on rows it never saw: the
      estimator's cross-fitting), the module becomes PCA of all the rows
      (validation rows included): exactly what PCA gives.
    - A supervised fit (batches ``(rows, target)``, with ``target_head`` set)
      adds the head's loss on the codes to the reconstruction error, in
      training and validation alike; early stopping watches that total. The
      reconstruction-only comparison does not apply (the start's codes were
      not shaped for the target); instead the trained network is kept unless
      a linear model on its codes predicts the target on the validation rows
      worse than on the start's codes, when the module becomes PCA of all
      the rows (:meth:`keep_target_codes_unless_beaten`).
    """

    #: A :class:`_TargetHead` during a supervised fit, else None.
    target_head = None

    #: ``(target, n_components, target_weight)`` for a supervised fit, else None.
    target_spec = None

    #: Keep the PCA start's state in ``pca_state_`` (the fits of
    #: :meth:`AutoencoderTransformer._out_of_fold_errors` compare the two).
    record_pca = False

    #: Relative gain of the trained network over the PCA start on the
    #: validation rows, once the decision is made (None before, or without one).
    validation_gain_ = None

    #: The PCA start's state (PCA of the training rows), when ``record_pca`` is set.
    pca_state_ = None

    #: Whether the last training call's decision made the module PCA of all
    #: the rows (its codes are then least-squares projections: not refined).
    pca_model = False

    def initialize_module(self):
        """Build the module, and a supervised fit's head (drawn from the seeded generator)."""
        super().initialize_module()
        self.target_head = None
        if self.target_spec is None:
            return self
        target, n_components, weight = self.target_spec
        self.target_head = target.head(n_components, weight, self.lr)
        return self

    def trained_parameters(self) -> list[nn.Parameter]:
        """The parameters gradient steps train: the module's and the target head's."""
        head = [] if self.target_head is None else list(self.target_head.layer.parameters())
        return [*self.module_.parameters(), *head]

    def _supervised_loss(self, Xi, yi):
        """Reconstruction error plus the target head's loss on the same codes."""
        module = self.module_
        with self.autocast():
            if type(module).forward is ReconstructionModule.forward:
                output, codes = module.forward_with_codes(Xi)  # the codes it decoded
            elif not self.capabilities_.custom_forward:
                codes = module.encode(Xi)
                output = module.decode(codes)
            else:  # its own forward (variational, recurrent): the codes of the rows
                output, codes = module(Xi), module.encode(Xi)
        output, codes = as_float32((output, codes))
        return self.criterion_(output, Xi) + self.target_head(codes, yi), output

    def train_step_single(self, batch, **fit_params):
        """skae's training step; with a target, the head trains alongside."""
        Xi, yi = unpack_data(batch)
        if yi is None:
            return super().train_step_single(batch, **fit_params)
        self.set_mode(True)
        self.target_head.optimizer.zero_grad(set_to_none=True)
        loss, output = self._supervised_loss(Xi, yi)
        loss.backward()
        self.target_head.optimizer.step()
        return {"loss": loss, "y_pred": output}

    def get_split_datasets(self, X, y=None, **fit_params):
        """Split off the validation rows, then start a fresh network from the rest."""
        train, valid = super().get_split_datasets(X, y, **fit_params)
        self.pca_model = False  # until a decision makes it PCA (partial_fit: never)
        fresh = len(self.history_) == 0  # not a partial_fit that continues
        if isinstance(train, _RowsWithTarget) and valid is not None and valid is not train:
            self._target_split = (train, valid)
        rows = getattr(train, "rows_dataset", train)  # a supervised fit's rows
        start = _init_rows(rows) if fresh and self.capabilities_.init_from_data else None
        if start is not None:  # dense rows, or sparse rows densified once
            self.module_.init_from_data(start)
            if self.record_pca:
                self.pca_state_ = copy.deepcopy(self.module_.state_dict())
            if valid is not None and valid is not train:
                self._pca_start = (copy.deepcopy(self.module_.state_dict()), valid, X, start)
        return train, valid

    def validation_step(self, batch, **fit_params):
        """skorch's validation step on the rows as they are (no corruption)."""
        self.set_mode(False)
        Xi, yi = unpack_data(batch)
        with torch.no_grad():
            if yi is not None:
                loss, y_pred = self._supervised_loss(Xi, yi)
            else:
                y_pred = self.infer(Xi, **fit_params)
                loss = self.get_loss(y_pred, yi, X=Xi, training=False)
        return {"loss": loss, "y_pred": y_pred}

    def _refit_output(self, train_rows, valid) -> float:
        """Refit the decoder's output maps in closed form if that helps on ``valid``.

        Gradient training stops early, before the decoder's last (linear)
        layer has reached its least-squares optimum for the trained hidden
        features; ridge least squares on the clean training rows gets there
        in one step (:meth:`MLPAutoencoder.refit_output`). The refit is kept
        only when it lowers the validation error, and only for numeric
        columns (the fit is squared error). Returns the validation error of
        the network kept.
        """
        before = self.evaluate_loss(valid)
        refit = getattr(self.module_, "refit_output", None)
        if refit is None or self.criterion_.encoder.mixed:
            return before
        state = copy.deepcopy(self.module_.state_dict())
        if not refit(train_rows, ridge=_OUTPUT_RIDGE):
            return before
        after = self.evaluate_loss(valid)
        if after < before:
            return after
        self.module_.load_state_dict(state)
        return before

    def _codes_and_target(self, dataset) -> tuple[np.ndarray, np.ndarray]:
        """Clean codes (float64) and encoded target of a supervised dataset's rows."""
        codes, target = [], []
        self.module_.eval()
        with torch.no_grad():
            for batch in self.get_iterator(dataset, training=False):
                Xi, yi = unpack_data(batch)
                codes.append(self.module_.encode(Xi).double().cpu().numpy())
                target.append(yi.cpu().numpy())
        return np.concatenate(codes), np.concatenate(target)

    def _linear_target_scores(self, train, valid) -> tuple[float, np.ndarray]:
        """How well a linear model on the ``train`` rows' codes predicts y on ``valid``.

        The model is the one a pipeline would put after the reducer, at its
        defaults: :class:`~sklearn.linear_model.LogisticRegression` for
        classes, :class:`~sklearn.linear_model.Ridge` for numbers (the
        standardized target). Returns a ranking score (higher is better;
        NaN where undefined) and each validation row's loss: for classes
        the ROC-AUC (one class against the rest, averaged over the classes
        that the validation rows hold alongside others) and the
        cross-entropy; for numbers Spearman's rank correlation of the
        predictions with the target and the squared error (averaged over
        the target's columns).
        """
        codes, target = self._codes_and_target(train)
        valid_codes, valid_target = self._codes_and_target(valid)
        if target.dtype.kind != "i":
            predicted = Ridge().fit(codes, target).predict(valid_codes)
            predicted = predicted.reshape(valid_target.shape)
            ranks = [spearmanr(p, t).statistic if np.ptp(p) > 0 and np.ptp(t) > 0 else 0.0
                     for p, t in zip(predicted.T, valid_target.T)]
            return float(np.mean(ranks)), ((predicted - valid_target) ** 2).mean(axis=1)
        if len(np.unique(target)) < 2:
            return float("nan"), np.zeros(len(valid_target))
        with warnings.catch_warnings():  # an internal check: no lbfgs warnings for users
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = LogisticRegression(max_iter=1000).fit(codes, target)
        proba = np.full((len(valid_target), self.target_head.layer.out_features), 1e-12)
        proba[:, model.classes_] = np.clip(model.predict_proba(valid_codes), 1e-12, None)
        present = [c for c in range(proba.shape[1])
                   if 0 < np.sum(valid_target == c) < len(valid_target)]
        if proba.shape[1] == 2:  # one AUC, the second class's
            present = present[1:]
        aucs = [roc_auc_score(valid_target == c, proba[:, c]) for c in present]
        score = float(np.mean(aucs)) if aucs else float("nan")
        return score, -np.log(proba[np.arange(len(valid_target)), valid_target])

    def _few_of_a_class(self, train, valid) -> bool:
        """Whether ``valid`` holds fewer than ``_FEW_CLASS_ROWS`` rows of a training class."""
        classes = np.unique(train.target.cpu().numpy())
        if classes.dtype.kind != "i":
            return False  # numbers: no classes
        counts = np.bincount(valid.target.cpu().numpy(), minlength=classes.max() + 1)
        return bool(counts[classes].min() < _FEW_CLASS_ROWS)

    def keep_target_codes_unless_beaten(self):
        """Become PCA of all the rows when the codes fitted with y predict it worse.

        A fit with y trades reconstruction for codes that predict y. A
        network that can memorize the training rows' labels (wide codes,
        few positives) gives codes that predict them well and held-out rows
        worse than PCA's codes do (issue 17: an insurance table with 6%
        positives and 11 codes, ROC-AUC 0.65 against PCA's 0.70). After
        training, a linear model fitted on the training rows' codes predicts
        y on the validation rows, once from the trained network's codes and
        once from the PCA start's (fitted to the same training rows),
        :meth:`_linear_target_scores`. The model becomes PCA of all the rows
        when the trained codes lose on both counts: a lower ranking score
        (ROC-AUC; Spearman's correlation for numbers) and a mean loss
        (cross-entropy, which punishes the overconfident model that
        memorized codes make; squared error for numbers) above PCA's by
        more than one standard error of the rows' differences. Requiring
        both, and a difference larger than the noise of the few validation
        rows, keeps the trained codes where those rows cannot tell. When the
        validation rows hold fewer than ``_FEW_CLASS_ROWS`` rows of a class,
        the cross-entropy says little about that class and the ranking score
        decides alone.
        """
        split = vars(self).pop("_target_split", None)
        start = getattr(self, "_pca_start", None)
        if (split is None or start is None or self.target_head is None
                or self.data_parallel is not None):
            return
        trained_state = copy.deepcopy(self.module_.state_dict())
        score, losses = self._linear_target_scores(*split)
        self.module_.load_state_dict(start[0])
        pca_score, pca_losses = self._linear_target_scores(*split)
        excess = losses - pca_losses
        noise = excess.std(ddof=1) / np.sqrt(len(excess)) if len(excess) > 1 else np.inf
        if score < pca_score and (excess.mean() > noise or self._few_of_a_class(*split)):
            rows = getattr(start[2], "rows_dataset", start[2])
            self.module_.init_from_data(_init_rows(rows))
        else:
            self.module_.load_state_dict(trained_state)

    def keep_pca_start_unless_beaten(self, out_of_fold_gain=None):
        """Become PCA of all the rows unless training beat the PCA start by a margin.

        The decoder's output is first refitted in closed form
        (:meth:`_refit_output`). The network is kept when its error on the
        validation rows is below
        ``1 - _PCA_MARGIN`` times the start's. The best of tens of epochs,
        chosen on a few dozen validation rows, beats the start on those rows
        by a few percent by chance alone: on the 35 validation rows of a
        benchmark table (body measurements, k=2) the network was 3% better
        than the start there and 1.6% worse than PCA on the test rows. (A
        margin of one standard error of the per-row differences instead
        returned WBC and Ionosphere to PCA where the network was better on
        the test rows, and missed that case.)

        The margin alone did not make that case safe at every seed (validation
        gains of 3.5-16%); ``out_of_fold_gain``, when given, is then asked for
        an honest estimate: the network is kept only if it returns more than
        ``_CROSS_FIT_MARGIN`` (called only when the margin is passed, since it
        costs fits).

        Parameters
        ----------
        out_of_fold_gain : callable or None, default=None
            Returns the relative gain over PCA of the network's recipe on
            rows that neither trained it nor chose its epoch; None: not asked.

        Returns
        -------
        kept : bool
            Whether the trained network was kept (False: PCA, or no decision).
        """
        start = vars(self).pop("_pca_start", None)
        if start is None or self.target_head is not None:
            return False
        start_state, valid, rows, train_rows = start
        trained = self._refit_output(train_rows, valid)
        trained_state = copy.deepcopy(self.module_.state_dict())
        self.module_.load_state_dict(start_state)
        self.validation_gain_ = 1.0 - trained / max(self.evaluate_loss(valid), 1e-30)
        keep = self.validation_gain_ > _PCA_MARGIN and (
            out_of_fold_gain is None or out_of_fold_gain() > _CROSS_FIT_MARGIN
        )
        if keep:
            self.module_.load_state_dict(trained_state)
        else:
            self.module_.init_from_data(_init_rows(rows))  # PCA of all the rows
        self.pca_model = not keep
        return keep


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
    well. The default network starts from PCA's solution on the training
    rows (a linear path set to the principal axes, plus a nonlinear
    correction that starts at zero), trains as a denoising autoencoder
    (inputs corrupted with Gaussian noise of 0.3 standard deviations,
    ``module__noise=0.3``), stops early on a held-out part of the rows,
    scored on clean rows (on tables of at least 1,000 rows by a moving
    average of the weights, time constant five epochs, the best average
    kept), then refits the decoder's output layer by ridge
    least squares on the training rows (kept if that helps on the held-out
    rows). When the network does not beat the PCA start on the held-out
    rows by 5%%, the model is PCA of all the rows, exactly; on tables of
    fewer than 1,000 rows, whose few held-out rows also chose the epoch,
    the network must also beat PCA on rows that played no part in it: the
    same training is repeated on three folds of the rows, each scored
    against PCA on the rows it left out (about 1.5 more fits' time; those
    fits run without the user's ``callbacks``, and a fold whose training
    diverges leaves PCA). There, with the default module and
    ``hidden_layer_sizes``, a network of hidden layers (128, 64) is trained
    and checked the same way too, and the folds choose between the two
    widths (1.6 times the time again; not with ``callbacks``, whose
    network is the model).
    Otherwise it reconstructs held-out rows better than PCA, most where the
    data are nonlinear. ``transform`` refines each row's code to the one the
    decoder reconstructs the row best from (``transform_max_iter``), as
    PCA's projection is. In a :class:`~sklearn.pipeline.Pipeline`, ``fit``
    receives ``y`` and the codes are also fitted to predict it
    (``target_weight``).

    Parameters
    ----------
    n_components : int, default=2
        Width of the code, the number of output features of ``transform``.
        At most the width of the encoded input: the numeric features plus
        one per category of each categorical feature (as PCA after a
        :class:`~sklearn.preprocessing.OneHotEncoder` allows).

    target_weight : float, default=3.0
        Weight of a supervised term (a supervised autoencoder [1]_), used
        when ``fit`` receives ``y``, as a :class:`~sklearn.pipeline.Pipeline`
        passes it: a linear head predicts ``y`` from the codes during
        training, and the loss is the reconstruction error plus
        ``target_weight`` times the head's loss (cross-entropy for class
        labels: integers, strings, booleans; mean squared error of the
        standardized target for floats, whole or not, one or several
        columns: pass a count target as floats to have it regressed). The codes then carry what predicts ``y`` as
        well as what reconstructs ``X``; ``transform`` needs no ``y``, like
        :class:`~sklearn.discriminant_analysis.LinearDiscriminantAnalysis`.
        0, or ``y=None``, trains on reconstruction alone. The default was
        chosen on the development tables of
        ``benchmarks/bench_transformer.py --downstream``. Codes that
        predict ``y`` on the validation rows worse than PCA's become PCA's
        (see Notes).

    transform_max_iter : int, default=5
        Gauss-Newton iterations that refine each row's code in
        :meth:`transform` (and so in :meth:`score_samples` and
        :meth:`score`). The encoder's code of a row approximates, in one
        pass, the code from which the decoder reconstructs the row best;
        starting there, each row's code moves to that best code by
        Levenberg-Marquardt steps, the way PCA's ``transform`` is the
        least-squares projection onto its components. A row's
        reconstruction error never rises above the encoder code's, and its
        code does not depend on the other rows of the call: to about 1e-10
        for float64 rows, and for float32 rows, which refine in float32
        about 3x faster, to the bit where the machine's float32 products
        of 16 rows or more do not depend on the number of rows (every step
        works on at least 16; a new user's codes had moved by up to 0.034,
        against a spread of 4, between chunks of 100 rows and one call).
        float32 codes end apart from float64's. On the
        development tables of ``benchmarks/bench_transformer.py``, 5
        iterations took the held-out error from 0.432 to 0.355 of PCA's
        (2 iterations: 0.364; 10: 0.352); see Notes for the cost. 0 gives
        the encoder's codes: the fastest ``transform``. Set after ``fit``,
        it changes nothing else; set before, on tables of fewer than 1,000
        rows, the folds that decide between the network and PCA score the
        codes it gives, so the model can differ. Models that ended as PCA
        exactly are not refined (their codes are projections already).
        Applies to modules that declare ``projects_codes`` (the default
        MLP, unless sparse), and not to codes fitted with ``y``
        (``target_weight``): refinement
        pulls them back from what predicts ``y`` toward what reconstructs
        ``X`` (development tables, cross-validated pipelines: 0.087 above
        PCA's codes on average refined, against 0.115 as the encoder gives
        them).

    %(network_parameters)s

    %(training_parameters)s

    Attributes
    ----------
    noise_std_ : ndarray of shape (n_numeric_features,) or None
        Residual spread of each scaled numeric feature, the noise
        :meth:`sample` adds; None unless the module is variational.

    is_pca_ : bool
        Whether the fit ended as PCA exactly: the trained network did not
        beat its PCA start by the margin the fit requires (see the
        transformer guide), so the model is PCA of the training rows.

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

    Refined codes (``transform_max_iter > 0``) cost about
    ``2 * n_components + 2`` passes of the decoder per iteration (the
    Jacobian by central differences), in ``transform``, ``score`` and
    ``score_samples`` alike: 3-45 times the encoder's time on a new user's
    held-out parts of a few hundred rows, more on larger calls and wider
    codes (5,544 rows, ``n_components=3``: 68 times; digits,
    ``n_components=8``: about 1,000 rows per second on one busy core,
    against 70,000). Pass ``transform_max_iter=0`` when throughput matters
    more than the last part of the reconstruction error.

    With ``target_weight > 0`` and ``y``, the validation rows score the
    reconstruction error plus the weighted target loss, and early stopping
    watches that total. The codes trade some reconstruction for what
    predicts ``y``, so the guarantee of never reconstructing held-out rows
    worse than PCA holds for fits without ``y`` only. In its place, a fit
    with ``y`` guards the codes' use downstream: after training, a linear
    model (:class:`~sklearn.linear_model.LogisticRegression` for classes,
    :class:`~sklearn.linear_model.Ridge` for numbers) fitted on the
    training rows' codes predicts ``y`` on the validation rows, from the
    trained codes and from PCA's codes of the same training rows. When the
    trained codes do worse on both counts, a lower ranking score (ROC-AUC;
    Spearman's correlation for numbers) and a higher loss (cross-entropy;
    squared error) by more than one standard error of the rows'
    differences, the model is PCA of all the rows, exactly. This catches
    codes that memorize the training rows' labels, which a downstream
    model then trusts too much (few positives, many codes).

    References
    ----------
    .. [1] L. Le, A. Patterson and M. White, "Supervised autoencoders:
       Improving generalization performance with unsupervised regularizers",
       NeurIPS 2018.

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
        "target_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left"),
                             StrOptions({"auto"})],
        "transform_max_iter": [Interval(numbers.Integral, 0, None, closed="left")],
    }

    _n_iter_no_change_auto = (
        "\n        ``\"auto\"``: 35 epochs on tables of at least 1,000 rows, 20 on"
        "\n        smaller ones (where a longer search over few validation rows"
        "\n        finds epochs that beat the PCA start by chance)."
    )

    def __init__(
        self,
        n_components=2,
        *,
        target_weight=3.0,
        transform_max_iter=5,
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
        n_iter_no_change="auto",
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

    def _module_arguments(self):
        return {**super()._module_arguments(), "n_components": self.n_components}

    def _fit_encoder(self, X, is_categorical=None):
        # Once per fit, before the net is built (its early stopping reads it);
        # kept with the model, so partial_fit and a loaded model wait as long.
        self._patience_ = self.n_iter_no_change
        self._hidden_sizes_ = None  # the parameter's, until _fit_narrower chooses
        self._average_ = bool(_AVERAGE_EPOCHS) and X.shape[0] >= _AVERAGE_ROWS
        if self.n_iter_no_change == "auto":
            large = X.shape[0] >= _PATIENCE_ROWS
            self._patience_ = _PATIENCE_LARGE if large else _PATIENCE_SMALL
        return super()._fit_encoder(X, is_categorical)

    def _patience(self) -> int:
        return self._patience_

    def _hidden_sizes(self) -> tuple[int, ...]:
        # The narrower network's, when _fit_narrower chose it.
        return getattr(self, "_hidden_sizes_", None) or super()._hidden_sizes()

    def _default_callbacks(self):
        callbacks = super()._default_callbacks()
        # Validation scores the average (models saved before it: never).
        if self.early_stopping and getattr(self, "_average_", False):
            callbacks.append(("weight_average", _ValidatedAverage(_AVERAGE_EPOCHS)))
        return callbacks

    def fit(self, X, y=None):
        """Fit the autoencoder to ``X``, and to ``y`` when ``target_weight > 0``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets), default=None
            Target that the codes should carry: class labels (integers,
            strings, booleans) or floats (regressed), used only when
            ``target_weight > 0``; ignored otherwise, and, with a warning,
            when it holds a single value.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._validate_params()
        X = self._validate_training_data(X, reset=True)
        if y is not None and self.target_weight > 0:
            self._target = _Target(y, X.shape[0])
            if self._target.constant:
                del self._target
                warnings.warn(
                    "y holds a single value, which codes cannot help predict: fitted "
                    "without y (reconstruction alone, never worse than PCA on held-out "
                    "rows).", UserWarning, stacklevel=2,
                )
        # Codes fitted with y are the encoder's (transform_max_iter).
        self._codes_fitted_with_y = getattr(self, "_target", None) is not None
        try:
            return self._fit(X, reset=True)
        finally:
            vars(self).pop("_target", None)

    def _build_net(self, max_epochs: int) -> AutoencoderNet:
        net = super()._build_net(max_epochs)
        net.record_pca = getattr(self, "_fold_fit", False)
        target = getattr(self, "_target", None)
        if target is not None:
            net.target_spec = (target, self.n_components, float(self.target_weight))
        return net

    def _dataset(self, data):
        """The training rows, with the encoded target of a supervised fit."""
        dataset = super()._dataset(data)
        target = getattr(self, "_target", None)
        if target is None:
            return dataset
        return _RowsWithTarget(dataset, target.tensor(dataset.device))

    # ------------------------------------------------------------------
    # Training suited to dimensionality reduction (issue 17)
    # ------------------------------------------------------------------
    _net_class = _ReductionNet

    def _init_module_from_data(self, module, dataset):
        """Nothing here: :class:`_ReductionNet` starts the module from PCA of the
        training rows once the validation rows are split off (fitting it to all
        rows first would be work thrown away)."""

    def _module_kwargs(self, module):
        kwargs = super()._module_kwargs(module)
        if self.module is None:  # the default module; module__* parameters override
            routed = self._routed_params()
            for name, value in _DEFAULT_MODULE_SETTINGS.items():
                if f"module__{name}" not in routed:
                    kwargs[f"module__{name}"] = value
        return kwargs

    @property
    def is_pca_(self) -> bool:
        """Whether the fitted model is PCA exactly (the network did not beat it).

        True when the fit's decision (see Notes) returned the model to PCA of
        the training rows; its codes then span PCA's subspace and its
        reconstructions are PCA's. Candidates of a search that all end as
        PCA score exactly alike.
        """
        check_is_fitted(self)
        return bool(getattr(self, "_pca_model", False))

    @property
    def _n_features_out(self):
        if not self.__sklearn_is_fitted__():
            raise AttributeError("_n_features_out is defined once fitted")
        return self.n_components

    def fit_transform(self, X, y=None):
        """Fit the autoencoder to ``X`` and return the codes of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets), default=None
            Target that the codes should carry, used only when
            ``target_weight > 0`` (see :meth:`fit`).

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Codes, in the float dtype of ``X``.
        """
        self.fit(X, y)
        return self._encode(self._validate_input(X, reset=False))

    def transform(self, X):
        """Encode ``X`` into codes of ``n_components`` numbers per row.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Codes, in the float dtype of ``X``.
        """
        return self._encode(self._check_fitted_input(X))

    def _encode(self, X):
        # float64 rows: exact codes, whatever the other rows of the call.
        dtype = float_dtype(X)
        return self._map_module(self._network_input(X), self._codes,
                                self.n_components, dtype, exact=dtype == np.float64)

    def _refines_codes(self, module) -> bool:
        """Whether ``transform`` refines the encoder's codes (``transform_max_iter``)."""
        # PCA's codes are its least-squares projection already.
        return bool(self.transform_max_iter
                    and not getattr(self, "_codes_fitted_with_y", False)
                    and not getattr(self, "_pca_model", False)
                    and capabilities(module).projects_codes)

    def _chunk_rows(self, n_rows: int) -> int:
        """Rows per inference chunk; refinement decodes ``2k + 1`` copies of each.

        Its finite-difference Jacobian decodes every row of a chunk with each
        code entry moved both ways, and keeps them all: counted as one row,
        a transform of 200,000 rows took 5.8 GB beyond its input (trial 48).
        """
        rows = super()._chunk_rows(n_rows)
        if self._refines_codes(self.module_):
            rows = max(1, rows // (2 * self.n_components + 1))
        return rows

    def _codes(self, module, x):
        """The codes of encoded rows ``x``: the encoder's, refined (``transform_max_iter``)."""
        if not self._refines_codes(module):
            return module.encode(x)
        # As many rows as the refinement's calls have: its start does not
        # depend on the chunk either.
        codes = at_least_rows(module.encode)(x)
        errors = self._scoring_criterion()
        return refine_codes(module.decode, lambda output, rows: errors(output, rows).sum(1),
                            x, codes, self.transform_max_iter,
                            squared=not self.encoder_.mixed)

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
            the codes; a DataFrame when the training data had categorical
            columns, with the fitted columns and their dtypes (integer columns
            rounded; ``Int64``, ``Float64``, ``float32`` kept) and the index
            of the codes when they come as a DataFrame.
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32], input_name="X")
        if Z.shape[1] != self.n_components:
            raise ValueError(
                f"X has {Z.shape[1]} columns, but inverse_transform expects codes "
                f"of n_components={self.n_components} columns."
            )
        out = self._map_encoded(Z, self.module_.decode, self.encoder_.width, float_dtype(Z))
        # Codes in a DataFrame (set_output(transform="pandas")) carry the rows' index.
        return self.encoder_.decode(out, like=X if isinstance(X, pd.DataFrame) else None)

    def score_samples(self, X):
        """Negative mean reconstruction error of each row.

        Errors are squared errors in the standardized units the network
        trains in (categories: cross-entropy divided by the column's
        entropy).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Higher is better (a better reconstruction).
        """
        X = self._check_fitted_input(X)
        # exact: a row's score must not depend on the chunk it is computed in.
        errors = self._column_errors(self._network_input(X), float_dtype(X), exact=True)
        return -errors.mean(axis=1)

    def score(self, X, y=None):
        """Negative mean squared reconstruction error over all rows.

        As :meth:`sklearn.decomposition.PCA.score` does, this lets
        :class:`~sklearn.model_selection.GridSearchCV` compare settings
        without a scorer; the values are not comparable with PCA's (a
        log-likelihood). The error falls as ``n_components`` grows, so a
        search over ``n_components`` by this score picks the largest: search
        it by a downstream score instead.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
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
        self.net_.keep_target_codes_unless_beaten()
        out_of_fold_gain = None
        # The pooled out-of-fold error of the network, once the folds are asked.
        self._out_of_fold_error = None
        fresh = getattr(self.net_, "_pca_start", None) is not None  # not partial_fit
        if self._cross_fits(X):
            def out_of_fold_gain():
                try:
                    net_errors, pca_errors = self._out_of_fold_errors(X)
                except TrainingDivergedError:  # a recipe that diverges on a fold: PCA
                    return -np.inf
                self._out_of_fold_error = net_errors.sum()
                return 1.0 - net_errors.sum() / max(pca_errors.sum(), 1e-30)
        if not self.net_.keep_pca_start_unless_beaten(out_of_fold_gain):
            self._out_of_fold_error = None  # PCA, whatever the folds said
        if fresh and self._tries_narrower(X):
            self._fit_narrower(X)
        if not getattr(self, "_narrower_fit", False):  # else _fit_narrower reads it
            del self._out_of_fold_error
        # Kept with the estimator (saved and loaded): codes of PCA are not refined.
        self._pca_model = bool(self.net_.pca_model)
        # The target head is training scaffolding: transform needs no y.
        self.net_.target_spec = self.net_.target_head = None
        self.noise_std_ = None
        if self.net_.capabilities_.variational:
            # The decoder's noise: each feature's residual spread, scaled units.
            x = data[self._row_sample(data.shape[0], 10_000, salt=0x5A3)]
            errors = self._column_errors(x, float_dtype(X))
            self.noise_std_ = np.sqrt(errors.mean(axis=0))[self.encoder_.numeric]

    def _cross_fits(self, X) -> bool:
        """Whether the keep-or-PCA decision of this fit is cross-fitted (issue 17)."""
        return (
            bool(_CROSS_FIT_FOLDS)
            and not getattr(self, "_fold_fit", False)
            and getattr(self, "_target", None) is None
            and 2 * _CROSS_FIT_FOLDS <= X.shape[0] < _PATIENCE_ROWS
            and _distributed.current_group() is None
        )

    def _tries_narrower(self, X) -> bool:
        """Whether this fit also trains the ``_NARROWER_HIDDEN`` network (issue 17)."""
        default = inspect.signature(type(self).__init__).parameters["hidden_layer_sizes"]
        # Widths the user set (module__ too) are the user's; so is a training
        # that the user's callbacks watch (the model is the network they saw).
        return (
            _NARROWER_HIDDEN is not None
            and self.module is None
            and self.early_stopping
            and not self.callbacks
            and not getattr(self, "_narrower_fit", False)
            and _same_value(self.hidden_layer_sizes, default.default)
            and "module__hidden_layer_sizes" not in self._routed_params()
            and self._cross_fits(X)
        )

    def _fit_narrower(self, X):
        """Train a ``_NARROWER_HIDDEN`` network too; keep it if the folds prefer it.

        On a few hundred rows, the width that generalises best varies from
        table to table and seed to seed, and the folds of the cross-fit
        (:meth:`_out_of_fold_errors`) can tell: a clone of this estimator
        with those hidden sizes and the same seed (so the same validation
        rows and folds) is fitted and decided on exactly as this fit was.
        Of the two networks that their decision kept (beating the PCA start
        by ``_PCA_MARGIN`` and PCA on the folds), the one with the lower
        pooled error on the rows the folds left out is the model; when
        neither was kept, PCA of all the rows (this fit's) stays.
        """
        # With the user's verbose: its net may become the model, callbacks and all.
        narrower = clone(self).set_params(
            hidden_layer_sizes=_NARROWER_HIDDEN, random_state=self._seed_
        )
        narrower._narrower_fit = True
        # This fit has said whether its training converged; the narrower
        # network's word counts only if it becomes the model (a new user saw
        # the same ConvergenceWarning twice from one fit).
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            narrower.fit(X)
        error = narrower._out_of_fold_error
        kept = error is not None and (self._out_of_fold_error is None
                                      or error < self._out_of_fold_error)
        if kept:
            self.net_ = narrower.net_
            self._hidden_sizes_ = _NARROWER_HIDDEN
        for caught_warning in caught:
            if kept or not issubclass(caught_warning.category, ConvergenceWarning):
                warnings.warn_explicit(caught_warning.message, caught_warning.category,
                                       caught_warning.filename, caught_warning.lineno)

    def _out_of_fold_errors(self, X):
        """Refit the trained network's recipe on folds of ``X``; score it and PCA on the rest.

        On a few dozen validation rows, the best of tens of epochs beats the
        PCA start there by chance, and the same rows then judge it (body
        measurements, k=2: 3.5-16% better than the start on its 35 validation
        rows, 0.3-1.5% worse than PCA on new rows). Rows that neither
        trained a network nor chose its epoch judge it honestly: the rows
        are split into ``_CROSS_FIT_FOLDS`` folds; for each, a clone of this
        estimator (the same parameters, its own seed drawn from this fit's)
        starts from PCA of the other folds and trains on them, without
        early stopping, for as many epochs as this fit's early stopping
        kept; it and that PCA are scored on the fold. (Fold fits that chose
        their own epoch on a tenth of two thirds of the rows judged a worse
        network than this one: on a glass table of 149 rows one fold's net
        was twice PCA's error, and the check returned good networks to PCA.)

        Returns
        -------
        net_errors, pca_errors : ndarray of shape (n_folds,)
            Summed reconstruction errors (each fold fit's own scaled units) of
            the fold fit and of PCA on the rows of each fold.
        """
        n = X.shape[0]
        # callbacks__early_stopping=None (or callbacks="disable") removes the
        # callback: then every epoch run counts (a new user's trial 53 got a
        # KeyError here).
        stopping = dict(self.net_.callbacks_).get("early_stopping")
        epochs = max(1, getattr(stopping, "best_epoch_", None) or len(self.net_.history_))
        rng = np.random.default_rng((self._seed_, 0xC805))
        # The user's callbacks stay with the user's fit: a Checkpoint would
        # need validation rows here, and overwrite its files. They are not
        # cloned either: skorch takes a callback's attributes for its
        # parameters, and a callback that keeps state in them (a list it
        # appends to) cannot be rebuilt from them (trial 53).
        params = {key: value for key, value in self.get_params(deep=False).items()
                  if not key.startswith("callbacks")}
        net_errors, pca_errors = [], []
        for held in np.array_split(rng.permutation(n), _CROSS_FIT_FOLDS):
            fold = clone(type(self)(**params)).set_params(
                random_state=int(rng.integers(2**31)), early_stopping=False,
                max_epochs=epochs, verbose=0,
            )
            fold._fold_fit = True
            fold.fit(_safe_indexing(X, np.setdiff1d(np.arange(n), held)))
            held_rows = _safe_indexing(X, held)
            net_errors.append(-fold.score_samples(held_rows).sum())
            fold.net_.module_.load_state_dict(fold.net_.pca_state_)
            pca_errors.append(-fold.score_samples(held_rows).sum())
        return np.array(net_errors), np.array(pca_errors)

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

    def __setstate__(self, state):
        # Saved before target_weight existed: such a model trained without y.
        # Saved before transform_max_iter existed: its codes were the encoder's.
        super().__setstate__({"target_weight": 0.0, "transform_max_iter": 0, **state})

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
