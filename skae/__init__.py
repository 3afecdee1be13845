"""skae: autoencoders as scikit-learn estimators.

Three estimators share one training base built on skorch and PyTorch:

- :class:`AutoencoderTransformer`, nonlinear dimensionality reduction;
- :class:`AutoencoderAnomalyDetector`, anomaly detection from reconstruction
  error;
- :class:`AutoencoderImputer`, missing-value imputation (and AutoRec-style
  recommendation, with :func:`top_n_items`).

The network is a parameter: recurrent ones (:class:`RecurrentAutoencoder`,
:class:`RecurrentImputer`) take windows of a series cut by
:func:`sliding_windows`.
"""

__version__ = "0.1.0.dev0"

from ._anomaly import AutoencoderAnomalyDetector  # noqa: E402
from ._dask import map_partitions  # noqa: E402
from ._distributed import data_parallel  # noqa: E402
from ._imputer import AutoencoderImputer  # noqa: E402
from ._modules import (  # noqa: E402
    ConvAutoencoder,
    DenoisingImputerMLP,
    MLPAutoencoder,
    RecurrentAutoencoder,
    RecurrentImputer,
    VariationalAutoencoder,
    VariationalImputerMLP,
)
from ._net import TrainingDivergedError  # noqa: E402
from ._recommend import top_n_items  # noqa: E402
from ._transformer import AutoencoderTransformer  # noqa: E402
from ._utils import history_frame  # noqa: E402
from ._windows import n_windows, sliding_windows, window_scores_to_steps  # noqa: E402

__all__ = [
    "AutoencoderAnomalyDetector",
    "AutoencoderImputer",
    "AutoencoderTransformer",
    "ConvAutoencoder",
    "DenoisingImputerMLP",
    "MLPAutoencoder",
    "RecurrentAutoencoder",
    "RecurrentImputer",
    "TrainingDivergedError",
    "VariationalAutoencoder",
    "VariationalImputerMLP",
    "data_parallel",
    "history_frame",
    "map_partitions",
    "n_windows",
    "sliding_windows",
    "top_n_items",
    "window_scores_to_steps",
    "__version__",
]
