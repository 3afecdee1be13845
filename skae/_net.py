"""The private skorch net each estimator builds in ``fit``, and its callbacks.

An estimator owns one :class:`AutoencoderNet` as its fitted attribute
``net_``; it is not one. The net is a :class:`skorch.NeuralNet` configured
for in-memory tables: data already on the device and sliced a whole batch
at a time, the reconstruction criterion of :mod:`skae._criterion`, fused
optimizers, one device sync per epoch. It uses skorch's public hooks only
(``initialize_module``, ``initialize_optimizer``, ``get_iterator``,
``infer``, ``get_loss``, ``train_step_single``, ``validation_step``,
``run_single_epoch``, ``get_default_callbacks``), and skorch's callbacks for everything that
happens between epochs: early stopping, divergence detection, the
convergence warning, logging.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import re
import sys
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping
from skorch.dataset import get_len, unpack_data
from torch import nn
from torch.optim.swa_utils import get_ema_multi_avg_fn

from ._data import forked_torch_rng
from ._modules._protocol import capabilities
from ._threads import step_work

#: ANSI colour codes, which skorch's PrintLog puts around the best values.
_ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def print_log_sink(text: str) -> None:
    """``print``, without colour codes when stdout is not a terminal (a file, a pipe)."""
    isatty = getattr(sys.stdout, "isatty", None)
    print(text if isatty is not None and isatty() else _ANSI_COLOUR.sub("", text))


#: Multiply-adds of a forward pass over one batch (of one of its sequential
#: steps, for recurrent modules) from which
#: ``mixed_precision="auto"`` uses bfloat16 (on a device that computes it
#: natively). Smaller networks spend their time outside the matrix products,
#: and the casts cost more than the products gain. AutoencoderImputer's
#: default network, one thread of an AMD EPYC with AVX512-BF16, fit time
#: bfloat16 / float32 (development and report tables of
#: ``benchmarks/bench_impute.py``): 5 columns (12 million multiply-adds per
#: batch of 512) 1.09-1.12x, 6 columns (16 million) 0.99-1.01x, a new user's
#: tables of 4-6 columns 1.03-1.26x; 7 columns (21 million) 0.90-0.92x, 8
#: (28 million) 0.84-0.96x, 10 (44 million) 0.70-0.73x, 16 or more 0.35-0.53x.
#: The detector's default network for 78 features on batches of 32 (0.4
#: million) took 1.64x. On one thread of an Intel Xeon with AVX512-BF16 and
#: AMX (stop 43; development tables, 20% MCAR, best of two fits): 5-6
#: columns 0.94-0.99x, 8 columns (28 million) 1.09x, 10 (44 million)
#: 0.99-1.01x, 16 or more 0.68-0.77x; on the report tables 7-9 columns
#: 0.99-1.15x (a new user's 7-column table 1.13x, trial 59), 10-11 columns
#: 0.91-0.95x. Where the machines disagree (7-9 columns) float32 is kept:
#: bfloat16 from 40 million, tables of ten or more columns.
BFLOAT16_MIN_WORK = 40_000_000


@functools.cache
def native_bfloat16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 matrix products natively.

    NVIDIA GPUs from compute capability 8 (Ampere) on, ROCm GPUs, and CPUs
    with the AVX512-BF16 or AMX instructions, where oneDNN runs bfloat16 products about three times as
    fast as float32 ones (a 640-256-256-256 network's training step on one
    core of an AMD EPYC: 4.0 ms against 11.9). Elsewhere bfloat16 would be
    emulated, slower than float32. torch has no public query for the CPU's
    instructions: its private ``torch.cpu`` checks are read if present, and
    their absence counts as no.
    """
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return False
        # ROCm GPUs, and NVIDIA's from compute capability 8 (Ampere): older
        # ones only emulate bfloat16 (torch.cuda.is_bf16_supported counts
        # emulation as support).
        return bool(torch.version.hip) or torch.cuda.get_device_capability(device)[0] >= 8
    if device.type != "cpu":
        return False
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    try:
        return any(getattr(torch.cpu, name, lambda: False)() for name in checks)
    except (RuntimeError, OSError):  # pragma: no cover - a torch without cpuinfo
        return False


def as_float32(out):
    """``out`` (a tensor, or a tuple or list of them) with bfloat16 and float16 tensors as float32."""
    if isinstance(out, (tuple, list)):
        parts = [as_float32(part) for part in out]
        return type(out)(*parts) if hasattr(out, "_fields") else type(out)(parts)
    if isinstance(out, torch.Tensor) and out.dtype in (torch.bfloat16, torch.float16):
        return out.float()
    return out


class TrainingDivergedError(FloatingPointError):
    """Raised when the training loss or the network's weights become NaN or infinite.

    ``fit`` leaves the estimator unfitted; ``partial_fit`` leaves it as it
    was before the call. Lowering ``lr`` usually helps.
    """


class DivergenceCheck(Callback):
    """Stop training with :class:`TrainingDivergedError` when it breaks.

    After each epoch, every batch loss must be finite; after training, every
    weight (the last step can break the weights after its loss was recorded).
    Listed first, so it runs before the scoring callbacks read the losses.
    """

    def on_epoch_end(self, net, **kwargs):
        for batch in net.history[-1]["batches"]:
            for key in ("train_loss", "valid_loss"):
                value = batch.get(key)
                if value is not None and not np.isfinite(value):
                    raise TrainingDivergedError(
                        f"Training diverged: {key} became {value} in epoch "
                        f"{len(net.history)}. Lower lr (now {net.lr}) or check "
                        "the input for extreme values."
                    )

    def on_train_end(self, net, **kwargs):
        finite = [p.isfinite().all() for p in net.module_.parameters()]
        if finite and not bool(torch.stack(finite).all()):
            raise TrainingDivergedError(
                "Training diverged: the network's weights became NaN or infinite. "
                f"Lower lr (now {net.lr}) or check the input for extreme values."
            )


class EarlyStoppingFromStart(EarlyStopping):
    """skorch's :class:`~skorch.callbacks.EarlyStopping`, counting the start.

    The network before the first update of a training call is scored on the
    validation rows and competes as the epoch before it ("epoch 0" in
    ``fit``): a module that starts from a good solution (PCA's, for the
    default module) is restored if training never beats it, and
    ``partial_fit`` never leaves a fitted network worse on its validation
    rows than it found it (resumed denoising training once took a
    transformer from 0.29 to 14 times PCA's held-out error in one epoch).
    """

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.first_epoch_ = len(net.history) + 1  # the history row of this call's first epoch

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        first = getattr(self, "first_epoch_", 1)
        if len(net.history) != first or dataset_valid is None or self.monitor != "valid_loss":
            return
        score = net.evaluate_loss(dataset_valid)
        change = self.threshold * score if self.threshold_mode == "rel" else self.threshold
        self.dynamic_threshold_ = score - change if self.lower_is_better else score + change
        self.best_epoch_ = first - 1
        if self.load_best:
            self.best_model_weights_ = copy.deepcopy(net.module_.state_dict())


class ConvergenceCheck(Callback):
    """Warn when ``max_epochs`` ends training while the monitored loss still falls.

    Scikit-learn's MLP warns in the same case. Early stopping that stopped
    training (the loss converged) silences it, as does an interrupted fit.
    """

    def __init__(self, monitor="valid_loss"):
        self.monitor = monitor

    def on_train_begin(self, net, **kwargs):
        self.start_ = len(net.history)

    def on_train_end(self, net, **kwargs):
        n_epochs = len(net.history) - self.start_
        if n_epochs < net.max_epochs or n_epochs == 0:
            return
        if net.history[-1].get(self.monitor + "_best"):
            warnings.warn(
                f"Training stopped at max_epochs={net.max_epochs} while the "
                f"{self.monitor} was still falling; increase max_epochs (early "
                "stopping ends training once the loss has converged).",
                ConvergenceWarning,
                # Point at the user's fit: net.notify, net.partial_fit, the
                # estimator's _fit and fit lie between.
                stacklevel=6,
            )


class ParameterAverage:
    """Exponential moving average of some parameters, one update per optimizer step.

    Shared by the imputer (which ends training on the average) and the
    transformer (which validates it). The average starts at the weights
    after the first step; each :meth:`update` moves it towards the current
    weights by ``1 / time_constant`` (a time constant in optimizer steps;
    torch's ``get_ema_multi_avg_fn``: one fused
    update of all tensors; ``AveragedModel``'s per-step bookkeeping costs
    several times as much).
    """

    def __init__(self, time_constant: float):
        # Time constant in optimizer steps: decay 1 - 1 / steps per update.
        self.update_ = get_ema_multi_avg_fn(1.0 - 1.0 / max(1.0, time_constant))
        self.average = None

    def update(self, parameters) -> None:
        weights = [weight.detach() for weight in parameters]
        if self.average is None:
            self.average = [weight.clone() for weight in weights]
        else:
            self.update_(self.average, weights, None)

    def swap(self, parameters) -> None:
        """Exchange the parameters' values with the average's, in place."""
        with torch.no_grad():
            for weight, averaged in zip(parameters, self.average):
                held = weight.detach().clone()
                weight.copy_(averaged)
                averaged.copy_(held)

    def copy_to(self, parameters) -> None:
        """Give the parameters the average's values."""
        with torch.no_grad():
            for weight, averaged in zip(parameters, self.average):
                weight.copy_(averaged)


class HoldOut:
    """skorch ``train_split``: hold out a random ``fraction`` of the rows.

    Tiny data sets, where the held-out part would be empty, monitor the
    loss on the training rows instead. The rows are drawn from torch's
    (forked, seeded) global generator.
    """

    def __init__(self, fraction: float):
        self.fraction = fraction

    def __call__(self, dataset, y=None, **kwargs):
        n = len(dataset)
        n_valid = int(np.floor(self.fraction * n))
        if n_valid < 1 or n - n_valid < 1:
            return dataset, dataset
        order = torch.randperm(n, device=dataset.device)
        return dataset.subset(order[n_valid:]), dataset.subset(order[:n_valid])


class AutoencoderNet(NeuralNet):
    """The skorch net an estimator trains; built in ``fit``, never by users.

    Parameters beyond :class:`skorch.NeuralNet`'s
    ----------------------------------------------
    default_callbacks : list of (str, Callback)
        The estimator's built-in callbacks, run before ``callbacks``.
    fused_optimizer : bool
        Try torch's fused optimizer kernel first.
    mixed_precision : bool or "auto"
        bfloat16 autocast where the device computes it natively: always
        (True), never (False), or for networks of at least
        ``BFLOAT16_MIN_WORK`` multiply-adds per batch ("auto"). Decided when
        the module is built (``bfloat16_``).
    seed : int
        Seeds the fixed corruption of denoising validation.
    """

    # [data parallel] Set for the duration of a training call inside a
    # torch.distributed process group (skae._distributed.training), else None.
    data_parallel = None

    def __init__(self, *args, default_callbacks=(), fused_optimizer=False,
                 mixed_precision=False, seed=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_callbacks = list(default_callbacks)
        self.fused_optimizer = fused_optimizer
        self.mixed_precision = mixed_precision
        self.seed = seed

    def get_default_callbacks(self):
        """The estimator's built-in callbacks."""
        return list(self.default_callbacks)

    def fit_loop(self, X, y=None, *args, **kwargs):
        """skorch's training loop; a ``KeyboardInterrupt`` (Ctrl-C) warns as it leaves.

        skorch's ``partial_fit`` ends training on it and keeps the weights
        reached, as scikit-learn's MLP does, and the estimator's ``fit`` goes
        on from there; MLP says "Training interrupted by user.", skorch said
        nothing, so the user got a half-trained model silently (trial 60).
        """
        try:
            return super().fit_loop(X, y, *args, **kwargs)
        except KeyboardInterrupt:
            # skorch's EarlyStopping ends training with a KeyboardInterrupt too.
            stopped_early = any(isinstance(callback, EarlyStopping)
                                and getattr(callback, "misses_", 0) >= callback.patience
                                for _, callback in self.callbacks_)
            if not stopped_early:
                warnings.warn(
                    f"Training interrupted by user (KeyboardInterrupt) after "
                    f"{len(self.history)} epoch(s); the network keeps the weights it "
                    "had reached and fit goes on from there, as scikit-learn's MLP "
                    "does. Interrupt again to stop fit.",
                    UserWarning,
                    stacklevel=2,
                )
            raise

    def initialize_module(self):
        """Build the module: a class from its routed arguments; an instance is copied."""
        if isinstance(self.module, nn.Module):
            # Train a copy: refitting starts afresh and the parameter is untouched.
            self.module_ = copy.deepcopy(self.module)
        else:
            kwargs = self.get_params_for("module")
            try:
                self.module_ = self.module(**kwargs)
            except TypeError as error:
                # A required argument skae does not offer (an autoencoder's
                # n_components, given to the imputer) failed with Python's
                # bare TypeError (a new user's trial 53).
                name = getattr(self.module, "__name__", self.module)
                raise ValueError(
                    f"{name} could not be built from the arguments skae gives it "
                    f"({', '.join(sorted(kwargs))}): {error}. Set the others with "
                    "module__<name>."
                ) from error
        self.capabilities_ = capabilities(self.module_)
        self.bfloat16_ = self._uses_bfloat16()
        return self

    def _uses_bfloat16(self) -> bool:
        """Whether this net's module runs under bfloat16 autocast (``mixed_precision``)."""
        setting = self.mixed_precision  # True, False or "auto"
        if not setting or not native_bfloat16(torch.device(self.device)):
            return False
        if setting == "auto":  # networks large enough to gain
            return step_work(self.module_, self.batch_size) >= BFLOAT16_MIN_WORK
        return True

    def initialize_optimizer(self, triggered_directly=None):
        """Build the optimizer, with the fused kernel where the device has one."""
        args, kwargs = self.get_params_for_optimizer(
            "optimizer", self.get_all_learnable_params()
        )
        if self.fused_optimizer and not {"fused", "foreach"} & set(kwargs):
            try:
                self.optimizer_ = self.optimizer(*args, fused=True, **kwargs)
                return self
            except (RuntimeError, TypeError, ValueError):
                pass  # no fused kernel here: the default implementation
        self.optimizer_ = self.optimizer(*args, **kwargs)
        return self

    def get_iterator(self, dataset, training=False):
        """Batches sliced from tensors already on the device."""
        prefix = "iterator_train" if training else "iterator_valid"
        kwargs = {"batch_size": self.batch_size, "shuffle": training,
                  **self.get_params_for(prefix)}
        if self.data_parallel is not None:  # [data parallel] this rank's shards
            kwargs["data_parallel"] = self.data_parallel
        factory = self.iterator_train if training else self.iterator_valid
        return factory(dataset, **kwargs)

    def autocast(self):
        """bfloat16 autocast where ``mixed_precision`` chose it (``bfloat16_``), else nothing."""
        if getattr(self, "bfloat16_", False):
            return torch.autocast(torch.device(self.device).type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def infer(self, x, **fit_params):
        """Run the module on a batch already on the device (a tensor or a tuple).

        Under autocast, bfloat16 outputs come back as float32, so losses
        (and anything else downstream) compute in float32.
        """
        module = self.module_
        with self.autocast():
            if isinstance(x, tuple):
                out = module(*x, **fit_params)
            elif not self.capabilities_.custom_forward:  # encode/decode only
                out = module.decode(module.encode(x))
            else:
                out = module(x, **fit_params)
        return as_float32(out) if getattr(self, "bfloat16_", False) else out

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The criterion on the output; an autoencoder's target is its input."""
        return self.criterion_(y_pred, X if y_true is None else y_true)

    def set_mode(self, training: bool):
        """Train or eval mode for the module and the criterion, only when it changes.

        skorch sets the mode on every batch by walking the module tree, about
        a tenth of a small network's training step.
        """
        for part in (self.module_, self.criterion_):
            if part.training != training:
                part.train(training)

    def train_step_single(self, batch, **fit_params):
        """skorch's training step, with the mode set only when it changes."""
        self.set_mode(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def validation_step(self, batch, **fit_params):
        """skorch's validation step; denoising modules see corrupted inputs.

        A denoising module is validated on corrupted rows against the clean
        ones, the objective it trains on, with the same noise at every epoch.
        """
        self.set_mode(False)
        Xi, yi = unpack_data(batch)
        with torch.no_grad():
            if self.capabilities_.denoising:
                with forked_torch_rng(self.seed + len(Xi), torch.device(self.device)):
                    Xi, yi = self.module_.corrupt_inputs(Xi), (Xi if yi is None else yi)
            y_pred = self.infer(Xi, **fit_params)
            loss = self.get_loss(y_pred, yi, X=Xi, training=False)
        return {"loss": loss, "y_pred": y_pred}

    def evaluate_loss(self, dataset) -> float:
        """Mean validation loss of the current network over ``dataset``."""
        total = 0.0
        for batch in self.get_iterator(dataset, training=False):
            total += self.validation_step(batch)["loss"].item() * get_len(batch[0])
        if self.data_parallel is not None:  # [data parallel] over all ranks' shards
            total = self.data_parallel.reduce_sum(total)
        return total / len(dataset)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """One pass over ``iterator``, as in skorch, with one device sync per epoch.

        skorch records each batch's loss with ``loss.item()``, which makes a
        GPU wait for every batch. Here the losses stay on the device and are
        written to the history once the pass is over; callbacks are notified
        exactly as in skorch.
        """
        if iterator is None:
            return
        losses, sizes = [], []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            losses.append(step["loss"].detach())
            sizes.append(get_len(batch[0]))
            self.notify("on_batch_end", batch=batch, training=training, **step)
        if losses:
            stacked = torch.stack(losses)
            values = stacked.tolist()
            if self.data_parallel is not None:  # [data parallel] global batch losses
                values, sizes = self.data_parallel.reduce_batch_losses(stacked, sizes)
            records = self.history[-1]["batches"][-len(losses):]
            for record, loss, size in zip(records, values, sizes):
                record[prefix + "_loss"] = loss
                record[prefix + "_batch_size"] = size
        self.history.record(prefix + "_batch_count", len(losses))
