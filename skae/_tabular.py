"""Tables with numeric and categorical columns, for the network and back.

:class:`TableEncoder` is the one path between a validated table and the
network: numeric columns are scaled, categorical columns become one-hot
groups, and the network's output goes back to a table with the input's
column types. It learns each categorical column's entropy, which the
criterion (:mod:`skae._criterion`) divides that column's cross-entropy by, so
that numbers and categories weigh the same.

For a table of numbers only, encoding is the scaler alone.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.preprocessing import RobustScaler

from ._preprocessing import fit_on_stored, fit_scaler

#: Entropy floor, so a column that is almost constant in ``fit`` does not
#: make every later mistake on it infinitely costly.
_MIN_ENTROPY = 0.1

#: Largest scaled value the network is given. It computes in float32, whose
#: squares overflow beyond about 1.8e19; this bound keeps a batch's summed
#: squared errors finite.
MAX_SCALED = 1e15


def is_categorical_dtype(dtype) -> bool:
    """Whether a pandas column of this dtype is categorical for skae."""
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or pd.api.types.is_bool_dtype(dtype)
    )


def holds_numbers(column) -> bool:
    """Whether a pandas ``object`` column's present values are all numbers.

    pandas 3 stores ``[1.5, pd.NA, 2.0]`` as ``object``. Read as categorical
    (its dtype says so), such a column had one level per value and every gap
    filled with one of them, silently (a new user's trial). Text, bools and
    columns with no present value are not numbers.
    """
    return column.dtype == object and pd.api.types.infer_dtype(column, skipna=True) in (
        "integer", "floating", "mixed-integer-float", "decimal")


def is_sparse_frame(X) -> bool:
    """Whether ``X`` is a pandas DataFrame of sparse columns alone (``pd.SparseDtype``)."""
    return (isinstance(X, pd.DataFrame) and X.shape[1] > 0
            and all(isinstance(dtype, pd.SparseDtype) for dtype in X.dtypes))


def check_column_dtypes(X):
    """A clear error for columns that are neither numbers nor categories.

    Datetimes, timedeltas, periods and intervals have no meaning for the
    network until they are turned into numbers or categories.
    """
    if isinstance(X, pd.DataFrame):
        columns = X.dtypes.items()
    elif isinstance(getattr(X, "dtype", None), np.dtype) and X.dtype.kind in "mM":
        columns = [("X", X.dtype)]
    else:
        return
    unusable = {
        name: str(dtype)
        for name, dtype in columns
        if not (pd.api.types.is_numeric_dtype(dtype) or is_categorical_dtype(dtype))
    }
    if unusable:
        raise ValueError(
            f"Columns of X with dtypes that are neither numbers nor categories: "
            f"{unusable}. Convert them first: datetimes and durations to numbers "
            "(timestamps, parts of the date) or to a category dtype."
        )


def categorical_columns(X, categorical_features) -> list[int]:
    """Positions of the categorical columns of ``X``.

    ``"from_dtype"``: the category, object, string and bool columns of a
    DataFrame (none for arrays). None: none. Otherwise a list of column names
    or positions, or a boolean mask.
    """
    n_columns = X.shape[1]
    if categorical_features is None:
        return []
    if isinstance(categorical_features, str):
        if not isinstance(X, pd.DataFrame):
            return []
        return [i for i, dtype in enumerate(X.dtypes) if is_categorical_dtype(dtype)]
    chosen = np.asarray(categorical_features)
    if chosen.dtype == bool:
        if chosen.shape != (n_columns,):
            raise ValueError(
                f"categorical_features as a boolean mask needs {n_columns} entries; got "
                f"{chosen.shape[0]}."
            )
        return list(np.flatnonzero(chosen))
    positions = []
    names = list(X.columns) if isinstance(X, pd.DataFrame) else None
    for item in chosen.tolist():
        if isinstance(item, str):
            if names is None or item not in names:
                raise ValueError(f"categorical_features names column {item!r}, which X lacks.")
            positions.append(names.index(item))
        elif isinstance(item, numbers.Integral) and -n_columns <= item < n_columns:
            positions.append(int(item) % n_columns)
        else:
            raise ValueError(
                f"categorical_features entries must be column names or positions below "
                f"{n_columns}; got {item!r}."
            )
    return sorted(set(positions))


#: A text column with 10% or more entries that are not numbers warns only
#: when its numbers take at least this many distinct values.
_TEXT_NUMBERS_MIN_DISTINCT = 10


def warn_numbers_as_text(X, positions, sample: int = 10_000) -> None:
    """Warn about text columns of numbers with a few entries that are not numbers.

    A UCI-style placeholder (``"?"``) in a column of numbers makes pandas read
    the column as text, and skae then treats it as categorical, with one
    level per distinct number. Columns whose dtype is categorical or bool are
    the user's choice and left alone; only the first ``sample`` present values
    of a column are looked at. A column of which 10% or more is text and
    whose numbers are few (under ``_TEXT_NUMBERS_MIN_DISTINCT`` distinct)
    is taken for ordinal bins and left alone too.
    """
    if not isinstance(X, pd.DataFrame):
        return
    for j in positions:
        column = X.iloc[:, j]
        if isinstance(column.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(
            column.dtype
        ):
            continue
        present = column.dropna().iloc[:sample]
        if present.empty:
            continue
        numbers = pd.to_numeric(present, errors="coerce")
        parsed = numbers.notna().to_numpy()
        if parsed.mean() < 0.5 or parsed.all():
            continue
        # Text levels beside a few numbers ('<1', '1', '2', '5+', 'none') are
        # ordinal bins, a category: coercing would erase them (a new user's
        # survey column, 42% text in three levels beside four numbers).
        if parsed.mean() < 0.9 and numbers.nunique() < _TEXT_NUMBERS_MIN_DISTINCT:
            continue
        odd = present[~parsed].astype(str).unique()[:3].tolist()
        name = X.columns[j]
        warnings.warn(
            f"Column {name!r} of X holds numbers written as text and entries that are "
            f"not numbers ({', '.join(map(repr, odd))}): it is read as a categorical "
            f"column, one level per distinct value. If those entries mark missing "
            f"values, convert the column first: "
            f"X[{name!r}] = pd.to_numeric(X[{name!r}], errors='coerce').",
            UserWarning,
            stacklevel=4,
        )


def warn_numbers_beside_text(X, positions, sample: int = 10_000) -> None:
    """Warn about categorical columns that hold a value both as a number and as text.

    An object column of ``7`` and ``"7"`` (rows appended from a CSV to rows
    typed by hand) gets two categories for one value, silently (a new user's
    trial). Only the first ``sample`` present values are looked at.
    """
    if not isinstance(X, pd.DataFrame):
        return
    for j in positions:
        column = X.iloc[:, j]
        if column.dtype != object:
            continue
        present = column.dropna().iloc[:sample]
        is_number = present.map(
            lambda v: isinstance(v, numbers.Number) and not isinstance(v, (bool, np.bool_))
        ).to_numpy(dtype=bool)
        is_text = present.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        if not (is_number.any() and is_text.any()):
            continue
        text, numbers_seen = present[is_text], present[is_number].astype(float)
        same = pd.to_numeric(text, errors="coerce").isin(numbers_seen)
        if same.any():
            name, example = X.columns[j], text[same.to_numpy()].iloc[0]
            number = present[is_number][(numbers_seen == float(example)).to_numpy()].iloc[0]
            warnings.warn(
                f"Column {name!r} of X holds the same values as numbers and as text "
                f"(e.g. {number} and {example!r}): each becomes a category of its own. "
                f"Convert the column to one type "
                f"first, e.g. X[{name!r}] = X[{name!r}].astype(str).",
                UserWarning,
                stacklevel=4,
            )


#: A categorical column whose present values are at least this share distinct
#: (and at least ``_IDENTIFIER_MIN_LEVELS`` of them) looks like an identifier.
_IDENTIFIER_SHARE = 0.5
_IDENTIFIER_MIN_LEVELS = 50


def warn_identifier_columns(X, positions) -> None:
    """Warn about categorical columns whose values are nearly all distinct.

    A name, a code or a time stamp read as text becomes a categorical column
    with about one level per row: the network gets an output per level and
    nothing another row can teach it (a new user's trial found such columns
    accepted silently). Boolean columns, and columns that are mostly numbers
    written as text (:func:`warn_numbers_as_text`), are skipped.
    """
    if not isinstance(X, pd.DataFrame):
        return
    for j in positions:
        column = X.iloc[:, j]
        if pd.api.types.is_bool_dtype(column.dtype):
            continue
        present = column.dropna()
        # Numbers as text have a warning of their own (warn_numbers_as_text).
        if pd.to_numeric(present.iloc[:10_000], errors="coerce").notna().mean() >= 0.5:
            continue
        levels = present.nunique()
        if levels >= _IDENTIFIER_MIN_LEVELS and levels >= _IDENTIFIER_SHARE * len(present):
            name = X.columns[j]
            warnings.warn(
                f"Column {name!r} of X is categorical with {levels} distinct values in "
                f"{len(present)} present entries: it looks like an identifier (a name, a "
                f"code, a time stamp as text). Each level becomes an output of the network "
                f"and teaches it little about the other rows; drop the column, or leave it "
                f"out with a ColumnTransformer.",
                UserWarning,
                stacklevel=4,
            )


class TableEncoder:
    """Encode a table for the network; decode and score the network's output.

    Parameters
    ----------
    categorical : list of int
        Positions of the categorical columns.
    scaler : sklearn transformer
        Scaler of the numeric columns (NaN-aware).
    unstored : {"missing", "zero"}, default="missing"
        What the entries a scipy.sparse ``X`` does not store are: missing
        values (the imputer's ``missing_values=0``) or zeros (the transformer
        and the detector, which keep ``X`` sparse and densify a batch at a
        time).
    missing_level : bool, default=False
        Whether a missing category (NaN, None, ``pd.NA``) in ``fit`` is a
        level of its own, as :class:`~sklearn.preprocessing.OneHotEncoder`
        takes it (the transformer and the detector), rather than a gap (the
        imputer). A column without missing values in ``fit`` then takes a
        missing one as a category not seen in ``fit``.
    unknown_effect : str, default="treated as missing values"
        What the warning on a category not seen in ``fit`` says becomes of
        it under ``handle_unknown="missing"``.
    """

    def __init__(self, categorical, scaler, unstored="missing", missing_level=False,
                 unknown_effect="treated as missing values"):
        self.categorical = list(categorical)
        self.scaler = scaler
        self.unstored = unstored
        self.missing_level = missing_level
        self.unknown_effect = unknown_effect

    @property
    def mixed(self) -> bool:
        """Whether the table has categorical columns."""
        return bool(self.categorical)

    # ------------------------------------------------------------------
    def fit(self, X):
        """Learn the scaling, the categories and the layout of ``X``."""
        self.n_columns = X.shape[1]
        self.numeric = [j for j in range(self.n_columns) if j not in set(self.categorical)]
        if not self.mixed:
            with np.errstate(over="ignore", invalid="ignore"):  # checked below
                if sp.issparse(X) and self.unstored == "missing":
                    fit_on_stored(self.scaler, X)
                else:
                    fit_scaler(self.scaler, X)
            self._check_scaler(X)
            self.width = self.n_columns
            return self
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
        self.columns = list(frame.columns)
        self.dtypes = list(frame.dtypes)
        if self.numeric:
            with np.errstate(over="ignore", invalid="ignore"):  # checked below
                fit_scaler(self.scaler, self._numbers(frame))
            self._check_scaler(frame)
        self.categories, self.entropy, self.rarest, self.missing_levels = {}, {}, {}, {}
        for j in self.categorical:
            values = frame.iloc[:, j]
            counts = values.dropna().value_counts()
            counts = counts[counts > 0]  # a category dtype lists unused categories too
            n_missing = int(values.isna().sum()) if self.missing_level else 0
            if len(counts) == 0 and not n_missing:
                raise ValueError(
                    f"Categorical column {self.columns[j]!r} has no observed value in fit."
                )
            if isinstance(values.dtype, pd.CategoricalDtype):
                cats = [c for c in values.cat.categories if c in counts.index]
            else:
                cats = sorted(counts.index, key=lambda v: (str(type(v)), v))
            freq = counts.reindex(cats).to_numpy(dtype=float)
            if n_missing:
                # The last level: NaN, which decodes back to a missing value.
                self.missing_levels[j] = len(cats)
                cats, freq = [*cats, np.nan], np.append(freq, n_missing)
            freq = freq / freq.sum()
            self.categories[j] = cats
            self.rarest[j] = int(np.argmin(freq))  # the first of the rarest
            self.entropy[j] = max(float(-(freq * np.log(freq)).sum()), _MIN_ENTROPY)
        # Layout of the encoded row: each column in its original position.
        self.slices, start = [], 0
        for j in range(self.n_columns):
            width = len(self.categories[j]) if j in self.categories else 1
            self.slices.append(slice(start, start + width))
            start += width
        self.width = start
        self.numeric_positions = [self.slices[j].start for j in self.numeric]
        return self

    def _check_scaler(self, X):
        """A clear error when the spread of a feature overflows float64."""
        learned = [getattr(self.scaler, name, None) for name in ("mean_", "center_", "scale_")]
        bad = np.zeros(len(self.numeric), dtype=bool)
        for values in learned:
            if values is not None:
                bad |= ~np.isfinite(np.broadcast_to(values, bad.shape))
        if bad.any():
            names = [self._name(X, self.numeric[i]) for i in np.flatnonzero(bad)]
            raise ValueError(
                f"The values of feature(s) {names} are too large to scale: their "
                "mean or variance overflows float64. Rescale X (divide it by a constant) "
                "before fitting."
            )

    def _check_scaled(self, x: np.ndarray, X):
        """A clear error when a scaled value is too large for the network."""
        if x.size == 0:
            return
        self._check_peaks(np.maximum(x.max(axis=0), -x.min(axis=0)), X)  # no copy of x

    def _check_peaks(self, peaks: np.ndarray, X):
        too_large = np.flatnonzero(peaks > MAX_SCALED)
        if len(too_large):
            j = int(too_large[0])
            unscaled = isinstance(self.scaler, RobustScaler) and self.scaler.scale_[j] == 1
            why = (" (its interquartile range in fit was 0, so the robust scaling left "
                   "it unscaled)") if unscaled else ""
            raise ValueError(
                f"Feature {self._name(X, j)!r} reaches {peaks[j]:.3g} after scaling"
                f"{why}, too large for the network's float32 arithmetic (the limit "
                f"is {MAX_SCALED:.0e}). Rescale that feature, for example with a log "
                "transform, or choose another scaling."
            )

    def _name(self, X, j: int):
        if isinstance(X, pd.DataFrame):
            return X.columns[j]
        return f"x{j}"

    def _numbers(self, frame: pd.DataFrame) -> np.ndarray:
        numeric = frame.iloc[:, self.numeric]
        return numeric.apply(pd.to_numeric, errors="raise").to_numpy(
            dtype=np.float64, na_value=np.nan
        )

    # ------------------------------------------------------------------
    def encode(self, X, handle_unknown="missing") -> tuple[np.ndarray, np.ndarray]:
        """The network's input and the mask of observed columns.

        ``handle_unknown`` says what to do with a category not seen in
        ``fit``: treat the entry as missing (``"missing"``), encode it as
        the rarest category seen in ``fit`` (``"rarest"``), or raise a
        ``ValueError`` naming the column and the values (``"error"``).

        Returns
        -------
        x : ndarray of shape (n_samples, width), float32
            Scaled numbers and one-hot categories; 0 where a value is missing.
            A CSR matrix for scipy.sparse ``X`` (``unstored="zero"``).
        observed : ndarray of shape (n_samples, n_columns), bool, or None
            Which values are present; None for scipy.sparse ``X``, where
            every entry is.
        """
        if sp.issparse(X):
            return self._encode_sparse(X), None
        if not self.mixed:
            # Scaled in the input's precision: float32 cannot hold 1e30 - 1e30 + 1.
            scaled = self.scaler.transform(X)
            observed = ~np.isnan(scaled)
            scaled = np.where(observed, scaled, 0.0)
            self._check_scaled(scaled, X)
            return scaled.astype(np.float32, copy=False), observed
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
        n = len(frame)
        x = np.zeros((n, self.width), dtype=np.float32)
        observed = np.ones((n, self.n_columns), dtype=bool)
        if self.numeric:
            scaled = self.scaler.transform(self._numbers(frame))
            present = ~np.isnan(scaled)
            scaled = np.where(present, scaled, 0.0)
            self._check_scaled(scaled, frame.iloc[:, self.numeric])
            x[:, self.numeric_positions] = scaled
            observed[:, self.numeric] = present
        for j in self.categorical:
            values = frame.iloc[:, j]
            codes = self._index(j).get_indexer(np.asarray(values, dtype=object))
            missing = values.isna().to_numpy()
            level = getattr(self, "missing_levels", {}).get(j)
            if level is not None:
                codes[missing] = level
            elif getattr(self, "missing_level", False):
                codes[missing] = -1  # a level fit did not see
                missing = np.zeros_like(missing)
            unknown = (codes < 0) & ~missing
            if unknown.any():
                self._unknown(j, values[unknown], handle_unknown)
            if unknown.any() and handle_unknown == "rarest":
                codes = np.where(unknown, self._rarest(j), codes)
            present = codes >= 0
            rows = np.flatnonzero(present)
            x[rows, self.slices[j].start + codes[present]] = 1.0
            observed[:, j] = present
        return x, observed

    def _unknown(self, j: int, values: pd.Series, handle_unknown: str) -> None:
        """Raise (``"error"``) or warn about categories of column ``j`` not seen in fit."""
        seen = [np.nan if _is_missing(v) else v for v in pd.unique(values)[:5]]
        # A missing category is a level of its own, one this column lacked in fit.
        note = (" (nan: a missing value, which fit did not see here)"
                if any(_is_missing(v) for v in seen) else "")
        if handle_unknown == "error":
            raise ValueError(
                f"Column {self.columns[j]!r} has categories not seen in fit: "
                f"{seen}{note}. Set handle_unknown='missing' to treat them as "
                "missing values."
            )
        effect = ("scored as the column's rarest category in fit" if handle_unknown == "rarest"
                  else getattr(self, "unknown_effect", "treated as missing values"))
        warnings.warn(
            f"Column {self.columns[j]!r} has categories not seen in fit: {seen}{note} "
            f"in {len(values)} rows, {effect} (handle_unknown={handle_unknown!r}).",
            UserWarning, stacklevel=2,
        )

    def _rarest(self, j: int) -> int:
        """Index of column ``j``'s rarest category in ``fit``."""
        if not hasattr(self, "rarest"):
            raise ValueError(
                "handle_unknown='rarest' needs the categories' frequencies, which a "
                "model saved by an earlier version of skae lacks; fit it again."
            )
        return self.rarest[j]

    def _encode_sparse(self, X):
        """The scaled CSR matrix (float32) of numbers whose unstored entries are zeros.

        The scaler divides without centering, so zeros stay zero and the
        result stays sparse; the network densifies it a batch at a time.
        """
        scaled = sp.csr_matrix(self.scaler.transform(X))
        peaks = np.zeros(X.shape[1])
        np.maximum.at(peaks, scaled.indices, np.abs(scaled.data))
        self._check_peaks(peaks, X)
        return scaled.astype(np.float32)

    def encode_stored(self, X) -> np.ndarray:
        """Scaled values of the stored entries of a CSR matrix of numbers.

        The sparse counterpart of :meth:`encode` for tables without
        categories: the entries that are not stored are the missing ones, so
        only the stored values are scaled (float32, in the order of
        ``X.data``).
        """
        mean = getattr(self.scaler, "mean_", None)
        scale = getattr(self.scaler, "scale_", None)
        if not getattr(self.scaler, "with_mean", True) or mean is None:
            mean = np.zeros(X.shape[1])
        if scale is None:
            scale = np.ones(X.shape[1])
        scaled = (X.data - mean[X.indices]) / scale[X.indices]
        peaks = np.zeros(X.shape[1])
        np.maximum.at(peaks, X.indices, np.abs(scaled))
        self._check_peaks(peaks, X)
        return scaled.astype(np.float32)

    def _index(self, j: int) -> pd.Index:
        """The fitted categories of column ``j``, as an index to look codes up."""
        if not hasattr(self, "_indexes"):
            self._indexes = {}
        if j not in self._indexes:
            self._indexes[j] = pd.Index(self.categories[j], dtype=object)
        return self._indexes[j]

    def __getstate__(self):
        # Plain values only (pandas dtypes as descriptions), for skops.io.
        state = dict(vars(self))
        state.pop("_repeat", None)  # caches: a tensor, pandas indexes
        state.pop("_indexes", None)
        if "dtypes" in state:
            state["dtypes"] = [_describe_dtype(dtype) for dtype in self.dtypes]
        return state

    def __setstate__(self, state):
        state = dict(state)
        if "dtypes" in state:
            state["dtypes"] = [_restore_dtype(dtype) for dtype in state["dtypes"]]
        vars(self).update(state)

    def expand(self, columns: torch.Tensor) -> torch.Tensor:
        """Repeat a per-column tensor over each column's encoded entries."""
        if not self.mixed:
            return columns
        if not hasattr(self, "_repeat"):
            sizes = [s.stop - s.start for s in self.slices]
            self._repeat = torch.tensor(sizes)
        return torch.repeat_interleave(columns, self._repeat.to(columns.device), dim=1)

    # ------------------------------------------------------------------
    def numbers(self, output: np.ndarray) -> np.ndarray:
        """The numeric columns of the network's output, unscaled and not rounded.

        Shape ``(n, len(numeric))``, in the order of ``numeric``.
        """
        if not self.mixed:
            return self.scaler.inverse_transform(output)
        return self.scaler.inverse_transform(output[:, self.numeric_positions].astype(np.float64))

    def decode(self, output: np.ndarray, like=None, rng=None):
        """Turn the network's output back into values of the input's types.

        Returns an array for numbers only; otherwise a DataFrame with the
        fitted columns and their dtypes (and the index of ``like``), numbers
        unscaled (rounded for integer columns) and categories by largest logit, or drawn from the softmax of the logits
        when a NumPy generator ``rng`` is given.
        """
        if not self.mixed:
            return self.numbers(output)
        data = {}
        index = like.index if isinstance(like, (pd.DataFrame, pd.Series)) else None
        numbers_ = self.numbers(output) if self.numeric else None
        for j in range(self.n_columns):
            name = self.columns[j]
            if j in self.categories:
                logits = output[:, self.slices[j]]
                if rng is None:
                    picks = logits.argmax(axis=1)
                else:
                    p = np.exp(logits - logits.max(axis=1, keepdims=True))
                    p /= p.sum(axis=1, keepdims=True)
                    picks = (rng.random((len(p), 1)) > np.cumsum(p, axis=1)).sum(axis=1)
                    picks = np.minimum(picks, p.shape[1] - 1)
                values = np.asarray(self.categories[j], dtype=object)[picks]
                # The dtype named: pandas 3 would infer its string dtype for
                # an object column of strings.
                column = _as_dtype(values, self.dtypes[j], self.categories[j])
                data[name] = pd.Series(column, index=index, dtype=column.dtype)
            else:
                data[name] = _as_number_dtype(numbers_[:, self.numeric.index(j)], self.dtypes[j])
        return pd.DataFrame(data, columns=self.columns, index=index)


def _is_missing(value) -> bool:
    """Whether a single value is a missing one (NaN, None, ``pd.NA``, ``NaT``)."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _describe_dtype(dtype):
    """A pandas or NumPy dtype as a string, or a dict for a categorical one."""
    if isinstance(dtype, pd.CategoricalDtype):
        return {"categories": list(dtype.categories), "ordered": bool(dtype.ordered)}
    return str(dtype)


def _restore_dtype(description):
    if isinstance(description, dict):
        return pd.CategoricalDtype(description["categories"], ordered=description["ordered"])
    return pd.api.types.pandas_dtype(description)


def _as_number_dtype(values: np.ndarray, dtype):
    """Decoded numbers of a numeric column in its fitted dtype.

    Integer columns (``int64``, nullable ``Int64``, ...) get rounded values,
    clipped to what the dtype holds; float ones (``float32``, ``Float64``) a
    cast. A value the dtype cannot hold (NaN in a NumPy integer column) leaves
    the column float64.
    """
    if pd.api.types.is_integer_dtype(dtype):
        values = np.round(values)
        if np.isnan(values).any() and isinstance(dtype, np.dtype):
            return values
        info = np.iinfo(getattr(dtype, "numpy_dtype", dtype))
        values = np.clip(values, info.min, info.max)
    try:
        return pd.array(values, dtype=dtype) if not isinstance(dtype, np.dtype) else (
            values.astype(dtype))
    except (TypeError, ValueError):
        return values


def _as_dtype(values: np.ndarray, dtype, categories):
    """Values of a categorical column in its original dtype."""
    if isinstance(dtype, pd.CategoricalDtype):
        return pd.Categorical(values, categories=dtype.categories, ordered=dtype.ordered)
    try:
        return pd.array(values, dtype=dtype)
    except (TypeError, ValueError):
        return values
