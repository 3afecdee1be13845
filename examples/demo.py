"""skae's main demo: the three estimators against their scikit-learn baselines.

Runs on data that ships inside scikit-learn, in about a minute on two CPU
cores (``make demo``):

1. Dimensionality reduction on digits: PCA and AutoencoderTransformer at the
   same ``n_components`` (held-out reconstruction error, accuracy of a
   LogisticRegression on the codes, fit time), and a side-by-side picture of
   both 2-D embeddings (``skae_demo_embeddings.png``).
2. Anomaly detection on breast-cancer measurements where 5% of the records
   are corrupted (their size measurements copied from another tumour, as a
   data-entry error would): ROC-AUC against IsolationForest, and the features
   that make the top anomaly anomalous.
3. Imputation of 20% missing entries of digits: RMSE against scikit-learn's
   imputers, and the spread of multiple imputation.
"""

from __future__ import annotations

import os
import sys
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skae import AutoencoderAnomalyDetector, AutoencoderImputer, AutoencoderTransformer

OUT = os.environ.get("SKAE_DEMO_OUT", ".")
# The test suite runs the demo with fewer epochs and rows.
FAST = os.environ.get("SKAE_EXAMPLES_FAST") == "1"
EPOCHS = {"max_epochs": 10} if FAST else {}


def table(rows, header):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(str(h).rjust(w) for h, w in zip(header, widths)))
    for r in rows:
        print("  ".join(str(v).rjust(w) for v, w in zip(r, widths)))


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def reduction():
    print("\n1. Dimensionality reduction: digits (1797 x 64), 70/30 split\n")
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    scaler = StandardScaler().fit(X_train)
    S_test = scaler.transform(X_test)
    rows, embeddings = [], {}
    for k in (2, 8):
        models = {
            "PCA": make_pipeline(StandardScaler(), PCA(n_components=k)),
            "AutoencoderTransformer": AutoencoderTransformer(
                n_components=k, random_state=0, **EPOCHS
            ),
        }
        for name, model in models.items():
            _, seconds = timed(lambda: model.fit(X_train))
            codes_train, codes_test = model.transform(X_train), model.transform(X_test)
            reconstruction = scaler.transform(model.inverse_transform(codes_test))
            error = np.mean((reconstruction - S_test) ** 2)
            clf = LogisticRegression(max_iter=3000).fit(codes_train, y_train)
            accuracy = clf.score(codes_test, y_test)
            rows.append([name, k, f"{error:.3f}", f"{accuracy:.3f}", f"{seconds:.2f}"])
            if k == 2:
                embeddings[name] = (codes_test, y_test)
    table(rows, ["model", "n_components", "held-out error", "LogReg accuracy", "fit s"])
    plot_embeddings(embeddings)


def plot_embeddings(embeddings):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib is not installed: no picture)")
        return
    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    for ax, (name, (codes, labels)) in zip(axes, embeddings.items()):
        points = ax.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="tab10", s=8)
        ax.set_title(f"{name}, n_components=2 (held-out digits)")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(points, ax=axes, label="digit")
    path = os.path.join(OUT, "skae_demo_embeddings.png")
    fig.savefig(path, dpi=110)
    print(f"\nSaved the two embeddings side by side to {path}")


SIZE_FEATURES = ["mean radius", "mean perimeter", "mean area"]


def corrupted_records():
    """Breast-cancer records, 5% of them with another tumour's size measurements.

    Every value of a corrupted record is plausible on its own; only the
    relations between features are broken.
    """
    import pandas as pd

    data = load_breast_cancer()
    X = pd.DataFrame(data.data, columns=data.feature_names)
    rng = np.random.default_rng(0)
    n_bad = int(0.05 * len(X))
    bad = X.iloc[rng.choice(len(X), n_bad, replace=False)].copy()
    donors = X.iloc[rng.choice(len(X), n_bad)]
    bad[SIZE_FEATURES] = donors[SIZE_FEATURES].to_numpy()
    frame = pd.concat([X, bad], ignore_index=True)
    return frame, np.r_[np.zeros(len(X)), np.ones(n_bad)].astype(int)


def anomalies():
    print("\n2. Anomaly detection: breast-cancer records, 5% with another tumour's "
          "size measurements\n")
    X, is_anomaly = corrupted_records()
    X_train, X_test, _, y_test = train_test_split(
        X, is_anomaly, test_size=0.3, stratify=is_anomaly, random_state=42
    )
    rows = []
    forest, seconds = timed(lambda: IsolationForest(random_state=42).fit(X_train))
    rows.append(["IsolationForest", f"{roc_auc_score(y_test, -forest.score_samples(X_test)):.3f}",
                 f"{seconds:.2f}"])
    detector = AutoencoderAnomalyDetector(random_state=0)
    _, seconds = timed(lambda: detector.fit(X_train))
    scores = -detector.score_samples(X_test)
    rows.append(["AutoencoderAnomalyDetector", f"{roc_auc_score(y_test, scores):.3f}",
                 f"{seconds:.2f}"])
    table(rows, ["detector", "ROC-AUC", "fit s"])
    top_decile = scores >= np.quantile(scores, 0.9)
    forest_scores = -forest.score_samples(X_test)
    forest_decile = forest_scores >= np.quantile(forest_scores, 0.9)
    print(f"\nCorrupted records among the 10% highest scores: skae {y_test[top_decile].sum()}, "
          f"IsolationForest {y_test[forest_decile].sum()} (of {y_test.sum()} in the test part)")
    corrupted = np.flatnonzero(y_test == 1)
    worst = corrupted[np.argmax(scores[corrupted])]
    explanation = detector.explain(X_test.iloc[[worst]]).iloc[0].sort_values(ascending=False)
    print("explain() on the highest-scored corrupted record (its size measurements came "
          "from another tumour):")
    for feature, value in explanation.head(3).items():
        print(f"  {feature:<24} {value:.3f}")


def imputation():
    print("\n3. Imputation: digits (1797 x 64), 20% of entries hidden\n")
    X = load_digits().data[:600] if FAST else load_digits().data
    mask = np.random.default_rng(1).random(X.shape) < 0.2
    X_missing = np.where(mask, np.nan, X)
    span = np.where(X.max(axis=0) > X.min(axis=0), X.max(axis=0) - X.min(axis=0), 1.0)
    imputers = {
        "SimpleImputer(mean)": SimpleImputer(),
        "KNNImputer": KNNImputer(),
        "IterativeImputer": IterativeImputer(max_iter=10, random_state=0),
        "AutoencoderImputer": AutoencoderImputer(random_state=0, **EPOCHS),
    }
    rows = []
    for name, imputer in imputers.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            filled, seconds = timed(lambda: imputer.fit_transform(X_missing))
        rmse = np.sqrt(np.mean((((filled - X) / span)[mask]) ** 2))
        rows.append([name, f"{rmse:.4f}", f"{seconds:.2f}"])
    table(rows, ["imputer", "RMSE (min-max scaled)", "fit+transform s"])
    draws = np.stack(
        imputers["AutoencoderImputer"].sample_imputations(X_missing, 5, random_state=0)
    )
    spread = (draws.std(axis=0) / span)[mask].mean()
    print(f"\nMultiple imputation, 5 draws: mean spread {spread:.4f} (min-max scaled) on "
          f"hidden entries, {np.ptp(draws, axis=0)[~mask].max():.0f} on observed ones.")


def main():
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    start = time.perf_counter()
    print(f"skae demo (torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"device {'cuda' if torch.cuda.is_available() else 'cpu'})")
    # One BLAS thread for the scikit-learn baselines, as skae's n_jobs=None
    # takes one torch thread at these sizes: on a busy machine, BLAS threads
    # competing for the cores made IterativeImputer 30-100x slower.
    with threadpool_limits(limits=1, user_api="blas"):
        reduction()
        anomalies()
        imputation()
    print(f"\nDemo finished in {time.perf_counter() - start:.0f} s.")


if __name__ == "__main__":
    sys.exit(main())
