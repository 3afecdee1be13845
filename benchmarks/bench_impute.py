"""AutoencoderImputer against scikit-learn's imputers (GAIN's protocol).

Protocol: constant columns dropped; at most 5,000 rows per table
(``np.random.default_rng(0)``); each entry hidden with probability ``p``
(MCAR), or, for MAR, hidden with probability ``1.5 p`` when the table's first
column (never hidden) is above its median and ``0.5 p`` otherwise. Every
imputer is fitted on the table with its gaps and imputes the same rows; RMSE
over the hidden entries after min-max scaling with the complete column's
minimum and maximum. Baselines in the same run: ``SimpleImputer()`` (mean),
``KNNImputer()`` and ``IterativeImputer(max_iter=10)``. The ratio divides
skae's RMSE by the better of KNNImputer and IterativeImputer; the headline is
the geometric mean of the ratios over the tables at p = 0.2 (MCAR).

Tables: ``../shared/data/gain/letter.csv`` and the ADBench tables below
(labels dropped). ``--quick`` runs letter and two tables at p = 0.2.
``--letter-timing`` times imputing 20% of the full letter table (20,000 rows).
"""

from __future__ import annotations

import argparse
import json
import warnings

import numpy as np
import torch
from _common import SHARED_DATA, geometric_mean, machine, print_table, timer
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

from skae import AutoencoderImputer

ADBENCH_TABLES = [
    "6_cardio", "12_fault", "22_magic.gamma", "27_PageBlocks",
    "31_satimage-2", "47_yeast", "2_annthyroid", "44_Wilt",
]
QUICK_TABLES = ["letter", "6_cardio", "47_yeast"]
ROW_CAP = 5000


def load_tables(names=None):
    tables = {}
    letter = SHARED_DATA / "gain" / "letter.csv"
    if letter.exists():
        tables["letter"] = np.loadtxt(letter, delimiter=",", skiprows=1)
    for name in ADBENCH_TABLES:
        path = SHARED_DATA / "adbench" / f"{name}.npz"
        if path.exists():
            tables[name.split("_", 1)[1]] = np.load(path)["X"].astype(np.float64)
    if not tables:
        print(f"[skip] no data found under {SHARED_DATA}; set SKAE_SHARED_DATA.")
    if names:
        tables = {k: v for k, v in tables.items() if k in names}
    return tables


def prepare(X):
    X = X[:, X.std(axis=0) > 0]
    if len(X) > ROW_CAP:
        X = X[np.random.default_rng(0).choice(len(X), ROW_CAP, replace=False)]
    return X


def make_mask(X, p, mechanism, seed=0):
    rng = np.random.default_rng(seed)
    if mechanism == "mcar":
        return rng.random(X.shape) < p
    above = X[:, 0] > np.median(X[:, 0])
    prob = np.where(above, 1.5 * p, 0.5 * p)[:, None]
    mask = rng.random(X.shape) < prob
    mask[:, 0] = False
    return mask


def rmse(X, X_imp, mask):
    lo, hi = X.min(axis=0), X.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    diff = ((X_imp - X) / span)[mask]
    return float(np.sqrt(np.mean(diff**2)))


def imputers(params):
    return {
        "mean": lambda: SimpleImputer(),
        "knn": lambda: KNNImputer(),
        "iterative": lambda: IterativeImputer(max_iter=10, random_state=0),
        "skae": lambda: AutoencoderImputer(random_state=0, **params),
    }


def run(tables, cases, params):
    rows = []
    for name, X in tables.items():
        X = prepare(X)
        for p, mechanism in cases:
            mask = make_mask(X, p, mechanism)
            X_missing = np.where(mask, np.nan, X)
            row = {"data": name, "n": len(X), "d": X.shape[1], "p": p, "mech": mechanism}
            for label, make in imputers(params).items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    with timer() as t:
                        X_imp = make().fit_transform(X_missing)
                row[label] = rmse(X, X_imp, mask)
                row[f"{label}_s"] = t[0]
            row["ratio"] = row["skae"] / min(row["knn"], row["iterative"])
            rows.append(row)
            print(
                f"  {name:>12} p={p} {mechanism}: skae {row['skae']:.4f} knn {row['knn']:.4f} "
                f"iter {row['iterative']:.4f} ratio {row['ratio']:.3f} ({row['skae_s']:.1f}s)",
                flush=True,
            )
    return rows


def letter_timing(params):
    path = SHARED_DATA / "gain" / "letter.csv"
    if not path.exists():
        print("[skip] letter.csv not found")
        return
    X = np.loadtxt(path, delimiter=",", skiprows=1)
    mask = make_mask(X, 0.2, "mcar")
    X_missing = np.where(mask, np.nan, X)
    out = []
    for label, make in imputers(params).items():
        if label == "mean":
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with timer() as t:
                X_imp = make().fit_transform(X_missing)
        out.append({"imputer": label, "rmse": rmse(X, X_imp, mask), "seconds": t[0]})
    print_table(out, ["imputer", "rmse", "seconds"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--params", default="{}", help="JSON parameters for skae")
    parser.add_argument("--letter-timing", action="store_true")
    parser.add_argument("--tables", default=None, help="comma-separated table names")
    args = parser.parse_args(argv)
    params = json.loads(args.params)
    print(machine())
    if args.letter_timing:
        letter_timing(params)
        return
    names = args.tables.split(",") if args.tables else (
        [n.split("_", 1)[-1] for n in QUICK_TABLES] if args.quick else None
    )
    tables = load_tables(names)
    cases = [(0.2, "mcar")] if args.quick else [
        (0.1, "mcar"), (0.2, "mcar"), (0.5, "mcar"), (0.2, "mar")
    ]
    rows = run(tables, cases, params)
    print()
    print_table(
        rows,
        ["data", "n", "d", "p", "mech", "mean", "knn", "iterative", "skae", "ratio",
         "knn_s", "iterative_s", "skae_s"],
        floatfmt="{:.4f}",
    )
    print()
    for p, mechanism in cases:
        ratios = [r["ratio"] for r in rows if r["p"] == p and r["mech"] == mechanism]
        if ratios:
            print(
                f"p={p} {mechanism}: geometric-mean RMSE ratio skae / min(KNN, Iterative) "
                f"= {geometric_mean(ratios):.3f} over {len(ratios)} tables "
                f"(worst {max(ratios):.3f})"
            )


if __name__ == "__main__":
    torch.set_num_threads(int(__import__("os").environ.get("SKAE_BENCH_THREADS", "1")))
    main()
