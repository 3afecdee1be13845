"""The module protocol: what an estimator may ask of a torch module, with defaults.

:class:`AutoencoderModule` declares every capability the estimators use and
its default; skae's own modules subclass it and override what they offer. A
user's module may subclass it too, or be any :class:`torch.nn.Module` with
``encode`` and ``decode``: :func:`capabilities` reads what such a module
declares and fills the rest in from the defaults here, the one place where
the estimators look at a module's abilities.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import torch
from torch import nn

from .._docstrings import shared_doc


def inherit_docstrings(cls) -> None:
    """Give the public methods of ``cls`` without a docstring their base class's.

    A module documents ``encode``, ``decode`` and ``forward`` once, here;
    numpydoc and Sphinx read ``__doc__`` itself, which Python does not
    inherit.
    """
    for name, member in vars(cls).items():
        if name.startswith("_") or not inspect.isfunction(member) or member.__doc__:
            continue
        for base in cls.__mro__[1:]:
            doc = getattr(getattr(base, name, None), "__doc__", None)
            if doc:
                member.__doc__ = doc
                break


class AutoencoderModule(nn.Module):
    """Base class of autoencoder modules, declaring the protocol's defaults.

    Subclasses define :meth:`encode` and :meth:`decode`; everything else is
    optional.

    Attributes
    ----------
    variational : bool
        Codes have a posterior and a standard normal prior: the module has
        ``kl_divergence(x)`` and ``sample_codes(n, generator)``
        (``AutoencoderTransformer.sample`` and
        ``score_method="variational"`` need them).
    prefers_global_scaling : bool
        ``scaling="auto"`` scales all features by one mean and spread
        (images, signals).
    activation_width : int
        Floats per row of the widest activation when it is wider than the
        layers (a recurrent state per time step); inference chunks shrink to
        fit it. 0: no wider than the layers.
    noise : float
        Level of the input corruption of :meth:`corrupt_inputs`; 0 means the
        module does not denoise.
    training_length_factor : float
        With ``max_epochs=None``, :class:`~skae.AutoencoderAnomalyDetector`
        trains the module this many times as long as its default training
        length (networks that learn more slowly per step ask for more).
    work_per_row : int
        Multiply-adds of a forward pass per row, when a weight serves more
        than once per row (a recurrent layer at every time step, a
        convolution at every position); the ``n_jobs=None`` thread policy
        reads it (:mod:`skae._threads`). 0: each weight once, as in dense
        layers, so the count of weights.
    sequential_steps : int
        Operations that run one after another over the whole batch, each
        a share of ``work_per_row``: a recurrent layer's time steps. The
        thread policy and ``mixed_precision="auto"`` weigh the work of one
        such step, since threads (and bfloat16 casts) pay per operation: a
        recurrent imputer of 3.3 billion multiply-adds per batch over 64
        steps took two threads, whose epochs took 10 s instead of 0.4 s, and
        a fit 184 s instead of 6 s, on a busy machine. 1: one pass.
    projects_codes : bool
        Codes are free points of the decoder's input, and ``decode`` maps
        each row's code on its own, smoothly (in evaluation mode):
        :class:`~skae.AutoencoderTransformer` may then refine a row's code
        to the one the decoder reconstructs it best from
        (``transform_max_iter``). False for codes with constraints (a
        sparse module's non-negative codes) and where it was not measured.
    """

    variational: bool = False
    prefers_global_scaling: bool = False
    activation_width: int = 0
    noise: float = 0.0
    training_length_factor: float = 1.0
    work_per_row: int = 0
    sequential_steps: int = 1
    projects_codes: bool = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        inherit_docstrings(cls)

    @shared_doc
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Map scaled rows to codes.

        Parameters
        ----------
        %(rows)s

        Returns
        -------
        z : torch.Tensor of shape (n, n_components)
            Codes.
        """
        raise NotImplementedError(f"{type(self).__name__} must define encode(x).")

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Map codes to reconstructed rows.

        Parameters
        ----------
        z : torch.Tensor of shape (n, n_components)
            Codes.

        Returns
        -------
        x_hat : torch.Tensor of shape (n, n_features)
            Reconstructed rows.
        """
        raise NotImplementedError(f"{type(self).__name__} must define decode(z).")

    @shared_doc
    def forward(self, x: torch.Tensor):
        """Reconstruct ``x`` for training (in training mode, from corrupted rows).

        Parameters
        ----------
        %(rows)s

        Returns
        -------
        output : torch.Tensor or tuple
            The reconstruction, or ``(x_hat, penalty)`` with a penalty that
            is added to the loss (an L1 penalty on the codes, a KL term).
        """
        return self.decode(self.encode(x))

    @shared_doc
    def corrupt_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """Corrupt rows for denoising training; the identity by default.

        Parameters
        ----------
        %(rows)s

        Returns
        -------
        x_noisy : torch.Tensor of shape (n, n_features)
            Corrupted rows.
        """
        return x

    def init_from_data(self, x: torch.Tensor) -> None:
        """Start from the scaled training rows ``x``; nothing by default."""


class ImputerModule(nn.Module):
    """Base class of the imputation modules (``forward(x, visible)``).

    The imputer hides observed entries and trains the module to predict
    them from the visible ones. Optional: ``sample(x, visible, generator)``
    draws imputations (``AutoencoderImputer.sample_imputations``).
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        inherit_docstrings(cls)

    @shared_doc
    def forward(self, x: torch.Tensor, visible: torch.Tensor):
        """Predict every entry of the rows from the visible ones.

        Parameters
        ----------
        %(rows_and_mask)s

        Returns
        -------
        output : torch.Tensor or tuple
            The reconstructed rows, or ``(x_hat, penalty)`` with a penalty
            that is added to the loss (a variational network's KL term).
        """
        raise NotImplementedError(f"{type(self).__name__} must define forward(x, visible).")


@dataclass(frozen=True)
class Capabilities:
    """What a module (class or instance) offers, defaults filled in."""

    variational: bool
    prefers_global_scaling: bool
    activation_width: int
    denoising: bool
    custom_forward: bool
    init_from_data: bool
    samples_imputations: bool
    training_length_factor: float
    work_per_row: int
    sequential_steps: int
    projects_codes: bool


def capabilities(module) -> Capabilities:
    """Read the protocol of ``module`` (a class or an instance).

    A module that does not subclass :class:`AutoencoderModule` gets that
    class's defaults for whatever it does not declare.
    """
    def declared(name):
        return getattr(module, name, getattr(AutoencoderModule, name))

    cls = module if isinstance(module, type) else type(module)
    return Capabilities(
        variational=bool(declared("variational")),
        prefers_global_scaling=bool(declared("prefers_global_scaling")),
        activation_width=int(declared("activation_width")),
        denoising=hasattr(module, "corrupt_inputs") and bool(declared("noise")),
        custom_forward=cls.forward is not nn.Module.forward,
        init_from_data=hasattr(module, "init_from_data"),
        samples_imputations=hasattr(module, "sample"),
        training_length_factor=float(declared("training_length_factor")),
        work_per_row=int(declared("work_per_row")),
        sequential_steps=max(1, int(declared("sequential_steps"))),
        projects_codes=bool(declared("projects_codes")),
    )


def protocol_mismatch(module, family: type) -> str | None:
    """What keeps a plain module (class or instance) from ``family``'s protocol; None if nothing.

    A module that subclasses either family's base class is not checked here
    (the estimators refuse the other family by name). Otherwise the
    autoencoder protocol needs ``encode`` and ``decode``, the imputer
    protocol a ``forward`` that takes ``(x, visible)``.
    """
    cls = module if isinstance(module, type) else type(module)
    if issubclass(cls, (AutoencoderModule, ImputerModule)):
        return None
    if family is ImputerModule:
        if cls.forward is nn.Module.forward:
            # torch's placeholder takes *args: it matched (x, visible), and an
            # autoencoder's encode/decode module failed in training (trial 53).
            return "it defines no forward(x, visible)"
        low, high = _positional_range(cls.forward)
        if low <= 2 <= high:
            return None
        return (f"its forward takes {low if low == high else f'{low} to {high}'} "
                "positional argument(s) besides self, not (x, visible)")
    absent = [name for name in ("encode", "decode") if not hasattr(cls, name)]
    return f"it has no {' or '.join(absent)}" if absent else None


def _positional_range(forward) -> tuple[int, float]:
    """How many positional arguments besides ``self`` ``forward`` takes: (fewest, most)."""
    try:
        parameters = list(inspect.signature(forward).parameters.values())[1:]
    except (TypeError, ValueError):  # no signature: let the net decide
        return 0, float("inf")
    positional = [p for p in parameters
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    low = sum(p.default is p.empty for p in positional)
    high = (float("inf") if any(p.kind == p.VAR_POSITIONAL for p in parameters)
            else len(positional))
    return low, high


def reused_weights_work(module: nn.Module, reuses) -> int:
    """Multiply-adds per row of ``module`` when some weights serve several times.

    ``reuses`` pairs sub-modules with how many times their weights are
    applied per row (time steps, positions); every other weight counts once.
    """
    total = sum(p.numel() for p in module.parameters())
    for part, times in reuses:
        total += (int(times) - 1) * sum(p.numel() for p in part.parameters())
    return int(total)
