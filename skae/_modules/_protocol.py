"""The module protocol: what an estimator may ask of a torch module, with defaults.

:class:`AutoencoderModule` declares every capability the estimators use and
its default; skae's own modules subclass it and override what they offer. A
user's module may subclass it too, or be any :class:`torch.nn.Module` with
``encode`` and ``decode``: :func:`capabilities` reads what such a module
declares and fills the rest in from the defaults here, the one place where
the estimators look at a module's abilities.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


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
    """

    variational: bool = False
    prefers_global_scaling: bool = False
    activation_width: int = 0
    noise: float = 0.0

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Map scaled rows ``(n, n_features)`` to codes ``(n, n_components)``."""
        raise NotImplementedError(f"{type(self).__name__} must define encode(x).")

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Map codes ``(n, n_components)`` to reconstructed rows ``(n, n_features)``."""
        raise NotImplementedError(f"{type(self).__name__} must define decode(z).")

    def forward(self, x: torch.Tensor):
        """Reconstruction, or ``(x_hat, penalty)`` with a penalty added to the loss."""
        return self.decode(self.encode(x))

    def corrupt_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """The corruption of denoising training; the identity by default."""
        return x

    def init_from_data(self, x: torch.Tensor) -> None:
        """Start from the scaled training rows ``x``; nothing by default."""


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
    )
