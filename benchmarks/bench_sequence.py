"""Sequences: recurrent autoencoders on windows of a real series.

Data: the weekly atmospheric CO2 concentrations at Mauna Loa, 1958-2001
(2,284 weeks), shipped inside statsmodels (``statsmodels.datasets.co2``;
``pip install statsmodels``, the script skips without it). The 59 missing
weeks are interpolated linearly and a quadratic trend fitted by least squares
is removed, leaving the yearly cycle (about 2.2 ppm of spread) and noise.

Anomalies (``inject_anomalies``, seeded): into the detrended series, at
random non-overlapping places,

- 6 spikes: one week moved by 4 standard deviations of the series, up or down;
- 3 level shifts: 26 weeks moved by 1.5 standard deviations;
- 3 changed seasons: 52 weeks where the yearly cycle is shifted by a quarter
  year (the series is replaced by itself 13 weeks earlier).

Windows: 52 weeks (one cycle), step 2 (``sliding_windows``). A window is
anomalous when it holds at least one anomalous week.

1. Detection: the detectors are fitted on all windows (unsupervised, the
   anomalies included) and score the same windows; ROC-AUC per window, and
   per week after mapping window scores back to weeks
   (``window_scores_to_steps``, the mean over the windows holding the week).
   Recurrent detector (``RecurrentAutoencoder``, 30 epochs) vs the dense
   detector (defaults), each with the reconstruction and the combined score,
   vs ``IsolationForest``; 3 seeds of the injection.
2. Reconstruction: on the clean detrended series, the windows of the first
   70% of the weeks train and those of the last 30% are held out; mean
   squared error of ``inverse_transform(transform(X))`` for the recurrent
   ``AutoencoderTransformer`` and ``PCA`` at the same code size.

Run as ``python benchmarks/bench_sequence.py`` (a few minutes on 2 cores).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, print_table, timer  # noqa: E402

WINDOW, STEP = 52, 2


def load_series():
    try:
        from statsmodels.datasets import co2
    except ImportError:
        print("[skip] bench_sequence needs statsmodels: pip install statsmodels")
        return None
    weekly = co2.load_pandas().data["co2"].interpolate().to_numpy()
    t = np.arange(len(weekly), dtype=float)
    return weekly - np.polyval(np.polyfit(t, weekly, 2), t)


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


def detection(series):
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import roc_auc_score

    from skae import (
        AutoencoderAnomalyDetector,
        RecurrentAutoencoder,
        sliding_windows,
        window_scores_to_steps,
    )

    def models(seed):
        # Recurrent networks need more steps than the dense one: 30 epochs, not 10.
        recurrent = dict(module=RecurrentAutoencoder, module__sequence_shape=(WINDOW, 1),
                         max_epochs=30, random_state=seed)
        return {
            "recurrent AE, reconstruction": AutoencoderAnomalyDetector(
                score_method="reconstruction", **recurrent),
            "recurrent AE, combined": AutoencoderAnomalyDetector(**recurrent),
            "dense AE, reconstruction": AutoencoderAnomalyDetector(
                score_method="reconstruction", random_state=seed),
            "dense AE, combined (defaults)": AutoencoderAnomalyDetector(random_state=seed),
            "IsolationForest": IsolationForest(random_state=seed),
        }

    results: dict[str, dict[str, list]] = {}
    for seed in range(3):
        values, labels = inject_anomalies(series, seed)
        X = sliding_windows(values, WINDOW, STEP)
        window_labels = sliding_windows(labels, WINDOW, STEP).any(axis=1)
        for name, model in models(seed).items():
            with timer() as t:
                model.fit(X)
            scores = -model.score_samples(X)
            per_week = window_scores_to_steps(scores, len(values), WINDOW, STEP)
            covered = ~np.isnan(per_week)
            entry = results.setdefault(name, {"window": [], "week": [], "fit s": []})
            entry["window"].append(roc_auc_score(window_labels, scores))
            entry["week"].append(roc_auc_score(labels[covered], per_week[covered]))
            entry["fit s"].append(t[0])
        print(f"  seed {seed}: {window_labels.mean():.0%} of {len(X)} windows anomalous; "
              + ", ".join(f"{n} {r['window'][-1]:.3f}" for n, r in results.items()), flush=True)
    rows = [{"detector": name, "ROC-AUC window": np.mean(r["window"]),
             "ROC-AUC week": np.mean(r["week"]), "fit s": np.mean(r["fit s"])}
            for name, r in results.items()]
    best_other = max(r["ROC-AUC window"] for r in rows[2:])
    print()
    print_table(rows, ["detector", "ROC-AUC window", "ROC-AUC week", "fit s"])
    best_recurrent = max(r["ROC-AUC window"] for r in rows[:2])
    print(f"best recurrent - best other (window ROC-AUC): {best_recurrent - best_other:+.3f}")


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


def main() -> None:
    series = load_series()
    if series is None:
        return
    print(f"Mauna Loa CO2, weekly, {len(series)} weeks, detrended; windows of {WINDOW} weeks, "
          f"step {STEP}")
    print(f"Machine: {machine()}\n")
    detection(series)
    reconstruction(series)


if __name__ == "__main__":
    import torch

    torch.set_num_threads(int(__import__("os").environ.get("SKAE_BENCH_THREADS", "1")))
    main()
