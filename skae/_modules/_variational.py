"""Variational autoencoders: a distribution over codes instead of a point."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.distributions import Normal, kl_divergence

from .._docstrings import shared_doc
from ._layers import ReconstructionModule, check_nonnegative, make_mlp


def code_distribution(encoded: torch.Tensor) -> Normal:
    """The Gaussian over codes an encoder's output describes (mean, log-variance halves)."""
    mean, log_var = encoded.chunk(2, dim=1)
    return Normal(mean, (0.5 * log_var.clamp(-20.0, 10.0)).exp())


def prior_kl(codes: Normal) -> torch.Tensor:
    """KL divergence of each row's code distribution from ``N(0, I)``."""
    prior = Normal(torch.zeros_like(codes.loc), torch.ones_like(codes.scale))
    return kl_divergence(codes, prior).sum(dim=1)


@shared_doc
class VariationalAutoencoder(ReconstructionModule):
    """Variational autoencoder (VAE) with MLP encoder and decoder.

    The encoder outputs the mean and log-variance of a Gaussian over codes;
    training decodes a code drawn from it (the reparameterisation trick) and
    adds ``beta`` times its KL divergence from a standard normal prior to the
    loss. :meth:`encode` returns the mean, so ``transform`` is deterministic;
    decoding codes drawn from the prior generates new rows
    (:meth:`AutoencoderTransformer.sample`).

    Parameters
    ----------
    %(mlp_parameters)s
    beta : float, default=1.0
        Weight of the KL term. The loss per row is the mean squared error
        over the features plus ``beta`` times the KL divergence divided by
        the number of features: ``beta=1`` is the evidence lower bound of a
        Gaussian decoder with variance 1/2 in the scaled units. Larger values
        give smoother, more prior-like codes; ``beta=0`` is a plain
        autoencoder with noisy codes.
    %(corruption)s
    """

    #: Tells the estimators that codes have a posterior and a prior.
    variational = True

    def __init__(
        self,
        n_features: int,
        n_components: int,
        hidden_layer_sizes: Sequence[int] = (256, 128),
        activation: str = "silu",
        dropout: float = 0.0,
        beta: float = 1.0,
        noise: float = 0.0,
        noise_type: str = "gaussian",
    ):
        super().__init__(noise, noise_type)
        check_nonnegative(beta, "beta")
        hidden = list(hidden_layer_sizes)
        self.n_features, self.n_components = n_features, n_components
        self.beta = float(beta)
        self.encoder = make_mlp([n_features, *hidden, 2 * n_components], activation, dropout)
        self.decoder = make_mlp([n_components, *hidden[::-1], n_features], activation, dropout)

    @shared_doc
    def encode_distribution(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of the code distribution of each row.

        Parameters
        ----------
        %(rows)s

        Returns
        -------
        mean : torch.Tensor of shape (n, n_components)
            Posterior means.
        log_var : torch.Tensor of shape (n, n_components)
            Posterior log-variances.
        """
        codes = code_distribution(self.encoder(x))
        return codes.loc, 2 * codes.scale.log()

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        # The posterior mean of each row's code.
        return code_distribution(self.encoder(x)).loc

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, x: torch.Tensor):
        # Codes are sampled in training; the penalty is beta times the mean KL divergence, per feature.
        if self.training:
            x = self.corrupt_inputs(x)
        codes = code_distribution(self.encoder(x))
        z = codes.rsample() if self.training else codes.loc
        penalty = self.beta * prior_kl(codes).mean() / self.n_features
        return self.decode(z), penalty

    @shared_doc
    def kl_divergence(self, x: torch.Tensor) -> torch.Tensor:
        """KL divergence of each row's code distribution from the prior.

        Parameters
        ----------
        %(rows)s

        Returns
        -------
        kl : torch.Tensor of shape (n,)
            One divergence per row.
        """
        return prior_kl(code_distribution(self.encoder(x)))

    def sample_codes(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``n`` codes from the standard normal prior.

        Parameters
        ----------
        n : int
            Number of codes.
        generator : torch.Generator or None, default=None
            Source of randomness.

        Returns
        -------
        z : torch.Tensor of shape (n, n_components)
            Codes.
        """
        device = next(self.parameters()).device
        z = torch.randn(n, self.n_components, generator=generator)
        return z.to(device)
