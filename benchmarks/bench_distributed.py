"""Beyond one process: Dask scoring and data-parallel training, against one process.

What it prints, all measured in one run on this machine:

1. Rows/s of ``score_samples`` of a fitted ``AutoencoderAnomalyDetector`` on a
   table of float32 rows stored as Parquet files, read, scored and written
   back: one process going file by file (torch's default threads, and one
   thread), against ``skae.map_partitions`` on ``dask.dataframe.read_parquet``
   on a 2-worker ``LocalCluster`` (worker processes, one thread each).
2. Seconds per epoch of ``AutoencoderTransformer.fit`` in one process (one
   thread and the default threads) against a data-parallel fit on
   ``--nproc`` processes started with ``torchrun`` (gloo on the CPU, one
   thread per process; NCCL, one GPU per process, with ``--device cuda``).
   Same global batch size and epochs; the first epoch is left out of the
   mean.

On a 2-core machine expect about 1x for training: two processes share the
two cores a single process already uses. The point there is correctness;
the speed-up comes with several GPUs or machines.

``--quick`` uses less data.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _common import machine, print_table

from skae import AutoencoderAnomalyDetector, AutoencoderTransformer, map_partitions

FEATURES = 32


def make_data(n, d=FEATURES, seed=0):
    """Rows near a nonlinear 6-dimensional manifold, plus noise, float32."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 6)).astype(np.float32)
    W = rng.normal(size=(6, d)).astype(np.float32)
    return (np.tanh(latent @ W) + 0.05 * rng.normal(size=(n, d))).astype(np.float32)


def best_of(fn, repeats):
    return min(fn() for _ in range(repeats))


def section_dask(n_rows, n_files, repeats):
    try:
        import dask.dataframe as dd
        import pandas as pd
        from dask.distributed import Client, LocalCluster
    except ImportError:
        print("[skip] Dask is not installed (pip install -e '.[distributed]').")
        return []
    X = make_data(n_rows)
    columns = [f"x{j}" for j in range(X.shape[1])]
    detector = AutoencoderAnomalyDetector(max_epochs=3, random_state=0)
    detector.fit(pd.DataFrame(X[:20_000], columns=columns))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "in").mkdir()
        for i, part in enumerate(np.array_split(X, n_files)):
            pd.DataFrame(part, columns=columns).to_parquet(folder / "in" / f"{i:03d}.parquet")
        files = sorted((folder / "in").glob("*.parquet"))

        def one_process():
            start = time.perf_counter()
            for i, path in enumerate(files):
                scores = detector.score_samples(pd.read_parquet(path))
                pd.DataFrame({"score": scores}).to_parquet(folder / f"one-{i:03d}.parquet")
            return time.perf_counter() - start

        default_threads = torch.get_num_threads()
        for threads in sorted({1, default_threads}):
            torch.set_num_threads(threads)
            seconds = best_of(one_process, repeats)
            rows.append({"how": f"one process, {threads} thread(s), file by file",
                         "rows/s": n_rows / seconds})
        torch.set_num_threads(default_threads)

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster, \
                Client(cluster):
            def on_cluster():
                start = time.perf_counter()
                table = dd.read_parquet(folder / "in")
                scores = map_partitions(detector, table, "score_samples")
                scores.to_frame("score").to_parquet(folder / "dask", overwrite=True)
                return time.perf_counter() - start

            on_cluster()  # warm-up: the workers import torch and skae
            seconds = best_of(on_cluster, repeats)
        rows.append({"how": "map_partitions on a LocalCluster, 2 workers x 1 thread",
                     "rows/s": n_rows / seconds})
    for row in rows:
        row["vs 1 thread"] = row["rows/s"] / rows[0]["rows/s"]
    print_table(rows, ["how", "rows/s", "vs 1 thread"], floatfmt="{:,.2f}")
    print("Each reads the Parquet files, scores them (the detector's default "
          f"score_method={detector.score_method!r}) and writes the scores.")
    return rows


TRAIN_PARAMS = dict(n_components=8, hidden_layer_sizes=[256, 128], batch_size=256,
                    early_stopping=False, random_state=0)


def epoch_seconds(history) -> float:
    """Mean duration of the epochs after the first."""
    durations = [epoch["dur"] for epoch in history]
    return float(np.mean(durations[1:] if len(durations) > 1 else durations))


def worker(folder: Path):
    """One rank of the data-parallel fit (started by torchrun)."""
    import torch.distributed as dist

    args = json.loads((folder / "args.json").read_text())
    torch.set_num_threads(1)
    device = args["device"]
    if device == "cuda":
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    dist.init_process_group("nccl" if device == "cuda" else "gloo")
    X = make_data(args["n_rows"])
    model = AutoencoderTransformer(**TRAIN_PARAMS, max_epochs=args["epochs"], device=device)
    model.fit(X)
    if dist.get_rank() == 0:
        (folder / "result.json").write_text(json.dumps({
            "epoch_s": epoch_seconds(model.history_),
            "train_loss": model.history_[-1]["train_loss"],
        }))
    dist.barrier()
    dist.destroy_process_group()


def section_training(n_rows, epochs, nproc, device):
    X = make_data(n_rows)
    rows = []
    default_threads = torch.get_num_threads()
    for threads in sorted({1, default_threads}):
        torch.set_num_threads(threads)
        model = AutoencoderTransformer(**TRAIN_PARAMS, max_epochs=epochs, device=device).fit(X)
        rows.append({"how": f"one process, {threads} thread(s)",
                     "epoch_s": epoch_seconds(model.history_),
                     "train_loss": model.history_[-1]["train_loss"]})
    torch.set_num_threads(default_threads)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "args.json").write_text(json.dumps(
            {"n_rows": n_rows, "epochs": epochs, "device": device}))
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        result = subprocess.run(
            [sys.executable, "-m", "torch.distributed.run", "--standalone",
             f"--nproc-per-node={nproc}", __file__, "--worker", str(folder)],
            env=env, capture_output=True, text=True,
        )
        if result.returncode != 0:
            print(result.stdout[-2000:], result.stderr[-4000:])
            raise SystemExit("the data-parallel fit failed")
        parallel = json.loads((folder / "result.json").read_text())
    backend = "nccl" if device == "cuda" else "gloo"
    rows.append({"how": f"torchrun {nproc} processes ({backend}), 1 thread each", **parallel})
    for row in rows:
        row["speed-up vs 1 thread"] = rows[0]["epoch_s"] / row["epoch_s"]
    print_table(rows, ["how", "epoch_s", "speed-up vs 1 thread", "train_loss"],
                floatfmt="{:.4f}")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="less data")
    parser.add_argument("--nproc", type=int, default=2, help="training processes")
    parser.add_argument("--device", default="cpu", help="'cpu' (gloo) or 'cuda' (NCCL)")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        return worker(args.worker)
    print(machine())
    n_score, n_files = (200_000, 4) if args.quick else (1_000_000, 10)
    print(f"\n1. score_samples of {n_score:,} x {FEATURES} float32 rows in {n_files} "
          "Parquet files (rows/s)")
    section_dask(n_score, n_files, repeats=2 if args.quick else 3)
    n_train, epochs = (20_000, 3) if args.quick else (100_000, 4)
    print(f"\n2. fit, {n_train:,} x {FEATURES} rows, batch 256, {epochs} epochs "
          "(seconds per epoch after the first)")
    section_training(n_train, epochs, args.nproc, args.device)


if __name__ == "__main__":
    main()
