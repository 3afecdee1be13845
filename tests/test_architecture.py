"""The architecture: estimators own a skorch net, one data path, the module protocol."""

import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from skorch import NeuralNet
from torch import nn

from skae import (
    AutoencoderAnomalyDetector,
    AutoencoderImputer,
    AutoencoderTransformer,
    ConvAutoencoder,
    MLPAutoencoder,
    RecurrentAutoencoder,
)
from skae._criterion import ColumnLoss, MaskedColumnLoss
from skae._modules._protocol import AutoencoderModule, capabilities

ESTIMATORS = [AutoencoderTransformer, AutoencoderAnomalyDetector, AutoencoderImputer]
FAST = dict(max_epochs=2, random_state=0)


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).normal(size=(60, 4))


def data_for(cls, X):
    if cls is AutoencoderImputer:
        X = X.copy()
        X[::7, 1] = np.nan
    return X


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_estimators_own_a_net_and_are_not_one(cls, X):
    est = cls(**FAST).fit(data_for(cls, X))
    assert not isinstance(est, NeuralNet)
    assert isinstance(est.net_, NeuralNet)
    assert est.module_ is est.net_.module_
    assert est.history_ is est.net_.history_
    assert isinstance(est.net_.criterion_, ColumnLoss)
    assert isinstance(est.net_.criterion_, MaskedColumnLoss) == (cls is AutoencoderImputer)
    for name in ("forward", "forward_iter", "fit_loop", "train_step", "infer", "predict_proba"):
        assert not hasattr(est, name), name


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_metadata_routing(cls, X):
    """Routing works: get_metadata_routing, a Pipeline routing sample_weight, cross_validate."""
    data = data_for(cls, X)
    cls(**FAST).get_metadata_routing()
    y = np.arange(len(X), dtype=float)
    with sklearn.config_context(enable_metadata_routing=True):
        cls(**FAST).get_metadata_routing()
        if cls is not AutoencoderAnomalyDetector:
            pipe = make_pipeline(cls(**FAST),
                                 LinearRegression().set_fit_request(sample_weight=True))
            pipe.fit(data, y, sample_weight=np.ones(len(X)))
        scoring = None if hasattr(cls, "score") else (lambda est, X, y=None: 0.0)
        cross_validate(cls(**FAST), data, cv=2, scoring=scoring)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_routed_parameters_round_trip(cls):
    est = cls(module__linear_path=False, optimizer__weight_decay=1e-3)
    assert est.get_params()["module__linear_path"] is False
    est.set_params(optimizer__weight_decay=1e-2)
    assert clone(est).get_params()["optimizer__weight_decay"] == 1e-2


def test_set_params_on_a_fitted_estimator_takes_effect_in_partial_fit(X):
    est = AutoencoderTransformer(early_stopping=False, **FAST).fit(X)
    est.set_params(lr=1e-2)
    est.partial_fit(X)
    assert est.net_.optimizer_.param_groups[0]["lr"] == 1e-2


def test_convergence_warning_when_max_epochs_cuts_training():
    digits = load_digits().data[:300]
    with pytest.warns(ConvergenceWarning, match="max_epochs=3"):
        AutoencoderTransformer(max_epochs=3, random_state=0).fit(digits)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        # Early stopping that converged, and a deliberate budget without it, are silent.
        AutoencoderTransformer(max_epochs=500, n_iter_no_change=2, random_state=0).fit(digits)
        AutoencoderAnomalyDetector(max_epochs=3, random_state=0).fit(digits)


@pytest.mark.parametrize("frame", [False, True])
@pytest.mark.parametrize("cls", [AutoencoderTransformer, AutoencoderAnomalyDetector])
def test_one_nan_message_for_numeric_and_mixed_input(cls, frame, X):
    data = X.copy()
    data[3, 2] = np.nan
    if frame:
        data = pd.DataFrame(data, columns=list("abcd"))
        data["e"] = pd.Categorical(["u", "v"] * 30)
    column = "'c'" if frame else "2"
    with pytest.raises(ValueError, match=f"NaN .* in column {column};.*AutoencoderImputer"):
        cls(**FAST).fit(data)


@pytest.mark.parametrize("sizes", [(0,), (2.5,), (-1,), (4, True)])
def test_hidden_layer_sizes_must_be_positive_ints(sizes, X):
    with pytest.raises(ValueError, match="positive ints"):
        AutoencoderTransformer(hidden_layer_sizes=sizes, **FAST).fit(X)


@pytest.mark.parametrize("param, value", [("hidden_layer_sizes", (5,)), ("dropout", 0.1)])
def test_a_module_refuses_network_parameters_it_cannot_use(param, value):
    images = np.random.default_rng(0).random((20, 16))
    est = AutoencoderTransformer(module=ConvAutoencoder, module__image_shape=(4, 4),
                                 **{param: value}, **FAST)
    with pytest.raises(ValueError, match=f"{param}=.*ConvAutoencoder does not take it"):
        est.fit(images)
    instance = MLPAutoencoder(16, 2)
    with pytest.raises(ValueError, match="instance"):
        AutoencoderTransformer(module=instance, **{param: value}, **FAST).fit(images)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_routed_module_parameters_win_over_the_offered_ones(cls, X):
    # skorch's convention: module__<name> goes to the module. It used to
    # collide with the value the estimator offers (a TypeError from skorch).
    est = cls(module__hidden_layer_sizes=(7,), module__activation="tanh", **FAST).fit(X)
    # Linear layers, or the imputer's members' stacked ones.
    widths = [m.out_features for m in est.module_.modules() if hasattr(m, "out_features")]
    assert 7 in widths and any(isinstance(m, nn.Tanh) for m in est.module_.modules())
    with pytest.raises(ValueError, match=r"hidden_layer_sizes is set twice.*set one"):
        cls(hidden_layer_sizes=(5,), module__hidden_layer_sizes=(7,), **FAST).fit(X)
    with pytest.raises(ValueError, match="module__n_features cannot be set.*from the data"):
        cls(module__n_features=3, **FAST).fit(X)


class EncodeDecode(nn.Module):
    """A user's module: encode and decode, nothing else."""

    def __init__(self, n_features, n_components):
        super().__init__()
        self.enc = nn.Linear(n_features, n_components)
        self.dec = nn.Linear(n_components, n_features)

    def encode(self, x):
        return self.enc(x)

    def decode(self, z):
        return self.dec(z)


def test_module_protocol_defaults(X):
    plain = capabilities(EncodeDecode)
    assert not plain.variational and not plain.denoising and not plain.custom_forward
    assert plain.activation_width == 0 and not plain.init_from_data
    assert capabilities(ConvAutoencoder).prefers_global_scaling
    assert issubclass(RecurrentAutoencoder, AutoencoderModule)
    assert capabilities(RecurrentAutoencoder(4, 2, sequence_shape=(4, 1))).activation_width > 0
    est = AutoencoderTransformer(module=EncodeDecode, **FAST).fit(X)
    assert est.transform(X).shape == (60, 2)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_failed_refit_leaves_no_fitted_state(cls, X):
    est = cls(**FAST).fit(data_for(cls, X))
    with pytest.raises(ValueError):
        est.set_params(hidden_layer_sizes=(0,)).fit(data_for(cls, X))
    assert not [k for k in vars(est) if k.endswith("_")]


def test_imputer_fitted_state_has_trailing_underscores(X):
    est = AutoencoderImputer(**FAST).fit(data_for(AutoencoderImputer, X))
    # _routed_kwargs holds parameters (module__*, ...), not fitted state: a
    # refit or a failed fit keeps it (test_failed_refit_leaves_no_fitted_state).
    private = [k for k in vars(est) if k.startswith("_") and not k.endswith("_")]
    assert private == ["_routed_kwargs"], private


# ----------------------------------------------------------------------
# A skorch and PyTorch user's habits (a new user's trial 53)
# ----------------------------------------------------------------------
class _TanhAutoencoder(nn.Module):
    """A plain autoencoder module from outside skae (encode and decode)."""

    def __init__(self, n_features, n_components, width=8):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(n_features, width), nn.Tanh(),
                                 nn.Linear(width, n_components))
        self.dec = nn.Sequential(nn.Linear(n_components, width), nn.Tanh(),
                                 nn.Linear(width, n_features))

    def encode(self, x):
        return self.enc(x)

    def decode(self, z):
        return self.dec(z)


class _RowPenalty(_TanhAutoencoder):
    def forward(self, x):
        return self.decode(self.encode(x)), x.sum(dim=1)  # one penalty per row


class _NarrowDecode(_TanhAutoencoder):
    def decode(self, z):
        return self.dec(z)[:, :2]


@pytest.mark.parametrize("module, match", [
    (_TanhAutoencoder(4, 3), r"encode gave codes of shape \(\d+, 3\) .* n_components=1"),
    (_TanhAutoencoder(10, 1), "The module _TanhAutoencoder failed on a batch .* mat1 and mat2"),
    (_RowPenalty, r"returned a penalty of shape \(\d+,\); .* must be a scalar"),
    (_NarrowDecode, r"returned rows of shape \(\d+, 2\) for a batch of shape \(\d+, 4\)"),
])
def test_a_custom_module_of_the_wrong_shape_is_named_before_training(module, match, X):
    est = AutoencoderTransformer(n_components=1, **FAST)
    with pytest.raises(ValueError, match=match):
        est.set_params(module=module).fit(X)
    assert not hasattr(est, "net_")
    # The right shapes fit, as a class and as an instance.
    AutoencoderTransformer(n_components=1, module=_TanhAutoencoder, **FAST).fit(X)
    AutoencoderTransformer(n_components=1, module=_TanhAutoencoder(4, 1), **FAST).fit(X)


def test_module_parameters_are_refused_with_a_module_instance(X):
    est = AutoencoderTransformer(n_components=1, module=_TanhAutoencoder(4, 1),
                                 module__width=3, **FAST)
    with pytest.raises(ValueError, match="module__width cannot be used with a module instance"):
        est.fit(X)


def test_an_argument_the_estimator_does_not_give_is_named(X):
    class Needs(_TanhAutoencoder):
        def __init__(self, n_features, n_components, depth):
            super().__init__(n_features, n_components)

    with pytest.raises(ValueError, match=r"Needs could not be built .* 'depth'.*module__<name>"):
        AutoencoderTransformer(n_components=1, module=Needs, **FAST).fit(X)
    AutoencoderTransformer(n_components=1, module=Needs, module__depth=2, **FAST).fit(X)


def test_the_imputer_refuses_an_encode_decode_module_by_its_protocol(X):
    with pytest.raises(ValueError, match=r"defines no forward\(x, visible\)"):
        AutoencoderImputer(module=_TanhAutoencoder, **FAST).fit(data_for(AutoencoderImputer, X))


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("key, value, match", [
    ("iterator_train__drop_last", True, "iterator_train__drop_last is not supported"),
    ("iterator_valid__num_workers", 2, "take only 'shuffle'"),
    ("criterion__reduction", "sum", "criterion__reduction is not supported"),
    ("warm_start", True, "To continue training a fitted estimator, call partial_fit"),
])
def test_routed_settings_skae_cannot_honour_are_refused(cls, key, value, match, X):
    with pytest.raises(ValueError, match=match):
        cls(**FAST, **{key: value}).fit(data_for(cls, X))


def test_iterator_shuffle_is_still_routed():
    X = load_digits().data[:300]
    params = dict(n_components=2, batch_size=32, early_stopping=False, **FAST)
    a = AutoencoderTransformer(iterator_train__shuffle=False, **params).fit(X)
    b = AutoencoderTransformer(**params).fit(X)
    assert a.history_[:, "train_loss"] != b.history_[:, "train_loss"]


def test_a_stateful_callback_survives_the_small_table_cross_fit():
    """skorch reads a callback's attributes as its parameters: such a callback cannot be cloned."""
    from skorch.callbacks import Callback

    class Log(Callback):
        def __init__(self):
            self.seen = []

        def on_epoch_end(self, net, **kwargs):
            self.seen.append(len(net.history))

    X = load_digits().data[:300]
    log = Log()
    est = AutoencoderTransformer(n_components=2, max_epochs=4, random_state=0,
                                 callbacks=[log]).fit(X)
    assert log.seen == [1, 2, 3, 4]  # the user's fit only, not the folds'
    assert est._cross_fits(X)


@pytest.mark.parametrize("params", [{"callbacks__early_stopping": None}, {"callbacks": "disable"}])
def test_turning_early_stopping_off_keeps_the_small_table_cross_fit_working(params):
    X = load_digits().data[:300]
    est = AutoencoderTransformer(n_components=2, max_epochs=4, random_state=0, **params).fit(X)
    assert len(est.history_) == 4 and est._cross_fits(X)


def test_partial_fit_continues_a_learning_rate_schedule(X):
    from skorch.callbacks import LRScheduler
    from torch.optim.lr_scheduler import StepLR

    schedule = LRScheduler(StepLR, step_size=1, gamma=0.5, event_name="event_lr")
    est = AutoencoderTransformer(n_components=1, max_epochs=3, random_state=0,
                                 callbacks=[schedule]).fit(X)
    est.partial_fit(X)
    rates = [row["event_lr"] for row in est.history_]
    assert all(later < earlier for earlier, later in zip(rates, rates[1:])), rates
    # A new lr set by the user is taken up by the next call.
    est.set_params(lr=1e-2).partial_fit(X)
    assert est.history_[-3]["event_lr"] > rates[-1]


def test_the_default_network_exports_and_matches_transform():
    import torch

    X = load_digits().data[:200]
    est = AutoencoderTransformer(n_components=3, transform_max_iter=0, max_epochs=3,
                                 random_state=0).fit(X)
    rows = torch.as_tensor(est.encoder_.encode(X)[0])

    class Encode(nn.Module):
        def __init__(self, module):
            super().__init__()
            self.module = module

        def forward(self, x):
            return self.module.encode(x)

    program = torch.export.export(Encode(est.module_), (rows,),
                                  dynamic_shapes={"x": {0: torch.export.Dim("rows")}})
    codes = program.module()(rows[:17]).detach().numpy()
    np.testing.assert_allclose(codes, est.transform(X[:17]), atol=1e-4)
