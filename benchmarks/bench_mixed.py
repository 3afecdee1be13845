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
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import torch
from _common import SHARED_DATA, machine, print_table, timer
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

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


if __name__ == "__main__":
    torch.set_num_threads(int(__import__("os").environ.get("SKAE_BENCH_THREADS", "1")))
    main()
