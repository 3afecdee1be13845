"""Apply a fitted estimator to a Dask array or DataFrame, one partition at a time."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

#: Methods that map rows to rows, and so can run partition by partition.
ROW_METHODS = (
    "transform",
    "inverse_transform",
    "score_samples",
    "decision_function",
    "predict",
)


def map_partitions(estimator, X, method: str = "transform", *, meta=None):
    """Apply a fitted estimator's method to a Dask collection, partition by partition.

    The estimator is shipped to the workers once (as one task of the graph)
    and called on each block of rows, so data larger than memory, or spread
    over a cluster, is scored, transformed or imputed as fast as the workers
    allow. Nothing is computed until the result is: write it with
    ``to_parquet`` / ``to_zarr`` or call ``.compute()``.

    Parameters
    ----------
    estimator : fitted estimator
        A fitted skae estimator (or any fitted scikit-learn estimator whose
        ``method`` maps each row to an output row).
    X : dask.array.Array of shape (n_samples, n_features) or dask.dataframe.DataFrame
        The rows. An array chunked along its columns is rechunked to whole
        rows first.
    method : {"transform", "inverse_transform", "score_samples", \
            "decision_function", "predict"}, default="transform"
        The estimator's method to apply.
    meta : array or pandas object, default=None
        An empty output of the right type, dtype and columns. By default it
        is learned by applying ``method`` to the first row of ``X``, which
        computes that row once.

    Returns
    -------
    result : dask.array.Array or dask.dataframe.DataFrame or dask.dataframe.Series
        For an array, an array with the same row chunks: 2-D for
        ``transform`` and ``inverse_transform``, 1-D otherwise. For a
        DataFrame, a DataFrame with the partitions' index and the
        estimator's output feature names (``get_feature_names_out``) as
        columns, or a Series named after ``method``; dtypes as the method
        returns them in memory.

    See Also
    --------
    dask.array.map_blocks : The engine for arrays.
    dask.dataframe.DataFrame.map_partitions : The engine for DataFrames.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from skae import AutoencoderTransformer, map_partitions
    >>> X = np.random.default_rng(0).normal(size=(400, 5))
    >>> ae = AutoencoderTransformer(n_components=2, max_epochs=2, random_state=0).fit(X)
    >>> codes = map_partitions(ae, da.from_array(X, chunks=100))
    >>> codes.shape, codes.numblocks
    ((400, 2), (4, 1))
    >>> np.allclose(codes.compute(), ae.transform(X), atol=1e-6)
    True
    """
    try:
        import dask
        import dask.array as da
        import dask.dataframe as dd
    except ImportError as error:
        raise ImportError(
            "map_partitions needs Dask: pip install 'skae[distributed]'."
        ) from error
    check_is_fitted(estimator)
    if method not in ROW_METHODS:
        raise ValueError(f"method={method!r} is not one of {list(ROW_METHODS)!r}.")
    if not hasattr(estimator, method):
        raise AttributeError(f"{type(estimator).__name__} has no method {method!r}.")
    # One task holds the estimator; every partition's task depends on it, so
    # a cluster sends it to each worker once instead of once per partition.
    shipped = dask.delayed(estimator, pure=True)

    if isinstance(X, da.Array):
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-D Dask array; got {X.ndim} dimension(s).")
        if X.numblocks[1] != 1:
            X = X.rechunk({1: -1})
        if meta is None:
            meta = np.asarray(_apply(estimator, method, X[:1].compute()))[:0]
        if meta.ndim == 1:
            return da.map_blocks(_apply_block, X, shipped, method, meta, drop_axis=1,
                                 dtype=meta.dtype, meta=meta)
        return da.map_blocks(_apply_block, X, shipped, method, meta,
                             chunks=(X.chunks[0], (meta.shape[1],)),
                             dtype=meta.dtype, meta=meta)
    if isinstance(X, dd.DataFrame):
        if meta is None:
            with warnings.catch_warnings():  # "fewer rows than requested"
                warnings.simplefilter("ignore", UserWarning)
                first = X.head(1)  # the first partition only
                if len(first) == 0:
                    first = X.head(1, npartitions=-1)
            meta = _apply_frame(first, estimator, method, None)[:0]
        return X.map_partitions(_apply_frame, shipped, method, meta, meta=meta)
    raise TypeError(
        f"X must be a dask.array.Array or a dask.dataframe.DataFrame; got "
        f"{type(X).__name__}. Call the estimator's {method} directly on data in memory."
    )


def _apply(estimator, method: str, rows):
    return getattr(estimator, method)(rows)


def _apply_block(block: np.ndarray, estimator, method: str, empty: np.ndarray) -> np.ndarray:
    if len(block) == 0:  # estimators refuse empty input; dask may pass empty blocks
        return empty
    return np.asarray(_apply(estimator, method, block), dtype=empty.dtype)


def _apply_frame(part: pd.DataFrame, estimator, method: str, empty):
    """The method's output for a partition, labelled with its index and names."""
    if len(part) == 0 and empty is not None:
        return empty.set_axis(part.index, axis=0)
    out = _apply(estimator, method, part)
    if isinstance(out, (pd.DataFrame, pd.Series)):
        return out.set_axis(part.index, axis=0)
    out = np.asarray(out)
    if out.ndim == 1:
        return pd.Series(out, index=part.index, name=method)
    names = _output_names(estimator, method, out.shape[1])
    return pd.DataFrame(out, index=part.index, columns=names)


def _output_names(estimator, method: str, n_columns: int) -> list:
    if method == "transform" and hasattr(estimator, "get_feature_names_out"):
        names = list(estimator.get_feature_names_out())
    elif method == "inverse_transform" and hasattr(estimator, "feature_names_in_"):
        names = list(estimator.feature_names_in_)
    else:
        names = [f"{method}{i}" for i in range(n_columns)]
    return names if len(names) == n_columns else list(range(n_columns))
