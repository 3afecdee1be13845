"""Scoring and transforming Dask collections partition by partition."""

import numpy as np
import pandas as pd
import pytest

from skae import (
    AutoencoderAnomalyDetector,
    AutoencoderImputer,
    AutoencoderTransformer,
    map_partitions,
)

da = pytest.importorskip("dask.array")
dd = pytest.importorskip("dask.dataframe")
dask = pytest.importorskip("dask")


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def _table(n=200, d=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2)) @ rng.normal(size=(2, d)) + 0.1 * rng.normal(size=(n, d))


@pytest.fixture(scope="module")
def transformer():
    return AutoencoderTransformer(n_components=2, max_epochs=2, random_state=0).fit(_table())


@pytest.fixture(scope="module")
def detector():
    return AutoencoderAnomalyDetector(max_epochs=2, random_state=0).fit(_table())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("method", ["transform", "score_samples", "inverse_transform"])
def test_array_partitions_equal_the_whole_array(transformer, method, dtype):
    X = _table(seed=1).astype(dtype)
    if method == "inverse_transform":
        X = transformer.transform(X)
    whole = getattr(transformer, method)(X)
    result = map_partitions(transformer, da.from_array(X, chunks=(50, -1)), method)
    assert result.numblocks[0] == 4
    assert result.dtype == whole.dtype and result.shape == whole.shape
    computed = result.compute()
    assert computed.dtype == whole.dtype
    np.testing.assert_allclose(computed, whole, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("method", ["score_samples", "decision_function", "predict"])
def test_detector_scores_partitions_like_the_whole_array(detector, method):
    X = _table(seed=2)
    whole = getattr(detector, method)(X)
    # Chunked along the columns too: rechunked to whole rows.
    computed = map_partitions(detector, da.from_array(X, chunks=(50, 2)), method).compute()
    assert computed.dtype == whole.dtype
    np.testing.assert_allclose(computed, whole, rtol=1e-5, atol=1e-6)


def test_dataframe_partitions_keep_index_names_and_dtypes(transformer):
    columns = [f"f{i}" for i in range(5)]
    frame = pd.DataFrame(_table(seed=3), columns=columns, index=np.arange(200) + 1000)
    named = AutoencoderTransformer(n_components=2, max_epochs=2, random_state=0).fit(frame)
    parts = dd.from_pandas(frame, npartitions=4)

    codes = map_partitions(named, parts)
    assert list(codes.columns) == list(named.get_feature_names_out())
    computed = codes.compute()
    expected = named.transform(frame)
    assert (computed.dtypes == expected.dtype).all()
    pd.testing.assert_index_equal(computed.index, frame.index)
    np.testing.assert_allclose(computed.to_numpy(), expected, rtol=1e-5, atol=1e-6)

    scores = map_partitions(named, parts, "score_samples")
    assert scores.name == "score_samples"
    series = scores.compute()
    np.testing.assert_allclose(series.to_numpy(), named.score_samples(frame), rtol=1e-5)
    assert series.dtype == named.score_samples(frame).dtype


def test_mixed_table_with_categories():
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"x": rng.normal(size=120), "y": rng.normal(size=120),
                          "kind": pd.Categorical(rng.choice(["a", "b", "c"], 120))})
    detector = AutoencoderAnomalyDetector(max_epochs=2, random_state=0).fit(frame)
    scores = map_partitions(detector, dd.from_pandas(frame, npartitions=4), "score_samples")
    np.testing.assert_allclose(scores.compute().to_numpy(), detector.score_samples(frame),
                               rtol=1e-5, atol=1e-6)


def test_imputer_fills_partitions():
    X = _table(seed=5)
    X[::7, 1] = np.nan
    imputer = AutoencoderImputer(max_epochs=2, random_state=0).fit(X)
    computed = map_partitions(imputer, da.from_array(X, chunks=(50, -1))).compute()
    np.testing.assert_allclose(computed, imputer.transform(X), rtol=1e-5, atol=1e-6)


def test_meta_given_skips_inference(transformer):
    X = da.from_array(_table(seed=6), chunks=(50, -1))
    result = map_partitions(transformer, X, meta=np.empty((0, 2), dtype=np.float64))
    assert result.shape == (200, 2)


def test_refuses_bad_input(transformer):
    with pytest.raises(TypeError, match="dask.array.Array or a dask.dataframe"):
        map_partitions(transformer, _table())
    with pytest.raises(ValueError, match="method='fit'"):
        map_partitions(transformer, da.from_array(_table()), "fit")
    with pytest.raises(AttributeError, match="no method 'predict'"):
        map_partitions(transformer, da.from_array(_table()), "predict")
    with pytest.raises(ValueError, match="2-D"):
        map_partitions(transformer, da.from_array(np.zeros(10)))


def test_empty_partitions(transformer):
    frame = pd.DataFrame(_table(seed=7), columns=[f"f{i}" for i in range(5)])
    frame["f0"] = np.arange(200.0)
    named = AutoencoderTransformer(n_components=2, max_epochs=1, random_state=0).fit(frame)
    kept = dd.from_pandas(frame, npartitions=4)
    kept = kept[kept.f0 >= 120]  # the first two partitions are empty
    scores = map_partitions(named, kept, "score_samples").compute()
    expected = named.score_samples(frame[frame.f0 >= 120])
    np.testing.assert_allclose(scores.to_numpy(), expected, rtol=1e-5, atol=1e-6)
    codes = map_partitions(named, kept).compute()
    assert codes.shape == (80, 2)
