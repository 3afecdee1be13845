"""
==========================================================
Sparse autoencoder: codes with mostly zero entries
==========================================================

``module__sparsity`` adds an L1 penalty on the codes of the default
:class:`~skae.MLPAutoencoder` and passes the codes through a ReLU, so that
most entries of each code are exactly zero: each row is described by a few
active units. Sparse codes are easier to read (which units fire for which
rows) and suit downstream models that like sparse input.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from skae import AutoencoderTransformer

FAST = os.environ.get("SKAE_EXAMPLES_FAST") == "1"

X, y = load_digits(return_X_y=True)
params = dict(n_components=32, max_epochs=10 if FAST else 200, random_state=0)
codes = {
    "plain": AutoencoderTransformer(**params).fit_transform(X),
    "sparse (sparsity=1)": AutoencoderTransformer(module__sparsity=1.0, **params).fit_transform(X),
}

# %%
# Histogram of code entries
# -------------------------
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
for ax, (label, Z) in zip(axes, codes.items()):
    ax.hist(Z.ravel(), bins=80, color="tab:blue")
    ax.set_yscale("log")
    ax.set_title(f"{label}: {np.mean(Z == 0):.0%} of entries exactly 0")
    ax.set_xlabel("code entry")
plt.tight_layout()

# %%
# Which units fire for which digit?
# ---------------------------------
# Mean activation of each unit of the sparse code, by digit class.
Z = codes["sparse (sparsity=1)"]
means = np.stack([Z[y == digit].mean(axis=0) for digit in range(10)])
fig, ax = plt.subplots(figsize=(9, 3.5))
image = ax.imshow(means, aspect="auto", cmap="Blues")
ax.set_xlabel("code unit")
ax.set_ylabel("digit")
ax.set_yticks(range(10))
fig.colorbar(image, label="mean activation")
plt.tight_layout()
plt.show()
