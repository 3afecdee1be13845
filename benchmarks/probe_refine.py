"""Probe of the transformer's refined codes, ``transform_max_iter`` (issue 17).

Each case of ``bench_transformer.py``'s reconstruction protocol (70/30 split,
``random_state=0``, k = 2 and ceil(d / 8), held-out error in the units of a
StandardScaler fitted on the training part, divided by PCA's) is fitted with
``transform_max_iter=0`` (the encoder's codes) and with the default (5).
On tables of 1,000 rows or more the fit is the same for both (refinement
only changes ``transform``, and the cross-fitted check of smaller tables),
so those are fitted once and transformed both ways. On the development
tables the fitted default is also transformed with 2 and 10 iterations.
Transform times are of the held-out rows.

``python benchmarks/probe_refine.py --group dev --out F`` (JSON lines, one a
case; a rerun skips the cases already in ``F``), then
``python benchmarks/probe_refine.py --summary F``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
import warnings

import numpy as np
import torch
from bench_transformer import component_counts, split_case, tables
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer

ITERATIONS = (0, 5)
TRANSFORM_ONLY = (2, 10)  # development tables, on the default's fit


def probe_case(name, X, y, task, which, k):
    X_train, X_test, _, _ = split_case(X, y, task)
    scaler = StandardScaler().fit(X_train)
    S_test = scaler.transform(X_test)

    def error(X_rec):
        return float(np.mean((scaler.transform(X_rec) - S_test) ** 2))

    pca = PCA(n_components=k, random_state=0).fit(scaler.transform(X_train))
    pca_error = error(scaler.inverse_transform(pca.inverse_transform(pca.transform(S_test))))
    row = {"group": which, "data": name, "k": k, "n": len(X_train)}
    ae = None
    for iterations in ITERATIONS:
        start = time.perf_counter()
        if ae is None or len(X_train) < 1000:
            ae = AutoencoderTransformer(n_components=k, random_state=0,
                                        transform_max_iter=iterations).fit(X_train)
        else:
            ae.set_params(transform_max_iter=iterations)
        row[f"fit{iterations}"] = time.perf_counter() - start
        start = time.perf_counter()
        codes = ae.transform(X_test)
        row[f"tr{iterations}"] = time.perf_counter() - start
        row[f"r{iterations}"] = error(ae.inverse_transform(codes)) / pca_error
    if which == "dev":
        for iterations in TRANSFORM_ONLY:
            ae.set_params(transform_max_iter=iterations)
            start = time.perf_counter()
            codes = ae.transform(X_test)
            row[f"tr{iterations}"] = time.perf_counter() - start
            row[f"r{iterations}"] = error(ae.inverse_transform(codes)) / pca_error
    return row


def summary(path):
    rows = [json.loads(line) for line in open(path)]

    def gmean(values):
        return math.exp(sum(math.log(v) for v in values) / len(values))

    for group in ("dev", "report", "all"):
        part = [r for r in rows if group in ("all", r["group"])]
        if not part:
            continue
        line = f"{group:>6} ({len(part)} cases):"
        for key in ("r0", "r2", "r5", "r10"):
            if all(key in r for r in part):
                line += f" {key} {gmean([r[key] for r in part]):.4f}"
        line += (f"; worst r5 {max(r['r5'] for r in part):.4f}, r5 above 1.0 in "
                 f"{sum(r['r5'] > 1.0005 for r in part)}, lower than r0 in "
                 f"{sum(r['r5'] < r['r0'] - 1e-9 for r in part)}, higher in "
                 f"{sum(r['r5'] > r['r0'] + 1e-9 for r in part)}; transform of the held-out "
                 f"rows {sum(r['tr5'] for r in part):.1f} s refined, "
                 f"{sum(r['tr0'] for r in part):.1f} s encoded")
        print(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", choices=["dev", "report", "all"], default="dev")
    parser.add_argument("--out", default="probe_refine.jsonl")
    parser.add_argument("--summary", help="print the geometric means of a results file")
    args = parser.parse_args()
    if args.summary:
        summary(args.summary)
        return
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    torch.set_num_threads(1)
    done = set()
    if os.path.exists(args.out):
        done = {(r["data"], r["k"]) for r in map(json.loads, open(args.out))}
    for name, X, y, task, which in tables(args.group):
        for k in component_counts(X.shape[1]):
            if (name, k) in done:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                row = probe_case(name, X, y, task, which, k)
            with open(args.out, "a") as out:
                out.write(json.dumps(row) + "\n")
            print(" ".join(f"{key}={value:.4f}" if isinstance(value, float) else
                           f"{key}={value}" for key, value in row.items()), flush=True)
    summary(args.out)


if __name__ == "__main__":
    main()
