"""The MLP autoencoder, the default module of the transformer and the detector."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .._docstrings import shared_doc
from ._layers import ReconstructionModule, make_mlp, principal_axes


@shared_doc
class MLPAutoencoder(ReconstructionModule):
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
    %(mlp_parameters)s
    linear_path : bool, default=True
        Add the linear (PCA-initialisable) path beside the MLPs. With an
        empty ``hidden_layer_sizes`` the module is that linear path alone.
    sparsity : float, default=0.0
        Weight of an L1 penalty on the codes (a sparse autoencoder): the mean
        absolute code times ``sparsity`` is added to the loss. Codes then
        pass through a ReLU, so that the penalty can drive most entries of
        each row to exactly zero (without it, the decoder would just scale
        small codes up).
    %(corruption)s
    """

    def __init__(
        self,
        n_features: int,
        n_components: int,
        hidden_layer_sizes: Sequence[int] = (256, 128),
        activation: str = "silu",
        dropout: float = 0.0,
        linear_path: bool = True,
        sparsity: float = 0.0,
        noise: float = 0.0,
        noise_type: str = "gaussian",
    ):
        super().__init__(noise, noise_type, sparsity)
        # A sparse module's codes are non-negative (a ReLU): not free points.
        self.projects_codes = not sparsity > 0
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
        # Codes pass through a ReLU when sparse, so that the L1 penalty can reach exact zeros.
        if not self.linear_path:
            z = self.encoder(x)
        else:
            z = self.encoder_linear(x)
            if self.encoder is not None:
                if not self.training:
                    x = _clamp_to(x, self.input_range)
                z = z + self.encoder(x)
        return torch.relu(z) if self.sparsity > 0 else z

    def decode(self, z: torch.Tensor) -> torch.Tensor:
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
        return _clamp_to(v, bounds)

    @torch.no_grad()
    def refit_output(self, x: torch.Tensor, ridge: float = 1e-3) -> bool:
        """Refit the decoder's output maps to ``x`` in closed form.

        The decoder's output is linear in the codes and in the last hidden
        activations of its correction: ``decoder_linear(z) + W h + b``.
        Ridge least squares of the rows ``x`` on ``[z, h, 1]`` (the module as
        in evaluation, clean rows) sets both maps at once, to the least
        squared reconstruction error those features allow on ``x``; the
        penalty is ``ridge`` times the mean diagonal of the Gram matrix.

        Parameters
        ----------
        x : torch.Tensor of shape (n_samples, n_features)
            Scaled rows to reconstruct (numeric columns only: the fit is
            squared error).
        ridge : float, default=0.001
            Relative ridge penalty.

        Returns
        -------
        refitted : bool
            False when the module has no nonlinear decoder to refit, or
            trains with masking noise: a refit to clean rows undid what
            masking trained (digits, k=16, rows with 30% of entries masked:
            error 0.85 of a noise-free network's without the refit, 0.96
            with it).
        """
        if not self.linear_path or self.decoder is None:
            return False
        if self.noise > 0 and self.noise_type == "mask":
            return False
        training = self.training
        self.eval()
        gram = moments = 0.0
        for rows in torch.split(x, 16_384):  # the features of a few rows at a time
            z = self.encode(rows)
            hidden = self.decoder[:-1](self._confine(z, self.code_range))
            features = torch.cat([z, hidden, torch.ones_like(z[:, :1])], dim=1).double()
            gram = gram + features.T @ features
            moments = moments + features.T @ rows.double()
        penalty = torch.full((len(gram),), ridge * float(gram.diagonal()[:-1].mean()),
                             dtype=gram.dtype, device=gram.device)
        penalty[-1] = 0.0  # the intercept is not shrunk
        weights = torch.linalg.solve(gram + torch.diag(penalty), moments)
        weights = weights.T.to(x.dtype)  # (n_features, k + width + 1)
        k, last = z.shape[1], self.decoder[-1]
        self.decoder_linear.weight.copy_(weights[:, :k])
        self.decoder_linear.bias.zero_()
        last.weight.copy_(weights[:, k:-1])
        last.bias.copy_(weights[:, -1])
        self.train(training)
        return True

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


def _clamp_to(v: torch.Tensor, bounds: torch.Tensor) -> torch.Tensor:
    """``v`` clamped to recorded ``bounds``; unchanged where none were recorded (low > high).

    Without a data-dependent Python branch, so that ``torch.export`` can
    trace ``encode`` and ``decode`` (a new user's trial 53 failed there).
    """
    recorded = bounds[0] <= bounds[1]
    low = torch.where(recorded, bounds[0], -torch.inf)
    high = torch.where(recorded, bounds[1], torch.inf)
    return torch.clamp(v, low, high)
