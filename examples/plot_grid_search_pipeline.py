"""
==========================================================
GridSearchCV over the network size in a Pipeline
==========================================================

skae's estimators clone, set parameters and score like any scikit-learn
estimator, so the size of the network and the number of components are
chosen the usual way: an :class:`~skae.AutoencoderTransformer` in a
:class:`~sklearn.pipeline.Pipeline` before a classifier, and a
:class:`~sklearn.model_selection.GridSearchCV` over ``n_components`` and
``hidden_layer_sizes`` scored by the classifier's accuracy.
"""

# %%
# The search
# ----------
import os

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skae import AutoencoderTransformer

FAST = os.environ.get("SKAE_EXAMPLES_FAST") == "1"  # the test suite runs this quickly

X, y = load_digits(return_X_y=True)
if FAST:
    X, y = X[:400], y[:400]

pipeline = Pipeline([
    ("autoencoder", AutoencoderTransformer(random_state=0, max_epochs=3 if FAST else 30)),
    ("classifier", LogisticRegression(max_iter=2000)),
])
grid = {
    "autoencoder__n_components": [2, 8, 16],
    "autoencoder__hidden_layer_sizes": [(32,), (256, 128)],
}
search = GridSearchCV(pipeline, grid, cv=2 if FAST else 3).fit(X, y)
print("best:", search.best_params_, f"accuracy {search.best_score_:.3f}")

# %%
# Accuracy of every combination
# -----------------------------
# Larger networks pay off most at small ``n_components``, where the code must
# pack the most structure into few numbers.
results = pd.DataFrame(search.cv_results_)
table = results.pivot_table(
    index="param_autoencoder__hidden_layer_sizes",
    columns="param_autoencoder__n_components",
    values="mean_test_score",
)
print(table.round(3))
fig, ax = plt.subplots(figsize=(6, 3.5))
image = ax.imshow(table.to_numpy(), cmap="viridis", aspect="auto")
ax.set_xticks(range(table.shape[1]), table.columns)
ax.set_yticks(range(table.shape[0]), [str(h) for h in table.index])
ax.set_xlabel("n_components")
ax.set_ylabel("hidden_layer_sizes")
for (i, j), value in pd.DataFrame(table.to_numpy()).stack().items():
    ax.text(j, i, f"{value:.2f}", ha="center", va="center", color="white")
fig.colorbar(image, label="cross-validated accuracy")
fig.tight_layout()
plt.show()
