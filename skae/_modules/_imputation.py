"""Networks for AutoencoderImputer: they see which entries are missing."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import torch
from torch import nn

from .._docstrings import shared_doc
from ._layers import check_count, check_nonnegative, make_mlp
from ._protocol import ImputerModule, reused_weights_work
from ._variational import code_distribution, prior_kl

#: Narrowest bin of DenoisingImputerMLP's encoding, in scaled units.
_MIN_BIN_WIDTH = 0.01


class _MemberLinear(nn.Module):
    """``n_members`` independent linear layers, applied as one batched product.

    Takes ``(n, in)`` rows (the same for every member) or ``(n_members, n,
    in)`` and returns ``(n_members, n, out)``. Each member is initialised as
    :class:`torch.nn.Linear` initialises itself, from its own draws.
    """

    def __init__(self, n_members: int, n_in: int, n_out: int):
        super().__init__()
        self.in_features, self.out_features = n_in, n_out
        layers = [nn.Linear(n_in, n_out) for _ in range(n_members)]
        self.weight = nn.Parameter(torch.stack([layer.weight.detach().T for layer in layers]))
        self.bias = nn.Parameter(torch.stack([layer.bias.detach() for layer in layers])[:, None])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            x = x.expand(len(self.weight), *x.shape)
        return torch.baddbmm(self.bias, x, self.weight)


def _member_mlp(n_members: int, sizes, activation: str, dropout: float) -> nn.Sequential:
    """:func:`make_mlp` with every linear layer replaced by ``n_members`` of them."""
    mlp = make_mlp(sizes, activation, dropout)
    for i, layer in enumerate(mlp):
        if isinstance(layer, nn.Linear):
            mlp[i] = _MemberLinear(n_members, layer.in_features, layer.out_features)
    return mlp


class DenoisingImputerMLP(ImputerModule):
    """Denoising imputation network that sees the missing-value mask.

    The input is the row with hidden and missing entries set to zero,
    concatenated with the mask of visible entries, so the network can tell a
    zero from a gap. ``n_passes`` greater than one refines the output: each
    further pass fills the gaps with the previous pass's (detached)
    predictions and predicts again with the same weights.

    With ``n_bins > 0`` the hidden layers also see each visible value
    encoded piecewise-linearly over ``n_bins`` bins between its feature's
    quantiles (Gorishniy et al., 2022): code ``t`` of a value is 0 below bin
    ``t``, 1 above it and rises linearly across it. Thresholds, skewed
    features and features with a few distinct values then need no deep
    layers to carve them out, which is where tree ensembles (missForest)
    otherwise beat an MLP. :meth:`init_from_data` places the bins.

    Parameters
    ----------
    n_features : int
        Width of the rows.
    hidden_layer_sizes : sequence of int, default=(256, 256, 256)
        Widths of the hidden layers. No bottleneck: the network maps
        ``(2 + n_bins) * n_features`` inputs to ``n_features`` outputs.
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
    n_bins : int, default=8
        Bins of the piecewise-linear encoding of each feature; 0 feeds the
        hidden layers the values alone (the setting for rating matrices,
        whose columns hold too few values for quantiles).
    n_members : int, default=1
        Independent networks (hidden layers and linear path) inside the
        module, each with its own initialisation, run as one batched matrix
        product. In training the module returns every member's output, of
        shape ``(n_members, n, n_features)``, and each member is trained on
        its own loss (:class:`~skae.AutoencoderImputer` averages the members'
        losses, so that they do not act as one wide network); in evaluation
        it returns the members' mean, a small ensemble for the cost of one
        batched network. :class:`~skae.AutoencoderImputer` uses 2 members
        on tables of one batch.

    References
    ----------
    Gorishniy, Rubachev and Babenko, "On Embeddings for Numerical Features in
    Tabular Deep Learning", NeurIPS 2022.
    """

    def __init__(
        self,
        n_features: int,
        hidden_layer_sizes: Sequence[int] = (256, 256, 256),
        activation: str = "relu",
        dropout: float = 0.0,
        n_passes: int = 2,
        linear_path: bool = True,
        n_bins: int = 8,
        n_members: int = 1,
    ):
        super().__init__()
        self.n_passes = check_count(n_passes, "n_passes", 1)
        self.n_bins = check_count(n_bins, "n_bins", 0)
        self.n_members = check_count(n_members, "n_members", 1)
        width = 2 * n_features + n_features * self.n_bins
        sizes = [width, *hidden_layer_sizes, n_features]
        if self.n_members == 1:
            self.net = make_mlp(sizes, activation, dropout)
            linear = nn.Linear
        else:
            self.net = _member_mlp(self.n_members, sizes, activation, dropout)
            linear = partial(_MemberLinear, self.n_members)
            # Inference holds every member's activations at once.
            self.activation_width = self.n_members * max([width, *hidden_layer_sizes])
        self.linear = linear(2 * n_features, n_features) if linear_path else None
        if self.n_bins:
            # Until init_from_data sees the data: even bins over +-2 standard
            # deviations of a standardized feature.
            grid = torch.linspace(-2.0, 2.0, self.n_bins + 1)
            self.register_buffer("edges", grid.repeat(n_features, 1))
        # Every pass runs every weight (the thread policy's count of work).
        self.work_per_row = reused_weights_work(self, [(self, self.n_passes)])

    def init_from_data(self, x: torch.Tensor, observed: torch.Tensor | None = None) -> None:
        """Place each feature's bin edges at the quantiles of its observed values.

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_features)
            Scaled training rows.
        observed : torch.Tensor of shape (n, n_features) or None, default=None
            1 where an entry is observed; None counts every entry.
        """
        if not self.n_bins:
            return
        levels = torch.linspace(0.0, 1.0, self.n_bins + 1, device=x.device)
        edges = self.edges.clone()
        for j in range(x.shape[1]):
            values = x[:, j] if observed is None else x[observed[:, j] > 0, j]
            if len(values):
                # At most 100,000 values: plenty for eight quantiles.
                edges[j] = torch.quantile(values[:100_000].float(), levels).to(edges.device)
        # Features with few distinct values repeat a quantile. Tied edges are
        # spread 0.01 (a hundredth of a standard deviation) apart, so that a
        # value sitting on one gets the same code whatever its rounding.
        for t in range(1, self.n_bins + 1):
            edges[:, t] = torch.maximum(edges[:, t], edges[:, t - 1] + _MIN_BIN_WIDTH)
        self.edges.copy_(edges)

    def _bins(self, filled: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
        """Piecewise-linear encoding of each visible value over its feature's bins."""
        low, high = self.edges[:, :-1], self.edges[:, 1:]
        width = (high - low).clamp(min=_MIN_BIN_WIDTH)
        code = ((filled.unsqueeze(-1) - low) / width).clamp(0.0, 1.0) * visible.unsqueeze(-1)
        return code.flatten(-2)

    def _predict(self, filled: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
        # ``filled`` is (n, d), or (n_members, n, d) once members filled it.
        visible = visible.expand_as(filled)
        inputs = torch.cat([filled, visible], dim=-1)
        hidden_in = inputs
        if self.n_bins:
            hidden_in = torch.cat([inputs, self._bins(filled, visible)], dim=-1)
        out = self.net(hidden_in)
        return out if self.linear is None else out + self.linear(inputs)

    def forward(self, x: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
        seen = visible > 0
        filled = torch.where(seen, x, torch.zeros_like(x))
        for _ in range(self.n_passes - 1):
            # Earlier passes only fill the gaps of the last one, which alone
            # is trained through: no graph to keep for them.
            with torch.no_grad():
                out = self._predict(filled, visible)
            filled = torch.where(seen, x, out)
        out = self._predict(filled, visible)
        if self.n_members > 1 and not self.training:
            return out.mean(dim=0)
        return out


class VariationalImputerMLP(ImputerModule):
    """Variational imputation network: a distribution over codes for each row.

    The encoder sees the row with its gaps and the mask of visible entries
    and outputs a Gaussian over codes; the decoder maps a code, together
    with the visible entries and the mask, to the whole row. Training draws
    codes from that Gaussian and adds ``beta`` times its KL divergence from a
    standard normal to the loss, so the spread of the codes carries the
    uncertainty about the hidden entries: :meth:`sample` draws imputations
    from it, which :meth:`AutoencoderImputer.sample_imputations` uses. In
    ``eval()`` mode the code is the mean, and imputation is deterministic.

    Parameters
    ----------
    n_features : int
        Width of the rows.
    n_components : int or None, default=None
        Width of the code; ``None`` uses ``max(2, n_features // 2)``.
    hidden_layer_sizes : sequence of int, default=(256, 256)
        Widths of the hidden layers of the encoder and of the decoder.
    activation : str, default="relu"
        Hidden activation, a key of :data:`ACTIVATIONS`.
    dropout : float, default=0.0
        Dropout probability after each hidden activation.
    beta : float, default=1.0
        Weight of the KL term (per feature, as in
        :class:`VariationalAutoencoder`).
    """

    variational = True

    def __init__(
        self,
        n_features: int,
        n_components: int | None = None,
        hidden_layer_sizes: Sequence[int] = (256, 256),
        activation: str = "relu",
        dropout: float = 0.0,
        beta: float = 1.0,
    ):
        super().__init__()
        check_nonnegative(beta, "beta")
        k = (check_count(n_components, "n_components", 1) if n_components is not None
             else max(2, n_features // 2))
        hidden = list(hidden_layer_sizes)
        self.n_features, self.n_components, self.beta = n_features, k, float(beta)
        self.encoder = make_mlp([2 * n_features, *hidden, 2 * k], activation, dropout)
        self.decoder = make_mlp([k + 2 * n_features, *hidden, n_features], activation, dropout)

    def _inputs(self, x: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.where(visible > 0, x, torch.zeros_like(x)), visible], dim=1)

    def _decode(self, z: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        return self.decoder(torch.cat([z, inputs], dim=1))

    def forward(self, x: torch.Tensor, visible: torch.Tensor):
        inputs = self._inputs(x, visible)
        codes = code_distribution(self.encoder(inputs))
        z = codes.rsample() if self.training else codes.loc
        kl = prior_kl(codes).mean()
        return self._decode(z, inputs), self.beta * kl / self.n_features

    @shared_doc
    def sample(
        self, x: torch.Tensor, visible: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Reconstruct rows from codes drawn from their distributions.

        Parameters
        ----------
        %(rows_and_mask)s
        generator : torch.Generator or None, default=None
            Source of randomness.

        Returns
        -------
        x_hat : torch.Tensor of shape (n, n_features)
            Reconstructed rows.
        """
        inputs = self._inputs(x, visible)
        codes = code_distribution(self.encoder(inputs))
        # Normal.sample takes no generator: the reparameterisation by hand.
        noise = torch.randn(codes.loc.shape, generator=generator).to(codes.loc.device)
        return self._decode(codes.loc + noise * codes.scale, inputs)
