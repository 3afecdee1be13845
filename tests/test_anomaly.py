"""AutoencoderAnomalyDetector: the outlier contract, explanations, quality floors."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from skae import (
    AutoencoderAnomalyDetector,
    RecurrentAutoencoder,
    VariationalAutoencoder,
)
from skae._anomaly import AUTO_FENCE_IQRS, auto_threshold
from skae._anomaly_scores import SCORE_PARTS
from skae._preprocessing import fit_scaler


def correlated(n, rng):
    """Rows on a noisy 2-D nonlinear surface in 6 dimensions."""
    t = rng.normal(size=(n, 2))
    X = np.column_stack(
        [t[:, 0], t[:, 1], t[:, 0] + t[:, 1], t[:, 0] * t[:, 1], np.sin(t[:, 0]), t[:, 1] ** 2]
    )
    return X + 0.05 * rng.normal(size=X.shape)


@pytest.fixture(scope="module")
def data():
    """Normal rows plus two kinds of anomalies, mixed into the training rows.

    ``relation`` anomalies keep every feature in its usual range but break
    the relations between features (what reconstruction error sees);
    ``extreme`` anomalies are extreme on one feature.
    """
    rng = np.random.default_rng(0)
    normal = correlated(1500, rng)
    relation = correlated(40, rng)
    relation[:, 2] = rng.permutation(relation[:, 2])
    relation[:, 3] = -relation[:, 3]
    extreme = correlated(40, rng)
    extreme[:, 0] += 8
    X = np.vstack([normal, relation, extreme])
    y = np.r_[np.zeros(len(normal)), np.ones(80)].astype(int)
    kind = np.r_[["normal"] * len(normal), ["relation"] * 40, ["extreme"] * 40]
    return X, y, kind


@pytest.fixture(scope="module")
def detector(data):
    X, _, _ = data
    return AutoencoderAnomalyDetector(random_state=0).fit(X)


def test_outlier_contract(detector, data):
    X, _, _ = data
    scores = detector.score_samples(X)
    decision = detector.decision_function(X)
    labels = detector.predict(X)
    np.testing.assert_allclose(decision, scores - detector.offset_)
    assert set(np.unique(labels)) == {-1, 1}
    np.testing.assert_array_equal(labels, np.where(decision >= 0, 1, -1))
    assert scores.dtype == np.float64 and labels.dtype.kind == "i"
    refit = AutoencoderAnomalyDetector(random_state=0)
    np.testing.assert_array_equal(refit.fit_predict(X), labels)


def test_detects_both_kinds_of_anomaly_in_contaminated_training_data(detector, data):
    # The anomalies were part of the training rows: training must not simply
    # learn to reconstruct them.
    X, y, kind = data
    anomaly_score = -detector.score_samples(X)
    for k, floor in (("relation", 0.8), ("extreme", 0.95)):
        keep = (kind == "normal") | (kind == k)
        assert roc_auc_score(y[keep], anomaly_score[keep]) > floor, k


def test_reconstruction_score_sees_broken_relations(data):
    X, y, kind = data
    det = AutoencoderAnomalyDetector(score_method="reconstruction", random_state=0).fit(X)
    keep = (kind == "normal") | (kind == "relation")
    assert roc_auc_score(y[keep], -det.score_samples(X)[keep]) > 0.85
    assert det.isolation_forest_ is None
    # A pure reconstruction score is the mean squared error, which explain splits.
    np.testing.assert_allclose(
        det.explain(X, relative=False).to_numpy().sum(axis=1), -det.score_samples(X), rtol=1e-5
    )
    # Each entry is how much the score falls when that feature alone is
    # typical: little on normal rows, much on the feature an anomaly shifts.
    entries = det.explain(X).to_numpy()
    assert (np.median(np.abs(entries[kind == "normal"]))
            < 0.2 * np.median(entries[kind == "extreme", 0]))


def test_default_beats_isolation_forest_on_relation_anomalies(detector, data):
    X, y, kind = data
    keep = (kind == "normal") | (kind == "relation")
    forest = IsolationForest(random_state=0).fit(X)
    ours = roc_auc_score(y[keep], -detector.score_samples(X)[keep])
    theirs = roc_auc_score(y[keep], -forest.score_samples(X)[keep])
    assert ours > theirs + 0.2


def test_contamination_sets_the_flagged_share(data):
    X, _, _ = data
    det = AutoencoderAnomalyDetector(contamination=0.1, random_state=0).fit(X)
    assert (det.predict(X) == -1).mean() == pytest.approx(0.1, abs=0.005)


def test_auto_contamination_follows_the_data(data):
    X, y, _ = data
    det = AutoencoderAnomalyDetector(random_state=0).fit(X)
    flagged = det.predict(X) == -1
    # Most planted anomalies (5% of the rows) are flagged, and a few percent
    # of the normal rows (on the development tasks a median 5%; here 7.1%).
    assert flagged[y == 1].mean() > 0.7
    assert flagged[y == 0].mean() < 0.09
    clean = correlated(1000, np.random.default_rng(1))
    det_clean = AutoencoderAnomalyDetector(random_state=0).fit(clean)
    assert (det_clean.predict(clean) == -1).mean() < 0.13  # 10.6%: long-tailed errors


@pytest.mark.parametrize("value", [0.0, 0.7, -0.1, "half"])
def test_contamination_out_of_range_is_rejected(data, value):
    X, _, _ = data
    with pytest.raises(ValueError, match="contamination"):
        AutoencoderAnomalyDetector(contamination=value).fit(X)


def test_explain_names_the_anomalous_feature(detector, data):
    X, _, kind = data
    names = ["a", "b", "a_plus_b", "a_times_b", "sin_a", "b_squared"]
    frame = pd.DataFrame(X, columns=names, index=[f"row{i}" for i in range(len(X))])
    det = AutoencoderAnomalyDetector(score_method="reconstruction", random_state=0).fit(frame)
    explanation = det.explain(frame)
    assert list(explanation.columns) == names
    assert list(explanation.index) == list(frame.index)
    relation_rows = explanation[kind == "relation"]
    top = relation_rows.idxmax(axis=1).value_counts()
    assert top.index[0] in {"a_plus_b", "a_times_b"}
    # Arrays get x0, x1, ... columns.
    assert list(detector.explain(X[:3]).columns) == [f"x{i}" for i in range(6)]


@pytest.mark.parametrize("score_method", ["combined", "reconstruction", "hybrid"])
def test_explain_names_a_shifted_feature(score_method):
    # Shift each feature in turn by 6 standard deviations in 5 rows: the
    # largest entry of explain names it, even where the network copies the
    # shifted value (the code is as wide as the input) or the shift drives
    # up the reconstruction errors of the other features.
    rng = np.random.default_rng(3)
    X = correlated(800, rng)
    truth = np.repeat(np.arange(6), 5)
    rows = rng.choice(len(X), len(truth), replace=False)
    X[rows, truth] += 6 * X.std(axis=0)[truth]
    det = AutoencoderAnomalyDetector(score_method=score_method, random_state=0).fit(X)
    named = det.explain(X[rows]).to_numpy().argmax(axis=1)
    assert (named == truth).mean() >= 0.9
    # The per-feature reconstruction errors alone name fewer.
    errors = det._column_errors(det._network_input(X[rows]))
    assert (errors.argmax(axis=1) == truth).mean() < (named == truth).mean()


def test_scores_are_deterministic(detector, data):
    X, _, _ = data
    np.testing.assert_array_equal(detector.score_samples(X), detector.score_samples(X))
    again = AutoencoderAnomalyDetector(random_state=0).fit(X)
    np.testing.assert_array_equal(again.score_samples(X), detector.score_samples(X))


@pytest.mark.parametrize(
    "score_method, extra",
    [("combined", ["neighbours", "offset"]), ("hybrid", ["isolation", "offset"]),
     ("reconstruction", []), ("variational", ["kl"])],
)
def test_explain_accounts_for_the_whole_score(data, score_method, extra):
    # Issue 19 item 4: explain(relative=False) rows add up to the score; the
    # tail score is split over the features (only the neighbour distance,
    # the isolation and KL terms and the offsets are no feature's).
    X, _, _ = data
    module = VariationalAutoencoder if score_method == "variational" else None
    det = AutoencoderAnomalyDetector(score_method=score_method, module=module, max_epochs=3,
                                     random_state=0).fit(X)
    account = det.explain(X, relative=False)
    assert list(account.columns) == [f"x{i}" for i in range(6)] + extra
    np.testing.assert_allclose(account.sum(axis=1), -det.score_samples(X), rtol=1e-10,
                               atol=1e-10)
    # The relative errors stay per feature.
    assert det.explain(X[:2]).shape == (2, 6)


def test_a_row_scores_the_same_alone_or_with_others(detector, data):
    # Issue 19 item 7, with default parameters: no dependence on the batch.
    X, _, _ = data
    full = detector.score_samples(X[:40])
    alone = np.concatenate([detector.score_samples(X[i:i + 1]) for i in range(40)])
    np.testing.assert_allclose(alone, full, rtol=1e-12, atol=1e-12)
    from sklearn.utils.estimator_checks import check_methods_subset_invariance

    check_methods_subset_invariance("AutoencoderAnomalyDetector",
                                    AutoencoderAnomalyDetector(random_state=0))


def test_training_length_adapts_to_the_bottleneck():
    # About 1,500 steps when the code is narrower than the input, but at most
    # 20 epochs; at most 10 epochs when the code is as wide (it could learn
    # to copy the anomalies); at most 2 million entries (epochs x rows x
    # features), but 10 epochs at least.
    def epochs(n_rows, n_features, **params):
        det = AutoencoderAnomalyDetector(**params)
        det.n_features_in_ = n_features
        return det._training_epochs(np.empty((n_rows, 0)))  # only its rows count

    assert epochs(64, 40) == 20
    assert epochs(64, 6) == 10
    assert epochs(100_000, 50) == 1
    assert epochs(10_000, 50) == 5  # 1,500 steps
    assert epochs(64, 40, n_components=40) == 10
    assert epochs(64, 40, max_epochs=3) == 3
    assert epochs(250, 1000) == 10  # an embedding: 188 epochs by the step count
    assert epochs(2000, 100) == 10
    assert epochs(2000, 64) == 15
    assert epochs(2000, 60) == 16
    assert epochs(2000, 40) == 20
    assert epochs(100_000, 1000) == 1
    rng = np.random.default_rng(0)
    det = AutoencoderAnomalyDetector(random_state=0).fit(rng.normal(size=(64, 40)))
    assert 10 < len(det.history_) <= 20


def test_training_cut_short_takes_larger_steps():
    # When the epoch limit or the entry budget shortens the 1,500 steps, the
    # learning rate is tripled; not otherwise, nor with an explicit max_epochs.
    def lr(n_rows, n_features, **params):
        det = AutoencoderAnomalyDetector(**params)
        det.n_features_in_ = n_features
        return det._training_lr(n_rows, det._training_epochs(np.empty((n_rows, 0))))

    assert lr(250, 1000) == pytest.approx(3e-3)  # entry budget: 10 epochs, not 188
    assert lr(2000, 64) == pytest.approx(3e-3)  # entry budget: 15 epochs, not 24
    assert lr(64, 40) == pytest.approx(3e-3)  # epoch limit: 20 epochs, not 750
    assert lr(64, 40, lr=1e-2) == pytest.approx(3e-2)
    assert lr(64, 6) == pytest.approx(1e-3)  # a code as wide as the input: 10 epochs
    assert lr(10_000, 50) == pytest.approx(1e-3)  # 1,500 steps in 5 epochs
    assert lr(250, 1000, max_epochs=10) == pytest.approx(1e-3)
    # Measured on dense networks only: the recurrent module keeps lr.
    assert lr(250, 1000, module=RecurrentAutoencoder) == pytest.approx(1e-3)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 40))
    assert AutoencoderAnomalyDetector(random_state=0).fit(X).net_.lr == pytest.approx(3e-3)
    det = AutoencoderAnomalyDetector(random_state=0, max_epochs=2).fit(X)
    assert det.net_.lr == pytest.approx(1e-3)


@pytest.mark.parametrize("n_rows", [1, 2, 57, 2100])
def test_score_parts_fit_gives_the_training_scores(n_rows):
    # fit's shortcuts (ranks for the tails, one neighbour query) return the
    # scores the part's score function gives, bitwise: offset_ relies on it.
    rng = np.random.default_rng(n_rows)
    Z = np.round(rng.normal(size=(n_rows, 7)), 1)  # ties
    Z[0, 0], Z[-1, 0] = -0.0, 0.0
    for name, (fit, score) in SCORE_PARTS.items():
        state, scores, for_centre = fit(Z, np.random.default_rng(0))
        np.testing.assert_array_equal(scores, score(state, Z), err_msg=name)
        assert for_centre.shape == scores.shape
    # With a tolerance, values within it of a training value are tied with it.
    fit, score = SCORE_PARTS["tails"]
    state, scores, _ = fit(Z, np.random.default_rng(0), tolerance=np.full(7, 1e-6))
    np.testing.assert_array_equal(scores, score(state, Z))
    np.testing.assert_array_equal(score(state, Z + 5e-7), scores)
    assert not np.array_equal(score({"sorted": state["sorted"]}, Z + 5e-7), scores)


def test_float32_rows_score_as_the_float64_rows_they_round():
    # Trial 58: whole-number features (olive oil's fatty acids) fitted as
    # float64 and scored as float32 moved by up to 1.2: the tail score lost
    # each block of tied training values to the rounding.
    rng = np.random.default_rng(0)
    X = np.round(rng.normal(size=(300, 4)) * 40 + 1000) / 10  # ties, 0.1 apart
    detector = AutoencoderAnomalyDetector(max_epochs=5, random_state=0).fit(X)
    moved = detector.score_samples(X.astype(np.float32)) - detector.score_samples(X)
    assert np.abs(moved).max() < 1e-3


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("centered", [True, False])
def test_fast_robust_scaling_is_scikit_learns(dtype, centered):
    from sklearn.preprocessing import RobustScaler

    rng = np.random.default_rng(0)
    for X in (rng.normal(size=(50, 300)), np.round(rng.normal(size=(8, 5))), np.ones((3, 2))):
        X = X.astype(dtype)
        ours = fit_scaler(RobustScaler(with_centering=centered), X)
        theirs = RobustScaler(with_centering=centered).fit(X)
        # Features whose quartiles coincide are scaled by skae's own rule
        # (test_features_with_coinciding_quartiles_keep_no_units).
        spread = np.ptp(np.percentile(X, [25, 75], axis=0), axis=0) > 0
        np.testing.assert_array_equal(ours.transform(X)[:, spread],
                                      theirs.transform(X)[:, spread])
        if centered:
            np.testing.assert_array_equal(ours.center_, theirs.center_)
        # The general path (not a finite float array) gives the same scaling.
        general = fit_scaler(RobustScaler(with_centering=centered), X.tolist())
        np.testing.assert_allclose(general.scale_, ours.scale_, rtol=1e-6)
        assert ours.n_features_in_ == X.shape[1]


def test_features_with_coinciding_quartiles_keep_no_units():
    # A new user's trial: a debt column, 82% zeros, kept its units (its
    # quartiles coincide, and RobustScaler leaves such a feature unscaled),
    # so the detector's scores changed when it was given in thousands.
    from sklearn.preprocessing import RobustScaler

    rng = np.random.default_rng(0)
    n = 600
    debt = np.where(rng.random(n) < 0.82, 0.0, np.round(rng.lognormal(8, 1, n)))
    flag = (rng.random(n) < 0.05).astype(float)
    X = np.c_[rng.normal(size=(n, 3)), debt, flag, np.full(n, 3.0)]
    X[:, 0] += 1e-3 * debt  # the debt matters to the other columns
    scaler = fit_scaler(RobustScaler(), X)
    assert scaler.scale_[3] == np.median(debt[debt > 0])
    assert scaler.scale_[4] == 1.0 and scaler.scale_[5] == 1.0  # a rare flag, a constant
    in_thousands = X * [1, 1, 1, 1e-3, 1, 1]
    scores = AutoencoderAnomalyDetector(random_state=0, max_epochs=20).fit(X).score_samples(X)
    rescaled = AutoencoderAnomalyDetector(random_state=0, max_epochs=20).fit(
        in_thousands).score_samples(in_thousands)
    np.testing.assert_allclose(rescaled, scores, rtol=1e-3, atol=1e-3)


def test_n_components_validation(data):
    X, _, _ = data
    with pytest.raises(ValueError, match="n_components=7 must be at most"):
        AutoencoderAnomalyDetector(n_components=7).fit(X)
    assert AutoencoderAnomalyDetector(random_state=0, max_epochs=1).fit(X).module_.encoder[-1].out_features == 6


def test_bad_input_is_rejected(detector):
    with pytest.raises(ValueError, match="NaN"):
        AutoencoderAnomalyDetector().fit(np.array([[1.0, np.nan], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="expecting 6 features"):
        detector.predict(np.zeros((2, 3)))
    with pytest.raises(Exception, match="not fitted"):
        AutoencoderAnomalyDetector().score_samples(np.zeros((2, 3)))


def test_beats_isolation_forest_on_adbench_vowels(shared_data):
    # A quality floor on real data (ADBench protocol): on vowels the
    # reconstruction part finds what isolation misses.
    data = np.load(shared_data / "adbench" / "40_vowels.npz")
    X_train, X_test, _, y_test = train_test_split(
        data["X"], data["y"], test_size=0.3, stratify=data["y"], random_state=42
    )
    ours = roc_auc_score(
        y_test, -AutoencoderAnomalyDetector(random_state=0).fit(X_train).score_samples(X_test)
    )
    forest = roc_auc_score(
        y_test, -IsolationForest(random_state=42).fit(X_train).score_samples(X_test)
    )
    assert ours > 0.8 and ours > forest + 0.05


@pytest.mark.slow
def test_beats_isolation_forest_on_digits_as_anomalies():
    # A quality floor on a labelled table turned anomaly task (one class
    # subsampled to 5%), the fourth kind of bench_anomaly.py; wide rows (64
    # features), where the longer training of a narrow code pays.
    from sklearn.datasets import load_digits

    X, digit = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    normal = np.flatnonzero(digit != 8)
    rows = np.sort(np.r_[normal, rng.choice(np.flatnonzero(digit == 8), 85, replace=False)])
    X, y = X[rows], (digit[rows] == 8).astype(int)
    X_train, X_test, _, y_test = train_test_split(X, y, test_size=0.3, stratify=y,
                                                  random_state=42)
    ours = roc_auc_score(
        y_test, -AutoencoderAnomalyDetector(random_state=0).fit(X_train).score_samples(X_test)
    )
    forest = roc_auc_score(
        y_test, -IsolationForest(random_state=42).fit(X_train).score_samples(X_test)
    )
    assert ours > 0.55 and ours > forest + 0.05


def test_auto_contamination_flags_a_large_group_of_outliers():
    # scikit-learn's IsolationForest toy: 8 rows, the last 2 are outliers; the
    # upper quartile of the scores falls among them, so a plain fence misses them.
    X = np.array([[-2, -1], [-1, -1], [-1, -2], [1, 1], [1, 2], [2, 1], [7, 4], [-5, 9]],
                 dtype=float)
    det = AutoencoderAnomalyDetector(random_state=0).fit(X)
    np.testing.assert_array_equal(det.predict(X), [1, 1, 1, 1, 1, 1, -1, -1])


@pytest.mark.parametrize("share", [0.3, 0.45])
def test_auto_threshold_flags_heavy_contamination_and_follows_clean_tails(share):
    rng = np.random.default_rng(0)
    n_out = int(1000 * share)
    scores = np.r_[rng.exponential(size=1000 - n_out), 30 + rng.exponential(size=n_out)]
    assert (scores > auto_threshold(scores)).sum() >= n_out
    # The group, and the tail of the rest beyond its fence.
    assert (scores > auto_threshold(scores)).mean() < share + 0.05
    # Smooth tails, no separate group: the plain fence, no flood of flags.
    for clean in (rng.exponential(size=2000), rng.lognormal(size=2000), rng.normal(size=2000)):
        q1, q3 = np.quantile(clean, [0.25, 0.75])
        fence = q3 + AUTO_FENCE_IQRS * (q3 - q1)
        assert (clean > auto_threshold(clean)).mean() <= (clean > fence).mean() + 0.002
        assert (clean > auto_threshold(clean)).mean() < 0.10


def test_explain_of_a_detector_saved_before_typical_values_says_refit():
    X = np.random.default_rng(0).normal(size=(60, 4))
    detector = AutoencoderAnomalyDetector(max_epochs=2, random_state=0).fit(X)
    del detector._typical_row_  # as a detector fitted by an earlier skae
    with pytest.raises(ValueError, match="refit"):
        detector.explain(X[:3])
    assert detector.explain(X[:3], relative=False).shape[0] == 3


def test_a_part_whose_training_spread_is_round_off_does_not_blow_scores_up():
    # A new user's trial: on a regular grid the neighbour distances of the
    # training rows agree to round-off (scaled spread 2.4e-8), and a new row
    # scored -2.5e6; on a table of balanced categories the tails' spread was
    # 6.6e-16 and rows scored -2e14.
    grid = pd.DataFrame({"a": ["1", "2", "3"] * 20, "b": np.arange(60.0)})
    detector = AutoencoderAnomalyDetector(random_state=0).fit(grid)
    new = pd.DataFrame({"a": ["1", "3"], "b": [2.0, 2.0]})
    assert np.abs(detector.score_samples(new)).max() < 100
    assert np.abs(detector.offset_) < 100
    for name, (_center, scale) in detector._centers_.items():
        assert scale > 1e-6, name
