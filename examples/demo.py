"""skae's main demo: the three estimators against their scikit-learn baselines.

Runs on data that ships inside scikit-learn, in about a minute on two CPU
cores (``make demo``):

1. Dimensionality reduction on digits: PCA and AutoencoderTransformer at the
   same ``n_components`` (held-out reconstruction error, accuracy of a
   LogisticRegression on the codes, fit time), and a side-by-side picture of
   both 2-D embeddings (``skae_demo_embeddings.png``).
2. Anomaly detection on breast-cancer measurements (benign tumours, with 5%
   malignant ones mixed in as anomalies): ROC-AUC against IsolationForest,
   and the features that make the top anomaly anomalous.
3. Imputation of 20% missing entries of the same table: RMSE against
   scikit-learn's imputers.
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

from skae import AutoencoderAnomalyDetector, AutoencoderImputer, AutoencoderTransformer

OUT = os.environ.get("SKAE_DEMO_OUT", ".")


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
            "AutoencoderTransformer": AutoencoderTransformer(n_components=k, random_state=0),
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


def cancer_with_anomalies():
    data = load_breast_cancer()
    X, y = data.data, data.target  # 1 = benign
    rng = np.random.default_rng(0)
    benign = np.flatnonzero(y == 1)
    malignant = rng.choice(np.flatnonzero(y == 0), size=int(0.05 * len(benign)), replace=False)
    index = rng.permutation(np.r_[benign, malignant])
    return X[index], (y[index] == 0).astype(int), list(data.feature_names)


def anomalies():
    print("\n2. Anomaly detection: benign tumours with 5% malignant ones mixed in\n")
    X, is_anomaly, names = cancer_with_anomalies()
    X_train, X_test, _, y_test = train_test_split(
        X, is_anomaly, test_size=0.3, stratify=is_anomaly, random_state=42
    )
    rows = []
    forest, seconds = timed(lambda: IsolationForest(random_state=42).fit(X_train))
    rows.append(["IsolationForest", f"{roc_auc_score(y_test, -forest.score_samples(X_test)):.3f}",
                 f"{seconds:.2f}"])
    detector = AutoencoderAnomalyDetector(random_state=0)
    _, seconds = timed(lambda: detector.fit(X_train))
    rows.append(["AutoencoderAnomalyDetector",
                 f"{roc_auc_score(y_test, -detector.score_samples(X_test)):.3f}", f"{seconds:.2f}"])
    table(rows, ["detector", "ROC-AUC", "fit s"])
    flagged = detector.predict(X_test) == -1
    print(f"\ncontamination='auto' flags {flagged.sum()} of {len(X_test)} test rows; "
          f"{is_anomaly_share(flagged, y_test)}")
    import pandas as pd

    frame = pd.DataFrame(X_test, columns=names)
    top = int(np.argmax(-detector.score_samples(frame)))
    explanation = detector.explain(frame.iloc[[top]]).iloc[0].sort_values(ascending=False)
    print(f"Most anomalous test row (malignant: {bool(y_test[top])}); its largest "
          "reconstruction errors:")
    for feature, value in explanation.head(3).items():
        print(f"  {feature:<24} {value:.3f}")


def is_anomaly_share(flagged, y):
    if not flagged.any():
        return "none flagged"
    return f"{100 * y[flagged].mean():.0f}% of those are malignant"


def imputation():
    print("\n3. Imputation: breast-cancer table (569 x 30), 20% of entries hidden\n")
    X = load_breast_cancer().data
    mask = np.random.default_rng(1).random(X.shape) < 0.2
    X_missing = np.where(mask, np.nan, X)
    span = X.max(axis=0) - X.min(axis=0)
    imputers = {
        "SimpleImputer(mean)": SimpleImputer(),
        "KNNImputer": KNNImputer(),
        "IterativeImputer": IterativeImputer(max_iter=10, random_state=0),
        "AutoencoderImputer": AutoencoderImputer(random_state=0),
    }
    rows = []
    for name, imputer in imputers.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            filled, seconds = timed(lambda: imputer.fit_transform(X_missing))
        rmse = np.sqrt(np.mean((((filled - X) / span)[mask]) ** 2))
        rows.append([name, f"{rmse:.4f}", f"{seconds:.2f}"])
    table(rows, ["imputer", "RMSE (min-max scaled)", "fit+transform s"])
    draws = imputers["AutoencoderImputer"].sample_imputations(X_missing, 5, random_state=0)
    spread = np.std(draws, axis=0)
    print(f"\nMultiple imputation: 5 draws; mean spread {np.mean(spread[mask] / span[np.nonzero(mask)[1]]):.4f}"
          " (min-max scaled) on hidden entries, 0 on observed ones "
          f"({np.max(np.ptp(np.stack(draws), axis=0)[~mask]):.1f}).")


def main():
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    start = time.perf_counter()
    print(f"skae demo (torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"device {'cuda' if torch.cuda.is_available() else 'cpu'})")
    reduction()
    anomalies()
    imputation()
    print(f"\nDemo finished in {time.perf_counter() - start:.0f} s.")


if __name__ == "__main__":
    sys.exit(main())
