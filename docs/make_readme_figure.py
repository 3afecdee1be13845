"""Draw the README's figure: docs/_static/readme_figure.png.

Left, digits in two dimensions from PCA and from ``AutoencoderTransformer``
(defaults, ``n_components=2``, fitted here). Right, the headline ratios of the
benchmark scripts against their baselines, as recorded in
``benchmarks/README.md`` (re-run the scripts to refresh them, then this).

Run ``python docs/make_readme_figure.py`` from the repository root;
``--fast`` (a few epochs) and ``--out PATH`` are for the test that keeps this
script working.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402

from skae import AutoencoderTransformer  # noqa: E402

OUT = Path(__file__).resolve().parent / "_static" / "readme_figure.png"

# (label, skae / baseline, baseline) from benchmarks/README.md; lower is better.
RATIOS = [
    ("reconstruction\nerror", 0.404, "PCA, 57 cases"),
    ("imputation\nRMSE", 0.865, "best sklearn imputer"),
    ("1 - ROC-AUC", (1 - 0.8435) / (1 - 0.8145), "IsolationForest"),
    ("fit time", 1 / 2.2, "PyOD AutoEncoder"),
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    params = {"max_epochs": 3} if args.fast else {}
    embeddings = {
        "PCA": PCA(2).fit_transform(X),
        "skae": AutoencoderTransformer(
            n_components=2, random_state=0, **params).fit_transform(X),
    }

    fig = plt.figure(figsize=(12, 3.4), dpi=90)
    grid = fig.add_gridspec(1, 3, width_ratios=[1, 1, 1.4], wspace=0.5)
    for position, (title, Z) in enumerate(embeddings.items()):
        ax = fig.add_subplot(grid[0, position])
        ax.scatter(Z[:, 0], Z[:, 1], c=y, cmap="tab10", s=4, rasterized=True)
        # The central 98% of each axis: a few far rows would squeeze the rest.
        low, high = np.percentile(Z, [1, 99], axis=0)
        margin = 0.05 * (high - low)
        ax.set_xlim(low[0] - margin[0], high[0] + margin[0])
        ax.set_ylim(low[1] - margin[1], high[1] + margin[1])
        ax.set_title(f"digits in 2 components: {title}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])

    ax = fig.add_subplot(grid[0, 2])
    labels = [label for label, _, _ in RATIOS]
    values = [value for _, value, _ in RATIOS]
    bars = ax.barh(labels, values, color="tab:blue")
    ax.axvline(1.0, color="black", linewidth=1)
    for bar, (_, value, baseline) in zip(bars, RATIOS):
        ax.text(value + 0.02, bar.get_y() + bar.get_height() / 2,
                f"{value:.2f}x {baseline}", va="center", fontsize=8)
    ax.set_xlim(0, 1.9)
    ax.set_xticks([0, 0.5, 1.0])
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=8)
    ax.set_title("benchmarks: skae / baseline (lower is better)", fontsize=10)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, bbox_inches="tight")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
