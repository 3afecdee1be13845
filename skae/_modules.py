"""Torch modules behind the estimators.

The estimators never reach into a module's layers: they talk to it through a
small protocol, so that any :class:`torch.nn.Module` that follows it can be
passed as ``module=`` to every estimator.

The autoencoder protocol
------------------------
``encode(x) -> z``
    Map a batch of (scaled) rows, shape ``(n, n_features)``, to codes of shape
    ``(n, n_components)``. Must be deterministic in ``eval()`` mode: it is what
    ``transform`` returns.
``decode(z) -> x_hat``
    Map codes back to reconstructed rows of shape ``(n, n_features)``.
``forward(x)`` (optional)
    Return the reconstruction, or a tuple ``(x_hat, penalty)`` where
    ``penalty`` is a scalar tensor added to the training loss (a sparsity or
    KL term, say). Without a custom ``forward``, ``decode(encode(x))`` is used.
``init_from_data(x)`` (optional)
    Called once before training with the whole scaled training tensor, so
    that the module can start from a data-dependent solution (PCA's, for
    :class:`MLPAutoencoder`).

Constructors receive ``n_features`` and ``n_components`` from the estimator,
plus whatever the user routes to them with ``module__<name>`` parameters.

The imputer protocol
--------------------
:class:`~skae.AutoencoderImputer` needs to tell its module which entries it
may see: its module's ``forward(x, visible)`` takes the scaled rows (zero
where not visible) and a float mask of the same shape (1 = visible) and
returns the reconstructed rows. Constructors receive ``n_features``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["ACTIVATIONS", "DenoisingImputerMLP", "MLPAutoencoder", "make_mlp"]

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


class MLPAutoencoder(nn.Module):
    """Undercomplete MLP autoencoder with a mirrored decoder.

    The encoder maps ``n_features -> hidden_layer_sizes -> n_components`` and
    the decoder mirrors it. With ``linear_path=True`` (the default) each half
    is a linear map plus a nonlinear MLP correction whose last layer starts at
    zero; :meth:`init_from_data` sets the linear maps to PCA's solution, so
    training starts exactly where PCA ends and only has to learn what PCA
    cannot express. Outside training, the corrections see their inputs
    clamped to the range those inputs took during training (tracked like
    batch normalization's running statistics): far from the training data
    the module extrapolates linearly, like PCA, instead of trusting a
    network where it has never seen data.

    Parameters
    ----------
    n_features : int
        Width of the input rows.
    n_components : int
        Width of the code.
    hidden_layer_sizes : sequence of int, default=(256, 128)
        Widths of the encoder's hidden layers; the decoder uses them in
        reverse order. An empty sequence gives a linear autoencoder.
    activation : str, default="silu"
        Hidden activation, a key of :data:`ACTIVATIONS`.
    dropout : float, default=0.0
        Dropout probability after each hidden activation.
    linear_path : bool, default=True
        Add the linear (PCA-initialisable) path beside the MLPs.
    """

    def __init__(
        self,
        n_features: int,
        n_components: int,
        hidden_layer_sizes: Sequence[int] = (256, 128),
        activation: str = "silu",
        dropout: float = 0.0,
        linear_path: bool = True,
    ):
        super().__init__()
        hidden = list(hidden_layer_sizes)
        self.linear_path = bool(linear_path) or not hidden
        residual = self.linear_path and bool(hidden)
        if hidden:
            self.encoder = make_mlp(
                [n_features, *hidden, n_components], activation, dropout,
                zero_last=residual,
            )
            self.decoder = make_mlp(
                [n_components, *hidden[::-1], n_features], activation, dropout,
                zero_last=residual,
            )
        else:
            self.encoder = self.decoder = None
        if self.linear_path:
            self.encoder_linear = nn.Linear(n_features, n_components)
            self.decoder_linear = nn.Linear(n_components, n_features)
        # Ranges the nonlinear corrections saw in training; empty until then.
        empty = torch.tensor([[float("inf")], [-float("inf")]])
        self.register_buffer("input_range", empty.expand(2, n_features).clone())
        self.register_buffer("code_range", empty.expand(2, n_components).clone())

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Map rows to codes."""
        if not self.linear_path:
            return self.encoder(x)
        z = self.encoder_linear(x)
        if self.encoder is None:
            return z
        if not self.training and bool(self.input_range[0, 0] <= self.input_range[1, 0]):
            x = torch.clamp(x, self.input_range[0], self.input_range[1])
        return z + self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Map codes to reconstructed rows."""
        if not self.linear_path:
            return self.decoder(z)
        x_hat = self.decoder_linear(z)
        if self.decoder is None:
            return x_hat
        return x_hat + self.decoder(self._confine(z, self.code_range))

    def _confine(self, v: torch.Tensor, bounds: torch.Tensor) -> torch.Tensor:
        """Record ``v``'s range in training; clamp ``v`` to it otherwise."""
        if self.training:
            low, high = torch.aminmax(v.detach(), dim=0)
            torch.minimum(bounds[0], low, out=bounds[0])
            torch.maximum(bounds[1], high, out=bounds[1])
            return v
        if bool(bounds[0, 0] > bounds[1, 0]):  # never trained
            return v
        return torch.clamp(v, bounds[0], bounds[1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    @torch.no_grad()
    def init_from_data(self, x: torch.Tensor) -> None:
        """Start from PCA: set the linear path to its projection and reconstruction.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            The scaled training rows.
        """
        if not self.linear_path:
            return
        components, mean = principal_axes(x, self.encoder_linear.out_features)
        self.encoder_linear.weight.copy_(components)
        self.encoder_linear.bias.copy_(-components @ mean)
        self.decoder_linear.weight.copy_(components.T)
        self.decoder_linear.bias.copy_(mean)
        self.input_range.copy_(torch.stack(torch.aminmax(x, dim=0)))


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


class DenoisingImputerMLP(nn.Module):
    """Denoising imputation network that sees the missing-value mask.

    The input is the row with hidden and missing entries set to zero,
    concatenated with the mask of visible entries, so the network can tell a
    zero from a gap. ``n_passes`` greater than one refines the output: each
    further pass fills the gaps with the previous pass's (detached)
    predictions and predicts again with the same weights.

    Parameters
    ----------
    n_features : int
        Width of the rows.
    hidden_layer_sizes : sequence of int, default=(256, 256, 256)
        Widths of the hidden layers. No bottleneck: the network maps
        ``2 * n_features`` inputs to ``n_features`` outputs.
    activation : str, default="relu"
        Hidden activation, a key of :data:`ACTIVATIONS`.
    dropout : float, default=0.0
        Dropout probability after each hidden activation.
    n_passes : int, default=2
        Number of refinement passes.
    linear_path : bool, default=True
        Add a linear map from the input to the output beside the MLP, so
        that linear relations between features (the ones
        :class:`~sklearn.impute.IterativeImputer` captures) need no
        nonlinear layers.
    """

    def __init__(
        self,
        n_features: int,
        hidden_layer_sizes: Sequence[int] = (256, 256, 256),
        activation: str = "relu",
        dropout: float = 0.0,
        n_passes: int = 2,
        linear_path: bool = True,
    ):
        super().__init__()
        self.n_passes = int(n_passes)
        self.net = make_mlp(
            [2 * n_features, *hidden_layer_sizes, n_features], activation, dropout
        )
        self.linear = nn.Linear(2 * n_features, n_features) if linear_path else None

    def _predict(self, inputs: torch.Tensor) -> torch.Tensor:
        out = self.net(inputs)
        return out if self.linear is None else out + self.linear(inputs)

    def forward(self, x: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
        seen = visible > 0
        filled = torch.where(seen, x, torch.zeros_like(x))
        out = self._predict(torch.cat([filled, visible], dim=1))
        for _ in range(self.n_passes - 1):
            filled = torch.where(seen, x, out.detach())
            out = self._predict(torch.cat([filled, visible], dim=1))
        return out
