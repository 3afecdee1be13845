"""AutoencoderImputer: IterativeImputer's contract, multiple imputation, quality."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import NotFittedError
from sklearn.impute import KNNImputer, SimpleImputer

from skae import AutoencoderImputer

FAST = dict(max_epochs=20, random_state=0)


def hide(X, p, seed=1):
    mask = np.random.default_rng(seed).random(X.shape) < p
    return np.where(mask, np.nan, X), mask


def scaled_rmse(X, X_imputed, mask):
    span = X.max(axis=0) - X.min(axis=0)
    return float(np.sqrt(np.mean((((X_imputed - X) / span)[mask]) ** 2)))


@pytest.fixture(scope="module")
def cancer():
    X = load_breast_cancer().data
    X_missing, mask = hide(X, 0.2)
    return X, X_missing, mask


@pytest.fixture(scope="module")
def fitted(cancer):
    _, X_missing, _ = cancer
    return AutoencoderImputer(random_state=0).fit(X_missing)


def test_beats_knn_and_mean_imputation(cancer, fitted):
    X, X_missing, mask = cancer
    ours = scaled_rmse(X, fitted.transform(X_missing), mask)
    knn = scaled_rmse(X, KNNImputer().fit_transform(X_missing), mask)
    mean = scaled_rmse(X, SimpleImputer().fit_transform(X_missing), mask)
    assert ours < 0.75 * knn and ours < 0.5 * mean


def test_observed_entries_unchanged_and_input_untouched(cancer, fitted):
    _, X_missing, mask = cancer
    before = X_missing.copy()
    out = fitted.transform(X_missing)
    np.testing.assert_array_equal(out[~mask], X_missing[~mask])
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(X_missing, before)


def test_new_rows_and_unseen_patterns(cancer, fitted):
    X, _, _ = cancer
    new = X[:20].copy()
    new[:, 0] = np.nan  # feature 0 was never missing in a whole column before
    new[0, :] = np.nan  # a row with nothing observed
    out = fitted.transform(new)
    assert np.isfinite(out).all()
    # A row with nothing observed gets the means of the observed values, as
    # SimpleImputer gives them (a new user's trial: the network's guess from
    # the mask alone was 0.1-0.4 standard deviations off each mean).
    X_missing = cancer[1]
    np.testing.assert_allclose(out[0], SimpleImputer().fit(X_missing).statistics_,
                               rtol=1e-4, atol=1e-6 * X.std(axis=0).max())
    # Its draws spread as the column does, not as a predicted entry's error.
    (drawn,) = fitted.sample_imputations(np.repeat(new[:1], 300, axis=0), n_imputations=1,
                                         random_state=0)
    ratio = drawn.std(axis=0) / np.nanstd(X_missing, axis=0)
    assert 0.8 < np.median(ratio) < 1.2 and 0.6 < ratio.min() and ratio.max() < 1.6
    # Feature 0 is predicted from the others, better than its mean.
    err_ours = np.abs(out[1:, 0] - X[1:20, 0]).mean()
    err_mean = np.abs(X[:, 0].mean() - X[1:20, 0]).mean()
    assert err_ours < 0.6 * err_mean


def test_complete_features_in_fit_can_be_missing_later():
    rng = np.random.default_rng(0)
    t = rng.normal(size=(400, 1))
    X = np.hstack([t, 2 * t, -t]) + 0.01 * rng.normal(size=(400, 3))
    X_fit = X.copy()
    X_fit[rng.random(400) < 0.3, 1] = np.nan  # only feature 1 has gaps in fit
    imp = AutoencoderImputer(**FAST).fit(X_fit)
    X_new = X[:50].copy()
    X_new[:, 0] = np.nan
    out = imp.transform(X_new)
    assert np.abs(out[:, 0] - X[:50, 0]).mean() < 0.3 * np.abs(X[:50, 0]).mean()


def test_all_missing_feature_follows_sklearn():
    X = np.random.default_rng(0).normal(size=(60, 3))
    X[:, 1] = np.nan
    X[::7, 0] = np.nan
    # Said as scikit-learn's imputers say it (a new user's trial: silent).
    with pytest.warns(UserWarning, match=r"Skipping features without any observed "
                                         r"values: \[1\]\. They are dropped"):
        dropped = AutoencoderImputer(**FAST).fit(X)
    assert dropped.transform(X).shape == (60, 2)
    assert list(dropped.get_feature_names_out()) == ["x0", "x2"]
    kept = AutoencoderImputer(keep_empty_features=True, **FAST).fit(X)
    out = kept.transform(X)
    assert out.shape == (60, 3)
    np.testing.assert_array_equal(out[:, 1], 0.0)
    # Values the feature has in later rows are kept, only its gaps are 0, as
    # SimpleImputer and IterativeImputer do (a new user's trial: a fold's
    # observed ages came back as 0).
    new = X[:4].copy()
    new[:2, 1] = [5.0, -2.0]
    before = new.copy()
    reference = SimpleImputer(keep_empty_features=True).fit(X).transform(new)
    np.testing.assert_array_equal(kept.transform(new)[:, 1], reference[:, 1])
    np.testing.assert_array_equal(kept.transform(new)[:, 1], [5.0, -2.0, 0.0, 0.0])
    np.testing.assert_array_equal(new, before)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    kept = AutoencoderImputer(keep_empty_features=True, **FAST).set_output(transform="pandas")
    out = kept.fit(frame).transform(pd.DataFrame(new, columns=["a", "b", "c"]))
    assert out["b"].tolist() == [5.0, -2.0, 0.0, 0.0]
    assert list(out.columns) == ["a", "b", "c"]


def test_add_indicator():
    X = np.random.default_rng(0).normal(size=(80, 3))
    X[::5, 2] = np.nan
    imp = AutoencoderImputer(add_indicator=True, **FAST).fit(X)
    out = imp.transform(X)
    assert out.shape == (80, 4)
    np.testing.assert_array_equal(out[:, 3], np.isnan(X[:, 2]))
    assert list(imp.get_feature_names_out()) == ["x0", "x1", "x2", "missingindicator_x2"]


def test_placeholder_missing_values():
    X = np.random.default_rng(0).integers(1, 9, size=(100, 3)).astype(float)
    X[::4, 1] = -1
    imp = AutoencoderImputer(missing_values=-1, **FAST)
    out = imp.fit_transform(X)
    assert not np.any(out == -1) and np.isfinite(out).all()
    np.testing.assert_array_equal(out[X != -1], X[X != -1])


def test_min_max_clip_only_imputed_values(cancer, fitted):
    _, X_missing, mask = cancer
    hi = np.nanmin(X_missing, axis=0) + 0.01
    imp = AutoencoderImputer(max_value=hi, **FAST).fit(X_missing)
    out = imp.transform(X_missing)
    assert np.all(out[mask] <= np.broadcast_to(hi, out.shape)[mask] + 1e-9)
    np.testing.assert_array_equal(out[~mask], X_missing[~mask])
    with pytest.raises(ValueError, match="min_value must be at most max_value"):
        AutoencoderImputer(min_value=1.0, max_value=0.0, **FAST).fit(X_missing)
    with pytest.raises(ValueError, match="max_value should be a scalar or an array"):
        AutoencoderImputer(max_value=[1.0, 2.0], **FAST).fit(X_missing)


def test_pandas_nullable_in_and_out():
    frame = pd.DataFrame(
        {
            "a": pd.array([1, 2, None, 4, 5, 6, 7, 8] * 10, dtype="Int64"),
            "b": pd.array([1.5, None, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5] * 10, dtype="Float64"),
            "c": np.arange(80, dtype=float),
        }
    )
    imp = AutoencoderImputer(**FAST).set_output(transform="pandas")
    out = imp.fit_transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["a", "b", "c"]
    assert not out.isna().any().any()
    assert out.loc[1, "a"] == 2 and out.loc[0, "b"] == 1.5


def test_multiple_imputation_has_spread_only_where_missing(cancer, fitted):
    X, X_missing, mask = cancer
    draws = np.stack(fitted.sample_imputations(X_missing, n_imputations=20, random_state=0))
    assert draws.shape == (20, *X.shape)
    assert np.all(np.ptp(draws, axis=0)[~mask] == 0)
    spread = draws.std(axis=0)
    # Every gap varies, but where all draws fall below (above) the column's
    # observed range and are clipped to its end: the concavity of a smooth
    # tumour is zero in every draw.
    low, high = np.nanmin(X_missing, axis=0), np.nanmax(X_missing, axis=0)
    at_end = np.all((draws == low) | (draws == high), axis=0)
    assert np.all(((spread > 0) | at_end)[mask])
    assert 0 < at_end[mask].mean() < 0.01
    # Features the network predicts worse get more spread.
    errors = np.abs(fitted.transform(X_missing) - X)
    relative_error = np.array([errors[mask[:, j], j].mean() for j in range(X.shape[1])]) / X.std(0)
    relative_spread = np.array([spread[mask[:, j], j].mean() for j in range(X.shape[1])]) / X.std(0)
    assert np.corrcoef(relative_error, relative_spread)[0, 1] > 0.5
    # The 90% range of the draws covers the truth for most hidden entries.
    lo, hi = np.quantile(draws, [0.05, 0.95], axis=0)
    coverage = np.mean((X[mask] >= lo[mask]) & (X[mask] <= hi[mask]))
    assert 0.7 < coverage < 0.99
    again = np.stack(fitted.sample_imputations(X_missing, n_imputations=20, random_state=0))
    np.testing.assert_array_equal(draws, again)


def test_multiple_imputation_pandas_output(cancer):
    _, X_missing, _ = cancer
    frame = pd.DataFrame(X_missing[:, :5], columns=list("abcde"))
    imp = AutoencoderImputer(**FAST).set_output(transform="pandas").fit(frame)
    draws = imp.sample_imputations(frame, n_imputations=3, random_state=0)
    assert len(draws) == 3 and all(isinstance(d, pd.DataFrame) for d in draws)
    with pytest.raises(ValueError, match="n_imputations"):
        imp.sample_imputations(frame, n_imputations=0)


def test_same_seed_same_imputation(cancer):
    _, X_missing, _ = cancer
    a = AutoencoderImputer(**FAST).fit_transform(X_missing)
    b = AutoencoderImputer(**FAST).fit_transform(X_missing)
    np.testing.assert_array_equal(a, b)


def test_bad_input(cancer, fitted):
    _, X_missing, _ = cancer
    with pytest.raises(ValueError, match="infinity"):
        AutoencoderImputer().fit(np.array([[1.0, np.inf], [2.0, 3.0]]))
    with pytest.raises(ValueError, match="could not convert|string"):
        AutoencoderImputer().fit(np.array([["a", "b"], ["c", "d"]], dtype=object))
    with pytest.raises(ValueError, match="expecting 30 features"):
        fitted.transform(X_missing[:, :4])
    with pytest.raises(NotFittedError):
        AutoencoderImputer().transform(X_missing)
    with pytest.raises(ValueError, match="Every feature of X is missing"):
        AutoencoderImputer().fit(np.full((5, 2), np.nan))
    with pytest.raises(ValueError, match="hide_fraction"):
        AutoencoderImputer(hide_fraction=1.0).fit(X_missing)


def test_beats_knn_and_iterative_on_letter(shared_data):
    # GAIN's protocol on 2,000 rows of letter at 20% MCAR.
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer

    X = np.loadtxt(shared_data / "gain" / "letter.csv", delimiter=",", skiprows=1)
    X = X[np.random.default_rng(0).choice(len(X), 2000, replace=False)]
    X_missing, mask = hide(X, 0.2)
    ours = scaled_rmse(X, AutoencoderImputer(random_state=0).fit_transform(X_missing), mask)
    knn = scaled_rmse(X, KNNImputer().fit_transform(X_missing), mask)
    iterative = scaled_rmse(
        X, IterativeImputer(max_iter=10, random_state=0).fit_transform(X_missing), mask
    )
    assert ours < min(knn, iterative)


def test_budget_grows_with_the_table():
    from skae._imputer_budget import hidden_sizes, training_epochs, training_steps

    # More features: more steps and wider layers, within their bounds.
    assert training_steps(3) < training_steps(10) < training_steps(20) == training_steps(500)
    assert hidden_sizes(4) == (64, 64, 64) and hidden_sizes(100) == (256, 256, 256)
    assert hidden_sizes(10)[0] < hidden_sizes(20)[0]
    # Tiny narrow tables stop at 500 epochs; huge ones see every row 10 times,
    # so that time grows linearly in rows.
    assert training_epochs(200, 1, 512) == 500
    assert training_epochs(10_000_000, 10, 512) == 10
    # In between, the steps grow as the square root of the rows beyond 5,000
    # (twice them at 20,000 rows), and the epochs give about that many.
    assert training_steps(10, 20_000) == 2 * training_steps(10, 5_000) == 2 * training_steps(10)
    for n in (20_000, 100_000):
        steps = training_epochs(n, 10, 512) * -(-n // 512)
        assert training_steps(10, n) <= steps < training_steps(10, n) + -(-n // 512)
    assert training_epochs(20_000, 10, 512) < training_epochs(5_000, 10, 512)


def test_budget_shrinks_with_the_missing_rate():
    import scipy.sparse as sp

    from skae._imputer import _missing_rate
    from skae._imputer_budget import training_epochs, training_steps

    # Up to 20% of the entries missing, the whole budget; beyond, in
    # proportion to the entries observed (0.5 / 0.8 of it at 50%), but never
    # under the share at 70% (0.3 / 0.8).
    assert training_steps(10, 0, 0.05) == training_steps(10, 0, 0.2) == training_steps(10)
    assert training_steps(10, 0, 0.5) == int(training_steps(10) * 0.625)
    assert training_steps(10, 0, 0.9) == training_steps(10, 0, 0.7) == int(training_steps(10) * 0.375)
    # The share applies in full up to 5,000 rows and fades out by 20,000.
    assert training_steps(10, 5_000, 0.5) == int(training_steps(10) * 0.625)
    assert training_steps(10, 5_000, 0.5) < training_steps(10, 10_000, 0.5) / 2 ** 0.5
    assert training_steps(10, 10_000, 0.5) < training_steps(10, 10_000)
    assert training_steps(10, 20_000, 0.5) == training_steps(10, 20_000) == 2 * training_steps(10)
    assert training_epochs(5_000, 10, 512, 0.5) < training_epochs(5_000, 10, 512)
    # The fit reads the rate off the data: the columns that hold any value,
    # each missing half the time, give the epochs of a 50% table.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3_000, 4))
    X[rng.random(X.shape) < 0.5] = np.nan
    X = np.column_stack([X, np.full(3_000, np.nan)])  # dropped, not counted
    with pytest.warns(UserWarning, match="without any observed values"):
        imp = AutoencoderImputer(random_state=0).fit(X)
    rate = np.isnan(X[:, :4]).mean()
    assert len(imp.history_) == training_epochs(3_000, 5, 512, rate)
    assert len(imp.history_) < 0.7 * training_epochs(3_000, 5, 512)
    # A sparse table's unstored entries count as missing, as the same
    # table's NaN held densely do.
    S = sp.random(200, 6, density=0.3, format="csr", random_state=0)
    dense = np.where(S.toarray() == 0, np.nan, S.toarray())
    assert _missing_rate(S) == _missing_rate(dense) == pytest.approx(0.7)


def test_budget_is_shorter_for_short_wide_tables():
    from skae._imputer_budget import SHORT_TABLE_DIVISOR, training_epochs

    # Few rows per feature: at most (rows per feature)^2 / 7 epochs, never
    # under 100 epochs nor min(500, 25 per feature) steps on that account
    # (digits, 1,797 x 64, four steps an epoch: 125 epochs instead of 500).
    assert int((3000 / 64) ** 2 / SHORT_TABLE_DIVISOR) == training_epochs(3000, 64, 512) < 500
    assert training_epochs(1797, 64, 512) == 125 < training_epochs(1797, 16, 512) == 500
    assert training_epochs(1797, 64, 512) < training_epochs(3000, 64, 512)
    assert training_epochs(5000, 250, 512) == 100
    # A table shorter than a batch takes one step an epoch: 500 epochs, so
    # that wide ones (Ionosphere, 351 x 32) get 500 steps, not 100.
    assert training_epochs(351, 32, 512) == training_epochs(300, 60, 512) == 500
    assert training_epochs(800, 36, 512) == 250
    # Narrow short tables keep the cap: 25 steps per feature is below it.
    assert training_epochs(442, 10, 512) == int((442 / 10) ** 2 / SHORT_TABLE_DIVISOR)
    assert training_epochs(506, 14, 512) == 25 * 14
    # Tables with many rows per feature keep the step budget (fault, cardio, letter).
    assert training_epochs(1941, 27, 512) == training_epochs(1831, 21, 512) == 500
    assert training_epochs(5000, 16, 512) == -(-3200 // 10)


def test_bins_follow_the_quantiles_and_ties():
    import torch

    from skae._modules import DenoisingImputerMLP

    rng = np.random.default_rng(0)
    x = torch.tensor(np.c_[rng.exponential(size=500), rng.integers(0, 2, 500)], dtype=torch.float32)
    observed = torch.ones_like(x)
    observed[:100, 0] = 0  # gaps do not count
    module = DenoisingImputerMLP(2, (8,), n_bins=4)
    module.init_from_data(x, observed)
    expected = np.quantile(x[100:, 0].numpy(), np.linspace(0, 1, 5))
    np.testing.assert_allclose(module.edges[0].numpy(), expected, rtol=1e-5)
    # A 0/1 feature repeats its quantiles: the edges are spread apart, and a
    # value on a tied edge gets the same code after rounding noise.
    assert torch.all(torch.diff(module.edges[1]) > 0)
    visible = torch.ones(2, 2)
    codes = module._bins(torch.tensor([[1.0, 1.0], [1.0, 1.0 + 1e-7]]), visible)
    torch.testing.assert_close(codes[0], codes[1], atol=1e-4, rtol=0)
    assert module(x[:5], observed[:5]).shape == (5, 2)
    with pytest.raises(ValueError, match="n_bins"):
        DenoisingImputerMLP(2, n_bins=-1)


def test_weight_average_imputes_with_averaged_weights(cancer):
    X, X_missing, mask = cancer
    X, X_missing, mask = X[:200], X_missing[:200], mask[:200]
    params = dict(max_epochs=30, random_state=0)
    averaged = AutoencoderImputer(**params).fit(X_missing)
    # The same training without the average: its last weights.
    last = AutoencoderImputer(**params, callbacks__weight_average=None).fit(X_missing)
    assert "weight_average" in dict(averaged.net_.callbacks_)
    assert "lr_schedule" not in dict(averaged.net_.callbacks_)
    pairs = zip(averaged.module_.parameters(), last.module_.parameters())
    assert any(not np.allclose(a.detach(), b.detach()) for a, b in pairs)
    out = averaged.transform(X_missing)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[~mask], X_missing[~mask])
    again = AutoencoderImputer(**params).fit(X_missing).transform(X_missing)
    np.testing.assert_array_equal(out, again)
    # Each partial_fit call averages anew.
    assert np.isfinite(averaged.partial_fit(X_missing).transform(X_missing)).all()


def test_averaging_auto_only_for_one_batch_and_none_decays_the_rate(cancer):
    _, X_missing, _ = cancer
    X_missing = X_missing[:200]

    def recipe(**params):
        imp = AutoencoderImputer(max_epochs=5, random_state=0, **params).fit(X_missing)
        callbacks = dict(imp.net_.callbacks_)
        assert ("lr_schedule" in callbacks) != ("weight_average" in callbacks)
        decayed = imp.net_.optimizer_.param_groups[0]["lr"] < imp.net_.lr
        assert decayed == ("lr_schedule" in callbacks)
        return "ema" if "weight_average" in callbacks else None

    assert recipe() == "ema"  # 200 rows: one batch of 512
    assert recipe(batch_size=200) == "ema"
    assert recipe(batch_size=199) is None  # two batches
    assert recipe(batch_size=199, averaging="ema") == "ema"
    assert recipe(averaging=None) is None
    assert recipe(early_stopping=True) is None
    with pytest.raises(ValueError, match="averaging"):
        AutoencoderImputer(averaging="swa").fit(X_missing)


@pytest.mark.slow
def test_ahead_of_missforest_on_pageblocks(shared_data):
    # GAIN's protocol on 2,000 rows of ADBench's PageBlocks at 20% MCAR, where
    # missForest beat the previous recipe by 9%.
    from sklearn.ensemble import ExtraTreesRegressor
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer

    X = np.load(shared_data / "adbench" / "27_PageBlocks.npz")["X"].astype(float)
    X = X[np.random.default_rng(0).choice(len(X), 2000, replace=False)]
    X_missing, mask = hide(X, 0.2)
    ours = scaled_rmse(X, AutoencoderImputer(random_state=0).fit_transform(X_missing), mask)
    trees = ExtraTreesRegressor(n_estimators=50, min_samples_leaf=2, random_state=0)
    missforest = IterativeImputer(trees, max_iter=5, random_state=0)
    theirs = scaled_rmse(X, missforest.fit_transform(X_missing), mask)
    assert ours < theirs
def test_integer_columns_of_a_numeric_frame_get_integers_in_range():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"n": pd.array(rng.integers(3, 10, 200), dtype="Int64"),
                      "x": rng.normal(size=200)})
    X["y"] = X["x"] * 2 + rng.normal(scale=0.1, size=200)
    X.loc[::10, "n"] = pd.NA
    X.loc[1::10, "x"] = np.nan
    out = AutoencoderImputer(max_epochs=3, random_state=0).fit(X).transform(X)
    filled = out[X["n"].isna().to_numpy(), 0]
    np.testing.assert_array_equal(filled, np.round(filled))
    assert filled.min() >= 3 and filled.max() <= 9
    # Float columns are not rounded.
    assert not np.array_equal(out[:, 1], np.round(out[:, 1]))


@pytest.mark.parametrize("mixed", [False, True])
def test_whole_number_float_columns_with_gaps_get_integers_in_range(mixed):
    # A new user's trial: pandas stores a column of counts (or 0/1 flags)
    # with a gap as float64; its gaps were imputed as fractions, some below
    # the smallest count seen.
    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    X = pd.DataFrame({"count": np.round(np.clip(3 + 2 * x + rng.normal(size=200), 1, None)),
                      "flag": (x > 0).astype(float), "x": x,
                      "y": x * 2 + rng.normal(scale=0.1, size=200)})
    if mixed:
        X["color"] = rng.choice(["red", "blue"], 200)
    X.loc[::7, "count"] = np.nan
    X.loc[3::7, "flag"] = np.nan
    X.loc[1::10, "x"] = np.nan
    imp = AutoencoderImputer(max_epochs=3, random_state=0).fit(X)
    assert imp._integer_columns_.tolist() == [True, True, False, False] + [False] * mixed
    out = pd.DataFrame(np.asarray(imp.transform(X))[:, :4], columns=X.columns[:4]).astype(float)
    for name, low, high in [("count", X["count"].min(), X["count"].max()), ("flag", 0, 1)]:
        filled = out.loc[X[name].isna(), name].to_numpy()
        np.testing.assert_array_equal(filled, np.round(filled))
        assert filled.min() >= low and filled.max() <= high
    # A column with fractions stays continuous; draws of the counts are counts.
    filled = out.loc[X["x"].isna(), "x"].to_numpy()
    assert not np.array_equal(filled, np.round(filled))
    draws = imp.sample_imputations(X, n_imputations=2, random_state=0)
    for draw in draws:
        counts = pd.DataFrame(draw).iloc[:, 0].to_numpy(dtype=float)
        np.testing.assert_array_equal(counts, np.round(counts))
        assert counts.min() >= X["count"].min()


@pytest.mark.parametrize("mixed", [False, True])
def test_draws_of_a_flag_keep_its_rate(mixed):
    # A new user's trial: draws of a 0/1 flag were Gaussian noise rounded,
    # so a rare flag (3% in the gaps) was drawn at 1% (and 0 came back as
    # -0.0). A flag is now drawn as a coin with the predicted probability.
    rng = np.random.default_rng(0)
    n = 1000
    x, z = rng.normal(size=n), rng.normal(size=n)
    flag = (rng.random(n) < 1 / (1 + np.exp(-(0.5 * x - 3.3)))).astype(float)
    X = pd.DataFrame({"x": x, "z": z, "flag": flag})
    if mixed:
        X["c"] = rng.choice(["a", "b"], n)
    gaps = rng.random(n) < 0.3
    X.loc[gaps, "flag"] = np.nan
    imp = AutoencoderImputer(max_epochs=100, random_state=0).fit(X)
    draws = np.stack([pd.DataFrame(d).iloc[:, 2].to_numpy(dtype=float)[gaps]
                      for d in imp.sample_imputations(X, n_imputations=20, random_state=0)])
    assert set(np.unique(draws)) == {0.0, 1.0} and not np.signbit(draws).any()
    assert 0.02 < draws.mean() < 0.06  # the gaps' rate is 0.03; rounded draws gave 0.010
    # Training rows without gaps keep a whole-number column's float dtype
    # (a split of one CSV): its gaps in new rows are whole numbers too.
    counts = X.assign(flag=np.round(3 + x))
    train = counts.iloc[:500]
    new = counts.iloc[500:].copy()
    new.loc[new.index[::3], "flag"] = np.nan
    out = pd.DataFrame(AutoencoderImputer(max_epochs=5, random_state=0).fit(train).transform(new))
    filled = out.iloc[::3, 2].to_numpy(dtype=float)
    np.testing.assert_array_equal(filled, np.round(filled))


def test_a_flag_held_in_an_array():
    # A new user's trial: a NumPy array's 0/1 column, 65% missing, was drawn
    # as Gaussian noise (1,323 distinct values) and imputed between -0.22 and
    # 1.43. Observed at 0 and 1 alone, it is a flag: drawn as a coin with the
    # predicted probability, imputed as that probability within [0, 1].
    # Trial 32: any two codes make a flag (a treatment arm coded 1/2 had been
    # imputed from 0.85 to 2.42); three values do not.
    rng = np.random.default_rng(0)
    z = rng.normal(size=(600, 1))
    flag = (z + rng.normal(size=(600, 1)) > 0).astype(float)
    three = np.round(np.clip(z + rng.normal(size=(600, 1)), -1, 1))
    X = np.hstack([z + 0.5 * rng.normal(size=(600, 3)), flag, 1 + flag, three])
    gaps = rng.random(X.shape) < 0.65
    X_missing = np.where(gaps, np.nan, X)
    imp = AutoencoderImputer(max_epochs=30, random_state=0).fit(X_missing)
    filled = imp.transform(X_missing)
    draws = np.stack(imp.sample_imputations(X_missing, 10, random_state=0))
    for j, (low, high) in [(3, (0.0, 1.0)), (4, (1.0, 2.0))]:
        points = filled[gaps[:, j], j]
        assert low <= points.min() and points.max() <= high
        assert len(np.unique(points)) > 10
        assert set(np.unique(draws[:, gaps[:, j], j])) == {low, high}
        assert abs(draws[:, gaps[:, j], j].mean() - points.mean()) < 0.05
    # The coded arm is predicted as the 0/1 flag it copies is (0.90 where the
    # row observes something; an empty row gets each column's own mean, of
    # other observed rows: 0.464 and 1.525 here).
    both = gaps[:, 3] & gaps[:, 4] & ~gaps.all(axis=1)
    assert np.corrcoef(filled[both, 3], filled[both, 4])[0, 1] > 0.85
    # A column of three values (-1, 0, 1) is no coin: imputed as a number,
    # drawn as whole numbers (test_draws_of_codes_in_an_array_reach_their_ends).
    assert len(np.unique(filled[gaps[:, 5], 5])) > 10
    assert set(np.unique(draws[:, gaps[:, 5], 5])) == {-1.0, 0.0, 1.0}


def test_draws_of_codes_in_an_array_reach_their_ends():
    # A new user's trial 33: a survey's code of -1/0/1 held in an array was
    # drawn as Gaussian noise clipped to [-1, 1], so the draws' 90% ranges
    # covered 0.34 and 0.31 of the hidden -1 and 1 (0.99 of the 0s). A
    # column observed at whole numbers alone is drawn as whole numbers; its
    # imputations stay expected values.
    rng = np.random.default_rng(1)
    z = rng.normal(size=(800, 1))
    code = np.clip(np.round(z + 0.8 * rng.normal(size=(800, 1))), -1, 1)
    X = np.hstack([z + 0.5 * rng.normal(size=(800, 4)), code])
    gaps = rng.random(X.shape) < 0.3
    X_missing = np.where(gaps, np.nan, X)
    imp = AutoencoderImputer(max_epochs=30, random_state=0).fit(X_missing)
    hidden = gaps[:, 4]
    assert len(np.unique(imp.transform(X_missing)[hidden, 4])) > 10

    def coverage_of_ends():
        draws = np.stack(imp.sample_imputations(X_missing, 10, random_state=0))[:, hidden, 4]
        low, high = np.quantile(draws, [0.05, 0.95], axis=0)
        truth = X[hidden, 4]
        ends = truth != 0
        return np.mean((low <= truth) & (truth <= high)), np.mean(
            ((low <= truth) & (truth <= high))[ends]), draws

    overall, ends, draws = coverage_of_ends()
    assert set(np.unique(draws)) == {-1.0, 0.0, 1.0}
    # Gaussian draws clipped to [-1, 1], as before (an end holding a third
    # of the values is a point mass too, drawn from donors: off as well).
    imp._draw_steps_[:], imp._donors_ = np.nan, None
    _, ends_before, _ = coverage_of_ends()
    assert ends > ends_before + 0.15 and ends > 0.6
    assert 0.7 < overall < 0.97


@pytest.mark.parametrize("mixed", [False, True])
def test_draws_stay_within_the_observed_range(mixed):
    # A new user's trial 27: Gaussian draws of decimal columns left their
    # range (negative incomes, down to -13.5 where the lowest seen was
    # -0.03). They are clipped to the range fit observed, which keeps the
    # 90% ranges' coverage of values inside it (zeros, often the lowest
    # value, are still covered: truncated draws never reach them).
    rng = np.random.default_rng(0)
    n = 300
    # Skewed and bounded below, but under _DONOR_SKEW: Gaussian draws.
    income = np.exp(0.7 * rng.normal(size=n)) - 0.5
    X = pd.DataFrame({"income": income, "z": rng.normal(size=n),
                      "zero": np.where(rng.random(n) < 0.5, 0.0, rng.random(n))})
    if mixed:
        X["c"] = rng.choice(["a", "b"], n)
    missing = X.mask(rng.random(X.shape) < 0.2)
    imp = AutoencoderImputer(max_epochs=30, random_state=0).fit(missing)
    assert not imp._skewed_[0] and np.isnan(imp._point_mass_[0])
    draws = np.stack([pd.DataFrame(d).iloc[:, :3].to_numpy(dtype=float)
                      for d in imp.sample_imputations(missing, n_imputations=20,
                                                      random_state=0)])
    observed = missing.iloc[:, :3]
    assert (draws >= observed.min().to_numpy()).all()
    assert (draws <= observed.max().to_numpy()).all()
    gaps = missing.iloc[:, :3].isna().to_numpy()
    # The noise is still there, and the lowest value is drawn where likely.
    assert draws[:, gaps].std(axis=0).mean() > 0.1 * imp.residual_std_[:3].min()
    assert (draws[:, gaps[:, 2], 2] == 0.0).mean() > 0.1
    # The unbounded draws of the same fit did leave the range.
    imp._observed_range_ = None
    unbounded = np.stack([pd.DataFrame(d).iloc[:, 0].to_numpy(dtype=float)
                          for d in imp.sample_imputations(missing, 20, random_state=0)])
    assert unbounded.min() < observed["income"].min()


def test_draws_of_a_small_table_are_not_too_narrow():
    # A new user's trial: on tables of a few hundred rows the network learns
    # its training entries, so their errors (the draws' noise) were half the
    # errors on real gaps, and 90% ranges covered 59-62% of hidden values.
    # The trees' error on their held-out rows now bounds the spread below.
    X = load_breast_cancer().data
    X = X[np.random.default_rng(0).choice(len(X), 150, replace=False)]
    mask = np.random.default_rng(1).random(X.shape) < 0.2
    X_missing = np.where(mask, np.nan, X)
    imp = AutoencoderImputer(random_state=0).fit(X_missing)
    held_out = np.array([np.sqrt(-2 * trees.validation_score_[-1]) for trees in imp.trees_])
    np.testing.assert_array_less(held_out * imp.scaler_.scale_ * (1 - 1e-9), imp.residual_std_)
    draws = np.stack(imp.sample_imputations(X_missing, n_imputations=20, random_state=0))
    lo, hi = np.quantile(draws, [0.05, 0.95], axis=0)
    coverage = np.mean((X[mask] >= lo[mask]) & (X[mask] <= hi[mask]))
    assert 0.78 < coverage < 0.97  # 0.46 before


def test_the_guides_bootstrap_recipe_adds_the_models_uncertainty():
    # Draws from one fit leave the model's own uncertainty out (trial 65); the
    # user guide's recipe fits one clone per draw on a bootstrap sample of the
    # rows. Its draws must vary more between completed tables (column means of
    # 150 rows, averaged over 30 columns: 1.22-1.32x the one fit's variance
    # for three row samples), and keep every observed entry.
    from sklearn.base import clone
    from sklearn.utils import resample

    X = load_breast_cancer().data
    X = X[np.random.default_rng(0).choice(len(X), 150, replace=False)]
    X_missing, mask = hide(X, 0.3, seed=10)
    imputer = AutoencoderImputer(random_state=0, max_epochs=50)
    one = np.stack(clone(imputer).fit(X_missing).sample_imputations(X_missing, 5, random_state=0))
    draws = []
    for k in range(5):  # the guide's loop
        sample = resample(X_missing, random_state=k)
        model = clone(imputer).set_params(random_state=k).fit(sample)
        draws.append(model.sample_imputations(X_missing, n_imputations=1, random_state=k)[0])
    boot = np.stack(draws)
    assert np.all(boot[:, ~mask] == X[~mask])

    def between(d):
        return ((d.mean(axis=1) / X.std(axis=0)).var(axis=0, ddof=1)).mean()

    assert between(boot) > 1.1 * between(one)
    # The same lines take a DataFrame (trial 68: indexing rows by position did not).
    frame = pd.DataFrame(X_missing[:, :5])
    model = clone(imputer).set_params(max_epochs=5).fit(resample(frame, random_state=0))
    (draw,) = model.sample_imputations(frame, n_imputations=1, random_state=0)
    assert draw.shape == frame.shape and not np.isnan(np.asarray(draw, dtype=float)).any()


def test_members_learn_on_their_own_losses_and_impute_with_their_mean(cancer):
    import torch

    from skae._imputer_budget import ENSEMBLE_MEMBERS, hidden_sizes

    X, X_missing, mask = (part[:400] for part in cancer)
    imp = AutoencoderImputer(max_epochs=150, random_state=0).fit(X_missing)
    module = imp.module_
    # One batch: the rule's members, each as wide as the single network.
    assert module.n_members == ENSEMBLE_MEMBERS > 1
    assert imp._hidden_sizes() == hidden_sizes(30)
    S, observed = imp._scaled_with_mask(X_missing)
    x, seen = torch.tensor(S), torch.tensor(observed, dtype=torch.float32)
    with torch.no_grad():
        members = module.train()(x, seen)
        mean = module.eval()(x, seen)
        assert members.shape == (ENSEMBLE_MEMBERS, *x.shape)
        torch.testing.assert_close(mean, members.mean(dim=0))
        # Trained on their own losses from their own starts: they differ, and
        # the training loss is the mean of the members' losses.
        assert (members[0] - members[1]).abs().mean() > 0.01
        criterion = imp.net_.criterion_.train()
        target = (x, seen, seen * (torch.rand(x.shape) > 0.15))
        losses = [criterion(member, target) for member in members]
        torch.testing.assert_close(imp.net_.get_loss(members, target), sum(losses) / len(losses))
    # Their mean imputes better than either member alone, and than KNNImputer.
    ours = scaled_rmse(X, imp.transform(X_missing), mask)
    alone = [scaled_rmse(X, imp.encoder_.decode(member.numpy().astype(float)), mask)
             for member in members]
    knn = scaled_rmse(X, KNNImputer().fit_transform(X_missing), mask)
    assert ours < min(alone) and ours < 0.75 * knn
    # module__n_members sets them, and a table of several batches gets one
    # network.
    single = AutoencoderImputer(max_epochs=2, random_state=0, module__n_members=1)
    assert single.fit(X_missing).module_.n_members == 1
    several = AutoencoderImputer(max_epochs=2, batch_size=200, random_state=0)
    assert several.fit(X_missing).module_.n_members == 1
    for name, value in [("n_members", 0), ("n_members", "two"), ("n_members", 2.5),
                        ("n_members", True), ("n_bins", -1), ("n_passes", None)]:
        with pytest.raises(ValueError, match=f"{name} must be an int"):
            AutoencoderImputer(max_epochs=2, **{f"module__{name}": value}).fit(X_missing)


# ----------------------------------------------------------------------
# tree_weight: a second opinion from gradient-boosted trees (issue 16)
# ----------------------------------------------------------------------
def sharp_functions(n=300, seed=0):
    """Three noisy columns and three sharp functions of them: a step, a sigmoid, a product."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 3))
    step = np.where(z[:, 0] > 0.3, 2.0, -1.0) + 0.05 * rng.normal(size=n)
    sigmoid = 1 / (1 + np.exp(-8 * z[:, 1]))
    return np.column_stack([z, step, sigmoid, z[:, 0] * z[:, 2]])


def test_trees_lower_the_error_on_steel_plate_faults(shared_data):
    # Where missForest beat the network (ADBench's steel-plate faults: a
    # sigmoid of a log-area column had 2.4 times missForest's error), each
    # column's trees, fitted on the network's completion of the others,
    # carve what the network fits slowly. 400 rows, 20% MCAR.
    X = np.load(shared_data / "adbench" / "12_fault.npz")["X"].astype(float)
    X = X[np.random.default_rng(1).choice(len(X), 400, replace=False)]
    X = X[:, X.std(axis=0) > 0]
    X_missing, mask = hide(X, 0.2)
    alone = AutoencoderImputer(tree_weight=0.0, random_state=0).fit(X_missing)
    assert alone.trees_ is None
    blended = AutoencoderImputer(random_state=0).fit(X_missing)
    assert len(blended.trees_) == X.shape[1]
    ours = scaled_rmse(X, blended.transform(X_missing), mask)
    network = scaled_rmse(X, alone.transform(X_missing), mask)
    assert ours < 0.97 * network


def test_tree_weight_blends_the_network_and_the_trees():
    X_missing, mask = hide(sharp_functions(n=300), 0.2)
    out = {w: AutoencoderImputer(tree_weight=w, **FAST).fit_transform(X_missing)
           for w in (0.0, 0.5, 1.0)}
    # The same network and the same trees: the gaps are the weighted mean,
    # wherever clipping to the observed range moved neither end.
    low, high = np.nanmin(X_missing, axis=0), np.nanmax(X_missing, axis=0)
    inside = mask & (out[0.0] > low) & (out[0.0] < high) & (out[1.0] > low) & (out[1.0] < high)
    assert inside.sum() > 0.8 * mask.sum()
    np.testing.assert_allclose(out[0.5][inside], (0.5 * (out[0.0] + out[1.0]))[inside],
                               rtol=1e-5, atol=1e-6)
    assert not np.allclose(out[0.0][mask], out[1.0][mask])
    np.testing.assert_array_equal(out[0.5][~mask], X_missing[~mask])


def test_a_column_nothing_predicts_is_imputed_near_its_mean():
    # A new user's trial 62: household income, age and rooms, uncorrelated
    # with the rest of their table, got 5-13% more error than their means.
    rng = np.random.default_rng(0)
    n = 900
    z = rng.normal(size=(n, 2))
    X = np.column_stack([z[:, 0], z[:, 1], z[:, 0] + 0.3 * rng.normal(size=n),
                         np.sin(2 * z[:, 1]) + 0.2 * rng.normal(size=n),
                         rng.normal(size=n), rng.gamma(2.0, size=n),
                         # A rare flag (trial 63: low birth weight, 14 ones in 795
                         # rows): its trees' R^2 rests on a row or two held out.
                         (z[:, 0] < -2.2).astype(float)])
    X_missing, mask = hide(X, 0.2)
    imp = AutoencoderImputer(**FAST)
    out = imp.fit_transform(X_missing)
    noise = [4, 5]
    assert (imp._tree_shrink_[noise] < 1).all()
    assert (imp._tree_shrink_[[0, 1, 2, 3, 6]] == 1).all()
    mean = np.nanmean(X_missing, axis=0)
    for j in noise:
        gaps = mask[:, j]
        error = np.sqrt(np.mean((out[gaps, j] - X[gaps, j]) ** 2))
        assert error <= 1.01 * np.sqrt(np.mean((mean[j] - X[gaps, j]) ** 2))
    # The predictable columns keep what the network and trees found.
    gaps = mask[:, 2]
    assert (np.sqrt(np.mean((out[gaps, 2] - X[gaps, 2]) ** 2))
            < 0.5 * np.sqrt(np.mean((mean[2] - X[gaps, 2]) ** 2)))
    # Draws of the noise columns spread as the columns do.
    draws = np.stack(imp.sample_imputations(X_missing, 20, random_state=0))[:, mask[:, 4], 4]
    assert 0.7 < draws.std() / np.nanstd(X_missing[:, 4]) < 1.3


def test_toward_mean_needs_held_out_rows_off_the_columns_mode():
    from types import SimpleNamespace

    from skae._imputer import _toward_mean

    # Trial 63's low-birth-weight flag: the trees' held-out loss never beat
    # its first value (R^2 < 0), on about one row off the mode.
    failed = SimpleNamespace(validation_score_=np.array([-0.0111, -0.0200, -0.0350]))
    flag = np.r_[np.ones(14), np.zeros(781)]
    assert _toward_mean(failed, flag) == 1.0
    spread = np.random.default_rng(0).normal(size=795)
    assert _toward_mean(failed, spread) == 0.0
    assert _toward_mean(failed, spread[:400]) == 1.0  # 40 rows held out: too few
    # R^2 = 0.02: keeps 0.4 of the departure from the mean; 0.05 and above all of it.
    assert _toward_mean(SimpleNamespace(validation_score_=np.array([-1.0, -0.98])),
                        spread) == pytest.approx(0.4)
    assert _toward_mean(SimpleNamespace(validation_score_=np.array([-1.0, -0.9])), spread) == 1.0


def mixed_sharp_functions(n=300, seed=0):
    """sharp_functions with two categories: the signs of z2 and of z0 - 0.3."""
    X = sharp_functions(n, seed)
    frame = pd.DataFrame(X, columns=["z0", "z1", "z2", "step", "sigmoid", "product"])
    frame["sign"] = pd.Categorical(np.where(X[:, 2] > 0, "+", "-"))
    frame["high"] = pd.Categorical(np.where(X[:, 0] > 0.3, "yes", "no"))
    return frame


def test_trees_impute_the_numbers_of_mixed_tables():
    # Each numeric column of a table with categories gets its trees, reading
    # the categories' one-hot codes; categorical columns get classifiers.
    frame = mixed_sharp_functions()
    mask = np.random.default_rng(1).random(frame.shape) < 0.2
    missing = frame.mask(mask)
    # (The linear recall, which also helps the network alone here, is off.)
    alone = AutoencoderImputer(tree_weight=0.0, recall_linear=False, random_state=0).fit(missing)
    blended = AutoencoderImputer(recall_linear=False, random_state=0).fit(missing)
    assert [type(model).__name__ for model in blended.trees_] == (
        ["HistGradientBoostingRegressor"] * 6 + ["HistGradientBoostingClassifier"] * 2)
    ours, network = blended.transform(missing), alone.transform(missing)
    numbers = frame.columns[:6]
    errors = {}
    for name, out in (("ours", ours), ("network", network)):
        diff = (out[numbers] - frame[numbers]) / (frame[numbers].max() - frame[numbers].min())
        errors[name] = float(np.sqrt(np.nanmean(diff.where(mask[:, :6]).to_numpy() ** 2)))
    assert errors["ours"] < 0.98 * errors["network"]  # 0.959 when written
    # The categories (signs the network already gets) are as right, and
    # dtypes and observed entries are kept.
    for j, name in ((6, "sign"), (7, "high")):
        hidden = mask[:, j]
        right = (ours[name][hidden] == frame[name][hidden]).mean()
        alone_right = (network[name][hidden] == frame[name][hidden]).mean()
        # At most one hidden entry (of about 60) apart: a single entry is
        # within a fit's noise (0.950 against 0.967 since each training row
        # hides its own share).
        assert alone_right > 0.95 and right > 0.94
        assert right >= alone_right - 1.5 / hidden.sum()
    pd.testing.assert_frame_equal(ours.dtypes.to_frame(), frame.dtypes.to_frame())
    assert ours.mask(mask).equals(frame.mask(mask))
    restored = pickle.loads(pickle.dumps(blended))
    pd.testing.assert_frame_equal(restored.transform(missing), ours)


def test_the_network_imputes_alone_on_sparse_and_categorical_tables():
    import scipy.sparse as sp

    ratings = sp.random(60, 8, density=0.3, format="csr", random_state=0)
    ratings.data = np.round(ratings.data * 4) + 1
    assert AutoencoderImputer(missing_values=0, **FAST).fit(ratings).trees_ is None
    rng = np.random.default_rng(0)
    categories = pd.DataFrame({"a": pd.Categorical(rng.choice(["x", "y"], 80)),
                               "b": pd.Categorical(rng.choice(["u", "v", "w"], 80))})
    categories.loc[::7, "a"] = np.nan
    # A table of categories gets classifiers (each reading the other's codes).
    trees = AutoencoderImputer(**FAST).fit(categories).trees_
    assert [type(model).__name__ for model in trees] == ["HistGradientBoostingClassifier"] * 2
    assert AutoencoderImputer(**FAST).fit(categories[["a"]]).trees_ is None  # nothing to read
    with pytest.raises(ValueError, match="tree_weight"):
        AutoencoderImputer(tree_weight=1.5).fit(np.ones((5, 2)))


def test_trees_impute_categories_the_network_learns_slowly():
    """A band of a number and an exclusive-or of two signs: the classifiers' probabilities help.

    Chosen on the development tables of ``bench_mixed.py --calibration``
    (stop 42): accuracy higher in every run at the numbers' weight, 0.3.
    """
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(400, 4))
    frame = pd.DataFrame(Z, columns=list("abcd"))
    frame["band"] = pd.Categorical(np.digitize(Z[:, 0], [-1, -0.3, 0.3, 1]).astype(str))
    frame["xor"] = pd.Categorical(np.where(Z[:, 1] * Z[:, 2] > 0, "same", "differ"))
    mask = rng.random(frame.shape) < 0.2
    missing = frame.mask(mask)
    accuracy = {}
    for weight in (0.0, 0.3):
        out = AutoencoderImputer(tree_weight=weight, random_state=0).fit_transform(missing)
        accuracy[weight] = np.mean([(out[name][mask[:, j]] == frame[name][mask[:, j]]).mean()
                                    for j, name in ((4, "band"), (5, "xor"))])
    assert accuracy[0.3] > accuracy[0.0] + 0.03  # 0.816 against 0.747 when written
    draws = AutoencoderImputer(random_state=0).fit(missing).sample_imputations(
        missing, n_imputations=2, random_state=0)
    assert all(draw["band"].isin(frame["band"].cat.categories).all() for draw in draws)


def test_partial_fit_on_fewer_rows_keeps_the_trees_of_the_fit():
    # A new user's trial: trees refitted on a partial_fit call of 50 rows
    # (each stopping after 10 iterations) made a table's error 14% worse.
    X_missing, _ = hide(sharp_functions(n=300), 0.2)
    imp = AutoencoderImputer(**FAST).fit(X_missing)
    trees = imp.trees_
    imp.partial_fit(X_missing[:50])
    assert imp.trees_ is trees
    imp.partial_fit(X_missing)  # as many rows as the fit: new trees
    assert imp.trees_ is not trees and len(imp.trees_) == X_missing.shape[1]
    refit = imp.fit(X_missing[:50])  # a new fit starts afresh
    assert refit.trees_ is not trees


def test_trees_of_large_tables_are_larger_and_see_more_rows(monkeypatch):
    # Trees fitted on more than _LARGE_TREE_ROWS rows take 31 leaves and up to
    # _TREE_ROWS rows (stop 41: 0.99 of the error on 20,000-row tables); the
    # duplicates keep their own, smaller sample. Limits scaled down here.
    import skae._imputer as imputer

    monkeypatch.setattr(imputer, "_LARGE_TREE_ROWS", 300)
    monkeypatch.setattr(imputer, "_TREE_ROWS", 500)
    monkeypatch.setattr(imputer, "_DUPLICATE_ROWS", 200)
    seen, tree_rows = [], []
    real, real_fit = imputer.DuplicateRows, imputer.HistGradientBoostingRegressor.fit

    def spy(S, observed):
        seen.append(len(S))
        return real(S, observed)

    def fit_spy(model, X, y, *args, **kwargs):
        tree_rows.append(len(X))
        return real_fit(model, X, y, *args, **kwargs)

    monkeypatch.setattr(imputer, "DuplicateRows", spy)
    monkeypatch.setattr(imputer.HistGradientBoostingRegressor, "fit", fit_spy)
    for n, leaves in [(250, 15), (1000, 31)]:
        X_missing, mask = hide(sharp_functions(n=n), 0.2)
        tree_rows.clear()
        imp = AutoencoderImputer(**FAST).fit(X_missing)
        fitted = [model for model in imp.trees_ if model is not None]
        assert fitted and {model.max_leaf_nodes for model in fitted} == {leaves}
        # Each column's trees fit its observed entries among the sampled rows.
        assert max(tree_rows) <= min(n, 500) and max(tree_rows) > 0.6 * min(n, 500)
        assert seen[-1] == min(n, 200)


def test_a_column_observed_at_one_value_fills_its_gaps_with_it():
    X = sharp_functions(n=200)
    X[:, 2] = 7.0
    X_missing, mask = hide(X, 0.2)
    out = AutoencoderImputer(**FAST).fit_transform(X_missing)
    assert mask[:, 2].any()
    np.testing.assert_array_equal(out[:, 2], 7.0)


def test_copy_masking_hides_another_rows_gaps():
    import torch

    from skae._imputer import _copy_patterns

    # Rows 0-2 have gaps in blocks; row 3 has none. With share 1 each row
    # sees only what it and another row observe, unless that hides nothing.
    observed = torch.tensor([[1, 1, 0, 0], [0, 0, 1, 1], [1, 1, 1, 0], [1, 1, 1, 1]],
                            dtype=torch.float32)
    random_hiding = observed * torch.tensor([[0, 1, 1, 1]] * 4, dtype=torch.float32)
    generator = torch.Generator().manual_seed(0)
    for _ in range(20):
        visible = _copy_patterns(observed, random_hiding, 1.0, generator)
        assert torch.all(visible <= observed)
        for row, seen in enumerate(visible):
            if torch.equal(seen, random_hiding[row]):
                continue  # the other row had no gap this row observes
            # The row hides exactly another row's gaps among its own entries.
            assert any(torch.equal(seen, observed[row] * other) for other in observed)
            assert (seen < observed[row]).any()
    # Share 0 keeps the random hiding, and a batch without gaps cannot copy any.
    assert torch.equal(_copy_patterns(observed, random_hiding, 0.0, generator), random_hiding)
    full = torch.ones(4, 4)
    assert torch.equal(_copy_patterns(full, random_hiding, 1.0, generator), random_hiding)


def test_gaps_in_blocks_are_imputed_and_drawn_as_blocks():
    # A new user's trial: tables whose gaps come in blocks (a panel of columns
    # missing together). The network trains on other rows' real patterns for
    # half of each batch, and the draws' spread is measured on them: block
    # gaps' 90% ranges covered 0.56 of hidden values on one user's table.
    rng = np.random.default_rng(0)
    latent = rng.normal(size=(600, 2))  # three blocks of four columns, each predicts the others
    weights = np.repeat([[1.0, 0.0, 0.7], [0.0, 1.0, 0.7]], 4, axis=1)
    X = latent @ weights + 0.3 * rng.normal(size=(600, 12))
    mask = np.zeros(X.shape, dtype=bool)
    for block in np.split(np.arange(12), 3):
        mask[np.ix_(rng.random(600) < 0.25, block)] = True
    mask[mask.all(axis=1)] = False
    X_missing = np.where(mask, np.nan, X)
    imp = AutoencoderImputer(random_state=0, max_epochs=150).fit(X_missing)
    draws = np.stack(imp.sample_imputations(X_missing, n_imputations=20, random_state=0))
    lo, hi = np.quantile(draws, [0.05, 0.95], axis=0)
    coverage = np.mean((X[mask] >= lo[mask]) & (X[mask] <= hi[mask]))
    error = scaled_rmse(X, imp.transform(X_missing), mask)
    mean_error = scaled_rmse(X, SimpleImputer().fit_transform(X_missing), mask)
    assert error < 0.65 * mean_error  # 0.61; 0.66 training on random hiding alone
    assert 0.75 < coverage < 0.97  # 0.84; 0.64 before


def test_observed_bounds_keep_imputations_within_what_fit_saw():
    # A new user's trial 33: a vitamin column observed up to 180 was imputed
    # 242.6 (true 20) from an outlier in another column, and career totals
    # came out negative. min_value / max_value="observed" bound each numeric
    # feature's imputations by its range in fit, as missForest's are.
    rng = np.random.default_rng(0)
    x = rng.normal(size=400)
    X = np.column_stack([x, 3 * x + 0.1 * rng.normal(size=400), rng.normal(size=400)])
    X_missing = np.where(rng.random(X.shape) < 0.1, np.nan, X)
    # New rows whose x lies beyond anything fit saw, their y lost.
    new = np.column_stack([np.linspace(-8, 8, 9), np.full(9, np.nan), np.zeros(9)])
    params = dict(max_epochs=40, tree_weight=0.0, random_state=0)
    free = AutoencoderImputer(**params).fit(X_missing).transform(new)
    seen = np.nanmin(X_missing, axis=0), np.nanmax(X_missing, axis=0)
    assert free[:, 1].min() < seen[0][1]  # extrapolated below what fit saw
    bounded = AutoencoderImputer(min_value="observed", max_value="observed", **params)
    out = bounded.fit(X_missing).transform(new)
    assert np.all((seen[0][1] <= out[:, 1]) & (out[:, 1] <= seen[1][1]))
    np.testing.assert_allclose(out[:, 1], np.clip(free[:, 1], seen[0][1], seen[1][1]))
    # One side alone, and beside a number for the other.
    low = AutoencoderImputer(min_value="observed", max_value=5.0, **params).fit(X_missing)
    np.testing.assert_array_equal(low._min_value_, seen[0])
    np.testing.assert_array_equal(low._max_value_, np.full(3, 5.0))
    with pytest.raises(ValueError, match="min_value"):
        AutoencoderImputer(min_value="seen").fit(X_missing)
    # Trial 34: a number on the other side that crosses the observed range
    # had given every gap that number, outside the range.
    with pytest.raises(ValueError, match=r"cross for feature\(s\) \[1\]"):
        AutoencoderImputer(min_value="observed", max_value=[10.0, -20.0, 10.0],
                           **params).fit(X_missing)
    # Array bounds beside "observed", crossed only by what fit saw.
    with pytest.raises(ValueError, match="cross"):
        AutoencoderImputer(min_value=np.array([-5.0, 20.0, -5.0]), max_value="observed",
                           **params).fit(X_missing)
    with pytest.raises(ValueError, match="'observed' for every feature"):
        AutoencoderImputer(min_value=["observed", 0, 0], **params).fit(X_missing)


def test_partial_fit_revises_what_the_first_chunk_showed():
    # A new user's trial 34: the range, flags, constants and whole-number
    # columns came from the first partial_fit call alone, so a count from 0
    # to 5 whose first chunk held 0 and 1 was imputed and drawn as a flag,
    # and a first chunk of all-zero flags made a constant column.
    rng = np.random.default_rng(3)
    n = 600
    z = rng.normal(size=(n, 1))
    count = np.clip(np.round(1.5 + 1.5 * z[:, 0] + rng.normal(size=n)), 0, 5)
    flag = (z[:, 0] + rng.normal(size=n) > 0.5).astype(float)
    measure = z[:, 0] + 0.3 * rng.normal(size=n)
    X = np.column_stack([z + 0.5 * rng.normal(size=(n, 3)), count, flag, measure])
    gaps = rng.random(X.shape) < 0.2
    X_missing = np.where(gaps, np.nan, X)
    first = (count <= 1) & (flag == 0)  # the count at 0/1, the flag at 0
    chunks = [X_missing[first], X_missing[~first]]
    # The first chunk's measure is rounded to whole numbers.
    chunks[0][:, 5] = np.round(chunks[0][:, 5])
    params = dict(max_epochs=5, min_value="observed", max_value="observed", random_state=0)
    imp = AutoencoderImputer(**params).partial_fit(chunks[0])
    assert first.sum() >= 20
    assert imp._two_levels_[3].tolist() == [0.0, 1.0]  # what one chunk shows
    assert imp._constant_[4] and imp._draw_steps_[5] == 1
    filled = imp.transform(X_missing)
    assert set(np.unique(filled[gaps[:, 4], 4])) == {0.0}
    assert filled[gaps[:, 3], 3].max() <= 1.0

    imp.partial_fit(chunks[1])
    assert np.isnan(imp._two_levels_[3]).all() and imp._draw_steps_[3] == 1
    assert imp._two_levels_[4].tolist() == [0.0, 1.0] and not imp._constant_[4]
    assert np.isnan(imp._draw_steps_[5])
    seen = np.vstack(chunks)
    observed_range = np.nanmin(seen, axis=0), np.nanmax(seen, axis=0)
    np.testing.assert_array_equal(imp._observed_range_, observed_range)
    filled = imp.transform(X_missing)
    draws = np.stack(imp.sample_imputations(X_missing, 5, random_state=0))
    # The count now reaches beyond the first chunk's 0/1 and is drawn as
    # whole numbers from 0 to 5, within what the calls saw.
    assert filled[gaps[:, 3], 3].max() > 1.5
    count_draws = np.unique(draws[:, gaps[:, 3], 3])
    assert count_draws.max() > 1 and np.array_equal(count_draws, np.round(count_draws))
    assert 0 <= count_draws.min() and count_draws.max() <= 5
    # The flag is a coin between 0 and 1, imputed as a probability.
    assert set(np.unique(draws[:, gaps[:, 4], 4])) == {0.0, 1.0}
    points = filled[gaps[:, 4], 4]
    assert 0 <= points.min() and points.max() <= 1 and len(np.unique(points)) > 10
    # The measure's draws are no longer rounded.
    assert not np.array_equal(draws[:, gaps[:, 5], 5], np.round(draws[:, gaps[:, 5], 5]))
    # "observed" bounds follow every call's range.
    points = filled[gaps[:, 5], 5]
    assert observed_range[0][5] <= points.min() and points.max() <= observed_range[1][5]
    # One fit on all the rows finds the same rules.
    whole = AutoencoderImputer(**params).fit(np.vstack(chunks))
    for name in ("_two_levels_", "_draw_steps_", "_constant_", "_observed_range_"):
        np.testing.assert_array_equal(getattr(imp, name), getattr(whole, name))


@pytest.mark.parametrize("frame", [False, True])
def test_draws_keep_the_step_their_values_are_recorded_in(frame):
    # Trials 35-36: a house's bathrooms, in halves from 1 to 4.5, were never
    # drawn at a value a house has (2.37, 2.81); decimals recorded to a
    # tenth came back with fifteen digits.
    rng = np.random.default_rng(5)
    n = 400
    z = rng.normal(size=n)
    X = np.column_stack([
        z + 0.3 * rng.normal(size=n),
        np.clip(np.round(2 * (2.5 + 0.8 * z + 0.4 * rng.normal(size=n))) / 2, 1, 4.5),
        np.round(10 + 2 * z + rng.normal(size=n), 1),
        5 * np.round(8 + 3 * z + rng.normal(size=n)),  # in fives
        3 * z + rng.normal(size=n),  # full precision
        np.round(4e6 + 1e5 * z) + 0.125,  # large: "in thousandths" only to float error
    ])
    gaps = rng.random(X.shape) < 0.2
    X_missing = np.where(gaps, np.nan, X)
    if frame:
        X_missing = pd.DataFrame(X_missing, columns=list("abcdef"))
        X_missing["g"] = pd.Categorical(np.where(z > 0, "hi", "lo"))
    imp = AutoencoderImputer(max_epochs=10, random_state=0).fit(X_missing)
    np.testing.assert_array_equal(imp._draw_steps_[:6], [np.nan, 0.5, 0.1, 5.0, np.nan, np.nan])
    draws = np.stack([np.asarray(d)[:, :6].astype(float)
                      for d in imp.sample_imputations(X_missing, 5, random_state=0)])
    for j, step in [(1, 0.5), (2, 0.1), (3, 5.0)]:
        drawn = draws[:, gaps[:, j], j]
        assert len(np.unique(drawn)) > 3
        np.testing.assert_array_equal(drawn, np.round(np.round(drawn / step) * step, 1))
        assert np.isin(drawn, X[:, j]).mean() > 0.9
    assert np.isin(draws[:, gaps[:, 4], 4], X[:, 4]).mean() < 0.05  # not rounded
    assert np.mean(draws[:, gaps[:, 5], 5] % 1 == 0.125) < 0.05
    # Imputations stay expected values, not rounded.
    filled = np.asarray(imp.transform(X_missing))[:, :6].astype(float)
    assert np.isin(filled[gaps[:, 1], 1], np.arange(2, 10) / 2).mean() < 0.2

    # A later partial_fit chunk in quarters makes the halves' step a quarter.
    imp.partial_fit(np.where(gaps, np.nan, X + [0, 0.25, 0, 0, 0, 0]) if not frame else
                    X_missing.assign(b=X_missing["b"] + 0.25))
    assert imp._draw_steps_[1] == 0.25 and imp._draw_steps_[2] == 0.1


def test_draws_of_a_long_tailed_column_come_from_donors():
    # Stop 39 (bench_draws.py): Gaussian noise around the imputation of a
    # long-tailed column (spending, income) fills its short side, and
    # clipping piles those draws at the smallest value seen (fastfood's
    # vitamin C: a quarter of the draws left the range).
    rng = np.random.default_rng(4)
    n = 800
    z = rng.normal(size=n)
    spend = np.round(np.exp(1.3 * z + 0.8 * rng.normal(size=n)), 2)
    X = np.column_stack([z + 0.3 * rng.normal(size=n), z + 0.3 * rng.normal(size=n), spend])
    gaps = rng.random(X.shape) < 0.2
    X_missing = np.where(gaps, np.nan, X)
    imp = AutoencoderImputer(max_epochs=30, random_state=0).fit(X_missing)
    assert imp._skewed_.tolist() == [False, False, True] and np.isnan(imp._point_mass_[2])

    def score():
        draws = np.stack(imp.sample_imputations(X_missing, 10, random_state=0))[:, gaps[:, 2], 2]
        truth = X[gaps[:, 2], 2]
        spread = np.abs(draws[:, None] - draws[None]).mean(axis=(0, 1))
        crps = np.mean(np.abs(draws - truth).mean(axis=0) - 0.5 * spread)
        return crps, np.mean(draws == np.nanmin(X_missing[:, 2])), draws

    crps, at_minimum, draws = score()
    assert np.isin(draws, X_missing[:, 2]).all()  # observed values
    imp._donors_ = None  # Gaussian draws, as before
    crps_before, at_minimum_before, _ = score()
    assert at_minimum < 0.01 < at_minimum_before
    assert crps < crps_before


def test_draws_of_a_column_with_a_point_mass_keep_its_shape():
    # A new user's trial 33: a viral load, 53% exactly zero and otherwise
    # from 5.6 to 13.4, was drawn as Gaussian noise around its expected
    # value, so most draws fell in the empty stretch between and the zeros
    # were drawn a quarter as often as they occur. Its draws now come from
    # observed values of rows predicted alike (predictive mean matching).
    rng = np.random.default_rng(4)
    n = 800
    z = rng.normal(size=n)
    load = np.where(z + 0.5 * rng.normal(size=n) > 0.2, 6 + 2 * z + rng.normal(size=n), 0.0)
    load = np.where(load > 0, np.maximum(load, 5.0), 0.0)
    X = np.column_stack([z[:, None] + 0.5 * rng.normal(size=(n, 5)), load])
    gaps = rng.random(X.shape) < 0.25
    X_missing = np.where(gaps, np.nan, X)
    frame = pd.DataFrame(X_missing, columns=[f"x{j}" for j in range(5)] + ["load"])
    frame["group"] = pd.Categorical(np.where(z > 0, "high", "low"))
    for data in (X_missing, frame):
        imp = AutoencoderImputer(max_epochs=40, random_state=0).fit(data)
        assert imp._point_mass_[5] == 0.0 and np.isnan(imp._point_mass_[:5]).all()
        hidden = gaps[:, 5]
        draws = np.stack([np.asarray(d)[:, 5].astype(float)
                          for d in imp.sample_imputations(data, 10, random_state=0)])
        drawn = draws[:, hidden]
        # Values the column takes: the mass, or the observed ones beyond it.
        assert not ((drawn > 0) & (drawn < 5)).any()
        # Zeros as often as among the hidden values, and where they are.
        truth = X[hidden, 5]
        # (Gaussian draws: 0.22-0.24 zeros against 0.63 hidden, 0.33-0.35 of
        # the hidden zeros drawn as zeros, 46-47% of draws between 0 and 5,
        # 90% ranges covering 0.78-0.79; donors: 0.52-0.57, 0.71-0.74, none,
        # 0.91-0.92.)
        assert abs((drawn == 0).mean() - (truth == 0).mean()) < 0.15
        assert (drawn[:, truth == 0] == 0).mean() > 0.6
        assert (drawn[:, truth > 0] > 0).mean() > 0.65
        low, high = np.quantile(drawn, [0.05, 0.95], axis=0)
        assert ((truth >= low) & (truth <= high)).mean() > 0.85
        # Imputations stay expected values (between the mass and the rest).
        filled = np.asarray(imp.transform(data))[:, 5].astype(float)
        assert ((filled[hidden] > 0.5) & (filled[hidden] < 4.5)).mean() > 0.1
        # Reproducible.
        again = np.stack([np.asarray(d)[:, 5].astype(float)
                          for d in imp.sample_imputations(data, 10, random_state=0)])
        np.testing.assert_array_equal(draws, again)


def test_draws_of_a_heaped_column_hold_the_heap():
    # Trials 35-36: pneumon's years of schooling were 12 for 44% of the
    # hidden values and 22% of the draws, as Gaussian draws rounded to whole
    # years land on 12 no more often than on 11 or 13. A column of at least
    # five values heaped on one inside its range (a fifth of its values) is
    # drawn from donors, as a point mass at an end is.
    rng = np.random.default_rng(6)
    n = 1000
    z = rng.normal(size=n)
    years = np.clip(np.round(13 + 2.5 * z + rng.normal(size=n)), 6, 20)
    years[(np.abs(z) < 0.6) & (rng.random(n) < 0.7)] = 12.0  # high school
    X = np.column_stack([z + 0.4 * rng.normal(size=n), z + 0.4 * rng.normal(size=n), years])
    gaps = rng.random(X.shape) < 0.2
    X_missing = np.where(gaps, np.nan, X)
    imp = AutoencoderImputer(**FAST).fit(X_missing)
    assert imp._point_mass_[2] == 12.0 and np.isnan(imp._point_mass_[:2]).all()
    hidden = gaps[:, 2]
    truth = X[hidden, 2]

    def at_heap():
        draws = np.stack(imp.sample_imputations(X_missing, 10, random_state=0))[:, hidden, 2]
        assert np.isin(draws, X_missing[:, 2]).all()  # whole years the column holds
        spread = np.abs(draws[:, None] - draws[None]).mean(axis=(0, 1))
        crps = np.mean(np.abs(draws - truth).mean(axis=0) - 0.5 * spread)
        return (draws == 12).mean(), (draws[:, truth == 12] == 12).mean(), crps

    share, recalled, crps = at_heap()
    imp._donors_ = None  # Gaussian draws, rounded to whole years, as before
    share_before, recalled_before, crps_before = at_heap()
    # (Donors: 0.43 of the draws at 12 against 0.335 of the hidden values,
    # 0.60 of the hidden 12s drawn as 12, CRPS 0.83; Gaussian: 0.15, 0.18,
    # 0.96.)
    truth_share = (truth == 12).mean()
    assert abs(share - truth_share) < 0.6 * abs(share_before - truth_share)
    assert recalled > recalled_before + 0.2
    assert crps < 0.95 * crps_before
    # A code of three values heaped in the middle keeps its Gaussian draws
    # (rounding already draws it at its values).
    code = np.where(z < -0.5, 1.0, np.where(z > 0.5, 3.0, 2.0))
    coded = np.where(gaps[:, 2], np.nan, code)
    three = AutoencoderImputer(**FAST).fit(np.column_stack([X_missing[:, :2], coded]))
    assert np.isnan(three._point_mass_[2])


def test_draws_follow_the_estimators_random_state():
    # A new user's trial 35: sample_imputations without a random_state drew
    # from NumPy's global generator, so pooled estimates from the README's
    # AutoencoderImputer(random_state=0) changed from run to run (by up to
    # 217,810 in a house price). None now continues a stream seeded in fit:
    # the same on every run, fresh on every call (trial 36: draws identical
    # on every call would make a loop of single draws one imputation).
    X_missing, _ = hide(sharp_functions(n=200), 0.2)

    def two_calls(imp):
        return imp.sample_imputations(X_missing, 2), imp.sample_imputations(X_missing, 1)

    imp = AutoencoderImputer(**FAST).fit(X_missing)
    first, second = two_calls(imp)
    assert not np.array_equal(first[0], first[1])  # the draws within a call differ
    assert not np.array_equal(first[0], second[0])  # and between calls
    rerun = two_calls(AutoencoderImputer(**FAST).fit(X_missing))  # the same script again
    np.testing.assert_array_equal(np.stack(first), np.stack(rerun[0]))
    np.testing.assert_array_equal(second[0], rerun[1][0])
    refit = two_calls(imp.fit(X_missing))  # a new fit starts the stream again
    np.testing.assert_array_equal(np.stack(first), np.stack(refit[0]))
    seeded = imp.sample_imputations(X_missing, 2, random_state=1)
    np.testing.assert_array_equal(np.stack(seeded),
                                  np.stack(imp.sample_imputations(X_missing, 2, random_state=1)))
    fresh = AutoencoderImputer(**{**FAST, "random_state": None})
    assert not np.array_equal(fresh.fit(X_missing).sample_imputations(X_missing, 1)[0],
                              fresh.fit(X_missing).sample_imputations(X_missing, 1)[0])


def test_partial_fit_draws_follow_every_chunks_donors():
    # A new user's trial 37: the donors came from the first partial_fit call
    # alone (later, smaller calls kept them), so a stream sorted by farm size
    # drew a column up to its first chunk's largest value (135, where the
    # hidden values reached 3,270; the draws' 90% ranges covered 0.06).
    # Every call's donors now join the pool, in proportion to its rows.
    rng = np.random.default_rng(5)
    n = 1200
    z = rng.normal(size=n)
    amount = np.where(z > -0.3, 10 * np.exp(z), 0.0)
    X = np.column_stack([z + 0.3 * rng.normal(size=n), z, amount])
    X_missing = np.where(rng.random(X.shape) < 0.2, np.nan, X)
    chunks = np.array_split(X_missing[np.argsort(z + rng.normal(size=n))], 4)
    imp = AutoencoderImputer(**FAST).partial_fit(chunks[0])
    assert imp._point_mass_[2] == 0.0
    first_max = np.nanmax(chunks[0][:, 2])
    for chunk in chunks[1:]:
        imp.partial_fit(chunk)
    values = imp._donors_[2][1]
    seen = X_missing[:, 2][~np.isnan(X_missing[:, 2])]
    assert abs((values > first_max).mean() - (seen > first_max).mean()) < 0.05
    assert abs((values == 0).mean() - (seen == 0).mean()) < 0.05
    gaps = np.isnan(X_missing[:, 2])
    draws = np.stack(imp.sample_imputations(X_missing, 10, random_state=0))[:, gaps, 2]
    truth = X[gaps, 2]
    low, high = np.quantile(draws, [0.05, 0.95], axis=0)
    # (First chunk's donors alone: draws up to 32.7, covering 0.77; the
    # stream's: up to 194, covering 0.92. The zeros are drawn 0.30 of the
    # time against 0.43 hidden: this stream ends on its largest amounts,
    # and the network leans to its last chunk; one fit draws 0.40.)
    assert draws.max() > 2 * first_max
    assert ((truth >= low) & (truth <= high)).mean() > 0.85
    assert abs((draws == 0).mean() - (truth == 0).mean()) < 0.2
    # A later chunk that moves the mass off the range's end keeps it where
    # the chunk shows many values (a heap inside the range), and drops it
    # (and its donors) where it shows a few; so does one that leaves it
    # under a fifth of all values.
    below = chunks[0].copy()
    below[:, 2] -= 1.0
    assert imp.partial_fit(below)._point_mass_[2] == 0.0
    assert 2 in imp._donors_
    below[:, 2] = np.where(np.isnan(below[:, 2]), np.nan, -1.0)
    assert np.isnan(imp.partial_fit(below)._point_mass_[2])
    drawn = np.concatenate([d[gaps, 2] for d in imp.sample_imputations(X_missing, 3)])
    # Gaussian draws again: values no row holds (donors draw only held ones).
    assert np.isin(drawn, np.concatenate([X_missing[:, 2], below[:, 2]])).mean() < 0.5
    thin = AutoencoderImputer(**FAST).partial_fit(chunks[0])
    positive = X_missing[~np.isnan(X_missing[:, 2]) & (X_missing[:, 2] > 0)]
    thin.partial_fit(np.vstack([positive] * 4))  # zeros now a few percent of all values
    assert np.isnan(thin._point_mass_[2])


def test_a_column_that_is_a_linear_function_of_others_is_recovered():
    """A new user's charge, 0.17 times the minutes (trial 54): the network alone erred 4.5%."""
    rng = np.random.default_rng(0)
    minutes = rng.uniform(0, 350, 600)
    X = np.column_stack([minutes, 0.17 * minutes, rng.normal(size=(600, 3))])
    X[:, 4] = X[:, 2] + 2 * X[:, 3]  # a total of two parts
    missing = X.copy()
    missing[rng.random(X.shape) < 0.2] = np.nan
    imp = AutoencoderImputer(random_state=0).fit(missing)
    assert imp.linear_weights_[[0, 1, 4]].min() > 0.9
    out = imp.transform(missing)
    charge = np.isnan(missing[:, 1]) & ~np.isnan(missing[:, 0])
    np.testing.assert_allclose(out[charge, 1], X[charge, 1], atol=1e-3 * X[:, 1].std())
    total = np.isnan(missing[:, 4]) & ~np.isnan(missing[:, 2:4]).any(axis=1)
    np.testing.assert_allclose(out[total, 4], X[total, 4], atol=1e-3 * X[:, 4].std())
    # Without it, the network and its trees are far off; draws of recalled gaps stay close.
    off = AutoencoderImputer(recall_linear=False, random_state=0).fit_transform(missing)
    assert np.abs(off[charge, 1] - X[charge, 1]).mean() > 100 * np.abs(
        out[charge, 1] - X[charge, 1]).mean()
    draws = imp.sample_imputations(missing, n_imputations=3, random_state=0)
    spread = np.std([draw[charge, 1] for draw in draws], axis=0).mean()
    assert spread < 0.05 * imp.residual_std_[1]
    restored = pickle.loads(pickle.dumps(imp))
    np.testing.assert_array_equal(restored.transform(missing), out)
    import skops.io as sio

    dumped = sio.dumps(imp)
    untrusted = sio.get_untrusted_types(data=dumped)
    assert set(untrusted) <= {"skae._imputer.AutoencoderImputer", "skae._tabular.TableEncoder"}
    np.testing.assert_array_equal(sio.loads(dumped, trusted=untrusted).transform(missing), out)


def test_columns_without_linear_relations_are_left_alone():
    X_missing, _ = hide(sharp_functions(n=300), 0.2)
    imp = AutoencoderImputer(**FAST).fit(X_missing)
    assert imp.linear_weights_ is None or not imp.linear_weights_[3:].any()
    assert AutoencoderImputer(recall_linear=False, **FAST).fit(X_missing).linear_weights_ is None


def test_a_category_of_many_levels_is_not_harmed_by_its_classifier():
    """Trial 55: at 40-100 levels the boosted classifier diverged (accuracy 0.26 to 0.05)."""
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, 1000)
    frame = pd.DataFrame({"x": x, "y": rng.normal(size=1000),
                          "c": pd.Categorical([f"L{int(v * 60):02d}" for v in x])})
    missing = frame.copy()
    hidden = rng.random(1000) < 0.2
    missing.loc[hidden, "c"] = np.nan
    params = dict(max_epochs=30, random_state=0)
    imp = AutoencoderImputer(**params).fit(missing)
    assert imp.trees_[2] is None  # 60 levels: more than the classifiers take
    right = (imp.transform(missing)["c"][hidden] == frame["c"][hidden]).mean()
    alone = AutoencoderImputer(tree_weight=0.0, **params).fit_transform(missing)
    assert right >= (alone["c"][hidden] == frame["c"][hidden]).mean()


def test_a_category_marked_by_another_missing_value_is_a_gap():
    # Trial 57: with missing_values=-1 a category's gaps were encoded as an
    # observed level "NaN" and 137 of 194 came back NaN; they are gaps, as NaN is.
    rng = np.random.default_rng(0)
    a = rng.normal(size=400)
    X = np.c_[a, (a > 0).astype(float), a + 0.1 * rng.normal(size=400)]
    gaps = rng.random(400) < 0.6
    outputs = []
    for marker in (-1, np.nan):
        X_missing = X.copy()
        X_missing[gaps, 1] = marker
        imp = AutoencoderImputer(missing_values=marker, categorical_features=[1],
                                 max_epochs=30, random_state=0).fit(X_missing)
        assert imp.encoder_.categories[1] == [0.0, 1.0]
        out = np.asarray(imp.transform(X_missing), dtype=float)
        assert not np.isnan(out).any()
        assert (out[gaps, 1] == X[gaps, 1]).mean() > 0.9
        # A row marked missing everywhere is empty: the columns' means and mode.
        empty = np.asarray(imp.transform(np.full((1, 3), marker)), dtype=float)[0]
        np.testing.assert_allclose(empty[[0, 2]], X[:, [0, 2]].mean(axis=0), rtol=1e-5)
        outputs.append(out)
    np.testing.assert_array_equal(outputs[0], outputs[1])


def test_an_empty_row_after_partial_fit_gets_every_call_s_means():
    # Trial 57: after partial_fit an empty row got the last chunk's mean and mode.
    rng = np.random.default_rng(0)
    n = 600
    X = pd.DataFrame({"a": rng.normal(size=n) + np.linspace(0, 3, n),
                      "c": pd.Categorical(rng.choice(list("rpq"), n, p=[0.6, 0.2, 0.2])),
                      "b": rng.normal(size=n)})
    X.loc[560:, "c"] = np.nan
    imp = AutoencoderImputer(max_epochs=3, random_state=0)
    for rows in (slice(0, 280), slice(280, 560), slice(560, None)):
        imp.partial_fit(X.iloc[rows])
    empty = X.head(1).copy()
    empty[["a", "b"]] = np.nan
    empty["c"] = pd.Categorical([None], categories=X["c"].cat.categories)
    out = imp.transform(empty).iloc[0]
    assert out["a"] == pytest.approx(X["a"].mean(), rel=1e-6)
    assert out["b"] == pytest.approx(X["b"].mean(), abs=1e-6)
    assert out["c"] == "r"


def test_a_text_placeholder_leaves_numbers_numbers():
    # Trial 57: with missing_values="?" (UCI's marker), a column of numbers
    # holding "?" is object, and was taken for a category of 295 levels.
    rng = np.random.default_rng(0)
    a = rng.normal(size=300)
    X = pd.DataFrame({"a": a.round(3).astype(object), "b": 2 * a + 0.1 * rng.normal(size=300),
                      "c": np.where(a > 0, "hi", "lo")})
    X.loc[rng.random(300) < 0.2, "a"] = "?"
    X.loc[rng.random(300) < 0.2, "c"] = "?"
    before = X.copy()
    imp = AutoencoderImputer(missing_values="?", max_epochs=30, random_state=0)
    out = imp.fit_transform(X)
    pd.testing.assert_frame_equal(X, before)
    assert list(imp.is_categorical_) == [False, False, True]
    assert out["a"].dtype == np.float64
    gaps = before["a"].eq("?").to_numpy()
    assert np.sqrt(np.mean((out["a"].to_numpy()[gaps] - a[gaps]) ** 2)) < 0.2
    assert set(out["c"]) == {"hi", "lo"}
    # NaN is no gap under another marker: refused, as before.
    with pytest.raises(ValueError, match="contains NaN in column 'b', but missing_values='?'"):
        imp.fit(X.assign(b=np.nan))
    with pytest.raises(ValueError, match="contains NaN in column 1, but missing_values='?'"):
        imp.fit(np.array([[1.0, np.nan], [2.0, 3.0]]))


def test_training_rows_hide_shares_of_their_own():
    # One share for every row let a 605-column network learn the share and
    # impute rows hiding less than it (transform) worse than column means
    # (trial 69); each row now draws its share between 0 and 2 * hide_fraction.
    import torch

    from skae._data import TensorDataset
    from skae._imputer import _HidingBatches

    torch.manual_seed(0)
    observed = torch.ones(2000, 200)
    hiding = _HidingBatches(0.15, expand=lambda visible: visible)
    dataset = TensorDataset(torch.zeros(2000, 200), observed)
    shares = []
    for (_, visible), _ in hiding(dataset, batch_size=500):
        shares.append(1.0 - visible.mean(dim=1))
    shares = torch.cat(shares)
    assert abs(shares.mean().item() - 0.15) < 0.01
    assert shares.min().item() < 0.03 and shares.max().item() > 0.27
    # Validation keeps one fixed share, comparable across epochs.
    fixed = _HidingBatches(0.15, expand=lambda visible: visible, seed=1)
    (_, visible), _ = next(iter(fixed(dataset, batch_size=2000)))
    assert (1.0 - visible.mean(dim=1)).max().item() < 0.27
