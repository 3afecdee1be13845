"""
==========================================================
Training on data larger than memory with ``partial_fit``
==========================================================

Every skae estimator has ``partial_fit``: the first call sets up the network
and learns the feature scaling from its rows, later calls keep training the
same network on new rows. So a table that does not fit in memory can be
streamed from disk in chunks, here with :func:`pandas.read_csv` and its
``chunksize``.

The example writes the digits to a CSV file, streams it in chunks of 300
rows for a few passes, and compares the result with ``fit`` on the whole
table in memory.
"""

# %%
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer

FAST = os.environ.get("SKAE_EXAMPLES_FAST") == "1"

X, _ = load_digits(return_X_y=True, as_frame=True)
X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
path = os.path.join(tempfile.mkdtemp(), "digits.csv")
X_train.to_csv(path, index=False)

# %%
# Stream the file
# ---------------
# ``max_epochs`` is the number of passes over each chunk per call. Shuffle
# the file beforehand if its rows are sorted: each chunk should look like the
# whole table, since the scaling is learned from the first one.
model = AutoencoderTransformer(n_components=8, max_epochs=2, early_stopping=False,
                               random_state=0)
n_passes = 3 if FAST else 10
scores = []
for _ in range(n_passes):
    for chunk in pd.read_csv(path, chunksize=300):
        model.partial_fit(chunk)
    scores.append(model.score(X_test))

in_memory = AutoencoderTransformer(n_components=8, random_state=0).fit(X_train)

# %%
# Held-out reconstruction, pass after pass
# ----------------------------------------
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(np.arange(1, n_passes + 1), -np.array(scores), marker="o", label="partial_fit, streamed")
ax.axhline(-in_memory.score(X_test), ls="--", c="grey", label="fit, in memory")
ax.set_xlabel("pass over the file")
ax.set_ylabel("held-out reconstruction error")
ax.legend()
plt.tight_layout()
plt.show()
