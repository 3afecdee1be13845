"""Sparse input to AutoencoderImputer(missing_values=0): unstored entries are missing."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from skae import (
    AutoencoderAnomalyDetector,
    AutoencoderImputer,
    AutoencoderTransformer,
    top_n_items,
)
from skae._data import SparseRowsDataset, TensorDataset

FAST = dict(max_epochs=5, batch_size=32, hidden_layer_sizes=(64,), random_state=0)


def _ratings(n_users=200, n_items=150, observed=0.05, seed=0):
    """A low-rank rating matrix: dense with NaN, and the CSR of its observed entries."""
    rng = np.random.default_rng(seed)
    users, items = rng.normal(size=(n_users, 3)), rng.normal(size=(n_items, 3))
    full = np.clip(np.round(3.5 + 0.6 * users @ items.T), 1, 5)
    seen = rng.random(full.shape) < observed
    dense = np.where(seen, full, np.nan).astype(np.float32)
    return dense, sp.csr_matrix(np.where(seen, full, 0.0).astype(np.float32))


@pytest.mark.parametrize(
    "params",
    [
        dict(scaling="global"),
        dict(scaling="standard"),
        dict(scaling=None),
        dict(early_stopping=True, add_indicator=True, keep_empty_features=True),
    ],
)
def test_sparse_fit_imputes_like_the_dense_fit(params):
    # The same numbers to float32's precision: bfloat16 products would round
    # the paths' last-digit differences apart.
    params = {**params, "mixed_precision": False}
    dense, sparse = _ratings()
    dense[:, 7], sparse = np.nan, sp.csr_matrix(sparse.multiply(np.arange(150) != 7))
    sparse.eliminate_zeros()
    # The sparse path imputes with the network alone: so does this dense fit.
    on_dense = AutoencoderImputer(**FAST, **params, tree_weight=0.0).fit(dense)
    on_sparse = AutoencoderImputer(missing_values=0, **FAST, **params).fit(sparse)
    expected = on_dense.transform(dense)
    imputed = on_sparse.transform(sparse)
    assert isinstance(imputed, np.ndarray) and imputed.dtype == np.float32
    assert imputed.shape == expected.shape
    np.testing.assert_allclose(imputed, expected, rtol=1e-4, atol=1e-4)
    # A spread sums errors over hidden entries: float32 differences of 1e-4
    # in the predictions reach it as 5e-4 on a column with few of them, and
    # 1e-6 on a spread of 7e-4 (a column predicted almost exactly).
    np.testing.assert_allclose(on_sparse.residual_std_, on_dense.residual_std_, rtol=1e-3,
                               atol=1e-5)
    # Dense rows with zeros for the gaps: the same numbers again.
    zeros = np.nan_to_num(dense, nan=0.0)
    np.testing.assert_allclose(on_sparse.transform(zeros), expected, rtol=1e-4, atol=1e-4)


def test_a_column_is_constant_only_on_enough_observed_values():
    # A new user's trial: a user (column) who rated two items 5 was predicted
    # 5 everywhere by the dense fit (no order to rank items by), not by the
    # sparse one. Two equal values are no constant column; twenty are.
    dense, _ = _ratings()
    dense[:, 0] = np.nan
    dense[[5, 9], 0] = 5.0
    dense[:, 1] = np.nan
    dense[:30, 1] = 4.0
    sparse = sp.csr_matrix(np.nan_to_num(dense))
    params = dict(mixed_precision=False, tree_weight=0.0, **FAST)
    on_dense = AutoencoderImputer(**params).fit_transform(dense)
    on_sparse = AutoencoderImputer(missing_values=0, **params).fit_transform(sparse)
    assert np.ptp(on_dense[:, 0]) > 0.1
    np.testing.assert_allclose(on_sparse, on_dense, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(on_dense[:, 1], 4.0)


@pytest.mark.parametrize("fmt", ["csc", "coo"])
def test_other_sparse_formats_and_float64(fmt):
    _, sparse = _ratings()
    # float32's precision (see above): no bfloat16.
    params = dict(missing_values=0, mixed_precision=False, **FAST)
    reference = AutoencoderImputer(**params).fit_transform(sparse)
    other = sparse.asformat(fmt).astype(np.float64)
    imputed = AutoencoderImputer(**params).fit_transform(other)
    assert imputed.dtype == np.float64
    np.testing.assert_allclose(imputed, reference, rtol=1e-4, atol=1e-4)


def test_observed_entries_unchanged_and_row_slices_agree():
    _, sparse = _ratings()
    imputer = AutoencoderImputer(missing_values=0, **FAST)
    imputed = imputer.fit_transform(sparse)
    rows, cols = sparse.nonzero()
    np.testing.assert_array_equal(imputed[rows, cols], sparse.data)
    assert np.isfinite(imputed).all()
    np.testing.assert_array_equal(imputer.transform(sparse[50:80]), imputed[50:80])


def test_stored_nan_counts_as_missing():
    _, sparse = _ratings()
    with_nan = sparse.copy()
    with_nan.data[::10] = np.nan
    without = sparse.copy()
    without.data[::10] = 0.0
    without.eliminate_zeros()
    a = AutoencoderImputer(missing_values=0, **FAST).fit(with_nan)
    b = AutoencoderImputer(missing_values=0, **FAST).fit(without)
    np.testing.assert_allclose(a.transform(with_nan), b.transform(without), rtol=1e-5)


def test_training_data_holds_only_the_stored_entries():
    _, sparse = _ratings(n_users=400, n_items=300, observed=0.02)
    imputer = AutoencoderImputer(missing_values=0, **FAST).fit(sparse)
    X = imputer._validate_input(sparse, reset=False)
    dataset = imputer._dataset(imputer._training_data(X))
    assert isinstance(dataset, SparseRowsDataset)
    assert dataset.values.numel() == dataset.indices.numel() == sparse.nnz
    assert dataset.indptr.numel() == sparse.shape[0] + 1
    assert dataset.nbytes <= 12 * sparse.nnz + 8 * (sparse.shape[0] + 1)
    assert dataset.nbytes < 0.1 * 4 * np.prod(sparse.shape)  # a dense float32 copy


def test_sparse_rows_dataset_batches_and_subsets_match_the_dense_rows():
    _, sparse = _ratings(n_users=40, n_items=30, observed=0.2)
    dataset = SparseRowsDataset(
        torch.from_numpy(sparse.indptr.astype(np.int64)),
        torch.from_numpy(sparse.indices.astype(np.int64)),
        torch.from_numpy(sparse.data),
        sparse.shape[1],
    )
    x = torch.from_numpy(sparse.toarray())
    observed = torch.from_numpy((sparse.toarray() != 0).astype(np.float32))
    dense = TensorDataset(x, observed)
    index = torch.tensor([5, 0, 39, 5, 17])
    for got, want in zip(dataset.rows(index), dense.rows(index)):
        torch.testing.assert_close(got, want)
    for got, want in zip(dataset.rows(slice(30, 50)), dense.rows(slice(30, 50))):
        torch.testing.assert_close(got, want)
    for got, want in zip(dataset.subset(index).rows(slice(None)), dense.subset(index).tensors):
        torch.testing.assert_close(got, want)
    assert len(dataset) == 40 and len(dataset.subset(index)) == 5
    torch.testing.assert_close(dataset[3][0], x[3])


def test_sample_imputations_of_sparse_input():
    _, sparse = _ratings()
    imputer = AutoencoderImputer(missing_values=0, **FAST).fit(sparse)
    draws = imputer.sample_imputations(sparse, n_imputations=2, random_state=0)
    rows, cols = sparse.nonzero()
    assert len(draws) == 2
    for draw in draws:
        assert draw.shape == sparse.shape and np.isfinite(draw).all()
        np.testing.assert_array_equal(draw[rows, cols], sparse.data)
    assert not np.array_equal(draws[0], draws[1])


def test_sparse_with_other_missing_values_says_how():
    _, sparse = _ratings(n_users=20, n_items=10, observed=0.5)
    for estimator in (AutoencoderImputer(), AutoencoderImputer(missing_values=-1)):
        with pytest.raises(TypeError, match=r"toarray.*missing_values=0"):
            estimator.fit(sparse)


# ----------------------------------------------------------------------
# The transformer and the detector: unstored entries are zeros
# ----------------------------------------------------------------------
def _tfidf_like(n_rows=240, n_columns=60, density=0.08, seed=0):
    """Non-negative sparse rows with a low-rank structure (as TF-IDF has)."""
    rng = np.random.default_rng(seed)
    topics = rng.random((n_rows, 3)) @ rng.random((3, n_columns))
    kept = rng.random((n_rows, n_columns)) < density
    return sp.csr_matrix(np.where(kept, topics, 0.0))


@pytest.mark.parametrize("cls", [AutoencoderTransformer, AutoencoderAnomalyDetector])
@pytest.mark.parametrize("scaling", ["auto", "standard", "robust", "global", None])
def test_sparse_fit_equals_the_dense_fit_under_the_same_scaling(cls, scaling):
    """Sparse input is scaled without centering; a dense fit of the same scaled rows agrees."""
    X = _tfidf_like()
    params = dict(FAST, n_components=3, scaling=scaling)
    on_sparse = cls(**params).fit(X)
    scaler = on_sparse.scaler_
    assert not getattr(scaler, "with_mean", False) and not getattr(scaler, "with_centering", False)
    scale = getattr(scaler, "scale_", None)
    scaled = X.toarray() / (1.0 if scale is None else scale)
    on_dense = cls(**{**params, "scaling": None}).fit(scaled)
    rtol = dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(on_sparse.score_samples(X), on_dense.score_samples(scaled), **rtol)
    if cls is AutoencoderTransformer:
        codes = on_sparse.transform(X)
        np.testing.assert_allclose(codes, on_dense.transform(scaled), **rtol)
        np.testing.assert_allclose(on_sparse.fit_transform(X), codes, **rtol)
        back = on_sparse.inverse_transform(codes)
        assert isinstance(back, np.ndarray) and back.shape == X.shape
    else:
        np.testing.assert_array_equal(on_sparse.predict(X), on_dense.predict(scaled))
        explained = on_sparse.explain(X[:5])
        np.testing.assert_allclose(explained.to_numpy(), on_dense.explain(scaled[:5]).to_numpy(),
                                   **rtol)
    # Dense rows give the same outputs as sparse rows, and X is left as it was.
    before = X.copy()
    np.testing.assert_allclose(on_sparse.score_samples(X.toarray()),
                               on_sparse.score_samples(X), **rtol)
    assert (X != before).nnz == 0


@pytest.mark.parametrize("fmt", ["csc", "coo"])
def test_sparse_formats_and_float32_for_the_transformer(fmt):
    X = _tfidf_like()
    reference = AutoencoderTransformer(**FAST).fit(X).transform(X)
    other = X.asformat(fmt).astype(np.float32)
    codes = AutoencoderTransformer(**FAST).fit(other).transform(other)
    assert codes.dtype == np.float32
    np.testing.assert_allclose(codes, reference, rtol=1e-4, atol=1e-5)


def test_sparse_training_data_stays_sparse():
    X = _tfidf_like()
    est = AutoencoderTransformer(**FAST).fit(X)
    data = est._training_data(X)
    assert sp.issparse(data) and data.nnz == X.nnz
    dataset = est._dataset(data)
    assert isinstance(dataset, SparseRowsDataset) and not dataset.with_mask
    (x,) = dataset.rows(slice(0, 7))
    np.testing.assert_allclose(x.numpy(), data[:7].toarray())


@pytest.mark.parametrize("cls", [AutoencoderTransformer, AutoencoderAnomalyDetector])
def test_sparse_input_errors_for_the_transformer_and_detector(cls):
    X = _tfidf_like(n_rows=30)
    with pytest.raises(ValueError, match="categorical_features cannot be used with sparse"):
        cls(categorical_features=[0], **FAST).fit(X)
    bad = X.copy()
    bad.data[3] = np.nan
    with pytest.raises(ValueError, match=f"NaN.*column {bad.indices[3]}"):
        cls(**FAST).fit(bad)
    fitted = cls(**FAST).fit(X)
    with pytest.raises(ValueError, match="features"):
        fitted.score_samples(X[:, :10])


@pytest.mark.parametrize(
    "params, X_change, match",
    [
        (dict(categorical_features=[0]), None, "categorical_features cannot be used"),
        (dict(scaling="robust"), None, "scaling='robust' is not available"),
        ({}, "inf", "infinity"),
    ],
)
def test_sparse_input_errors(params, X_change, match):
    _, sparse = _ratings(n_users=20, n_items=10, observed=0.5)
    if X_change == "inf":
        sparse.data[0] = np.inf
    with pytest.raises(ValueError, match=match):
        AutoencoderImputer(missing_values=0, **{**FAST, **params}).fit(sparse)


def test_sparse_transform_checks_the_feature_count():
    _, sparse = _ratings(n_users=20, n_items=10, observed=0.5)
    imputer = AutoencoderImputer(missing_values=0, **FAST).fit(sparse)
    with pytest.raises(ValueError, match="features"):
        imputer.transform(sparse[:, :8])
    assert imputer.n_features_in_ == 10
    assert imputer.__sklearn_tags__().input_tags.sparse
    assert not AutoencoderImputer().__sklearn_tags__().input_tags.sparse


def test_top_n_items_with_sparse_known_ratings():
    dense, sparse = _ratings(n_users=50, n_items=30, observed=0.3)
    predicted = np.random.default_rng(0).normal(size=dense.shape)
    top = top_n_items(predicted, sparse, n=5)
    np.testing.assert_array_equal(top, top_n_items(predicted, dense, n=5))
    rated = sparse.toarray() != 0
    assert not rated[np.arange(50)[:, None], top].any()
    np.testing.assert_array_equal(top_n_items(predicted, sparse.tocsc(), n=5), top)


def test_residual_spread_from_a_row_sample_of_a_large_sparse_matrix():
    # Over 10,000 rows the residual spread comes from a row sample, in blocks.
    rng = np.random.default_rng(0)
    seen = rng.random((12_000, 40)) < 0.1
    values = rng.integers(1, 6, seen.shape).astype(np.float32)
    dense = np.where(seen, values, np.nan).astype(np.float32)
    sparse = sp.csr_matrix(np.where(seen, values, 0.0).astype(np.float32))
    params = dict(max_epochs=1, hidden_layer_sizes=(16,), batch_size=512, random_state=0)
    on_dense = AutoencoderImputer(**params).fit(dense)
    on_sparse = AutoencoderImputer(missing_values=0, **params).fit(sparse)
    # A spread sums errors over hidden entries: float32 differences of 1e-4
    # in the predictions reach it as 5e-4 on a column with few of them, and
    # 1e-6 on a spread of 7e-4 (a column predicted almost exactly).
    np.testing.assert_allclose(on_sparse.residual_std_, on_dense.residual_std_, rtol=1e-3,
                               atol=1e-5)


@pytest.mark.parametrize("cls", [AutoencoderTransformer, AutoencoderAnomalyDetector])
@pytest.mark.parametrize("scaling", ["auto", "standard", "global", "robust"])
def test_a_dense_fit_takes_sparse_rows(cls, scaling):
    # A new user's trial 40: fitted on dense rows with a centring scaling,
    # sparse rows raised StandardScaler's "pass with_mean=False" (skae has
    # no such parameter) or "dense data is required", by scaling.
    X = np.random.default_rng(0).normal(size=(60, 6))
    X[X < 0.3] = 0.0
    model = cls(**FAST, n_components=2, scaling=scaling).fit(X)
    rows = sp.csr_matrix(X)
    np.testing.assert_allclose(model.score_samples(rows), model.score_samples(X), rtol=1e-6)
    if cls is AutoencoderTransformer:
        np.testing.assert_allclose(model.transform(sp.coo_matrix(X)), model.transform(X),
                                   rtol=1e-6)
    with pytest.raises(ValueError, match="X has 5 features"):
        model.score_samples(rows[:, :5])


@pytest.mark.parametrize("cls", [AutoencoderTransformer, AutoencoderAnomalyDetector,
                                 AutoencoderImputer])
def test_a_dataframe_of_sparse_columns_is_sparse_input(cls):
    # Trial 40: pandas' sparse DataFrame was refused ("dense data is required;
    # use .toarray()", which a DataFrame lacks); scikit-learn's scalers and
    # IsolationForest take it.
    import pandas as pd

    X = _tfidf_like()
    frame = pd.DataFrame.sparse.from_spmatrix(X, columns=[f"w{j}" for j in range(X.shape[1])])
    params = dict(FAST, **({"missing_values": 0} if cls is AutoencoderImputer
                           else {"n_components": 3}))
    on_frame, on_matrix = cls(**params).fit(frame), cls(**params).fit(X)
    assert list(on_frame.feature_names_in_) == list(frame.columns)
    out = (on_frame.transform if cls is not AutoencoderAnomalyDetector
           else on_frame.score_samples)(frame)
    expected = (on_matrix.transform if cls is not AutoencoderAnomalyDetector
                else on_matrix.score_samples)(X)
    np.testing.assert_allclose(np.asarray(out), np.asarray(expected), rtol=1e-6)
    if cls is AutoencoderImputer:
        with pytest.raises(TypeError, match=r"sparse.to_dense\(\)"):
            AutoencoderImputer(**FAST).fit(frame)
