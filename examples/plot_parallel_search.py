"""
==========================================================
Parallel hyper-parameter search: joblib and Dask
==========================================================

skae estimators are ordinary scikit-learn estimators, so a search over their
parameters runs in parallel the way any search does: ``n_jobs`` spreads the
fits over local processes through joblib, and joblib's Dask backend spreads
them over a Dask cluster, from a laptop to many machines. Here the cluster
is a local one, so the example runs anywhere Dask is installed
(``pip install "skae[distributed]"``).

Each fit trains with one torch thread, so that parallel fits do not compete
for the same cores.
"""

# %%
import os
import time

import joblib
import pandas as pd
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

from skae import AutoencoderTransformer

FAST = os.environ.get("SKAE_EXAMPLES_FAST") == "1"
torch.set_num_threads(1)

X, _ = load_digits(return_X_y=True)
# score() is the negative reconstruction error: it compares settings at one
# n_components (a search over n_components by it would pick the largest).
grid = {
    "hidden_layer_sizes": [(64,), (256, 128)],
    "lr": [1e-3, 3e-3],
}
search = GridSearchCV(
    AutoencoderTransformer(n_components=8, max_epochs=5 if FAST else 50, random_state=0),
    grid, cv=3,
)

# %%
# Local processes with ``n_jobs``
# -------------------------------
start = time.perf_counter()
search.set_params(n_jobs=2).fit(X)
print(f"n_jobs=2: {time.perf_counter() - start:.1f} s, best {search.best_params_}")

# %%
# A Dask cluster through joblib
# -----------------------------
# ``LocalCluster`` stands in for a real cluster: point ``Client`` at a
# scheduler's address instead and the same code runs there.
try:
    from dask.distributed import Client, LocalCluster
except ImportError:
    print("Dask is not installed: pip install 'skae[distributed]' to run this part.")
else:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False) as cluster:
        with Client(cluster), joblib.parallel_backend("dask"):
            start = time.perf_counter()
            search.set_params(n_jobs=-1).fit(X)
            print(f"dask: {time.perf_counter() - start:.1f} s, best {search.best_params_}")

# %%
# The search compares settings by ``score``, the negative reconstruction
# error, so no scorer is needed.
results = pd.DataFrame(search.cv_results_)
print(results[["param_hidden_layer_sizes", "param_lr", "mean_test_score"]])
