"""Duplicate rows: gaps recalled from the rows that repeat their row."""

import pickle

import numpy as np
import pandas as pd
import pytest

from skae import AutoencoderImputer
from skae._duplicates import DuplicateRows

FAST = dict(max_epochs=20, random_state=0)


def hide(X, p, seed=1):
    mask = np.random.default_rng(seed).random(X.shape) < p
    return np.where(mask, np.nan, X), mask


def repeated_records(n=300, d=8, repeats=150, seed=0):
    """Independent continuous columns (nothing predicts a gap) and repeated rows."""
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(n, d)), 3)
    return np.vstack([X, X[:repeats]])


def test_recall_finds_a_rows_duplicate_and_never_the_row_itself():
    X = np.round(np.random.default_rng(0).normal(size=(200, 4)), 3)
    X[1] = X[0]  # rows 0 and 1 repeat each other
    observed = np.ones(X.shape, dtype=bool)
    rows = DuplicateRows(X, observed)
    query = X[[0, 5]].copy()
    seen = np.array([[True, False, True, True], [True, True, False, True]])
    recalled, counts = rows.recall(np.where(seen, query, 0.0), seen)
    # Row 0's pattern matches rows 0 and 1; row 5's only itself.
    assert counts[0, 1] == 2 and recalled[0, 1] == np.float32(X[0, 1])
    assert counts[1, 2] == 1 and recalled[1, 2] == np.float32(X[5, 2])
    # Stored rows queried against themselves: row 0's duplicate is row 1 only.
    recalled, counts = rows.recall(X, observed, exclude=np.arange(200))
    assert counts[0].tolist() == [1] * 4 and counts[1].tolist() == [1] * 4
    assert counts[2:].sum() == 0
    # One agreeing column of three values is no evidence of duplication.
    few = DuplicateRows(X[:3], observed[:3])
    _, counts = few.recall(np.where(seen, query, 0.0), seen)
    assert counts.sum() == 0


def test_rows_that_agree_on_common_values_are_not_duplicates():
    # Binary columns: rows agree on five of them all the time, by chance.
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, size=(400, 6)).astype(float)
    observed = rng.random(X.shape) > 0.2
    recalled, counts = DuplicateRows(X, observed).recall(X, observed, exclude=np.arange(400))
    assert counts.sum() == 0 and np.isnan(recalled).all()
    # Two continuous columns make agreement rare: exact repeats are found.
    X[:, :2] = np.round(rng.normal(size=(400, 2)), 4)
    X[200:] = X[:200]
    observed = np.ones(X.shape, dtype=bool)
    _, counts = DuplicateRows(X, observed).recall(X, observed, exclude=np.arange(400))
    assert (counts == 1).all()
    # One is not enough beside four binary ones: 400 rows would agree with a
    # row on those values 0.06 times by chance, more than COINCIDENCE.
    X[:, 1] = rng.integers(0, 2, size=400)
    X[200:] = X[:200]
    _, counts = DuplicateRows(X, observed).recall(X, observed, exclude=np.arange(400))
    assert counts.sum() == 0


def test_imputer_recalls_the_values_of_repeated_rows():
    X = repeated_records()
    X_missing, mask = hide(X, 0.2)
    ours = AutoencoderImputer(**FAST).fit(X_missing)
    alone = AutoencoderImputer(recall_duplicates=False, **FAST).fit(X_missing)
    assert alone._duplicates_ is None and alone.duplicate_weights_ is None
    assert ours.duplicate_weights_.min() > 0.9  # the repeats agree exactly
    out, before = ours.transform(X_missing), alone.transform(X_missing)
    # A gap of a repeated row whose twin observes the entry gets its value,
    # unless the two share too few entries to count as duplicates (about 1
    # in 20 here: two columns or fewer of rare values).
    twin = np.r_[np.arange(300, 450), np.full(150, -1), np.arange(150)]
    recoverable = np.zeros(X.shape, dtype=bool)
    recoverable[twin >= 0] = mask[twin >= 0] & ~mask[twin[twin >= 0]]
    recalled = out != before
    assert recoverable.sum() > 100 and (recalled & recoverable).sum() > 0.9 * recoverable.sum()
    # Only those entries change, and they come out nearly exact (the
    # weights stay just below 1) where the network was far off.
    assert not (recalled & ~recoverable).any()
    assert np.abs(out - X)[recalled].max() < 0.1 and np.abs(out - X)[recalled].mean() < 0.01
    assert np.abs(before - X)[recalled].mean() > 0.3
    # Draws of a recalled entry stay close to its value, but not on it;
    # others spread.
    draws = np.stack(ours.sample_imputations(X_missing, 5, random_state=0))
    assert 0 < draws.std(axis=0)[recalled].mean() < 0.1
    assert draws.std(axis=0)[mask & ~recalled].mean() > 0.3
    restored = pickle.loads(pickle.dumps(ours))
    np.testing.assert_array_equal(restored.transform(X_missing), out)
    # New rows: a row repeating a training row is recalled from it, where
    # one of its stored copies observed the entry.
    new = X[:20].copy()
    new[:, 0] = np.nan
    stored = ~np.isnan(X_missing[:20, 0]) | ~np.isnan(X_missing[300:320, 0])
    assert stored.sum() >= 15
    np.testing.assert_allclose(ours.transform(new)[stored, 0], X[:20, 0][stored], atol=0.03)
    # partial_fit on fewer rows keeps the stored rows, as it keeps the trees.
    duplicates = ours._duplicates_
    ours.partial_fit(X_missing[:50])
    assert ours._duplicates_ is duplicates
    # A new fit starts afresh, on fewer rows too.
    ours.fit(X_missing[:200])
    assert ours._duplicates_ is not duplicates


def test_imputer_leaves_tables_without_duplicates_alone():
    # Independent integer scores: many chance agreements, no duplicates.
    rng = np.random.default_rng(0)
    X = rng.integers(1, 6, size=(400, 5)).astype(float)
    X_missing, _ = hide(X, 0.2)
    imp = AutoencoderImputer(**FAST).fit(X_missing)
    assert imp._duplicates_ is None
    np.testing.assert_array_equal(
        imp.transform(X_missing),
        AutoencoderImputer(recall_duplicates=False, **FAST).fit_transform(X_missing))


def test_imputer_recalls_the_numbers_of_repeated_mixed_rows():
    X = repeated_records()
    frame = pd.DataFrame(X, columns=list("abcdefgh"))
    frame["kind"] = pd.Categorical(np.where(X[:, 0] > 0, "up", "down"))
    mask = np.random.default_rng(1).random(frame.shape) < 0.2
    missing = frame.mask(mask)
    ours = AutoencoderImputer(**FAST).fit(missing)
    assert ours.duplicate_weights_[:8].min() > 0.9 and ours.duplicate_weights_[8] == 0
    out = ours.transform(missing)
    alone = AutoencoderImputer(recall_duplicates=False, **FAST).fit_transform(missing)
    numbers = list("abcdefgh")
    error = {name: float(np.nanmean(np.abs((result[numbers] - frame[numbers])
                                           .where(mask[:, :8]).to_numpy())))
             for name, result in (("ours", out), ("alone", alone))}
    assert error["ours"] < 0.6 * error["alone"]
    pd.testing.assert_series_equal(out["kind"], alone["kind"])


def test_recall_duplicates_is_validated():
    with pytest.raises(ValueError, match="recall_duplicates"):
        AutoencoderImputer(recall_duplicates="yes").fit(np.ones((5, 2)))
