"""AutoencoderAnomalyDetector against IsolationForest, kNN, ECOD and PyOD's AutoEncoder.

Four kinds of data (``_anomaly_data.py``): ADBench's classical tables, ADBench's
image and text embeddings (ViT, RoBERTa), ADBench's four synthetic anomaly
types on classical tables' normal rows, and anomaly tasks built from real
labelled tables. ADBench's unsupervised protocol:
``train_test_split(X, y, test_size=0.3, stratify=y, random_state=42)``, fit on
the unlabeled train part (anomalies included), ROC-AUC and average precision
of the anomaly scores on the test part; train and test parts capped at
``--cap`` stratified rows. Every detector runs with its defaults:
skae's ``AutoencoderAnomalyDetector(random_state=seed)``, today's former
default (``score_method="hybrid", max_epochs=10``), ``IsolationForest(random_state=42)``,
the distance to the 5th nearest training row of standardized features (kNN),
PyOD's ``ECOD()`` and ``AutoEncoder()``. Fit times are wall-clock seconds of
``fit``, the best of up to ``--time-repeats`` fits (3; no repeat once a
second is spent), summed over each kind.

The leave-one-kind-out figure of each kind comes from ``search_anomaly.py``'s
cache (run ``python search_anomaly.py compute`` first): the score chosen on
the other three kinds, measured on the held-out one.

``--kinds`` picks kinds; ``--seeds K`` averages skae over K random states;
``--detectors`` picks detectors (among them ``steps1500``, the former
training length, 1,500 steps without the epoch limit and the entry budget,
``budgetN``, that rule capped at N million entries, and ``capN``, capped at
N epochs: skae with explicit ``max_epochs``; ``lrX``, skae's default with
``lr=X``, such as ``lr3e-3``); ``--epoch-caps N ...``
adds skae with the 1,500-step rule (``steps1500``) and with that rule capped
at N epochs (``capN``), as explicit ``max_epochs`` (a fit whose epoch count
equals one already run on the same set and seed is reused, not repeated);
``--speed`` times ``fit`` on a 100,000 x 50 table instead.
"""

from __future__ import annotations

import argparse
import os
import warnings

import numpy as np
import torch
from _anomaly_data import KINDS, load_kind
from _common import machine, timer
from search_anomaly import knn_scores, split
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderAnomalyDetector
from skae._anomaly import ENTRY_BUDGET, EPOCH_LIMIT

DETECTORS = ("skae", "former", "iforest", "knn", "ecod", "pyod_ae")
SKAE_RULES: set = set()


def pyod_models():
    try:
        from pyod.models.auto_encoder import AutoEncoder
        from pyod.models.ecod import ECOD
    except ImportError:
        return None
    return {"ecod": ECOD, "pyod_ae": lambda: AutoEncoder(verbose=0, device="cpu")}


class KNNDistance:
    """Distance to the 5th nearest training row, standardized features."""

    def fit(self, X):
        self.scaler = StandardScaler().fit(X)
        self.reference = self.scaler.transform(X)
        return self

    def scores(self, X):
        return knn_scores(self.reference, self.scaler.transform(X))[1]


def step_rule_epochs(n_rows, n_features, cap=None, batch_size=32, budget=1_500):
    """Epochs of the 1,500-step rule (at most 10 for a code as wide as the input), capped.

    The default's rule before the epoch limit and the entry budget were added.
    """
    epochs = -(-budget // -(-n_rows // batch_size))
    if min(32, n_features) >= n_features:
        epochs = min(epochs, 10)
    return epochs if cap is None else min(epochs, cap)


def rule_epochs(name, n_rows, n_features):
    """Epochs of a named training-length rule: ``steps1500``, ``capN`` (the
    1,500-step rule capped at N epochs) or ``budgetN`` (capped at N million
    entries, epochs x rows x features, but 10 epochs at least)."""
    epochs = step_rule_epochs(n_rows, n_features)
    if name.startswith("cap"):
        return min(epochs, int(name[3:]))
    if name.startswith("budget"):
        entries = float(name[6:]) * 1e6
        return min(epochs, max(10, int(entries // (n_rows * n_features))))
    return epochs


#: Fit times are the best of up to this many fits (``--time-repeats``), the
#: repeats stopping once REPEAT_SECONDS are spent: on a busy machine a short
#: fit's single time is mostly noise.
TIME_REPEATS = [3]
REPEAT_SECONDS = 1.0


def is_skae(name):
    """Whether ``name`` is skae's default or a variant of it."""
    return name in ("skae", "former") or name in SKAE_RULES or name.startswith("lr")


def limits_cut(n_rows, n_features):
    """Whether the epoch limit or the entry budget shortens the 1,500-step rule."""
    epochs = step_rule_epochs(n_rows, n_features)
    return epochs > min(EPOCH_LIMIT, max(10, ENTRY_BUDGET // (n_rows * n_features)))


def make_detector(name, seed, shape, pyod):
    if name == "skae":
        return AutoencoderAnomalyDetector(random_state=seed)
    if name.startswith("lr"):
        return AutoencoderAnomalyDetector(random_state=seed, lr=float(name[2:]))
    if name in SKAE_RULES:
        return AutoencoderAnomalyDetector(random_state=seed, max_epochs=rule_epochs(name, *shape))
    if name == "former":
        return AutoencoderAnomalyDetector(random_state=seed, score_method="hybrid", max_epochs=10)
    if name == "iforest":
        return IsolationForest(random_state=42)
    if name == "knn":
        return KNNDistance()
    return pyod[name]()


def fit_and_score(name, X_train, X_test, seed, pyod):
    """(anomaly scores of X_test by the first fit, best fit seconds) of one detector."""
    times, model = [], None
    while len(times) < TIME_REPEATS[0] and sum(times) < REPEAT_SECONDS:
        fitted = make_detector(name, seed, X_train.shape, pyod)
        with timer() as t, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted.fit(X_train)
        times.append(t[0])
        model = model or fitted
    if isinstance(model, KNNDistance):
        score = model.scores(X_test)
    elif hasattr(model, "score_samples"):
        score = -model.score_samples(X_test)
    else:
        score = model.decision_function(X_test)
    return score, min(times)


def evaluate(task, names, seeds, cap, pyod):
    X_train, X_test, _, y_test = split(task.X, task.y, cap, cap)
    row = {"kind": task.kind, "data": task.name, "n": len(X_train), "d": task.X.shape[1],
           "cut": limits_cut(*X_train.shape)}
    done = {}
    for name in names:
        runs = seeds if is_skae(name) else 1
        aucs, aps, secs = [], [], []
        for seed in range(runs):
            key = None
            if name in SKAE_RULES:
                key = (rule_epochs(name, *X_train.shape), seed)
            if key in done:
                score, seconds = done[key]
            else:
                score, seconds = fit_and_score(name, X_train, X_test, seed, pyod)
                if key is not None:
                    done[key] = score, seconds
            aucs.append(roc_auc_score(y_test, score))
            aps.append(average_precision_score(y_test, score))
            secs.append(seconds)
        row[name] = (np.mean(aucs), np.mean(aps), np.mean(secs))
    return row


def leave_one_kind_out():
    """{kind: (chosen score, held-out ROC-AUC)} from the search's cache, if any."""
    try:
        from search_anomaly import loko
    except ImportError:
        return {}
    return loko()


def speed(n_rows=100_000, n_features=50):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_rows, n_features))
    pyod = pyod_models()
    for name in ("skae", "pyod_ae"):
        if name == "pyod_ae" and pyod is None:
            continue
        _, seconds = fit_and_score(name, X, X[:10], 0, pyod)
        print(f"{name:>8}: fit on {n_rows:,} x {n_features} in {seconds:.1f} s")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="*", default=list(KINDS))
    parser.add_argument("--cap", type=int, default=2000)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--detectors", nargs="*", default=list(DETECTORS))
    parser.add_argument("--epoch-caps", nargs="*", type=int, default=[])
    parser.add_argument("--speed", action="store_true")
    parser.add_argument("--time-repeats", type=int, default=TIME_REPEATS[0])
    args = parser.parse_args(argv)
    if args.epoch_caps:
        SKAE_RULES.update(["steps1500"] + [f"cap{c}" for c in args.epoch_caps])
    for name in [n for n in args.detectors if n.startswith(("steps1500", "cap", "budget"))]:
        SKAE_RULES.add(name)
        args.detectors.remove(name)
    TIME_REPEATS[0] = args.time_repeats
    print(machine())
    if args.speed:
        speed()
        return
    pyod = pyod_models()
    names = [n for n in args.detectors if pyod is not None or n not in ("ecod", "pyod_ae")]
    rules = sorted(SKAE_RULES, key=lambda n: (n != "steps1500", len(n), n))
    names = names[:1] + rules + names[1:] if "skae" in names else rules + names
    if pyod is None:
        print("[note] PyOD not installed: ECOD and PyOD's AutoEncoder not run "
              "(pip install -e '.[benchmark]').")
    # One untimed fit of each detector first, so that no kind's times carry
    # torch's start-up costs.
    warm = np.random.default_rng(0).normal(size=(64, 40))
    for name in names:
        fit_and_score(name, warm, warm[:5], 0, pyod)
    rows = []
    for kind in args.kinds:
        for task in load_kind(kind):
            rows.append(evaluate(task, names, args.seeds, args.cap, pyod))
            r = rows[-1]
            print(f"{kind:>10} {task.name:>28} n={r['n']:5d} d={r['d']:4d} "
                  + ("cut " if r["cut"] else "    ")
                  + " ".join(f"{n} {r[n][0]:.3f} {r[n][2]:.2f}s" for n in names), flush=True)
    loko = leave_one_kind_out()
    print("\nMean ROC-AUC / mean AP per kind (fit seconds summed over the kind)")
    print(f"{'kind':>10} {'sets':>4} " + " ".join(f"{n:>21}" for n in names)
          + f" {'skae LOKO':>10}")
    for kind in args.kinds:
        kind_rows = [r for r in rows if r["kind"] == kind]
        if not kind_rows:
            continue
        cells = []
        for n in names:
            auc, ap, secs = (np.mean([r[n][i] for r in kind_rows]) for i in range(3))
            cells.append(f"{auc:.3f} / {ap:.3f} {secs * len(kind_rows):6.1f}s")
        held_out = f"{loko[kind][1]:10.3f}" if kind in loko else f"{'-':>10}"
        print(f"{kind:>10} {len(kind_rows):4d} " + " ".join(f"{c:>21}" for c in cells)
              + f" {held_out}")
    for kind in args.kinds:
        kind_rows = [r for r in rows if r["kind"] == kind]
        if kind_rows and "skae" in names:
            wins = {n: sum(r["skae"][0] >= r[n][0] for r in kind_rows)
                    for n in names if n != "skae"}
            print(f"{kind:>10}: skae ahead or level on " + ", ".join(
                f"{n} {w}/{len(kind_rows)}" for n, w in wins.items()))
    for n in [n for n in names if n.startswith("lr") and "skae" in names]:
        for kind in args.kinds:
            kind_rows = [r for r in rows if r["kind"] == kind]
            if kind_rows:
                picked = [r[n] if r["cut"] else r["skae"] for r in kind_rows]
                print(f"{kind:>10}: {n} only where the limits cut the training "
                      f"({sum(r['cut'] for r in kind_rows)}/{len(kind_rows)} sets): "
                      f"{np.mean([p[0] for p in picked]):.3f} / {np.mean([p[1] for p in picked]):.3f}"
                      f" {sum(p[2] for p in picked):.1f}s")
    for kind in args.kinds:
        kind_rows = [r for r in rows if r["kind"] == kind]
        if kind_rows and "pyod_ae" in names:
            for n in [n for n in names if is_skae(n) and n != "former"]:
                faster = sum(r[n][2] <= r["pyod_ae"][2] for r in kind_rows)
                ratio = sum(r[n][2] for r in kind_rows) / sum(r["pyod_ae"][2] for r in kind_rows)
                print(f"{kind:>10}: {n} fit time / PyOD AutoEncoder's {ratio:.2f}, "
                      f"no slower on {faster}/{len(kind_rows)} sets")
    for kind, (chosen, auc) in loko.items():
        print(f"LOKO {kind:>10}: {chosen} chosen on the other kinds -> {auc:.3f}")


if __name__ == "__main__":
    torch.set_num_threads(int(os.environ.get("SKAE_BENCH_THREADS", "1")))
    main()
