"""Compact saved state: what pickle, joblib and ``skops.io`` files hold of a fitted model.

Owns the plain, compact forms the estimators' ``__getstate__`` writes and
``__setstate__`` reads back: the training history as one JSON string of
epoch summaries (skorch's per-batch rows dropped), and a fitted
:class:`~sklearn.ensemble.IsolationForest` as a few concatenated arrays
rather than a hundred tree objects, and the imputer's gradient-boosted
trees (:class:`~sklearn.ensemble.HistGradientBoostingRegressor`) likewise.
``skops.io`` stores every Python object
and every array as an entry of its own, so many small ones make a file
several times the size of a pickle; a few large arrays do not.
"""

from __future__ import annotations

import json

import numpy as np
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    IsolationForest,
)
from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
from sklearn.tree import ExtraTreeRegressor
from sklearn.tree._tree import Tree

# ----------------------------------------------------------------------
# History
# ----------------------------------------------------------------------


def history_to_json(history) -> str:
    """The epoch summaries of a skorch history, as JSON, without per-batch rows.

    Values that JSON cannot hold (numpy scalars aside) are kept as their
    ``repr``.
    """

    def plain(value):
        if isinstance(value, np.generic):
            return value.item()
        return repr(value)

    rows = [{key: value for key, value in row.items() if key != "batches"} for row in history]
    return json.dumps(rows, default=plain)


def history_from_json(text: str) -> list[dict]:
    """Epoch rows from :func:`history_to_json`, each with an empty ``batches`` list."""
    return [{**row, "batches": []} for row in json.loads(text)]


# ----------------------------------------------------------------------
# Isolation forest
# ----------------------------------------------------------------------

#: The forest's per-tree attributes, each a list of arrays, stored concatenated.
_PER_TREE = ("estimators_features_", "_average_path_length_per_tree", "_decision_path_lengths")


def _concatenated(arrays) -> dict:
    arrays = [np.asarray(a) for a in arrays]
    return {"values": np.concatenate(arrays) if arrays else np.zeros(0),
            "lengths": np.array([len(a) for a in arrays], dtype=np.int64)}


def _split(packed: dict) -> list[np.ndarray]:
    bounds = np.cumsum(packed["lengths"])[:-1]
    return [np.ascontiguousarray(a) for a in np.split(packed["values"], bounds)]


def pack_forest(forest: IsolationForest) -> dict:
    """A fitted isolation forest as plain values and a few concatenated arrays."""
    state = {key: value for key, value in vars(forest).items()
             if key != "estimators_" and key not in _PER_TREE}
    trees = forest.estimators_
    first = vars(trees[0])
    tree_states = [tree.tree_.__getstate__() for tree in trees]
    return {
        "forest": state,
        "per_tree": {key: _concatenated(getattr(forest, key)) for key in _PER_TREE},
        # Every tree shares its parameters and fitted sizes but its random_state.
        "tree": {key: value for key, value in first.items()
                 if key not in ("tree_", "random_state")},
        "random_states": np.array([tree.random_state for tree in trees], dtype=np.int64),
        "max_depths": np.array([s["max_depth"] for s in tree_states], dtype=np.int64),
        "nodes": _concatenated(s["nodes"] for s in tree_states),
        "node_values": _concatenated(s["values"] for s in tree_states),
    }


def unpack_forest(packed: dict) -> IsolationForest:
    """The isolation forest :func:`pack_forest` packed."""
    forest = IsolationForest.__new__(IsolationForest)
    vars(forest).update(packed["forest"])
    for key, value in packed["per_tree"].items():
        arrays = _split(value)
        setattr(forest, key, arrays if key == "estimators_features_" else tuple(arrays))
    template = packed["tree"]
    trees = []
    for seed, max_depth, nodes, values in zip(
        packed["random_states"], packed["max_depths"], _split(packed["nodes"]),
        _split(packed["node_values"]),
    ):
        tree = ExtraTreeRegressor.__new__(ExtraTreeRegressor)
        vars(tree).update(template)
        tree.random_state = int(seed)
        tree.tree_ = Tree(template["n_features_in_"], np.ones(1, dtype=np.intp),
                          template["n_outputs_"])
        tree.tree_.__setstate__({"max_depth": int(max_depth), "node_count": len(nodes),
                                 "nodes": nodes, "values": values})
        trees.append(tree)
    forest.estimators_ = trees
    return forest


# ----------------------------------------------------------------------
# Gradient-boosted trees
# ----------------------------------------------------------------------

#: A tree predictor's arrays, each stored concatenated over the trees.
_PREDICTOR_ARRAYS = ("nodes", "binned_left_cat_bitsets", "raw_left_cat_bitsets")


def pack_boosting(model) -> dict:
    """A fitted HistGradientBoosting regressor or classifier as plain values and three arrays."""
    trees = [tree for iteration in model._predictors for tree in iteration]
    return {
        "model": {key: value for key, value in vars(model).items() if key != "_predictors"},
        "per_iteration": len(model._predictors[0]) if model._predictors else 1,
        **{key: _concatenated([getattr(tree, key) for tree in trees])
           for key in _PREDICTOR_ARRAYS},
    }


def unpack_boosting(packed: dict):
    """The model :func:`pack_boosting` packed: a classifier if it has classes."""
    cls = (HistGradientBoostingClassifier if "classes_" in packed["model"]
           else HistGradientBoostingRegressor)
    model = cls.__new__(cls)
    vars(model).update(packed["model"])
    trees = [TreePredictor(*arrays)
             for arrays in zip(*(_split(packed[key]) for key in _PREDICTOR_ARRAYS))]
    step = packed["per_iteration"]
    model._predictors = [trees[i : i + step] for i in range(0, len(trees), step)]
    return model
