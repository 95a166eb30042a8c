"""The experiment behind the page-119 claim that learning rates per parameter are no substitute for normalizing.

A linear model ``y ~ x @ w + b`` on ``n`` inputs whose scales span ``decades`` decades, each input mattering as
much to ``y``; gradient descent as the book's p.117 loop (``params = params - rates * grad``, the gradient of the
mean squared error written out as the book's ``grad_fn`` is) with one rate per parameter, run for many rate
vectors at once (one row each: the rows never mix, each row's loss is its own).
Everything is drawn on the CPU from the seed, so every device sees the same numbers.
"""

from __future__ import annotations

import torch

from claims.compat import full_float32, lstsq

EPOCHS = 200
FITS = 1.01  # a run fits when its final loss is within 1% of the least-squares loss


def inputs_of_many_scales(n_inputs: int, seed: int = 0, decades: float = 3.0, n_samples: int = 256):
    """``n_inputs`` inputs on scales from 10**(-decades/2) to 10**(decades/2), each mattering as much to
    y = x @ w + 1 + 0.1 * noise: (x [samples, inputs], y [samples])."""
    g = torch.Generator().manual_seed(seed)
    scales = 10 ** torch.linspace(-decades / 2, decades / 2, n_inputs)
    x = torch.randn(n_samples, n_inputs, generator=g) * scales
    y = x @ (torch.randn(n_inputs, generator=g) / scales) + 1 + 0.1 * torch.randn(n_samples, generator=g)
    return x, y


def descend(x, y, rates, epochs: int = EPOCHS):
    """Gradient descent on the MSE of y ~ x @ w + b from w = b = 0, for every row of ``rates`` at once: one
    rate per parameter, the weights' then b's. The loss of every row at every epoch, [epochs + 1, rows]
    (the last after the last update)."""
    design = torch.cat([x, torch.ones(len(x), 1, device=x.device)], dim=1)  # [samples, inputs + 1]: t_p = design @ p
    params = torch.zeros(rates.shape, device=x.device)  # one row [w..., b] per rate vector
    steps = rates * 2 / len(x)  # each rate times the 2 / n of d(mean squared error)/d(prediction)
    losses = []
    with full_float32():  # no TF32 on CUDA: the per-parameter and normalized runs must agree to float32 rounding
        for _ in range(epochs + 1):
            errors = design @ params.t() - y.unsqueeze(1)  # [samples, rows]
            losses.append((errors**2).mean(dim=0))
            params = params - steps * (errors.t() @ design)  # the gradient: 2 / n * errors @ design, per row
    return torch.stack(losses)


def least_squares_loss(x, y) -> float:
    """The lowest MSE any w, b reach (float64, on the CPU)."""
    a = torch.cat([x, torch.ones(len(x), 1, device=x.device)], dim=1).double().cpu()
    best = lstsq(a, y.double().cpu().unsqueeze(1)).squeeze(1)
    return ((a @ best - y.double().cpu()) ** 2).mean().item()
