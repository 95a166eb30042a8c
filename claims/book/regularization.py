"""Penalised least squares for the L1 / L2 / Elastic Net claims of page 219, vectorised over a batch.

Every problem is ``X [B, n, d]``, ``y [B, n]`` (``B`` independent problems: seeds, or starting points)
and the objective is the book's style of penalty added to a mean squared error::

    mean((X w - y)^2) + l1 * sum(|w|) + l2 * sum(w^2)

``ridge`` solves the pure L2 case in closed form; ``proximal_gradient`` (ISTA) and ``coordinate_descent``
are the two usual solvers for an L1 part, which has no gradient at 0. Both return ``w [B, d]``.
"""
from __future__ import annotations

import torch


def objective(X, y, w, l1: float = 0.0, l2: float = 0.0):
    """The penalised loss of each problem in the batch, shape ``[B]``."""
    residual = (X @ w.unsqueeze(-1)).squeeze(-1) - y
    return residual.pow(2).mean(-1) + l1 * w.abs().sum(-1) + l2 * w.pow(2).sum(-1)


def ridge(X, y, l2: float):
    """The exact minimiser of ``mean((Xw - y)^2) + l2 * sum(w^2)``: ``(X'X/n + l2 I) w = X'y/n``."""
    n, d = X.shape[-2], X.shape[-1]
    eye = torch.eye(d, dtype=X.dtype, device=X.device)
    return torch.linalg.solve(X.mT @ X / n + l2 * eye, (X.mT @ y.unsqueeze(-1)).squeeze(-1) / n)


def soft_threshold(v, t):
    return torch.sign(v) * torch.clamp(v.abs() - t, min=0.0)


def proximal_gradient(X, y, w0, l1: float = 0.0, l2: float = 0.0, steps: int = 2000):
    """ISTA from ``w0``: a gradient step on the squared error, then the penalty's proximal step
    (soft-threshold by ``t * l1``, divide by ``1 + 2 t l2``), with step ``t = 1 / Lipschitz``."""
    n = X.shape[-2]
    gram, xty = 2 * X.mT @ X / n, 2 * (X.mT @ y.unsqueeze(-1)).squeeze(-1) / n
    t = 1.0 / torch.linalg.eigvalsh(gram)[..., -1:]  # [B, 1]
    w = w0.clone()
    for _ in range(steps):
        grad = (gram @ w.unsqueeze(-1)).squeeze(-1) - xty
        w = soft_threshold(w - t * grad, t * l1) / (1 + 2 * t * l2)
    return w


def coordinate_descent(X, y, w0, l1: float = 0.0, l2: float = 0.0, sweeps: int = 200):
    """Cyclic coordinate descent from ``w0``, inputs in column order: each coordinate in turn is set to
    its exact minimiser with the others fixed, ``S(2/n x_j'r_j, l1) / (2/n |x_j|^2 + 2 l2)``."""
    n, d = X.shape[-2], X.shape[-1]
    w = w0.clone()
    col_sq = 2 * X.pow(2).sum(-2) / n  # [B, d]
    for _ in range(sweeps):
        for j in range(d):
            partial = y - (X @ w.unsqueeze(-1)).squeeze(-1) + X[..., j] * w[..., j : j + 1]
            rho = 2 * (X[..., j] * partial).sum(-1) / n
            w[..., j] = soft_threshold(rho, l1) / (col_sq[..., j] + 2 * l2)
    return w
