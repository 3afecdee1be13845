"""Sequences: recurrent family members, sliding windows and their scores.

Each recurrent test would fail if the module ignored time: the transformer
must reconstruct sine windows far better than their mean, the detector must
rank windows with an injected spike first, the imputer must fill gaps inside
windows better than the mean.
"""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skae import (
    AutoencoderAnomalyDetector,
    AutoencoderImputer,
    AutoencoderTransformer,
    RecurrentAutoencoder,
    RecurrentImputer,
    n_windows,
    sliding_windows,
    window_scores_to_steps,
)

LENGTH = 24


def _sine_series(n_steps, seed=0, channels=1):
    rng = np.random.default_rng(seed)
    t = np.arange(n_steps)
    waves = [np.sin(2 * np.pi * t / 12 + c) for c in range(channels)]
    return np.stack(waves, axis=1) + 0.05 * rng.normal(size=(n_steps, channels))


@pytest.fixture(scope="module")
def sine_windows():
    windows = sliding_windows(_sine_series(1500), LENGTH, step=3)
    return windows[:300], windows[300:]


# ----------------------------------------------------------------------
# Sliding windows
# ----------------------------------------------------------------------
def test_sliding_windows_layout_is_time_step_by_time_step():
    series = np.arange(20.0).reshape(10, 2)  # 10 steps, 2 channels
    windows = sliding_windows(series, window_length=4, step=3)
    assert windows.shape == (n_windows(10, 4, 3), 8) == (3, 8)
    np.testing.assert_array_equal(windows[1].reshape(4, 2), series[3:7])
    assert windows.flags.c_contiguous and windows.dtype == np.float64
    assert sliding_windows(series.astype(np.float32), 4).dtype == np.float32
    # NaN is kept, for the imputer.
    with_gap = np.where(np.arange(10) == 5, np.nan, np.arange(10.0))
    assert np.isnan(sliding_windows(with_gap, 3)).sum() == 3


@pytest.mark.parametrize("step", [1, 2, 5])
@pytest.mark.parametrize("how", ["mean", "max"])
def test_window_scores_round_trip_to_steps(step, how):
    n_steps, length = 23, 5
    series = np.random.default_rng(0).normal(size=(n_steps, 3))
    windows = sliding_windows(series, length, step)
    # Per-entry scores equal to the values map back to the series itself.
    back = window_scores_to_steps(windows, n_steps, length, step, how=how)
    covered = ~np.isnan(back[:, 0])
    np.testing.assert_allclose(back[covered], series[covered])
    last = (n_windows(n_steps, length, step) - 1) * step + length
    assert covered.sum() == last and np.isnan(back[last:]).all()
    # A window score reaches exactly the steps of that window.
    scores = np.zeros(len(windows))
    scores[2] = 1.0
    steps = window_scores_to_steps(scores, n_steps, length, step, how="max")
    np.testing.assert_array_equal(np.flatnonzero(steps == 1.0), np.arange(2 * step, 2 * step + length))


def test_window_scores_mean_averages_overlapping_windows():
    steps = window_scores_to_steps([0.0, 2.0, 4.0], n_steps=4, window_length=2)
    np.testing.assert_allclose(steps, [0.0, 1.0, 3.0, 4.0])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: sliding_windows(np.zeros(5), 6), "longer than the series"),
        (lambda: sliding_windows(np.zeros(5), 0), "window_length must be a positive int"),
        (lambda: sliding_windows(np.zeros(5), 2, step=1.5), "step must be a positive int"),
        (lambda: sliding_windows(np.zeros((2, 2, 2)), 1), "must be 1-D"),
        (lambda: window_scores_to_steps(np.zeros(4), 10, 3), "one row per window"),
        (lambda: window_scores_to_steps(np.zeros(8), 10, 3, how="median"), "how must be"),
        (lambda: window_scores_to_steps(np.zeros((8, 4)), 10, 3), "window_length \\* n_channels"),
    ],
)
def test_window_helpers_reject_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ----------------------------------------------------------------------
# Recurrent family members
# ----------------------------------------------------------------------
def test_recurrent_transformer_reconstructs_sine_windows(sine_windows):
    X_train, X_test = sine_windows
    ae = AutoencoderTransformer(
        n_components=4, module=RecurrentAutoencoder, module__sequence_shape=(LENGTH, 1),
        module__hidden_size=32, max_epochs=40, batch_size=64, random_state=0,
    ).fit(X_train)
    codes = ae.transform(X_test)
    assert codes.shape == (len(X_test), 4)
    reconstruction = ae.inverse_transform(codes)
    error = np.mean((reconstruction - X_test) ** 2)
    baseline = np.mean((X_test - X_train.mean(axis=0)) ** 2)
    assert error < 0.05 * baseline
    # Windows are scaled position by position, as any table.
    assert ae.scaler_.scale_.shape == (LENGTH,)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_recurrent_cells_and_channels(cell):
    series = _sine_series(200, channels=2)
    windows = sliding_windows(series, 10, step=2)
    ae = AutoencoderTransformer(
        n_components=3, module=RecurrentAutoencoder, module__sequence_shape=(None, 2),
        module__cell=cell, module__num_layers=2, max_epochs=2, random_state=0,
    ).fit(windows)
    assert ae.module_.sequence_shape == (10, 2)
    assert ae.transform(windows).shape == (len(windows), 3)
    assert ae.inverse_transform(ae.transform(windows)).shape == windows.shape


def test_recurrent_detector_ranks_spiked_windows_first(sine_windows):
    X_train, X_test = sine_windows
    X_test = X_test[:200].copy()
    rng = np.random.default_rng(1)
    anomalous = rng.choice(len(X_test), 10, replace=False)
    positions = rng.integers(0, LENGTH, size=10)
    X_test[anomalous, positions] += 1.5  # a spike within the normal range of values
    det = AutoencoderAnomalyDetector(
        module=RecurrentAutoencoder, module__sequence_shape=(LENGTH, 1),
        score_method="reconstruction", max_epochs=20, random_state=0,
    ).fit(X_train)
    labels = np.isin(np.arange(len(X_test)), anomalous)
    assert roc_auc_score(labels, -det.score_samples(X_test)) > 0.95
    # Per-time-step explanations: the spiked step stands out in its window.
    explanation = det.explain(X_test).to_numpy().reshape(len(X_test), LENGTH, 1)
    hits = explanation[anomalous, :, 0].argmax(axis=1) == positions
    assert hits.mean() >= 0.8


def _spiked_sine_windows(length, n_steps, n_spikes=8):
    series = _sine_series(n_steps)[:, 0]
    rng = np.random.default_rng(1)
    spikes = rng.choice(np.arange(length, n_steps - length), n_spikes, replace=False)
    series[spikes] += rng.choice([-1.5, 1.5], n_spikes)
    labels = np.isin(np.arange(n_steps), spikes)
    return sliding_windows(series, length, 3), sliding_windows(labels, length, 3).any(axis=1)


@pytest.mark.parametrize(
    "length, n_steps",
    [
        (LENGTH, 600),  # code as wide as the window: the 10-epoch cap
        pytest.param(40, 600, marks=pytest.mark.slow),  # the step budget (narrower code)
    ],
)
def test_recurrent_detector_defaults_find_spikes(length, n_steps):
    # Unsupervised: fit on all windows, the spiked ones included.
    X, labels = _spiked_sine_windows(length, n_steps)
    det = AutoencoderAnomalyDetector(
        module=RecurrentAutoencoder, module__sequence_shape=(length, 1), random_state=0,
    ).fit(X)
    assert roc_auc_score(labels, -det.score_samples(X)) > 0.95


def test_recurrent_imputer_fills_gaps_inside_windows(sine_windows):
    X_train, X_test = sine_windows
    X_test = X_test[:200]
    rng = np.random.default_rng(2)
    gaps = rng.random(X_test.shape) < 0.2
    X_missing = np.where(gaps, np.nan, X_test)
    imputer = AutoencoderImputer(
        module=RecurrentImputer, module__sequence_shape=(LENGTH, 1), module__hidden_size=32,
        module__num_layers=1, max_epochs=15, batch_size=32, random_state=0,
    ).fit(X_train)
    filled = imputer.transform(X_missing)
    np.testing.assert_array_equal(filled[~gaps], X_test[~gaps])
    error = np.sqrt(np.mean((filled[gaps] - X_test[gaps]) ** 2))
    mean_fill = np.broadcast_to(X_train.mean(axis=0), X_test.shape)
    baseline = np.sqrt(np.mean((mean_fill[gaps] - X_test[gaps]) ** 2))
    assert error < 0.5 * baseline


def test_recurrent_estimators_clone_and_search_on_2d_windows(sine_windows):
    X_train, _ = sine_windows
    base = AutoencoderTransformer(
        n_components=2, module=RecurrentAutoencoder, module__sequence_shape=(LENGTH, 1),
        max_epochs=1, random_state=0,
    )
    assert clone(base).get_params()["module__sequence_shape"] == (LENGTH, 1)
    pipeline = make_pipeline(FunctionTransformer(), base)
    search = GridSearchCV(pipeline, {"autoencodertransformer__module__cell": ["lstm", "gru"]},
                          cv=2).fit(X_train[:60])
    assert len(search.cv_results_["params"]) == 2


@pytest.mark.parametrize(
    "params, match",
    [
        ({}, "needs the windows' shape"),
        ({"module__sequence_shape": (10, 1)}, r"holds 10 values .* X has 24 features"),
        ({"module__sequence_shape": (None, 5)}, "not a multiple of 5"),
        ({"module__sequence_shape": (None, None)}, "not both"),
        ({"module__sequence_shape": 24}, "must be a pair"),
        ({"module__sequence_shape": (0, 24)}, "positive ints"),
        ({"module__sequence_shape": (24, 1), "module__cell": "rnn"}, "cell must be one of"),
    ],
)
def test_bad_sequence_shape_gets_a_clear_error(sine_windows, params, match):
    X_train, _ = sine_windows
    for estimator, module in [
        (AutoencoderTransformer(max_epochs=1), RecurrentAutoencoder),
        (AutoencoderImputer(max_epochs=1), RecurrentImputer),
    ]:
        with pytest.raises(ValueError, match=match):
            estimator.set_params(module=module, **params).fit(X_train[:20])


def test_recurrent_imputer_refuses_a_time_step_missing_everywhere():
    X = np.random.default_rng(0).normal(size=(20, 8))
    X[:, 3] = np.nan
    imputer = AutoencoderImputer(module=RecurrentImputer, module__sequence_shape=(4, 2),
                                 max_epochs=1)
    with pytest.raises(ValueError, match=r"\[3\] are missing in every row.*sequence_shape"):
        imputer.fit(X)
