"""Docstring fragments shared by the estimators, the modules and the helpers.

The three estimators share their network and training parameters; their
descriptions live here once and are spliced into each class docstring with
:func:`fill_doc` (``%(name)s`` placeholders, as MNE-Python does). Parameter
descriptions that methods and functions share (a module's scaled rows, the
training ``X`` and ``y``, a window's length and step) are spliced in by
:func:`shared_doc`, a ``%(name)s`` line at a time. Defaults are
never written by hand: ``%(<parameter>_default)s`` is filled from the class's
constructor signature, so the documentation cannot drift from the code
(``tests/test_docstrings.py`` checks every documented default).
"""

from __future__ import annotations

import inspect
import re
import textwrap

_AUTOENCODER_MODULE = """module : torch.nn.Module class or instance, default=None
        The autoencoder to train. ``None`` builds an :class:`MLPAutoencoder`
        from ``hidden_layer_sizes``, ``activation`` and ``dropout``. A class
        is instantiated with ``n_features`` and ``n_components`` (and those
        three parameters, where its constructor accepts them; a non-default
        value it cannot take raises a ``ValueError``) plus any
        ``module__<name>`` parameters; it must follow the protocol described
        in :mod:`skae` (``encode`` and ``decode``).

    hidden_layer_sizes : tuple of int, default=%(hidden_layer_sizes_default)s
        Widths of the encoder's hidden layers (positive ints); the decoder
        mirrors them. ``()`` gives a linear autoencoder."""

_IMPUTER_MODULE = """module : torch.nn.Module class or instance, default=None
        The imputation network to train. ``None`` builds a
        :class:`DenoisingImputerMLP` from ``hidden_layer_sizes``,
        ``activation`` and ``dropout``. A class is instantiated with
        ``n_features`` (and those three parameters, where its constructor
        accepts them; a non-default value it cannot take raises a
        ``ValueError``) plus any ``module__<name>`` parameters; it must follow
        the imputer protocol of :mod:`skae` (``forward(x, visible)``).

    hidden_layer_sizes : "auto" or tuple of int, default=%(hidden_layer_sizes_default)s
        Widths of the hidden layers (positive ints). There is no bottleneck:
        the network maps each row and its mask of visible entries to the
        whole row."""

_NETWORK_PARAMETERS = """\
%(module_parameters)s

    activation : {"silu", "relu", "tanh", "logistic", "identity", "elu", \
"gelu", "leaky_relu"}, default=%(activation_default)s
        Activation of the hidden layers. ``"identity"`` makes the whole
        autoencoder linear.

    dropout : float in [0, 1), default=%(dropout_default)s
        Dropout probability after each hidden activation during training.

    scaling : {"auto", "standard", "robust", "global"} or None, default=%(scaling_default)s
        Feature scaling learned in ``fit``; the network sees scaled data.
        ``"standard"``: each feature to zero mean and unit variance;
        ``"robust"``: each feature by its median and interquartile range;
        ``"global"``: all features by one mean and standard deviation (for
        pixels and signals); None: no scaling. ``"auto"`` is ``"%(scaling_auto)s"``,
        and ``"global"`` for image modules such as :class:`ConvAutoencoder`
        (which warn when the features' ranges differ more than 1,000-fold,
        as a table's columns in different units do, and pixels do not).
        A scipy.sparse ``X`` whose unstored entries are zeros is scaled
        without centering, so that it stays sparse: each scaling only
        divides (by the standard deviation, the interquartile range or the
        overall standard deviation), as ``StandardScaler(with_mean=False)``
        does.

    categorical_features : "from_dtype", None, or array-like of str, int or \
bool, default="from_dtype"
        Which columns are categorical. ``"from_dtype"``: a DataFrame's
        category, object, string and bool columns. Or column names,
        positions, or a boolean mask: the complete list, in place of the
        dtypes (a text column left out of it is an error); to add an
        integer-coded column to the dtypes' choice, give it the category
        dtype instead, ``X.astype({"code": "category"})``. None: every
        column is numeric. Categorical columns enter the network
        one-hot and are reconstructed with a softmax and cross-entropy;
        numbers are scaled (``scaling``) and reconstructed with squared
        error; each column's loss is divided by that of predicting its
        marginal, so both kinds weigh the same. A missing category (NaN,
        None, ``pd.NA``) is a gap for :class:`AutoencoderImputer` and a
        level of its own for the transformer and the detector.

    %(handle_unknown_entry)s"""

_TRAINING_PARAMETERS = """\
max_epochs : %(max_epochs_type)s, default=%(max_epochs_default)s
        Maximum number of passes over the training data (per call, for
        ``partial_fit``).%(max_epochs_none)s

    batch_size : int, default=%(batch_size_default)s
        Rows per gradient step. Data with fewer rows trains in one batch.

    lr : float, default=%(lr_default)s
        Learning rate of the optimizer.

    optimizer : {"adam", "adamw", "sgd", "rmsprop"} or torch optimizer class, \
default="adam"
        Optimizer; its other arguments are set with ``optimizer__<name>``
        (for example ``optimizer__weight_decay=1e-4``).

    early_stopping : bool, default=%(early_stopping_default)s
        Hold out ``validation_fraction`` of the rows and stop when their
        loss has not improved by ``tol`` (relative) for ``n_iter_no_change``
        epochs, then restore the best weights. %(early_stopping_off)s

    validation_fraction : float in (0, 1), default=%(validation_fraction_default)s
        Share of the rows held out for early stopping.

    n_iter_no_change : %(n_iter_no_change_type)s, default=%(n_iter_no_change_default)s
        Epochs without improvement before training stops.%(n_iter_no_change_auto)s

    tol : float, default=%(tol_default)s
        Relative improvement of the monitored loss that counts as progress.

    random_state : int, RandomState instance or None, default=%(random_state_default)s
        Seeds weight initialisation, shuffling, dropout and the validation
        split. Training runs under a forked torch random state, so global
        random state (``random``, ``numpy``, ``torch``) is left untouched.
        Pass an int for reproducible results across calls.

    device : str or torch.device, default=%(device_default)s
        Where the network trains and runs: ``"auto"`` picks CUDA when it is
        available and the CPU otherwise; ``"cpu"``, ``"cuda"``,
        ``"cuda:1"``, ``"mps"`` choose explicitly. Fitted models load on a
        CPU-only machine whatever device trained them.

    mixed_precision : bool or "auto", default=%(mixed_precision_default)s
        Train and run the network under bfloat16 autocast (matrix products
        in bfloat16; weights, losses and outputs in float32) where the
        device computes bfloat16 natively: NVIDIA GPUs from Ampere (compute
        capability 8) on, ROCm GPUs, and CPUs with the AVX512-BF16 or AMX
        instructions (Intel Xeon from Cooper Lake, AMD EPYC and Ryzen from
        Zen 4), where a training step of a wide network takes about a third
        of float32's time. Ignored
        elsewhere, where bfloat16 would be emulated and slower than float32.
        ``"auto"``: only networks whose forward pass over a batch takes at
        least 40 million multiply-adds; smaller ones spend their time
        outside the matrix products and run faster in float32 (the
        detector's default network for 78 features, batches of 32: 1.6
        times as long in bfloat16). ``True``: whatever the network's size.
        Decided when ``fit`` builds the network and kept with the model,
        also when saved and loaded (``set_params`` after fitting takes
        effect at the next ``fit``); computations in float64 (exact scores)
        are not affected.%(mixed_precision_note)s

    n_jobs : int, default=None
        The most torch threads for this estimator's training and inference,
        set around its own work and restored afterwards; NumPy's BLAS
        threads for its own array work outside torch (the imputer's linear
        models, correlations and draws) get the same count. Within that limit
        the count is size-aware: one thread for networks whose batches are
        too small to gain from more (the tables skae is made for), one more
        per billion multiply-adds of a batch. ``None`` allows torch's
        current setting (so ``torch.set_num_threads``, ``threadpoolctl``
        limits and joblib's workers cap it), ``-1`` all cores, ``-2`` all
        but one. More threads than the size calls for were many times
        slower on cores that other programs keep busy (new users'
        ``n_jobs=2`` fits: 6-85x), so ``n_jobs`` never forces them; a
        different thread count sums in a different order, so results
        differ in the last digits (and, through training, beyond). See the
        "Threads" section of the scaling guide.

    verbose : int, default=%(verbose_default)s
        ``1`` prints one line per epoch (losses, duration, best so far,
        coloured on a terminal only: no colour codes in files and pipes);
        ``2`` adds a progress bar over each epoch's batches (skorch's
        ``ProgressBar``), for long epochs. The record is kept in
        ``history_`` whatever the verbosity.

    callbacks : list of (name, skorch.callbacks.Callback) or "disable", \
default=None
        Extra skorch callbacks (``LRScheduler``, ``Checkpoint``,
        ``ProgressBar``, ...), run after the built-in ones.

    **kwargs : dict
        skorch's routed parameters: ``module__<name>``,
        ``optimizer__<name>``, ``callbacks__<name>__<param>``,
        ``iterator_train__shuffle``. Batches are sliced from tensors
        already on the device, without a torch ``DataLoader``: other
        ``iterator_*`` settings, and ``criterion__*``, are refused."""

_NETWORK_ATTRIBUTES = """\
module_ : torch.nn.Module
        The trained network (``net_.module_``).

    net_ : skorch.NeuralNet
        The private skorch net that trained ``module_``: its callbacks
        (``net_.callbacks_``), optimizer (``net_.optimizer_``) and criterion.
        Rebuilt from the parameters by every ``fit``; not meant to be
        trained directly.

    encoder_ : TableEncoder
        The encoding learned in ``fit``: numeric columns scaled with
        ``scaler_``, categorical columns one-hot, and back.

    scaler_ : sklearn transformer
        Feature scaling learned in ``fit``; the network sees scaled data.

    history_ : skorch.history.History
        Per-epoch record of training (``train_loss``, ``valid_loss``,
        ``dur``, ...). ``history_[:, "train_loss"]`` gives one column;
        :func:`skae.history_frame` gives a DataFrame.

    device_ : torch.device
        The device the network lives on.

    n_features_in_ : int
        Number of features seen during fit.

    is_categorical_ : ndarray of shape (`n_features_in_`,), dtype=bool
        Which input columns are categorical (see ``categorical_features``).

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit. Defined only when `X` has feature
        names that are all strings."""

DOCS = {
    "network_parameters": _NETWORK_PARAMETERS,
    "training_parameters": _TRAINING_PARAMETERS,
    "network_attributes": _NETWORK_ATTRIBUTES,
}


#: The ``handle_unknown`` entry of the mixed-table parameters; a class may
#: give its own (``_handle_unknown_doc``) or say what "missing" does
#: (``_unknown_category_effect``).
_HANDLE_UNKNOWN = """\
handle_unknown : {"missing", "error"}, default=%(default)s
        A category not seen in ``fit``: treat the entry as missing
        (%(effect)s) with a warning, or raise a ``ValueError``
        naming the column."""


def format_default(value) -> str:
    """A default as scikit-learn's docstrings write it: ``"auto"``, ``(64,)``, ``None``."""
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def fill_doc(cls):
    """Class decorator splicing the shared fragments into ``__doc__``.

    Every ``%(<parameter>_default)s`` comes from the constructor's signature;
    ``%(scaling_auto)s`` from the class's ``_default_scaling``; the imputer
    gets its own ``module`` and ``hidden_layer_sizes`` text.
    """
    values = {
        f"{name}_default": format_default(parameter.default)
        for name, parameter in inspect.signature(cls.__init__).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }
    values["scaling_auto"] = cls._default_scaling
    # The transformer's patience grows with the table ("auto").
    auto_patience = getattr(cls, "_n_iter_no_change_auto", "")
    values["n_iter_no_change_type"] = '"auto" or int' if auto_patience else "int"
    values["n_iter_no_change_auto"] = auto_patience
    # None: the detector's and the imputer's step budgets.
    budget = values.get("max_epochs_default") == "None"
    values["max_epochs_type"] = "int or None" if budget else "int"
    values["max_epochs_none"] = (
        " ``None``: a number of epochs derived\n        from the table (a step budget; see "
        "Notes)." if budget else "")
    # The imputer's fixed step budget runs to its end without early stopping.
    values["early_stopping_off"] = getattr(
        cls, "_early_stopping_off_doc",
        "When False, training stops\n        when the training loss stops improving in the same sense.")
    # What a class measured of bfloat16 (the imputer, which uses it by default).
    values["mixed_precision_note"] = getattr(cls, "_mixed_precision_note", "")
    values["handle_unknown_entry"] = getattr(cls, "_handle_unknown_doc", _HANDLE_UNKNOWN) % {
        "default": values.get("handle_unknown_default"),
        "effect": getattr(cls, "_unknown_category_effect", "its one-hot code is all zeros"),
    }
    # The imputer (the estimator that hides entries) has no bottleneck.
    module_text = _IMPUTER_MODULE if "hide_fraction_default" in values else _AUTOENCODER_MODULE
    values["module_parameters"] = module_text % values
    fragments = {key: value % values for key, value in DOCS.items()}
    cls.__doc__ = cls.__doc__ % fragments
    return cls


#: Parameter descriptions shared by functions and methods, for :func:`shared_doc`.
FRAGMENTS = {
    "corruption": """\
noise : float, default=0.0
    Corruption of the inputs during training (a denoising autoencoder):
    the network learns to reconstruct the clean rows from corrupted ones.
    See ``noise_type``.
noise_type : {"gaussian", "mask"}, default="gaussian"
    ``"gaussian"`` adds noise of standard deviation ``noise`` to the
    scaled inputs; ``"mask"`` sets each input entry to zero (its scaled
    mean) with probability ``noise``.""",
    "mlp_parameters": """\
n_features : int
    Width of the input rows.
n_components : int
    Width of the code.
hidden_layer_sizes : sequence of int, default=(256, 128)
    Widths of the encoder's hidden layers; the decoder uses them in
    reverse order.
activation : str, default="silu"
    Hidden activation, a key of :data:`ACTIVATIONS`.
dropout : float, default=0.0
    Dropout probability after each hidden activation.""",
    "fit_X_y": """\
X : {array-like, sparse matrix} of shape (n_samples, n_features)
    Training data.
y : Ignored
    Not used, present for API consistency by convention.""",
    "rows": """\
x : torch.Tensor of shape (n, n_features)
    Scaled rows.""",
    "rows_and_mask": """\
x : torch.Tensor of shape (n, n_features)
    Scaled rows (the values of entries that are not visible are ignored).
visible : torch.Tensor of shape (n, n_features)
    1 where an entry may be seen, 0 elsewhere.""",
    "window": """\
window_length : int
    Time steps per window.
step : int, default=1
    Time steps between the starts of consecutive windows.""",
}


def shared_doc(obj):
    """Decorator replacing each line ``%(name)s`` of ``obj.__doc__`` by a fragment.

    The fragment (:data:`FRAGMENTS`) takes the indentation of the line it
    replaces, so it reads the same in a function's and a method's docstring.
    """
    obj.__doc__ = re.sub(
        r"^( *)%\((\w+)\)s$",
        lambda match: textwrap.indent(FRAGMENTS[match[2]], match[1]),
        obj.__doc__,
        flags=re.MULTILINE,
    )
    return obj
