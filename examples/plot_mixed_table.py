"""
==============================================================
A table of numbers and categories, without a ColumnTransformer
==============================================================

scikit-learn's :class:`~sklearn.impute.IterativeImputer` imputes numbers
only, so a table with categories needs a
:class:`~sklearn.compose.ColumnTransformer` that sends the numbers to one
imputer and the categories to another, usually the most frequent category.
The skae estimators take the mixed DataFrame as it is: categories enter the
network one-hot and come out as categories, predicted from the rest of the
row.

The table is abalone (``../shared/data/tabular/abalone.csv``, whose ``Sex``
column holds M, F and I for infants) where that folder is present, and
otherwise scikit-learn's iris with its species as a category column.
"""

# %%
# A mixed table with 20% of its entries hidden
# --------------------------------------------
import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, SimpleImputer

from skae import AutoencoderAnomalyDetector, AutoencoderImputer

FAST = os.environ.get("SKAE_EXAMPLES_FAST") == "1"  # the test suite runs this quickly
epochs = {"max_epochs": 15} if FAST else {}


def shared_data():
    """``../shared/data`` beside the checkout (or ``$SKAE_SHARED_DATA``)."""
    if "SKAE_SHARED_DATA" in os.environ:
        return Path(os.environ["SKAE_SHARED_DATA"])
    start = Path(globals().get("__file__", Path.cwd() / "x")).resolve().parent
    for folder in [start, *start.parents, Path.cwd(), *Path.cwd().resolve().parents]:
        if (folder / "shared" / "data").is_dir():
            return folder / "shared" / "data"
    return Path("shared-data-not-found")


def load_table():
    path = shared_data() / "tabular" / "abalone.csv"
    if path.exists():
        return "abalone", pd.read_csv(path).drop(columns="target"), "Sex"
    iris = load_iris(as_frame=True)
    frame = iris.data.assign(species=pd.Categorical.from_codes(iris.target, iris.target_names))
    return "iris", frame, "species"


name, table, category = load_table()
if FAST:
    table = table.sample(n=min(len(table), 600), random_state=0)
table = table.reset_index(drop=True)
numeric = [c for c in table.columns if c != category]
mask = pd.DataFrame(np.random.default_rng(0).random(table.shape) < 0.2, columns=table.columns)
hidden = table.mask(mask)
print(f"{name}: {table.shape[0]} rows; {category!r} is categorical: "
      f"{sorted(map(str, table[category].unique()))}")
print(hidden.head())

# %%
# skae on the DataFrame, scikit-learn through a ColumnTransformer
# ---------------------------------------------------------------
skae_filled = AutoencoderImputer(random_state=0, **epochs).fit_transform(hidden)

sklearn_imputer = ColumnTransformer(
    [
        ("numbers", IterativeImputer(max_iter=10, random_state=0), numeric),
        ("categories", SimpleImputer(strategy="most_frequent"), [category]),
    ]
).set_output(transform="pandas")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    sklearn_filled = sklearn_imputer.fit_transform(hidden)
sklearn_filled.columns = [c.split("__", 1)[1] for c in sklearn_filled.columns]

print("skae keeps the dtypes:", dict(skae_filled.dtypes.astype(str)))


def errors(filled):
    """Accuracy on hidden categories; RMSE on hidden numbers, per column."""
    out = {}
    for column in table.columns:
        hit = mask[column]
        truth, guess = table.loc[hit, column], filled.loc[hit, column]
        if column == category:
            out[column] = float((guess.astype(str) == truth.astype(str)).mean())
        else:
            out[column] = float(np.sqrt(np.mean((guess.astype(float) - truth) ** 2)) / truth.std())
    return pd.Series(out)


scores = pd.DataFrame({"skae": errors(skae_filled), "ColumnTransformer": errors(sklearn_filled)})
print(scores.round(3))

# %%
# Numbers: RMSE over the column's spread; categories: accuracy
# ------------------------------------------------------------
fig, (ax_num, ax_cat) = plt.subplots(1, 2, figsize=(10, 3.8),
                                     gridspec_kw={"width_ratios": [3, 1]})
scores.loc[numeric].plot.bar(ax=ax_num, rot=30)
ax_num.set_ylabel("RMSE / std (lower is better)")
ax_num.set_title("hidden numbers")
scores.loc[[category]].plot.bar(ax=ax_cat, rot=0, legend=False)
ax_cat.set_ylim(0, 1)
ax_cat.set_ylabel("accuracy (higher is better)")
ax_cat.set_title("hidden categories")
fig.tight_layout()

# %%
# The detector explains categorical columns too
# ---------------------------------------------
# Give some rows a category that contradicts their numbers: the largest
# abalones marked as infants (or the largest irises marked as the smallest
# species). These rows score far below the table's median, and the
# explanation names the columns that disagree with the rest of the row: on
# abalone mostly ``Sex`` itself, a categorical column.
detector = AutoencoderAnomalyDetector(random_state=0, **epochs).fit(table)
size = "Diameter" if name == "abalone" else "petal length (cm)"
odd = table.nlargest(5, size).copy()
odd[category] = odd[category].astype(object)
odd[category] = "I" if name == "abalone" else "setosa"
if isinstance(table[category].dtype, pd.CategoricalDtype):
    odd[category] = pd.Categorical(odd[category], categories=table[category].cat.categories)
explanation = detector.explain(odd)
print("Largest entry per row:", list(explanation.idxmax(axis=1)))
print("Scores of the altered rows:", detector.score_samples(odd).round(2))
print("Median score of the table:", round(float(np.median(detector.score_samples(table))), 2))
plt.show()
