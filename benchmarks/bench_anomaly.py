"""AutoencoderAnomalyDetector against IsolationForest and PyOD's AutoEncoder.

ADBench's unsupervised protocol on every data set in ``../shared/data/adbench``:
``train_test_split(X, y, test_size=0.3, stratify=y, random_state=42)``, fit on
the unlabeled train part (anomalies included), ROC-AUC and average precision
of the anomaly scores on the test part. All three detectors run with their
default parameters (``IsolationForest(random_state=42)``, PyOD's
``AutoEncoder()``, skae's ``AutoencoderAnomalyDetector(random_state=0)``);
fit times are wall-clock seconds of ``fit``.

``--quick`` runs six small sets; ``--cap N`` caps the train parts at N
stratified rows; ``--seeds K`` averages skae over K random states;
``--params '{...}'`` changes skae's parameters.
"""

from __future__ import annotations

import argparse
import json
import warnings

import numpy as np
import torch
from _common import (
    adbench_files,
    dataset_name,
    load_adbench,
    machine,
    print_table,
    timer,
)
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split

from skae import AutoencoderAnomalyDetector

QUICK = {"glass", "Pima", "WBC", "cardio", "vowels", "Stamps"}


def pyod_detector():
    try:
        from pyod.models.auto_encoder import AutoEncoder
    except ImportError:
        return None
    return AutoEncoder(verbose=0, device="cpu")


def evaluate(name, X, y, params, seeds, cap, with_pyod):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=42
    )
    if cap and len(X_train) > cap:
        X_train, _, y_train, _ = train_test_split(
            X_train, y_train, train_size=cap, stratify=y_train, random_state=0
        )
    row = {"data": name, "n_train": len(X_train), "d": X.shape[1],
           "anom%": 100 * y.mean()}

    def record(label, fit, scores):
        with timer() as t:
            model = fit()
        s = scores(model)
        row[f"{label}_auc"] = roc_auc_score(y_test, s)
        row[f"{label}_ap"] = average_precision_score(y_test, s)
        row[f"{label}_s"] = t[0]

    record("iforest", lambda: IsolationForest(random_state=42).fit(X_train),
           lambda m: -m.score_samples(X_test))
    if with_pyod:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            record("pyod", lambda: pyod_detector().fit(X_train),
                   lambda m: m.decision_function(X_test))
    aucs, aps, secs = [], [], []
    for seed in range(seeds):
        det = AutoencoderAnomalyDetector(random_state=seed, **params)
        with timer() as t:
            det.fit(X_train)
        s = -det.score_samples(X_test)
        aucs.append(roc_auc_score(y_test, s))
        aps.append(average_precision_score(y_test, s))
        secs.append(t[0])
    row["skae_auc"], row["skae_ap"], row["skae_s"] = np.mean(aucs), np.mean(aps), np.mean(secs)
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cap", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--params", default="{}")
    parser.add_argument("--no-pyod", action="store_true")
    args = parser.parse_args(argv)
    params = json.loads(args.params)
    with_pyod = not args.no_pyod and pyod_detector() is not None
    if not with_pyod:
        print("[note] PyOD not run (pip install -e '.[benchmark]' to include it)")
    print(machine())
    rows = []
    for path in adbench_files():
        name = dataset_name(path)
        if args.quick and name not in QUICK:
            continue
        X, y = load_adbench(path)
        rows.append(evaluate(name, X, y, params, args.seeds, args.cap, with_pyod))
        r = rows[-1]
        print(f"  {name:>12}: skae {r['skae_auc']:.3f} iforest {r['iforest_auc']:.3f}"
              + (f" pyod {r['pyod_auc']:.3f}" if with_pyod else "")
              + f"  (skae fit {r['skae_s']:.1f}s)", flush=True)
    labels = ["skae", "iforest"] + (["pyod"] if with_pyod else [])
    columns = ["data", "n_train", "d", "anom%"]
    columns += [f"{m}_{k}" for k in ("auc", "ap", "s") for m in labels]
    print()
    print_table(rows, columns)
    print()
    for m in labels:
        print(f"{m:>8}: mean ROC-AUC {np.mean([r[f'{m}_auc'] for r in rows]):.4f}, "
              f"mean AP {np.mean([r[f'{m}_ap'] for r in rows]):.4f}, "
              f"total fit {sum(r[f'{m}_s'] for r in rows):.1f}s")
    best = max(labels[1:], key=lambda m: np.mean([r[f"{m}_auc"] for r in rows]))
    wins = sum(r["skae_auc"] >= r[f"{best}_auc"] for r in rows)
    print(f"skae wins or ties against {best} on {wins}/{len(rows)} data sets")


if __name__ == "__main__":
    torch.set_num_threads(int(__import__("os").environ.get("SKAE_BENCH_THREADS", "1")))
    main()
