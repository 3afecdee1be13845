"""Training and inference speed of skae against a raw PyTorch loop, PyOD and PCA.

What it prints, all measured in one run on this machine:

1. ``fit`` of each skae estimator against a hand-written PyTorch loop with the
   same module, batch size, optimizer and epochs on in-memory data (the whole
   ``fit`` call is timed, validation and scaling included), with 1 and 2
   torch threads. Target: ratio <= 1.1.
2. skae against PyOD's ``AutoEncoder`` at equal epochs and architecture.
   Target: PyOD / skae >= 2.
3. Training and inference rows/s next to ``PCA.fit`` / ``PCA.transform``.
   Target: ``transform`` of a 64-feature table at >= 500,000 rows/s with the
   encoder's codes (``transform_max_iter=0``); the default refines each
   code, at tens of times the cost.
4. How time grows with rows (10k to 1M) and features (10 to 1000).
5. Peak memory of ``transform`` on 1,000,000 x 100 rows, against the input.

``--threads`` runs only the thread-policy section instead: ``fit`` on digits of
each estimator with its defaults (``n_jobs=None``) against one thread
(``n_jobs=1``), one thread everywhere (``n_jobs=1`` under
``threadpoolctl.threadpool_limits(1)``: NumPy's BLAS and OpenMP too) and all
cores (``n_jobs=-1``, torch's own default), on the machine as it is and with a
second process keeping every core busy; then ``GridSearchCV(n_jobs=2)`` against
``n_jobs=1`` on a small pipeline. Targets: the default within 1.2x of the
fastest of (default, the two one-thread settings) in both cases;
``GridSearchCV(n_jobs=2)`` no slower than ``n_jobs=1``.

``--device cuda`` runs the skae parts on a GPU. ``--quick`` uses less data.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
import warnings

import numpy as np
import torch
from _common import machine, print_table
from sklearn.base import clone
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_limits

from skae import AutoencoderAnomalyDetector, AutoencoderImputer, AutoencoderTransformer
from skae._modules import DenoisingImputerMLP, MLPAutoencoder

HIDDEN = (128, 64)
CODE = 8
BATCH = 256
LR = 1e-3


def make_data(n, d, seed=0):
    """Rows near a nonlinear 8-dimensional manifold, plus noise."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, CODE)).astype(np.float32)
    W1 = rng.normal(size=(CODE, 32)).astype(np.float32)
    W2 = rng.normal(size=(32, d)).astype(np.float32) / np.sqrt(32)
    X = np.tanh(latent @ W1) @ W2 + 0.1 * rng.normal(size=(n, d)).astype(np.float32)
    return X.astype(np.float32)


def _standardized_tensor(X, device):
    Xs = (X - np.nanmean(X, 0)) / np.nanstd(X, 0)
    return torch.from_numpy(np.ascontiguousarray(Xs, dtype=np.float32)).to(device)


def raw_loop(X, epochs, device, estimator="transformer", seed=0, fused=False):
    """The hand-written reference: standardize, then slice batches of a tensor.

    It trains the same module with the same loss as the estimator it stands
    for: an autoencoder with mean squared error, or (imputer) the denoising
    network that sees a mask, hides 15% of the observed entries per batch and
    scores hidden plus visible entries.
    """
    torch.manual_seed(seed)
    start = time.perf_counter()
    data = _standardized_tensor(X, device)
    d = X.shape[1]
    if estimator == "imputer":
        observed = ~torch.isnan(data)
        data = torch.nan_to_num(data)
        model = DenoisingImputerMLP(d, HIDDEN).to(device)
    elif estimator == "detector":
        model = MLPAutoencoder(d, CODE, HIDDEN, "relu", 0.2, linear_path=False).to(device)
    else:
        model = MLPAutoencoder(d, CODE, HIDDEN).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=LR, **({"fused": True} if fused else {}))
    n = len(data)
    for _ in range(epochs):
        order = torch.randperm(n).to(device)
        for i in range(0, n, BATCH):
            index = order[i : i + BATCH]
            xb = data[index]
            opt.zero_grad()
            if estimator == "imputer":
                ob = observed[index].float()
                visible = ob * (torch.rand(xb.shape, device=device) >= 0.15)
                hidden = ob - visible
                err = (model(xb, visible) - xb) ** 2
                loss = (err * hidden).sum() / hidden.sum().clamp(min=1) + (
                    err * visible
                ).sum() / visible.sum().clamp(min=1)
            else:
                loss = torch.mean((model(xb) - xb) ** 2)
            loss.backward()
            opt.step()
    if device != "cpu":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def skae_params(epochs, device):
    return dict(
        hidden_layer_sizes=HIDDEN,
        batch_size=BATCH,
        lr=LR,
        max_epochs=epochs,
        early_stopping=False,
        n_iter_no_change=epochs + 1,
        random_state=0,
        device=device,
        n_jobs=torch.get_num_threads(),  # the raw loop's threads, whatever the size
    )


def skae_fit(estimator_cls, X, epochs, device, **extra):
    params = skae_params(epochs, device)
    if estimator_cls is AutoencoderTransformer:
        params["n_components"] = CODE
    est = estimator_cls(**params, **extra)
    start = time.perf_counter()
    est.fit(X)
    if device != "cpu":
        torch.cuda.synchronize()
    return time.perf_counter() - start, est


def best_of(fn, repeats):
    return min(fn() for _ in range(repeats))


def pyod_fit(X, epochs, batch):
    from pyod.models.auto_encoder import AutoEncoder

    model = AutoEncoder(
        hidden_neuron_list=[*HIDDEN, CODE],
        batch_norm=False,
        dropout_rate=0.0,
        batch_size=batch,
        epoch_num=epochs,
        lr=LR,
        verbose=0,
        device="cpu",
        random_state=0,
    )
    start = time.perf_counter()
    model.fit(X)
    return time.perf_counter() - start


ESTIMATORS = [
    # (estimator class, raw loop to compare with, extra parameters)
    (AutoencoderTransformer, "transformer", {}),
    (AutoencoderAnomalyDetector, "detector",
     {"n_components": CODE, "score_method": "reconstruction", "dropout": 0.2,
      "activation": "relu"}),
    (AutoencoderImputer, "imputer", {}),
]


def section_training(X, epochs, device, repeats, threads):
    X_missing = np.where(np.random.default_rng(1).random(X.shape) < 0.2, np.nan, X)
    rows = []
    for n_threads in threads:
        torch.set_num_threads(n_threads)
        for cls, kind, extra in ESTIMATORS:
            data = X_missing if kind == "imputer" else X
            raw_loop(data[:2000], 1, device, kind)  # warm-up
            raw = best_of(lambda: raw_loop(data, epochs, device, kind), repeats)
            fused = best_of(lambda: raw_loop(data, epochs, device, kind, fused=True), repeats)
            t = best_of(lambda: skae_fit(cls, data, epochs, device, **extra)[0], repeats)
            rows.append(
                {
                    "estimator": cls.__name__,
                    "threads": n_threads,
                    "raw_s": raw,
                    "raw_fused_s": fused,
                    "skae_s": t,
                    "ratio": t / raw,
                    "ratio_fused": t / fused,
                    "rows/s": len(X) * epochs / t,
                }
            )
    print_table(rows, ["estimator", "threads", "raw_s", "raw_fused_s", "skae_s", "ratio",
                       "ratio_fused", "rows/s"])
    print("ratio: skae / raw loop with torch's default Adam; ratio_fused: against the same "
          "loop with fused Adam, which skae uses where available.\nThe detector's fit also "
          "scores up to 20,000 training rows to set offset_ (score_method='reconstruction' "
          "here; the hybrid adds an IsolationForest).")
    return rows


def section_pyod(X, epochs, repeats):
    try:
        import pyod  # noqa: F401
    except ImportError:
        print("[skip] PyOD is not installed (pip install -e '.[benchmark]').")
        return None
    rows = []
    for batch in (BATCH, 32):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pyod_fit(X[:2000], 1, batch)  # warm-up
            pyod_t = best_of(lambda: pyod_fit(X, epochs, batch), repeats)
        for method in ("reconstruction", "hybrid"):
            params = {**skae_params(epochs, "cpu"), "batch_size": batch}
            det = AutoencoderAnomalyDetector(
                n_components=CODE, activation="relu", dropout=0.0, score_method=method,
                **{k: v for k, v in params.items() if k != "hidden_layer_sizes"},
                hidden_layer_sizes=HIDDEN,
            )
            skae_t = best_of(lambda: _timed(lambda: clone(det).fit(X)), repeats)
            rows.append({"batch": batch, "skae score_method": method, "skae_s": skae_t,
                         "pyod_s": pyod_t, "pyod/skae": pyod_t / skae_t})
    print_table(rows, ["batch", "skae score_method", "skae_s", "pyod_s", "pyod/skae"])
    print("Same layers (64 -> 128 -> 64 -> 8, mirrored), Adam, no dropout or batch norm. "
          "PyOD's fit also scores its training rows; the hybrid adds an IsolationForest.")
    return rows


def section_throughput(X, device, repeats):
    _, ae = skae_fit(AutoencoderTransformer, X, 1, device)
    Z = ae.transform(X)
    rows = []

    def rate(fn):
        return len(X) / best_of(lambda: _timed(fn), repeats)

    # The default transform refines each row's code (transform_max_iter=5):
    # tens of times the encoder's time, so it is timed on fewer rows.
    few = X[:5_000]
    rows.append({"operation": "skae transform (refined codes, the default)",
                 "rows/s": len(few) / best_of(lambda: _timed(lambda: ae.transform(few)),
                                              repeats)})
    ae.set_params(transform_max_iter=0)
    rows.append({"operation": "skae transform, transform_max_iter=0",
                 "rows/s": rate(lambda: ae.transform(X))})
    rows.append({"operation": "skae inverse_transform",
                 "rows/s": rate(lambda: ae.inverse_transform(Z))})
    rows.append({"operation": "skae score_samples, transform_max_iter=0",
                 "rows/s": rate(lambda: ae.score_samples(X))})
    pca = PCA(CODE).fit(X)
    rows.append({"operation": "PCA.fit", "rows/s": rate(lambda: PCA(CODE).fit(X))})
    rows.append({"operation": "PCA.transform", "rows/s": rate(lambda: pca.transform(X))})
    print_table(rows, ["operation", "rows/s"], floatfmt="{:,.0f}")
    return rows


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def section_growth(device, quick):
    torch.set_num_threads(1)
    sizes = [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    rows = []
    for n in sizes:
        X = make_data(n, 64)
        # The encoder's codes: how inference grows, not the refinement.
        t, ae = skae_fit(AutoencoderTransformer, X, 1, device, transform_max_iter=0)
        rows.append({"rows": n, "features": 64, "fit_1_epoch_s": t,
                     "transform_s": _timed(lambda: ae.transform(X))})
    for d in [10, 100] if quick else [10, 100, 1000]:
        X = make_data(50_000, d)
        t, ae = skae_fit(AutoencoderTransformer, X, 1, device, transform_max_iter=0)
        rows.append({"rows": 50_000, "features": d, "fit_1_epoch_s": t,
                     "transform_s": _timed(lambda: ae.transform(X))})
    print_table(rows, ["rows", "features", "fit_1_epoch_s", "transform_s"])
    return rows


_MEMORY_CHILD = """
import json, sys, numpy as np, torch
sys.path.insert(0, {bench!r})
from bench_speed import make_data, skae_fit
from skae import AutoencoderTransformer
torch.set_num_threads(1)

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024

X = make_data(20_000, 100)
_, ae = skae_fit(AutoencoderTransformer, X, 1, {device!r}, transform_max_iter=0)
X = np.random.default_rng(0).normal(size=({n}, 100))
ae.transform(X[:1000])
open("/proc/self/clear_refs", "w").write("5")  # reset the peak-RSS mark
before = status("VmRSS")
Z = ae.transform(X)
peak = status("VmHWM")
print(json.dumps({{"input": X.nbytes, "output": Z.nbytes, "rss_before": before,
                  "peak": peak}}))
"""


def section_memory(device, quick):
    n = 200_000 if quick else 1_000_000
    code = _MEMORY_CHILD.format(bench=os.path.dirname(__file__), n=n, device=device)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode:
        print(out.stderr)
        return None
    m = json.loads(out.stdout.strip().splitlines()[-1])
    extra = m["peak"] - m["rss_before"]
    print(
        f"transform of {n:,} x 100 float64 rows: input {m['input'] / 2**20:.0f} MiB, "
        f"output {m['output'] / 2**20:.0f} MiB; memory beyond the input during transform "
        f"(peak RSS minus RSS before) {extra / 2**20:.0f} MiB = {extra / m['input']:.2f} x "
        f"the input; peak RSS {m['peak'] / 2**20:.0f} MiB"
    )
    return m


_BUSY_CHILD = """
import os, threading, time, numpy as np
a = np.random.default_rng(0).normal(size=(400, 400))
def spin():
    while True:
        a @ a
parent = os.getppid()
for _ in range({n}):
    threading.Thread(target=spin, daemon=True).start()
while os.getppid() == parent:  # ends with the benchmark, however it ends
    time.sleep(0.5)
"""


def busy_process(n_threads):
    """A second process keeping ``n_threads`` cores busy (numpy products)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", _BUSY_CHILD.format(n=n_threads)], env=env)


def load_average():
    try:
        return "load average {:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg())
    except OSError:
        return "load average unknown"


def section_threads(epochs, repeats, busy):
    """Default threads (n_jobs=None) against one thread and all cores, fits on digits."""
    from sklearn.datasets import load_digits

    X, _ = load_digits(return_X_y=True)
    X_missing = np.where(np.random.default_rng(0).random(X.shape) < 0.2, np.nan, X)
    data = {AutoencoderTransformer: X, AutoencoderAnomalyDetector: X, AutoencoderImputer: X_missing}
    # "one thread everywhere": NumPy's BLAS and OpenMP limited too (threadpoolctl), as in
    # the benchmarks' one-thread runs; n_jobs=1 alone limits skae's own work only.
    settings = [("default (n_jobs=None)", None), ("one thread (n_jobs=1)", 1),
                ("one thread everywhere", "everywhere"), ("all cores (n_jobs=-1)", -1)]
    child = busy_process(os.cpu_count()) if busy else None
    try:
        if child is not None:
            time.sleep(1.0)
        print(f"[{'busy' if busy else 'as is'}] {load_average()}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: few epochs on purpose
            rows = [_thread_row(cls, X_fit, settings, epochs, repeats, busy)
                    for cls, X_fit in data.items()]
    finally:
        if child is not None:
            child.kill()
            child.wait()
    print_table(rows, ["estimator", "machine", *(label for label, _ in settings),
                       "default / fastest", "all cores / default"])
    return rows


def _thread_row(cls, X_fit, settings, epochs, repeats, busy):
    """Fit times of one estimator under each thread setting, interleaved."""
    row = {"estimator": cls.__name__, "machine": "busy" if busy else "as is"}
    cls(max_epochs=2, random_state=0, n_jobs=1).fit(X_fit)  # warm-up
    for r in range(repeats):  # settings interleaved, best of the repeats
        for label, n_jobs in settings[: 4 if r == 0 else 3]:  # all cores: once
            everywhere = n_jobs == "everywhere"
            est = cls(max_epochs=epochs, random_state=0, n_jobs=1 if everywhere else n_jobs)
            with threadpool_limits(1) if everywhere else contextlib.nullcontext():
                row[label] = min(row.get(label, np.inf), _timed(lambda: est.fit(X_fit)))
    default = row[settings[0][0]]
    row["default / fastest"] = default / min(row[label] for label, _ in settings[:3])
    row["all cores / default"] = row[settings[3][0]] / default
    return row


def section_grid_search(repeats):
    """GridSearchCV(n_jobs=2) against n_jobs=1 over a small pipeline on digits."""
    from joblib import Parallel, delayed
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    X, y = load_digits(return_X_y=True)
    pipe = make_pipeline(AutoencoderTransformer(max_epochs=20, random_state=0),
                         LogisticRegression(max_iter=200))
    grid = {"autoencodertransformer__n_components": [4, 8],
            "autoencodertransformer__hidden_layer_sizes": [(64,), (128, 64)]}
    # The workers start once per session and are reused; start them first.
    Parallel(n_jobs=2)(delayed(AutoencoderTransformer)() for _ in range(2))
    rows, results = [], {}
    for n_jobs in (1, 2):
        search = GridSearchCV(pipe, grid, cv=3, n_jobs=n_jobs)
        seconds = best_of(lambda: _timed(lambda: search.fit(X, y)), repeats)
        results[n_jobs] = search.cv_results_["mean_test_score"]
        rows.append({"GridSearchCV": f"n_jobs={n_jobs}", "fits": 3 * 4 + 1, "s": seconds})
    for row in rows:
        row["/ n_jobs=1"] = row["s"] / rows[0]["s"]
    print(f"{load_average()}; torch threads in this process: {torch.get_num_threads()}")
    print_table(rows, ["GridSearchCV", "fits", "s", "/ n_jobs=1"])
    same = np.allclose(results[1], results[2])
    print(f"same cv_results_ mean_test_score for n_jobs=1 and 2: {same}")
    return rows


def main_threads(args):
    epochs = 10 if args.quick else 20
    repeats = 1 if args.quick else 3
    print(machine())
    print(f"\n## Threads: fit on digits (1797 x 64; imputer with 20% missing), defaults "
          f"but max_epochs={epochs}, best of {repeats} (all cores: one run); torch's default is "
          f"{torch.get_num_threads()} threads")
    section_threads(epochs, repeats, busy=False)
    section_threads(epochs, repeats, busy=True)
    print("\ndefault / fastest: the default's time over the fastest of the default, n_jobs=1 "
          "and one thread everywhere (target <= 1.2). The machine 'as is' may be shared with other work; "
          "'busy' adds a process spinning numpy products on every core.")
    print("\n## GridSearchCV over a small pipeline (AutoencoderTransformer + "
          "LogisticRegression, 4 candidates x 3 folds, 20 epochs)")
    section_grid_search(repeats)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--threads", action="store_true",
                        help="only the thread-policy section (n_jobs)")
    args = parser.parse_args(argv)
    if args.threads:
        return main_threads(args)
    n = args.rows or (20_000 if args.quick else 100_000)
    epochs = 3 if args.quick else 5
    repeats = 1 if args.quick else 3
    threads = [1, 2] if args.device == "cpu" else [torch.get_num_threads()]
    print(machine())
    print(f"\n## 1. fit against a raw PyTorch loop ({n:,} x 64, {epochs} epochs, "
          f"64 -> {HIDDEN} -> {CODE}, batch {BATCH}, Adam, device {args.device})")
    X = make_data(n, 64)
    section_training(X, epochs, args.device, repeats, threads)
    if args.device == "cpu":
        print(f"\n## 2. against PyOD's AutoEncoder (1 thread, {epochs} epochs, same layers)")
        torch.set_num_threads(1)
        section_pyod(X, epochs, repeats)
    print(f"\n## 3. throughput ({torch.get_num_threads()} threads)")
    section_throughput(X, args.device, repeats)
    print("\n## 4. growth with rows and features (1 epoch, 1 thread)")
    section_growth(args.device, args.quick)
    print("\n## 5. memory of transform")
    section_memory(args.device, args.quick)


if __name__ == "__main__":
    main()
