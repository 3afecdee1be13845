"""Size of saved skae models: skops.io files against pickles of the same model.

Fits on digits (sklearn's, no download) the default transformer, and a
pipeline of a StandardScaler and the default detector (with its isolation
forest), and prints the bytes of ``skops.io.dumps`` and ``pickle.dumps`` and
their ratio, measured in the same run. Target: skops / pickle <= 2.

Sizes do not depend on threads or load; the fits run on one thread.
"""

from __future__ import annotations

import os
import pickle
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")

import skops.io as sio  # noqa: E402
import torch  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skae import AutoencoderAnomalyDetector, AutoencoderTransformer  # noqa: E402


def main():
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    X, _ = load_digits(return_X_y=True)
    models = {
        "transformer (digits, 30 epochs)": AutoencoderTransformer(max_epochs=30, random_state=0),
        "StandardScaler + detector": make_pipeline(
            StandardScaler(), AutoencoderAnomalyDetector(random_state=0)),
    }
    print(f"{'model':34s} {'skops bytes':>12s} {'pickle bytes':>13s} {'skops/pickle':>13s}")
    for name, model in models.items():
        model.fit(X)
        skops_bytes, pickle_bytes = len(sio.dumps(model)), len(pickle.dumps(model))
        print(f"{name:34s} {skops_bytes:12,d} {pickle_bytes:13,d} "
              f"{skops_bytes / pickle_bytes:13.2f}")


if __name__ == "__main__":
    main()
