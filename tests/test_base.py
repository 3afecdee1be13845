"""The shared training base, through all three estimators."""

import pickle
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from sklearn.datasets import load_wine
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback, EarlyStopping

import skae._net
from skae import (
    AutoencoderAnomalyDetector,
    AutoencoderImputer,
    AutoencoderTransformer,
    TrainingDivergedError,
)
from skae._data import BatchIterator, TensorDataset
from skae._net import native_bfloat16

FAST = dict(max_epochs=4, random_state=0)


@pytest.fixture(scope="module")
def X():
    return load_wine().data


def make(cls, **params):
    return cls(**{**FAST, **params})


def output(estimator, X):
    if isinstance(estimator, AutoencoderAnomalyDetector):
        return estimator.score_samples(X)
    return estimator.transform(X)


def with_gaps(X):
    return np.where(np.random.default_rng(0).random(X.shape) < 0.1, np.nan, X)


ESTIMATORS = [AutoencoderTransformer, AutoencoderAnomalyDetector, AutoencoderImputer]


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_threaded_fits_equal_sequential_fits(cls, X):
    data = with_gaps(X) if cls is AutoencoderImputer else X
    sequential = [output(make(cls, random_state=s).fit(data), data) for s in range(3)]
    with ThreadPoolExecutor(3) as pool:
        threaded = list(
            pool.map(lambda s: output(make(cls, random_state=s).fit(data), data), range(3))
        )
    for a, b in zip(sequential, threaded):
        np.testing.assert_array_equal(a, b)


def test_parallel_grid_search_equals_sequential(X):
    grid = {"n_components": [1, 3], "lr": [1e-3, 3e-3]}
    searches = [
        GridSearchCV(make(AutoencoderTransformer), grid, cv=2, n_jobs=n_jobs).fit(X)
        for n_jobs in (1, 2)
    ]
    assert searches[0].best_params_ == searches[1].best_params_
    np.testing.assert_allclose(
        searches[0].cv_results_["mean_test_score"],
        searches[1].cv_results_["mean_test_score"],
        rtol=1e-6,
    )


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_torch_thread_settings_are_respected(cls, X):
    data = with_gaps(X) if cls is AutoencoderImputer else X
    before = torch.get_num_threads()
    make(cls).fit(data)
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_partial_fit_continues(cls, X):
    data = with_gaps(X) if cls is AutoencoderImputer else X
    est = make(cls, max_epochs=2, early_stopping=False)
    est.partial_fit(data[:90])
    est.partial_fit(data[90:])
    assert len(est.history_) == 4
    assert np.isfinite(output(est, data)).all()


def test_fused_optimizer_by_default_and_user_choices(X):
    est = make(AutoencoderTransformer).fit(X)
    assert est.net_.optimizer_.defaults.get("fused") in (True, None)  # None: no fused kernel here
    est = make(AutoencoderTransformer, optimizer__foreach=True).fit(X)
    assert est.net_.optimizer_.defaults["foreach"] is True and not est.net_.optimizer_.defaults.get("fused")
    est = make(AutoencoderTransformer, optimizer=torch.optim.SGD, optimizer__momentum=0.9).fit(X)
    assert isinstance(est.net_.optimizer_, torch.optim.SGD)
    assert est.net_.optimizer_.defaults["momentum"] == 0.9


def test_mixed_precision_is_ignored_without_native_bfloat16(X, monkeypatch):
    monkeypatch.setattr(skae._net, "native_bfloat16", lambda device: False)
    a = make(AutoencoderTransformer, device="cpu").fit_transform(X)
    b = make(AutoencoderTransformer, device="cpu", mixed_precision=True).fit_transform(X)
    np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(not native_bfloat16(torch.device("cpu")),
                    reason="this CPU has no native bfloat16 (AVX512-BF16 or AMX)")
def test_mixed_precision_on_a_cpu_with_native_bfloat16(X):
    a = make(AutoencoderTransformer, device="cpu", random_state=0).fit(X)
    b = make(AutoencoderTransformer, device="cpu", random_state=0, mixed_precision=True).fit(X)
    assert isinstance(b.net_.autocast(), torch.autocast)
    assert not isinstance(a.net_.autocast(), torch.autocast)
    codes_a, codes_b = a.transform(X), b.transform(X)
    # bfloat16 products ran (the codes differ), the input's dtype came back, and the
    # fit is as reproducible as float32's.
    assert codes_b.dtype == codes_a.dtype == X.dtype
    assert not np.array_equal(codes_a, codes_b)
    again = make(AutoencoderTransformer, device="cpu", random_state=0, mixed_precision=True)
    np.testing.assert_array_equal(again.fit_transform(X), codes_b)


def test_mixed_precision_auto_follows_the_network_size_and_stays_with_the_model():
    native = native_bfloat16(torch.device("cpu"))
    rng = np.random.default_rng(0)
    wide = rng.normal(size=(600, 40))
    wide[rng.random(wide.shape) < 0.2] = np.nan
    narrow = wide[:, :4]
    # The imputer's network for 40 columns: about 500 million multiply-adds
    # a batch; for 4 columns (one network of 600 rows, not two) under 40 million.
    big = AutoencoderImputer(max_epochs=2, random_state=0, device="cpu").fit(wide)
    small = AutoencoderImputer(max_epochs=2, random_state=0, device="cpu").fit(narrow)
    assert big.mixed_precision == "auto" and big.net_.bfloat16_ is native
    assert small.net_.bfloat16_ is False
    forced = AutoencoderImputer(max_epochs=2, random_state=0, device="cpu",
                                mixed_precision=True).fit(narrow)
    assert forced.net_.bfloat16_ is native
    # set_params after fit changes nothing until the next fit, saved and
    # loaded included.
    before = big.transform(wide)
    big.set_params(mixed_precision=False)
    np.testing.assert_array_equal(big.transform(wide), before)
    loaded = pickle.loads(pickle.dumps(big))
    assert loaded.net_.bfloat16_ is native
    np.testing.assert_array_equal(loaded.transform(wide), before)
    assert big.fit(wide).net_.bfloat16_ is False


class CountEpochs(Callback):
    def initialize(self):
        self.epochs_ = 0
        return self

    def on_epoch_end(self, net, **kwargs):
        self.epochs_ += 1


class InterruptAfter(Callback):
    def __init__(self, epochs=2):
        self.epochs = epochs

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epochs:
            raise KeyboardInterrupt


def test_user_callbacks_run(X):
    est = make(AutoencoderTransformer, callbacks=[("count", CountEpochs())]).fit(X)
    assert dict(est.net_.callbacks_)["count"].epochs_ == len(est.history_) == 4


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_interrupted_fit_is_usable_from_its_last_epoch(cls, X):
    data = with_gaps(X) if cls is AutoencoderImputer else X
    est = make(cls, max_epochs=50, early_stopping=False, callbacks=[("stop", InterruptAfter(2))])
    # scikit-learn's MLP warns in the same case; skorch alone was silent (trial 60).
    with pytest.warns(UserWarning, match=r"Training interrupted by user .* after 2 epoch"):
        est.fit(data)
    assert len(est.history_) == 2
    assert np.isfinite(output(est, data)).all()


def test_early_stopping_is_no_interruption(X):
    # skorch's EarlyStopping stops with a KeyboardInterrupt too: no warning for it.
    stop = EarlyStopping(monitor="train_loss", patience=2, threshold=10.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = make(AutoencoderTransformer, max_epochs=50, callbacks=[("stop", stop)]).fit(X)
    assert len(est.history_) < 50


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_divergence_raises_and_leaves_the_estimator_unfitted(cls, X):
    data = with_gaps(X) if cls is AutoencoderImputer else X
    est = make(cls, lr=1e12, max_epochs=20, early_stopping=False, optimizer="sgd")
    with pytest.raises(TrainingDivergedError, match="Lower lr"):
        est.fit(data)
    with pytest.raises(Exception, match="not fitted"):
        output(est, data)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_verbose_and_device(cls, X, capsys):
    data = with_gaps(X) if cls is AutoencoderImputer else X
    est = make(cls, verbose=1).fit(data)
    out = capsys.readouterr().out
    # Not a terminal (captured): no ANSI colour codes around the best values.
    assert "train_loss" in out and "\x1b[" not in out
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert est.device_.type == expected


def test_verbose_keeps_colours_on_a_terminal(X, capsys, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    make(AutoencoderTransformer, verbose=1, max_epochs=2).fit(X)
    assert "\x1b[" in capsys.readouterr().out


def test_verbose_two_adds_a_progress_bar(X, capsys):
    est = make(AutoencoderTransformer, verbose=2, max_epochs=2).fit(X)
    assert "progress_bar" in dict(est.net_.callbacks_)
    assert "it/s" in capsys.readouterr().err  # tqdm writes to stderr
    quiet = make(AutoencoderTransformer, verbose=0, max_epochs=2).fit(X)
    assert "progress_bar" not in dict(quiet.net_.callbacks_)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("n, batch_size", [(513, 512), (1025, 512), (1024, 512), (2000, 32),
                                           (10, 4), (3, 8)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_no_batch_is_a_tiny_remainder(n, batch_size, shuffle):
    # 513 rows in batches of at most 512 are 257 + 256, not 512 + 1 (a
    # one-row step cost a user's table 13-20% more imputation error); a
    # remainder of a quarter of a batch or more is kept (2,000 rows in
    # batches of 32: 62 x 32 + 16).
    dataset = TensorDataset(torch.arange(n, dtype=torch.float32)[:, None])
    batches = BatchIterator(dataset, batch_size, shuffle=shuffle)
    rows = [x[:, 0].long().tolist() for x, _ in batches]
    sizes = [len(part) for part in rows]
    batch_size = min(batch_size, n)
    assert len(sizes) == len(batches) == -(-n // batch_size)
    assert max(sizes) <= batch_size and 4 * min(sizes) >= batch_size
    if n % batch_size and 4 * (n % batch_size) < batch_size:
        assert max(sizes) - min(sizes) <= 1
    else:
        assert sizes[:-1] == [batch_size] * (len(sizes) - 1)
    assert sorted(sum(rows, [])) == list(range(n))
    if not shuffle:
        assert sum(rows, []) == list(range(n))


class _BatchSizes(Callback):
    def on_train_begin(self, net, **kwargs):
        self.sizes = []

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            rows = batch[0]
            while isinstance(rows, (tuple, list)):  # the imputer's (rows, visible)
                rows = rows[0]
            self.sizes.append(len(rows))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_estimators_train_on_nearly_equal_batches(cls):
    X = np.random.default_rng(0).normal(size=(101, 4))
    if cls is AutoencoderImputer:
        X[::7, 1] = np.nan
    recorder = _BatchSizes()
    make(cls, batch_size=50, max_epochs=2, early_stopping=False, callbacks=[recorder]).fit(X)
    assert sorted(set(recorder.sizes)) == [33, 34]  # 101 rows: 34 + 34 + 33, not 50 + 50 + 1
