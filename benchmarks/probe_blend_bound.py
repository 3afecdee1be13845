"""How far blending can take the imputer: a bound on issue 16's 0.80 floor.

On each table of ``bench_impute.py`` (its protocol: at most 5,000 rows, 20%
MCAR, RMSE after min-max scaling, one thread) the imputer is fitted once
with its defaults, and the gaps are filled by each of its parts and by the
baselines, all divided by best(KNNImputer, IterativeImputer):

- ``net``, ``trees``, ``skae``: the network alone (``tree_weight=0``), its
  trees alone (1.0) and the default blend (0.3), from the same fit;
- ``knn``, ``iter``: ``KNNImputer()`` and ``IterativeImputer(max_iter=10)``;
- ``oracle(...)``: per column, the non-negative weights of the listed parts
  that minimize the error *on the hidden entries themselves* (non-negative
  least squares on the true values). No imputer can choose its weights
  that way, so these are bounds on any per-column blend of those parts.
- ``stacked``: the blend an imputer *can* choose, weights fitted per column
  on observed entries hidden again (the network's predictions from five
  passes, each hiding a fifth of the observed entries; the trees'
  three-fold cross-validated), then applied to the gaps.
- ``memorized``: the network's error on its observed entries hidden again,
  divided by its error on the real gaps (scaled units). Below 1, the
  network has memorized its training entries, and weights fitted on them
  trust it too much.

``python benchmarks/probe_blend_bound.py --group dev|report [--tables a,b]``
prints a JSON line per table and the geometric means.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import torch
from bench_impute import load_tables, make_mask, prepare, rmse
from scipy.optimize import nnls
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer
from sklearn.model_selection import KFold, cross_val_predict

from skae import AutoencoderImputer
from skae._imputer import _TREE_PARAMS

ORACLES = [("net", "trees"), ("net", "trees", "knn"), ("net", "trees", "knn", "iter")]


def _weights(A, b):
    """Non-negative least-squares weights, equal ones when all come out 0."""
    w = nnls(A, b)[0]
    return w if w.sum() > 0 else np.full(A.shape[1], 1.0 / A.shape[1])


def oracle(X, mask, parts, names):
    """Each column's gaps from the best non-negative weights of ``names`` on the gaps."""
    span = np.ptp(X, axis=0)
    span = np.where(span > 0, span, 1.0)
    out = X.copy()
    for j in np.flatnonzero(mask.any(axis=0)):
        gaps = mask[:, j]
        A = np.stack([parts[n][gaps, j] for n in names], axis=1) / span[j]
        out[gaps, j] = (A @ _weights(A, X[gaps, j] / span[j])) * span[j]
    return out


def stacked(imp, X_missing):
    """Per-column weights of (network, trees) fitted on observed entries hidden again.

    Returns the scaled predictions of every entry and the network's error
    on the re-hidden entries (scaled units).
    """
    S, observed = imp._scaled_with_mask(X_missing)
    network = imp._predict_scaled(S, observed).astype(np.float64)
    completed = np.where(observed, S, network)
    fifth = np.random.default_rng(1).integers(0, 5, size=observed.shape)
    again = np.full(S.shape, np.nan)
    for k in range(5):
        hidden = observed & (fifth == k)
        again[hidden] = imp._predict_scaled(S, observed & ~hidden)[hidden]
    out = network.copy()
    for j, trees in enumerate(imp.trees_):
        rows, gaps = observed[:, j], ~observed[:, j]
        if trees is None or not gaps.any():
            continue
        inputs = completed[:, imp._tree_inputs_[j]]
        folds = KFold(3, shuffle=True, random_state=0)
        model = HistGradientBoostingRegressor(**_TREE_PARAMS, random_state=0)
        cv_trees = cross_val_predict(model, inputs[rows], S[rows, j], cv=folds)
        w = _weights(np.stack([again[rows, j], cv_trees], axis=1), S[rows, j])
        out[gaps, j] = w[0] * network[gaps, j] + w[1] * trees.predict(inputs[gaps])
    memorized = float(np.sqrt(np.nanmean((again - S)[observed] ** 2)))
    return out, memorized


def probe_table(name, X, p=0.2, mechanism="mcar"):
    X = prepare(X)
    mask = make_mask(X, p, mechanism)
    X_missing = np.where(mask, np.nan, X)
    start = time.perf_counter()
    imp = AutoencoderImputer(random_state=0).fit(X_missing)
    seconds = time.perf_counter() - start
    parts = {}
    for weight, label in [(0.0, "net"), (1.0, "trees"), (0.3, "skae")]:
        imp._tree_weight_ = weight
        parts[label] = imp.transform(X_missing)
    parts["knn"] = KNNImputer().fit_transform(X_missing)
    parts["iter"] = IterativeImputer(max_iter=10, random_state=0).fit_transform(X_missing)
    errors = {label: rmse(X, Y, mask) for label, Y in parts.items()}
    for names in ORACLES:
        errors[f"oracle({'+'.join(names)})"] = rmse(X, oracle(X, mask, parts, names), mask)
    blend, memorized = stacked(imp, X_missing)
    imp._tree_weight_ = 0.3
    imp._blend_trees = lambda S, observed, predicted: blend.copy()
    errors["stacked"] = rmse(X, imp.transform(X_missing), mask)
    # The network's error on the real gaps, in the same scaled units.
    S_true = imp.scaler_.transform(X)
    network, _ = imp._scaled_with_mask(X_missing)
    network = imp._predict_scaled(network, ~mask)
    true_error = float(np.sqrt(np.mean((network - S_true)[mask] ** 2)))
    best = min(errors["knn"], errors["iter"])
    return {"data": name, "n": X.shape[0], "d": X.shape[1], "fit_s": round(seconds, 1),
            **{k: round(v / best, 4) for k, v in errors.items()},
            "memorized": round(memorized / true_error, 3)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", choices=["dev", "report", "all"], default="dev")
    parser.add_argument("--tables", default=None, help="comma-separated table names")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    warnings.simplefilter("ignore")
    names = args.tables.split(",") if args.tables else None
    rows = []
    for name, X in load_tables(args.group, names).items():
        if X is None:
            print(f"{name}: data not found, skipped")
            continue
        rows.append(probe_table(name, X))
        print(json.dumps(rows[-1]), flush=True)
    if rows:
        keys = [k for k in rows[0] if k not in ("data", "n", "d", "fit_s")]
        means = {k: round(float(np.exp(np.mean(np.log([r[k] for r in rows])))), 4) for k in keys}
        print("geometric means:", json.dumps(means))


if __name__ == "__main__":
    main()
