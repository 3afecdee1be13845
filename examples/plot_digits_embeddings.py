"""
==========================================================
PCA and the autoencoder side by side on digits
==========================================================

:class:`~skae.AutoencoderTransformer` stands where :class:`~sklearn.decomposition.PCA`
stands. With two components each, this example draws both embeddings of
scikit-learn's handwritten digits, measures how well each reconstructs
held-out digits, and how well a logistic regression classifies from the
codes alone.
"""

# %%
# Fit both at the same ``n_components``
# -------------------------------------
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer

FAST = os.environ.get("SKAE_EXAMPLES_FAST") == "1"  # the test suite runs this quickly
epochs = {"max_epochs": 10} if FAST else {}

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
scaler = StandardScaler().fit(X_train)

models = {
    "PCA": make_pipeline(StandardScaler(), PCA(n_components=2)),
    "AutoencoderTransformer": AutoencoderTransformer(n_components=2, random_state=0, **epochs),
}
for name, model in models.items():
    model.fit(X_train)
    codes_train, codes_test = model.transform(X_train), model.transform(X_test)
    # Reconstruction error in standardized units, as the autoencoder trains.
    error = np.mean((scaler.transform(model.inverse_transform(codes_test))
                     - scaler.transform(X_test)) ** 2)
    accuracy = LogisticRegression(max_iter=2000).fit(codes_train, y_train).score(codes_test, y_test)
    print(f"{name:>22}: held-out reconstruction error {error:.3f}, "
          f"accuracy from 2 numbers {accuracy:.3f}")

# %%
# The two embeddings
# ------------------
# PCA's plane overlaps most digit classes; the autoencoder's codes separate
# more of them, since its encoder can bend the space.
fig, axes = plt.subplots(1, 2, figsize=(11, 5))
for ax, (name, model) in zip(axes, models.items()):
    codes = model.transform(X)
    points = ax.scatter(codes[:, 0], codes[:, 1], c=y, cmap="tab10", s=6)
    ax.set_title(name)
    ax.set_xticks([])
    ax.set_yticks([])
fig.colorbar(points, ax=axes, ticks=range(10), label="digit")
plt.show()
