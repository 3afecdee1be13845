"""Tables with numeric and categorical columns (issue #9)."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from skae import AutoencoderAnomalyDetector, AutoencoderImputer, AutoencoderTransformer
from skae._criterion import ColumnLoss
from skae._preprocessing import make_scaler
from skae._tabular import TableEncoder, categorical_columns

FAST = dict(max_epochs=40, batch_size=64, random_state=0)


def make_table(n=400, seed=0):
    """A table whose categories follow from its numbers (and back)."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = 2 * a + rng.normal(scale=0.1, size=n)
    color = np.where(a > 0.5, "red", np.where(a < -0.5, "blue", "green"))
    return pd.DataFrame(
        {
            "a": a,
            "color": color,
            "b": b,
            "positive": b > 0,
            "size": pd.Categorical(np.where(a > 0, "L", "S"), categories=["S", "M", "L"]),
            "c": rng.normal(size=n),
        }
    )


def hide(frame, fraction=0.2, seed=1):
    mask = np.random.default_rng(seed).random(frame.shape) < fraction
    return frame.mask(mask), pd.DataFrame(mask, columns=frame.columns)


# ----------------------------------------------------------------------
# Column types
# ----------------------------------------------------------------------
def test_types_are_detected_from_dtypes():
    X = make_table(20)
    assert categorical_columns(X, "from_dtype") == [1, 3, 4]
    assert categorical_columns(X.to_numpy(), "from_dtype") == []
    assert categorical_columns(X, None) == []


@pytest.mark.parametrize(
    "spec", [["color", "positive", "size"], [1, 3, -2], [False, True, False, True, True, False]]
)
def test_categorical_features_by_name_position_or_mask(spec):
    assert categorical_columns(make_table(20), spec) == [1, 3, 4]


@pytest.mark.parametrize(
    "spec, message",
    [(["colour"], "names column 'colour'"), ([True, False], "needs 6 entries"), ([9], "below 6")],
)
def test_bad_categorical_features_are_named(spec, message):
    with pytest.raises(ValueError, match=message):
        AutoencoderTransformer(categorical_features=spec, max_epochs=1).fit(make_table(20))


@pytest.mark.parametrize("spec", [["size"], None])
def test_text_column_declared_numeric_is_an_error(spec):
    with pytest.raises(ValueError, match="'color' is treated as numeric"):
        AutoencoderTransformer(categorical_features=spec, max_epochs=1).fit(
            make_table(20)[["a", "color", "size"]]
        )


def test_each_marginal_scores_one():
    """Predicting every column's marginal costs 1 per column, whatever its type."""
    X = make_table(2000)
    encoder = TableEncoder([1, 3, 4], make_scaler("standard", "standard")).fit(X)
    x, observed = encoder.encode(X)
    assert x.shape == (2000, 3 + 3 + 2 + 2) and observed.all()
    target = torch.from_numpy(x)
    marginal = target.mean(dim=0, keepdim=True).expand_as(target).clone()
    for j in encoder.categorical:  # logits of the column's frequencies
        s = encoder.slices[j]
        marginal[:, s] = torch.log(target[:, s].mean(dim=0))
    errors = ColumnLoss(encoder, reduction="none")(marginal, target).mean(dim=0).numpy()
    np.testing.assert_allclose(errors, 1.0, rtol=0.02)


def test_category_errors_are_each_columns_cross_entropy_over_its_entropy():
    # The columns are scored in batches by number of levels (a loop over
    # them made a fit on a table of 8 categories twice as long): each is its
    # own cross-entropy, 0 where the category is missing.
    X = make_table(300)
    X.loc[::4, "color"] = None
    encoder = TableEncoder([1, 3, 4], make_scaler("standard", "standard")).fit(X)
    target = torch.from_numpy(encoder.encode(X)[0])
    output = torch.randn(target.shape, generator=torch.Generator().manual_seed(0))
    criterion = ColumnLoss(encoder, reduction="none")
    errors = criterion(output, target)
    for j in encoder.categorical:
        s = encoder.slices[j]
        known = target[:, s].sum(dim=1) > 0
        expected = torch.nn.functional.cross_entropy(
            output[:, s], target[:, s].argmax(dim=1), reduction="none") / encoder.entropy[j]
        torch.testing.assert_close(errors[:, j], torch.where(known, expected, 0.0))
        assert (errors[~known, j] == 0).all() and (~known).any() == (j == 1)
    for j in encoder.numeric:
        p = encoder.slices[j].start
        torch.testing.assert_close(errors[:, j], (output[:, p] - target[:, p]) ** 2)
    restored = pickle.loads(pickle.dumps(criterion))  # index tensors rebuilt, not saved
    assert "_index_cache" not in vars(restored)
    torch.testing.assert_close(restored(output, target), errors)


# ----------------------------------------------------------------------
# AutoencoderTransformer
# ----------------------------------------------------------------------
def test_transformer_takes_the_mixed_frame_directly():
    X = make_table()
    before = X.copy()
    est = AutoencoderTransformer(n_components=2, **FAST).fit(X)
    pd.testing.assert_frame_equal(X, before)
    Z = est.transform(X)
    assert Z.shape == (len(X), 2) and np.isfinite(Z).all()
    back = est.inverse_transform(Z)
    assert isinstance(back, pd.DataFrame)
    assert list(back.columns) == list(X.columns)
    assert back["size"].dtype == X["size"].dtype
    assert back["positive"].dtype == bool
    assert set(back["color"]) <= {"red", "green", "blue"}
    # Two codes carry the categories, which follow from the numbers.
    for column in ["color", "positive", "size"]:
        assert (back[column] == X[column]).mean() > 0.85, column
    assert np.corrcoef(back["b"], X["b"])[0, 1] > 0.95
    assert np.isfinite(est.score(X))


def test_same_random_state_same_codes():
    X = make_table(200)
    Z1 = AutoencoderTransformer(n_components=2, **FAST).fit_transform(X)
    Z2 = AutoencoderTransformer(n_components=2, **FAST).fit_transform(X)
    np.testing.assert_array_equal(Z1, Z2)


def test_transform_checks_the_table():
    X = make_table(100)
    est = AutoencoderTransformer(n_components=2, max_epochs=2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="5 features"):
        with pytest.warns(UserWarning, match="feature names"):
            est.transform(X.iloc[:, :5].to_numpy())
    # A missing category where fit saw none is a category not seen in fit.
    gap = X.assign(color=X["color"].where(X.index != 0))
    with pytest.warns(UserWarning, match=r"'color' has categories not seen in fit: \[nan\] "
                      r"\(nan: a missing value"):
        assert np.isfinite(est.transform(gap)).all()
    with pytest.raises(ValueError, match=r"NaN.*'a'"):
        est.transform(X.assign(a=X["a"].where(X.index != 0)))
    with pytest.raises(ValueError, match="infinity in column 'a'"):
        est.transform(X.assign(a=np.inf))


@pytest.mark.parametrize(
    "Estimator", [AutoencoderTransformer, AutoencoderAnomalyDetector, AutoencoderImputer]
)
def test_unknown_categories(Estimator):
    X = make_table(200)
    est = Estimator(max_epochs=3, random_state=0).fit(X)
    odd = X.head(5).copy()
    odd["color"] = odd["color"].astype(object)
    odd.loc[0, "color"] = "purple"
    # "missing" (the imputer's and transformer's default): a missing value.
    if isinstance(est, AutoencoderImputer):
        # Read as a gap, but kept: an imputer replaces missing values only.
        gap = odd.copy()
        gap.loc[0, "color"] = np.nan
        gap.loc[0, "a"] = np.nan
        out, filled = est.transform(odd.assign(a=gap["a"])), est.transform(gap)
        assert out.loc[0, "color"] == "purple"
        assert filled.loc[0, "color"] in {"red", "green", "blue"}
        # The row's other gaps are imputed as if the category were missing.
        pd.testing.assert_frame_equal(out.drop(columns="color"), filled.drop(columns="color"))
        pd.testing.assert_series_equal(out["color"].iloc[1:], filled["color"].iloc[1:])
    elif isinstance(est, AutoencoderTransformer):
        # No category bit in the input, and no error on the column.
        x = est.encoder_.encode(odd)[0]
        assert x[0, est.encoder_.slices[1]].sum() == 0
        assert np.isfinite(est.transform(odd)).all()
    else:
        # The detector's default, "rarest": scored as the rarest category
        # seen in fit, so that a new category is unusual (a new user's
        # trial: as "missing" it made a row look more typical).
        rarest = X["color"].value_counts().idxmin()
        as_rarest = odd.copy()
        as_rarest.loc[0, "color"] = rarest
        np.testing.assert_allclose(est.score_samples(odd), est.score_samples(as_rarest))
        missing = est.set_params(handle_unknown="missing")
        x = est.encoder_.encode(odd, "missing")[0]
        assert x[0, est.encoder_.slices[1]].sum() == 0
        assert missing.explain(odd).loc[0, "color"] == 0
        assert np.isfinite(missing.score_samples(odd)).all()
    est.set_params(handle_unknown="error")
    with pytest.raises(ValueError, match=r"'color' has categories not seen in fit: \['purple'\]"):
        est.transform(odd) if hasattr(est, "transform") else est.predict(odd)
    # The other two say so (a new user's trial: an observed category was
    # silently re-imputed, or scored as another).
    est.set_params(handle_unknown="rarest" if isinstance(est, AutoencoderAnomalyDetector)
                   else "missing")
    with pytest.warns(UserWarning, match=r"'color' has categories not seen in fit: "
                      r"\['purple'\] in 1 rows"):
        est.transform(odd) if hasattr(est, "transform") else est.predict(odd)
    if isinstance(est, AutoencoderImputer):
        # Once for all the draws (a new user's trial: 20 draws, 20 warnings).
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est.sample_imputations(odd, n_imputations=4, random_state=0)
        assert sum("not seen in fit" in str(w.message) for w in caught) == 1


def test_imputer_keeps_a_declared_level_fit_did_not_see():
    # "M" is one of size's declared categories, absent from fit: the imputer
    # warns, keeps it, and the column keeps its dtype (a new user's trial:
    # the level was replaced by an imputed one).
    X = make_table(200)
    imp = AutoencoderImputer(max_epochs=3, random_state=0).fit(X)
    new = X.head(4).copy()
    new.loc[1, "size"] = "M"
    new.loc[1, "c"] = np.nan
    before = new.copy()
    with pytest.warns(UserWarning, match=r"'size' has categories not seen in fit: \['M'\] "
                      r"in 1 rows, read as missing values and kept in the output"):
        out = imp.transform(new)
    pd.testing.assert_frame_equal(new, before)
    assert out.loc[1, "size"] == "M"
    assert out["size"].dtype == X["size"].dtype
    assert np.isfinite(out.loc[1, "c"])
    pd.testing.assert_series_equal(out["size"].drop(index=1), X["size"].head(4).drop(index=1))


@pytest.mark.parametrize("Estimator", [AutoencoderTransformer, AutoencoderAnomalyDetector])
def test_missing_category_is_a_level(Estimator):
    # As OneHotEncoder takes it: a new user's tables had NaN in their
    # category columns, which the transformer and the detector refused.
    X = make_table(400)
    X["color"] = X["color"].where(X["a"] < 1.0)  # missing exactly where a is large
    X["size"] = X["size"].where(X.index % 9 != 0)
    before = X.copy()
    est = Estimator(max_epochs=60, random_state=0).fit(X)
    pd.testing.assert_frame_equal(X, before)
    encoder = est.encoder_
    assert encoder.categories[1][-1] != encoder.categories[1][-1]  # NaN, the last level
    x = encoder.encode(X)[0]
    gaps = X["color"].isna().to_numpy()
    np.testing.assert_array_equal(x[gaps, encoder.slices[1].start + 3], 1.0)
    np.testing.assert_array_equal(x[~gaps, encoder.slices[1]].sum(axis=1), 1.0)
    if isinstance(est, AutoencoderTransformer):
        back = est.inverse_transform(est.transform(X))
        # The missing level is learned from a: it comes back as missing.
        assert (back["color"].isna().to_numpy() == gaps).mean() > 0.9
        assert back["color"].isna().sum() > 0
    else:
        scores = est.score_samples(X)
        assert np.isfinite(scores).all()
        # A row whose colour is missing where a is small breaks the pattern.
        odd = X[~gaps].head(20).assign(color=np.nan)
        assert np.median(est.score_samples(odd)) < np.median(scores[~gaps][:20])


def test_numeric_array_with_categorical_positions():
    X = make_table(200)
    codes = X.assign(color=X["color"].map({"red": 0, "green": 1, "blue": 2}),
                     positive=X["positive"].astype(int), size=X["size"].cat.codes)
    array = codes.to_numpy(dtype=float)
    est = AutoencoderImputer(categorical_features=[1, 3, 4], **FAST)
    hidden = array.copy()
    hidden[::7, 1] = np.nan
    out = est.fit_transform(hidden)
    assert isinstance(out, pd.DataFrame)
    assert set(out.iloc[:, 1]) <= {0.0, 1.0, 2.0}
    assert (out.iloc[::7, 1].to_numpy() == array[::7, 1]).mean() > 0.7


def test_mixed_model_pickles():
    X = make_table(100)
    est = AutoencoderTransformer(n_components=2, max_epochs=3, random_state=0).fit(X)
    clone = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(clone.transform(X), est.transform(X))


# ----------------------------------------------------------------------
# AutoencoderAnomalyDetector
# ----------------------------------------------------------------------
def test_detector_explains_categorical_columns():
    X = make_table(600)
    det = AutoencoderAnomalyDetector(random_state=0, max_epochs=30).fit(X)
    odd = X.head(20).copy()
    # Break the link between the numbers and "color" alone.
    odd["color"] = odd["a"].map(lambda a: "blue" if a > 0.5 else "red")
    odd = odd[odd["color"] != X.head(20)["color"]]
    assert len(odd) >= 3
    explanation = det.explain(odd)
    assert list(explanation.columns) == list(X.columns)
    assert (explanation.idxmax(axis=1) == "color").all()
    assert (det.score_samples(odd) < np.median(det.score_samples(X))).all()
    assert set(det.predict(X)) <= {-1, 1}


def test_detector_explains_a_mixed_table_feature_by_feature():
    X = make_table(600)
    shifted = X.copy()
    shifted.loc[:4, "c"] += 8.0
    det = AutoencoderAnomalyDetector(random_state=0, max_epochs=10).fit(shifted)
    # The tail score of a category's one-hot columns goes to the category:
    # one entry per feature, and the rows still add up to the score.
    account = det.explain(shifted, relative=False)
    assert list(account.columns) == list(X.columns) + ["neighbours", "offset"]
    np.testing.assert_allclose(account.sum(axis=1), -det.score_samples(shifted), rtol=1e-10,
                               atol=1e-10)
    assert (det.explain(shifted.head(5)).idxmax(axis=1) == "c").all()


def test_explain_of_a_one_level_category_is_zero_not_minus_zero():
    X = make_table(120)
    X["constant"] = pd.Categorical(["k"] * len(X))
    det = AutoencoderAnomalyDetector(random_state=0, max_epochs=2).fit(X)
    for table in (det.explain(X), det.explain(X, relative=False)):
        values = table["constant"].to_numpy()
        assert (values == 0).all() and not np.signbit(values).any()


# ----------------------------------------------------------------------
# AutoencoderImputer
# ----------------------------------------------------------------------
def test_imputer_fills_categories_with_seen_values_and_keeps_types():
    X = make_table(600)
    hidden, mask = hide(X)
    before = hidden.copy()
    imp = AutoencoderImputer(random_state=0, max_epochs=60)
    out = imp.fit_transform(hidden)
    pd.testing.assert_frame_equal(hidden, before)
    assert isinstance(out, pd.DataFrame) and not out.isna().any().any()
    assert out.index.equals(hidden.index) and list(out.columns) == list(X.columns)
    assert out["size"].dtype == hidden["size"].dtype
    assert out["color"].dtype == hidden["color"].dtype
    assert set(out["color"]) <= {"red", "green", "blue"}
    assert set(out["positive"]) <= {True, False}
    # Observed entries are kept as they are.
    pd.testing.assert_frame_equal(out[~mask.any(axis=1)], hidden[~mask.any(axis=1)],
                                  check_dtype=False)
    # Categories are predicted from the other columns, far above the mode.
    for column in ["color", "positive", "size"]:
        hit = (out[column][mask[column]] == X[column][mask[column]]).mean()
        mode = (X[column][mask[column]] == hidden[column].mode()[0]).mean()
        assert hit > mode + 0.2, column
    rmse = np.sqrt(np.mean((out["b"][mask["b"]] - X["b"][mask["b"]]) ** 2))
    assert rmse < 0.5 * X["b"].std()
    assert np.isnan(imp.residual_std_[[1, 3, 4]]).all()
    assert np.isfinite(imp.residual_std_[[0, 2, 5]]).all()
    # Each number's spread is at least its trees' error on their held-out rows.
    for k, j in enumerate(imp.encoder_.numeric):
        held_out = np.sqrt(-2 * imp.trees_[j].validation_score_[-1]) * imp.scaler_.scale_[k]
        assert imp.residual_std_[j] >= held_out * (1 - 1e-9)


def test_imputer_guess_on_an_unpredictable_category_is_no_worse_than_the_mode():
    # A new user's trial: on a category the other columns barely predict,
    # the network's guesses (learned by heart on its training rows) were
    # right less often than the mode. Calibrated on entries withheld from
    # training, the guess falls back to the column's frequencies there and
    # still follows the numbers where they tell.
    X = make_table(800, seed=3)
    rng = np.random.default_rng(4)
    X["noise"] = rng.choice(list("pqrst"), p=[0.4, 0.2, 0.2, 0.1, 0.1], size=len(X))
    hidden, mask = hide(X, seed=5)
    imp = AutoencoderImputer(random_state=0, max_epochs=150).fit(hidden)
    out = imp.transform(hidden)
    gaps = mask["noise"]
    hit = (out["noise"][gaps] == X["noise"][gaps]).mean()
    mode = (X["noise"][gaps] == hidden["noise"].mode()[0]).mean()
    assert hit >= mode - 0.02, (hit, mode)
    # Uncalibrated, 18% of these gaps got a level other than the mode.
    assert (out["noise"][gaps] == hidden["noise"].mode()[0]).mean() > 0.9
    hit = (out["color"][mask["color"]] == X["color"][mask["color"]]).mean()
    assert hit > 0.8
    # The noise column's logits are scaled down far more than color's.
    scale = imp._category_scale_[0]
    slices = dict(zip(X.columns, imp.encoder_.slices))
    assert scale[slices["noise"]][0] < 0.5 * scale[slices["color"]][0]


def test_imputer_calibration_entries_are_hidden_from_training():
    # Kept as input (out of the loss only), the withheld categories leaked:
    # the network recalled a training row's category from the rest of the
    # row, and the calibration trusted guesses it could not make on gaps.
    X = make_table(300)
    hidden, _ = hide(X)
    imp = AutoencoderImputer(random_state=0, max_epochs=2).fit(hidden)
    _, (S, observed), withheld = imp._training_data(hidden)
    assert not (observed & withheld).any()
    categorical = list(imp.encoder_.categorical)
    assert not withheld[:, imp.encoder_.numeric].any()
    share = withheld[:, categorical].sum() / hidden.iloc[:, categorical].notna().to_numpy().sum()
    assert 0.15 < share < 0.25
    # Reproducible: the same entries at every call.
    np.testing.assert_array_equal(imp._training_data(hidden)[2], withheld)
    # A larger table withholds some 300 entries per column, not a fifth.
    hidden, _ = hide(make_table(3000))
    imp = AutoencoderImputer(random_state=0, max_epochs=1).fit(hidden)
    per_column = imp._training_data(hidden)[2][:, categorical].sum(axis=0)
    assert ((per_column > 240) & (per_column < 360)).all(), per_column


def test_imputer_multiple_imputations_draw_seen_categories():
    X = make_table(300)
    hidden, mask = hide(X, 0.3)
    imp = AutoencoderImputer(random_state=0, max_epochs=20).fit(hidden)
    draws = imp.sample_imputations(hidden, n_imputations=5, random_state=0)
    assert len(draws) == 5
    colors = pd.concat([d["color"][mask["color"]] for d in draws])
    assert set(colors) <= {"red", "green", "blue"}
    stacked = np.stack([d["color"][mask["color"]].to_numpy() for d in draws])
    assert (stacked != stacked[0]).any()  # the draws differ
    again = imp.sample_imputations(hidden, n_imputations=5, random_state=0)
    for first, second in zip(draws, again):
        pd.testing.assert_frame_equal(first, second)


def test_imputer_new_rows_with_other_categories():
    # A new batch made categorical on its own lacks fitted categories, or holds
    # unseen ones (read as missing, and kept): the gaps are still filled.
    X = pd.DataFrame({"c": pd.Categorical(["a", "b", "a", "b", None] * 40),
                      "x": np.arange(200.0)})
    imp = AutoencoderImputer(random_state=0, max_epochs=2).fit(X)
    few = imp.transform(pd.DataFrame({"c": pd.Categorical(["a", None]), "x": [1.0, 2.0]}))
    assert few["c"].notna().all() and set(few["c"]) <= {"a", "b"}
    assert isinstance(few["c"].dtype, pd.CategoricalDtype)
    unseen = pd.DataFrame({"c": pd.Categorical(["zz", None, "b"]), "x": [1.0, 2.0, 3.0]})
    out = imp.transform(unseen)
    assert out["c"].notna().all() and list(out["c"])[::2] == ["zz", "b"]
    assert out["c"].iloc[1] in {"a", "b"}
    draws = imp.sample_imputations(unseen, n_imputations=2, random_state=0)
    assert all(d["c"].iloc[0] == "zz" and d["c"].iloc[1] in {"a", "b"} for d in draws)


def test_imputer_indicator_and_empty_categorical_column():
    X = make_table(200)
    hidden, mask = hide(X)
    hidden["color"] = hidden["color"].astype(object)
    hidden.loc[:, "color"] = np.nan
    # Like scikit-learn's imputers, an all-missing column is dropped ...
    with pytest.warns(UserWarning, match=r"without any observed values: \['color'\]"):
        imp = AutoencoderImputer(max_epochs=2, random_state=0).fit(hidden)
    assert "color" not in imp.transform(hidden).columns
    # ... or kept, filled with 0, with keep_empty_features=True.
    imp = AutoencoderImputer(max_epochs=2, keep_empty_features=True, random_state=0)
    out = imp.fit_transform(hidden)
    assert (out["color"] == 0).all() and out["size"].dtype == hidden["size"].dtype
    # Its values in later rows are kept; only its gaps are 0.
    new = hidden.head(3).copy()
    new.loc[0, "color"] = "red"
    assert imp.transform(new)["color"].tolist() == ["red", 0.0, 0.0]
    # An integer column keeps its dtype (trial 57: Int64 came back float64).
    empty_int = hidden.assign(n=pd.array([pd.NA] * len(hidden), dtype="Int64"))
    imp = AutoencoderImputer(max_epochs=2, keep_empty_features=True, random_state=0)
    imp.fit(empty_int)
    later = empty_int.head(2).assign(n=pd.array([4, pd.NA], dtype="Int64"))
    assert imp.transform(later)["n"].tolist() == [4, 0]
    assert imp.transform(later)["n"].dtype == "Int64"
    hidden, mask = hide(X)
    imp = AutoencoderImputer(add_indicator=True, max_epochs=2, random_state=0)
    out = imp.fit_transform(hidden)
    assert out.shape[1] == 6 + mask.any().sum()
    names = imp.get_feature_names_out()
    assert list(out.columns) == list(names)
    assert "missingindicator_color" in names


def integer_table(n=200, seed=0):
    """Issue 19's table: a category, a nullable integer with pd.NA, a float."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"c": pd.Categorical(rng.choice(list("ab"), n)),
                          "n": pd.array(rng.integers(0, 10, n), dtype="Int64"),
                          "x": rng.normal(size=n)})
    frame.loc[::10, "n"] = pd.NA
    return frame


def test_imputer_fills_nullable_integers_with_integers_in_range():
    X = integer_table()
    before = X.copy()
    imp = AutoencoderImputer(max_epochs=2, random_state=0).fit(X)
    out = imp.transform(X)
    pd.testing.assert_frame_equal(X, before)
    assert out.dtypes.equals(X.dtypes)
    assert not out.isna().any().any()
    filled = out["n"][X["n"].isna()].to_numpy(dtype=float)
    assert np.array_equal(filled, np.round(filled))
    assert filled.min() >= X["n"].min() and filled.max() <= X["n"].max()
    pd.testing.assert_series_equal(out["n"][X["n"].notna()], X["n"][X["n"].notna()])
    draws = imp.sample_imputations(X, n_imputations=2, random_state=0)
    for draw in draws:
        assert draw["n"].dtype == "Int64" and not draw["n"].isna().any()


def test_inverse_transform_keeps_index_and_dtypes():
    rng = np.random.default_rng(0)
    X = make_table(300)
    X["a"] = X["a"].astype("float32")
    X["b"] = pd.array(X["b"], dtype="Float64")
    X["count"] = pd.array(rng.integers(0, 5, len(X)), dtype="Int64")
    X["plain_int"] = rng.integers(-3, 3, len(X))
    # Strings in an object column stay object (pandas 3 would make them its
    # string dtype), and a string column stays string.
    X["text"] = pd.Series(rng.choice(["x", "y"], len(X)), dtype=object)
    X["label"] = pd.Series(rng.choice(["p", "q"], len(X)), dtype="string")
    X.index = pd.RangeIndex(1000, 1000 + len(X)).map(lambda i: f"row{i}")
    est = AutoencoderTransformer(n_components=3, **FAST).set_output(transform="pandas").fit(X)
    back = est.inverse_transform(est.transform(X))
    assert back.index.equals(X.index)
    assert back.dtypes.equals(X.dtypes)
    assert np.array_equal(back["count"].to_numpy(dtype=float),
                          np.round(back["count"].to_numpy(dtype=float)))
    # Codes without an index give the default one.
    plain = est.inverse_transform(est.transform(X).to_numpy())
    assert plain.index.equals(pd.RangeIndex(len(X))) and plain.dtypes.equals(X.dtypes)


@pytest.mark.parametrize("Estimator", [AutoencoderTransformer, AutoencoderImputer])
def test_numbers_written_as_text_warn(Estimator):
    # A UCI-style "?" makes pandas read a column of numbers as text; skae
    # would treat it as categorical with a level per number: say so.
    rng = np.random.default_rng(0)
    power = pd.Series(rng.integers(50, 200, 120).astype(str), dtype=object)
    power[[3, 17]] = "?"
    X = pd.DataFrame({"a": rng.normal(size=120), "power": power,
                      "color": rng.choice(["red", "blue"], 120)})
    with pytest.warns(UserWarning, match=r"'power' of X holds numbers written as text.*'\?'"):
        Estimator(max_epochs=1, random_state=0).fit(X)
    # Plain text, or a column the user names as categorical, is left alone.
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*written as text")
        Estimator(max_epochs=1, random_state=0, categorical_features=["power", "color"]).fit(X)
        Estimator(max_epochs=1, random_state=0).fit(X.drop(columns="power"))
        # Ordinal bins: a few numbers beside frequent text levels (a new
        # user's survey column; coercing would erase 42% of it).
        bins = pd.Series(rng.choice(["<1", "1", "2", "3", "4", "5+", "none"], 120))
        Estimator(max_epochs=1, random_state=0).fit(X.assign(power=bins))


@pytest.mark.parametrize("Estimator", [AutoencoderTransformer, AutoencoderImputer])
def test_a_value_as_number_and_as_text_warns(Estimator):
    # A new user's trial 27: an object column holding 7 and "7" got two
    # categories for one value, silently.
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=120),
                      "m": pd.Series([7, "7", "x", 3] * 30, dtype=object)})
    with pytest.warns(UserWarning, match=r"'m' of X holds the same values as numbers and as "
                                         r"text \(e.g. 7 and '7'\): each becomes a category"):
        Estimator(max_epochs=1, random_state=0).fit(X)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*as numbers and as text")
        # Numbers beside other text, or all text, are categories as they are.
        Estimator(max_epochs=1, random_state=0).fit(
            X.assign(m=pd.Series([7, "b", "x", 3] * 30, dtype=object)))
        Estimator(max_epochs=1, random_state=0).fit(X.assign(m=X["m"].astype(str)))


@pytest.mark.parametrize("Estimator", [AutoencoderTransformer, AutoencoderImputer])
def test_identifier_like_column_warns(Estimator):
    # A new user's trial: a column of names (one level per row) was taken as
    # a categorical column silently, an output per row.
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=120), "b": rng.normal(size=120),
                      "name": [f"client-{i:04d}" for i in rng.permutation(120)],
                      "color": rng.choice(["red", "blue"], 120)})
    with pytest.warns(UserWarning, match=r"'name' of X is categorical with 120 distinct "
                                         r"values in 120 present entries: it looks like an "
                                         r"identifier"):
        Estimator(max_epochs=1, random_state=0).fit(X)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*looks like an identifier")
        # Few levels, or many levels each shared by several rows, are categories.
        Estimator(max_epochs=1, random_state=0).fit(X.drop(columns="name"))
        shared = rng.choice([f"city-{i}" for i in range(50)], 120)
        Estimator(max_epochs=1, random_state=0).fit(X.assign(name=shared))


def test_text_in_a_numeric_column_names_the_entries_and_the_remedy():
    # A new user's trial: at transform, the error advised categorical_features,
    # which a fitted model cannot take.
    X = pd.DataFrame({"a": [1.0, 2, np.nan, 4] * 10, "b": [1.0, np.nan, 3, 4] * 10})
    imp = AutoencoderImputer(max_epochs=2, random_state=0).fit(X)
    new = pd.DataFrame({"a": ["n/a", 2, 3, 4], "b": [1.0, 2, 3, 4]})
    with pytest.raises(ValueError, match=r"Column 'a' .* not numbers \('n/a'\); the model "
                                         r"was fitted on numbers there; convert them first"):
        imp.transform(new)
    text = X.assign(c=pd.Series(["x", "y", "z", "?"] * 10, dtype=object))
    with pytest.raises(ValueError, match=r"Column 'c' .* not numbers \('x', 'y', 'z'\); "
                                         r"list it in categorical_features"):
        AutoencoderImputer(max_epochs=2, categorical_features=None).fit(text)


def test_numbers_of_an_object_array_come_back_as_floats():
    # A new user's trial: with categorical_features listed, an object array's
    # numeric columns came back as object dtype.
    rng = np.random.default_rng(0)
    X = np.empty((60, 3), dtype=object)
    X[:, 0] = rng.choice(["a", "b"], 60)
    X[:, 1], X[:, 2] = rng.normal(size=60), rng.normal(size=60)
    X[::5, 1], X[::7, 0] = np.nan, None
    out = AutoencoderImputer(categorical_features=[0], **FAST).fit_transform(X)
    assert [out.iloc[:, j].dtype for j in (1, 2)] == [np.float64, np.float64]
    assert not out.isna().any().any()
    np.testing.assert_array_equal(out.iloc[1:5, 1].to_numpy(), X[1:5, 1].astype(float))


def test_partial_fit_on_a_chunk_whose_category_is_all_missing():
    # A chunk of as many rows as the fit refits the trees; a category with
    # no value in it once failed inside scikit-learn's binning ("window
    # shape cannot be larger than input array shape").
    frame, _ = hide(make_table(n=200), 0.1)
    imp = AutoencoderImputer(max_epochs=5, random_state=0).fit(frame)
    chunk = frame.copy()
    chunk["color"] = None
    imp.partial_fit(chunk)
    assert imp.trees_ is not None and any(tree is not None for tree in imp.trees_)
    out = imp.transform(chunk)
    assert out.notna().all().all() and set(out["color"]) <= {"red", "blue", "green"}


@pytest.mark.parametrize("Estimator", [AutoencoderTransformer, AutoencoderImputer])
def test_an_object_column_of_numbers_is_numeric(Estimator):
    # A new user's trial 40: pandas 3 stores [1.5, pd.NA, 2.0] as object; read
    # as categorical, the column had a level per value and the imputer filled
    # every gap with one of them (-8.14 in all 18), silently.
    rng = np.random.default_rng(0)
    v = np.round(rng.normal(size=150) * 10, 2)
    X = pd.DataFrame({"x": pd.Series(list(v), dtype=object),
                      "y": v + rng.normal(size=150), "z": rng.normal(size=150)})
    imputer = Estimator is AutoencoderImputer
    if imputer:
        X.loc[::7, "x"] = pd.NA
    before = X.copy()
    params = dict(max_epochs=30, random_state=0, **({} if imputer else {"n_components": 1}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: the column is numbers
        model = Estimator(**params).fit(X)
        out = model.transform(X)
    assert not model.is_categorical_.any()
    pd.testing.assert_frame_equal(X, before)  # the input is left as it was
    if imputer:
        gaps = X["x"].isna().to_numpy()
        filled = np.asarray(out)[gaps, 0]
        assert len(np.unique(filled)) == gaps.sum()
        assert np.sqrt(np.mean((filled - v[gaps]) ** 2)) < 0.5 * v.std()
    # Listed as categorical, it stays categorical; text at transform is named.
    listed = Estimator(**{**params, "max_epochs": 1}, categorical_features=["x"]).fit(X)
    assert listed.is_categorical_.tolist() == [True, False, False]
    with pytest.raises(ValueError, match="Column 'x' is treated as numeric"):
        model.transform(X.assign(x=X["x"].where(X.index != 3, "n/a")))


def test_partial_fit_warns_once_of_a_category_the_first_call_lacked():
    # Trial 57: the rows are encoded again after training, and a later call
    # warned 5 times of the same unseen category.
    X = make_table(300)
    imp = AutoencoderImputer(max_epochs=3, random_state=0)
    imp.partial_fit(X[X["color"] != "red"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        imp.partial_fit(X)
    assert sum("'color' has categories not seen in fit: ['red']" in str(w.message)
               for w in caught) == 1
