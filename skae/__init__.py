"""skae: autoencoders as scikit-learn estimators.

Three estimators share one training base built on skorch and PyTorch:

- :class:`AutoencoderTransformer`, nonlinear dimensionality reduction;
- :class:`AutoencoderAnomalyDetector`, anomaly detection from reconstruction
  error;
- :class:`AutoencoderImputer`, missing-value imputation.
"""

__version__ = "0.1.0.dev0"

from ._anomaly import AutoencoderAnomalyDetector  # noqa: E402
from ._base import TrainingDivergedError  # noqa: E402
from ._imputer import AutoencoderImputer  # noqa: E402
from ._modules import (  # noqa: E402
    ConvAutoencoder,
    DenoisingImputerMLP,
    MLPAutoencoder,
    VariationalAutoencoder,
    VariationalImputerMLP,
)
from ._transformer import AutoencoderTransformer  # noqa: E402
from ._utils import history_frame  # noqa: E402

__all__ = [
    "AutoencoderAnomalyDetector",
    "AutoencoderImputer",
    "AutoencoderTransformer",
    "ConvAutoencoder",
    "DenoisingImputerMLP",
    "MLPAutoencoder",
    "TrainingDivergedError",
    "VariationalAutoencoder",
    "VariationalImputerMLP",
    "history_frame",
    "__version__",
]
