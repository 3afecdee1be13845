"""
==========================================================
Anomalies in a time series with a recurrent autoencoder
==========================================================

An LSTM autoencoder for anomaly detection in scikit-learn's shape: the
series is cut into sliding windows with :func:`~skae.sliding_windows`, one
window per row, and :class:`~skae.AutoencoderAnomalyDetector` takes
``module=RecurrentAutoencoder`` with ``module__sequence_shape=(52, 1)`` to
read each row as 52 weeks of one channel. It scores each window;
:func:`~skae.window_scores_to_steps` maps the scores back to weeks, and
:meth:`~skae.AutoencoderAnomalyDetector.explain`, folded to
``(seq_len, n_channels)``, points at the weeks inside a window that the
network could not reconstruct.

The series is the weekly CO2 concentration at Mauna Loa (1958-2001), which
statsmodels ships, with its trend removed and three anomalies injected: a
spike, a 26-week level shift and a year whose seasonal cycle is shifted by
three months.
"""

# %%
# A series with three injected anomalies
# --------------------------------------
import os

import matplotlib.pyplot as plt
import numpy as np
from statsmodels.datasets import co2

from skae import (
    AutoencoderAnomalyDetector,
    RecurrentAutoencoder,
    sliding_windows,
    window_scores_to_steps,
)

FAST = os.environ.get("SKAE_EXAMPLES_FAST") == "1"

weekly = co2.load_pandas().data["co2"].interpolate()
t = np.arange(len(weekly), dtype=float)
series = weekly.to_numpy() - np.polyval(np.polyfit(t, weekly.to_numpy(), 2), t)

anomalies = {"spike": slice(600, 601), "level shift": slice(1200, 1226),
             "shifted season": slice(1800, 1852)}
values = series.copy()
values[anomalies["spike"]] += 4 * series.std()
values[anomalies["level shift"]] += 1.5 * series.std()
values[anomalies["shifted season"]] = series[1787:1839]  # three months earlier

# %%
# One row per window of 52 weeks
# ------------------------------
length, step = 52, 2
X = sliding_windows(values, window_length=length, step=step)
print(f"{len(values)} weeks -> windows of shape {X.shape}")

detector = AutoencoderAnomalyDetector(
    module=RecurrentAutoencoder,
    module__sequence_shape=(length, 1),
    max_epochs=3 if FAST else 30,
    random_state=0,
).fit(X)
window_scores = -detector.score_samples(X)
flagged = detector.predict(X) == -1
print(f"{flagged.sum()} of {len(X)} windows flagged")

# %%
# Scores per week and flagged windows
# -----------------------------------
# A week's score is the mean score of the windows that hold it; a week is
# flagged when any window holding it is.
week_scores = window_scores_to_steps(window_scores, len(values), length, step)
week_flags = window_scores_to_steps(flagged, len(values), length, step, how="max") > 0

dates = weekly.index
fig, axes = plt.subplots(3, 1, figsize=(9, 6.5), sharex=True)
axes[0].plot(dates, values, lw=0.7, color="k")
for name, where in anomalies.items():
    axes[0].axvspan(dates[where.start], dates[where.stop - 1], color="tab:red", alpha=0.25)
    axes[0].annotate(name, (dates[where.start], values.max()), fontsize=8, va="top")
axes[0].set_ylabel("CO2, detrended (ppm)")
axes[1].plot(dates, week_scores, color="tab:blue")
axes[1].set_ylabel("anomaly score\n(mean of windows)")
axes[2].fill_between(dates, week_flags, step="mid", color="tab:orange")
axes[2].set_ylabel("flagged")
axes[2].set_yticks([])
fig.suptitle("LSTM autoencoder on windows of 52 weeks")
plt.tight_layout()
plt.show()

# %%
# Which weeks of a window are anomalous
# -------------------------------------
# ``explain`` gives one entry per value of the row (how much the window's
# score falls when that value alone is typical); folded to
# ``(seq_len, n_channels)`` it is one entry per week of the window.
worst = int(np.argmax(window_scores))
per_week = detector.explain(X[[worst]]).to_numpy().reshape(length, 1)
start = worst * step
print(f"Most anomalous window: weeks {start} to {start + length - 1} "
      f"({dates[start]:%Y-%m} to {dates[start + length - 1]:%Y-%m}); "
      f"largest entry at week {start + int(per_week[:, 0].argmax())}, "
      f"which alone raises the score by {per_week.max():.2f}")
