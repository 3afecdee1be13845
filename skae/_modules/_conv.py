"""Convolutional autoencoder for images given as flattened rows."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import torch
from torch import nn

from .._docstrings import shared_doc
from ._layers import ACTIVATIONS, ReconstructionModule
from ._protocol import reused_weights_work


def _image_shape(image_shape, n_features: int) -> tuple[int, int, int]:
    try:  # a single number (64) or a string ("8x8", "88") is no shape
        shape = () if isinstance(image_shape, str) else tuple(int(s) for s in image_shape)
    except (TypeError, ValueError):
        shape = ()
    if len(shape) == 2:
        shape = (1, *shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(
            f"image_shape must be (height, width) or (channels, height, width); got "
            f"{image_shape!r}."
        )
    if shape[0] * shape[1] * shape[2] != n_features:
        raise ValueError(
            f"image_shape={image_shape!r} holds {shape[0] * shape[1] * shape[2]} values "
            f"per image, but X has {n_features} features."
        )
    return shape


@shared_doc
class ConvAutoencoder(ReconstructionModule):
    """Convolutional autoencoder for images flattened into rows.

    scikit-learn needs 2-D input, so each image is a row of ``channels *
    height * width`` pixels (channel first, then row by row, as
    ``images.reshape(n, -1)`` gives); ``image_shape`` tells the module how to
    fold it back. The encoder halves the resolution with each strided
    convolution and ends in a linear map to the code; the decoder mirrors it
    with transposed convolutions.

    With ``scaling="auto"`` the estimators scale images as a whole (one mean
    and standard deviation for all pixels) rather than pixel by pixel, which
    would blow up pixels that are almost always blank.

    Parameters
    ----------
    n_features : int
        Pixels per image (``channels * height * width``).
    n_components : int
        Width of the code.
    image_shape : tuple of int
        ``(height, width)`` or ``(channels, height, width)``.
    channels : sequence of int, default=(32, 64)
        Feature maps of the convolutions; each halves the resolution.
    kernel_size : int, default=3
        Size of the convolution kernels (odd).
    activation : str, default="relu"
        Activation after each convolution, a key of :data:`ACTIVATIONS`.
    sparsity : float, default=0.0
        Weight of an L1 penalty on the codes, as in :class:`MLPAutoencoder`.
    %(corruption)s
    """

    #: Scale images as a whole (``scaling="auto"``).
    prefers_global_scaling = True

    def __init__(
        self,
        n_features: int,
        n_components: int,
        image_shape: Sequence[int] = None,
        channels: Sequence[int] = (32, 64),
        kernel_size: int = 3,
        activation: str = "relu",
        sparsity: float = 0.0,
        noise: float = 0.0,
        noise_type: str = "gaussian",
    ):
        super().__init__(noise, noise_type, sparsity)
        if image_shape is None:
            raise ValueError(
                "ConvAutoencoder needs the images' shape: pass module__image_shape="
                "(height, width) or (channels, height, width)."
            )
        self.image_shape = _image_shape(image_shape, n_features)
        if isinstance(kernel_size, bool) or not (
                isinstance(kernel_size, numbers.Integral) and kernel_size >= 1
                and kernel_size % 2 == 1):
            # The padding (kernel_size // 2) centres odd kernels only; an even
            # one was accepted silently (a new user's trial 42).
            raise ValueError(f"kernel_size must be an odd positive integer; got {kernel_size!r}.")
        padding = kernel_size // 2
        sizes = [self.image_shape[1:]]
        encoder: list[nn.Module] = []
        in_channels = self.image_shape[0]
        for out_channels in channels:
            encoder += [
                nn.Conv2d(in_channels, out_channels, kernel_size, stride=2, padding=padding),
                ACTIVATIONS[activation](),
            ]
            h, w = sizes[-1]
            sizes.append(((h + 2 * padding - kernel_size) // 2 + 1,
                          (w + 2 * padding - kernel_size) // 2 + 1))
            in_channels = out_channels
        self.sizes = sizes
        flat = in_channels * sizes[-1][0] * sizes[-1][1]
        self.encoder = nn.Sequential(*encoder, nn.Flatten(), nn.Linear(flat, n_components))
        self.expand = nn.Sequential(nn.Linear(n_components, flat), ACTIVATIONS[activation]())
        self.unflatten = nn.Unflatten(1, (in_channels, *sizes[-1]))
        widths = [self.image_shape[0], *channels]
        self.deconvs = nn.ModuleList(
            nn.ConvTranspose2d(widths[i + 1], widths[i], kernel_size, stride=2, padding=padding)
            for i in reversed(range(len(channels)))
        )
        self.activation = ACTIVATIONS[activation]()
        # Level i's convolution and transposed convolution meet sizes[i + 1]
        # positions (the convolution's outputs, the transposed one's inputs).
        convs = [layer for layer in self.encoder if isinstance(layer, nn.Conv2d)]
        self.work_per_row = reused_weights_work(self, [
            (layer, sizes[i + 1][0] * sizes[i + 1][1])
            for i, layer in [*enumerate(convs), *enumerate(reversed(self.deconvs))]])

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        # Rows are flattened images.
        return self.encoder(x.reshape(-1, *self.image_shape))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        h = self.unflatten(self.expand(z))
        targets = self.sizes[-2::-1]
        for i, (deconv, size) in enumerate(zip(self.deconvs, targets)):
            h = deconv(h, output_size=size)
            if i < len(self.deconvs) - 1:
                h = self.activation(h)
        return h.flatten(1)
