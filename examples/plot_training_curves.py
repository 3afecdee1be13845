"""
==========================================================
Training curves from ``history_``
==========================================================

Every fitted skae estimator keeps skorch's per-epoch record in ``history_``;
:func:`skae.history_frame` turns it into a DataFrame ready to plot.
``verbose=1`` prints the same record while training. This example trains
with early stopping (the default of :class:`~skae.AutoencoderTransformer`),
plots the training and validation losses, and marks the epoch whose weights
the model kept.
"""

# %%
# Progress while training
# -----------------------
# ``verbose=1`` prints one line per epoch; ``verbose=2`` adds a progress bar
# over each epoch's batches, for long epochs on large data.
import os

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits

from skae import AutoencoderTransformer, history_frame

FAST = os.environ.get("SKAE_EXAMPLES_FAST") == "1"  # the test suite runs this quickly

X, _ = load_digits(return_X_y=True)
AutoencoderTransformer(n_components=8, max_epochs=3, random_state=0, verbose=1).fit(X)

# %%
# The history as a DataFrame
# --------------------------
model = AutoencoderTransformer(n_components=8, random_state=0,
                               max_epochs=15 if FAST else 500).fit(X)
history = history_frame(model)
print(history[["train_loss", "valid_loss", "dur"]].tail())
best = history["valid_loss"].idxmin()
print(f"{len(history)} epochs; kept the weights of epoch {best} "
      f"(validation loss {history.loc[best, 'valid_loss']:.4f})")

# %%
# Training and validation loss
# ----------------------------
# Early stopping ends training once the validation loss has not improved for
# ``n_iter_no_change`` epochs and restores the best weights. It also
# compares with the starting point (PCA's solution, before the first epoch),
# so a model that cannot beat PCA on held-out rows stays PCA.
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(history.index, history["train_loss"], label="train")
ax.plot(history.index, history["valid_loss"], label="validation")
ax.axvline(best, color="grey", linestyle=":", label=f"kept (epoch {best})")
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("mean squared error (standardized units)")
ax.legend()
fig.tight_layout()
plt.show()
