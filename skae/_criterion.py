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
        numeric, groups = self._indices(output.device)
        if numeric is not None:
            errors[:, numeric[0]] = (output[:, numeric[1]] - target[:, numeric[1]]) ** 2
        # One batched cross-entropy per number of levels (a loop over the
        # columns made a fit on a table of 8 categories twice as long). A
        # missing or unknown category has no one-hot bit: its error is 0.
        for columns, positions, entropy in groups:
            log_p = F.log_softmax(output[:, positions].float(), dim=-1)
            ce = -(log_p * target[:, positions]).sum(dim=-1)
            errors[:, columns] = (ce / entropy).to(errors.dtype)
        return errors

    def _indices(self, device):
        """Index tensors of the numbers and of the categories grouped by levels, per device."""
        cache = self.__dict__.setdefault("_index_cache", {})
        if device not in cache:
            encoder = self.encoder
            numeric = None
            if encoder.numeric:
                numeric = (torch.as_tensor(encoder.numeric, device=device),
                           torch.as_tensor(encoder.numeric_positions, device=device))
            by_levels = {}
            for j in encoder.categorical:
                part = encoder.slices[j]
                by_levels.setdefault(part.stop - part.start, []).append(j)
            groups = []
            for levels, columns in by_levels.items():
                starts = torch.tensor([encoder.slices[j].start for j in columns], device=device)
                groups.append((
                    torch.as_tensor(columns, device=device),
                    starts[:, None] + torch.arange(levels, device=device),  # (columns, levels)
                    torch.tensor([encoder.entropy[j] for j in columns], device=device),
                ))
            cache[device] = (numeric, groups)
        return cache[device]

    def __getstate__(self):
        # Index tensors are rebuilt where the criterion runs (maybe another device).
        state = super().__getstate__() if hasattr(super(), "__getstate__") else dict(vars(self))
        state = dict(state)
        state.pop("_index_cache", None)
        return state

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
