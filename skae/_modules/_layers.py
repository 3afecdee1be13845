"""Building blocks shared by the torch modules."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch
from torch import nn

from .._docstrings import shared_doc
from ._protocol import AutoencoderModule

#: Names accepted by the ``activation`` parameter, as in
#: :class:`sklearn.neural_network.MLPRegressor` plus the modern choices.
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "identity": nn.Identity,
    "logistic": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}


def make_mlp(
    sizes: Sequence[int],
    activation: str = "silu",
    dropout: float = 0.0,
    *,
    zero_last: bool = False,
) -> nn.Sequential:
    """Build ``Linear -> activation -> dropout`` blocks with a linear last layer.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths, input first and output last (at least two entries).
    activation : str, default="silu"
        Key of :data:`ACTIVATIONS`, applied after every layer but the last.
    dropout : float, default=0.0
        Dropout probability after each hidden activation.
    zero_last : bool, default=False
        Initialise the last layer to zero, so that the block starts as the
        zero function (used for residual corrections).

    Returns
    -------
    mlp : torch.nn.Sequential
    """
    check_nonnegative(dropout, "dropout", below=1.0)
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    if zero_last:
        nn.init.zeros_(layers[-1].weight)
        nn.init.zeros_(layers[-1].bias)
    return nn.Sequential(*layers)


def principal_axes(x: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` leading principal axes of ``x`` and its mean.

    Computed from the ``d x d`` covariance in float64: exact, fast for tables
    and never more than one extra copy of the data in memory.

    Returns
    -------
    components : torch.Tensor of shape (k, n_features)
    mean : torch.Tensor of shape (n_features,)
    """
    mean = x.mean(dim=0)
    centered = x - mean
    cov = (centered.T @ centered).double() / max(len(x) - 1, 1)
    eigvals, eigvecs = torch.linalg.eigh(cov)
    components = eigvecs[:, torch.argsort(eigvals, descending=True)[:k]].T
    return components.to(x.dtype), mean


NOISE_TYPES = ("gaussian", "mask")


def corrupt(x: torch.Tensor, level: float, kind: str = "gaussian") -> torch.Tensor:
    """Corrupt a batch of scaled rows for denoising training.

    Parameters
    ----------
    x : torch.Tensor
        Scaled rows.
    level : float
        ``"gaussian"``: standard deviation of the added noise (in the scaled
        units, where a feature's spread is about 1). ``"mask"``: probability
        of setting an entry to 0, its scaled mean.
    kind : {"gaussian", "mask"}, default="gaussian"
        The kind of corruption.

    Returns
    -------
    corrupted : torch.Tensor
    """
    if level <= 0:
        return x
    if kind == "gaussian":
        return x + level * torch.randn_like(x)
    if kind == "mask":
        return x * (torch.rand_like(x) >= level)
    raise ValueError(f"noise_type must be one of {NOISE_TYPES}; got {kind!r}.")


def check_count(value, name: str, minimum: int) -> int:
    """``value`` as an int, or a ValueError naming ``name`` unless it is an int >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}.")
    return int(value)


def check_nonnegative(value, name: str, below: float | None = None) -> float:
    """``value`` as a float, or a ValueError naming ``name`` unless it is a finite number >= 0.

    ``below``: an exclusive upper limit. A string or NaN here had failed
    inside torch (a new user's trial 52: ``module__beta="x"`` in a comparison,
    ``beta=nan`` in a Normal distribution's constraint).
    """
    legal = (isinstance(value, numbers.Real) and not isinstance(value, bool)
             and math.isfinite(value) and value >= 0 and (below is None or value < below))
    if not legal:
        limit = "" if below is None else f" and < {below:g}"
        raise ValueError(f"{name} must be a number >= 0{limit}; got {value!r}.")
    return float(value)


def check_noise(noise: float, noise_type: str) -> None:
    """Reject illegal corruption settings with a message naming them."""
    if noise_type not in NOISE_TYPES:
        raise ValueError(f"noise_type must be one of {NOISE_TYPES}; got {noise_type!r}.")
    if not 0 <= noise or (noise_type == "mask" and noise >= 1):
        raise ValueError(
            f"noise must be >= 0 (and < 1 for noise_type='mask'); got {noise!r}."
        )


@shared_doc
class ReconstructionModule(AutoencoderModule):
    """Training behaviour shared by the autoencoder modules.

    Subclasses define ``encode`` and ``decode`` and pass ``noise``,
    ``noise_type`` and ``sparsity`` to this constructor, which checks and
    stores them; this class adds the denoising corruption and the forward
    pass with its L1 penalty on the codes (the variational module replaces
    the forward pass with its own).

    Parameters
    ----------
    %(corruption)s
    sparsity : float, default=0.0
        Weight of an L1 penalty on the codes.
    """

    def __init__(self, noise: float = 0.0, noise_type: str = "gaussian",
                 sparsity: float = 0.0):
        super().__init__()
        check_noise(noise, noise_type)
        check_nonnegative(sparsity, "sparsity")
        self.sparsity, self.noise, self.noise_type = float(sparsity), float(noise), noise_type

    def corrupt_inputs(self, x: torch.Tensor) -> torch.Tensor:
        # Corruption of kind noise_type at level noise.
        return corrupt(x, self.noise, self.noise_type)

    def forward(self, x: torch.Tensor):
        # In training: from corrupted rows, with the L1 penalty on the codes (sparsity).
        return self.forward_with_codes(x)[0]

    @shared_doc
    def forward_with_codes(self, x: torch.Tensor) -> tuple:
        """The output of :meth:`forward` and the codes it decoded.

        A supervised head (``AutoencoderTransformer(target_weight=...)``)
        reads the codes of the same, possibly corrupted, rows.

        Parameters
        ----------
        %(rows)s

        Returns
        -------
        output : torch.Tensor or tuple
            What :meth:`forward` returns.
        codes : torch.Tensor of shape (n, n_components)
            The codes of the rows.
        """
        if self.training:
            x = self.corrupt_inputs(x)
        z = self.encode(x)
        x_hat = self.decode(z)
        if self.training and self.sparsity > 0:
            return (x_hat, self.sparsity * z.abs().mean()), z
        return x_hat, z
