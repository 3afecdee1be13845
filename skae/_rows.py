"""Row sources: the imputer's one interface to dense and sparse (CSR) input.

A dense array or DataFrame holds its gaps as NaN; a CSR matrix holds its
observed entries only (the ones not stored are missing). Everything the
imputer does with rows (count gaps per feature, keep features, sample rows,
build the training dataset, walk dense blocks for inference) goes through
:func:`row_source`, so the imputer itself has no ``issparse`` branches.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from ._data import SparseRowsDataset, TensorDataset
from ._preprocessing import dense_blocks


def missing_mask(X) -> np.ndarray:
    """Boolean mask of the missing entries of an array or a DataFrame."""
    if isinstance(X, pd.DataFrame):
        return X.isna().to_numpy()
    return np.isnan(X)


def select_columns(X, mask):
    """The columns of ``X`` (array, DataFrame or CSR) where ``mask`` is true."""
    if isinstance(X, pd.DataFrame):
        return X.iloc[:, np.flatnonzero(mask)]
    return X[:, mask]


class DenseRows:
    """Rows of a dense array or DataFrame, gaps as NaN."""

    def __init__(self, X):
        self.X = X

    def n_missing(self) -> np.ndarray:
        """Missing entries per column."""
        return missing_mask(self.X).sum(axis=0)

    def rows(self, index):
        """A row source of the rows at ``index``."""
        X = self.X.iloc[index] if isinstance(self.X, pd.DataFrame) else self.X[index]
        return type(self)(X)

    def blocks(self, max_rows: int | None = None):
        """Dense blocks of rows: the data itself."""
        yield self.X

    def training_data(self, encoder, kept, handle_unknown):
        """Encoded rows of the ``kept`` columns and their observed mask."""
        return encoder.encode(select_columns(self.X, kept), handle_unknown)

    @staticmethod
    def dataset(data, to_tensor):
        """The training dataset from :meth:`training_data`."""
        S, observed = data
        return TensorDataset(to_tensor(S), to_tensor(observed))


class SparseRows(DenseRows):
    """Rows of a CSR matrix whose stored entries are the observed ones."""

    def n_missing(self) -> np.ndarray:
        return self.X.shape[0] - np.bincount(self.X.indices, minlength=self.X.shape[1])

    def blocks(self, max_rows: int | None = None):
        """Dense blocks of rows, NaN where no entry is stored; bounded memory."""
        yield from dense_blocks(self.X, max_rows=max_rows)

    def training_data(self, encoder, kept, handle_unknown):
        """The kept columns (CSR) and the scaled values of their stored entries."""
        X = self.X[:, kept]
        return X, encoder.encode_stored(X)

    @staticmethod
    def dataset(data, to_tensor):
        # Stored entries only, on the device; batches are densified one at a time.
        X, values = data
        device = to_tensor(np.zeros(0)).device

        def on_device(array, dtype):
            return torch.from_numpy(np.asarray(array, dtype=dtype)).to(device)

        return SparseRowsDataset(on_device(X.indptr, np.int64), on_device(X.indices, np.int64),
                                 on_device(values, np.float32), X.shape[1])


def row_source(X) -> DenseRows:
    """The row source of validated input ``X``."""
    return SparseRows(X) if sp.issparse(X) else DenseRows(X)
