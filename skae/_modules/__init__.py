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
``corrupt_inputs(x)`` (optional)
    The corruption a denoising module trains with. Validation applies it too
    (with the same noise at every epoch) and scores against the clean rows,
    so that early stopping judges what the module is trained to do.
``activation_width`` (optional attribute)
    Floats per row of the module's widest activation, when that is wider
    than its layers (a recurrent module keeps its state at every time
    step); inference then runs in chunks small enough for it.
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
returns the reconstructed rows. Constructors receive ``n_features``. An
optional ``init_from_data(x, observed)`` is called once before training with
the scaled training rows and their float mask of observed entries (dense
input only).

Sequences
---------
:class:`RecurrentAutoencoder` and :class:`RecurrentImputer` read each row as a
window of ``seq_len`` time steps of ``n_channels`` values, laid out time step
by time step, and take ``sequence_shape=(seq_len, n_channels)`` from
``module__sequence_shape``, as :class:`ConvAutoencoder` takes ``image_shape``.
"""

from ._conv import ConvAutoencoder
from ._imputation import DenoisingImputerMLP, VariationalImputerMLP
from ._layers import ACTIVATIONS, corrupt, make_mlp, principal_axes
from ._mlp import MLPAutoencoder
from ._recurrent import RecurrentAutoencoder, RecurrentImputer
from ._variational import VariationalAutoencoder

__all__ = [
    "ACTIVATIONS",
    "ConvAutoencoder",
    "DenoisingImputerMLP",
    "MLPAutoencoder",
    "RecurrentAutoencoder",
    "RecurrentImputer",
    "VariationalAutoencoder",
    "VariationalImputerMLP",
    "corrupt",
    "make_mlp",
    "principal_axes",
]
