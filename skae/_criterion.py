"""The training loss: one reconstruction error per column, as a torch criterion.

Owns how a reconstruction is scored. Numbers score their squared error in
scaled units; a categorical column scores its cross-entropy divided by the
entropy of its category frequencies in ``fit`` (:class:`~skae._tabular.TableEncoder`
learns them), so predicting a column's marginal scores 1 whatever its type.

The criteria are handed to skorch as ``criterion``; with
``reduction="none"`` the same objects give the per-column errors that
``score_samples``, ``explain`` and the fit-time statistics read.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

REDUCTIONS = ("mean", "none")


def split_output(output):
    """Split a module's output into ``(reconstruction, penalty)``."""
    if isinstance(output, tuple):
        return output[0], output[1]
    return output, 0.0


class ColumnLoss(nn.Module):
    """Mean reconstruction error over columns, plus the module's penalty.

    Parameters
    ----------
    encoder : TableEncoder
        The fitted encoder: which entries of a network row are numbers,
        which are each categorical column's logits, and each column's
        entropy.
    reduction : {"mean", "none"}, default="mean"
        ``"mean"``: a scalar loss for training (the mean error plus the
        penalty a module returns with its output). ``"none"``: the error of
        each column of each row, shape ``(n, n_columns)``, without penalty.
    """

    def __init__(self, encoder, reduction: str = "mean"):
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}; got {reduction!r}.")
        self.encoder = encoder
        self.reduction = reduction

    def column_errors(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Error of each column of each row; 0 for a missing or unknown category.

        Entries of missing numbers are meaningless: mask them.
        """
        encoder = self.encoder
        if not encoder.mixed:
            return (output - target) ** 2
        errors = output.new_empty((len(output), encoder.n_columns))
        if encoder.numeric:
            idx = torch.as_tensor(encoder.numeric_positions, device=output.device)
            errors[:, encoder.numeric] = (output[:, idx] - target[:, idx]) ** 2
        for j in encoder.categorical:
            s = encoder.slices[j]
            labels = target[:, s].argmax(dim=1)
            ce = F.cross_entropy(output[:, s].float(), labels, reduction="none")
            known = target[:, s].sum(dim=1) > 0  # no one-hot bit: missing or unknown
            errors[:, j] = torch.where(known, ce / encoder.entropy[j], 0.0).to(errors.dtype)
        return errors

    def forward(self, output, target: torch.Tensor) -> torch.Tensor:
        """The loss of a module's ``output`` (a tensor or ``(x_hat, penalty)``)."""
        reconstruction, penalty = split_output(output)
        errors = self.column_errors(reconstruction, target)
        if self.reduction == "none":
            return errors
        return errors.mean() + penalty


class MaskedColumnLoss(ColumnLoss):
    """The imputer's loss: errors on entries hidden from the network.

    ``target`` is ``(rows, observed, visible)``: the encoded rows, the float
    mask of observed columns and the mask of the columns the network saw.
    Training scores the hidden entries plus the visible ones; evaluation
    (``criterion.eval()``, which skorch sets for validation) scores the hidden
    entries alone: that is the imputation error early stopping watches.
    """

    def forward(self, output, target) -> torch.Tensor:
        """The loss of a module's ``output`` on ``(rows, observed, visible)``."""
        rows, observed, visible = target
        reconstruction, penalty = split_output(output)
        errors = self.column_errors(reconstruction, rows)
        if self.reduction == "none":
            return errors
        hidden = observed - visible
        loss = (errors * hidden).sum() / hidden.sum().clamp(min=1)
        if self.training:
            loss = loss + (errors * visible).sum() / visible.sum().clamp(min=1)
        return loss + penalty
