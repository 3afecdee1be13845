"""Recommendation: AutoencoderImputer on a rating matrix, and top_n_items."""

import time

import numpy as np
import pytest

from skae import AutoencoderImputer, top_n_items

# The AutoRec-shaped recipe of the user guide (docs/user_guide/recommendation.rst).
AUTOREC = dict(
    hidden_layer_sizes=(500,), activation="logistic", module__linear_path=False,
    module__n_passes=1, module__n_bins=0, scaling="global", optimizer__weight_decay=1e-3,
)


def _ratings(n_users=300, n_items=200, observed=0.05, seed=0):
    """Ratings 1..5 from user and item biases and three latent tastes."""
    rng = np.random.default_rng(seed)
    users, items = rng.normal(size=(n_users, 3)), rng.normal(size=(n_items, 3))
    full = 3.5 + 0.5 * rng.normal(size=(n_users, 1)) + 0.7 * rng.normal(size=(1, n_items))
    full = np.clip(np.round(full + 0.6 * users @ items.T), 1, 5)
    seen = rng.random(full.shape) < observed
    seen[np.arange(n_users), rng.integers(0, n_items, n_users)] = True  # nobody is empty
    return full, seen


def test_top_n_items_excludes_rated_items_and_orders_by_score():
    rng = np.random.default_rng(0)
    predicted = rng.normal(size=(50, 30))
    X = np.where(rng.random((50, 30)) < 0.3, 4.0, np.nan)
    top = top_n_items(predicted, X, n=5)
    assert top.shape == (50, 5) and top.dtype.kind == "i"
    for user, items in enumerate(top):
        unrated = np.flatnonzero(np.isnan(X[user]))
        assert np.isnan(X[user, items]).all()
        expected = unrated[np.argsort(-predicted[user, unrated])][:5]
        np.testing.assert_array_equal(items, expected)


def test_top_n_items_pads_users_with_few_unrated_items():
    X = np.array([[1.0, 2.0, np.nan], [np.nan, np.nan, np.nan]])
    top = top_n_items(np.ones((2, 3)), X, n=4)
    np.testing.assert_array_equal(top, [[2, -1, -1, -1], [0, 1, 2, -1]])


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.ones((2, 3)), np.ones((3, 2))), "same shape"),
        ((np.ones(3), np.ones(3)), "2-D arrays"),
        ((np.full((1, 2), np.nan), np.full((1, 2), np.nan)), "filled-in matrix"),
    ],
)
def test_top_n_items_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        top_n_items(*args)
    with pytest.raises(ValueError, match="n must be a positive int"):
        top_n_items(np.ones((1, 2)), np.ones((1, 2)), n=0)


def test_imputer_recommends_better_than_item_means():
    full, seen = _ratings(n_users=300, n_items=600)
    rng = np.random.default_rng(1)
    test = seen & (rng.random(seen.shape) < 0.1)
    train = seen & ~test
    R = np.where(train, full, np.nan).astype(np.float32)
    # Items x users: each item's vector of ratings is a row (I-AutoRec).
    imputer = AutoencoderImputer(max_epochs=40, batch_size=32, random_state=0, **AUTOREC)
    filled = imputer.fit_transform(R.T).T
    assert filled.dtype == np.float32
    np.testing.assert_array_equal(filled[train], R[train])
    rmse = np.sqrt(np.mean((filled[test] - full[test]) ** 2))
    item_mean = np.nan_to_num(np.nanmean(R, axis=0), nan=np.nanmean(R))
    baseline = np.sqrt(np.mean((np.broadcast_to(item_mean, R.shape)[test] - full[test]) ** 2))
    assert rmse < 0.9 * baseline
    # Recommendations are unrated items, and better than random ones.
    top = top_n_items(filled, R, n=10)
    assert np.isnan(R[np.arange(len(R))[:, None], top]).all()
    assert full[np.arange(len(R))[:, None], top].mean() > full[~train].mean() + 0.3


def test_very_sparse_matrix_trains_quickly():
    # 99% missing: the imputer trains on dense rows, so a fit costs what the
    # matrix's size costs, with a small constant (float32 kept throughout).
    full, seen = _ratings(n_users=2000, n_items=1000, observed=0.01)
    R = np.where(seen, full, np.nan).astype(np.float32)
    start = time.perf_counter()
    imputer = AutoencoderImputer(max_epochs=2, random_state=0, **AUTOREC).fit(R.T)
    assert time.perf_counter() - start < 20
    filled = imputer.transform(R.T)
    assert filled.dtype == np.float32 and np.isfinite(filled).all()
