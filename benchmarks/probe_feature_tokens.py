"""A ReMasker-style network (attention across feature tokens) in place of the imputer's MLP.

Issue 16 cites ReMasker (Du, Melis and Wang, ICLR 2024): each entry of a row
is a token, a transformer attends across a row's tokens, and training hides
a share of the observed entries and predicts them (re-masking). This probe
plugs such a network into ``AutoencoderImputer`` through its ``module``
parameter, so that everything else (the hiding of observed entries in
training, the step budget, the trees, the blend, the recalls) is the same as
the default's, and compares the two on ``bench_impute.py``'s protocol
(min-max scaled RMSE on the hidden entries, mask seed 0, one thread).

:class:`FeatureTokenImputer` is ReMasker's design in the imputer's
``forward(x, visible)`` protocol: an observed entry's token is
``value * w_j + b_j`` (a learned embedding per column, as the
FT-Transformer's; ReMasker shares one value projection and adds a fixed
positional code), a hidden or missing entry's token is column ``j``'s mask
embedding, and one pre-norm transformer encoder (three layers, 32 wide,
four heads) reads all tokens (ReMasker drops the masked tokens from its
encoder and adds them back in a two-layer decoder). Each token's output is
projected to its column's prediction, beside a linear map of the row and
its mask, as the default MLP has.

``python benchmarks/probe_feature_tokens.py --rows 1000 --out F`` (JSON lines,
one a fit; a rerun skips the fits already in ``F``); ``--epochs-factor 3``
trains the transformer three times the default's step budget. Figures are in
the benchmarks README ("A ReMasker-style network").
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from _common import geometric_mean
from bench_impute import load_tables, make_mask, prepare, rmse
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer
from torch import nn

from skae import AutoencoderImputer
from skae._imputer_budget import training_epochs


class FeatureTokenImputer(nn.Module):
    """Attention across a row's entries, one token per entry (ReMasker-style).

    Parameters
    ----------
    n_features : int
        Width of the rows.
    hidden_layer_sizes, activation, dropout :
        Offered by the imputer; ``dropout`` is the encoder's, the others
        are not used.
    d_token : int, default=32
        Width of a token.
    n_layers : int, default=3
        Transformer encoder layers.
    n_heads : int, default=4
        Attention heads.
    linear_path : bool, default=True
        Add a linear map of the row and its mask to the output.
    """

    def __init__(self, n_features, hidden_layer_sizes=None, activation="relu", dropout=0.0,
                 d_token=32, n_layers=3, n_heads=4, linear_path=True):
        super().__init__()
        self.value_weight = nn.Parameter(torch.randn(n_features, d_token) / d_token**0.5)
        self.column = nn.Parameter(torch.randn(n_features, d_token) * 0.02)
        self.mask_token = nn.Parameter(torch.randn(n_features, d_token) * 0.02)
        layer = nn.TransformerEncoderLayer(d_token, n_heads, dim_feedforward=2 * d_token,
                                           dropout=dropout, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_token)
        self.head_weight = nn.Parameter(torch.randn(n_features, d_token) / d_token**0.5)
        self.head_bias = nn.Parameter(torch.zeros(n_features))
        self.linear = nn.Linear(2 * n_features, n_features) if linear_path else None

    def forward(self, x, visible):
        seen = visible > 0
        filled = torch.where(seen, x, torch.zeros_like(x))
        tokens = torch.where(seen.unsqueeze(-1),
                             filled.unsqueeze(-1) * self.value_weight + self.column,
                             self.mask_token + self.column)
        hidden = self.norm(self.encoder(tokens))
        out = (hidden * self.head_weight).sum(-1) + self.head_bias
        if self.linear is not None:
            out = out + self.linear(torch.cat([filled, visible.to(x.dtype)], dim=-1))
        return out


def imputers(epochs_factor):
    def tokens():
        return AutoencoderImputer(random_state=0, module=FeatureTokenImputer)

    def tokens_longer(X_missing):
        missing = float(np.isnan(X_missing).mean())
        epochs = training_epochs(*X_missing.shape, 512, missing)  # the default batch_size
        return AutoencoderImputer(random_state=0, module=FeatureTokenImputer,
                                  max_epochs=int(epochs_factor * epochs))

    return {
        "knn": lambda X: KNNImputer(),
        "iterative": lambda X: IterativeImputer(max_iter=10, random_state=0),
        "mlp": lambda X: AutoencoderImputer(random_state=0),
        "tokens": (lambda X: tokens()) if epochs_factor == 1 else tokens_longer,
    }


def run(rows, out, epochs_factor, names=None, cases=("mcar",)):
    done = set()
    if out.exists():
        done = {(e["data"], e["case"], e["variant"]) for e in map(json.loads, open(out))}
    for name, X in load_tables("dev", names).items():
        X = prepare(X, rows)
        for mechanism in cases:
            mask = make_mask(X, 0.2, mechanism)
            X_missing = np.where(mask, np.nan, X)
            for variant, make in imputers(epochs_factor).items():
                if (name, mechanism, variant) in done:
                    continue
                imputer = make(X_missing)
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    X_imputed = imputer.fit_transform(X_missing)
                entry = {"data": name, "case": mechanism, "variant": variant,
                         "rmse": rmse(X, X_imputed, mask), "s": time.perf_counter() - start,
                         "n": len(X), "d": X.shape[1], "epochs_factor": epochs_factor}
                print(json.dumps(entry), flush=True)
                with open(out, "a") as f:
                    f.write(json.dumps(entry) + "\n")


def summary(out):
    runs = {}
    for entry in map(json.loads, open(out)):
        runs.setdefault((entry["data"], entry["case"]), {})[entry["variant"]] = entry
    ratios, times, mlp_best, tokens_best = [], [], [], []
    for (name, case), fits in runs.items():
        if "tokens" not in fits or "mlp" not in fits:
            continue
        best = min(fits["knn"]["rmse"], fits["iterative"]["rmse"])
        ratio = fits["tokens"]["rmse"] / fits["mlp"]["rmse"]
        slower = fits["tokens"]["s"] / fits["mlp"]["s"]
        ratios.append(ratio)
        times.append(slower)
        mlp_best.append(fits["mlp"]["rmse"] / best)
        tokens_best.append(fits["tokens"]["rmse"] / best)
        print(f"{name:>12} d={fits['mlp']['d']:>3} {case}: tokens / MLP {ratio:.3f}, "
              f"time {slower:.1f}x ({fits['tokens']['s']:.0f} s / {fits['mlp']['s']:.1f} s); "
              f"/ best(KNN, Iterative): MLP {mlp_best[-1]:.3f}, tokens {tokens_best[-1]:.3f}")
    print(f"geometric means over {len(ratios)}: tokens / MLP {geometric_mean(ratios):.3f}, "
          f"time {geometric_mean(times):.1f}x; / best(KNN, Iterative): MLP "
          f"{geometric_mean(mlp_best):.3f}, tokens {geometric_mean(tokens_best):.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path("feature_tokens.jsonl"))
    parser.add_argument("--epochs-factor", type=float, default=1.0)
    parser.add_argument("--tables", nargs="*", default=None)
    parser.add_argument("--summary", action="store_true", help="only print the summary of --out")
    args = parser.parse_args()
    torch.set_num_threads(1)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    if not args.summary:
        run(args.rows, args.out, args.epochs_factor, args.tables)
    summary(args.out)


if __name__ == "__main__":
    main()
