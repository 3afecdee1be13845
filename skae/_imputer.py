"""AutoencoderImputer: missing-value imputation with a denoising autoencoder.

Owns what the imputer adds to the base: the hiding of observed entries
(its batch iterator), the masked criterion, the training budget and its
learning-rate schedule, imputation and multiple imputation, empty features
and the missing indicator. Rows reach it through :mod:`skae._rows`, dense or
sparse alike.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.stats
import torch
from scipy.optimize import minimize
from scipy.special import log_softmax, softmax
from sklearn.base import TransformerMixin
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.impute import MissingIndicator
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data
from skorch.callbacks import Callback, LRScheduler
from torch.optim.lr_scheduler import CosineAnnealingLR

from ._base import BaseAutoencoder, _nan_message, float_dtype, store_params
from ._criterion import MaskedColumnLoss, split_output
from ._data import BatchIterator
from ._docstrings import fill_doc
from ._duplicates import DuplicateRows
from ._imputer_budget import (
    AVERAGE_HORIZON,
    AVERAGE_MAX_BATCHES,
    batches_per_epoch,
    ensemble_members,
    hidden_sizes,
    training_epochs,
)
from ._modules import DenoisingImputerMLP
from ._modules._protocol import AutoencoderModule, ImputerModule
from ._net import AutoencoderNet, ParameterAverage
from ._persist import pack_boosting, unpack_boosting
from ._preprocessing import entry_rows
from ._rows import DenseRows, missing_mask, row_source, select_columns
from ._tabular import categorical_columns, is_sparse_frame
from ._threads import blas_threads, openmp_threads


class _CosineSchedule(LRScheduler):
    """skorch's ``LRScheduler``: a cosine decay from ``lr`` to zero per training call.

    The length of the decay is the net's ``max_epochs`` for the call, known
    only once ``fit`` has seen the data, so it is read when training starts.
    Every call (of ``partial_fit`` too) starts again from ``lr``.
    """

    def __init__(self):
        super().__init__(policy=CosineAnnealingLR, T_max=1, eta_min=0.0, last_epoch=-1)

    def on_train_begin(self, net, **kwargs):
        # ``initial_lr`` remembers the rate a decay starts from; a new ``lr``
        # set since the last call (set_params) replaces it.
        lr_changed = getattr(self, "lr_", net.lr) != net.lr
        for group in net.optimizer_.param_groups:
            if lr_changed or "initial_lr" not in group:
                group["initial_lr"] = group["lr"]
            group["lr"] = group["initial_lr"]
        self.lr_ = net.lr
        self.T_max = net.max_epochs
        super().on_train_begin(net, **kwargs)


class _WeightAverage(Callback):
    """Impute with an exponential moving average of the weights over training.

    After every optimizer step, the average follows the module's parameters
    with a decay of ``1 - 1 / (AVERAGE_HORIZON * steps)`` for a training call
    of ``steps`` steps (torch's ``get_ema_multi_avg_fn``; ``AveragedModel``'s
    per-step bookkeeping would cost five times as much); when the call ends,
    the averaged parameters replace the module's. Every call (of
    ``partial_fit`` too) starts a new average.
    """

    def on_train_begin(self, net, X=None, **kwargs):
        n_steps = net.max_epochs * len(net.get_iterator(X, training=True))
        self.average_ = ParameterAverage(AVERAGE_HORIZON * n_steps)

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.average_.update(net.module_.parameters())

    def on_train_end(self, net, **kwargs):
        if self.average_.average is not None:
            self.average_.copy_to(net.module_.parameters())
        self.average_ = None


class _MemberLossNet(AutoencoderNet):
    """The imputer's net: a module with members is trained on each member's loss.

    A module with ``n_members > 1`` (:class:`DenoisingImputerMLP`) returns
    ``(n_members, n, width)`` in training: the loss is the mean of the
    members' losses on the same batch, so that each member learns on its own
    (the loss of their mean would couple them into one wide network). In
    evaluation it returns the members' mean, scored as any output.
    """

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The criterion on the output; members' outputs: the mean of their losses."""
        reconstruction, penalty = split_output(y_pred)
        if reconstruction.dim() == 3:
            n_members = len(reconstruction)
            # Same denominators for every member: the loss of the stacked rows
            # is the mean of the members' losses.
            y_true = tuple(part.expand(n_members, *part.shape[-2:]).flatten(0, 1)
                           for part in y_true)
            y_pred = (reconstruction.flatten(0, 1), penalty)
        return super().get_loss(y_pred, y_true, X=X, training=training)


class _HidingBatches:
    """Batch iterator factory for the net: batches that hide observed entries.

    Each batch of ``(x, observed)`` hides a further ``hide_fraction`` of the
    observed entries: the module gets ``(x, visible)`` (``visible`` repeated
    over each column's encoded entries) and the criterion ``(x, observed,
    visible)``. Training draws a new pattern every time (from torch's forked
    global generator), and a ``copy_share`` of the rows hide another row's
    gaps instead (:func:`_copy_patterns`); validation (``seed`` given) uses a
    fixed random pattern, so its loss is comparable across epochs.
    """

    def __init__(self, hide_fraction: float, expand, seed: int | None = None,
                 copy_share: float = 0.0):
        self.hide_fraction = hide_fraction
        self.expand = expand
        self.seed = seed
        self.copy_share = copy_share

    def __call__(self, dataset, batch_size, shuffle=False, **kwargs):
        batches = BatchIterator(dataset, batch_size, shuffle=shuffle, **kwargs)
        return _HidingIterator(batches, self)


#: Entries of the rows the module may study before training (``init_from_data``).
_INIT_ENTRIES = 2**22

#: Training rows that each column's gradient-boosted trees are fitted on, at
#: most (drawn reproducibly): the trees' cost stops growing with the rows.
#: Trees on more than ``_LARGE_TREE_ROWS`` rows take ``_LARGE_TREE_LEAVES``
#: leaves (scikit-learn's default) instead of ``_TREE_PARAMS``' 15. Chosen on
#: 20,000 rows of the development tables letter and magic.gamma (20% MCAR and
#: MAR, the same network fits, trees refitted; stop 41): all rows and 31
#: leaves 0.991 of the error of 10,000 rows and 15 leaves (all rows alone
#: 0.998, 31 leaves alone 0.996); on 20,000 rows of the four tables of
#: ``bench_impute.py --group large`` 0.9925 (0.996 / 0.998), and on a new
#: user's flights table 0.992 / 0.988 at 12,500 / 25,000 rows; the trees took
#: 0.8 s instead of 0.4 s of a 10 s fit. Tables of at most 10,000 rows are
#: unchanged (31 leaves there: 0.999 of the error, at 1.4x the trees' time).
_TREE_ROWS = 50_000
#: Rows the columns' means and spreads are measured on (_fit_marginals).
_MARGINAL_ROWS = 50_000
_LARGE_TREE_ROWS = 10_000
_LARGE_TREE_LEAVES = 31
#: Training rows searched for duplicates (and stored with the model), at most.
_DUPLICATE_ROWS = 10_000
#: Observed values a column needs for trees of its own.
_TREE_MIN_ROWS = 20
#: Observed values, all equal, that make a column constant: its gaps take
#: that value.
_CONSTANT_MIN_ROWS = 20
#: OpenMP threads of the trees, whatever ``n_jobs`` says. Each column's trees
#: see at most ``_TREE_ROWS`` rows, too little work per parallel region to
#: gain from a second thread, while on a busy machine OpenMP's barriers wait
#: for descheduled threads: on the 2-core machine with one core busy, three
#: fits of 1,000 rows took 44 s on two threads against 0.06 s on one, and a
#: user's fit with ``n_jobs=2`` 121-287 s against 1 s.
_TREE_THREADS = 1
#: Columns each column's trees read, at most: the others most correlated with
#: it on the network's completion (wide tables: the trees' cost stops growing
#: with the square of the width).
_TREE_FEATURES = 16
#: A numeric column is recalled from a linear model of the completed row when
#: the model's cross-validated squared error is at most this share of the
#: column's variance (R² of at least 0.99): charges that are a rate times
#: minutes, totals of parts (``_fit_linear``).
_LINEAR_ERROR_SHARE = 0.01
#: Columns a linear model is chosen from, at most: the most correlated ones.
_LINEAR_FEATURES = 32
#: Entries a linear model keeps, at most, and the share of the column's spread
#: each must carry (coefficient times the entry's spread).
_LINEAR_MAX_INPUTS = 8
_LINEAR_MIN_SHARE = 0.01
#: Rows a linear model needs (observing the column and the model's inputs).
_LINEAR_MIN_ROWS = 50
#: Folds of the linear models' honest error.
_LINEAR_FOLDS = 5
#: Levels a categorical column may have to get a classifier: with more, the
#: boosted classifier grew unstable at the numbers' learning rate (40-100
#: levels, trial 55) and costs a tree per level per iteration.
_TREE_MAX_LEVELS = 30
#: A classifier whose held-out loss ends above this multiple of the levels'
#: frequencies' loss has diverged (``_fit_trees``).
_DIVERGED_LOSS = 2.0
#: A numeric column whose trees explain less than this share of its variance
#: on the rows their early stopping held out (R^2) is imputed toward its mean
#: (``_fit_trees``): at R^2 = 0 its mean, in between a share R^2 / 0.05 of the
#: blend's departure from it.
_UNPREDICTED_R2 = 0.05
#: ... when at least this many rows were held out: an R^2 from fewer is noise.
_UNPREDICTED_MIN_HELD_OUT = 50
#: Floor of the blended probabilities of a category's levels, before their logarithm.
_TINY = np.finfo(np.float64).tiny
#: Settings of each column's HistGradientBoostingRegressor: early stopping on
#: a tenth of the rows, and half the default leaves at twice the default rate.
#: Against the defaults (early stopping alone), on the nine development tables
#: at p = 0.2 MCAR and MAR: the same error (geometric mean 1.0003, worst
#: 1.0028), 0.53x the trees' time, 0.43x their size. Early stopping after 5
#: iterations without progress rather than 10 (scikit-learn keeps the
#: iterations past the best, so the last 10 were wasted), on the same fitted
#: networks: 1.0005 of the error on the development tables at p = 0.2 MCAR and
#: MAR (worst 1.0028), 0.79x the trees' time; on the twelve report tables at
#: p = 0.2 and 0.5 MCAR, 0.9989 (worst 1.0032), 0.76x.
_TREE_PARAMS = {"early_stopping": True, "learning_rate": 0.2, "max_leaf_nodes": 15,
                "n_iter_no_change": 5}

#: Hidden entries with a duplicate that a column needs before its gaps are
#: recalled from duplicates (``_fit_duplicates``).
_DUPLICATE_MIN_ENTRIES = 30
#: A column's gaps are recalled from duplicates only where the duplicates'
#: error on hidden entries is at most this share of the imputation's own
#: (``residual_std_`` squared): duplicates that repeat the value, not rows
#: that merely resemble each other.
_DUPLICATE_ERROR_SHARE = 0.1

#: Share of each categorical column's observed entries withheld from training,
#: on which the column's probabilities are calibrated (``_calibrate_categories``).
_CALIBRATION_SHARE = 0.2
#: Entries withheld per column at most, whatever the share: a larger table
#: keeps more of its entries for training.
_CALIBRATION_ENTRIES = 300
#: Withheld entries a column needs for a calibration of its own.
_CALIBRATION_MIN_ENTRIES = 10
#: Rows with withheld entries that the calibration predicts, at most.
_CALIBRATION_ROWS = 20_000

#: Share of a column's observed values that its commonest value, at an end of
#: its range, must hold for the column to have a point mass there (zeros of an
#: amount, a count or a viral load): its draws then come from observed values
#: of rows predicted alike (``_fit_donors``), not from Gaussian noise.
_POINT_MASS_SHARE = 0.2
#: Distinct values a column needs for a commonest value *inside* its range,
#: holding _POINT_MASS_SHARE of them, to count as a point mass too (years of
#: schooling heaped at 12, hours at 40, a count whose mode is 1). On the
#: twelve development tables of ``bench_draws.py`` (20% MCAR, two seeds;
#: donors against the Gaussian draws of the same fit) such columns' CRPS was
#: 0.969 with at least 5 values, 0.974 with 4 (3- and 4-value codes, already
#: drawn at their values by rounding: 1.043), and the share of draws at the
#: mode was off by 0.023 against 0.181. On the seven report tables, measured
#: after the rule was fixed: 0.882 (14 of 41 column runs worse), off by
#: 0.028 against 0.233.
_INTERIOR_MODE_LEVELS = 5
#: Rows whose observed entries are predicted, hidden, as donors, at most.
_DONOR_ROWS = 5_000
#: Donors a column needs for draws from donors.
_DONOR_MIN = 20
#: Donors nearest in prediction that each draw picks among (mice's ``pmm``
#: picks among 5).
_DONORS = 6
#: Share of the noise (the difference in variance between a real gap's error
#: and the donors' own, ``_fit_donors``) that moves a gap's prediction before
#: it is matched. On the twelve tables of ``bench_draws.py --group dev``
#: (20% MCAR, two seeds), the point-mass columns' CRPS against Gaussian
#: draws was 0.924 / 0.902 / 0.922 with 0 / 0.5 / 1 of it, their 90% ranges
#: covering 0.80 / 0.84 / 0.89 (0.80 for the Gaussian draws).
_DONOR_SHIFT = 0.5
#: Skewness (Fisher-Pearson, of the observed values) from which a column
#: without a point mass is drawn from donors too (``_fit_donors``): Gaussian
#: noise around the imputation of a long-tailed column (spending, income, a
#: vitamin content) fills the short side, where a third of the draws could
#: leave the observed range. Chosen on the twelve development tables of
#: ``bench_draws.py`` (20% MCAR, two seeds; donors against the Gaussian draws
#: of the same fit): |skewness| 1-2 0.984 of the CRPS (34 of 60 column runs
#: worse), 2-4 1.001, 4 and more 0.912 (1 of 7 worse). On the seven report
#: tables, run at the same time: 0.951 / 0.936 / 0.770 (1 of 10 worse).
_DONOR_SKEW = 4.0
#: Steps a column's values may be recorded in (``_grid_step``), largest first:
#: 1, 2, 2.5 and 5 times a power of ten.
_GRID_STEPS = tuple(sorted({m * 10.0**k for k in range(-4, 7) for m in (1, 2, 2.5, 5)},
                           reverse=True))


#: Share of each training batch's rows that hide another row's real pattern of
#: gaps (copy masking, CACTI) instead of ``hide_fraction`` of their entries.
_COPY_SHARE = 0.5
#: Most of a row's observed entries a copied pattern may hide: rows of a rating
#: matrix (95% missing) would otherwise hide nearly all they observe.
_COPY_MAX_HIDDEN = 0.75


def _copy_patterns(observed, visible, share, generator=None):
    """``visible`` with a ``share`` of the rows seeing only what another row of the batch observes.

    Each such row hides its entries that the other row lacks; a row that
    would then hide nothing (the other row has no gap it observes), or more
    than ``_COPY_MAX_HIDDEN`` of what it observes, keeps its random hiding.
    Random numbers come from ``generator`` (torch's global generator when
    None).
    """
    n_rows, device = len(observed), observed.device
    copied = observed * observed[torch.randperm(n_rows, device=device, generator=generator)]
    hidden = (observed - copied).sum(dim=1, keepdim=True)
    rows = torch.rand(n_rows, 1, device=device, generator=generator) < share
    rows &= (hidden > 0) & (hidden <= _COPY_MAX_HIDDEN * observed.sum(dim=1, keepdim=True))
    return torch.where(rows, copied, visible)


#: Each training row hides its own share of its observed entries, drawn
#: uniformly between 0 and twice ``hide_fraction`` (the same share on
#: average). With one share for every row, a network on 1,000 rows of 605
#: MNIST pixels (trial 69) imputed the gaps with 0.398 of the range's RMSE,
#: worse than column means (0.296), while hiding a tenth more entries at
#: transform gave 0.198: it had learned the share, which barely varies
#: across 605 columns. With a share per row: 0.153 (KNNImputer 0.198). On the
#: nine development tables cut to 1,000 rows (20% MCAR and MAR), level
#: (``benchmarks/README.md``, "A hidden share per row").
_VARY_HIDE_RATE = True


class _HidingIterator:
    def __init__(self, batches: BatchIterator, hiding: _HidingBatches):
        self.batches = batches
        self.hiding = hiding

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self):
        generator, seed = None, self.hiding.seed
        for x, observed in self.batches:
            if seed is not None and generator is None:
                generator = torch.Generator(device=x.device).manual_seed(seed)
            keep = torch.rand(observed.shape, device=x.device, generator=generator)
            rate = self.hiding.hide_fraction
            if seed is None and _VARY_HIDE_RATE:
                rate = rate * 2.0 * torch.rand(len(x), 1, device=x.device)
            visible = observed * (keep >= rate)
            if seed is None and self.hiding.copy_share:
                visible = _copy_patterns(observed, visible, self.hiding.copy_share)
            yield (x, self.hiding.expand(visible)), (x, observed, visible)



@fill_doc
class AutoencoderImputer(TransformerMixin, BaseAutoencoder):
    """Impute missing values with a denoising autoencoder.

    Follows :class:`~sklearn.impute.IterativeImputer`'s contract. The
    network sees each row with its gaps and the mask of which entries are
    missing, and learns to fill entries it cannot see: in every training
    batch half the rows hide a further ``hide_fraction`` of their observed
    entries and the other half the entries another row of the batch is
    missing (copy masking: the table's own patterns of gaps, such as blocks
    of columns missing together), and the loss covers observed entries only,
    so no complete rows are needed. The
    network runs twice: the second pass sees the first pass's predictions in
    the gaps (``module__n_passes``). Once
    fitted, ``transform`` imputes new rows without refitting, whatever their
    pattern of missing entries; observed entries come back unchanged.

    :meth:`sample_imputations` draws several plausible completions of the
    same rows for multiple imputation.

    The hidden layers also see each value encoded over bins between its
    feature's quantiles (``module__n_bins``, 8 by default), which lets the
    network carve thresholds and skewed features as tree ensembles do. Once
    trained, the network's imputations are blended with those of one
    gradient-boosted tree model per column fitted on the network's
    completion of the other columns (``tree_weight``; numeric tables).
    Where rows repeat each other and the repeats are seen to share their
    values, a numeric gap also takes the value of its row's duplicates
    (``recall_duplicates``).

    In a table with categorical columns, a fifth of each one's observed
    entries (at most about 300) are withheld from training (as if missing);
    on those entries the network's logits are then rescaled and shifted
    toward the column's frequencies, to their least log-loss. A category
    the other columns predict keeps the network's guess; one they barely
    predict falls back towards its most frequent level, where the network,
    which learns its training rows' categories by heart, guessed worse than
    the mode. :meth:`sample_imputations` draws from these calibrated
    probabilities.

    The network grows with the table: ``hidden_layer_sizes="auto"`` gives
    three hidden layers of 12 units per feature, between 64 and 256. Training
    follows a budget in proportion to the table too: with
    ``max_epochs=None`` the network takes 200 optimizer steps (of
    ``batch_size`` rows) per feature, between 1,000 and 4,000, times
    ``sqrt(n_rows / 5000)`` on tables of more rows and times
    ``(1 - missing_rate) / 0.8`` on tables with more than 20%% of their
    entries missing (at least 0.375 of the steps; up to 5,000 rows, fading
    out by 20,000), within 10 to 500 epochs
    (short, wide tables stop sooner: at most
    ``(n_rows / n_features) ** 2 / 7`` epochs, but not under 100 epochs nor
    ``min(500, 25 * n_features)`` steps on that account), and its learning
    rate decays to zero along a cosine; tables that fit in one batch keep the
    learning rate and impute with an average of the weights over training
    instead (``averaging``), and train two independent networks side by side,
    each on its own loss, imputing with their mean (``module__n_members``;
    ``module__n_members=1`` trains one). Measured on the benchmark tables,
    this budget imputes better than early stopping; time grows with the
    number of features, as the square root of the rows beyond 5,000, and
    linearly in rows once every row is seen at least 10 times.
    ``early_stopping=True`` stops on the error of hidden entries of held-out
    rows instead.

    Parameters
    ----------
    missing_values : int, float, str, np.nan or None, default=np.nan
        The placeholder for the missing values. All occurrences of
        ``missing_values`` will be imputed. ``pd.NA`` in pandas nullable
        columns counts as ``np.nan``, and so does None: ``missing_values=None``
        imputes the None entries of an object array or DataFrame, and NaN
        entries too. A text placeholder (``"?"``) is replaced before the
        columns' types are read, so that a column of numbers holding it
        (``object`` dtype) is numbers, not categories.

        With ``missing_values=0``, ``X`` may be a scipy.sparse matrix (CSR,
        CSC or COO; numbers only): its stored entries are the observed
        values, explicitly stored zeros included, and the entries that are
        not stored are the missing ones (explicitly stored NaN too). Training
        then holds only the stored entries plus one dense batch in memory,
        for rating matrices with nearly all entries missing; the result equals
        that of the dense fit with NaN gaps and ``tree_weight=0`` (the
        network alone: sparse input gets no trees), to float32's rounding
        (with ``mixed_precision=False``; bfloat16 products round the two
        paths' last digits apart), except in a column observed at two
        values alone, which the dense fit bounds and draws as a flag and the
        sparse fit does not (a rating matrix's user who gave only 4s and 5s
        keeps the order of the imputations), and in draws of whole
        numbers, which only the dense fit rounds. ``transform`` returns the
        dense filled matrix, computed in blocks of rows: for very large matrices,
        transform row slices (``imputer.transform(X[i:j])``). Other sparse
        input raises a ``TypeError``, as scikit-learn's imputers do.
        ``scaling="robust"`` is not available for sparse input.

    add_indicator : bool, default=False
        Append a :class:`~sklearn.impute.MissingIndicator` of the features
        that had missing values in ``fit`` to the output.

    keep_empty_features : bool, default=False
        Keep features that are missing in every row of ``fit`` (their gaps
        imputed with 0, their values in later rows kept), as scikit-learn's
        imputers do; by default they are dropped. Unlike
        theirs, ``fit`` needs at least one feature with an observed value: an
        ``X`` missing everywhere raises a ``ValueError``.

    min_value : float, array-like of shape (n_features,), "observed" or None, \
            default=-np.inf
        Lower bound of the imputed values. ``"observed"``: each numeric
        feature's smallest value in ``fit``, so that imputations never go
        below what was seen (no negative counts or prices), as missForest's
        and KNNImputer's never do. By default, as in
        :class:`~sklearn.impute.IterativeImputer`, the network may
        extrapolate: a rating matrix's imputations keep their order beyond
        the ratings' range (the recommendation recipe), but a new user's
        vitamin column, observed up to 180, was imputed 242.6 (true 20) from
        an outlier in another column, and career totals came out negative.
        Integer columns of a DataFrame and two-valued flags are bounded by
        their observed range whatever this says. With :meth:`partial_fit`
        the range is that of every call so far.

    max_value : float, array-like of shape (n_features,), "observed" or None, \
            default=np.inf
        Upper bound of the imputed values. ``"observed"``: each numeric
        feature's largest value in ``fit`` (see ``min_value``). ``None``
        (for either bound) means no bound, as the default.

    hide_fraction : float in [0, 1), default=0.15
        Share of the observed entries hidden from the network in each
        training batch, on average; the network learns to predict them.
        Each row hides its own share, drawn uniformly between 0 and twice
        ``hide_fraction``, so that rows hiding nothing more than their gaps,
        as in ``transform``, are among those it learns from: with one share
        for every row, a wide table's network learned the share itself (at
        605 columns the spread of a row's share is tiny) and imputed rows
        hiding less than it, at ``transform``, worse than column means
        (MNIST pixels, trial 69). Half of each
        batch's rows hide another row's gaps instead (copy masking,
        after CACTI): on the development tables of
        ``benchmarks/bench_impute.py`` this cut the error by 7-8%% where
        gaps come in blocks of columns or as monotone dropout, and by 1.1%%
        with scattered gaps. A row whose copied pattern would hide nothing,
        or more than three quarters of what it observes (a rating matrix's
        rows), keeps the random hiding.

    averaging : {"auto", "ema"} or None, default="auto"
        Which weights impute once training ends. ``"ema"``: the learning
        rate stays at ``lr`` and the network imputes with an exponential
        moving average of its weights, whose time constant is a quarter of
        the optimizer steps of the training call (a skorch callback named
        ``weight_average``). ``None``: the learning rate decays to zero along
        a cosine (skorch's ``LRScheduler``, named ``lr_schedule``) and the
        last weights impute. ``"auto"``: ``"ema"`` when the rows of ``fit``
        fit in one batch (``n_samples <= batch_size``), None otherwise.
        Measured on the development tables of ``benchmarks/bench_impute.py``:
        on 400-row samples the average cut the error by about 2%%, at the
        same cost; with more batches it helped most tables but was up to 12%%
        worse on one (PageBlocks, 2,000 rows). With ``early_stopping=True``
        the cosine is used and the best weights impute, whatever
        ``averaging``. Decided in ``fit``; ``partial_fit`` keeps it. Each
        ``partial_fit`` call starts at ``lr`` again (a new cosine or a new
        average), so a call of one epoch after a full fit can undo part of
        the decay (3%% more error on wine): give it several epochs.

    tree_weight : float in [0, 1], default=0.3
        Weight of a second opinion from gradient-boosted trees in the
        imputed values. Once the network is trained, each column gets a
        :class:`~sklearn.ensemble.HistGradientBoostingRegressor` (15
        leaves per tree, 31 when fitted on more than 10,000 rows, at a
        learning rate of 0.2, on at most 50,000 training rows) that
        predicts the
        column's observed values from the other columns as the network
        completes them: one round of missForest started from the
        network's imputation. A gap then gets ``(1 - tree_weight)`` times
        the network's prediction plus ``tree_weight`` times its column's
        trees'. Trees carve what an MLP fits slowly: a column that is a
        sharp function of one or two others (a step, a sigmoid of a
        logarithm), or groups of rows that share exact values. Each
        column's trees read the 16 columns most correlated with it and stop
        early on a tenth of its rows. Chosen on the development tables of
        ``benchmarks/bench_impute.py`` (p = 0.2): 3%% less error than the
        network alone (0.3 was safer than 0.5 on 400-row samples of narrow
        tables); on the 12 report tables 3.2%% less at 20%% MCAR and MAR and
        2.3%% at 50%%, lower on every table, at about 1.1 times the fit time
        (1.1 on digits, 64 columns). 0: the network alone.
        The trees of a table with categorical columns read their one-hot
        codes (a missing category as missing), and each categorical column
        gets a :class:`~sklearn.ensemble.HistGradientBoostingClassifier`
        (the same settings) whose probabilities of the levels are blended
        with the network's the same way; a column with a level seen once
        leaves that level to the network, a column with more than 30 levels
        (or more than a tenth of its observed rows) is the network's alone,
        and so is one whose classifier ends worse than the levels'
        frequencies on the rows its early stopping held out. On the
        development tables of ``benchmarks/bench_mixed.py --calibration``
        the categories' accuracy rose in every run (by 0.5-2.7 points); on
        its report tables by 0.8 points on average (lower in 2 runs of 12,
        by 1.3 and 1.6 points). Sparse input is imputed by the network
        alone. ``partial_fit`` refits the
        trees on the rows of a call only if it holds at least as many rows
        as they were fitted on (at most 50,000); otherwise it keeps them.
        The trees also say which numeric columns nothing in the row
        predicts: where they explain less than 5%% of a column's variance
        on the rows their early stopping held out (R^2, from at least 50
        held-out rows off the column's most frequent value), the column's
        blended imputation keeps only R^2 / 0.05 of its departure from the
        column's mean (the mean at R^2 <= 0), and its draws spread as the
        column does. A new user's table with three such columns (Heating:
        income, age, rooms) had 5-13%% more error than their means there,
        and 0.958 / 0.933 of its former error overall at 20%% MCAR / MAR;
        development and report tables 0.9999, eight further new tables
        0.997 (worst 1.003).

    recall_duplicates : bool, default=True
        Fill a numeric gap from the rows that duplicate its row, where the
        table's duplicates are seen to share their values. Real tables
        repeat records (35%% of white wine's rows have an exact twin), and
        missForest's trees recall a twin's value where a network does not.
        A stored training row (at most 10,000 of them)
        duplicates a row when the two agree on every entry both observe and
        agreement on those values is rare: fewer than 0.01 rows of the
        table would agree by chance, counting each column's value
        frequencies as independent (two patients of the same age and sex
        are not duplicates). Each column is then checked honestly: its
        observed entries are hidden in turn and recalled from the other
        rows' duplicates. Where that error, on at least 30 entries, is at
        most a tenth of the imputation's own (``residual_std_`` squared),
        a gap with duplicates gets the inverse-variance blend of the
        imputation and the duplicates' mean value (``duplicate_weights_``;
        the duplicates' error counts one pseudo-entry at the imputation's,
        so no weight reaches 1), and its draws in
        :meth:`sample_imputations` shrink accordingly. A gap whose
        duplicates all differ from its row in that very entry cannot be
        told apart (those draws are then confidently wrong); tables whose
        rows mostly agree by chance (codes, price grids) get no weight at
        all, even where nearly every row repeats. Other columns and
        gaps without duplicates are untouched, and a table with no such
        column stores nothing. On the 12 report tables of
        ``benchmarks/bench_impute.py``, only white wine's columns qualify:
        its error falls by 11%% at 20%% MCAR and under MAR and by 3%% at
        50%% (0.92 of missForest's, against 0.95-1.04 without), and shuttle's
        by 0.2-0.4%%; the others are unchanged. Dense input only;
        categorical columns are the network's.

    recall_linear : bool, default=True
        Fill a numeric gap from a linear model of its row where the column
        is, measurably, a linear function of a few others: a charge that is
        a rate times minutes, a total of parts, a unit conversion. A network
        approximates such a column (a new user's charge, exactly 0.17 times
        the minutes, came back 4.5%% of its spread off, where
        IterativeImputer was exact). Each numeric column gets a
        least-squares model of the entries that carry it (at most 8, chosen
        among the 32 most correlated with it), fitted on the rows that
        observe them; its error is measured on 5 folds of those rows. Where
        that error is at most 1%% of the column's variance (R² of 0.99), a
        gap whose row observes the model's inputs gets the inverse-variance
        blend of the imputation (``residual_std_`` squared) and the model's
        value (``linear_weights_``); a gap whose row imputes some of them
        gets a model of the completed row if its error on such rows passes
        the same test. Draws in :meth:`sample_imputations` shrink
        accordingly. Other columns are untouched. Dense input only. A total
        of more than 8 parts is not recalled, and a model may keep an input
        that is itself a sum of others (x beside x + y): gaps whose row
        misses one of its inputs then get the completed row's model, or
        none. A relation broken in a few rows still qualifies, and those
        rows' draws are then too narrow.

    %(network_parameters)s

    %(training_parameters)s

    Attributes
    ----------
    trees_ : list of (sklearn.ensemble.HistGradientBoostingRegressor, \
            sklearn.ensemble.HistGradientBoostingClassifier or None) or None
        Each imputed column's trees: a regressor for a numeric column, a
        classifier for a categorical one (None for a column with fewer than
        two distinct observed values, or too few rows for its levels); None
        when ``tree_weight=0`` or the network imputes alone (sparse input,
        a table of one column).

    indicator_ : sklearn.impute.MissingIndicator or None
        Indicator for the missing values, when ``add_indicator=True``.

    linear_weights_ : ndarray of shape (n_imputed_features,) or None
        Weight of each feature's linear model in the gaps whose row observes
        the model's inputs (``recall_linear``); 0 for a feature that is not
        a linear function of a few others (and for categorical features).
        None when no feature qualified, with ``recall_linear=False``, and
        for sparse input. Set in ``fit``.

    duplicate_weights_ : ndarray of shape (n_imputed_features,) or None
        Weight of the duplicates' mean value in each feature's gaps whose
        row has duplicates (``recall_duplicates``); 0 for a feature whose
        duplicates did not qualify (and for categorical features). None
        when no feature qualified, with ``recall_duplicates=False``, and for
        sparse input: nothing is then stored or searched at ``transform``.
        Which features qualify can change with the mask and the seed on
        tables with few duplicates. Set in ``fit``: changing
        ``recall_duplicates`` afterwards takes effect at the next fit.

    residual_std_ : ndarray of shape (n_imputed_features,)
        Spread of the errors of imputation, per feature, in the original
        units; the noise of :meth:`sample_imputations`: the network's error
        on observed entries hidden after training, or, where larger, the
        error of the feature's trees on the rows their early stopping held
        out (the network may have learned its training entries; the trees'
        held-out rows are new to them). NaN for categorical features, whose
        draws come from the predicted category probabilities.

    %(network_attributes)s

    See Also
    --------
    sklearn.impute.IterativeImputer : Round-robin regression imputation.
    sklearn.impute.KNNImputer : Imputation from nearest neighbours.

    Notes
    -----
    ``module`` takes a class or instance following the imputer protocol of
    :mod:`skae._modules`: ``forward(x, visible)`` returns reconstructed rows.

    With ``max_epochs=None`` the network trains on a step budget in
    proportion to the table: the steps grow linearly with the number of
    features and, beyond 5,000 rows, with the square root of the rows;
    tables of up to 20,000 rows with more than 20%% of their entries missing
    take fewer (see the imputation guide).

    Examples
    --------
    >>> import numpy as np
    >>> from skae import AutoencoderImputer
    >>> X = np.array([[1.0, 2.0, np.nan], [3.0, 6.0, 9.0], [2.0, np.nan, 6.0]])
    >>> imp = AutoencoderImputer(max_epochs=5, random_state=0).fit(X)
    >>> imp.transform(X).shape
    (3, 3)
    """

    _criterion_class = MaskedColumnLoss
    _net_class = _MemberLossNet
    _sparse_unstored = "missing"

    #: What ``handle_unknown="missing"`` does to an unseen category (docstring).
    _unknown_category_effect = (
        "the imputer reads the row's other entries without it and returns it "
        "unchanged: only missing values are replaced")

    _unknown_warning = "read as missing values and kept in the output"

    #: What bfloat16 was measured to do here (docstring).
    _mixed_precision_note = """

        ``"auto"`` by default here, which is bfloat16 for tables of ten or
        more columns: on the nine development tables of
        ``benchmarks/bench_impute.py`` (p = 0.2, MCAR and MAR, one thread of
        an AMD EPYC with AVX512-BF16) bfloat16 left the error level (1.002 of
        float32's, geometric mean of 18 runs, none worse by more than 2.4%)
        at 0.64x the fit time (0.35-0.53x on tables of 16 or more columns);
        on the 12 report tables 0.998-1.003 of the error at 0.70-0.71x. On
        an Intel Xeon with AMX, tables of 7-9 columns trained 0.99-1.15x as
        long in bfloat16, so they stay in float32; 16 or more columns took
        0.68-0.77x."""

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        "missing_values": [numbers.Real, numbers.Integral, str, None],
        "add_indicator": ["boolean"],
        "keep_empty_features": ["boolean"],
        "min_value": [None, Interval(numbers.Real, None, None, closed="both"), "array-like",
                      StrOptions({"observed"})],
        "max_value": [None, Interval(numbers.Real, None, None, closed="both"), "array-like",
                      StrOptions({"observed"})],
        "hide_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
        "averaging": [StrOptions({"auto", "ema"}), None],
        "tree_weight": [Interval(numbers.Real, 0, 1, closed="both")],
        "recall_duplicates": ["boolean"],
        "recall_linear": ["boolean"],
        "hidden_layer_sizes": [StrOptions({"auto"}), "array-like"],
        "max_epochs": [None, Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        missing_values=np.nan,
        add_indicator=False,
        keep_empty_features=False,
        min_value=-np.inf,
        max_value=np.inf,
        hide_fraction=0.15,
        averaging="auto",
        tree_weight=0.3,
        recall_duplicates=True,
        recall_linear=True,
        module=None,
        hidden_layer_sizes="auto",
        activation="relu",
        dropout=0.0,
        scaling="auto",
        categorical_features="from_dtype",
        handle_unknown="missing",
        max_epochs=None,
        batch_size=512,
        lr=4e-3,
        optimizer="adam",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=50,
        tol=1e-4,
        random_state=None,
        device="auto",
        mixed_precision="auto",
        n_jobs=None,
        verbose=0,
        callbacks=None,
        **kwargs,
    ):
        store_params(self, locals())

    # ------------------------------------------------------------------
    # Validation and preprocessing
    # ------------------------------------------------------------------
    def _allows_nan(self) -> bool:
        # A text placeholder is NaN from the start of validation (_validate_input).
        return _is_nan(self.missing_values) or isinstance(self.missing_values, str)

    def _missing_category_is_a_level(self) -> bool:
        # A gap, whatever marks it: with missing_values=-1 a category's gaps
        # were encoded as an observed level "NaN" (trial 57: 137 of 194 gaps
        # came back NaN, accuracy 0.29 against 0.995 with NaN as the marker).
        return False

    def _validate_input(self, X, *, reset: bool):
        if isinstance(self.missing_values, str) and not sp.issparse(X):
            X = self._placeholder_as_nan(X)
        # Object columns of numbers first: pandas 3 keeps a column of whole
        # numbers with a gap as object, which the integer rule should see.
        X = self._numbers_from_objects(X, reset=reset)
        if reset:  # integer columns get whole numbers (dense DataFrames only)
            self._integer_columns_ = _integer_columns(X)
        if (sp.issparse(X) or is_sparse_frame(X)) and not _is_zero(self.missing_values):
            raise TypeError(
                "Sparse data was passed for X, but dense data is required for "
                f"missing_values={self.missing_values!r}. Use '.toarray()' to convert to "
                "a dense numpy array ('.sparse.to_dense()' for a DataFrame of sparse "
                "columns), or set missing_values=0: then the entries a sparse X does "
                "not store are the missing ones."
            )
        X = self._validate_converted(X, reset=reset)  # sparse: _validate_sparse below
        if sp.issparse(X) or self._allows_nan():
            return X
        if isinstance(X, pd.DataFrame):
            return X.mask(X.eq(self.missing_values))
        return np.where(X == self.missing_values, np.nan, X)

    def _placeholder_as_nan(self, X):
        """``X`` (a copy) with a text ``missing_values`` (``"?"``) as NaN, before validation.

        A column of numbers with such a placeholder is ``object``, which
        ``categorical_features="from_dtype"`` took for a category of
        hundreds of levels (trial 57): as NaN first, the column is numbers
        again. An ``X`` already holding NaN is refused, as with any marker
        other than NaN.
        """
        was_array = not isinstance(X, pd.DataFrame)
        if was_array:
            if isinstance(X, np.ndarray) and X.dtype.kind in "biuf" and X.ndim == 2:
                gaps = np.flatnonzero(np.isnan(X).any(axis=0)) if X.dtype.kind == "f" else []
                if len(gaps):
                    raise ValueError(_nan_message(int(gaps[0]), self))
                return X  # numbers: no text placeholder in them
            X = np.asarray(X, dtype=object)
            if X.ndim != 2:
                return X  # validation names the shape
            X = pd.DataFrame(X)
        gaps = X.isna().to_numpy().any(axis=0)
        if gaps.any():
            column = X.columns[np.flatnonzero(gaps)[0]]
            raise ValueError(_nan_message(column, self))
        X = X.mask(X.eq(self.missing_values))
        return X.to_numpy() if was_array else X

    def _validate_sparse(self, X, *, reset: bool) -> sp.csr_matrix:
        """Validate sparse ``X``: a CSR matrix holding only the observed entries."""
        if categorical_columns(X, self.categorical_features):
            raise ValueError(
                "categorical_features cannot be used with sparse input: a sparse X "
                "holds numbers only. Pass a dense array or a DataFrame for "
                "categorical columns."
            )
        X = validate_data(
            self,
            X,
            reset=reset,
            accept_sparse=["csr", "csc", "coo"],
            dtype=[np.float64, np.float32],
            ensure_all_finite="allow-nan",
            ensure_min_samples=1,
        )
        X = sp.csr_matrix(X)
        if not X.has_canonical_format:
            X = X.copy()
            X.sum_duplicates()
        stored = ~np.isnan(X.data)
        if not stored.all():  # explicitly stored NaN: missing too
            X = sp.csr_matrix(
                (X.data[stored], (entry_rows(X)[stored], X.indices[stored])), shape=X.shape
            )
        if reset:
            self.is_categorical_ = np.zeros(X.shape[1], dtype=bool)
        return X

    def _fit(self, X, *, reset: bool):
        if not reset:  # a later partial_fit chunk
            self._revise_rules(X)
        return super()._fit(X, reset=reset)

    def _fit_encoder(self, X):
        # Called once per fit, before the net is built (its callbacks read it).
        self._average_weights_ = not self.early_stopping and (self.averaging == "ema" or (
            self.averaging == "auto"
            and batches_per_epoch(X.shape[0], self.batch_size) <= AVERAGE_MAX_BATCHES))
        # Members of the default network, unless module__n_members sets them.
        self._n_members_ = 1
        if self.module in (None, DenoisingImputerMLP) and (
                "module__n_members" not in self._routed_params()):
            self._n_members_ = ensemble_members(X.shape[0], self.batch_size)
        n_missing = row_source(X).n_missing()
        self._observed_features_ = n_missing < X.shape[0]
        observed = self._observed_features_
        if not observed.any():
            raise ValueError(
                "Every feature of X is missing in every row; there is nothing to "
                "learn from (keep_empty_features=True too needs one feature with an "
                "observed value)."
            )
        layout = {"sequence_shape", "image_shape"} & {
            key.removeprefix("module__") for key in self._routed_params()}
        if layout and not observed.all():
            raise ValueError(
                f"Feature(s) {np.flatnonzero(~observed)[:10].tolist()} are missing in every "
                f"row. The module reads each row with module__{layout.pop()}; dropping "
                "empty features, as scikit-learn's imputers do, would break that layout. "
                "Fit on rows in which every feature is observed at least once."
            )
        if not observed.all() and not self.keep_empty_features:
            names = getattr(self, "feature_names_in_", None)
            empty = np.flatnonzero(~observed)
            listed = (names[empty[:10]] if names is not None else empty[:10]).tolist()
            more = f" and {len(empty) - 10} more" if len(empty) > 10 else ""
            # As scikit-learn's imputers say it (a new user's trial: the
            # column vanished from the output without a word).
            warnings.warn(
                f"Skipping features without any observed values: {listed}{more}. They are "
                "dropped from the output; keep_empty_features=True keeps them (as 0).",
                UserWarning,
                stacklevel=4,
            )
        super()._fit_encoder(select_columns(X, observed), self.is_categorical_[observed])
        # Integer columns: rounded imputations within the observed range.
        integer = getattr(self, "_integer_columns_", None)
        if integer is None or len(integer) != X.shape[1]:
            integer = np.zeros(X.shape[1], dtype=bool)
        self._integer_columns_ = integer
        self._fit_rules(select_columns(X, observed))
        self._set_bounds()
        # The trees and duplicates of an earlier fit (partial_fit keeps them;
        # see _fit_trees).
        self.trees_, self._tree_rows_ = None, 0
        self._duplicates_, self.duplicate_weights_, self._duplicate_rows_ = None, None, 0
        self._linear_, self.linear_weights_ = None, None
        self._marginal_stats_ = None  # counts, means, squared deviations (_fit_marginals)
        self._donors_, self._donor_rows_ = None, 0
        self._draw_calls_ = 0  # sample_imputations' calls (random_state=None)
        self.indicator_ = None
        if self.add_indicator:
            # The indicator only needs which features have gaps: one row says it.
            self.indicator_ = MissingIndicator(missing_values=1.0, error_on_new=False)
            self.indicator_.fit((n_missing > 0).astype(np.float64)[np.newaxis])

    def _limit(self, value, default, name):
        n_kept = int(self._observed_features_.sum())
        if value is None or isinstance(value, str):  # "observed": see _set_bounds
            return np.full(n_kept, default)
        try:
            limit = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} should be a number, an array of numbers of shape "
                f"({self.n_features_in_},), or 'observed' for every feature; got "
                f"{value!r}."
            ) from None
        if limit.ndim == 0:
            return np.full(n_kept, float(limit))
        if limit.shape != (self.n_features_in_,):
            raise ValueError(
                f"{name} should be a scalar or an array of shape "
                f"({self.n_features_in_},); got shape {limit.shape}."
            )
        return limit[self._observed_features_]

    def _fit_rules(self, kept):
        """What the first call's values say of each imputed column (see _set_bounds).

        - The observed range of each numeric column bounds its draws in
          sample_imputations (NaN for categories; see _bounds).
        - A column observed at one value in at least _CONSTANT_MIN_ROWS rows
          (``_constant_``): its gaps take that value. A value seen once or
          twice is no sign of a constant column: a rating matrix's user who
          rated two items 5 would be predicted 5 everywhere, with no order to
          rank items by.
        - Integer columns of two values (0/1 flags), and a dense column
          observed at two values alone in at least _CONSTANT_MIN_ROWS rows,
          whatever its two codes (0/1, 1/2): their two values
          (``_two_levels_``, NaN for other columns). A flag is imputed as its
          expected value between the two and drawn as a coin (a new user's
          draws of four 0/1 columns had covered 0.47-0.50 of their hidden
          values; a column coded 1/2 was imputed from 0.85 to 2.42, flags in
          an array from -0.22 to 1.43).
        - A dense column whose values are all recorded in a step (whole
          numbers, halves, tenths, fives...; ``_draw_steps_``, NaN for
          other columns, see _grid_step): its draws are rounded to it, its
          imputations are not (they are expected values, compared with
          scikit-learn's). Gaussian draws of a code of -1/0/1 left its ends:
          a new user's 90% ranges covered 0.34 and 0.31 of the hidden -1 and
          1 (0.99 of the 0s); a house's bathrooms, in halves from 1 to 4.5,
          were never drawn at a value a house has (2.37, 2.81).
        - A column of at least three values whose commonest value lies at an
          end of its range and holds at least _POINT_MASS_SHARE of its values
          (``_point_mass_``, NaN for other columns): zeros of an amount, a
          count or a viral load. Gaussian draws filled the empty stretch
          between the mass and the other values (a new user's viral load, 53%
          zeros and the rest from 5.6 to 13.4, was drawn anywhere between and
          the draws covered 0.54-0.62 of the hidden values); its draws come
          from donors instead (``_fit_donors``). So do those of a column of
          at least _INTERIOR_MODE_LEVELS values whose commonest value, inside
          the range, holds that share (a heap: 12 years of schooling held 44%
          of a new user's values and 22% of the draws).
        - A column of at least three values without a point mass whose
          skewness is at least _DONOR_SKEW in size (``_skewed_``): its draws
          come from donors too.

        Later ``partial_fit`` calls revise them (``_revise_rules``).
        """
        n_kept = kept.shape[1]
        integer = self._integer_columns_[self._observed_features_]
        self._observed_range_ = np.full((2, n_kept), np.nan)
        self._two_levels_ = np.full((n_kept, 2), np.nan)
        self._draw_steps_ = np.full(n_kept, np.nan)
        self._constant_ = np.zeros(n_kept, dtype=bool)
        self._point_mass_ = np.full(n_kept, np.nan)
        self._skewed_ = np.zeros(n_kept, dtype=bool)
        # Values seen and values at the mass, per column, over every call.
        self._point_mass_counts_ = np.zeros((2, n_kept))
        for j, values in self._numeric_values(kept):
            if not len(values):
                continue
            self._observed_range_[:, j] = low, high = values.min(), values.max()
            two = low < high and np.isin(values, (low, high)).all()
            if two and integer[j]:
                self._two_levels_[j] = (low, high)
            if len(values) < _CONSTANT_MIN_ROWS:
                continue
            self._constant_[j] = low == high
            if sp.issparse(kept):
                continue
            if two:
                self._two_levels_[j] = (low, high)
                continue
            if low < high:
                self._draw_steps_[j] = _grid_step(values)
            levels, counts = np.unique(values, return_counts=True)
            top = counts.argmax()
            enough = _INTERIOR_MODE_LEVELS if low < levels[top] < high else 3
            if len(levels) >= enough and counts[top] >= _POINT_MASS_SHARE * len(values):
                self._point_mass_[j] = levels[top]
                self._point_mass_counts_[:, j] = len(values), counts[top]
            elif len(levels) > 2 and abs(scipy.stats.skew(values)) >= _DONOR_SKEW:
                self._skewed_[j] = True

    def _numeric_values(self, kept):
        """Each numeric column's index among the imputed ones and its present values."""
        columns = kept.tocsc() if sp.issparse(kept) else None
        for j in self.encoder_.numeric:
            if columns is None:
                values = _numeric_column(kept, j)
            else:
                values = columns.data[columns.indptr[j]:columns.indptr[j + 1]]
            yield j, values[~np.isnan(values)]

    def _revise_rules(self, X):
        """Revise the first call's rules with a later ``partial_fit`` chunk.

        The observed range widens; a flag that shows a third value, a
        constant column a second (a flag then), and whole-number columns
        a fraction, lose their rule. Rules are never made from a later
        chunk alone: a column the first call saw in too few rows keeps none.
        A point mass holding less than _POINT_MASS_SHARE of the values of
        every call so far is dropped, and so is one that a chunk moves off an
        end of the range while showing fewer than _INTERIOR_MODE_LEVELS
        values (inside the range, it is a heap of at least that many). A
        new user's count from 0 to 5, whose first chunk held 0 and 1, stayed
        a flag, and a first chunk of all-zero flags made a constant column.
        """
        if getattr(self, "_constant_", None) is None:  # saved before it
            return
        kept = select_columns(X, self._observed_features_)
        integer = self._integer_columns_[self._observed_features_]
        mass = getattr(self, "_point_mass_", None)  # None: saved before it
        if getattr(self, "_draw_steps_", None) is None:  # saved before any step rule
            self._draw_steps_ = np.full(kept.shape[1], np.nan)
        for j, values in self._numeric_values(kept):
            if not len(values):
                continue
            low, high = values.min(), values.max()
            whole = np.array_equal(values, np.round(values))
            if integer[j] and not whole:  # a float column of a DataFrame
                self._integer_columns_[np.flatnonzero(self._observed_features_)[j]] = False
                integer[j] = False
            levels, steps = self._two_levels_[j], self._draw_steps_
            if self._constant_[j] and (low < self._observed_range_[0, j]
                                       or high > self._observed_range_[1, j]):
                self._constant_[j] = False
                seen = np.unique(np.append(values, self._observed_range_[0, j]))
                if len(seen) == 2 and not sp.issparse(kept):
                    levels[:], steps[j] = seen, np.nan
                elif not sp.issparse(kept):
                    steps[j] = _grid_step(seen)
            elif not np.isnan(levels[0]) and not np.isin(values, levels).all():
                if not sp.issparse(kept):
                    steps[j] = _grid_step(np.concatenate([values, levels]))
                levels[:] = np.nan
            elif not np.isnan(steps[j]):
                # The grid of both: the step's multiples and the new values.
                steps[j] = _grid_step(np.append(values, steps[j]))
            self._observed_range_[0, j] = np.fmin(self._observed_range_[0, j], low)
            self._observed_range_[1, j] = np.fmax(self._observed_range_[1, j], high)
            if mass is not None and not np.isnan(mass[j]):
                counts = self._point_mass_counts_[:, j]
                counts += len(values), np.sum(values == mass[j])
                inside = mass[j] not in self._observed_range_[:, j]
                if ((inside and len(np.unique(np.append(values, mass[j])))
                     < _INTERIOR_MODE_LEVELS)
                        or counts[1] < _POINT_MASS_SHARE * counts[0]):
                    mass[j] = np.nan
        self._set_bounds()

    def _set_bounds(self):
        """``_min_value_`` and ``_max_value_``: the user's bounds and the rules' (_fit_rules)."""
        self._min_value_, self._max_value_ = (
            self._limit(self.min_value, -np.inf, "min_value"),
            self._limit(self.max_value, np.inf, "max_value"),
        )
        if np.any(self._min_value_ > self._max_value_):
            raise ValueError("min_value must be at most max_value for every feature.")
        low, high = self._observed_range_
        # Integer columns and flags stay within what fit saw.
        within = self._integer_columns_[self._observed_features_] | ~np.isnan(
            self._two_levels_[:, 0])
        within &= ~np.isnan(low)
        self._min_value_[within] = np.fmax(self._min_value_[within], low[within])
        self._max_value_[within] = np.fmin(self._max_value_[within], high[within])
        constant = self._constant_ & (self._min_value_ <= low) & (low <= self._max_value_)
        self._min_value_[constant] = self._max_value_[constant] = low[constant]
        numeric = self.encoder_.numeric
        for limit, pick, side in [(self.min_value, np.fmax, 0), (self.max_value, np.fmin, 1)]:
            if isinstance(limit, str):  # "observed"
                bounds = self._min_value_ if side == 0 else self._max_value_
                bounds[numeric] = pick(bounds[numeric], self._observed_range_[side, numeric])
        crossed = np.flatnonzero(self._min_value_ > self._max_value_)
        if len(crossed) and (isinstance(self.min_value, str) or isinstance(self.max_value, str)):
            # np.clip would give every gap the upper bound, outside what fit saw.
            raise ValueError(
                f"min_value={self.min_value!r} and max_value={self.max_value!r} cross for "
                f"feature(s) {crossed[:10].tolist()} (positions among the imputed "
                "features): the range observed in fit lies outside the bound given."
            )

    def _training_epochs(self, X) -> int:
        if self.max_epochs is not None:
            return self.max_epochs
        # Called before the encoder is fitted: every input feature counts.
        return training_epochs(
            X.shape[0], self.n_features_in_, self.batch_size, _missing_rate(X))

    _early_stopping_off_doc = (
        "When False (the default),\n        training runs its whole step budget "
        "(``max_epochs``): ``n_iter_no_change``\n        and ``tol`` then play no part.")

    def _default_callbacks(self):
        callbacks = super()._default_callbacks()
        if self.early_stopping:
            return [*callbacks, ("lr_schedule", _CosineSchedule())]
        # A fixed budget runs to its end: no stop on a training-loss plateau.
        callbacks = [(name, cb) for name, cb in callbacks if name != "early_stopping"]
        if getattr(self, "_average_weights_", False):
            return [*callbacks, ("weight_average", _WeightAverage())]
        return [*callbacks, ("lr_schedule", _CosineSchedule())]

    def _hidden_sizes(self) -> tuple[int, ...]:
        if isinstance(self.hidden_layer_sizes, str):  # "auto"
            return hidden_sizes(int(self._observed_features_.sum()))
        return super()._hidden_sizes()

    def _module_arguments(self):
        arguments = super()._module_arguments()
        if getattr(self, "_n_members_", 1) > 1:
            arguments["n_members"] = self._n_members_
        return arguments

    def _check_layer_sizes(self):
        if not isinstance(self.hidden_layer_sizes, str):  # "auto" is checked by its constraint
            super()._check_layer_sizes()

    _module_family = (ImputerModule, AutoencoderModule)

    def _default_module(self):
        return DenoisingImputerMLP

    def _batches(self, training: bool):
        seed = None if training else (self._seed_ * 7919 + 0x1A7E) % (2**31)
        return _HidingBatches(self.hide_fraction, self.encoder_.expand, seed=seed,
                              copy_share=_COPY_SHARE)

    def _init_module_from_data(self, module, dataset):
        """Let the module see scaled rows and which of their entries are observed.

        At most ``_INIT_ENTRIES`` entries' worth of rows, drawn reproducibly;
        dense and sparse input give the module the same rows.
        """
        n_rows = len(dataset)
        max_rows = max(1, _INIT_ENTRIES // max(1, self.encoder_.width))
        index = np.arange(n_rows)
        if n_rows > max_rows:
            rng = np.random.default_rng((self._seed_, 0xB125))
            index = np.sort(rng.choice(n_rows, max_rows, replace=False))
        x, observed = dataset.rows(torch.as_tensor(index, device=dataset.device))
        module.init_from_data(x, self.encoder_.expand(observed))

    def _scaled_with_mask(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Encoded rows of the imputed features (gaps at 0) and the observed mask."""
        S, observed = DenseRows(X).training_data(
            self.encoder_, self._observed_features_, self.handle_unknown)
        # Arrays, also under scikit-learn's global pandas output.
        return np.asarray(S), np.asarray(observed)

    def _training_data(self, X):
        source = row_source(X)
        encoded = source.training_data(
            self.encoder_, self._observed_features_, self.handle_unknown)
        return source, encoded, self._withhold_categories(encoded)

    def _withhold_categories(self, encoded) -> np.ndarray | None:
        """Withhold a share of the observed categories from training, for their calibration.

        ``_CALIBRATION_SHARE`` of each categorical column's observed entries,
        but about ``_CALIBRATION_ENTRIES`` at most, drawn reproducibly, are
        marked missing in ``encoded``'s mask (in place): the network neither
        reads nor learns them, and ``_calibrate_categories`` scores its
        probabilities on them. Kept as input, they leaked: the network
        recalled a training row's category from the rest of the row (on a
        new user's survey, its guesses of a withheld gender were right 60%
        of the time, of a real gap 49%, and the calibration trusted it).
        Returns the mask of the withheld entries; None for a table without
        categories.
        """
        encoder = self.encoder_
        if not encoder.mixed or not encoder.categorical:
            return None
        _, observed = encoded
        rng = np.random.default_rng((self._seed_, 0xCA1B))
        withheld = np.zeros_like(observed)
        columns = list(encoder.categorical)
        # Enough entries for two parameters, and no more: each one withheld
        # is one the network does not learn from.
        n_observed = observed[:, columns].sum(axis=0)
        share = np.minimum(_CALIBRATION_SHARE, _CALIBRATION_ENTRIES / np.maximum(n_observed, 1))
        draw = rng.random((len(observed), len(columns))) < share
        withheld[:, columns] = observed[:, columns] & draw
        observed &= ~withheld
        return withheld

    def _dataset(self, data):
        source, encoded, _ = data
        return source.dataset(encoded, self._to_tensor)

    def _calibrate_categories(self, data):
        """Each categorical column's logits rescaled and shifted to its frequencies.

        The network learns the categories of the rows it trains on by heart:
        on a column the other columns barely predict, its largest probability
        averaged 0.90 where it was right 52% of the time, and its guesses
        trailed the column's mode (a new user's trial). On the entries
        ``_withhold_categories`` kept from training, each column's logits
        ``z`` become ``a * z + c * log(frequencies)``, with ``a`` and ``c``
        of least log-loss: ``a = 1, c = 0`` is the network as trained, ``a =
        0, c = 1`` the column's frequencies, whose guess is the mode. Sets
        ``_category_scale_`` (rows ``a`` and ``c * log(frequencies)`` over
        the encoded width; 1 and 0 for numbers and for columns with fewer
        than ``_CALIBRATION_MIN_ENTRIES`` withheld entries), or None.
        """
        self._category_scale_ = None
        _, encoded, withheld = data
        if withheld is None or not withheld.any():
            return
        S, observed = encoded  # without the withheld entries
        rows = np.flatnonzero(withheld.any(axis=1))
        if len(rows) > _CALIBRATION_ROWS:
            rng = np.random.default_rng((self._seed_, 0xCA1C))
            rows = np.sort(rng.choice(rows, _CALIBRATION_ROWS, replace=False))
        predicted = self._predict_scaled(S[rows], observed[rows]).astype(np.float64)
        encoder = self.encoder_
        scale = np.stack([np.ones(encoder.width), np.zeros(encoder.width)])
        for j in encoder.categorical:
            part, entries = encoder.slices[j], withheld[rows, j]
            if entries.sum() < _CALIBRATION_MIN_ENTRIES:
                continue
            seen = observed[:, j] | withheld[:, j]
            counts = S[seen, part].sum(axis=0) + 0.5  # every level a chance
            log_prior = np.log(counts / counts.sum())
            a, c = _fit_calibration(
                predicted[entries, part], S[rows[entries], part].argmax(axis=1), log_prior)
            scale[0, part], scale[1, part] = a, c * log_prior
        self._category_scale_ = scale.astype(np.float32)

    def _after_training(self, X, data):
        # The rows are encoded again below (spread, trees, lines, donors):
        # training's encoding has warned of unseen categories already (a new
        # user's partial_fit call warned 5 times, trial 57).
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".* has categories not seen in fit",
                                    category=UserWarning)
            self._fit_after_training(X, data)

    def _fit_after_training(self, X, data):
        """What the imputer learns once the network is trained (``_after_training``)."""
        self._calibrate_categories(data)
        self._fit_marginals(data)
        # Residual spread of numbers on hidden entries, per feature; 10,000
        # rows are plenty for a standard deviation.
        source = row_source(X).rows(self._row_sample(X.shape[0], 10_000, salt=0x1A7E))
        rng = np.random.default_rng((self._seed_, 0x1A7E))
        generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
        errors_of = self._scoring_criterion()
        totals, counts = 0.0, 0
        for rows in source.blocks(self._chunk_rows(X.shape[0])):
            S, observed = self._scaled_with_mask(rows)
            hidden = observed & (rng.random(observed.shape) < max(self.hide_fraction, 0.1))
            # Real gaps are other rows' patterns: every row that can hides one
            # (a new user's block gaps drew 90% ranges covering 0.56).
            visible = _copy_patterns(
                torch.from_numpy(observed.astype(np.float32)),
                torch.from_numpy((observed & ~hidden).astype(np.float32)), 1.0, generator)
            hidden = observed & (visible.numpy() == 0)
            predicted = self._predict_scaled(S, observed & ~hidden)
            with torch.inference_mode():
                S_t = torch.from_numpy(S)
                errors = errors_of(torch.from_numpy(predicted), (S_t, None, None)).numpy()
            totals = totals + np.where(hidden, errors, 0.0).sum(axis=0)
            counts = counts + hidden.sum(axis=0)
        spread = np.sqrt(totals / np.maximum(counts, 1))
        spread = np.where(counts > 0, spread, 1.0)
        self._fit_trees(X)
        # Those entries were hidden from rows the network trained on, and it
        # may have learned their values: on small tables its error there was
        # down to a quarter of its error on real gaps, and a new user's
        # draws covered 59-62% of hidden values with 90% intervals. The
        # trees' error on the rows their early stopping held out is honest:
        # a column's spread is the larger of the two.
        for j, trees in enumerate(getattr(self, "trees_", None) or ()):
            held_out = _held_out_error(trees)
            if held_out is not None:
                spread[j] = max(spread[j], np.sqrt(held_out))  # one entry per column
        numeric = self.encoder_.numeric
        self._noise_scaled_ = spread[numeric]
        std = np.full(len(spread), np.nan)
        if numeric:
            scale = getattr(self.scaler_, "scale_", None)  # None for scaling=None
            std[numeric] = spread[numeric] * (1.0 if scale is None else scale)
        self.residual_std_ = std
        self._fit_linear(X, spread)
        self._fit_duplicates(X, spread)
        self._fit_donors(X)

    def _fit_marginals(self, data):
        """Each column's mean and spread (numbers) and log-frequencies (categories).

        A row with nothing observed is imputed with them, as
        :class:`~sklearn.impute.SimpleImputer` would (``_impute_dense``):
        the network, which never trains on an empty row, put it 0.1-0.4
        standard deviations off each mean (four report tables), and 5 of a
        new user's 11 categories off their modes (trial 56: smoking "until
        current pregnancy" where "never" is most frequent). Counts, means and
        squared deviations in scaled units over the encoded width
        (``_marginal_stats_``; read by :meth:`_marginals`). On at most ``_MARGINAL_ROWS`` of
        the call's rows; entries withheld for calibration are counted. A
        ``partial_fit`` call adds its rows to the earlier calls' (trial 57:
        the last chunk's mean and mode alone).
        """
        _, (S, observed), withheld = data
        if sp.issparse(S):  # the stored entries' scaled values
            counts = np.bincount(S.indices, minlength=S.shape[1]).astype(np.float64)
            sums = np.bincount(S.indices, weights=observed, minlength=S.shape[1])
            means = sums / np.maximum(counts, 1)
            squares = np.bincount(S.indices, weights=(observed - means[S.indices]) ** 2,
                                  minlength=S.shape[1])
        else:
            rows = self._row_sample(len(S), _MARGINAL_ROWS, salt=0x3A26)
            n_rows = len(S)
            S, observed = np.asarray(S)[rows], np.asarray(observed)[rows]
            if withheld is not None:
                observed = observed | withheld[rows]
            seen = self._expanded(observed)
            counts = seen.sum(axis=0).astype(np.float64)
            means = np.where(seen, S, 0).sum(axis=0, dtype=np.float64) / np.maximum(counts, 1)
            squares = (np.where(seen, S - means, 0.0) ** 2).sum(axis=0)
            factor = n_rows / len(S)  # the sample stands for the call's rows
            counts, squares = counts * factor, squares * factor
        previous = getattr(self, "_marginal_stats_", None)
        if previous is not None:  # Chan et al.'s pairwise update
            n0, mean0, squares0 = previous
            total = np.maximum(n0 + counts, 1)
            delta = means - mean0
            means = mean0 + delta * counts / total
            squares = squares0 + squares + delta**2 * n0 * counts / total
            counts = n0 + counts
        self._marginal_stats_ = (counts, means, squares)

    def _marginals(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The encoded row of nothing observed, and the numeric columns' spreads (scaled).

        From ``_marginal_stats_``: each number's mean, each category's
        log-frequencies (its most frequent level first by logit). None for a
        model saved before them.
        """
        stats = getattr(self, "_marginal_stats_", None)
        if stats is None:
            return None
        counts, means, squares = stats
        encoder = self.encoder_
        marginal = means.copy()
        for j in encoder.categorical if encoder.mixed else ():
            part = encoder.slices[j]
            level_counts = means[part] * counts[part]
            marginal[part] = np.log(np.maximum(level_counts, 0.5)
                                    / max(level_counts.sum(), 1.0))
        positions = self._tree_positions()[encoder.numeric]
        return marginal, np.sqrt(np.maximum(squares[positions], 0.0)
                                 / np.maximum(counts[positions], 1))

    def _fit_donors(self, X):
        """Donors for the draws of the columns with a point mass or a long tail (predictive mean matching).

        Each such column's observed entries of at most _DONOR_ROWS rows are
        hidden, half at a time, and predicted as gaps are (the network, then
        the trees); a draw is the observed value of one of the _DONORS donors
        whose predictions are nearest the gap's (van Buuren's predictive mean
        matching, mice's default), so it is a value the column takes: the
        mass itself or one beyond it, never the stretch between. The donors'
        own entries trained the network, so their predictions are nearer
        their values than a real gap's are: the gap's prediction is moved by
        Gaussian noise of _DONOR_SHIFT times the difference in spread (the
        square root of the column's ``residual_std_`` squared less the
        donors' squared error) before it is matched. The nearest donors are
        the nearest in distance, not in rank: a prediction between a code's
        levels, where no donor lies, takes the nearer level's donors.
        """
        # A later partial_fit call's donors join the earlier calls'
        # (_merge_donors), but for masses that call's chunk dropped.
        mass = getattr(self, "_point_mass_", None)  # None: saved before it
        wanted = (np.zeros(0, dtype=bool) if mass is None
                  else ~np.isnan(mass) | getattr(self, "_skewed_", False))
        previous = {j: donors for j, donors in (getattr(self, "_donors_", None) or {}).items()
                    if wanted[j]}
        seen = getattr(self, "_donor_rows_", 0)
        self._donors_, self._donor_rows_ = previous or None, seen + X.shape[0]
        if mass is None or self.residual_std_ is None or sp.issparse(X):
            return
        columns = np.flatnonzero(wanted)
        if not len(columns):
            return
        # Point masses are found in dense data alone (_fit_rules).
        rows = row_source(X).rows(self._row_sample(X.shape[0], _DONOR_ROWS, salt=0xD0)).X
        rng = np.random.default_rng((self._seed_, 0xD0))
        S, observed = self._scaled_with_mask(rows)
        kept = select_columns(rows, self._observed_features_)
        at = {j: i for i, j in enumerate(self.encoder_.numeric)}
        first = rng.random((len(S), len(columns))) < 0.5
        expected = np.full((len(S), len(columns)), np.nan)
        for hide in (first, ~first):
            hidden = np.zeros_like(observed)
            hidden[:, columns] = observed[:, columns] & hide
            visible = observed & ~hidden
            predicted = self._predict_scaled(S, visible).astype(np.float64)
            if getattr(self, "trees_", None) is not None:
                predicted = self._blend_trees(S, visible, predicted)
            numbers = self.encoder_.numbers(predicted)
            for i, j in enumerate(columns):
                expected[hide[:, i], i] = numbers[hide[:, i], at[j]]
        donors = {}
        for i, j in enumerate(columns):
            values = _numeric_column(kept, j)
            present = observed[:, j]
            if present.sum() < _DONOR_MIN:
                continue
            donors[int(j)] = expected[present, i], values[present]
        if previous:
            donors = _merge_donors(previous, seen, donors, X.shape[0],
                                   np.random.default_rng((self._seed_, 0xD1, seen)))
        self._donors_ = {}
        for j, (guesses, values, *_) in donors.items():
            order = np.argsort(guesses, kind="stable")
            error = np.mean((guesses - values) ** 2)
            shift = np.sqrt(max(0.0, self.residual_std_[j] ** 2 - error))
            self._donors_[j] = (guesses[order], values[order], float(shift))
        self._donors_ = self._donors_ or None

    def _donor_draws(self, predicted, recalled, rng, empty) -> dict:
        """Draws of the columns with donors (``_fit_donors``): NaN where duplicates recall.

        A row with nothing observed (``empty``) draws any donor's value: the
        column's own distribution.
        """
        donors = getattr(self, "_donors_", None)  # None: saved before it
        if not donors:
            return {}
        numbers = self.encoder_.numbers(predicted)
        at = {j: i for i, j in enumerate(self.encoder_.numeric)}
        draws = {}
        for j, (expected, values, shift) in donors.items():
            target = numbers[:, at[j]] + _DONOR_SHIFT * shift * rng.normal(size=len(numbers))
            # The _DONORS nearest among the _DONORS on either side of the
            # target (sorted): the nearest on both sides where donors are
            # dense, one side's where the target lies in a stretch without
            # donors (between a code's levels, say).
            window = np.searchsorted(expected, target)[:, None] + np.arange(-_DONORS, _DONORS)
            window = np.clip(window, 0, len(values) - 1)
            distance = np.abs(expected[window] - target[:, None])
            nearest = np.take_along_axis(
                window, np.argsort(distance, axis=1, kind="stable")[:, :_DONORS], axis=1)
            draw = values[nearest[np.arange(len(target)), rng.integers(0, _DONORS, len(target))]]
            if empty.any():
                draw[empty] = values[rng.integers(0, len(values), int(empty.sum()))]
            if recalled is not None:
                draw = np.where(recalled[:, j] > 0, np.nan, draw)
            draws[j] = draw
        return draws

    def _fit_trees(self, X):
        """One gradient-boosted tree model per numeric column, on the network's completion.

        Column ``j``'s model predicts its observed values from the other
        columns as the network completes them (observed entries as they
        are, gaps filled; a categorical column as its one-hot code, NaN in a
        gap): one round of missForest, started from the network's
        imputation, with
        :class:`~sklearn.ensemble.HistGradientBoostingRegressor` stopping
        early on a tenth of its rows (so that a column the others do not
        predict gets few trees). ``_impute_dense`` blends its predictions
        into the network's (``tree_weight``). Categorical columns get none
        (None in ``trees_``), nor do tables held sparsely.
        """
        n_rows = min(X.shape[0], _TREE_ROWS)
        if getattr(self, "trees_", None) is not None and n_rows < self._tree_rows_:
            # A partial_fit on fewer rows than the trees saw keeps them: trees
            # refitted on a call of 50 rows made a table's error 14% worse.
            return
        self.trees_, self._tree_rows_ = None, 0
        self._tree_weight_ = float(self.tree_weight)
        if not self._tree_weight_ or sp.issparse(X):
            return
        S, observed = self._scaled_with_mask(_safe_indexing(X, self._tree_sample(X)))
        if observed.shape[1] < 2:  # no other column to read
            return
        predicted = self._predict_scaled(S, observed)
        positions = self._tree_positions()
        rng = np.random.default_rng((self._seed_, 0x7EE5))
        # Correlations need numbers in every gap (the categories' probabilities).
        inputs = _tree_inputs(self._completed(S, observed, predicted), _TREE_FEATURES,
                              self._column_slices())
        completed = self._completed(S, observed, predicted, category_gaps=np.nan)
        trees = [None] * observed.shape[1]
        shrink = np.ones(observed.shape[1])
        params = dict(_TREE_PARAMS)
        if n_rows > _LARGE_TREE_ROWS:
            params["max_leaf_nodes"] = _LARGE_TREE_LEAVES
        with openmp_threads(_TREE_THREADS):
            for j in self.encoder_.numeric:
                rows, target = observed[:, j], S[:, positions[j]]
                if rows.sum() >= _TREE_MIN_ROWS and np.ptp(target[rows]) > 0:
                    model = HistGradientBoostingRegressor(
                        **params, random_state=int(rng.integers(2**31)))
                    features = completed[np.ix_(rows, inputs[j])]
                    # A column with no value in these rows (a category missing
                    # from a whole partial_fit chunk) fails scikit-learn's
                    # binning; as a constant it is never split on.
                    features[:, np.isnan(features).all(axis=0)] = 0.0
                    trees[j] = model.fit(features, target[rows])
                    shrink[j] = _toward_mean(trees[j], target[rows])
            for j in self.encoder_.categorical:
                part = self.encoder_.slices[j]
                rows = np.flatnonzero(observed[:, j])
                level = S[rows, part].argmax(axis=1)
                # The early stopping's stratified split needs two rows of each
                # level, and a held-out part with a row of each: a level seen
                # once is left to the network, and so is a column of more
                # levels than a tenth of its rows.
                kept = np.bincount(level)[level] >= 2
                rows, level = rows[kept], level[kept]
                n_levels = len(np.unique(level))
                if (len(rows) >= _TREE_MIN_ROWS
                        and 2 <= n_levels <= min(_TREE_MAX_LEVELS, int(0.1 * len(rows)))):
                    model = HistGradientBoostingClassifier(
                        **params, random_state=int(rng.integers(2**31)))
                    features = completed[np.ix_(rows, inputs[j])]
                    features[:, np.isnan(features).all(axis=0)] = 0.0
                    model.fit(features, level)
                    # Dropped if it diverged: at 40-100 levels its loss on the
                    # rows its early stopping held out grew hundreds of times
                    # (early stopping keeps those iterations) and a new user's
                    # accuracy fell from 0.26 to 0.05 (trial 55). Overconfident
                    # but useful classifiers end somewhat above the levels'
                    # frequencies' loss, and the blend tempers them.
                    scores = model.validation_score_  # minus the log-loss
                    if np.isfinite(scores[-1]) and scores[-1] >= _DIVERGED_LOSS * scores[0]:
                        trees[j] = model
        self.trees_, self._tree_rows_ = trees, n_rows
        self._tree_inputs_ = inputs
        self._tree_shrink_ = shrink

    def _tree_sample(self, X, rows=None):
        """The training rows the trees see (at most ``_TREE_ROWS``), or at most ``rows``."""
        return self._row_sample(X.shape[0], _TREE_ROWS if rows is None else rows, salt=0x7EE5)

    def _fit_linear(self, X, spread):
        """Which numeric columns are linear functions of a few others, recalled as such.

        A column that is a rate times another (a phone bill's charge and its
        minutes) or a sum of others is one that IterativeImputer recovers
        exactly and a network only approximately: 6%% of the column's spread
        on a new user's twin columns, where trees' steps added their own
        error (trial 54). On the trees' sample of the training rows, each
        numeric column gets a least-squares model of its observed values
        from the ``_LINEAR_FEATURES`` entries most correlated with it, as
        the network and the trees complete the row. The entries that carry
        it (each adding at least ``_LINEAR_MIN_SHARE`` of the column's
        spread, ``_LINEAR_MAX_INPUTS`` at most) are kept, and the model is
        fitted again on the rows that observe all of them (imputed inputs
        would bias it), its error measured on ``_LINEAR_FOLDS`` folds of
        those rows (nothing it predicts was fitted on). Where that error is
        at most ``_LINEAR_ERROR_SHARE`` of the column's variance, a gap
        whose row observes the model's inputs gets the inverse-variance
        blend of the imputation (``spread`` squared) and the model's value
        (``linear_weights_``), and its draws shrink accordingly; other gaps
        and columns are left alone. Refitted with the trees (``partial_fit``).
        """
        n_rows = min(X.shape[0], _TREE_ROWS)
        if getattr(self, "_linear_", None) is not None and n_rows < self._linear_rows_:
            return  # a partial_fit on fewer rows keeps them, as it keeps the trees
        self._linear_, self.linear_weights_, self._linear_rows_ = None, None, n_rows
        encoder = self.encoder_
        if not self.recall_linear or sp.issparse(X) or not encoder.numeric:
            return
        S, observed = self._scaled_with_mask(_safe_indexing(X, self._tree_sample(X)))
        if observed.shape[1] < 2:
            return
        predicted = self._predict_scaled(S, observed).astype(np.float64)
        if self.trees_ is not None:
            predicted = self._blend_trees(S, observed, predicted, toward_mean=False)
        completed = self._completed(S, observed, predicted)
        seen = self._expanded(observed)
        inputs = _tree_inputs(completed, _LINEAR_FEATURES, self._column_slices())
        positions = self._tree_positions()
        folds = KFold(_LINEAR_FOLDS, shuffle=True, random_state=self._seed_ % (2**31))
        models, weights = [None] * observed.shape[1], np.zeros(observed.shape[1])
        for j in encoder.numeric:
            at = positions[j]
            rows = np.flatnonzero(observed[:, j])
            whole = S[rows, at].astype(np.float64)
            # In float64: the float32 variance of a constant column's values
            # came out 3.6e-15, and the shares below divided 0 by 0.
            if len(rows) < _LINEAR_MIN_ROWS or not np.std(whole) > 0:
                continue
            every = completed[np.ix_(rows, inputs[j])]
            first = LinearRegression().fit(every, whole)
            share = np.abs(first.coef_) * completed[:, inputs[j]].std(axis=0) / np.std(whole)
            carry = np.argsort(-share, kind="stable")[:_LINEAR_MAX_INPUTS]
            used = np.sort(inputs[j][carry[share[carry] >= _LINEAR_MIN_SHARE]])
            complete = seen[np.ix_(rows, used)].all(axis=1)
            if not len(used) or complete.sum() < _LINEAR_MIN_ROWS:
                continue
            # Imputed inputs blur which entries carry the column: on the rows
            # that observe them, those that carry nothing are dropped (a
            # total of two parts kept two noise columns: fewer of its gaps
            # had every input observed).
            features, target = completed[np.ix_(rows[complete], used)], whole[complete]
            clean = LinearRegression().fit(features, target).coef_
            carries = np.abs(clean) * features.std(axis=0) >= _LINEAR_MIN_SHARE * np.std(target)
            if carries.any() and not carries.all():
                used = used[carries]
                complete = seen[np.ix_(rows, used)].all(axis=1)
                features, target = completed[np.ix_(rows[complete], used)], whole[complete]
            # The imputation's error: the spread, or the trees' error on the
            # rows their early stopping held out where lower (a price index
            # set by the year, which the trees recall and a line only
            # approaches: Ecdat's BudgetItaly, trial 54, lost 0.4% when the
            # spread alone weighed the line).
            limit, own = _LINEAR_ERROR_SHARE * np.var(whole), spread[j] ** 2
            held_out = _held_out_error(self.trees_[j] if self.trees_ is not None else None)
            if held_out is not None:
                own = min(own, held_out)
            honest = cross_val_predict(LinearRegression(), features, target, cv=folds)
            error = float(np.mean((honest - target) ** 2))
            if error > limit:
                continue
            model = LinearRegression().fit(features, target)
            weights[j] = own / (own + error)
            entry = {"used": used, "coef": model.coef_.astype(np.float64),
                     "intercept": float(model.intercept_)}
            # Rows that impute some of those inputs: the model of every
            # candidate on the completed rows, if its error on such rows (of
            # the folds' predictions) passes too, at its own weight.
            if (~complete).sum() >= _LINEAR_MIN_ROWS // 5:
                honest = cross_val_predict(LinearRegression(), every, whole, cv=folds)
                error = float(np.mean((honest[~complete] - whole[~complete]) ** 2))
                if error <= limit:
                    entry.update(inputs=inputs[j], coef_all=first.coef_.astype(np.float64),
                                 intercept_all=float(first.intercept_),
                                 weight_all=own / (own + error))
            models[j] = entry
        if weights.any():
            self._linear_, self.linear_weights_ = models, weights

    def _recall_linear(self, S, observed, predicted):
        """Numeric gaps blended with their column's linear model, where its inputs are observed.

        Returns the predictions and, per entry, the weight the model got.
        """
        seen = self._expanded(observed)
        completed = self._completed(S, observed, predicted)
        positions = self._tree_positions()
        weights = np.zeros(observed.shape)
        for j, model in enumerate(self._linear_):
            if model is None or observed[:, j].all():
                continue
            at = positions[j]
            complete = seen[:, model["used"]].all(axis=1)
            parts = [(~observed[:, j] & complete, model["used"], model["coef"],
                      model["intercept"], self.linear_weights_[j])]
            if "inputs" in model:
                parts.append((~observed[:, j] & ~complete, model["inputs"], model["coef_all"],
                              model["intercept_all"], model["weight_all"]))
            for gaps, inputs, coef, intercept, weight in parts:
                if gaps.any():
                    value = completed[np.ix_(gaps, inputs)] @ coef + intercept
                    predicted[gaps, at] = (1 - weight) * predicted[gaps, at] + weight * value
                    weights[gaps, j] = weight
        return predicted, weights

    def _fit_duplicates(self, X, spread):
        """Which numeric columns' gaps are recalled from duplicate rows, and how much.

        The rows are at most ``_DUPLICATE_ROWS`` of the training rows (all
        the trees see on tables of up to that many; they are stored). Each
        observed entry of them is hidden in turn and recalled from the rows
        that duplicate its row (:meth:`DuplicateRows.honest_errors`; nothing
        is fitted, so the error is that of a real gap). A column whose
        duplicates' error is at most ``_DUPLICATE_ERROR_SHARE`` of the
        imputation's own (``spread`` squared) on at least
        ``_DUPLICATE_MIN_ENTRIES`` entries blends its gaps with the
        duplicates' mean value, by inverse-variance weights; other columns
        are left alone, and a table with no such column stores nothing.
        ``partial_fit`` keeps them as it keeps the trees.
        """
        n_rows = min(X.shape[0], _DUPLICATE_ROWS)
        if getattr(self, "_duplicates_", None) is not None and n_rows < self._duplicate_rows_:
            return
        self._duplicates_, self.duplicate_weights_, self._duplicate_rows_ = None, None, n_rows
        encoder = self.encoder_
        if not self.recall_duplicates or sp.issparse(X) or not encoder.numeric:
            return
        rows = self._tree_sample(X, _DUPLICATE_ROWS)
        S, observed = self._scaled_with_mask(_safe_indexing(X, rows))
        duplicates = DuplicateRows(S, self._expanded(observed))
        errors, counts = duplicates.honest_errors(
            np.random.default_rng((self._seed_, 0xD0B1)), min_count=_DUPLICATE_MIN_ENTRIES)
        positions = self._tree_positions()
        weight = np.zeros(observed.shape[1])
        for j in encoder.numeric:
            own, at = spread[j] ** 2, positions[j]
            if counts[at] >= _DUPLICATE_MIN_ENTRIES and errors[at] <= _DUPLICATE_ERROR_SHARE * own:
                # One pseudo-entry at the imputation's own error: duplicates
                # that never erred on n entries get n + 1 times its weight,
                # not all of it (a new user's trial 26: weight 1 drew
                # zero-width ranges around a wrong recalled value).
                shrunk = (counts[at] * errors[at] + own) / (counts[at] + 1)
                weight[j] = own / (own + shrunk)
        if weight.any():
            self._duplicates_, self.duplicate_weights_ = duplicates, weight

    def _recall_duplicates(self, S, observed, predicted, memo=None):
        """Numeric gaps blended with the mean value of their row's duplicates.

        Returns the predictions and, per entry, the weight the duplicates got
        (0 where none observes it). The duplicates' values are kept in
        ``memo`` when given: draws of the same rows search them once (the
        search cost white wine's draws 4.8 times their time).
        """
        if memo is not None and "duplicates" in memo:
            recalled, counts = memo["duplicates"]
        else:
            recalled, counts = self._duplicates_.recall(S, self._expanded(observed))
            if memo is not None:
                memo["duplicates"] = recalled, counts
        positions = self._tree_positions()
        weights = np.zeros(observed.shape)
        for j in np.flatnonzero(self.duplicate_weights_):
            at, weight = positions[j], self.duplicate_weights_[j]
            found = ~observed[:, j] & (counts[:, at] > 0)
            predicted[found, at] = (1 - weight) * predicted[found, at] + weight * recalled[found, at]
            weights[found, j] = weight
        return predicted, weights

    def _expanded(self, observed) -> np.ndarray:
        """The observed mask per encoded entry (a category's mask over its one-hot code)."""
        if not self.encoder_.mixed:
            return observed
        return self.encoder_.expand(torch.from_numpy(observed)).numpy()

    def _column_slices(self) -> list[slice]:
        """Each imputed column's entries in the encoded row."""
        encoder = self.encoder_
        if not encoder.mixed:
            return [slice(j, j + 1) for j in range(encoder.width)]
        return list(encoder.slices)

    def _tree_positions(self) -> np.ndarray:
        """Each imputed column's first entry in the encoded row."""
        encoder = self.encoder_
        if not encoder.mixed:
            return np.arange(encoder.width)
        return np.array([part.start for part in encoder.slices])

    def _completed(self, S, observed, predicted, category_gaps=None) -> np.ndarray:
        """Encoded rows with the gaps filled: numbers predicted, categories as probabilities.

        ``category_gaps=np.nan`` leaves a category's gap NaN instead,
        which the trees route as missing: trees fitted mostly on one-hot
        codes sent the network's probabilities down the branch of the last
        category (a new user's trial: a number set by a category, the
        category hidden, 13.2 RMSE from the trees against the network's
        8.9).
        """
        encoder = self.encoder_
        if not encoder.mixed:
            return np.where(observed, S, predicted)
        filled = predicted.copy()
        for j in encoder.categorical:
            part = encoder.slices[j]
            filled[:, part] = (softmax(filled[:, part], axis=1) if category_gaps is None
                               else category_gaps)
        return np.where(self._expanded(observed), S, filled)

    def _blend_trees(self, S, observed, predicted, toward_mean=True) -> np.ndarray:
        """The network's predictions of the gaps, blended with the trees' (``tree_weight``).

        ``toward_mean``: columns the trees cannot predict are moved toward
        their means (``_tree_shrink_``); the linear recall chooses its
        inputs without that, so that the rule changes no other column.
        """
        completed = self._completed(S, observed, predicted, category_gaps=np.nan)
        positions = self._tree_positions()
        weight = self._tree_weight_
        # None: saved before the shrink toward the mean.
        shrink = getattr(self, "_tree_shrink_", None) if toward_mean else None
        marginals = self._marginals() if shrink is not None and (shrink < 1).any() else None
        with openmp_threads(_TREE_THREADS):
            for j, model in enumerate(self.trees_):
                gaps, at = ~observed[:, j], positions[j]
                if model is None or not gaps.any():
                    continue
                features = completed[np.ix_(gaps, self._tree_inputs_[j])]
                if isinstance(model, HistGradientBoostingClassifier):
                    # A category: the levels' probabilities blended, as log-probabilities.
                    part = np.arange(self.encoder_.slices[j].start, self.encoder_.slices[j].stop)
                    network = softmax(predicted[np.ix_(gaps, part)], axis=1)
                    trees = np.zeros_like(network)
                    trees[:, model.classes_] = model.predict_proba(features)
                    blended = (1 - weight) * network + weight * trees
                    predicted[np.ix_(gaps, part)] = np.log(np.maximum(blended, _TINY))
                else:
                    trees = model.predict(features)
                    predicted[gaps, at] = (1 - weight) * predicted[gaps, at] + weight * trees
                    if marginals is not None and shrink[j] < 1.0:
                        mean = marginals[0][at]
                        predicted[gaps, at] = mean + shrink[j] * (predicted[gaps, at] - mean)
        return predicted

    # ------------------------------------------------------------------
    # Imputation
    # ------------------------------------------------------------------
    def _predict_scaled(self, S, visible, generator=None) -> np.ndarray:
        """Network output for encoded rows ``S`` seeing the ``visible`` columns."""
        draw_codes = generator is not None and self.net_.capabilities_.samples_imputations

        def run(rows):
            x = self._to_tensor(S[rows])
            v = self._to_tensor(visible[rows])
            if generator is not None and not draw_codes:
                keep = torch.rand(v.shape, generator=generator).to(x.device)
                v = v * (keep >= self.hide_fraction)
            v = self.encoder_.expand(v)
            if draw_codes:
                return self.module_.sample(x, v, generator)
            return split_output(self.module_(x, v))[0]

        predicted = self._map_chunks(S.shape[0], run, self.encoder_.width, np.float32)
        scale = getattr(self, "_category_scale_", None)  # None: saved before it
        if scale is not None:
            predicted = predicted * scale[0] + scale[1]
        return predicted

    def _impute(self, X, generator=None, noise_rng=None, memo=None):
        """Imputed rows of validated ``X``; a sparse ``X`` gives a dense array.

        ``memo`` (a dict) keeps what does not change between draws of the
        same rows (the duplicates' values), one entry per block of rows.
        """
        out, start = None, 0
        chunk = self._chunk_rows(X.shape[0])
        # n_jobs: NumPy's BLAS threads as the network's (skae/_threads.py).
        with blas_threads(self._torch_threads(min(chunk, X.shape[0]))):
            for rows in row_source(X).blocks(chunk):
                block_memo = None if memo is None else memo.setdefault(start, {})
                imputed = self._impute_dense(rows, generator, noise_rng, block_memo)
                if len(imputed) == X.shape[0]:
                    return imputed  # the whole input in one block
                if out is None:
                    out = np.empty((X.shape[0], imputed.shape[1]), dtype=imputed.dtype)
                out[start : start + len(imputed)] = imputed
                start += len(imputed)
        return out

    def _impute_dense(self, X, generator=None, noise_rng=None, memo=None):
        S, observed = self._scaled_with_mask(X)
        predicted = self._predict_scaled(S, observed, generator).astype(np.float64)
        if getattr(self, "trees_", None) is not None:
            predicted = self._blend_trees(S, observed, predicted)
        recalled = None
        if getattr(self, "_linear_", None) is not None:  # None: saved before it
            predicted, recalled = self._recall_linear(S, observed, predicted)
        if getattr(self, "_duplicates_", None) is not None:  # None: saved before it
            predicted, duplicated = self._recall_duplicates(S, observed, predicted, memo)
            # The weight of what recalled an entry: what it leaves of the variance.
            recalled = (duplicated if recalled is None
                        else 1.0 - (1.0 - recalled) * (1.0 - duplicated))
        encoder = self.encoder_
        marginals = self._marginals()
        empty = ~observed.any(axis=1) if marginals is not None else np.zeros(len(S), bool)
        if empty.any():
            # Nothing observed: each column's mean or most frequent category,
            # which nothing recalled.
            predicted[empty] = marginals[0]
            if recalled is not None:
                recalled[empty] = 0.0
        # Draws that replace the Gaussian ones (NaN: keep it): donors' values
        # for columns with a point mass (_fit_donors), a coin for flags.
        exact_draws = {}
        if noise_rng is not None:
            exact_draws = self._donor_draws(predicted, recalled, noise_rng, empty)
        two_levels = getattr(self, "_two_levels_", None)  # None: saved before it
        if noise_rng is not None and two_levels is not None:
            flags = np.flatnonzero(~np.isnan(two_levels[:, 0]))
            if len(flags):
                # Rounded Gaussian draws of a 0/1 flag miss its rate (a new
                # user's rare flag: 0.030 in the gaps, 0.010 drawn): a flag
                # is drawn as a coin with the prediction's probability.
                # Unrounded numbers (decode rounds Int64 columns).
                expected = np.full((len(S), encoder.n_columns), np.nan)
                expected[:, encoder.numeric] = encoder.numbers(predicted)
                expected = expected[:, flags]
                low, high = two_levels[flags].T
                chance = np.clip((expected - low) / (high - low), 0.0, 1.0)
                heads = noise_rng.random(chance.shape) < chance
                exact_draws.update(zip(flags, np.where(heads, high, low).T))
        if noise_rng is not None:
            positions = encoder.numeric_positions if encoder.mixed else slice(None)
            noise = noise_rng.normal(size=(len(S), len(self._noise_scaled_))) * self._noise_scaled_
            if empty.any():
                noise[empty] *= marginals[1] / np.maximum(self._noise_scaled_, _TINY)
            if recalled is not None:
                # Inverse-variance blending leaves (1 - weight) of the variance.
                noise *= np.sqrt(1.0 - recalled[:, encoder.numeric])
            predicted[:, positions] += noise
        low, high = self._bounds(drawn=noise_rng is not None)
        kept = select_columns(X, self._observed_features_)
        # Whole-number columns among the imputed ones (None: saved before it).
        integer = getattr(self, "_integer_columns_", None)
        if integer is not None:
            integer = integer[self._observed_features_]
        # Steps draws are rounded to (None: saved before any step rule).
        steps = getattr(self, "_draw_steps_", None) if noise_rng is not None else None
        if not encoder.mixed:
            values = encoder.decode(predicted)
            for j, draw in exact_draws.items():
                values[:, j] = np.where(np.isnan(draw), values[:, j], draw)
            for j in () if steps is None else np.flatnonzero(~np.isnan(steps)):
                values[:, j] = _to_grid(values[:, j], steps[j])
            if integer is not None and integer.any():
                values[:, integer] = np.round(values[:, integer]) + 0.0  # no -0.0
            values = np.clip(values, low, high)
            imputed = np.where(observed, kept, values).astype(float_dtype(X), copy=False)
            return self._finish(imputed, X)
        decoded = encoder.decode(predicted, like=kept, rng=noise_rng)
        imputed = kept.copy()
        for j, name in enumerate(kept.columns):
            # Only missing values: a category not seen in fit (unobserved to
            # the network) is returned as given, as IterativeImputer keeps
            # every observed value (a new user's trial: a level declared by
            # the column's dtype but absent in fit was replaced).
            gaps = kept[name].isna().to_numpy()
            if not gaps.any():
                continue
            fill = decoded.iloc[:, j]
            if j in exact_draws:
                fill = fill.where(np.isnan(exact_draws[j]), exact_draws[j])
            if j in encoder.numeric:
                if steps is not None and not np.isnan(steps[j]):
                    fill = pd.Series(_to_grid(fill.to_numpy(np.float64), steps[j]),
                                     index=fill.index)
                if integer is not None and integer[j]:
                    fill = fill.round() + 0.0  # no -0.0
                fill = fill.clip(low[j], high[j])
            imputed[name] = _fill_gaps(kept[name], gaps, fill)
        for j in encoder.numeric:
            name = kept.columns[j]
            if imputed[name].dtype == object:
                # Numbers of an object array (categorical_features listed):
                # validated as numbers, returned as float64 (a new user's trial).
                imputed[name] = pd.to_numeric(imputed[name]).astype(np.float64)
        return self._finish(imputed, X)

    def _bounds(self, drawn: bool) -> tuple[np.ndarray, np.ndarray]:
        """Each imputed column's bounds: ``min_value`` / ``max_value``, and for draws the observed range.

        Draws (``sample_imputations``) are clipped to the range of the
        values ``fit`` (or ``partial_fit``'s calls) observed, within
        ``min_value`` / ``max_value``. Unbounded Gaussian draws went beyond it
        (a new user's trial: 3.8% of an income column's draws negative, down
        to -13.5 where the lowest income seen was -0.03). Clipped rather than
        truncated: many columns hold their lowest value often (zeros), which
        truncated draws never reach, so their 90% ranges covered 40% of
        digits' hidden pixels, where clipped ones cover what unbounded ones
        did for every value within the observed range. Imputations keep
        their order beyond it (a rating matrix's user ranks items by them);
        only integer columns and two-valued flags are bounded by what ``fit`` saw
        (``_fit_encoder``).
        """
        low, high = self._min_value_, self._max_value_
        observed_range = getattr(self, "_observed_range_", None)  # None: saved before it
        if not drawn or observed_range is None:
            return low, high
        seen_low, seen_high = np.fmax(low, observed_range[0]), np.fmin(high, observed_range[1])
        beyond = seen_low > seen_high  # bounds the data never reached: the user's
        return np.where(beyond, low, seen_low), np.where(beyond, high, seen_high)

    def _finish(self, imputed, X):
        """Empty features back in when kept, then the indicator columns."""
        # A feature empty in fit: its gaps are 0, its observed values kept, as
        # SimpleImputer and IterativeImputer keep them (a new user's trial:
        # ages observed in one fold's test rows alone came back as 0).
        if isinstance(imputed, pd.DataFrame):
            if self.keep_empty_features:
                for position in np.flatnonzero(~self._observed_features_):
                    imputed.insert(int(position), X.columns[position],
                                   _zero_filled(X.iloc[:, position]))
            if self.indicator_ is not None:
                names = X.columns[self.indicator_.features_]
                flags = self.indicator_.transform(missing_mask(X).astype(np.float64))
                for name, flag in zip(names, flags.T):
                    imputed[f"missingindicator_{name}"] = flag.astype(np.float64)
            return imputed
        dtype = imputed.dtype
        if self.keep_empty_features:
            full = np.zeros(X.shape, dtype=dtype)
            full[:, self._observed_features_] = imputed
            empty = ~self._observed_features_
            full[:, empty] = np.nan_to_num(X[:, empty], nan=0.0)
            imputed = full
        if self.indicator_ is not None:
            indicator = self.indicator_.transform(missing_mask(X).astype(np.float64)).astype(dtype)
            imputed = np.hstack([imputed, indicator])
        return imputed

    def fit_transform(self, X, y=None):
        """Fit the imputer on ``X`` and return ``X`` with its gaps filled.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data with missing values; sparse with ``missing_values=0``.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        X_imputed : ndarray or DataFrame of shape (n_samples, n_features_out)
            The imputed data, in the float dtype of ``X``; a DataFrame, with
            the columns' dtypes, for a table with categorical columns.
        """
        self.fit(X)
        return self._impute(self._validate_input(X, reset=False))

    def transform(self, X):
        """Fill the missing values of ``X`` with the fitted network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data with missing values, in any pattern (also patterns never
            seen in ``fit``); sparse with ``missing_values=0``, imputed in
            blocks of rows into a dense array.

        Returns
        -------
        X_imputed : ndarray or DataFrame of shape (n_samples, n_features_out)
            The imputed data: observed entries unchanged, in the float dtype
            of ``X``; a DataFrame, with the columns' dtypes, for a table with
            categorical columns.
        """
        check_is_fitted(self)
        return self._impute(self._validate_input(X, reset=False))

    def sample_imputations(self, X, n_imputations=5, random_state=None):
        """Draw several plausible imputations of ``X`` for multiple imputation.

        Each draw lets the network see a fresh random subset of the observed
        entries (``hide_fraction`` of them hidden, as in training), so the
        prediction varies most where it depends on little evidence, and adds
        Gaussian noise with each feature's residual spread
        (``residual_std_``). With a variational module
        (``module=VariationalImputerMLP``), each draw instead decodes a code
        drawn from the row's code distribution, plus the same noise. A
        missing category is drawn from its calibrated probabilities (see
        :class:`AutoencoderImputer`), a 0/1 flag (a DataFrame's column of
        two whole values, or any column observed at two values alone, such
        as 0/1 or 1/2) as a coin between the two with its predicted rate,
        a column of whole numbers (an integer column of a DataFrame, or
        an array's column observed at whole numbers alone) as whole numbers,
        and a column whose values are all recorded in one step (halves,
        tenths, fives) at that step.
        A column with a point mass at an end of its range (its commonest
        value, at an end, holding at least a fifth of its values: zeros of
        an amount, a count or a viral load) is drawn from the observed
        values of rows predicted alike (predictive mean matching), so its
        draws hold the mass as often as it is likely and never fill the
        stretch between the mass and the other values; so is a column of at
        least five values heaped on one inside its range (at least a fifth
        of its values: 12 years of schooling, 40 hours a week), whose
        Gaussian draws would hold the heap too rarely, and a long-tailed
        column (skewness of at least 4 in size: spending, income), whose
        Gaussian draws would fill its short side. Observed entries
        are identical in every draw.
        Analyse each completed data set and pool the results (Rubin's rules).
        The draws scatter around :meth:`transform`'s imputation without
        being centred on it (clipping, steps and donors move their mean),
        and, all drawn from this one fitted model, they leave out the
        model's own uncertainty: on four small tables Rubin's
        between-imputation variance fell short of the pooled estimates' own
        variance by about a third. For proper multiple imputation, fit one
        clone per draw on a bootstrap sample of the rows and draw once from
        each (the user guide's recipe): about right or generous there, at
        five times the cost. Neither removes the imputations' bias.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data with missing values; sparse with ``missing_values=0`` (each
            draw is a dense array).
        n_imputations : int, default=5
            Number of completed data sets to draw.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws. None: a stream seeded by the estimator's
            ``random_state`` in ``fit``, which every call continues, so
            that a script whose imputer was built with an int draws the same
            imputations on every run, and each call draws fresh ones (a loop
            of single draws is as good as one call for all of them). A new
            user's pooled estimates had changed from run to run with the
            README's ``AutoencoderImputer(random_state=0)``, drawn from
            NumPy's global generator; drawing the same imputations on every
            call, as :meth:`sklearn.mixture.GaussianMixture.sample` does,
            would make such a loop's draws identical, and Rubin's rules
            silently a single imputation.

        Returns
        -------
        imputations : list of ndarray or DataFrame of shape (n_samples, n_features_out)
            ``n_imputations`` completed data sets (DataFrames for a table with
            categorical columns, or when pandas output is configured with
            ``set_output``).
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        if not isinstance(n_imputations, numbers.Integral) or n_imputations < 1:
            raise ValueError(f"n_imputations must be a positive int; got {n_imputations!r}.")
        if random_state is None:
            # The stream seeded in fit: the n-th call's draws are the same on
            # every run, and differ from the other calls'.
            calls = getattr(self, "_draw_calls_", 0)
            self._draw_calls_ = calls + 1
            random_state = np.random.RandomState(
                np.random.SeedSequence([self._seed_, 0xD2A3, calls]).generate_state(1))
        rng = check_random_state(random_state)
        draws, memo = [], {}
        for k in range(n_imputations):
            seed = int(rng.randint(np.iinfo(np.int32).max))
            generator = torch.Generator().manual_seed(seed)
            noise = np.random.default_rng(seed)
            with warnings.catch_warnings():
                if k:  # each draw encodes X again: its warnings (unseen categories) once
                    warnings.simplefilter("ignore", UserWarning)
                draws.append(self._wrap(self._impute(X, generator, noise, memo), X))
        return draws

    def _wrap(self, data, X):
        from sklearn.utils._set_output import _wrap_data_with_container

        return _wrap_data_with_container("transform", data, X, self)

    def get_feature_names_out(self, input_features=None):
        """Names of the output features.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; ``feature_names_in_`` (or ``x0``, ``x1``,
            ...) when None.

        Returns
        -------
        feature_names_out : ndarray of str objects
            Imputed features, then ``missingindicator_<name>`` columns when
            ``add_indicator=True``.
        """
        from sklearn.utils.validation import _check_feature_names_in

        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        kept = names if self.keep_empty_features else names[self._observed_features_]
        if self.indicator_ is None:
            return np.asarray(kept, dtype=object)
        indicator = [f"missingindicator_{n}" for n in names[self.indicator_.features_]]
        return np.asarray([*kept, *indicator], dtype=object)

    def __getstate__(self):
        """The base's compact state, with each column's trees packed into a few arrays."""
        state = super().__getstate__()
        if state.get("trees_") is not None:
            state["trees_"] = [None if model is None else pack_boosting(model)
                               for model in state["trees_"]]
        return state

    def __setstate__(self, state):
        trees = state.get("trees_")
        if trees is not None:
            state = {**state, "trees_": [None if packed is None else unpack_boosting(packed)
                                         for packed in trees]}
        if "_whole_draws_" in state:  # saved before _draw_steps_ (stop 39)
            state = {**state}
            state["_draw_steps_"] = np.where(state.pop("_whole_draws_"), 1.0, np.nan)
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = _is_nan(self.missing_values)
        tags.input_tags.sparse = _is_zero(self.missing_values)
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _fit_calibration(logits, labels, log_prior) -> tuple[float, float]:
    """``a, c`` of least log-loss of ``softmax(a * logits + c * log_prior)`` on ``labels``.

    Convex in ``(a, c)``; ``a`` is kept in [0, 4] and ``c`` in [-4, 4].
    """
    rows = np.arange(len(labels))

    def loss(params):
        a, c = params
        z = a * logits + c * log_prior
        log_p = log_softmax(z, axis=1)
        residual = np.exp(log_p)
        residual[rows, labels] -= 1.0
        gradient = [np.sum(residual * logits), np.sum(residual @ log_prior)]
        return -log_p[rows, labels].sum() / len(rows), np.array(gradient) / len(rows)

    result = minimize(loss, [1.0, 0.0], jac=True, method="L-BFGS-B",
                      bounds=[(0.0, 4.0), (-4.0, 4.0)])
    return float(result.x[0]), float(result.x[1])


def _merge_donors(previous, seen, new, rows, rng) -> dict:
    """Donors of earlier ``partial_fit`` calls (``seen`` rows) and of a new call (``rows`` rows).

    Each pool is cut so that the two stand in proportion to the rows they
    came from, then the whole to at most ``_DONOR_ROWS`` donors: the draws
    follow every call's values, not the first call's alone (a new user's
    stream sorted by farm size drew a column up to its first chunk's 135,
    where the hidden values reached 3,270). The earlier calls' predictions
    are those of the network as it was then.
    """
    merged = dict(previous)
    for j, (guesses, values) in new.items():
        if j not in previous:
            merged[j] = guesses, values
            continue
        old_guesses, old_values = previous[j][:2]
        # Donors per row of each pool; the denser pool is thinned to the other's.
        keep_old, keep_new = len(old_values), len(values)
        if keep_old / seen > keep_new / rows:
            keep_old = max(1, round(keep_new * seen / rows))
        else:
            keep_new = max(1, round(keep_old * rows / seen))
        old = rng.choice(len(old_values), min(keep_old, len(old_values)), replace=False)
        fresh = rng.choice(len(values), min(keep_new, len(values)), replace=False)
        guesses = np.concatenate([old_guesses[old], guesses[fresh]])
        values = np.concatenate([old_values[old], values[fresh]])
        if len(values) > _DONOR_ROWS:
            pick = rng.choice(len(values), _DONOR_ROWS, replace=False)
            guesses, values = guesses[pick], values[pick]
        merged[j] = guesses, values
    return merged


def _missing_rate(X) -> float:
    """Share of missing entries in the columns of ``X`` that hold any value.

    A sparse table's unstored entries count as missing, as the NaN of the
    same table held densely do, so that both fits train alike.
    """
    n_missing = row_source(X).n_missing()
    kept = n_missing < X.shape[0]
    return float(n_missing[kept].sum() / max(1, X.shape[0] * kept.sum()))


def _numeric_column(X, j: int) -> np.ndarray:
    """Column ``j`` of an array or DataFrame as float64, gaps as NaN."""
    if isinstance(X, pd.DataFrame):
        return pd.to_numeric(X.iloc[:, j]).to_numpy(dtype=np.float64, na_value=np.nan)
    return X[:, j]


def _toward_mean(trees, values: np.ndarray) -> float:
    """The share of its departure from the mean a column's blended imputation keeps.

    ``values``: the column's observed values the trees were fitted on. 1
    unless the trees explain less than ``_UNPREDICTED_R2`` of the column's
    variance on the rows their early stopping held out, with at least
    ``_UNPREDICTED_MIN_HELD_OUT`` of those rows expected off the column's
    most frequent value: then R^2 / ``_UNPREDICTED_R2``, 0 (the mean) at
    R^2 <= 0. A column that nothing in the row predicts is best imputed by
    its mean; the network, trained on every column at once, learned noise
    there: a new user's household income, age and rooms (Heating, 900 rows,
    |correlation| <= 0.1 with every other column) had 5-13% more error than
    the mean (trial 62). The rows off the mode count because a rare flag's
    R^2 rests on them: a low-birth-weight flag (14 ones in 795 rows, about
    one among the 80 held out) scored R^2 < 0 and went to its mean, where
    the network had read it from the birth weight (+84% error; trial 63).
    """
    scores = getattr(trees, "validation_score_", ())
    if len(scores) < 2 or not scores[0] < 0:
        return 1.0
    # scikit-learn holds out ceil(validation_fraction * n) rows.
    _, counts = np.unique(values, return_counts=True)
    off_mode = np.ceil(0.1 * len(values)) * (1.0 - counts.max() / len(values))
    if off_mode < _UNPREDICTED_MIN_HELD_OUT:
        return 1.0
    # validation_score_ is minus the half squared error; its first entry is
    # the training mean's.
    r2 = 1.0 - float(scores[-1]) / float(scores[0])
    return float(np.clip(r2 / _UNPREDICTED_R2, 0.0, 1.0))


def _held_out_error(trees) -> float | None:
    """A column's regression trees' mean squared error on the rows their early stopping held out.

    None for a classifier, for no trees, and for trees without a held-out part.
    """
    if not isinstance(trees, HistGradientBoostingRegressor):
        return None
    if not len(getattr(trees, "validation_score_", ())):
        return None
    # validation_score_ is minus the half squared error.
    return max(0.0, -2.0 * float(trees.validation_score_[-1]))


def _tree_inputs(completed: np.ndarray, n_inputs: int, slices) -> list[np.ndarray]:
    """For each column (its ``slice`` of encoded positions), the ``n_inputs`` positions most
    correlated with it outside it (a category: with any of its levels)."""
    d = completed.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        strength = np.abs(np.corrcoef(completed, rowvar=False)).reshape(d, d)
    strength = np.nan_to_num(strength, nan=0.0)
    inputs = []
    for part in slices:
        row = strength[part].max(axis=0)
        row[part] = -1.0  # never the column itself
        k = min(n_inputs, d - (part.stop - part.start))
        # Stable sort: ties keep the columns' order, so the choice is reproducible.
        inputs.append(np.sort(np.argsort(-row, kind="stable")[:k]))
    return inputs


def _integer_columns(X) -> np.ndarray:
    """Which columns of a DataFrame hold integers.

    Integer dtypes (``int64``, ``Int64``, ...), and float columns whose
    present values are all whole numbers: pandas stores an integer column
    with a missing value as ``float64`` (a new user's counts, scores from 1
    to 25 and 0/1 flags were imputed as fractions, some below the smallest
    value seen), and a training split without gaps keeps that dtype.
    """
    if not isinstance(X, pd.DataFrame) or is_sparse_frame(X):  # sparse: no rules
        return np.zeros(X.shape[1] if len(getattr(X, "shape", ())) == 2 else 0, dtype=bool)
    integer = np.zeros(X.shape[1], dtype=bool)
    for j, dtype in enumerate(X.dtypes):
        if pd.api.types.is_integer_dtype(dtype):
            integer[j] = True
        elif pd.api.types.is_float_dtype(dtype):
            values = X.iloc[:, j].to_numpy(dtype=np.float64, na_value=np.nan)
            present = values[~np.isnan(values)]
            integer[j] = bool(present.size and np.isfinite(present).all()
                              and np.array_equal(present, np.round(present)))
    return integer


def _grid_step(values) -> float:
    """The largest of ``_GRID_STEPS`` that all ``values`` are multiples of; NaN if none.

    Fractional steps under a millionth of the largest magnitude are not
    tried: values that large are multiples of them to float rounding (a
    population of millions would be "in thousandths"); whole numbers are
    exact. Candidates are tried on the first thousand values, then
    confirmed on all.
    """
    values = np.asarray(values, dtype=np.float64)
    if not len(values):
        return np.nan
    smallest = 1e-6 * np.max(np.abs(values))

    def on_grid(part, step):
        return bool(np.all(np.abs(part - np.round(part / step) * step) <= 1e-9 * np.abs(part)))

    for step in _GRID_STEPS:
        if step < min(1.0, smallest):
            break
        if on_grid(values[:1000], step) and on_grid(values, step):
            return step
    return np.nan


def _to_grid(values, step: float) -> np.ndarray:
    """``values`` rounded to multiples of ``step``, at the step's decimals (no 0.30000000000000004)."""
    decimals = max(0, int(np.ceil(-np.log10(step))) + 1)
    return np.round(np.round(values / step) * step, decimals) + 0.0  # no -0.0


def _is_nan(value) -> bool:
    """Whether ``missing_values`` marks gaps as NaN does.

    None does too: a None in an object array or DataFrame is NaN once read
    as a number, as scikit-learn's ``SimpleImputer(missing_values=None)``
    reads it (a new user's trial 52 got "contains NaN" for its own gaps).
    """
    return value is None or (isinstance(value, float) and bool(np.isnan(value)))


def _is_zero(value) -> bool:
    """Whether ``missing_values`` is 0, the value sparse input leaves unstored."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and value == 0


def _zero_filled(column: pd.Series) -> pd.Series:
    """A column empty in fit, as returned: its gaps 0, its observed values as they are."""
    if column.isna().all():
        return pd.Series(0.0, index=column.index)
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.fillna(0)  # its dtype kept (Int64 stays Int64, trial 57)
    return column.astype(object).where(column.notna(), 0.0)


def _fill_gaps(column: pd.Series, gaps: np.ndarray, fill: pd.Series) -> pd.Series:
    """``column`` with its ``gaps`` filled from ``fill``, keeping its dtype.

    A categorical column of new rows may lack categories seen in ``fit``, or
    hold unseen ones (treated as missing): the imputed categories are added
    to its own, so that its dtype, order included, is kept.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        values = pd.unique(fill[gaps].dropna())
        new = [value for value in values if value not in column.cat.categories]
        if new:
            column = column.cat.add_categories(new)
        # Only the gaps' values: pandas refuses any category the column
        # lacks, even where the observed entry is kept.
        fill = fill.astype(object).where(gaps)
    return column.where(~gaps, fill)
