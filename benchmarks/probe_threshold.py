"""How ``AutoencoderAnomalyDetector(contamination="auto")`` sets its threshold.

``auto`` flags the rows whose anomaly score lies beyond a fence: the upper
quartile of the training scores plus ``AUTO_FENCE_IQRS`` interquartile
ranges (or lower, when a group of high scores is set apart by a gap of
``AUTO_GAP_IQRS`` of them). This probe fits the default detector once on
every development task of ``bench_anomaly.py`` (its split: 70/30 stratified,
at most 2,000 training and 2,000 test rows), and scores ``predict`` on the
held-out rows for each candidate fence: F1 against the labels, the share of
rows flagged, of the normal rows (false alarms) and of the anomalies
(recall). Fixed shares of 5% and 10% are printed beside them.

The fence is then chosen leave-one-kind-out: for each kind of data (tables,
embeddings, synthetic anomalies, labelled tables) the fence with the best
mean F1 on the other three kinds, among those whose median false-alarm
share there is at most ``--max-false-alarms``, is scored on the held-out
kind. ``python benchmarks/probe_threshold.py`` (one core, about 8 minutes).
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import torch
from _anomaly_data import KINDS, load_kind
from search_anomaly import split
from sklearn.metrics import f1_score

import skae._anomaly as detector_module
from skae import AutoencoderAnomalyDetector

FENCES = (1.0, 1.5, 2.0, 3.0)
SHARES = (0.05, 0.1)


def measure(kinds, cap=2000):
    """One record per task: F1, share flagged, false alarms and recall per rule."""
    records = []
    default_fence = detector_module.AUTO_FENCE_IQRS
    for kind in kinds:
        for task in load_kind(kind):
            X_train, X_test, _, y_test = split(task.X, task.y, cap, cap)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                det = AutoencoderAnomalyDetector(random_state=0).fit(X_train)
            train, test = -det.score_samples(X_train), -det.score_samples(X_test)
            thresholds = {}
            for fence in FENCES:
                detector_module.AUTO_FENCE_IQRS = fence
                thresholds[f"fence {fence:g}"] = detector_module.auto_threshold(train)
            detector_module.AUTO_FENCE_IQRS = default_fence
            for share in SHARES:
                thresholds[f"share {share:g}"] = float(np.quantile(train, 1 - share))
            record = {"kind": kind, "name": task.name, "rate": float(np.mean(y_test))}
            for rule, threshold in thresholds.items():
                flagged = test > threshold
                record[rule] = {
                    "f1": float(f1_score(y_test, flagged, zero_division=0.0)),
                    "flagged": float(flagged.mean()),
                    "false_alarms": float(flagged[y_test == 0].mean()),
                    "recall": float(flagged[y_test == 1].mean()),
                }
            records.append(record)
            print(f"  {kind:>10} {task.name:<32} anomalies {record['rate']:.3f}  " + "  ".join(
                f"{rule} {record[rule]['f1']:.2f}" for rule in thresholds), flush=True)
    return records


def summary(records, max_false_alarms):
    kinds = sorted({r["kind"] for r in records})
    rules = [key for key in records[0] if key not in ("kind", "name", "rate")]

    def mean(kind_list, rule, stat="f1"):
        return float(np.mean([np.mean([r[rule][stat] for r in records if r["kind"] == k])
                              for k in kind_list]))

    print("\nmean F1 per kind (and over the kinds); medians over the tasks")
    for rule in rules:
        per_kind = "  ".join(f"{k} {mean([k], rule):.3f}" for k in kinds)
        medians = {stat: float(np.median([r[rule][stat] for r in records]))
                   for stat in ("flagged", "false_alarms", "recall")}
        never = np.mean([r[rule]["flagged"] == 0 for r in records])
        print(f"  {rule:<11} {per_kind}  all {mean(kinds, rule):.3f} | flagged "
              f"{medians['flagged']:.3f}, normal rows {medians['false_alarms']:.3f}, anomalies "
              f"{medians['recall']:.3f}, no row flagged on {never:.0%} of the tasks")
    fences = [rule for rule in rules if rule.startswith("fence")]
    print(f"\nleave one kind out (fences flagging at most {max_false_alarms:.0%} of the "
          "normal rows, median over the other kinds' tasks)")
    held_out = []
    for kind in kinds:
        others = [k for k in kinds if k != kind]
        allowed = [rule for rule in fences if np.median(
            [r[rule]["false_alarms"] for r in records if r["kind"] in others]) <= max_false_alarms]
        best = max(allowed, key=lambda rule: mean(others, rule))
        held_out.append(mean([kind], best))
        print(f"  {kind:>10}: {best} chosen, held-out F1 {held_out[-1]:.3f} "
              f"(fence 3: {mean([kind], 'fence 3'):.3f})")
    print(f"  held-out mean F1 {np.mean(held_out):.3f}; fence 3 {mean(kinds, 'fence 3'):.3f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="*", default=list(KINDS))
    parser.add_argument("--max-false-alarms", type=float, default=0.05)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    summary(measure(args.kinds), args.max_false_alarms)


if __name__ == "__main__":
    main()
