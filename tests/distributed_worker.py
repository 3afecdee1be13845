"""One rank of a data-parallel fit, started by ``torchrun`` from test_distributed.py.

Usage: ``torchrun --standalone --nproc-per-node=2 distributed_worker.py DIR``.
``DIR`` holds ``X.npy`` and ``params.json`` (the estimator's parameters); each
rank writes ``rank<r>.json`` (rows it trained on per epoch, the history's
losses, an imputer's losses and imputations, the error of a fit whose ranks
disagree) and rank 0 the fitted
model, ``model.pkl``, with its codes for ``X``, ``codes.npy``.
"""

import json
import os
import pickle
import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from skorch.callbacks import Callback
from skorch.dataset import get_len

from skae import AutoencoderImputer, AutoencoderTransformer


class CountRows(Callback):
    """Rows this rank trained on in each epoch."""

    def initialize(self):
        self.rows = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.rows.append(0)

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if training:
            self.rows[-1] += get_len(batch[0])


def main(folder: Path):
    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    X = np.load(folder / "X.npy")
    params = json.loads((folder / "params.json").read_text())
    counter = CountRows()
    model = AutoencoderTransformer(**params, callbacks=[("count", counter)]).fit(X)
    result = {
        "rows_per_epoch": counter.rows,
        "train_loss": [epoch["train_loss"] for epoch in model.history_],
        "valid_loss": [epoch.get("valid_loss") for epoch in model.history_],
        "n_rows": len(X),
        # The ranges that clamp new rows, recorded on each rank's shards.
        "ranges": [model.module_.input_range.tolist(), model.module_.code_range.tolist()],
    }
    # The imputer's batches (hidden entries drawn per rank) shard the same way.
    gappy = np.where(np.random.default_rng(0).random(X.shape) < 0.2, np.nan, X)
    imputer = AutoencoderImputer(max_epochs=2, hidden_layer_sizes=[16], random_state=0)
    imputed = imputer.fit(gappy).transform(gappy)
    result["imputer_train_loss"] = [epoch["train_loss"] for epoch in imputer.history_]
    result["imputed_sum"] = float(imputed.sum())
    # A fit whose ranks pass different data stops with an error on every rank.
    try:
        AutoencoderTransformer(**params).fit(X[: len(X) - rank])
    except RuntimeError as error:
        result["mismatch_error"] = str(error)
    (folder / f"rank{rank}.json").write_text(json.dumps(result))
    if rank == 0:
        model.set_params(callbacks=None)  # CountRows lives in this script's __main__
        with open(folder / "model.pkl", "wb") as f:
            pickle.dump(model, f)
        np.save(folder / "codes.npy", model.transform(X))
    dist.barrier()  # no rank leaves while another still works
    dist.destroy_process_group()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
    # Everything is written. Leave without running C++ static destructors:
    # gloo's threads occasionally abort the interpreter's teardown ("terminate
    # called without an active exception", SIGABRT) on a loaded machine, after
    # the work is done; that is torch's teardown, not what this test checks.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
