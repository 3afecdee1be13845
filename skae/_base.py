"""The estimator base every skae estimator shares; it owns a skorch net, it is not one.

:class:`BaseAutoencoder` is a scikit-learn :class:`~sklearn.base.BaseEstimator`:
a constructor that only stores its arguments, parameter validation in
``fit``, ``validate_data`` on every public method, outputs in the input's
float dtype, no global state touched. It owns the data path and the fitted
state::

    X --validate--> TableEncoder (encoder_) --> network input (float32, once per call)
                                                     |
    fit:   AutoencoderNet (net_, skorch) --trains--> module_ (torch, skae._modules)
                 criterion: ColumnLoss (skae._criterion), callbacks (skae._net)
    infer: chunks of network input --> module_ --> ColumnLoss(reduction="none")

What an estimator adds (its module's arguments, its training data, what it
computes after training) it says through the hooks below; this file knows no
estimator's or module's specifics.
"""

from __future__ import annotations

import copy
import difflib
import inspect
import numbers
import warnings
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import gen_batches
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.callbacks import (
    Callback,
    EpochTimer,
    PassthroughScoring,
    PrintLog,
    ProgressBar,
)
from skorch.dataset import unpack_data
from skorch.history import History
from torch import nn

from . import __version__, _distributed
from ._criterion import ColumnLoss, split_output
from ._data import (
    BatchIterator,
    SparseRowsDataset,
    TensorDataset,
    draw_seed,
    forked_torch_rng,
    resolve_device,
)
from ._docstrings import shared_doc
from ._modules import ACTIVATIONS, MLPAutoencoder
from ._modules._protocol import (
    AutoencoderModule,
    ImputerModule,
    capabilities,
    protocol_mismatch,
)
from ._net import (
    AutoencoderNet,
    ConvergenceCheck,
    DivergenceCheck,
    EarlyStoppingFromStart,
    HoldOut,
    TrainingDivergedError,
    print_log_sink,
)
from ._persist import history_from_json, history_to_json
from ._preprocessing import SCALINGS, make_scaler, warn_if_scales_differ
from ._rows import csr_dataset
from ._tabular import (
    TableEncoder,
    categorical_columns,
    check_column_dtypes,
    holds_numbers,
    is_sparse_frame,
    warn_identifier_columns,
    warn_numbers_as_text,
    warn_numbers_beside_text,
)
from ._threads import blas_threads, estimator_threads, torch_threads

__all__ = ["BaseAutoencoder", "TrainingDivergedError"]

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

# Named optimizers with fused kernels (CPU since torch 2.4, CUDA earlier).
_FUSABLE = {"adam", "adamw", "sgd"}

#: Bytes of working memory per float of a row's widest activation during
#: inference: a few activations of that width are alive at once.
_BYTES_PER_ACTIVATION = 16

#: The estimator parameters that shape the default network; a module that
#: does not take one of them refuses a non-default value.
NETWORK_PARAMETERS = ("hidden_layer_sizes", "activation", "dropout")


#: How the error of :meth:`BaseAutoencoder._module` names each module family.
_FAMILY_NAMES = {
    AutoencoderModule: (
        "an autoencoder module (encode and decode, for AutoencoderTransformer and "
        "AutoencoderAnomalyDetector: MLPAutoencoder, RecurrentAutoencoder, ...)"),
    ImputerModule: (
        "an imputation module (forward(x, visible), for AutoencoderImputer: "
        "DenoisingImputerMLP, RecurrentImputer, ...)"),
}


class BaseAutoencoder(BaseEstimator):
    """Shared machinery of the skae estimators. Not for direct use.

    Subclasses give their module's arguments (``_module_arguments``), their
    training data (``_training_data``, ``_dataset``) and what they compute
    after training (``_after_training``); the base does validation,
    encoding, seeding, device placement, building and training the net
    (``net_``), ``partial_fit``, chunked inference and persistence.

    ``set_params`` on a fitted estimator changes parameters for the next
    ``fit``; ``partial_fit`` also picks up ``lr``, ``batch_size`` and
    ``max_epochs``. Everything else needs a refit.
    """

    #: What ``scaling="auto"`` means for tables; the detector uses "robust".
    _default_scaling = "standard"
    #: The training criterion; built from the fitted encoder.
    _criterion_class = ColumnLoss
    #: The skorch net built in ``fit`` (the transformer refines it).
    _net_class = AutoencoderNet
    #: What the entries a scipy.sparse X does not store are ("zero" or "missing").
    _sparse_unstored = "zero"
    #: What the warning on a category not seen in fit says happens to it
    #: (``handle_unknown="missing"``).
    _unknown_warning = "treated as missing values"

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
        "mixed_precision": ["boolean", StrOptions({"auto"})],
        "n_jobs": [
            None,
            Interval(numbers.Integral, None, -1, closed="right"),
            Interval(numbers.Integral, 1, None, closed="left"),
        ],
        "verbose": ["verbose"],
        "callbacks": [None, list, StrOptions({"disable"})],
    }

    # Each estimator declares its full signature (scikit-learn reads it) and
    # stores it with ``store_params(self, locals())``.

    # ------------------------------------------------------------------
    # Parameters: scikit-learn's, plus skorch's routed ones
    # ------------------------------------------------------------------
    @classmethod
    def _declared_param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return sorted(
            p.name
            for p in signature.parameters.values()
            if p.name != "self" and p.kind != p.VAR_KEYWORD
        )

    def _routed_params(self) -> dict[str, Any]:
        """The ``module__*``, ``optimizer__*``, ... parameters, passed to the net."""
        return dict(vars(self).get("_routed_kwargs", {}))

    def __getattr__(self, name):
        # A routed parameter reads as an attribute (``est.module__noise``), as
        # on a skorch net; it is stored apart, in ``_routed_kwargs``, so that
        # the constructor sets no attribute but its declared parameters
        # (scikit-learn's check_no_attributes_set_in_init).
        routed = vars(self).get("_routed_kwargs")
        if routed is not None and name in routed:
            return routed[name]
        # A property that raised AttributeError (NotFittedError, say) lands
        # here too: run it again so that its own error reaches the caller.
        attribute = getattr(type(self), name, None)
        if isinstance(attribute, property):
            return attribute.fget(self)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _validate_params(self):
        """scikit-learn's checks, and a clear error for a misspelt keyword.

        The constructor stores any keyword, as skorch's do, so that routed
        ``prefix__name`` parameters reach the net; a keyword without a
        prefix is a typo, and would fail inside skorch.
        """
        # Before scikit-learn's checks, which read False as 0 and would say
        # "must be an int in the range [1, inf)" of max_epochs=False.
        _refuse_bools_for_numbers(self)
        super()._validate_params()
        _check_callbacks(self.callbacks)
        _check_routed_internals(self._routed_params())
        unknown = sorted(key for key in self._routed_params() if "__" not in key)
        if unknown:
            valid = self._declared_param_names()
            close = difflib.get_close_matches(unknown[0], valid, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            if unknown[0] == "warm_start":  # skorch's and scikit-learn's name (trial 53)
                hint = " To continue training a fitted estimator, call partial_fit."
            raise ValueError(
                f"{type(self).__name__} got unexpected parameter(s) {unknown}.{hint} Its "
                f"parameters are {valid}, plus skorch's routed ones (module__<name>, "
                "optimizer__<name>, callbacks__<name>, ...)."
            )

    def get_params(self, deep=True):
        """Get the parameters of this estimator, routed ones included.

        Parameters
        ----------
        deep : bool, default=True
            Ignored beyond scikit-learn's meaning: no parameter is an estimator.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        return {**super().get_params(deep=deep), **self._routed_params()}

    def set_params(self, **params):
        """Set the parameters of this estimator.

        Accepts the declared parameters and skorch's routed ones
        (``module__*``, ``optimizer__*``, ``callbacks__*``,
        ``iterator_train__*``). On a fitted estimator the new values take
        effect at the next ``fit``; ``partial_fit`` also picks up ``lr``,
        ``batch_size`` and ``max_epochs``.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : object
            Estimator instance.
        """
        valid = set(self._declared_param_names()) | set(self._routed_params())
        for key, value in params.items():
            if "__" in key:
                # A new dict: a shallow copy of the estimator keeps its own.
                self._routed_kwargs = {**self._routed_params(), key: value}
            elif key not in valid:
                valid = sorted(valid)
                close = difflib.get_close_matches(key, valid, n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ValueError(
                    f"Invalid parameter {key!r} for estimator {type(self).__name__}."
                    f"{hint} Valid parameters are: {valid!r}."
                )
        super().set_params(**{k: v for k, v in params.items() if "__" not in k})
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = True  # kept sparse; densified a batch at a time
        tags.non_deterministic = False
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "net_") and hasattr(self, "n_features_in_")

    # ------------------------------------------------------------------
    # What the net trains, read through
    # ------------------------------------------------------------------
    def _fitted_net(self):
        """``net_``, or scikit-learn's NotFittedError before ``fit``."""
        check_is_fitted(self, "net_")
        return self.net_

    @property
    def module_(self) -> nn.Module:
        """The trained torch module (``net_.module_``)."""
        return self._fitted_net().module_

    @property
    def history_(self) -> History:
        """skorch's per-epoch record of training (``net_.history_``)."""
        return self._fitted_net().history_

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
    @shared_doc
    def fit(self, X, y=None):
        """Fit the autoencoder to ``X``.

        Parameters
        ----------
        %(fit_X_y)s

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._validate_params()
        X = self._validate_training_data(X, reset=True)
        return self._fit(X, reset=True)

    @shared_doc
    def partial_fit(self, X, y=None):
        """Train for ``max_epochs`` more epochs on ``X``, keeping what was learned.

        The first call initialises the estimator like :meth:`fit` (the
        feature scaling is learned from that first batch of rows); later calls
        continue training the same network on new rows, so data that does not
        fit in memory can be streamed through in chunks.

        Parameters
        ----------
        %(fit_X_y)s

        Returns
        -------
        self : object
            Fitted estimator.
        """
        first_call = not self.__sklearn_is_fitted__()
        if first_call:
            self._validate_params()
        X = self._validate_training_data(X, reset=first_call)
        return self._fit(X, reset=first_call)

    def _validate_training_data(self, X, *, reset: bool):
        return self._validate_input(X, reset=reset)

    def _fit(self, X, *, reset: bool):
        """Train on validated ``X``; ``reset`` starts from a fresh network."""
        if reset and X.shape[0] < 2:
            # One row has no spread to scale by and nothing to generalise from.
            raise ValueError(
                f"Found array with {X.shape[0]} sample(s) (shape={X.shape}) while a "
                f"minimum of 2 is required to fit {type(self).__name__}."
            )
        n_epochs = self._training_epochs(X)
        lr = self._training_lr(X.shape[0], n_epochs)
        try:
            if reset:
                self.device_ = resolve_device(self.device)
                self._seed_ = draw_seed(self.random_state)
            # [data parallel] Rank 0's seed and this rank's device inside a process group.
            parallel = _distributed.begin(self, reset)
            if reset:
                self._fit_encoder(X)
                net = self._build_net(max_epochs=n_epochs)
                net.set_params(lr=lr)
                before = None
            else:
                net = self.net_
                changed = {"batch_size": self.batch_size, "max_epochs": n_epochs}
                # skorch writes lr into the optimizer: only a new one, so that a
                # user's LRScheduler goes on where it was, as in skorch's
                # partial_fit (trial 53: StepLR restarted at every call).
                if lr != getattr(self, "_net_lr_", None):
                    changed["lr"] = lr
                net.set_params(**changed)
                before = self._training_state()
            self._net_lr_ = lr
            # A new stream of random numbers for every call, reproducible from
            # random_state: partial_fit does not replay the same shuffles.
            n_epochs_done = 0 if reset else len(net.history_)
            seed = (self._seed_ + 1_000_003 * n_epochs_done) % (2**63)
            with forked_torch_rng(seed, self.device_):
                if reset:
                    net.initialize()
                data = self._training_data(X)
                dataset = self._dataset(data)
                # n_jobs: torch threads for training, and as many of NumPy's
                # BLAS threads for the array work around it (skae/_threads.py).
                n_threads = self._torch_threads(self.batch_size, net.module_)
                with torch_threads(n_threads), blas_threads(n_threads):
                    if reset and net.capabilities_.init_from_data:
                        self._init_module_from_data(net.module_, dataset)
                    if reset:
                        self._check_custom_module(net, dataset)
                    with _distributed.training(net, parallel):  # [data parallel]
                        net.partial_fit(dataset)
            self.net_ = net
            # The work after training (the transformer's refit and its choice
            # of PCA, the imputer's trees and linear models) runs with
            # training's threads, torch's and BLAS's.
            with torch_threads(n_threads), blas_threads(n_threads):
                self._after_training(X, data)
        except BaseException as error:
            if reset:
                self._discard_fitted_state()
            elif isinstance(error, TrainingDivergedError):
                self._restore_training_state(before)
            raise
        return self

    def _check_custom_module(self, net, dataset):
        """Run a module from outside skae on one batch; a clear error if its shapes are wrong.

        A module instance of the wrong width trained and failed in
        ``transform`` with NumPy's broadcasting error, or failed in training
        with torch's "mat1 and mat2 shapes cannot be multiplied" (a new
        user's trial 53). skae's own modules are tested and skip this; the
        batch runs in eval mode, under a forked random generator.
        """
        module = net.module_
        if type(module).__module__.startswith("skae."):
            return
        Xi, _ = unpack_data(next(iter(net.get_iterator(dataset, training=False))))
        name, width = type(module).__name__, self.encoder_.width
        code_width = self._module_arguments().get("n_components")
        training = module.training
        try:
            module.eval()
            with torch.no_grad(), forked_torch_rng(0, self.device_):
                if (code_width is not None and isinstance(Xi, torch.Tensor)
                        and callable(getattr(module, "encode", None))):
                    codes = module.encode(Xi)
                    if codes.ndim != 2 or codes.shape[1] != code_width:
                        raise ValueError(
                            f"its encode gave codes of shape {tuple(codes.shape)} for "
                            f"{len(Xi)} rows, where n_components={code_width} asks for "
                            f"({len(Xi)}, {code_width})")
                output, penalty = split_output(net.infer(Xi))
        except Exception as error:  # noqa: BLE001 - any failure inside the module
            raise ValueError(
                f"The module {name} failed on a batch of the training rows ({width} "
                f"features once encoded and scaled): {error}. A module takes rows of "
                "n_features columns and returns rows of the same width (see "
                "'Your own torch module' in the user guide)."
            ) from error
        finally:
            module.train(training)
        if tuple(output.shape) != (len(Xi if isinstance(Xi, torch.Tensor) else Xi[0]), width):
            raise ValueError(
                f"The module {name} returned rows of shape {tuple(output.shape)} for a "
                f"batch of shape ({len(output)}, {width}); its output must have the "
                "input's width.")
        if isinstance(penalty, torch.Tensor) and penalty.numel() != 1:
            raise ValueError(
                f"The module {name} returned a penalty of shape {tuple(penalty.shape)}; "
                "the second element of its output must be a scalar (a 0-d tensor).")

    def _init_module_from_data(self, module, dataset):
        """Let the module start from the data (PCA's solution, by default)."""
        rows = _init_rows(dataset)
        if rows is not None:
            module.init_from_data(rows)

    def _hidden_sizes(self) -> tuple[int, ...]:
        """Widths of the hidden layers (the imputer derives them from the table)."""
        return _layer_sizes(self.hidden_layer_sizes)

    def _training_state(self) -> tuple:
        """What a training call changes: weights, optimizer state, history length."""
        return (
            copy.deepcopy(self.module_.state_dict()),
            copy.deepcopy(self.net_.optimizer_.state_dict()),
            len(self.history_),
        )

    def _restore_training_state(self, state: tuple):
        module, optimizer, n_epochs = state
        self.module_.load_state_dict(module)
        self.net_.optimizer_.load_state_dict(optimizer)
        del self.history_[n_epochs:]

    def _training_epochs(self, X) -> int:
        """Epochs of a training call on validated ``X`` (``max_epochs``; subclasses may derive it)."""
        return self.max_epochs

    def _patience(self) -> int:
        """Epochs without progress before early stopping (``n_iter_no_change``)."""
        return self.n_iter_no_change

    def _training_lr(self, n_rows: int, n_epochs: int) -> float:
        """Learning rate of a training call of ``n_epochs`` (``lr``; subclasses may derive it)."""
        return self.lr

    def _discard_fitted_state(self):
        for key in list(vars(self)):
            if key.endswith("_") and not key.startswith("__"):
                delattr(self, key)

    #: The module family this estimator trains, and the other one: a module
    #: of the other family is refused by name (its constructor or forward
    #: would fail deep inside the net).
    _module_family = (AutoencoderModule, ImputerModule)

    def _module(self):
        """The module parameter, or the estimator's default module class."""
        module = self.module if self.module is not None else self._default_module()
        wanted, other = self._module_family
        cls = module if isinstance(module, type) else type(module)
        if issubclass(cls, other) and not issubclass(cls, wanted):
            raise ValueError(
                f"{type(self).__name__} cannot train module={cls.__name__}: it needs "
                f"{_FAMILY_NAMES[wanted]}, and {cls.__name__} is {_FAMILY_NAMES[other]}."
            )
        # A module of neither family (a plain nn.Module) is checked for the
        # protocol's methods: the wrong kind failed inside torch, frames deep,
        # or at transform after a whole fit (trial 42).
        missing = protocol_mismatch(cls, wanted)
        if missing:
            raise ValueError(
                f"{type(self).__name__} cannot train module={cls.__name__}: {missing}, "
                f"and {type(self).__name__} needs {_FAMILY_NAMES[wanted]}. See the "
                "custom modules guide for the protocols.")
        return module

    def _fit_encoder(self, X, is_categorical=None):
        """Learn the encoding of ``X`` (scaling and categories), before the net exists.

        ``is_categorical`` marks the categorical columns of ``X`` when it is
        not the validated input itself (the imputer drops empty columns).
        """
        module = self._module()
        # Zeros of sparse input stay zeros: the scaling only divides.
        centered = not (sp.issparse(X) and self._sparse_unstored == "zero")
        shared_scale = capabilities(module).prefers_global_scaling
        self.scaler_ = make_scaler(self.scaling, self._default_scaling, shared_scale, centered)
        if is_categorical is None:
            is_categorical = self.is_categorical_
        if self.scaling == "auto" and shared_scale and not getattr(self, "_fold_fit", False):
            module_name = getattr(module, "__name__", type(module).__name__)
            warn_if_scales_differ(X, np.flatnonzero(~np.asarray(is_categorical)), module_name)
        self.encoder_ = TableEncoder(np.flatnonzero(is_categorical), self.scaler_,
                                     self._sparse_unstored,
                                     missing_level=self._missing_category_is_a_level(),
                                     unknown_effect=self._unknown_warning).fit(X)
        # Codes as wide as the encoded row, categories one-hot (as PCA after
        # a OneHotEncoder would allow), not merely as the input's columns.
        check_n_components(getattr(self, "n_components", None), self.encoder_.width,
                           one_hot=self.encoder_.mixed)

    def _training_data(self, X):
        """The network input of ``X``, encoded once for training and ``_after_training``."""
        return self._network_input(X)

    def _dataset(self, data) -> TensorDataset | SparseRowsDataset:
        """The training data as tensors on the compute device (CSR stays sparse)."""
        if sp.issparse(data):
            return csr_dataset(data, data.data, self.device_, with_mask=False)
        return TensorDataset(self._to_tensor(data))

    def _after_training(self, X, data):
        """Hook run after every training call (the detector sets its threshold)."""

    def _row_sample(self, n_rows: int, max_rows: int, salt: int):
        """At most ``max_rows`` of ``n_rows`` row positions, drawn reproducibly, in order.

        Statistics computed after training (thresholds, residual spreads) need
        a few thousand rows, not all of them. The seed is salted: users' own
        masks and splits often come from ``default_rng(random_state)``.
        """
        if n_rows <= max_rows:
            return slice(None)
        rng = np.random.default_rng((self._seed_, salt))
        return np.sort(rng.choice(n_rows, max_rows, replace=False))

    # ------------------------------------------------------------------
    # The net
    # ------------------------------------------------------------------
    def _default_module(self):
        """The module class used when ``module=None``."""
        return MLPAutoencoder

    def _module_arguments(self) -> dict[str, Any]:
        """Constructor arguments the estimator offers its module class."""
        return {
            "n_features": self.encoder_.width,
            "hidden_layer_sizes": self._hidden_sizes(),
            "activation": self.activation,
            "dropout": self.dropout,
        }

    def _module_kwargs(self, module) -> dict[str, Any]:
        """The arguments ``module`` takes, refusing network parameters it cannot use."""
        offered = self._module_arguments()
        accepted = {} if isinstance(module, nn.Module) else _accepted_kwargs(module, offered)
        defaults = inspect.signature(type(self).__init__).parameters
        for name in NETWORK_PARAMETERS:
            if name in accepted or name not in offered:
                continue
            value, default = getattr(self, name), defaults[name].default
            if _same_value(value, default):
                continue
            if isinstance(module, nn.Module):
                why = f"a module instance ({type(module).__name__}) is used as given"
            else:
                why = f"{getattr(module, '__name__', module)} does not take it"
            raise ValueError(
                f"{name}={value!r} cannot be used with this module: {why}. Leave "
                f"{name} at its default and set the module's own parameters with "
                "module__<name>."
            )
        # A module__<name> the user routes wins over the value the estimator
        # offers, as in skorch, unless both were set or the data set it.
        routed = self._routed_params()
        _check_routed_module_params(module, routed)
        kwargs = {}
        for name, value in accepted.items():
            key = f"module__{name}"
            if key not in routed:
                kwargs[key] = value
            elif name not in defaults:
                raise ValueError(
                    f"{key} cannot be set: {type(self).__name__} sets {name} from the data.")
            elif not _same_value(getattr(self, name), defaults[name].default):
                raise ValueError(
                    f"{name} is set twice, as {name}={getattr(self, name)!r} and "
                    f"{key}={routed[key]!r}; set one of them."
                )
        return kwargs

    def _batches(self, training: bool):
        """The batch iterator class (or factory) of training or validation."""
        return BatchIterator

    def _default_callbacks(self) -> list[tuple[str, Any]]:
        """The built-in callbacks: divergence, timing, losses, early stopping, log."""
        monitor = "valid_loss" if self.early_stopping else "train_loss"
        callbacks = [
            # [data parallel] Averages gradients across ranks; inert otherwise.
            ("data_parallel", _distributed.DataParallelCallback()),
            ("divergence", DivergenceCheck()),
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
        ]
        if self.early_stopping:
            callbacks.append(("valid_loss", PassthroughScoring(name="valid_loss")))
        callbacks.append((
            "early_stopping",
            EarlyStoppingFromStart(
                monitor=monitor,
                patience=self._patience(),
                threshold=self.tol,
                threshold_mode="rel",
                load_best=bool(self.early_stopping),
            ),
        ))
        if self.early_stopping:
            callbacks.append(("convergence", ConvergenceCheck(monitor)))
        # A sink other than print is called whatever the verbosity: only when verbose.
        callbacks.append(("print_log", PrintLog(sink=print_log_sink) if self.verbose
                          else PrintLog()))
        if self.verbose and int(self.verbose) >= 2:
            callbacks.append(("progress_bar", ProgressBar()))
        return callbacks

    def _build_net(self, max_epochs: int) -> AutoencoderNet:
        """The skorch net for this estimator's parameters and fitted encoder."""
        module = self._module()
        self._check_layer_sizes()
        optimizer = self.optimizer
        return self._net_class(
            module=module,
            criterion=self._criterion_class(self.encoder_),
            optimizer=OPTIMIZERS.get(optimizer, optimizer) if isinstance(optimizer, str)
            else optimizer,
            lr=self.lr,
            max_epochs=max_epochs,
            batch_size=self.batch_size,
            iterator_train=self._batches(training=True),
            iterator_valid=self._batches(training=False),
            dataset=TensorDataset,
            train_split=HoldOut(self.validation_fraction) if self.early_stopping else None,
            callbacks=self.callbacks,
            default_callbacks=self._default_callbacks(),
            predict_nonlinearity=None,
            verbose=self.verbose,
            device=self.device_,
            fused_optimizer=isinstance(optimizer, str) and optimizer in _FUSABLE,
            mixed_precision=self.mixed_precision,
            seed=self._seed_,
            **self._module_kwargs(module),
            **self._routed_params(),
        )

    def _check_layer_sizes(self):
        sizes = np.asarray(self.hidden_layer_sizes, dtype=object).ravel()
        bad = [s for s in sizes if not (isinstance(s, numbers.Integral)
                                         and not isinstance(s, bool) and s >= 1)]
        if bad or np.ndim(self.hidden_layer_sizes) > 1:
            raise ValueError(
                "hidden_layer_sizes must be a sequence of positive ints; got "
                f"{self.hidden_layer_sizes!r}."
            )

    # ------------------------------------------------------------------
    # Data in and out
    # ------------------------------------------------------------------
    def _allows_nan(self) -> bool:
        return False

    def _missing_category_is_a_level(self) -> bool:
        """Whether a missing category is a level of its own (OneHotEncoder's way), not a gap."""
        return not self._allows_nan()

    def _validate_input(self, X, *, reset: bool):
        """Validate ``X``: a float array, or a table with categorical columns."""
        return self._validate_converted(self._numbers_from_objects(X, reset=reset), reset=reset)

    def _validate_converted(self, X, *, reset: bool):
        """``_validate_input`` once a DataFrame's object columns of numbers are numbers."""
        if sp.issparse(X) and not reset and self._dense_rows_only():
            # Fitted on dense rows, with a scaling that centres them (a new
            # user's trial got StandardScaler's "pass with_mean=False").
            X = X.toarray()
        elif sp.issparse(X) or is_sparse_frame(X):
            return self._validate_sparse(X, reset=reset)
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
                ensure_all_finite="allow-nan",
                ensure_min_samples=1,
            )
        except ValueError as error:
            if "infinity" in str(error):
                raise ValueError(_infinity_message(X, self)) from None
            if "could not convert" not in str(error):
                raise
            raise ValueError(
                f"X holds values that are not numbers ({error}). {type(self).__name__} "
                "encodes categorical columns of a pandas DataFrame (category, object, "
                "string or bool dtype, categorical_features='from_dtype') or the "
                "columns listed in categorical_features; otherwise encode them "
                "first, for example with a ColumnTransformer and a OneHotEncoder."
            ) from None
        if not self._allows_nan():
            gaps = np.flatnonzero(np.isnan(X).any(axis=0))
            if len(gaps):
                names = getattr(self, "feature_names_in_", None)
                raise ValueError(_nan_message(names[gaps[0]] if names is not None
                                              else int(gaps[0]), self))
        if reset:
            self.is_categorical_ = np.zeros(X.shape[1], dtype=bool)
        return X

    def _dense_rows_only(self) -> bool:
        """Whether the fitted scaling centres its rows, which sparse input cannot keep."""
        if self._sparse_unstored != "zero":  # the imputer: unstored entries are gaps
            return False
        scaler = getattr(self, "scaler_", None)
        return bool(getattr(scaler, "with_mean", False)
                    or getattr(scaler, "with_centering", False))

    def _numbers_from_objects(self, X, *, reset: bool):
        """``X`` with a DataFrame's ``object`` columns of numbers alone as float64.

        See :func:`~skae._tabular.holds_numbers`. Columns listed in
        ``categorical_features``, or categorical in ``fit``, are left alone;
        ``X`` itself is never modified.
        """
        if not isinstance(X, pd.DataFrame) or not any(map(pd.api.types.is_object_dtype, X.dtypes)):
            return X
        if reset:
            keep = ([] if isinstance(self.categorical_features, str)
                    else categorical_columns(X, self.categorical_features))
        else:
            keep = np.flatnonzero(getattr(self, "is_categorical_", ()))
        columns = [j for j in range(X.shape[1])
                   if j not in set(keep) and holds_numbers(X.iloc[:, j])]
        if not columns:
            return X
        X = X.copy(deep=False)
        for j in columns:
            X.isetitem(j, pd.to_numeric(X.iloc[:, j]).astype(np.float64))
        return X

    def _validate_sparse(self, X, *, reset: bool):
        """Validate scipy.sparse ``X`` of numbers, whose unstored entries are zeros.

        It stays sparse (CSR): the scaling only divides, and the network
        densifies a batch (or an inference chunk) at a time.
        """
        listed = self.categorical_features is not None and not isinstance(
            self.categorical_features, str)
        if listed and len(self.categorical_features):
            raise ValueError(
                "categorical_features cannot be used with sparse input: a sparse X "
                "holds numbers only. One-hot encode the categories into the sparse "
                "matrix, or pass a dense array or a DataFrame."
            )
        X = validate_data(self, X, reset=reset, accept_sparse="csr",
                          dtype=[np.float64, np.float32], ensure_all_finite="allow-nan",
                          ensure_min_samples=1)
        gaps = np.isnan(X.data)
        if gaps.any():
            names = getattr(self, "feature_names_in_", None)
            column = X.indices[np.flatnonzero(gaps)[0]]
            raise ValueError(_nan_message(names[column] if names is not None else int(column),
                                          self))
        if reset:
            self.is_categorical_ = np.zeros(X.shape[1], dtype=bool)
        return X

    def _is_table(self, X, reset: bool) -> bool:
        """Whether ``X`` takes the mixed-type path; ``fit`` learns ``is_categorical_``."""
        if reset:
            n_columns = X.shape[1] if len(getattr(X, "shape", ())) == 2 else 0
            positions = categorical_columns(X, self.categorical_features) if n_columns else []
            if isinstance(self.categorical_features, str):  # "from_dtype"
                warn_numbers_as_text(X, positions)
            warn_numbers_beside_text(X, positions)
            warn_identifier_columns(X, positions)
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
                    odd = column[pd.to_numeric(column, errors="coerce").isna()
                                 & column.notna()].astype(str).unique()[:3].tolist()
                    # In fit the column could still be declared categorical;
                    # the fitted model reads it as numbers (a new user's trial).
                    advice = (
                        "list it in categorical_features if it is a category, or convert "
                        if reset else "the model was fitted on numbers there; convert ")
                    raise ValueError(
                        f"Column {name!r} is treated as numeric but holds values that "
                        f"are not numbers ({', '.join(map(repr, odd))}); {advice}them "
                        f"first, e.g. X[{name!r}] = pd.to_numeric(X[{name!r}], "
                        "errors='coerce') (such entries then become missing values)."
                    ) from exc
                if np.isinf(values).any():
                    raise ValueError(f"Input X contains infinity in column {name!r}.")
            # A missing category is a level of its own (OneHotEncoder's way).
            if j not in categorical and not self._allows_nan() and column.isna().any():
                raise ValueError(_nan_message(name, self))
        return frame

    def _codes(self, module, x: torch.Tensor) -> torch.Tensor:
        """The codes from which ``module`` reconstructs the encoded rows ``x``."""
        return module.encode(x)

    def _network_input(self, X) -> np.ndarray:
        """The network's float32 input for rows ``X``: the one encoding per call."""
        return self.encoder_.encode(X, self.handle_unknown)[0]

    def _to_tensor(self, array: np.ndarray) -> torch.Tensor:
        if sp.issparse(array):  # a chunk of sparse rows, densified on its own
            array = array.toarray()
        array = np.ascontiguousarray(array, dtype=np.float32)
        if not array.flags.writeable:  # torch refuses read-only memory
            array = array.copy()
        return torch.from_numpy(array).to(self.device_)

    def _chunk_rows(self, n_rows: int) -> int:
        """Rows per inference chunk, within scikit-learn's ``working_memory``."""
        widest = max([self.encoder_.width, *self._hidden_sizes(),
                      self.net_.capabilities_.activation_width])
        return get_chunk_n_rows(row_bytes=_BYTES_PER_ACTIVATION * widest,
                                max_n_rows=max(n_rows, 1))

    def _map_chunks(self, n_rows: int, fn, n_out: int, dtype) -> np.ndarray:
        """Gather ``fn(rows)`` over chunks of rows, in eval and inference mode.

        The one inference loop of every method: ``fn`` takes a slice of rows
        and returns a tensor of ``n_out`` columns; results come back in
        ``dtype``, and a chunk's size keeps its memory within
        ``sklearn.get_config()["working_memory"]``.
        """
        self.module_.eval()
        out = np.empty((n_rows, n_out), dtype=dtype)
        chunk = self._chunk_rows(n_rows)
        # n_jobs: torch threads for inference (skae/_threads.py).
        with torch.inference_mode(), torch_threads(self._torch_threads(min(chunk, n_rows))):
            for rows in gen_batches(n_rows, chunk):
                with self.net_.autocast():
                    result = fn(rows)
                # float64 results (``exact`` mode) keep their precision;
                # half-precision ones (autocast) have no NumPy dtype.
                if result.dtype != torch.float64:
                    result = result.float()
                out[rows] = result.cpu().numpy()
        return out

    def _torch_threads(self, rows: int, module=None) -> int:
        """Torch threads for steps on ``rows`` rows: the ``n_jobs`` policy."""
        return estimator_threads(self, rows, self.module_ if module is None else module)

    def _map_encoded(self, x: np.ndarray, fn, n_out: int, dtype) -> np.ndarray:
        """``fn`` on chunks of the encoded rows ``x``, as tensors on the device."""
        return self._map_chunks(x.shape[0], lambda rows: fn(self._to_tensor(x[rows])), n_out, dtype)

    def _scoring_criterion(self) -> ColumnLoss:
        """The training criterion with ``reduction="none"``: per-column errors."""
        return self._criterion_class(self.encoder_, reduction="none")

    def _column_errors(self, x: np.ndarray, dtype=np.float64, exact=False) -> np.ndarray:
        """Reconstruction error of each column of each encoded row (balanced scale).

        ``exact``: computed by a float64 copy of the module (:meth:`_map_module`).
        """
        errors = self._scoring_criterion()
        return self._map_module(x, lambda module, t: errors(module.decode(self._codes(module, t)), t),
                                self.encoder_.n_columns, dtype, exact=exact)

    def _map_module(self, x: np.ndarray, fn, n_out: int, dtype, *, exact: bool) -> np.ndarray:
        """``fn(module, rows)`` on chunks of the encoded rows ``x`` (see :meth:`_map_encoded`).

        ``exact`` runs a float64 copy of the module on float64 rows: a float32
        matrix product sums in an order that depends on how many rows it
        holds, so a row's result would otherwise change in its last digits
        with the rows around it.
        """
        if not exact:
            return self._map_encoded(x, lambda t: fn(self.module_, t), n_out, dtype)
        module = copy.deepcopy(self.module_).double().eval()
        return self._map_encoded(x, lambda t: fn(module, t.double()), n_out, dtype)

    def _check_fitted_input(self, X):
        check_is_fitted(self)
        return self._validate_input(X, reset=False)

    # ------------------------------------------------------------------
    # Persistence
    # ------------------------------------------------------------------
    def __getstate__(self):
        """The estimator's state for pickle, joblib and ``skops.io``.

        The net is not pickled: its module and optimizer are kept as state
        dicts of NumPy arrays (one per tensor; the optimizer's moments too, so
        that ``partial_fit`` continues exactly), its history as one JSON
        string of the epoch summaries (skorch's per-batch rows are dropped),
        and the net is rebuilt from the estimator's parameters on load.
        Everything is plain Python, NumPy and scikit-learn objects, so
        ``skops.io`` can load the state without running code from the file,
        and few of them, so a ``skops.io`` file stays about the size of a
        pickle (see :mod:`skae._persist`).
        """
        state = dict(vars(self))
        net = state.pop("net_", None)
        if net is not None:
            state["_net_state"] = {
                "max_epochs": int(net.max_epochs),
                # The precision the model was fitted with, whatever set_params
                # said since (a model saved before this key: the parameter's).
                "mixed_precision": net.mixed_precision,
                "module": _arrays(net.module_.state_dict()),
                "optimizer": _arrays(net.optimizer_.state_dict()),
                "history": history_to_json(net.history_),
            }
        if state.get("device_") is not None:
            state["device_"] = str(state["device_"])
        state["_skae_version"] = __version__
        state["_torch_version"] = torch.__version__
        return state

    def __setstate__(self, state):
        state = dict(state)
        saved_with = state.pop("_skae_version", None)
        torch_saved = state.pop("_torch_version", None)  # None: saved before it was kept
        differ = []
        if saved_with is not None and saved_with != __version__:
            differ.append(f"skae {saved_with} and is loaded with skae {__version__}")
        if torch_saved is not None and _release(torch_saved) != _release(torch.__version__):
            # Same weights, other kernels: outputs can differ in the last digits
            # (a new user's production trial 48 asked for it to be recorded).
            differ.append(f"torch {torch_saved} and is loaded with torch {torch.__version__}")
        if differ:
            warnings.warn(
                f"This {type(self).__name__} was saved with {'; with '.join(differ)}; "
                "results may differ. Refit or save it again with these versions.",
                UserWarning,
                stacklevel=2,
            )
        saved = state.pop("_net_state", None)
        if state.get("device_") is not None:
            state["device_"] = _available_device(state["device_"], state["device"], self)
        state.setdefault("n_jobs", None)  # saved before n_jobs existed
        if "_routed_kwargs" not in state:  # saved when routed ones were attributes
            declared = set(self._declared_param_names())
            state["_routed_kwargs"] = {
                key: state.pop(key) for key in list(state)
                if key not in declared and not key.startswith("_") and not key.endswith("_")}
        vars(self).update(state)
        if saved is not None:
            self._rebuild_net(saved)

    def _rebuild_net(self, saved: dict):
        """The net from the parameters, then its weights and history."""
        net = self._build_net(max_epochs=saved["max_epochs"])
        net.mixed_precision = saved.get("mixed_precision", net.mixed_precision)
        # Building a module draws initial weights: keep the global generator as it was.
        with forked_torch_rng(0, torch.device("cpu")):
            net.initialize()
        net.module_.load_state_dict(_tensors(saved["module"]))
        net.optimizer_.load_state_dict(_tensors(saved["optimizer"]))
        history = saved["history"]
        net.history_ = History(history_from_json(history) if isinstance(history, str)
                               else history)
        self.net_ = net


def store_params(estimator, params: dict):
    """Store an estimator's constructor arguments, routed ``**kwargs`` included.

    Called as ``store_params(self, locals())`` at the start of ``__init__``:
    the constructor only stores its arguments, as scikit-learn requires.
    """
    params = {k: v for k, v in params.items() if k not in ("self", "__class__")}
    routed = params.pop("kwargs", {})
    vars(estimator).update(params)
    # skorch's routed parameters (module__*, optimizer__*, callbacks__*, ...)
    # in one private dict: scikit-learn's checks allow no other public
    # attribute from the constructor.
    vars(estimator)["_routed_kwargs"] = dict(routed)


def _infinity_message(X, estimator) -> str:
    """sklearn's message on infinite input, naming the first column that holds it."""
    values = np.asarray(X, dtype=np.float64)
    if values.ndim != 2 or not np.isinf(values).any():
        return "Input X contains infinity or a value too large for dtype('float64')."
    column = int(np.flatnonzero(np.isinf(values).any(axis=0))[0])
    names = getattr(X, "columns", None)
    if names is None:
        names = getattr(estimator, "feature_names_in_", None)
    name = names[column] if names is not None else column
    return f"Input X contains infinity in column {name!r}."


def _nan_message(column, estimator) -> str:
    missing = getattr(estimator, "missing_values", None)
    if missing is not None:  # an imputer whose gaps are marked by another value
        return (f"Input X contains NaN in column {column!r}, but missing_values="
                f"{missing!r}: set missing_values=np.nan to impute NaN entries.")
    return (f"Input X contains NaN (missing values) in column {column!r}; "
            "AutoencoderImputer can fill them first.")


def _arrays(state):
    """A (nested) state dict with its tensors as NumPy arrays, for compact files."""
    if isinstance(state, torch.Tensor):
        return state.detach().cpu().numpy()
    if isinstance(state, dict):
        return {key: _arrays(value) for key, value in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(_arrays(value) for value in state)
    return state


def _tensors(state):
    """Undo :func:`_arrays`."""
    if isinstance(state, np.ndarray):
        return torch.from_numpy(np.array(state))
    if isinstance(state, dict):
        return {key: _tensors(value) for key, value in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(_tensors(value) for value in state)
    return state


def _init_rows(dataset) -> torch.Tensor | None:
    """The scaled training rows a module initialises from, dense on the device.

    Sparse rows are densified for this once, within scikit-learn's
    ``working_memory``: a larger matrix gives a random sample of its rows
    (drawn from torch's forked generator).
    """
    if isinstance(dataset, TensorDataset):
        return dataset.tensors[0]
    if not isinstance(dataset, SparseRowsDataset) or dataset.with_mask:
        return None
    n = len(dataset)
    n_rows = get_chunk_n_rows(row_bytes=4 * dataset.n_columns, max_n_rows=n)
    if n_rows >= n:
        return dataset.rows(slice(None))[0]
    index = torch.randperm(n)[:n_rows].sort().values.to(dataset.device)
    return dataset.rows(index)[0]


def _layer_sizes(sizes) -> tuple[int, ...]:
    return tuple(int(h) for h in sizes)


def _same_value(value, default) -> bool:
    if isinstance(default, tuple):
        try:
            return tuple(value) == default
        except TypeError:
            return False
    return value == default


def _check_routed_module_params(module, routed: dict):
    """Refuse a ``module__<name>`` the module class cannot take, by name.

    Unchecked, a misspelt name failed inside the module's constructor with
    Python's TypeError (trial 47); modules that take ``**kwargs`` are not
    checked (:func:`_accepted_kwargs` keeps all). A module instance is
    trained as given (a copy), so any ``module__<name>`` would be ignored:
    it is refused (trial 53: skorch rebuilds the instance from them).
    """
    if isinstance(module, nn.Module):
        given = sorted(key for key in routed if key.startswith("module__"))
        if given:
            raise ValueError(
                f"{', '.join(given)} cannot be used with a module instance "
                f"({type(module).__name__}), which is trained as given (a copy). Pass "
                f"the class, module={type(module).__name__}, with those parameters, or "
                "build the instance with them.")
        return
    names = {key.removeprefix("module__"): None for key in routed
             if key.startswith("module__") and "__" not in key.removeprefix("module__")}
    unknown = sorted(set(names) - set(_accepted_kwargs(module, names)))
    if unknown:
        valid = sorted(set(inspect.signature(module).parameters) - {"self"})
        close = difflib.get_close_matches(unknown[0], valid, n=1)
        hint = f" Did you mean 'module__{close[0]}'?" if close else ""
        raise ValueError(
            f"{getattr(module, '__name__', module)} takes no parameter {unknown[0]!r} "
            f"(got {', '.join('module__' + name for name in unknown)}).{hint} Its "
            f"parameters are {valid}.")


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


def float_dtype(X) -> type:
    """The float dtype outputs keep: float32 for float32 input, float64 otherwise."""
    return np.float32 if getattr(X, "dtype", None) == np.float32 else np.float64


def _refuse_bools_for_numbers(estimator):
    """A bool where only numbers are legal is refused, not read as 0 or 1.

    scikit-learn's ``Interval`` takes ``True`` as an int (``PCA(True)`` keeps
    one component); ``n_components=True`` reached torch's ``nn.Linear`` and
    failed there (a new user's trial 52). No parameter of skae means a count
    or a rate by a bool.
    """
    for name, constraints in estimator._parameter_constraints.items():
        value = getattr(estimator, name, None)
        if not isinstance(value, (bool, np.bool_)):
            continue
        numeric = [c for c in constraints if isinstance(c, Interval)]
        takes_bools = any(c in ("boolean", bool) or getattr(c, "type", None) is bool
                          for c in constraints)
        if numeric and not takes_bools:
            raise InvalidParameterError(
                f"The {name!r} parameter of {type(estimator).__name__} must be a number, "
                f"not a bool; got {value!r}."
            )


def _check_routed_internals(routed: dict):
    """Refuse routed settings of the parts skae builds itself, which they would break.

    ``iterator_train__drop_last`` failed inside the batch iterator's
    constructor and ``criterion__reduction`` inside the criterion's (a new
    user's trial 53): skae slices batches from tensors already on the device
    (no DataLoader: no workers, no sampler) and builds its criterion from the
    fitted encoder.
    """
    for key in sorted(routed):
        prefix, _, name = key.partition("__")
        if prefix in ("iterator_train", "iterator_valid") and name != "shuffle":
            raise ValueError(
                f"{key} is not supported: skae slices batches from tensors already on "
                "the device, without a torch DataLoader, and its batch iterators take "
                f"only 'shuffle' ({prefix}__shuffle).")
        if prefix == "criterion":
            raise ValueError(
                f"{key} is not supported: skae builds its criterion from the fitted "
                "encoder (each column's loss, see the training guide), and "
                "criterion__* parameters cannot reach it.")


def _check_callbacks(callbacks):
    """``callbacks`` holds what skorch takes: callbacks, their classes, or (name, callback) pairs.

    Anything else failed inside skorch's initialization with "'str' object
    has no attribute 'set_params'" (a new user's trial 52).
    """
    if not isinstance(callbacks, list):
        return  # None or "disable"; scikit-learn's constraints said the rest

    def is_callback(item):
        return isinstance(item, Callback) or (isinstance(item, type) and issubclass(item, Callback))

    for item in callbacks:
        named = (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
                 and is_callback(item[1]))
        if not (is_callback(item) or named):
            raise ValueError(
                "callbacks must be a list of skorch callbacks (instances of "
                "skorch.callbacks.Callback or their classes) or of (name, callback) "
                f"pairs; got {item!r}."
            )


def check_n_components(n_components, n_features: int, one_hot: bool = False):
    """A code may be at most as wide as the (encoded) input."""
    if n_components is not None and n_components > n_features:
        counted = " (each categorical column counting one per category)" if one_hot else ""
        raise ValueError(
            f"n_components={n_components} must be at most the number of "
            f"features, {n_features}{counted}."
        )


def _release(version: str) -> tuple:
    """A torch version's release numbers, without its local build tag (``2.13.0+cpu``)."""
    return tuple(version.split("+")[0].split("."))
