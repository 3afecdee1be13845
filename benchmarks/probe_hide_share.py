"""One hidden share for every training row against a share per row (stop 46).

The imputer's training hides ``hide_fraction`` of each row's observed
entries. With one share for every row, a network on 1,000 rows of 605 MNIST
pixels (a new user's trial 69) had learned the share itself, which barely
varies across so many columns, and imputed the rows of ``transform``, which
hide nothing beyond their gaps, worse than column means. Each row now draws
its share uniformly between 0 and twice ``hide_fraction``
(``skae._imputer._VARY_HIDE_RATE``); this probe fits both ways in one
process, on ``bench_impute.py``'s protocol (20% MCAR and MAR, min-max scaled
RMSE over the hidden entries, mask seed 0, one thread):

``python benchmarks/probe_hide_share.py --group dev|report --rows 1000 --out F``
(JSON lines, one a table and mechanism), and ``--mnist`` for the 605-pixel
case (1,000 rows of ``highdim/mnist_test.npz``, about 10 minutes). Figures
are in the benchmarks README ("A hidden share per row").
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import torch
from bench_impute import SHARED_DATA, load_tables, make_mask, prepare, rmse
from sklearn.impute import KNNImputer
from threadpoolctl import threadpool_limits

import skae._imputer
from skae import AutoencoderImputer


def compare(X, mask, params=None):
    """RMSE and seconds of the imputer fitted with one share, then a share per row."""
    X_missing = np.where(mask, np.nan, X)
    result = {}
    for per_row in (False, True):
        skae._imputer._VARY_HIDE_RATE = per_row
        start = time.perf_counter()
        imputed = AutoencoderImputer(random_state=0, **(params or {})).fit_transform(X_missing)
        key = "per_row" if per_row else "one_share"
        result[key], result[f"{key}_s"] = rmse(X, imputed, mask), time.perf_counter() - start
    skae._imputer._VARY_HIDE_RATE = True
    result["ratio"] = result["per_row"] / result["one_share"]
    return result


def run_tables(group, rows, out, names=None):
    for name, X in load_tables(group, names).items():
        X = prepare(X, rows)
        for mechanism in ("mcar", "mar"):
            row = {"table": name, "mechanism": mechanism,
                   **compare(X, make_mask(X, 0.2, mechanism))}
            print(json.dumps(row), flush=True)
            if out:
                with open(out, "a") as f:
                    f.write(json.dumps(row) + "\n")


def run_mnist():
    path = SHARED_DATA / "highdim" / "mnist_test.npz"
    if not path.exists():
        print(f"[skip] {path} not found (set SKAE_SHARED_DATA)")
        return
    X = np.load(path)["X"].astype(np.float64)
    X = X[:, X.std(axis=0) > 0]
    X = X[np.random.default_rng(0).choice(len(X), 1000, replace=False)]
    X = X[:, X.std(axis=0) > 0]
    mask = np.random.default_rng(0).random(X.shape) < 0.2
    X_missing = np.where(mask, np.nan, X)
    means = np.where(mask, np.nanmean(X_missing, axis=0), X)
    print(f"MNIST pixels {X.shape}: column means {rmse(X, means, mask):.4f}, "
          f"KNNImputer {rmse(X, KNNImputer().fit_transform(X_missing), mask):.4f}")
    for label, params in [("network alone", {"tree_weight": 0, "recall_linear": False}),
                          ("defaults", {})]:
        print(label, json.dumps(compare(X, mask, params)), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", choices=["dev", "report"], default="dev")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--tables", default=None, help="comma-separated table names")
    parser.add_argument("--out", default=None)
    parser.add_argument("--mnist", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    with threadpool_limits(1):
        if args.mnist:
            run_mnist()
        else:
            names = args.tables.split(",") if args.tables else None
            run_tables(args.group, args.rows, args.out, names)


if __name__ == "__main__":
    main()
