"""
==========================================================
Denoising autoencoder: cleaning noisy digits
==========================================================

A denoising autoencoder is trained to reconstruct clean rows from corrupted
copies, so it learns to remove the kind of corruption it was trained on.
``module__noise`` sets the corruption of the default
:class:`~skae.MLPAutoencoder`: Gaussian noise of that standard deviation in
the scaled units (``module__noise_type="mask"`` hides entries instead).

Here both a plain and a denoising autoencoder see digits with heavy noise
added, and reconstruct them.
"""

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer

FAST = os.environ.get("SKAE_EXAMPLES_FAST") == "1"
epochs = 10 if FAST else 200

X, _ = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)
# transform_max_iter=0: the encoder's codes, which show what denoising
# training does. The default transform refines each code to the point of the
# learned manifold nearest the row, which cleans noisy rows better still,
# plain or denoising network alike (the family guide).
params = dict(n_components=16, scaling="global", max_epochs=epochs, random_state=0,
              transform_max_iter=0)
plain = AutoencoderTransformer(**params).fit(X_train)
denoising = AutoencoderTransformer(module__noise=0.6, **params).fit(X_train)

# Noise of 0.6 standard deviations of the pixel values, clipped to the range.
rng = np.random.default_rng(0)
noisy = np.clip(X_test + 0.6 * X.std() * rng.normal(size=X_test.shape), 0, 16)


def error(model):
    return np.mean((model.inverse_transform(model.transform(noisy)) - X_test) ** 2)


print(f"error against the clean digits: noisy input {np.mean((noisy - X_test) ** 2):.2f}, "
      f"plain autoencoder {error(plain):.2f}, denoising autoencoder {error(denoising):.2f}")

# %%
# Clean, noisy, and the two reconstructions
# -----------------------------------------
rows = {
    "clean": X_test,
    "noisy": noisy,
    "plain": plain.inverse_transform(plain.transform(noisy)),
    "denoising": denoising.inverse_transform(denoising.transform(noisy)),
}
fig, axes = plt.subplots(len(rows), 8, figsize=(8, 4.4))
for r, (label, images) in enumerate(rows.items()):
    for c in range(8):
        axes[r, c].imshow(images[c].reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
        axes[r, c].set_xticks([])
        axes[r, c].set_yticks([])
    axes[r, 0].set_ylabel(label)
fig.suptitle("Reconstructing noisy digits")
plt.tight_layout()
plt.show()
