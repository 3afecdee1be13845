"""The training base that every skae estimator shares.

:class:`BaseAutoencoder` is a :class:`skorch.NeuralNet` that behaves like a
scikit-learn estimator: a constructor that only stores its arguments,
parameter validation in ``fit``, ``validate_data`` on every public method,
outputs in the input's float dtype, and no global state touched. Training
itself is skorch's: its ``fit_loop``, callbacks (early stopping, logging,
progress bars), history, ``module__`` / ``optimizer__`` / ``callbacks__``
parameter routing and pickling. What differs from a plain ``NeuralNet`` is
what an in-memory table needs: features scaled in ``fit``, data moved to the
device once and sliced a batch at a time, a seeded and forked random state,
and chunked inference with bounded memory.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import inspect
import io
import numbers
import warnings
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNet
from skorch.callbacks import (
    EarlyStopping,
    EpochTimer,
    PassthroughScoring,
    PrintLog,
    ProgressBar,
)
from skorch.dataset import get_len
from skorch.history import History
from torch import nn

from . import __version__
from ._data import (
    BatchIterator,
    TensorDataset,
    draw_seed,
    forked_torch_rng,
    map_row_chunks,
    resolve_device,
)
from ._modules import ACTIVATIONS, MLPAutoencoder
from ._preprocessing import SCALINGS, make_scaler
from ._tabular import TableEncoder, categorical_columns, check_column_dtypes

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

# Named optimizers with fused kernels (CPU since torch 2.4, CUDA earlier).
_FUSABLE = {"adam", "adamw", "sgd"}

# Rows per inference chunk are chosen so that one chunk's widest activation
# stays under this many bytes.
_INFERENCE_CHUNK_BYTES = 64 * 2**20


class _NotForAutoencoders:
    """Hide an inherited skorch method that has no meaning for an estimator.

    skorch's ``predict`` and ``predict_proba`` are for supervised nets;
    scikit-learn decides what an estimator is from the methods it has, so
    they must be absent (``hasattr`` false) rather than merely unused.
    """

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, instance, owner=None):
        raise AttributeError(f"{owner.__name__!r} object has no attribute {self.name!r}")


class _EarlyStopping(EarlyStopping):
    """skorch's :class:`~skorch.callbacks.EarlyStopping`, counting the start.

    The network before its first update is scored on the validation rows and
    competes as "epoch 0": a module that starts from a good solution (PCA's,
    for the default module) is restored if training never beats it.
    """

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        if len(net.history) != 1 or dataset_valid is None or self.monitor != "valid_loss":
            return
        score = net._evaluate_loss(dataset_valid)
        self.dynamic_threshold_ = self._calc_new_threshold(score)
        self.best_epoch_ = 0
        if self.load_best:
            self.best_model_weights_ = copy.deepcopy(net.module_.state_dict())


class TrainingDivergedError(FloatingPointError):
    """Raised when the training loss or the network's weights become NaN or infinite.

    ``fit`` leaves the estimator unfitted; ``partial_fit`` leaves it as it
    was before the call. Lowering ``lr`` usually helps.
    """


class BaseAutoencoder(NeuralNet):
    """Shared training machinery of the skae estimators. Not for direct use.

    Subclasses set ``_module_kwargs`` (what the module is built from),
    ``_training_dataset`` (which tensors train it) and ``get_loss``; the base
    does validation, scaling, seeding, device placement, the training loop
    (through skorch), early stopping, ``partial_fit`` and chunked inference.
    """

    # skorch attributes that skae estimators do not expose as parameters.
    # They are class attributes, so ``get_params`` does not list them.
    criterion = nn.MSELoss
    train_split = None
    iterator_train = BatchIterator
    iterator_valid = BatchIterator
    dataset = TensorDataset
    predict_nonlinearity = None
    warm_start = False
    compile = False
    use_caching = "auto"
    torch_load_kwargs = {"weights_only": False}

    predict = _NotForAutoencoders()
    predict_proba = _NotForAutoencoders()

    #: What ``scaling="auto"`` means for tables; the detector uses "robust".
    _default_scaling = "standard"

    _parameter_constraints: dict = {
        "module": [None, type, nn.Module, callable],
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "scaling": [StrOptions(set(SCALINGS)), None],
        "categorical_features": [StrOptions({"from_dtype"}), None, "array-like"],
        "handle_unknown": [StrOptions({"missing", "error"})],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(set(OPTIMIZERS)), type],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "device": [str, torch.device],
        "mixed_precision": ["boolean"],
        "verbose": ["verbose"],
        "callbacks": [None, list, StrOptions({"disable"})],
    }

    def __init__(
        self,
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
        # Deliberately not calling NeuralNet.__init__: it sets fitted state
        # (history_, initialized_) at construction, which scikit-learn forbids.
        self.module = module
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.scaling = scaling
        self.categorical_features = categorical_features
        self.handle_unknown = handle_unknown
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.device = device
        self.mixed_precision = mixed_precision
        self.verbose = verbose
        self.callbacks = callbacks
        # skorch-style routed parameters: module__*, optimizer__*, callbacks__*.
        vars(self).update(kwargs)

    # ------------------------------------------------------------------
    # Parameters: scikit-learn's view of them, with skorch's routing kept.
    # ------------------------------------------------------------------
    @classmethod
    def _declared_param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return sorted(
            p.name
            for p in signature.parameters.values()
            if p.name != "self" and p.kind != p.VAR_KEYWORD
        )

    def _get_param_names(self) -> list[str]:
        # Declared parameters first, then routed ones (module__* ...) that
        # were passed to the constructor or set_params.
        declared = self._declared_param_names()
        routed = sorted(
            key
            for key in vars(self)
            if key not in declared and not key.startswith("_") and not key.endswith("_")
        )
        return declared + routed

    @property
    def _params_to_validate(self) -> set[str]:
        # skorch checks these routed names against its prefixes in initialize().
        return set(self._get_param_names()) - set(self._declared_param_names())

    def set_params(self, **params):
        """Set the parameters of this estimator.

        Accepts the declared parameters and skorch's routed ones
        (``module__*``, ``optimizer__*``, ``callbacks__*``,
        ``iterator_train__*``). On a fitted estimator, skorch's rules apply:
        ``lr`` and ``optimizer__*`` change the live optimizer and
        ``module__*`` rebuilds the module.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : object
            Estimator instance.
        """
        if getattr(self, "initialized_", False):
            with self._skorch_sees_resolved_device():
                return super().set_params(**params)
        valid = set(self._get_param_names())
        for key, value in params.items():
            if key not in valid and "__" not in key:
                close = difflib.get_close_matches(key, sorted(valid), n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(
                    f"Invalid parameter {key!r} for estimator {type(self).__name__}."
                    f"{hint} Valid parameters are: {sorted(valid)!r}."
                )
            setattr(self, key, value)
        return self

    def _validate_params(self):
        # scikit-learn's constraint check, then skorch's check of routed names.
        BaseEstimator._validate_params(self)
        if getattr(self, "init_context_", None) is None and "module_" in vars(self):
            NeuralNet._validate_params(self)

    __repr__ = BaseEstimator.__repr__

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.non_deterministic = False
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return bool(getattr(self, "initialized_", False)) and hasattr(self, "n_features_in_")

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
    def fit(self, X, y=None):
        """Fit the autoencoder to ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        BaseEstimator._validate_params(self)
        X = self._validate_training_data(X, reset=True)
        return self._fit(X, reset=True)

    def partial_fit(self, X, y=None):
        """Train for ``max_epochs`` more epochs on ``X``, keeping what was learned.

        The first call initialises the estimator like :meth:`fit` (the
        feature scaling is learned from that first batch of rows); later calls
        continue training the same network on new rows, so data that does not
        fit in memory can be streamed through in chunks.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        first_call = not self.__sklearn_is_fitted__()
        if first_call:
            BaseEstimator._validate_params(self)
        X = self._validate_training_data(X, reset=first_call)
        return self._fit(X, reset=first_call)

    def _validate_training_data(self, X, *, reset: bool):
        X = self._validate_input(X, reset=reset)
        n_components = getattr(self, "n_components", None)
        if n_components is not None and n_components > self.n_features_in_:
            raise ValueError(
                f"n_components={n_components} must be at most the number of "
                f"features, {self.n_features_in_}."
            )
        return X

    def _fit(self, X, *, reset: bool):
        """Train on validated ``X``; ``reset`` starts from a fresh network."""
        if reset:
            self.device_ = resolve_device(self.device)
            self._fit_preprocessing(X)
            self._seed_ = draw_seed(self.random_state)
        # A new stream of random numbers for every call, reproducible from
        # random_state: partial_fit does not replay the same shuffles.
        n_epochs_done = 0 if reset else len(self.history_)
        seed = (self._seed_ + 1_000_003 * n_epochs_done) % (2**63)
        self._n_epochs = self._training_epochs(X.shape[0])
        before = None if reset else self._training_state()
        try:
            with forked_torch_rng(seed, self.device_):
                if reset:
                    self.history_ = None
                    self.initialized_ = False
                    self.initialize()
                dataset = self._training_dataset(X)
                if reset:
                    self._initialize_from_data(dataset)
                NeuralNet.partial_fit(self, dataset, epochs=self._n_epochs)
                self._check_finite_weights()
            self._after_training(X)
        except BaseException as error:
            if reset:
                self._discard_fitted_state()
            elif isinstance(error, TrainingDivergedError):
                self._restore_training_state(before)
            raise
        return self

    def _training_state(self) -> tuple:
        """What a training call changes: weights, optimizer state, history length."""
        return (
            copy.deepcopy(self.module_.state_dict()),
            copy.deepcopy(self.optimizer_.state_dict()),
            len(self.history_),
        )

    def _restore_training_state(self, state: tuple):
        module, optimizer, n_epochs = state
        self.module_.load_state_dict(module)
        self.optimizer_.load_state_dict(optimizer)
        del self.history_[n_epochs:]

    def _check_finite_weights(self):
        # The last step of training can break the weights after its loss was
        # recorded; no later loss would show it.
        finite = [p.isfinite().all() for p in self.module_.parameters()]
        if finite and not bool(torch.stack(finite).all()):
            raise TrainingDivergedError(
                "Training diverged: the network's weights became NaN or infinite. "
                f"Lower lr (now {self.lr}) or check the input for extreme values."
            )

    def _training_epochs(self, n_rows: int) -> int:
        """Epochs per training call (``max_epochs``; subclasses may derive it)."""
        return self.max_epochs

    def _discard_fitted_state(self):
        for key in list(vars(self)):
            if key.endswith("_") and not key.startswith("_") or key == "_seed_":
                delattr(self, key)

    def _fit_preprocessing(self, X, is_categorical=None):
        """Learn what ``fit`` needs before the network exists: the encoding.

        ``is_categorical`` marks the categorical columns of ``X`` when it is
        not the validated input itself (the imputer drops empty columns).
        """
        module = self.module if self.module is not None else self._default_module()
        self.scaler_ = make_scaler(self.scaling, self._default_scaling, module)
        if is_categorical is None:
            is_categorical = self.is_categorical_
        self.encoder_ = TableEncoder(np.flatnonzero(is_categorical), self.scaler_).fit(X)

    def _initialize_from_data(self, dataset: TensorDataset):
        """Let the module start from the data (PCA's solution, by default)."""
        init = getattr(self.module_, "init_from_data", None)
        if init is not None and isinstance(dataset, TensorDataset):
            init(dataset.tensors[0])

    def _after_training(self, X):
        """Hook run after every training call (the detector sets its threshold)."""

    def _row_sample(self, X, max_rows: int, salt: int):
        """At most ``max_rows`` rows of ``X``, drawn reproducibly, in order.

        Statistics computed after training (thresholds, residual spreads) need
        a few thousand rows, not all of them. The seed is salted: users' own
        masks and splits often come from ``default_rng(random_state)``.
        """
        if X.shape[0] <= max_rows:
            return X
        rng = np.random.default_rng((self._seed_, salt))
        return _rows(X, np.sort(rng.choice(X.shape[0], max_rows, replace=False)))

    def _n_code(self) -> int:
        raise NotImplementedError

    def _default_module(self):
        """The module class used when ``module=None``."""
        return MLPAutoencoder

    def _module_kwargs(self) -> dict[str, Any]:
        """Constructor arguments the estimator gives its module."""
        return {
            "n_features": self.encoder_.width,
            "n_components": self._n_code(),
            "hidden_layer_sizes": self._hidden_sizes(),
            "activation": self.activation,
            "dropout": self.dropout,
        }

    def _hidden_sizes(self) -> tuple[int, ...]:
        """Widths of the hidden layers (the imputer derives them from the table)."""
        return tuple(int(h) for h in self.hidden_layer_sizes)

    def _training_dataset(self, X) -> TensorDataset:
        """Encoded training rows as tensors on the compute device."""
        return TensorDataset(self._to_tensor(self._network_input(X)))

    # ------------------------------------------------------------------
    # skorch hooks
    # ------------------------------------------------------------------
    @contextlib.contextmanager
    def _skorch_sees_resolved_device(self):
        # skorch places modules on ``self.device``; ours may be "auto".
        requested = vars(self)["device"]
        device = vars(self).get("device_")
        vars(self)["device"] = device if device is not None else resolve_device(requested)
        try:
            yield
        finally:
            vars(self)["device"] = requested

    def initialize(self):
        """Build callbacks, module, criterion, optimizer and history."""
        with self._skorch_sees_resolved_device():
            return super().initialize()

    @property
    def _default_callbacks(self):
        monitor = "valid_loss" if self.early_stopping else "train_loss"
        callbacks = [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
        ]
        if self.early_stopping:
            callbacks.append(("valid_loss", PassthroughScoring(name="valid_loss")))
        callbacks += [
            (
                "early_stopping",
                _EarlyStopping(
                    monitor=monitor,
                    patience=self.n_iter_no_change,
                    threshold=self.tol,
                    threshold_mode="rel",
                    load_best=bool(self.early_stopping),
                ),
            ),
            ("print_log", PrintLog()),
        ]
        if self.verbose and int(self.verbose) >= 2:
            callbacks.append(("progress_bar", ProgressBar()))
        return callbacks

    def initialize_module(self):
        """Instantiate the module from the estimator's parameters."""
        kwargs = self._module_kwargs()
        routed = self.get_params_for("module")
        module = self.module if self.module is not None else self._default_module()
        if isinstance(module, nn.Module):
            # Train a copy: refitting starts afresh and the parameter is untouched.
            self.module_ = copy.deepcopy(module)
            return self
        self.module_ = module(**{**_accepted_kwargs(module, kwargs), **routed})
        return self

    def initialize_optimizer(self, triggered_directly=None):
        """Instantiate the optimizer; ``optimizer`` may be a name or a class.

        The named optimizers use torch's fused kernels where the device and
        torch version have them (a third faster on a CPU for small networks),
        unless ``optimizer__fused`` or ``optimizer__foreach`` says otherwise.
        """
        named_parameters = self.get_all_learnable_params()
        args, kwargs = self.get_params_for_optimizer("optimizer", named_parameters)
        optimizer = OPTIMIZERS.get(self.optimizer, self.optimizer)
        if self.optimizer in _FUSABLE and not {"fused", "foreach"} & set(kwargs):
            try:
                self.optimizer_ = optimizer(*args, fused=True, **kwargs)
                return self
            except (RuntimeError, TypeError, ValueError):
                pass  # no fused kernel here: the default implementation
        self.optimizer_ = optimizer(*args, **kwargs)
        return self

    def initialize_history(self):
        """Start an empty training history."""
        self.history_ = History()
        return self

    def get_split_datasets(self, X, y=None, **fit_params):
        """Hold out ``validation_fraction`` of the rows for early stopping.

        Tiny data sets, where the held-out part would be empty, monitor the
        loss on the training rows instead.
        """
        if not self.early_stopping:
            return X, None
        n = len(X)
        n_valid = int(np.floor(self.validation_fraction * n))
        if n_valid < 1 or n - n_valid < 1:
            return X, X
        order = torch.randperm(n, device=X.device)
        return X.subset(order[n_valid:]), X.subset(order[:n_valid])

    def get_iterator(self, dataset, training=False):
        """Batches sliced from tensors already on the device."""
        prefix = "iterator_train" if training else "iterator_valid"
        kwargs = {"batch_size": self.batch_size, "shuffle": training}
        kwargs.update(self.get_params_for(prefix))
        return BatchIterator(dataset, **kwargs)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """One pass over ``iterator``, as in skorch, with one device sync per epoch.

        skorch records each batch's loss with ``loss.item()``, which makes a
        GPU wait for every batch. Here the losses stay on the device and are
        written to the history once the pass is over; callbacks are notified
        exactly as in skorch.
        """
        if iterator is None:
            return
        losses, sizes = [], []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            losses.append(step["loss"].detach())
            sizes.append(get_len(batch[0]))
            self.notify("on_batch_end", batch=batch, training=training, **step)
        if losses:
            records = self.history[-1]["batches"][-len(losses) :]
            for record, loss, size in zip(records, torch.stack(losses).tolist(), sizes):
                record[prefix + "_loss"] = loss
                record[prefix + "_batch_size"] = size
        self.history.record(prefix + "_batch_count", len(losses))

    def _set_training(self, training=True):
        # skorch sets the mode on every batch; walking the module tree each
        # time costs a few percent of a small network's step.
        if self.module_.training != training:
            super()._set_training(training)

    def _autocast(self):
        """bfloat16 autocast on CUDA when ``mixed_precision`` is set."""
        if self.mixed_precision and self.device_.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def infer(self, x, **fit_params):
        """Run the module on a batch that already lives on the device."""
        with self._autocast():
            return self._forward(x, **fit_params)

    def _forward(self, x, **fit_params):
        module = self.module_
        if type(module).forward is nn.Module.forward:  # encode/decode only
            return module.decode(module.encode(x))
        return module(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Mean reconstruction error over columns, plus the module's penalty.

        Squared error for numbers; for categories, cross-entropy divided by
        the column's entropy (:class:`TableEncoder`), so both weigh the same.
        """
        x_hat, penalty = _split_output(y_pred)
        target = X if y_true is None else y_true
        return self.encoder_.column_errors(x_hat, target).mean() + penalty

    def validation_step(self, batch, **fit_params):
        """skorch's validation step; denoising modules see corrupted inputs.

        A module with ``corrupt_inputs`` (a denoising one) is validated on
        corrupted rows against the clean ones, the objective it trains on. The
        noise is drawn from a generator reset for every pass, so it is the
        same at every epoch.
        """
        corrupt = getattr(self.module_, "corrupt_inputs", None)
        if corrupt is None or not getattr(self.module_, "noise", 0):
            return super().validation_step(batch, **fit_params)
        x, target = batch
        # The same noise for the same rows at every epoch.
        with forked_torch_rng(self._seed_ + len(x), self.device_), torch.no_grad():
            noisy = corrupt(x)
        return super().validation_step((noisy, x if target is None else target), **fit_params)

    def _evaluate_loss(self, dataset) -> float:
        """Mean validation loss of the current network over ``dataset``."""
        total = 0.0
        for batch in self.get_iterator(dataset, training=False):
            total += self.validation_step(batch)["loss"].item() * get_len(batch[0])
        return total / len(dataset)

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        # Runs before the scoring callbacks, so read the batch losses.
        for batch in self.history[-1]["batches"]:
            for key in ("train_loss", "valid_loss"):
                value = batch.get(key)
                if value is not None and not np.isfinite(value):
                    raise TrainingDivergedError(
                        f"Training diverged: {key} became {value} in epoch "
                        f"{len(self.history)}. Lower lr (now {self.lr}) or check "
                        "the input for extreme values."
                    )

    # ------------------------------------------------------------------
    # Data in and out
    # ------------------------------------------------------------------
    def _allows_nan(self) -> bool:
        return False

    def _validate_input(self, X, *, reset: bool):
        """Validate ``X``: a float array, or a table with categorical columns."""
        if sp.issparse(X):
            raise TypeError(
                "Sparse data was passed for X, but dense data is required. Use "
                "'.toarray()' to convert to a dense numpy array. (AutoencoderImputer "
                "with missing_values=0 accepts scipy.sparse input, whose entries that "
                "are not stored are the missing ones.)"
            )
        listed = self.categorical_features is not None and not isinstance(
            self.categorical_features, str
        )
        if listed and isinstance(X, (list, tuple)):
            X = np.asarray(X, dtype=object)  # keep numbers and labels apart
        check_column_dtypes(X)
        if self._is_table(X, reset):
            return self._validate_table(X, reset=reset)
        if isinstance(X, pd.DataFrame) and not all(
            pd.api.types.is_numeric_dtype(dtype) for dtype in X.dtypes
        ):
            self._validate_table(X, reset=reset)  # names a column that is not numeric
        try:
            X = validate_data(
                self,
                X,
                reset=reset,
                dtype=[np.float64, np.float32],
                ensure_all_finite="allow-nan" if self._allows_nan() else True,
                ensure_min_samples=1,
            )
        except ValueError as error:
            if "could not convert" not in str(error):
                raise
            raise ValueError(
                f"X holds values that are not numbers ({error}). {type(self).__name__} "
                "encodes categorical columns of a pandas DataFrame (category, object, "
                "string or bool dtype, categorical_features='from_dtype') or the "
                "columns listed in categorical_features; otherwise encode them "
                "first, for example with a ColumnTransformer and a OneHotEncoder."
            ) from None
        if reset:
            self.is_categorical_ = np.zeros(X.shape[1], dtype=bool)
        return X

    def _is_table(self, X, reset: bool) -> bool:
        """Whether ``X`` takes the mixed-type path; ``fit`` learns ``is_categorical_``."""
        if reset:
            n_columns = X.shape[1] if len(getattr(X, "shape", ())) == 2 else 0
            positions = categorical_columns(X, self.categorical_features) if n_columns else []
            self.is_categorical_ = np.isin(np.arange(n_columns), positions)
        mask = getattr(self, "is_categorical_", None)
        return mask is not None and bool(mask.any())

    def _validate_table(self, X, *, reset: bool):
        """Checks for a table with categorical columns (kept as a DataFrame)."""
        X = validate_data(self, X, reset=reset, skip_check_array=True)
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
        if len(frame) < 1:
            raise ValueError(f"Found array with 0 sample(s) (shape={frame.shape}) while a "
                             "minimum of 1 is required.")
        if not reset and frame.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {frame.shape[1]} features, but {type(self).__name__} is "
                f"expecting {self.n_features_in_} features as input."
            )
        categorical = set(np.flatnonzero(self.is_categorical_))
        for j, name in enumerate(frame.columns):
            column = frame.iloc[:, j]
            if j not in categorical:
                try:
                    values = pd.to_numeric(column, errors="raise").to_numpy(
                        dtype=np.float64, na_value=np.nan)
                except (TypeError, ValueError) as exc:
                    raise ValueError(
                        f"Column {name!r} is treated as numeric but holds values that "
                        "are not numbers; list it in categorical_features."
                    ) from exc
                if np.isinf(values).any():
                    raise ValueError(f"Input X contains infinity in column {name!r}.")
            if not self._allows_nan() and column.isna().any():
                raise ValueError(
                    f"Input X contains NaN (missing values) in column {name!r}; "
                    "AutoencoderImputer can fill them first."
                )
        return frame

    def _network_input(self, X) -> np.ndarray:
        """The network's float32 input for rows ``X``."""
        return self.encoder_.encode(X, self.handle_unknown)[0]

    def _to_tensor(self, array: np.ndarray) -> torch.Tensor:
        array = np.ascontiguousarray(array, dtype=np.float32)
        if not array.flags.writeable:  # torch refuses read-only memory
            array = array.copy()
        return torch.from_numpy(array).to(self.device_)

    def _chunk_rows(self) -> int:
        # A module whose activations are wider than its layers (a recurrent
        # one keeps a state per time step) says so with ``activation_width``.
        widest = max([self.encoder_.width, *self._hidden_sizes(),
                      int(getattr(self.module_, "activation_width", 0))])
        return int(np.clip(_INFERENCE_CHUNK_BYTES // (4 * widest), 1024, 1 << 17))

    def _map_scaled_rows(self, X, fn, n_out: int, dtype) -> np.ndarray:
        """Apply ``fn`` to the scaled rows of ``X`` in chunks, in eval mode.

        ``fn`` takes a float32 tensor of scaled rows on the device and returns
        a tensor of ``n_out`` columns; results are gathered in ``dtype``.
        """
        self.module_.eval()
        out = np.empty((X.shape[0], n_out), dtype=dtype)

        def run(rows):
            with self._autocast():
                out = fn(self._to_tensor(self._network_input(_rows(X, rows))))
            return out.float().cpu().numpy()

        return map_row_chunks(run, X.shape[0], out, self._chunk_rows())

    def _column_errors(self, X) -> np.ndarray:
        """Reconstruction error of each column of each row (balanced scale)."""
        def errors(x):
            return self.encoder_.column_errors(self._reconstruct(x), x)

        return self._map_scaled_rows(X, errors, self.encoder_.n_columns, _float_dtype(X))

    def _reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.module_.decode(self.module_.encode(x))

    def _check_fitted_input(self, X):
        check_is_fitted(self)
        return self._validate_input(X, reset=False)

    # ------------------------------------------------------------------
    # Persistence
    # ------------------------------------------------------------------
    def __getstate__(self):
        """The estimator's state for pickle, joblib and ``skops.io``.

        The torch objects are not pickled: the module and optimizer are kept
        as their state dicts (tensors only, serialized by :func:`torch.save`)
        and rebuilt from the estimator's parameters on load, where
        :func:`torch.load` reads them with ``weights_only=True``. Callbacks
        are rebuilt too. Everything else is plain Python, NumPy and
        scikit-learn objects, so ``skops.io`` can load the state without
        running code from the file.
        """
        state = dict(vars(self))
        for name in [*self.cuda_dependent_attributes_, "callbacks_", "virtual_params_"]:
            state.pop(name, None)
        if getattr(self, "initialized_", False):
            weights = {
                name: getattr(self, name + "_").state_dict()
                for name in [*self._modules, *self._criteria, *self._optimizers]
            }
            buffer = io.BytesIO()
            torch.save(weights, buffer)
            state["_torch_weights"] = buffer.getvalue()
        if state.get("history_") is not None:
            state["history_"] = list(state["history_"])
        if state.get("device_") is not None:
            state["device_"] = str(state["device_"])
        state["_skae_version"] = __version__
        return state

    def __setstate__(self, state):
        state = dict(state)
        saved_with = state.pop("_skae_version", None)
        if saved_with is not None and saved_with != __version__:
            warnings.warn(
                f"This {type(self).__name__} was saved with skae {saved_with} and "
                f"is loaded with skae {__version__}; results may differ. Refit or "
                "save it again with this version.",
                UserWarning,
                stacklevel=2,
            )
        weights = state.pop("_torch_weights", None)
        if state.get("history_") is not None:
            state["history_"] = History(state["history_"])
        if state.get("device_") is not None:
            state["device_"] = _available_device(state["device_"], state["device"], self)
        vars(self).update(state)
        if weights is not None:
            self._rebuild_torch_objects(weights)

    def _rebuild_torch_objects(self, weights: bytes):
        """Module, criterion and optimizer from the parameters, then their weights."""
        tensors = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
        self.initialized_ = False  # skorch would announce a re-initialization
        self.virtual_params_ = {}  # lr and optimizer__* setters, registered again
        # Building a module draws initial weights: keep the global generator as it was.
        with forked_torch_rng(0, torch.device("cpu")), self._skorch_sees_resolved_device():
            self._initialize_module()
            self._initialize_criterion()
            self._initialize_optimizer()
            self.initialize_callbacks()
        for name in [*self._modules, *self._criteria, *self._optimizers]:
            getattr(self, name + "_").load_state_dict(tensors[name])
        self.initialized_ = True


def _accepted_kwargs(factory, kwargs: dict) -> dict:
    """Keep the entries of ``kwargs`` that ``factory`` accepts by name."""
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return kwargs
    if any(p.kind == p.VAR_KEYWORD for p in parameters.values()):
        return kwargs
    return {k: v for k, v in kwargs.items() if k in parameters}


def _available_device(saved: str, requested, estimator) -> torch.device:
    """The device a loaded model runs on: where it was trained, if available here."""
    device = torch.device(saved)
    if device.type == "cuda" and not torch.cuda.is_available():
        if requested != "auto":
            warnings.warn(
                f"This {type(estimator).__name__} was trained on {saved}, which is "
                "not available on this machine (CUDA is not available); it is "
                "loaded on the CPU.",
                UserWarning,
                stacklevel=3,
            )
        return torch.device("cpu")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        return torch.device("cuda")
    return device


def _split_output(output):
    """Split a module's output into ``(reconstruction, penalty)``."""
    if isinstance(output, tuple):
        return output[0], output[1]
    return output, 0.0


def _float_dtype(X) -> type:
    return np.float32 if getattr(X, "dtype", None) == np.float32 else np.float64


def _rows(X, index):
    """Rows of an array or a DataFrame."""
    return X.iloc[index] if isinstance(X, pd.DataFrame) else X[index]
