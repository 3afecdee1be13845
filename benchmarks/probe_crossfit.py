"""Probe of the cross-fitted keep-or-PCA decision on small tables (issue 17).

Cases: ``bench_transformer.py``'s reconstruction protocol (70/30 split,
``random_state=0``, k = 2 and ceil(d / 8)) on the tables of a group whose
training part has fewer than 1,000 rows, at network seeds 0, 1, 2.

- ``compare``: the estimator with a rule off (``--toggle cross-fit``:
  ``_CROSS_FIT_FOLDS = 0``; ``narrower``: ``_NARROWER_HIDDEN = None``) and
  with the default, one after the other in this process: held-out error /
  PCA's, geometric means, case-seeds above 1.0005, fit times.
- ``full``: ``bench_transformer.py``'s reconstruction of all the tables
  of ``--group`` (seed 0), the rule off (``previous``) and on (``ae``) in
  this process.
- ``log``: each case-seed fitted once with the network always kept (its
  validation gain over the PCA start and held-out ratio logged), then fold
  fits on ``--folds`` folds of its training rows, either at the full fit's
  epoch count (``--fold-fits epochs``, the adopted recipe) or choosing their
  own epoch by early stopping on a tenth of their rows (``own``), each scored
  with PCA of its rows on the rows it left out; JSON lines to ``--out``.
- ``rules``: every keep-or-PCA rule applied to the same logged fits
  (files given as ``label=path``).
- ``configs``: ``log`` for each network setting of ``--configs``
  (``CONFIGS``), case-seed by case-seed in this process; ``choose``: each
  setting under the default rule, and choices among two or three settings
  by their pooled out-of-fold errors, from those logs.

``python benchmarks/probe_crossfit.py compare --group dev`` (one core).
"""
import argparse
import itertools
import json
import math
import os
import sys
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from bench_transformer import component_counts, tables  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import skae._transformer as tr  # noqa: E402
from skae import AutoencoderTransformer  # noqa: E402

DEFAULT_FOLDS = tr._CROSS_FIT_FOLDS

#: ``compare --toggle``: the module constant set back to its previous value.
TOGGLES = {"cross-fit": ("_CROSS_FIT_FOLDS", 0), "narrower": ("_NARROWER_HIDDEN", None)}


def cases(group, seeds):
    """``(case, X_train, k, seed, heldout_ratio)`` of every small case-seed."""
    for name, X, y, task, _ in tables(group):
        X_train, X_test = train_test_split(X, test_size=0.3, random_state=0,
                                           stratify=y if task == "class" else None)
        if len(X_train) >= 1000:
            continue
        scaler = StandardScaler().fit(X_train)
        S, T = scaler.transform(X_train), scaler.transform(X_test)
        for k in component_counts(X.shape[1]):
            pca = PCA(k, random_state=0).fit(S)
            pca_err = np.mean((pca.inverse_transform(pca.transform(T)) - T) ** 2)

            def ratio(ae, T=T, scaler=scaler, pca_err=pca_err):
                rec = scaler.transform(ae.inverse_transform(ae.transform(X_test)))
                return float(np.mean((rec - T) ** 2) / pca_err)

            for seed in seeds:
                yield f"{name} k={k}", X_train, k, seed, ratio


#: Network settings for small tables compared by ``configs`` / ``choose``.
CONFIGS = {
    "default": {},
    "noise0.5": {"module__noise": 0.5},
    "noise0.8": {"module__noise": 0.8},
    "h64-32": {"hidden_layer_sizes": (64, 32)},
    "h128-64": {"hidden_layer_sizes": (128, 64)},
}


def fit(k, seed, X, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        ae = AutoencoderTransformer(n_components=k, random_state=seed, **params).fit(X)
    return ae, time.perf_counter() - start


def compare(args):
    name, value = TOGGLES[args.toggle]
    settings = {"previous": value, args.toggle: getattr(tr, name)}
    results = {label: [] for label in settings}
    times = dict.fromkeys(results, 0.0)
    for case, X, k, seed, ratio in cases(args.group, args.seeds):
        line = f"{case:>18} seed={seed}"
        for label, setting in settings.items():
            setattr(tr, name, setting)
            ae, seconds = fit(k, seed, X)
            times[label] += seconds
            results[label].append((f"{case} s{seed}", ratio(ae)))
            line += f"  {label}={results[label][-1][1]:.4f}"
        print(line, flush=True)
    setattr(tr, name, settings[args.toggle])
    for label, rows in results.items():
        above = [f"{c} {r:.4f}" for c, r in rows if r > 1.0005]
        print(f"{args.group} {label}: {len(rows)} case-seeds, geometric mean "
              f"{math.exp(np.mean(np.log([r for _, r in rows]))):.4f}, above 1.0: "
              f"{len(above)} {above}, fit time {times[label]:.1f}s")
    print(f"fit time ratio {times[args.toggle] / times['previous']:.2f}")


def full(args):
    """``bench_transformer.py``'s reconstruction of a group, with the rule off and on."""
    import bench_transformer

    name, value = TOGGLES[args.toggle]
    settings = {"previous": value, "ae": getattr(tr, name)}

    class WithRule:
        """The estimator, fitted with the rule of its variant."""

        def __init__(self, rule="ae", **params):
            self.rule, self.estimator = rule, AutoencoderTransformer(**params)

        def fit_transform(self, X, y=None):
            setattr(tr, name, settings[self.rule])
            return self.estimator.fit_transform(X, y)

        def __getattr__(self, attribute):
            return getattr(self.estimator, attribute)

    bench_transformer.AutoencoderTransformer = WithRule
    bench_transformer.reconstruction(args.group, False, {"previous": {"rule": "previous"},
                                                         "ae": {}})


def fold_errors(ae, X, k, args):
    """Validation gains, net and PCA errors of fold fits, as ``log`` describes."""
    best = dict(ae.net_.callbacks_)["early_stopping"].best_epoch_
    rng = np.random.default_rng((ae._seed_ + args.fold_offset, 0xC805))
    gains, net, pca = [], [], []
    for held in np.array_split(rng.permutation(len(X)), args.folds):
        rows = np.setdiff1d(np.arange(len(X)), held)
        own = {} if args.fold_fits == "own" else {"early_stopping": False,
                                                  "max_epochs": max(best, 1)}
        fold = clone(ae).set_params(random_state=int(rng.integers(2**31)), **own)
        fold._fold_fit = True
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fold.fit(X[rows])
        net.append(float(-fold.score_samples(X[held]).sum()))
        S, H = fold._network_input(X[rows]), fold._network_input(X[held])
        fold_pca = PCA(k).fit(S)
        pca.append(float(np.mean((fold_pca.inverse_transform(fold_pca.transform(H)) - H) ** 2,
                                 axis=1).sum()))
        gain = fold.net_.validation_gain_
        gains.append(1.0 if gain is None else float(gain))  # no own decision: kept
    return gains, net, pca


def log(args):
    tr._PCA_MARGIN, tr._CROSS_FIT_FOLDS = -np.inf, 0  # keep every network
    with open(args.out, "a") as out:
        for case, X, k, seed, ratio in cases(args.group, args.seeds):
            ae, seconds = fit(k, seed, X)
            row = {"case": case, "seed": seed, "ratio": ratio(ae), "t_full": seconds,
                   "gain": float(ae.net_.validation_gain_)}
            start = time.perf_counter()
            row["g"], row["net"], row["pca"] = fold_errors(ae, X, k, args)
            row["t_folds"] = time.perf_counter() - start
            out.write(json.dumps(row) + "\n")
            out.flush()
            print(case, seed, f"ratio={row['ratio']:.3f} gain={row['gain']:.3f} "
                  f"out-of-fold={1 - sum(row['net']) / sum(row['pca']):.3f}", flush=True)


def configs(args):
    """``log`` for each of ``--configs`` in turn, case-seed by case-seed, one process."""
    tr._PCA_MARGIN, tr._CROSS_FIT_FOLDS = -np.inf, 0  # keep every network
    labels = args.configs.split(",")
    with open(args.out, "a") as out:
        for case, X, k, seed, ratio in cases(args.group, args.seeds):
            line = f"{case:>18} seed={seed}"
            for label in labels:
                ae, seconds = fit(k, seed, X, **CONFIGS[label])
                row = {"case": case, "seed": seed, "config": label, "ratio": ratio(ae),
                       "t_full": seconds, "gain": float(ae.net_.validation_gain_)}
                start = time.perf_counter()
                row["g"], row["net"], row["pca"] = fold_errors(ae, X, k, args)
                row["t_folds"] = time.perf_counter() - start
                out.write(json.dumps(row) + "\n")
                out.flush()
                oof = 1 - sum(row["net"]) / sum(row["pca"])
                line += f"  {label}={row['ratio']:.3f} (val {row['gain']:+.3f} oof {oof:+.3f})"
            print(line, flush=True)


def choose(args):
    """Each fixed setting under the default rule, and choices among them on the folds.

    A fixed setting keeps its network when its validation gain passes
    ``_PCA_MARGIN`` and its pooled out-of-fold error is below PCA's (the
    estimator's rule); a choice among settings keeps, of those passing the
    margin, the one of lowest pooled out-of-fold error if below PCA's.
    """
    rows = [json.loads(line) for path in args.logs for line in open(path)]
    by_case = {}
    for row in rows:
        by_case.setdefault((row["case"], row["seed"]), {})[row["config"]] = row
    labels = list(dict.fromkeys(row["config"] for row in rows))

    def passes(row):
        return row["gain"] > 0.05

    def cost(row):
        return row["t_full"] + (row["t_folds"] if passes(row) else 0.0)

    def report(name, picks):
        ratios = [r for r, _ in picks]
        above = [f"{c[0]} s{c[1]} {r:.4f}" for c, (r, _) in zip(by_case, picks) if r > 1.0005]
        seconds = sum(t for _, t in picks)
        base = sum(cost(fits["default"]) for fits in by_case.values())
        print(f"{name:>32}: geometric mean {math.exp(np.mean(np.log(ratios))):.4f}, "
              f"above 1.0: {len(above)} {above}, fit time {seconds:.1f}s "
              f"(x{seconds / base:.2f})")

    for label in labels:
        picks = []
        for fits in by_case.values():
            row = fits[label]
            kept = passes(row) and sum(row["net"]) < sum(row["pca"])
            picks.append((row["ratio"] if kept else 1.0, cost(row)))
        report(label, picks)
    for size in (2, 3):
        for group in itertools.combinations(labels, size):
            if "default" not in group and not args.any:
                continue
            picks = []
            for case, fits in by_case.items():
                candidates = [fits[label] for label in group if passes(fits[label])]
                best = min(candidates, key=lambda r: sum(r["net"]), default=None)
                kept = best is not None and sum(best["net"]) < sum(best["pca"])
                picks.append((best["ratio"] if kept else 1.0,
                              sum(cost(fits[label]) for label in group)))
                if args.verbose and kept:
                    print(f"    {'+'.join(group)} {case}: {best['config']}")
            report("choose " + "+".join(group), picks)


def keep(row, margin, how):
    """A rule's decision: validation gain above ``margin``, then the folds' verdict."""
    if row["gain"] <= margin:
        return False
    gains, net, pca = (np.array(row[key]) for key in ("g", "net", "pca"))
    errors = np.where(gains > margin, net, pca)  # folds that kept PCA score as PCA
    if how == "pooled":
        return errors.sum() < pca.sum()
    if how == "pooled 1%":
        return errors.sum() < 0.99 * pca.sum()
    return how == "none"


def rules(args):
    sets = {label: [json.loads(line) for line in open(path)]
            for label, path in (item.split("=", 1) for item in args.logs)}
    for how in ("none", "pooled", "pooled 1%"):
        for margin in (0.05, 0.02, 0.0):
            parts = []
            for label, rows in sets.items():
                ratios = [r["ratio"] if keep(r, margin, how) else 1.0 for r in rows]
                above = [f"{r['case']} s{r['seed']} {x:.4f}"
                         for r, x in zip(rows, ratios) if x > 1.0005]
                seconds = sum(r["t_full"] + (r["t_folds"] if how != "none" and r["gain"] > margin
                                             else 0.0) for r in rows)
                parts.append(f"{label} {math.exp(np.mean(np.log(ratios))):.4f} "
                             f"x{seconds / sum(r['t_full'] for r in rows):.1f} above {above}")
            print(f"{how:>9} margin {margin:<4} | " + " | ".join(parts))


if __name__ == "__main__":
    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode",
                        choices=["compare", "full", "log", "rules", "configs", "choose"])
    parser.add_argument("logs", nargs="*", help="rules: label=path of log output; "
                        "choose: paths of configs output")
    parser.add_argument("--configs", default=",".join(CONFIGS),
                        help="configs: labels of CONFIGS, comma-separated")
    parser.add_argument("--any", action="store_true", help="choose: also sets without default")
    parser.add_argument("--verbose", action="store_true", help="choose: print each choice")
    parser.add_argument("--group", default="dev", choices=["dev", "report"])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--toggle", choices=list(TOGGLES), default="narrower",
                        help="compare: the rule compared with its previous value")
    parser.add_argument("--folds", type=int, default=DEFAULT_FOLDS)
    parser.add_argument("--fold-fits", choices=["epochs", "own"], default="epochs")
    parser.add_argument("--fold-offset", type=int, default=0, help="another draw of the folds")
    parser.add_argument("--out", help="log: JSON lines file")
    args = parser.parse_args()
    args.seeds = [int(s) for s in args.seeds.split(",")]
    {"compare": compare, "full": full, "log": log, "rules": rules, "configs": configs,
     "choose": choose}[args.mode](args)
