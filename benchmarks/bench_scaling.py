"""Same-unit features: ``scaling="global"`` against per-feature standardization.

Windows of one series and pixels of an image share one unit; scaling each
feature on its own inflates features that barely vary (blank pixels, a flat
stretch of the cycle). This prints the held-out reconstruction error of
``AutoencoderTransformer`` (dense default network) with ``scaling="global"``
and ``scaling="standard"`` in the original units, in the same run, with PCA at
the same ``n_components`` as the reference:

- digits (8x8 pixels, 70/30 split), 8 components;
- weekly CO2 (statsmodels, quadratic trend removed as in bench_sequence.py), windows of 52 weeks with step 2; the
  windows of the first 70% of the weeks train, those of the last 30% are held
  out; 4 components.
"""

from __future__ import annotations

import numpy as np
import torch
from _common import machine, print_table
from bench_sequence import load_series
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer, sliding_windows


def cases():
    X, _ = load_digits(return_X_y=True)
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
    yield "digits pixels", X_train, X_test, 8
    series = load_series()
    if series is None:
        return
    cut = int(0.7 * len(series))
    yield ("CO2 52-week windows", sliding_windows(series[:cut], 52, step=2),
           sliding_windows(series[cut:], 52, step=2), 4)


def main():
    torch.set_num_threads(1)
    print(machine())
    rows = []
    for name, X_train, X_test, k in cases():
        pca = PCA(k).fit(X_train)
        row = {"data": name, "k": k,
               "PCA": np.mean((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2)}
        for scaling in ("global", "standard"):
            ae = AutoencoderTransformer(n_components=k, scaling=scaling, random_state=0)
            ae.fit(X_train)
            row[scaling] = np.mean((ae.inverse_transform(ae.transform(X_test)) - X_test) ** 2)
        row["global / standard"] = row["global"] / row["standard"]
        rows.append(row)
    print("Held-out mean squared error in the data's units (pixels 0-16; ppm):")
    print_table(rows, ["data", "k", "PCA", "global", "standard", "global / standard"],
                floatfmt="{:.4g}")


if __name__ == "__main__":
    main()
