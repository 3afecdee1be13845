"""How long AutoencoderImputer trains: a budget in proportion to the table.

Measured on the development tables of ``benchmarks/bench_impute.py``: the
error keeps falling for thousands of optimizer steps on tables with many
features (a quarter of the budget cost 10-40% more error there), while
narrow tables reach their best much sooner and then overfit. missForest's
cost grows with the square of the number of features; the imputer's steps
grow with it linearly, and beyond 5,000 rows with the square root of the
rows (``ROWS_EXPONENT``), each epoch with the rows; tables of up to 20,000
rows with more than 20% of their entries missing take fewer steps
(``MISSING_REFERENCE``).

Tables whose rows fit in ``AVERAGE_MAX_BATCHES`` batch keep a constant
learning rate and impute with an exponential moving average of the weights
over training (``averaging="auto"``), whose time constant is
``AVERAGE_HORIZON`` of the training call's optimizer steps; larger tables
decay the learning rate to zero along a cosine and impute with the last
weights. Against the cosine, on 400-row samples of the nine development
tables at p = 0.2 (one batch each), three seeds: 0.976-0.981 of the error
under MCAR and 0.978-0.982 under MAR (geometric means), no sample worse by
more than 1.5%. Time constants of 0.2 / 0.3 of the steps gave 0.981-0.987 /
0.975-0.984 (0.3: samples up to 2.2% worse); 0.4 was worse than none (the
early weights weigh too much). More rows, more batches: on 1,000-row samples
(two batches) 0.981 / 0.980 but Wilt 2.4% worse under MAR; on PageBlocks
12% / 5% worse at 2,000 rows and 9% / 8% at 5,000 (the full development
tables of 1,484 to 1,941 rows gained 0.5-2%, those of 5,000 rows were level
or worse), hence one batch. The cosine's own last weights, averaged, gained
under 1% (the decay already averages); a cosine to a floor of 0.1 or 0.3 of
the rate, averaged, 1.1-1.3% on the samples and up to 3% worse on
PageBlocks.

Tables of ``ENSEMBLE_MAX_BATCHES`` batch also train ``ENSEMBLE_MEMBERS``
independent networks inside one module (``DenoisingImputerMLP(n_members=2)``:
weights stacked, one batched product per layer, each member on its own loss)
and impute with their mean. Against one network at the same epochs, same
process, on 400-row samples of the nine development tables at p = 0.2, three
seeds: 0.979 of the error under MCAR (0.978-0.980 per seed) and 0.968 under
MAR (0.949-0.981), no sample worse by more than 1.6% (magic.gamma), fit time
1.73x (geometric mean, one thread; 400-row steps are compute-bound on a CPU,
so two members cost nearly twice one). Members narrower than the single
network were cheaper but left PageBlocks samples worse: two of 0.71 / 0.85 of
the width 0.980 / 0.980 (MCAR), 0.971 / 0.973 (MAR), 1.27x / 1.56x, worst
1.047 / 1.093; four of half the width 0.973 / 0.975, 1.47x, worst 1.074; four
full-width members gained 5% but cost 3.7x (three tables). On 1,000-row
samples (two batches, cosine, two seeds) two members gave 0.976 / 0.981 at
1.87x, but annthyroid 7.7% worse under MAR and PageBlocks 2.2% under MCAR:
hence one batch.
"""

from __future__ import annotations

import numpy as np

#: Optimizer steps (of 512 rows) per feature, and the bounds of the step budget.
STEPS_PER_FEATURE = 200
MIN_STEPS, MAX_STEPS = 1000, 4000
#: Tables of more than ``ROWS_REFERENCE`` rows take ``(n_rows /
#: ROWS_REFERENCE) ** ROWS_EXPONENT`` times the steps: twice them at 20,000
#: rows. With the steps fixed, larger tables saw each row fewer times and
#: lost to missForest (a new user's covertype: 1.035 of its error at 20,000
#: rows). Twice the steps at 20,000 rows of the development tables letter /
#: magic.gamma: 0.959 / 0.991 of the error under MCAR, 0.957 / 0.990 under
#: MAR, at 1.6-2.0x the time; four times: 0.927 / 0.986 (MCAR), 0.984
#: (magic.gamma, MAR), at 3.1-3.3x. The square root keeps time growing
#: slower than the rows until every row is seen ``MIN_EPOCHS`` times, and
#: below missForest's: on 20,000 rows of four tables not used to choose it
#: (california, shuttle, diamonds, covertype; 20% MCAR, one fit each) twice
#: the steps gave 0.986 / 0.884 / 0.990 / 0.982 of the error, and 0.975 /
#: 0.921 / 1.059 / 1.012 of missForest's (was 0.989 / 1.042 / 1.070 / 1.030),
#: in 0.3-0.6x its time.
ROWS_REFERENCE = 5000
ROWS_EXPONENT = 0.5
#: Tables with more than ``MISSING_REFERENCE`` of their entries missing take
#: ``(1 - missing_rate) / (1 - MISSING_REFERENCE)`` times the steps, but at
#: least ``MIN_OBSERVED_FACTOR`` of them. The budget was chosen at 20% of the
#: entries hidden; with more hidden, small tables imputed as well or better
#: with fewer steps. Development tables at 50% MCAR (nine tables of
#: 1,484-5,000 rows): 0.998 of the error with half the steps and with three
#: quarters (PageBlocks the worst, 1.024 / 1.010); at 70% MCAR (eight tables):
#: 0.992 with half the steps, 0.990 with 0.375 of them (this rule's factor
#: there; PageBlocks 1.004 the worst), in 0.3-0.6 of the time. 70% is the
#: most tried, hence the floor. Large tables need their steps: at 20,000 rows
#: and 50% MCAR the rule cost letter 1.0% and magic.gamma 0.3% of the error,
#: so it applies in full up to ``ROWS_REFERENCE`` rows and fades out (on a
#: log scale of the rows) by ``MISSING_FADE_ROWS``.
MISSING_REFERENCE = 0.2
MIN_OBSERVED_FACTOR = 0.375
MISSING_FADE_ROWS = 20_000
#: Width of each of the three hidden layers per feature, and its bounds.
WIDTH_PER_FEATURE = 12
MIN_WIDTH, MAX_WIDTH = 64, 256
#: Bounds of the number of epochs: tiny tables stop at MAX_EPOCHS passes, huge
#: ones still see every row MIN_EPOCHS times (time then grows linearly in rows).
MIN_EPOCHS, MAX_EPOCHS = 10, 500
#: Short, wide tables (few rows per feature) stop sooner: at most
#: ``(n_rows / n_features) ** 2 / SHORT_TABLE_DIVISOR`` epochs (digits,
#: 1,797 x 64: 125 instead of 500), but, on that account, no fewer than
#: SHORT_MIN_EPOCHS epochs nor ``min(SHORT_MIN_STEPS, SHORT_STEPS_PER_FEATURE
#: * n_features)`` optimizer steps. Squared: a bound linear in rows per feature
#: (4 epochs per row per feature) cost 13% more error on fault (1,941 x 27) and
#: 3% on cardio. The floor in steps matters for tables of a few hundred rows,
#: where an epoch is a single step: 100 steps left the wide ones far from
#: fitted (17-22% more error than 500 on 400-row samples of fault and
#: satimage-2), while narrow ones (yeast, magic.gamma) lost 2-5% at 500: hence
#: a floor that grows with the features, like the step budget itself.
SHORT_TABLE_DIVISOR = 7
SHORT_MIN_EPOCHS = 100
SHORT_STEPS_PER_FEATURE = 25
SHORT_MIN_STEPS = 500
#: Time constant of the weight average, as a share of a training call's steps,
#: and the most batches per epoch of a table that ``averaging="auto"`` averages.
AVERAGE_HORIZON = 0.25
AVERAGE_MAX_BATCHES = 1
#: Independent members of the imputation network (``module__n_members``) on
#: tables of at most ENSEMBLE_MAX_BATCHES batches.
ENSEMBLE_MEMBERS = 2
ENSEMBLE_MAX_BATCHES = 1


def hidden_sizes(n_features: int) -> tuple[int, int, int]:
    """Three hidden layers, wider for wider tables (``hidden_layer_sizes="auto"``)."""
    width = int(np.clip(WIDTH_PER_FEATURE * n_features, MIN_WIDTH, MAX_WIDTH))
    return (width, width, width)


def batches_per_epoch(n_rows: int, batch_size: int) -> int:
    """Optimizer steps per epoch: batches of at most ``batch_size`` rows."""
    return max(1, -(-n_rows // max(1, batch_size)))


def ensemble_members(n_rows: int, batch_size: int) -> int:
    """Members of the imputation network for a table of ``n_rows`` rows."""
    return ENSEMBLE_MEMBERS if batches_per_epoch(n_rows, batch_size) <= ENSEMBLE_MAX_BATCHES else 1


def training_steps(n_features: int, n_rows: int = 0, missing_rate: float = 0.0) -> int:
    """Optimizer steps for a table of ``n_features`` imputed columns and ``n_rows`` rows.

    ``missing_rate`` is the share of the table's entries that are missing:
    beyond ``MISSING_REFERENCE`` the steps shrink in proportion to the
    entries observed, fully up to ``ROWS_REFERENCE`` rows and less and less
    up to ``MISSING_FADE_ROWS``.
    """
    steps = np.clip(STEPS_PER_FEATURE * n_features, MIN_STEPS, MAX_STEPS)
    steps *= max(1.0, n_rows / ROWS_REFERENCE) ** ROWS_EXPONENT
    observed = (1.0 - missing_rate) / (1.0 - MISSING_REFERENCE)
    fade = np.log(max(1.0, n_rows / ROWS_REFERENCE)) / np.log(MISSING_FADE_ROWS / ROWS_REFERENCE)
    return int(steps * np.clip(observed, MIN_OBSERVED_FACTOR, 1.0) ** (1.0 - min(1.0, fade)))


def training_epochs(
    n_rows: int, n_features: int, batch_size: int, missing_rate: float = 0.0
) -> int:
    """Epochs that give about :func:`training_steps` steps, within the bounds.

    Tables with few rows per feature stop sooner, after at most
    ``(n_rows / n_features) ** 2 / SHORT_TABLE_DIVISOR`` epochs, but at least
    ``SHORT_MIN_EPOCHS`` epochs and ``min(SHORT_MIN_STEPS,
    SHORT_STEPS_PER_FEATURE * n_features)`` steps.
    """
    steps_per_epoch = batches_per_epoch(n_rows, batch_size)
    epochs = -(-training_steps(n_features, n_rows, missing_rate) // steps_per_epoch)
    if SHORT_TABLE_DIVISOR is not None:
        short = int((n_rows / max(1, n_features)) ** 2 / SHORT_TABLE_DIVISOR)
        floor_steps = min(SHORT_MIN_STEPS, SHORT_STEPS_PER_FEATURE * n_features)
        floor = max(SHORT_MIN_EPOCHS, -(-floor_steps // steps_per_epoch))
        epochs = min(epochs, max(floor, short))
    return int(np.clip(epochs, MIN_EPOCHS, MAX_EPOCHS))
