"""Data-parallel training over a :mod:`torch.distributed` process group.

When ``fit`` runs in every process of an initialized process group (started
by ``torchrun``, or :func:`torch.multiprocessing.spawn` and
:func:`torch.distributed.init_process_group`), the processes train one
network together:

- every rank passes the same ``X``, so the scaling and encoding learned in
  ``fit`` are the same everywhere (checked, with the parameters and shapes);
- the random seed is rank 0's, so every rank initializes the same network,
  holds out the same validation rows and shuffles the rows in the same order
  (the order a single process would draw); dropout and noise draw from a
  stream of their own on each rank;
- each batch of ``batch_size`` rows is split into one shard per rank, as
  :class:`~torch.utils.data.distributed.DistributedSampler` splits a data
  set: rank ``r`` of ``W`` computes gradients on its ``1/W`` of the batch;
- gradients are averaged over the ranks (weighted by shard size, so the
  step is the one a single process would take on the whole batch) with one
  :func:`~torch.distributed.all_reduce` per step, before the optimizer step
  and before any other callback sees them;
- training and validation losses are averaged over the ranks, so the
  history, early stopping and the divergence checks are the same on every
  rank;
- every rank ends with the same fitted estimator: plain module, no wrapper,
  which saves, loads and predicts like one fitted in a single process.

``batch_size`` stays the global batch size: a fit on ``W`` processes takes
the same optimizer steps as a fit in one process (the same steps up to
rounding for a network without dropout or noise), so a setting chosen on a
laptop carries over to a cluster.

The same code runs on gloo (CPU tensors) and NCCL (CUDA tensors): each
collective uses the tensors of the device the estimator trains on. The
estimator and its net call into this module from a handful of places marked
``[data parallel]`` in :mod:`skae._base` and :mod:`skae._net`; everything
else lives here.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import warnings
import zlib
from collections.abc import Iterator

import numpy as np
import torch
from skorch.callbacks import Callback
from skorch.dataset import get_len

from ._data import _as_batch, batch_bounds

__all__ = ["data_parallel"]

# Set by :func:`data_parallel`; ``None`` means "the default group, if any".
_SETTING: contextvars.ContextVar = contextvars.ContextVar("skae_data_parallel", default=None)
_OFF = object()


@contextlib.contextmanager
def data_parallel(enabled: bool = True, group=None):
    """Choose how skae estimators fitted in this block use torch.distributed.

    By default an estimator whose ``fit`` or ``partial_fit`` runs inside an
    initialized :mod:`torch.distributed` process group trains data-parallel
    over the whole group, and every rank must then call ``fit`` with the
    same ``X`` and parameters. This context manager turns that off (to fit
    on one rank alone, say) or restricts training to a subgroup.

    Parameters
    ----------
    enabled : bool, default=True
        Whether fits in the block train data-parallel when a process group
        is initialized. ``False`` makes each process train on its own.
    group : torch.distributed.ProcessGroup, default=None
        The ranks that train together; ``None`` means the default group.

    Yields
    ------
    None

    Examples
    --------
    >>> import numpy as np
    >>> from skae import AutoencoderTransformer, data_parallel
    >>> X = np.random.default_rng(0).normal(size=(100, 4))
    >>> with data_parallel(enabled=False):  # each rank fits alone
    ...     ae = AutoencoderTransformer(n_components=2, max_epochs=2).fit(X)
    """
    token = _SETTING.set(_OFF if not enabled else group)
    try:
        yield
    finally:
        _SETTING.reset(token)


def current_group():
    """The process group a fit starting now trains over, or ``None``.

    ``None`` outside an initialized group, in a group of one process, and
    inside ``data_parallel(enabled=False)``. Warns when the process was
    started by a launcher for several processes (``WORLD_SIZE`` > 1) but no
    group was initialized: each process would then train on its own.
    """
    setting = _SETTING.get()
    if setting is _OFF:
        return None
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        launched = os.environ.get("WORLD_SIZE", "1")
        if launched.isdigit() and int(launched) > 1:
            warnings.warn(
                f"This process was launched as one of WORLD_SIZE={launched} processes "
                "(torchrun?), but torch.distributed has no initialized process group, "
                "so each process trains its own model on all of its rows. Call "
                "torch.distributed.init_process_group() before fit for data-parallel "
                "training.",
                UserWarning,
                stacklevel=5,
            )
        return None
    group = setting if setting is not None else torch.distributed.group.WORLD
    world = torch.distributed.get_world_size(group)
    if setting is None:
        launched = os.environ.get("WORLD_SIZE")
        if launched is not None and launched.isdigit() and int(launched) != world:
            raise RuntimeError(
                f"The process group has {world} processes but WORLD_SIZE={launched}: "
                "the processes were launched for a different world size than the "
                "group was initialized with. Pass world_size=int(os.environ"
                "['WORLD_SIZE']) to init_process_group, or let torchrun set it."
            )
    return group if world > 1 else None


def training_device(device: torch.device, group) -> torch.device:
    """The device this rank trains on, and a check that the backend can use it.

    A CUDA device without an index becomes this rank's GPU: ``LOCAL_RANK``
    (set by ``torchrun``) or the current device.
    """
    backend = str(torch.distributed.get_backend(group))
    # A group initialized without a backend reports "undefined" and serves
    # each device type with its own ("cpu:gloo,cuda:nccl").
    try:
        backend = f"{backend} ({torch.distributed.get_backend_config(group)})"
    except (AttributeError, RuntimeError, ValueError):
        pass  # an older torch, or a group the configuration cannot be read of
    if device.type == "cuda" and device.index is None:
        local = os.environ.get("LOCAL_RANK")
        index = int(local) if local is not None else torch.cuda.current_device()
        if index >= torch.cuda.device_count():
            raise RuntimeError(
                f"LOCAL_RANK={index} but this machine has {torch.cuda.device_count()} "
                "CUDA device(s): launch at most one process per GPU "
                "(torchrun --nproc-per-node=<number of GPUs>)."
            )
        device = torch.device("cuda", index)
    if device.type == "cpu" and "gloo" not in backend and "cpu:" not in backend:
        raise RuntimeError(
            f"The estimator trains on the CPU but the process group's backend is "
            f"{backend!r}, which cannot reduce CPU tensors. Initialize the group with "
            "backend='gloo' for CPU training, or train on the GPUs (device='auto' or "
            "'cuda') with NCCL."
        )
    if device.type not in ("cpu", "cuda"):
        raise RuntimeError(
            f"Data-parallel training runs on 'cpu' (gloo) or 'cuda' (NCCL or gloo) "
            f"devices, not {device.type!r}."
        )
    return device


def begin(estimator, reset: bool) -> DataParallel | None:
    """Set up one training call of ``estimator``; ``None`` outside a process group.

    On a fresh fit, this rank's device is chosen and rank 0's seed adopted,
    so that every rank holds out the same rows and shuffles them alike.
    """
    group = current_group()
    if group is None:
        return None
    disabled = isinstance(estimator.callbacks, str) and estimator.callbacks == "disable"
    if disabled or estimator._routed_params().get("callbacks__data_parallel", True) is None:
        raise ValueError(
            "Data-parallel training needs the 'data_parallel' callback, which averages "
            "the gradients across processes; callbacks='disable' or "
            "callbacks__data_parallel=None turns it off. Turn off other callbacks with "
            "callbacks__<name>=None, or fit outside the process group with "
            "skae.data_parallel(enabled=False)."
        )
    device = training_device(estimator.device_, group)
    if reset:
        estimator.device_ = device
        estimator._seed_ = agree_on_seed(estimator._seed_, group, device)
    n_epochs_done = 0 if reset else len(estimator.history_)
    return DataParallel(group, estimator._seed_ + n_epochs_done, estimator.device_,
                        params_hash=_params_hash(estimator))


@contextlib.contextmanager
def training(net, parallel: DataParallel | None):
    """Hand ``parallel`` to the net for one training call (a no-op for ``None``)."""
    if parallel is None:
        yield
        return
    net.data_parallel = parallel
    try:
        yield
        parallel.merge_ranges(net.module_)
    finally:
        del net.data_parallel


def agree_on_seed(seed: int, group, device: torch.device) -> int:
    """Rank 0's seed, so that every rank splits and shuffles the rows alike."""
    box = torch.tensor([seed], dtype=torch.int64, device=device)
    torch.distributed.broadcast(box, src=_global_rank(group, 0), group=group)
    return int(box.item())


class DataParallel:
    """The state one data-parallel training call shares with the estimator.

    Parameters
    ----------
    group : torch.distributed.ProcessGroup or None
        The ranks that train together (``None``: the default group).
    seed : int
        The seed every rank agreed on, from which each rank's stream for
        dropout and noise is drawn.
    device : torch.device
        Where the estimator's tensors live, and so the collectives' tensors.
    params_hash : float, default=0.0
        A checksum of the estimator's parameters, compared across ranks.
    """

    def __init__(self, group, seed: int, device: torch.device, params_hash: float = 0.0):
        self.group = group
        self.rank = torch.distributed.get_rank(group)
        self.world_size = torch.distributed.get_world_size(group)
        self.seed = seed
        self.device = device
        self.params_hash = params_hash
        self.epoch = 0

    # -- batches --------------------------------------------------------
    def iterator(self, dataset, batch_size: int, shuffle: bool = False) -> ShardedBatchIterator:
        """This rank's shards of the global batches of ``dataset``."""
        return ShardedBatchIterator(self, dataset, batch_size, shuffle)

    @contextlib.contextmanager
    def rank_streams(self):
        """Give this rank its own random streams for one epoch, then the shared one back.

        The order of the rows is drawn from torch's global generator, in the
        same state on every rank (and in the state a single process would
        have); dropout and noise draw from it too, different amounts on
        different ranks, and must differ between ranks. So the epoch runs on
        a stream seeded from (seed, rank, epoch), and the shared CPU state is
        restored after it.
        """
        self.epoch += 1
        shared = torch.random.get_rng_state()
        seed = int(np.random.SeedSequence(
            [self.seed % 2**63, self.rank, self.epoch]).generate_state(1)[0])
        torch.random.default_generator.manual_seed(seed)
        if self.device.type == "cuda":
            index = self.device.index if self.device.index is not None else (
                torch.cuda.current_device())
            torch.cuda.default_generators[index].manual_seed(seed)
        try:
            yield
        finally:
            torch.random.set_rng_state(shared)

    # -- reductions -----------------------------------------------------
    def all_reduce_(self, tensor: torch.Tensor, op=None) -> torch.Tensor:
        """Reduce ``tensor`` in place over the ranks (a sum by default)."""
        op = torch.distributed.ReduceOp.SUM if op is None else op
        torch.distributed.all_reduce(tensor, op=op, group=self.group)
        return tensor

    def reduce_batch_losses(self, losses: torch.Tensor, sizes: list[int]):
        """The mean loss of each global batch, and its number of rows.

        ``losses`` holds this rank's mean loss for each of its shards and
        ``sizes`` their rows; the result weighs every row alike, as a
        single process computing the whole batch would.
        """
        local = torch.as_tensor(sizes, dtype=torch.float64, device=losses.device)
        both = torch.stack([losses.double() * local, local])
        self.all_reduce_(both)
        totals, counts = both
        return (totals / counts).tolist(), [int(n) for n in counts.tolist()]

    def reduce_sum(self, value: float) -> float:
        """Sum of a number over the ranks."""
        box = torch.tensor([value], dtype=torch.float64, device=self.device)
        return float(self.all_reduce_(box).item())

    def average_gradients(self, parameters, n_rows: int):
        """Replace each rank's gradients by their row-weighted mean over the ranks.

        One flat buffer, one all-reduce per step. A parameter without a
        gradient on this rank contributes zeros and keeps ``grad=None``.
        """
        parameters = list(parameters)
        if not parameters:
            return
        parts = [
            p.grad.reshape(-1) if p.grad is not None else p.new_zeros(p.numel())
            for p in parameters
        ]
        one = torch.ones(1, dtype=parts[0].dtype, device=parts[0].device)
        flat = self.all_reduce_(torch.cat([*parts, one]) * n_rows)
        flat = flat[:-1] / flat[-1]
        for p, part in zip(parameters, flat.split([p.numel() for p in parameters])):
            if p.grad is not None:
                p.grad.copy_(part.view_as(p.grad))

    def merge_ranges(self, module: torch.nn.Module):
        """Each ``*_range`` buffer (rows: minimum, maximum) over every rank's rows.

        Modules record the range of the values they saw in training (the MLP's
        ``input_range`` and ``code_range``, which clamp new rows); each rank saw
        only its shards, so without this the ranks would end with different
        models (a new user's trial: code ranges summing to 10.9 and 11.3).
        """
        with torch.no_grad():
            for name, buffer in module.named_buffers():
                if name.endswith("_range") and buffer.dim() == 2 and len(buffer) == 2:
                    # One MAX over (-minimum, maximum): a single collective.
                    both = torch.cat([-buffer[0], buffer[1]])
                    self.all_reduce_(both, torch.distributed.ReduceOp.MAX)
                    low, high = both.split(buffer.shape[1])
                    buffer[0].copy_(-low)
                    buffer[1].copy_(high)

    def broadcast_module(self, module: torch.nn.Module):
        """Rank 0's weights and buffers on every rank."""
        source = _global_rank(self.group, 0)
        with torch.no_grad():
            for tensor in [*module.parameters(), *module.buffers()]:
                torch.distributed.broadcast(tensor.data, src=source, group=self.group)

    def check_agreement(self, facts: dict[str, float]):
        """Raise if the ranks disagree on any of ``facts`` (shapes, checksums, ...).

        One all-reduce of the values and their negatives with ``MAX`` gives
        every rank both the largest and the smallest value of each fact.
        """
        names = list(facts)
        values = torch.tensor([float(facts[n]) for n in names], dtype=torch.float64,
                              device=self.device)
        both = self.all_reduce_(torch.cat([values, -values]), torch.distributed.ReduceOp.MAX)
        largest, smallest = both[: len(names)].tolist(), (-both[len(names) :]).tolist()
        differ = [
            f"{name} (from {low:g} to {high:g})"
            for name, low, high in zip(names, smallest, largest)
            if not np.isclose(low, high, rtol=1e-6, atol=0.0)
        ]
        if differ:
            raise RuntimeError(
                f"Data-parallel fit over {self.world_size} processes: the ranks disagree "
                f"on {', '.join(differ)}. Every rank must call fit with the same X and "
                "the same estimator parameters; each trains on its own shard of every "
                "batch. To fit different data on each rank, wrap the fit in "
                "skae.data_parallel(enabled=False)."
            )


class ShardedBatchIterator:
    """Rank ``r``'s shard of every global batch, as :class:`~skae._data.BatchIterator` gives batches.

    The global batches are those a single process would cut
    (:func:`~skae._data.batch_bounds` of one permutation shared by all
    ranks); each is split into
    ``world_size`` nearly equal, contiguous shards. A last batch with fewer
    rows than ranks joins the batch before it, so that every rank has rows
    in every step and none is dropped.
    """

    def __init__(self, parallel: DataParallel, dataset, batch_size: int, shuffle: bool):
        self.parallel = parallel
        self.dataset = dataset
        n, world = len(dataset), parallel.world_size
        if n < world:
            raise ValueError(
                f"Data-parallel training over {world} processes needs at least {world} "
                f"rows in each of the training and validation sets; one of them has "
                f"{n}. Use more rows or a larger validation_fraction, or fewer processes."
            )
        bounds = batch_bounds(n, max(1, min(int(batch_size), n)))
        starts = [start for start, _ in bounds]
        if len(starts) > 1 and n - starts[-1] < world:
            starts.pop()
        self.bounds = list(zip(starts, [*starts[1:], n]))
        self.shuffle = shuffle

    def __len__(self) -> int:
        return len(self.bounds)

    def _shard(self, start: int, stop: int) -> tuple[int, int]:
        m, world, rank = stop - start, self.parallel.world_size, self.parallel.rank
        return start + rank * m // world, start + (rank + 1) * m // world

    def __iter__(self) -> Iterator[tuple]:
        dataset = self.dataset
        if self.shuffle:
            order = torch.randperm(len(dataset)).to(dataset.device, non_blocking=True)
            with self.parallel.rank_streams():
                for start, stop in self.bounds:
                    low, high = self._shard(start, stop)
                    yield _as_batch(dataset.rows(order[low:high]))
        else:
            for start, stop in self.bounds:
                low, high = self._shard(start, stop)
                yield _as_batch(dataset.rows(slice(low, high)))


class DataParallelCallback(Callback):
    """skorch callback of data-parallel training; does nothing outside it.

    At the start of training it checks that the ranks agree (rows, features,
    a checksum of the encoded data, parameters) and gives every rank
    rank 0's weights; after each backward pass it averages the gradients,
    before gradient clipping or any other callback sees them.
    """

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        parallel = net.data_parallel
        if parallel is None:
            return
        parallel.check_agreement({
            "the number of rows": len(X),
            "the number of encoded features": _width(X),
            "the data (checksum)": _checksum(X),
            "the data (weighted checksum)": _checksum(X, weighted=True),
            "the estimator's parameters (hash)": parallel.params_hash,
            "the device type (0 cpu, 1 cuda)": float(parallel.device.type == "cuda"),
        })
        parallel.broadcast_module(net.module_)

    def on_grad_computed(self, net, named_parameters, batch=None, **kwargs):
        parallel = net.data_parallel
        if parallel is None:
            return
        parallel.average_gradients((p for _, p in named_parameters), get_len(batch[0]))


def _checksum(dataset, weighted: bool = False) -> float:
    """A sum of the dataset's absolute values, rows weighted by position if asked.

    Absolute values, so that the sum of standardized data is not a rounding
    error near zero; computed in chunks, in float64, on the data's device.
    """
    total = 0.0
    for tensor in getattr(dataset, "tensors", None) or [dataset.values]:
        n = len(tensor)
        for start in range(0, n, 1 << 16):
            chunk = tensor[start : start + (1 << 16)]
            values = chunk.double().abs().reshape(len(chunk), -1)
            if weighted:
                position = torch.arange(start, start + len(chunk), dtype=torch.float64,
                                        device=chunk.device)
                values = values * (1.0 + position / max(n, 1))[:, None]
            total += float(values.sum())
    return total


def _width(dataset) -> int:
    if hasattr(dataset, "n_columns"):  # rows of a sparse matrix
        return dataset.n_columns
    first = dataset.tensors[0]
    return first.shape[1] if first.dim() > 1 else 1


def _params_hash(estimator) -> float:
    """A checksum of the estimator's parameters that print the same everywhere."""
    simple = (bool, int, float, str, tuple, type(None))
    text = repr(sorted(
        (name, value) for name, value in estimator.get_params(deep=False).items()
        if isinstance(value, simple) and name not in ("verbose", "device")
    ))
    return float(zlib.crc32(text.encode()))


def _global_rank(group, rank: int) -> int:
    return torch.distributed.get_global_rank(group, rank)
