"""Codes refined to the decoder's best reconstruction of each row.

An encoder is trained to approximate, in one pass, the code from which the
decoder reconstructs a row best; on rows it has not seen the approximation
leaves error on the table (the amortization gap of Cremer, Li and Duvenaud,
ICML 2018; semi-amortized inference, Kim et al., ICML 2018, closes it by
optimizing the encoder's code). PCA has no such gap: its ``transform`` is
the least-squares projection onto its components. :func:`refine_codes`
gives an autoencoder's ``transform`` the same meaning: each row's code
starts at the encoder's and descends the row's reconstruction error by
Levenberg-Marquardt steps on the generalized Gauss-Newton matrix, row by
row, so a row's code never depends on the other rows of a call, and its
error never rises above the encoder's.
"""

from __future__ import annotations

import torch

#: A row stops once an accepted step lowers its error by less than this share
#: and moves its code by less than ``_STEP_TOL`` of its size (a long step
#: that gains little has crossed a valley; the row goes on), or once a step
#: is below ``_TOL`` of it (the row is at its best code).
_TOL = 1e-6
_STEP_TOL = 1e-3
#: Damping of the first step, relative to the Gauss-Newton matrix's diagonal.
_DAMPING = 1e-2
#: A rejected step multiplies the row's damping by this; an accepted one divides by 3.
_BACKOFF = 5.0
#: Rows every step works on, at least (the last row repeated). A float32
#: matrix product of a handful of rows takes other kernels, which round
#: differently (1 to 10 rows on the development machine), and as the rows
#: still moving dwindled, the steps' accept-or-refuse turned those last
#: digits into codes up to 0.034 apart between chunks of a call (trial 66);
#: padded, they are the same to the bit there. A single row's transform
#: takes 5.5 ms instead of 3.2 (digits, 8 components; 64 rows: 11 ms).
MIN_ROWS = 16


def at_least_rows(fn, minimum: int = MIN_ROWS):
    """``fn`` of a batch of rows, computed on at least ``minimum`` rows.

    Fewer rows are padded with copies of the last one and the result is cut
    back, so that a row's result does not depend on how many rows share the
    call (where the product's kernels depend on the number of rows alone).
    """
    def call(rows: torch.Tensor) -> torch.Tensor:
        n = rows.shape[0]
        if 0 < n < minimum:
            padding = rows[-1:].expand(minimum - n, *rows.shape[1:])
            return fn(torch.cat([rows, padding]))[:n]
        return fn(rows)

    return call


def refine_codes(decode, row_errors, x, codes, max_iter: int,
                 squared: bool = False) -> torch.Tensor:
    """Refine ``codes`` so that ``decode`` reconstructs the rows ``x`` better.

    Parameters
    ----------
    decode : callable
        Maps codes ``(n, k)`` to outputs, smoothly (its Jacobian is taken
        by finite differences), row by row (an output row depends on its
        own code only, as in evaluation mode).
    row_errors : callable
        ``row_errors(output, x)`` gives each row's reconstruction error,
        shape ``(n,)``, convex in the output (squared errors,
        cross-entropies).
    x : torch.Tensor of shape (n, width)
        The encoded rows.
    codes : torch.Tensor of shape (n, k)
        The encoder's codes of ``x``: the starting point.
    max_iter : int
        Gauss-Newton steps at most; 0 returns ``codes``.
    squared : bool, default=False
        ``row_errors`` is the sum of squared differences ``(output - x)``:
        the Gauss-Newton matrix is then ``2 J^T J``, without autograd.

    Returns
    -------
    codes : torch.Tensor of shape (n, k)
        Codes whose error is at most the starting codes', row by row.
    """
    if max_iter <= 0 or len(codes) == 0:
        return codes
    decode = at_least_rows(decode)
    # The caller may run in inference mode, or under bfloat16 autocast: the
    # steps need ordinary tensors for autograd, and the module's own precision.
    with torch.inference_mode(False), torch.autocast(x.device.type, enabled=False):
        x, z = x.clone(), codes.detach().to(x.dtype).clone()
        with torch.no_grad():
            error = row_errors(decode(z), x)
        damping = torch.full_like(error, _DAMPING)
        active = torch.ones_like(error, dtype=torch.bool)
        basis = torch.eye(z.shape[1], dtype=z.dtype, device=z.device)
        for _ in range(max_iter):
            rows = active.nonzero()[:, 0]
            if len(rows) == 0:
                break
            # The few rows still moving are computed among repeats of the last
            # one, and only their own results are kept (no row is written twice).
            n = len(rows)
            padded = torch.cat([rows, rows[-1:].expand(max(0, MIN_ROWS - n))])
            step = _gauss_newton_step(decode, row_errors, x[padded], z[padded],
                                      damping[padded], basis, squared)
            with torch.no_grad():
                trial = row_errors(decode(z[padded] + step), x[padded])[:n]
            step = step[:n]
            before = error[rows]
            better = trial < before  # NaN trials (far outside the data) are refused
            z[rows] = torch.where(better[:, None], z[rows] + step, z[rows])
            error[rows] = torch.where(better, trial, before)
            damping[rows] = torch.where(better, damping[rows] / 3, damping[rows] * _BACKOFF)
            # Done: a short step that gains next to nothing, or none worth
            # taking (at a minimum already, as PCA's codes are for its decoder).
            size, length = 1 + z[rows].norm(dim=1), step.norm(dim=1)
            settled = better & (before - trial <= _TOL * before) & (length <= _STEP_TOL * size)
            active[rows] = ~(settled | (length <= _TOL * size))
        return z.detach()


def _gauss_newton_step(decode, row_errors, x, z, damping, basis, squared) -> torch.Tensor:
    """One damped generalized Gauss-Newton step per row (Levenberg-Marquardt).

    The matrix is ``J^T H J``: ``J`` the decoder's Jacobian with respect to
    the code, by finite differences as MINPACK's ``lmdif`` and SciPy's
    ``least_squares`` take it (one pass over ``2k + 1`` copies of the rows;
    thread-safe, unlike forward-mode autograd, whose dual levels are global
    to the process); ``H`` the Hessian of the row's error with
    respect to the output (2 for squared errors, the softmax covariance for
    categories), positive semidefinite.
    """
    n, k = z.shape
    # Central differences, each code entry moved by the cube root of machine
    # epsilon of its size: the Jacobian to about eps^(2/3), so that a row's
    # code does not depend (beyond 1e-9) on the rows computed beside it.
    h = torch.finfo(z.dtype).eps ** (1 / 3) * z.abs().clamp_min(1.0)  # (n, k)
    h = (z + h) - z  # the step the floats take
    moved = basis[:, None, :] * h[None]  # (k, n, k): entry j moved
    with torch.no_grad():
        outputs = decode(torch.cat([z, (z[None] + moved).reshape(k * n, k),
                                    (z[None] - moved).reshape(k * n, k)]))
    output, ahead, behind = outputs[:n], outputs[n:n + k * n], outputs[n + k * n:]
    tangents = (ahead - behind).reshape(k, n, -1) / (2 * h.T[..., None])  # (k, n, width)
    jacobian = tangents.permute(1, 2, 0)  # (n, width, k)
    if squared:  # the constant 2 of both sides cancels in the step
        slope = (jacobian.transpose(1, 2) @ (output - x)[..., None])[..., 0]
        matrix = jacobian.transpose(1, 2) @ jacobian
    else:
        output = output.detach().requires_grad_(True)
        with torch.enable_grad():
            gradient, = torch.autograd.grad(row_errors(output, x).sum(), output,
                                            create_graph=True)
            curved = [torch.autograd.grad(gradient, output, grad_outputs=u, retain_graph=True)[0]
                      for u in tangents]
        matrix = jacobian.transpose(1, 2) @ torch.stack(curved, dim=2)
        slope = (jacobian.transpose(1, 2) @ gradient.detach()[..., None])[..., 0]
    diagonal = matrix.diagonal(dim1=1, dim2=2).clamp_min(1e-12)
    matrix = matrix + torch.diag_embed(damping[:, None] * diagonal)
    step, info = torch.linalg.solve_ex(matrix, -slope)
    # A singular system (no curvature at all) takes no step.
    return torch.where((info == 0)[:, None] & torch.isfinite(step), step, 0.0)
