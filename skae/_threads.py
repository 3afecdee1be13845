"""How many torch threads skae's own work uses: the ``n_jobs`` policy.

torch's intra-op thread pool is as wide as the machine by default. The
networks skae trains on tables are small: one batch of a (256, 128) MLP is a
few tens of millions of multiply-adds, split across threads in pieces so small
that synchronising the threads costs about what they save on an idle machine,
and several times more when another process keeps the cores busy (each
operation waits for its slowest thread). So, following scikit-learn's
``n_jobs`` convention:

- ``n_jobs=None`` (the default) is size-aware: one thread while the work of
  one batch (its multiply-adds: rows x weights for dense layers; recurrent
  and convolutional modules count each weight at every time step or
  position) is below :data:`WORK_PER_THREAD`, more only as that work grows, and never more than torch's current setting,
  which is where the caller's limits show: ``torch.set_num_threads``,
  ``threadpoolctl.threadpool_limits`` and the single thread joblib's loky
  workers start with all lower it, so parallel searches do not oversubscribe.
- ``n_jobs=k`` allows up to ``k`` threads; ``-1`` all cores, ``-2`` all but
  one, as in scikit-learn (joblib's ``cpu_count``, which honours cgroup
  quotas). The size rule decides below that count: a batch too small to
  gain from a second thread runs on one whatever ``n_jobs`` allows (two new
  users' reflex ``n_jobs=2`` / ``-1`` made small fits 6-85x slower on busy
  cores).

The count is applied by :func:`torch_threads` around skae's own fitting
(the work after training included) and inference, and by
:func:`blas_threads` to NumPy's BLAS around the same work, and restored
afterwards. torch's thread count is global to the
process: while skae works, torch code in other threads of the same process sees
skae's setting. Concurrent skae calls from several threads share one setting
(the first to enter sets it, the last to leave restores the caller's).
"""

from __future__ import annotations

import contextlib
import threading

import torch
from joblib import cpu_count
from threadpoolctl import ThreadpoolController
from torch import nn

from ._modules._protocol import capabilities

#: Multiply-adds of one batch's forward pass that each thread must have to
#: itself. On 2 busy cores a second thread lost 2.4-7x from 26 million to 5
#: billion multiply-adds per batch; on idle cores it pays off from about a
#: billion (bench_speed.py --threads and benchmarks/README.md).
WORK_PER_THREAD = 1_000_000_000

_LOCK = threading.Lock()
_active = 0
_saved: int | None = None
_controller: ThreadpoolController | None = None


def resolve_n_threads(n_jobs: int | None, work: float) -> int:
    """The number of torch threads for ``n_jobs`` and a step of ``work`` multiply-adds.

    Parameters
    ----------
    n_jobs : int or None
        The estimator's parameter, the most threads: None for torch's current
        setting, a positive count, or a negative one counted from the number
        of cores (-1: all).
    work : float
        Multiply-adds of one forward pass over one batch (or inference chunk).

    Returns
    -------
    n_threads : int
        One per :data:`WORK_PER_THREAD` of ``work`` begun, within the
        limit; at least 1.
    """
    wanted = 1 + int(work // WORK_PER_THREAD)
    if n_jobs is None:
        limit = torch.get_num_threads()
    elif n_jobs < 0:
        limit = cpu_count() + 1 + n_jobs
    else:
        limit = int(n_jobs)
    return max(1, min(wanted, limit))


def module_work(module: nn.Module | None, rows: int) -> float:
    """Multiply-adds of a forward pass of ``module`` over ``rows`` rows.

    One multiply-add per weight and row, exact for dense layers; a module
    whose weights serve several times per row (recurrent, convolutional)
    declares its count per row in ``work_per_row`` (the module protocol).
    """
    if module is None:
        return 0.0
    per_row = capabilities(module).work_per_row or sum(p.numel() for p in module.parameters())
    return float(rows) * per_row


@contextlib.contextmanager
def torch_threads(n_threads: int | None):
    """Run a block with ``n_threads`` torch threads and restore the setting after.

    ``None`` leaves the setting alone. Nested and concurrent blocks share the
    setting of the outermost one; the caller's count comes back when the last
    block ends, however it ends.
    """
    global _active, _saved
    if n_threads is None:
        yield
        return
    with _LOCK:
        if _active == 0:
            _saved = torch.get_num_threads()
            # Always set, even when torch already reads n_threads: under
            # threadpoolctl's limits torch reads OpenMP's count, while the
            # MKL inside torch keeps the count a previous set_num_threads gave
            # it (a user's trial: a fit under threadpool_limits(1) after an
            # earlier fit used two threads).
            torch.set_num_threads(n_threads)
        _active += 1
    try:
        yield
    finally:
        with _LOCK:
            _active -= 1
            if _active == 0:
                torch.set_num_threads(_saved)
                _saved = None


def step_work(module: nn.Module | None, rows: int) -> float:
    """Multiply-adds of one of ``module``'s sequential steps over ``rows`` rows.

    :func:`module_work` shared among the steps that run one after another
    (``sequential_steps`` of the module protocol: a recurrent layer's time
    steps), the unit that threads split; the whole pass for other modules.
    """
    if module is None:
        return 0.0
    return module_work(module, rows) / capabilities(module).sequential_steps


def estimator_threads(estimator, rows: int, module: nn.Module | None) -> int:
    """Torch threads for ``estimator`` running ``module`` on ``rows`` rows at a time.

    Work on a GPU counts as none: the CPU only feeds it.
    """
    device = getattr(estimator, "device_", None)
    on_cpu = device is None or torch.device(device).type == "cpu"
    work = step_work(module, rows) if on_cpu else 0.0
    return resolve_n_threads(getattr(estimator, "n_jobs", None), work)


def _limit(n_threads: int, user_api: str):
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=n_threads, user_api=user_api)


def openmp_threads(n_threads: int):
    """A context that limits OpenMP's threads (scikit-learn's trees) to ``n_threads``.

    ``threadpoolctl.threadpool_limits`` scans the process's loaded libraries
    on every call (3 ms, more than predicting a row with a column's trees);
    the scan is done once per process here, on first use.
    """
    return _limit(n_threads, "openmp")


def blas_threads(n_threads: int):
    """A context that limits NumPy's and SciPy's BLAS threads to ``n_threads``.

    skae's own array work outside torch (the imputer's linear models and
    correlations, the transformer's PCA) is made of small products and
    least-squares fits: on 2 busy cores a least-squares fit of 2,000 rows
    and 32 columns took 10.4 ms with OpenBLAS's two threads and 3.8 ms with
    one. Estimators run it with the threads the ``n_jobs`` policy gives their
    network, and the caller's setting comes back after. torch's own BLAS is
    not affected (it follows :func:`torch_threads`).
    """
    return _limit(n_threads, "blas")
