"""
==========================================================
Imputation against scikit-learn's imputers
==========================================================

:class:`~skae.AutoencoderImputer` fills missing values with a denoising
autoencoder that sees which entries are missing. This example hides entries
of two bundled tables completely at random, compares its error with
scikit-learn's imputers, and then draws several imputations of the same rows
(multiple imputation) to show where the imputer is unsure.
"""

# %%
# Hide 10%, 20% and 50% of the entries
# ------------------------------------
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits, load_wine
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

from skae import AutoencoderImputer

FAST = os.environ.get("SKAE_EXAMPLES_FAST") == "1"  # the test suite runs this quickly
epochs = {"max_epochs": 20} if FAST else {}

tables = {"wine": load_wine().data, "digits": load_digits().data}
if FAST:
    tables["digits"] = tables["digits"][:400]
rates = [0.2] if FAST else [0.2, 0.5]
imputers = {
    "mean": lambda: SimpleImputer(),
    "KNN": lambda: KNNImputer(),
    "Iterative": lambda: IterativeImputer(max_iter=10, random_state=0),
    "skae": lambda: AutoencoderImputer(random_state=0, **epochs),
}


def scaled_rmse(X, X_imputed, mask):
    span = np.where(np.ptp(X, axis=0) > 0, np.ptp(X, axis=0), 1.0)
    return np.sqrt(np.mean((((X_imputed - X) / span)[mask]) ** 2))


results = {}
for table, X in tables.items():
    for rate in rates:
        mask = np.random.default_rng(0).random(X.shape) < rate
        X_missing = np.where(mask, np.nan, X)
        for name, make in imputers.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                X_imputed = make().fit_transform(X_missing)
            results[table, rate, name] = scaled_rmse(X, X_imputed, mask)

# %%
# Error of each imputer (lower is better)
# ---------------------------------------
fig, axes = plt.subplots(1, len(tables), figsize=(10, 4), sharey=False)
width = 0.8 / len(imputers)
for ax, table in zip(axes, tables):
    for i, name in enumerate(imputers):
        values = [results[table, rate, name] for rate in rates]
        ax.bar(np.arange(len(rates)) + i * width, values, width, label=name)
    ax.set_xticks(np.arange(len(rates)) + 0.4 - width / 2, [f"{r:.0%} missing" for r in rates])
    ax.set_title(table)
    ax.set_ylabel("RMSE on hidden entries (min-max scaled)")
axes[0].legend()
plt.tight_layout()

# %%
# Multiple imputation: where is the imputer unsure?
# -------------------------------------------------
# ``sample_imputations`` draws completed data sets. Observed entries are the
# same in every draw; hidden ones vary, more where the network has less
# evidence. Analyse each draw and pool the results (Rubin's rules).
X = tables["wine"]
mask = np.random.default_rng(1).random(X.shape) < 0.2
X_missing = np.where(mask, np.nan, X)
imputer = AutoencoderImputer(random_state=0, **epochs).fit(X_missing)
draws = np.stack(imputer.sample_imputations(X_missing, n_imputations=30, random_state=0))

feature = 9  # colour intensity
rows = np.flatnonzero(mask[:, feature])[:15]
fig, ax = plt.subplots(figsize=(8, 4))
ax.boxplot(draws[:, rows, feature], positions=range(len(rows)), widths=0.5)
ax.scatter(range(len(rows)), X[rows, feature], c="crimson", zorder=3, label="true value")
ax.set_xticks(range(len(rows)), rows)
ax.set_xlabel("row with a hidden colour intensity")
ax.set_ylabel("colour intensity")
ax.set_title("30 draws of each hidden value, and the truth")
ax.legend()
plt.tight_layout()
plt.show()
