"""Penalised least squares for the L1 / L2 / Elastic Net claims of page 219, vectorised over a batch.

Every problem is ``X [B, n, d]``, ``y [B, n]`` (``B`` independent problems: seeds, or starting points)
and the objective is the book's style of penalty added to a mean squared error::

    mean((X w - y)^2) + l1 * sum(|w|) + l2 * sum(w^2)

``ridge`` solves the pure L2 case in closed form; ``proximal_gradient`` (ISTA) and ``coordinate_descent``
are the two usual solvers for an L1 part, which has no gradient at 0; ``lasso_exact`` finds the exact L1
solution of a problem with a few inputs (two nearly identical inputs make the iterative solvers crawl).
All return ``w [B, d]``. ``sparse_problems`` draws the data sets of the sparsity claims.
Everything here runs on torch 1.4 as on the newest (``claims.compat``'s ``solve`` and
``largest_eigenvalue`` pick the API the installed release has).
"""

from __future__ import annotations

import itertools

import torch

from claims.compat import largest_eigenvalue as _largest_eigenvalue
from claims.compat import solve as _solve

INFORMATIVE = (3.0, -2.0, 1.5)  # the weights of the first inputs of ``sparse_problems``; the others are 0


def sparse_problems(seed: int, dtype: torch.dtype, S: int = 20, n: int = 100, d: int = 20):
    """``S`` data sets of ``n`` samples, drawn on the CPU from ``seed``: ``d`` standard-normal inputs of which
    only the first 3 matter (weights ``INFORMATIVE``), ``y = X w + 0.5 * noise``. Returns ``X [S, n, d]``,
    ``y [S, n]``."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(S, n, d, generator=g, dtype=dtype)
    w_true = torch.zeros(d, dtype=dtype)
    w_true[: len(INFORMATIVE)] = torch.tensor(INFORMATIVE, dtype=dtype)
    return X, X @ w_true + 0.5 * torch.randn(S, n, generator=g, dtype=dtype)


def _t(a):
    """The batched transpose (``a.mT`` from torch 1.11 on)."""
    return a.transpose(-1, -2)


def objective(X, y, w, l1: float = 0.0, l2: float = 0.0):
    """The penalised loss of each problem in the batch, shape ``[B]``."""
    residual = (X @ w.unsqueeze(-1)).squeeze(-1) - y
    return residual.pow(2).mean(-1) + l1 * w.abs().sum(-1) + l2 * w.pow(2).sum(-1)


def ridge(X, y, l2: float):
    """The exact minimiser of ``mean((Xw - y)^2) + l2 * sum(w^2)``: ``(X'X/n + l2 I) w = X'y/n``."""
    n, d = X.shape[-2], X.shape[-1]
    eye = torch.eye(d, dtype=X.dtype, device=X.device)
    return _solve(_t(X) @ X / n + l2 * eye, _t(X) @ y.unsqueeze(-1) / n).squeeze(-1)


def soft_threshold(v, t):
    """The L1 penalty's proximal step: move every entry ``t`` towards 0, and stop at exactly 0."""
    return torch.sign(v) * torch.clamp(v.abs() - t, min=0.0)


def ridge_shrink(v, t, l2: float):
    """The L2 penalty's proximal step for step size ``t``: scale by ``1 / (1 + 2 t l2)``."""
    return v / (1 + 2 * t * l2)


def proximal_gradient(X, y, w0, l1: float = 0.0, l2: float = 0.0, steps: int = 2000):
    """ISTA from ``w0``: a gradient step on the squared error, then the penalty's proximal step
    (soft-threshold by ``t * l1``, divide by ``1 + 2 t l2``), with step ``t = 1 / Lipschitz``."""
    n = X.shape[-2]
    gram, xty = 2 * _t(X) @ X / n, 2 * (_t(X) @ y.unsqueeze(-1)).squeeze(-1) / n
    t = 1.0 / _largest_eigenvalue(gram)  # [B, 1]
    w = w0.clone()
    for _ in range(steps):
        grad = (gram @ w.unsqueeze(-1)).squeeze(-1) - xty
        w = ridge_shrink(soft_threshold(w - t * grad, t * l1), t, l2)
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


def lasso_exact(X, y, l1: float):
    """The exact minimiser of ``mean((Xw - y)^2) + l1 * sum(|w|)`` for a few inputs ``d`` (3**d solves).

    At the minimum, the weights that are not zero solve the linear system ``2/n X_a'(y - X_a w_a) = l1 s_a``
    of their own signs ``s_a``; so solving that system for every pattern of signs in {-1, 0, +1} and keeping
    the candidate of lowest objective finds the minimum (the objective is convex)."""
    n, d = X.shape[-2], X.shape[-1]
    gram, xty = 2 * _t(X) @ X / n, 2 * (_t(X) @ y.unsqueeze(-1)).squeeze(-1) / n
    candidates = []
    for pattern in itertools.product((-1.0, 0.0, 1.0), repeat=d):
        signs = torch.tensor(pattern, dtype=X.dtype, device=X.device)
        active = [j for j in range(d) if pattern[j] != 0]
        w = torch.zeros(X.shape[:-2] + (d,), dtype=X.dtype, device=X.device)
        if active:
            rhs = (xty[..., active] - l1 * signs[active]).unsqueeze(-1)
            w[..., active] = _solve(gram[..., active, :][..., active], rhs).squeeze(-1)
        candidates.append(w)
    losses = torch.stack([objective(X, y, w, l1=l1) for w in candidates], dim=-1)
    best = losses.argmin(dim=-1)
    return torch.stack(candidates, dim=-2).gather(-2, best[..., None, None].expand(best.shape + (1, d))).squeeze(-2)
