"""
==========================================================
Reconstruction error against ``n_components``
==========================================================

How many components does a table need? For PCA the explained variance
answers; for an autoencoder, the held-out reconstruction error does. This
example measures both on scikit-learn's digits for a range of
``n_components``: the autoencoder reaches PCA's error with far fewer
components, and both curves flatten where more components stop paying.
"""

# %%
# Held-out error for each ``n_components``
# ----------------------------------------
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer

FAST = os.environ.get("SKAE_EXAMPLES_FAST") == "1"  # the test suite runs this quickly
epochs = {"max_epochs": 5} if FAST else {"max_epochs": 200}
ks = [2, 8] if FAST else [1, 2, 4, 8, 16, 32]

X, _ = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
scaler = StandardScaler().fit(X_train)
S_train, S_test = scaler.transform(X_train), scaler.transform(X_test)


def held_out_error(model):
    model.fit(S_train)
    return np.mean((model.inverse_transform(model.transform(S_test)) - S_test) ** 2)


pca_errors = [held_out_error(PCA(n_components=k)) for k in ks]
ae_errors = [held_out_error(AutoencoderTransformer(n_components=k, random_state=0, **epochs))
             for k in ks]
for k, p, a in zip(ks, pca_errors, ae_errors):
    print(f"n_components={k:>2}: PCA {p:.3f}  autoencoder {a:.3f}  ratio {a / p:.2f}")

# %%
# Reading the curves
# ------------------
# Pick the smallest ``n_components`` whose error you can accept, or the one
# after which the curve flattens. Training error always falls as
# ``n_components`` grows, so judge on held-out rows (or by the downstream
# score in a :class:`~sklearn.model_selection.GridSearchCV`).
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(ks, pca_errors, "o-", label="PCA")
ax.plot(ks, ae_errors, "s-", label="AutoencoderTransformer")
ax.set_xscale("log", base=2)
ax.set_xticks(ks, [str(k) for k in ks])
ax.set_xlabel("n_components")
ax.set_ylabel("held-out reconstruction error (standardized units)")
ax.legend()
fig.tight_layout()
plt.show()
