"""
==========================================================
Your own torch module: encode and decode are enough
==========================================================

``module=`` takes any :class:`torch.nn.Module` class that has ``encode`` and
``decode`` (see :ref:`custom_modules`). Here a tied autoencoder, whose decoder
reuses the transpose of its encoder's weights, halves the parameters of a
one-hidden-layer network. The estimator around it stays the same: scaling,
early stopping, ``transform`` / ``inverse_transform`` / ``score``, pickling,
and grid searches over the module's own constructor arguments through
``module__<name>``.
"""

# %%
import os
import pickle

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.preprocessing import StandardScaler
from torch import nn

from skae import AutoencoderTransformer

FAST = os.environ.get("SKAE_EXAMPLES_FAST") == "1"


class TiedAutoencoder(nn.Module):
    """One hidden layer each way; the decoder uses the encoder's weights, transposed.

    skae calls the constructor with ``n_features`` and ``n_components`` (and
    ``hidden_layer_sizes``, ``activation``, ``dropout`` only when the
    signature names them); ``width`` comes from ``module__width``.
    """

    def __init__(self, n_features, n_components, width=128):
        super().__init__()
        self.inner = nn.Parameter(torch.randn(width, n_features) / n_features**0.5)
        self.outer = nn.Parameter(torch.randn(n_components, width) / width**0.5)
        self.bias_hidden = nn.Parameter(torch.zeros(width))
        self.bias_out = nn.Parameter(torch.zeros(n_features))

    def encode(self, x):
        return torch.tanh(x @ self.inner.T + self.bias_hidden) @ self.outer.T

    def decode(self, z):
        return torch.tanh(z @ self.outer) @ self.inner + self.bias_out


# %%
# Fit it like any estimator
# -------------------------
X, y = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
params = dict(n_components=8, max_epochs=5 if FAST else 300, random_state=0)
tied = AutoencoderTransformer(module=TiedAutoencoder, **params).fit(X_train)
dense = AutoencoderTransformer(**params).fit(X_train)
pca = PCA(8).fit(X_train)

scaler = StandardScaler().fit(X_train)


def error(reconstruction):
    """Held-out mean squared error in standardized units."""
    return np.mean((scaler.transform(reconstruction) - scaler.transform(X_test)) ** 2)


def n_weights(model):
    return sum(p.numel() for p in model.module_.parameters())


errors = {
    "PCA": error(pca.inverse_transform(pca.transform(X_test))),
    f"tied ({n_weights(tied):,} weights)": error(tied.inverse_transform(tied.transform(X_test))),
    f"default MLP ({n_weights(dense):,} weights)": error(
        dense.inverse_transform(dense.transform(X_test))),
}
for name, value in errors.items():
    print(f"{name:>28}: held-out error {value:.3f}")

# %%
# Search over the module's own arguments, and pickle the result
# -------------------------------------------------------------
search = GridSearchCV(
    AutoencoderTransformer(module=TiedAutoencoder, **{**params, "max_epochs": 3 if FAST else 100}),
    {"module__width": [32, 128]}, cv=2,
).fit(X_train)
print("best width:", search.best_params_["module__width"])
restored = pickle.loads(pickle.dumps(search.best_estimator_))
assert np.allclose(restored.transform(X_test), search.best_estimator_.transform(X_test))

# %%
# Held-out reconstruction error
# -----------------------------
fig, ax = plt.subplots(figsize=(6, 2.5))
ax.barh(list(errors), list(errors.values()), color=["tab:gray", "tab:orange", "tab:blue"])
ax.set_xlabel("held-out mean squared error (standardized units)")
ax.set_title("8 components on digits")
plt.tight_layout()
plt.show()
