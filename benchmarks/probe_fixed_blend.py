"""Fixed blends of the imputer's parts and the baselines: chosen on dev, reported on report.

Stop 30's ``probe_blend_bound.py`` bounded any *per-column* blend of the
imputer's network and trees with KNNImputer and IterativeImputer by weights
chosen on the answers. This probe asks the question an imputer can act on:
one fixed set of weights ``(network, trees, KNN, IterativeImputer)``, chosen
on the development tables, then measured on the report tables, against the
default (0.7 network + 0.3 trees) and missForest, all as RMSE / best(KNN,
Iterative) (geometric means; ``bench_impute.py``'s protocol: at most 5,000
rows, min-max scaled RMSE, one thread).

``python benchmarks/probe_fixed_blend.py parts --group dev|report --mechanism mcar|mar``
fits each table once and saves every part's imputations under ``--out``;
``python benchmarks/probe_fixed_blend.py choose --mechanism mcar|mar``
reads them, searches the weights on a 0.05 grid on dev and prints both groups.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from bench_impute import load_tables, make_mask, missforest, prepare, rmse
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer

from skae import AutoencoderImputer

PARTS = ("net", "trees", "knn", "iter")


def save_parts(group, mechanism, p, out):
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(1)
    for name, X in load_tables(group).items():
        X = prepare(X)
        mask = make_mask(X, p, mechanism)
        X_missing = np.where(mask, np.nan, X)
        start = time.perf_counter()
        imp = AutoencoderImputer(random_state=0).fit(X_missing)
        seconds = {"skae": time.perf_counter() - start}
        parts = {}
        for weight, label in [(0.0, "net"), (1.0, "trees"), (0.3, "skae")]:
            imp._tree_weight_ = weight
            parts[label] = imp.transform(X_missing)
        for label, make in [("knn", KNNImputer),
                            ("iter", lambda: IterativeImputer(max_iter=10, random_state=0)),
                            ("mf", missforest)]:
            start = time.perf_counter()
            parts[label] = make().fit_transform(X_missing)
            seconds[label] = time.perf_counter() - start
        np.savez_compressed(out / f"{group}_{mechanism}{p}_{name}.npz", X=X, mask=mask, **parts)
        print(json.dumps({"data": name, **{f"t_{k}": round(v, 1) for k, v in seconds.items()},
                          **{k: round(rmse(X, v, mask), 4) for k, v in parts.items()}}),
              flush=True)


def _load(out, group, tag):
    tables = {}
    for path in sorted(out.glob(f"{group}_{tag}_*.npz")):
        d = np.load(path)
        X, mask = d["X"], d["mask"]
        span = np.where(np.ptp(X, axis=0) > 0, np.ptp(X, axis=0), 1.0)
        tables[path.stem.split(f"{tag}_", 1)[1]] = {
            k: ((d[k] - X) / span)[mask] for k in (*PARTS, "skae", "mf")}
    return tables


def _ratio(tables, errors_of):
    logs = []
    for t in tables.values():
        best = min(np.sqrt(np.mean(t["knn"] ** 2)), np.sqrt(np.mean(t["iter"] ** 2)))
        logs.append(np.log(np.sqrt(np.mean(errors_of(t) ** 2)) / best))
    return float(np.exp(np.mean(logs)))


def blend(w):
    return lambda t: sum(wi * t[p] for wi, p in zip(w, PARTS))


def choose(out, tag):
    dev, report = _load(out, "dev", tag), _load(out, "report", tag)
    print(f"{tag}: {len(dev)} development tables, {len(report)} report tables")
    for label in ("skae", "net", "trees", "mf", "knn", "iter"):
        print(f"  {label:5s} dev {_ratio(dev, lambda t: t[label]):.4f}  "
              f"report {_ratio(report, lambda t: t[label]):.4f}")
    grid = [(*w, 1 - sum(w)) for w in itertools.product(np.arange(0, 1.001, 0.05), repeat=3)
            if sum(w) <= 1 + 1e-9]
    on_dev = min(grid, key=lambda w: _ratio(dev, blend(w)))
    on_report = min(grid, key=lambda w: _ratio(report, blend(w)))
    for label, w in [("chosen on dev", on_dev), ("best on report (a bound)", on_report)]:
        print(f"  {label}: weights {np.round(w, 2).tolist()}  dev {_ratio(dev, blend(w)):.4f}  "
              f"report {_ratio(report, blend(w)):.4f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["parts", "choose"])
    parser.add_argument("--group", choices=["dev", "report"], default="dev")
    parser.add_argument("--mechanism", choices=["mcar", "mar"], default="mcar")
    parser.add_argument("--p", type=float, default=0.2)
    parser.add_argument("--out", type=Path, default=Path("fixed_blend_parts"))
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    args.out.mkdir(exist_ok=True)
    if args.step == "parts":
        save_parts(args.group, args.mechanism, args.p, args.out)
    else:
        choose(args.out, f"{args.mechanism}{args.p}")


if __name__ == "__main__":
    main()
