"""
==========================================================
Variational autoencoder: generating new digits
==========================================================

A variational autoencoder (:class:`~skae.VariationalAutoencoder`) learns a
distribution over codes rather than a single code per row; its KL term keeps
that distribution close to a standard normal prior. Decoding codes drawn
from the prior generates new rows, which
:meth:`AutoencoderTransformer.sample <skae.AutoencoderTransformer.sample>`
does in the original feature space. ``transform`` still returns a
deterministic code: the posterior mean.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from skae import AutoencoderTransformer, VariationalAutoencoder

FAST = os.environ.get("SKAE_EXAMPLES_FAST") == "1"

X, y = load_digits(return_X_y=True)
vae = AutoencoderTransformer(
    n_components=8,
    module=VariationalAutoencoder,
    module__beta=0.5,
    scaling="global",
    max_epochs=10 if FAST else 500,
    random_state=0,
).fit(X)

# %%
# Generated digits
# ----------------
# Samples include each pixel's decoder noise, so they look a little grainy;
# the decoded prior draws themselves are smoother.
samples = np.clip(vae.sample(24, random_state=0), 0, 16)
fig, axes = plt.subplots(3, 8, figsize=(8, 3.4))
for ax, image in zip(axes.ravel(), samples):
    ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Digits sampled from a variational autoencoder")
plt.tight_layout()

# %%
# Samples look like the data
# --------------------------
# Per-pixel means and spreads of 2,000 samples against the training digits.
many = vae.sample(2000, random_state=1)
fig, axes = plt.subplots(1, 2, figsize=(8, 3.5))
for ax, stat, label in zip(axes, (np.mean, np.std), ("mean", "standard deviation")):
    ax.scatter(stat(X, axis=0), stat(many, axis=0), s=10)
    top = max(stat(X, axis=0).max(), stat(many, axis=0).max())
    ax.plot([0, top], [0, top], ls=":", c="grey")
    ax.set_xlabel(f"pixel {label}, data")
    ax.set_ylabel(f"pixel {label}, samples")
plt.tight_layout()
plt.show()
