"""AutoencoderTransformer against PCA: held-out reconstruction error.

Protocol (the foundation issue's): each table is split 70/30
(``random_state=0``); errors are mean squared reconstruction errors on the
held-out 30%, in the units of a StandardScaler fitted on the 70%. PCA and the
autoencoder use the same ``n_components``: 2 and ``ceil(d / 8)``. Tables are
scikit-learn's digits and every ADBench table in ``../shared/data/adbench``
(labels dropped for fitting; train parts capped at 20,000 rows). The
downstream column is the balanced accuracy of a LogisticRegression trained on
the codes (digit classes, or ADBench's anomaly labels).

Run ``python benchmarks/bench_transformer.py`` (``--quick`` for digits and
three small tables). ``--params '{"lr": 3e-3}'`` benchmarks other settings;
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
import torch
from _common import (
    adbench_files,
    dataset_name,
    geometric_mean,
    load_adbench,
    machine,
    print_table,
    stratified_cap,
    timer,
)
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer, ConvAutoencoder, VariationalAutoencoder

TRAIN_CAP = 20_000
VARIANTS = {
    "lin": {"activation": "identity", "module__linear_path": False},
    "sparse": {"module__sparsity": 1.0},
    "denoise": {"module__noise": 0.3},
    "vae": {"module": VariationalAutoencoder},
}
QUICK = {"digits", "glass", "Pima", "cardio"}


def tables(quick: bool):
    X, y = load_digits(return_X_y=True)
    yield "digits", X, y
    for path in adbench_files():
        name = dataset_name(path)
        if quick and name not in QUICK:
            continue
        yield (name, *load_adbench(path))


def downstream(codes_train, y_train, codes_test, y_test) -> float:
    if len(np.unique(y_train)) < 2:
        return float("nan")
    clf = LogisticRegression(max_iter=2000, class_weight="balanced")
    clf.fit(codes_train, y_train)
    return balanced_accuracy_score(y_test, clf.predict(codes_test))


def run_case(name, X, y, k, variants):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y
    )
    X_train, y_train = stratified_cap(X_train, y_train, TRAIN_CAP)
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
        "pca_acc": downstream(pca.transform(scaler.transform(X_train)), y_train, Zte, y_test),
        "pca_s": t[0],
    }
    for label, params in variants.items():
        ae = AutoencoderTransformer(n_components=k, random_state=0, **params)
        with timer() as t:
            Ztr = ae.fit_transform(X_train)
        Z = ae.transform(X_test)
        row[f"{label}_ratio"] = error(ae.inverse_transform(Z)) / row["pca_err"]
        row[f"{label}_acc"] = downstream(Ztr, y_train, Z, y_test)
        row[f"{label}_s"] = t[0]
        row[f"{label}_ep"] = len(ae.history_)
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="digits and 3 small tables")
    parser.add_argument("--params", default="{}", help="JSON parameters for skae")
    parser.add_argument(
        "--linear", action="store_true", help="also a linear autoencoder (no PCA start)"
    )
    parser.add_argument("--variants", action="store_true", help="the family's rows")
    parser.add_argument("--images", action="store_true", help="conv vs MLP vs PCA on images")
    args = parser.parse_args(argv)
    print(machine())
    if args.images:
        images()
        return
    variants = {"ae": json.loads(args.params)}
    if args.linear:
        variants["lin"] = VARIANTS["lin"]
    if args.variants:
        variants.update(VARIANTS)
    rows = []
    for name, X, y in tables(args.quick):
        for k in sorted({2, math.ceil(X.shape[1] / 8)}):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rows.append(run_case(name, X, y, k, variants))
            print(
                f"  {name:>14} k={k:<3} " + "  ".join(
                    f"{v}={rows[-1][f'{v}_ratio']:.3f}" for v in variants
                ),
                flush=True,
            )
    columns = ["data", "n", "d", "k", "pca_err", "pca_acc"]
    for v in variants:
        columns += [f"{v}_ratio", f"{v}_acc", f"{v}_s", f"{v}_ep"]
    columns.append("pca_s")
    print()
    print_table(rows, columns)
    print()
    for v in variants:
        ratios = [r[f"{v}_ratio"] for r in rows]
        print(
            f"{v}: geometric-mean error ratio vs PCA {geometric_mean(ratios):.3f}, "
            f"worst {max(ratios):.3f}, better than PCA in {sum(r < 1 for r in ratios)}"
            f"/{len(ratios)} cases; total fit time {sum(r[f'{v}_s'] for r in rows):.1f}s "
            f"(PCA {sum(r['pca_s'] for r in rows):.2f}s)"
        )


def image_sets():
    from _common import SHARED_DATA

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
