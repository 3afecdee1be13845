"""
==========================================================
Scoring a Parquet data set on a Dask cluster
==========================================================

A model is trained on a sample that fits in memory; scoring every row of a
table that does not is a map over its partitions. :func:`skae.map_partitions`
applies a fitted estimator's method to each partition of a Dask DataFrame
or array, on whatever cluster the Dask client points at, and the results are
written back partition by partition: no step holds the whole table.

Here the "cluster" is a :class:`~distributed.LocalCluster` of two workers
and the table a folder of Parquet files; the same code runs on a real
cluster with ``Client("scheduler-address:8786")`` and a bucket of files
(``pip install "skae[distributed]"``).
"""

# %%
import os
import shutil
import tempfile
from pathlib import Path

import dask.dataframe as dd
import numpy as np
import pandas as pd
import torch
from dask.distributed import Client, LocalCluster

from skae import AutoencoderAnomalyDetector, map_partitions

FAST = os.environ.get("SKAE_EXAMPLES_FAST") == "1"
N_FILES, ROWS_PER_FILE = (4, 2_000) if FAST else (8, 50_000)
torch.set_num_threads(1)

# %%
# A table spread over Parquet files
# ---------------------------------
# Sensor readings on a low-dimensional manifold, with 1% of rows off it and
# a categorical ``site`` column; each file is one partition.
rng = np.random.default_rng(0)
mixing = rng.normal(size=(3, 12))
folder = Path(tempfile.mkdtemp(prefix="skae-dask-"))
(folder / "readings").mkdir()
for i in range(N_FILES):
    latent = rng.normal(size=(ROWS_PER_FILE, 3))
    values = np.tanh(latent @ mixing) + 0.05 * rng.normal(size=(ROWS_PER_FILE, 12))
    anomalous = rng.random(ROWS_PER_FILE) < 0.01
    values[anomalous] += rng.normal(scale=1.0, size=(anomalous.sum(), 12))
    part = pd.DataFrame(values.astype(np.float32), columns=[f"s{j}" for j in range(12)])
    part["site"] = pd.Categorical(rng.choice(["north", "south"], ROWS_PER_FILE),
                                  categories=["north", "south"])
    part["anomalous"] = anomalous
    part.index = pd.RangeIndex(i * ROWS_PER_FILE, (i + 1) * ROWS_PER_FILE, name="row")
    part.to_parquet(folder / "readings" / f"part-{i:03d}.parquet", index=True)

# %%
# Train on a sample
# -----------------
# A few thousand rows are enough to learn what normal readings look like.
table = dd.read_parquet(folder / "readings")
features = [c for c in table.columns if c != "anomalous"]
sample = table[features].sample(frac=0.05, random_state=0).compute()
detector = AutoencoderAnomalyDetector(
    contamination=0.01, max_epochs=5 if FAST else 60, random_state=0
).fit(sample)
print(f"trained on {len(sample):,} of {len(table):,} rows")

# %%
# Score every partition on the cluster, write the results
# -------------------------------------------------------
# ``map_partitions`` returns a lazy Dask Series with the partitions' index,
# named after the method; nothing runs until ``to_parquet``.
with LocalCluster(n_workers=2, threads_per_worker=1, processes=not FAST) as cluster, \
        Client(cluster):
    scores = map_partitions(detector, table[features], "score_samples")
    labels = map_partitions(detector, table[features], "predict")
    result = table[["anomalous"]].assign(score=scores, flagged=labels == -1)
    result.to_parquet(folder / "scores")

scored = pd.read_parquet(folder / "scores")
print(scored.head())
caught = scored.loc[scored.anomalous, "flagged"].mean()
false_alarms = scored.loc[~scored.anomalous, "flagged"].mean()
print(f"{len(scored):,} rows scored: {caught:.0%} of the anomalies flagged, "
      f"{false_alarms:.1%} of the normal rows")
shutil.rmtree(folder)
