"""Chapter 10, page 275: unless the training is meant to be robust to outliers, the sets should not include any.

Why: a few outliers in the training set pull a model trained the usual way, with the mean squared error,
towards them, and it then fits the typical inputs worse; training meant to be robust to outliers (here the
mean absolute error, whose pull does not grow with the distance) is hardly moved. The experiment is chapter
5's line ``t_p = w * x + b`` and its gradient descent: 40 training points on y = 2x + 1 (noise 0.1), then the
same points with 3 of them moved up by 10; the error is measured on 40 clean validation points.

The four fits (MSE or L1, clean or with outliers) run side by side as rows of one parameter tensor; each row's
loss depends on its own parameters only, so this is four training loops in one. Margins measured over 50 seeds
(``test_outlier_margins_over_50_seeds``, ``-m sweep``): the MSE fit's validation error grew 40-169x with the
outliers, the L1 fit's 0.91-1.21x.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

OUTLIERS = "ch10.outliers-pull-training-not-meant-to-be-robust"
MSE_PULL = 10.0  # the MSE fit's validation error grows at least this much (50 seeds: 40-169)
L1_PULL = 1.5  # the L1 fit's grows at most this much (50 seeds: 0.91-1.21)
pytestmark = pytest.mark.usefixtures("one_cpu_thread")


def line_data(seed: int):
    """Training x, clean y and y with 3 outliers (+10), and clean validation points, drawn on the CPU."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(80, generator=g) * 2 - 1
    y = 2 * x + 1 + 0.1 * torch.randn(80, generator=g)
    x_train, y_train, x_val, y_val = x[:40], y[:40], x[40:], y[40:]
    y_outliers = y_train.clone()
    y_outliers[torch.randperm(40, generator=g)[:3]] += 10
    return x_train, y_train, y_outliers, x_val, y_val


def fit_lines(x, targets, device) -> torch.Tensor:
    """[w, b] per row of ``targets`` (4 rows), by chapter 5's gradient descent: rows 0-1 trained with the mean
    squared error (nn.MSELoss), rows 2-3 with the mean absolute error (nn.L1Loss)."""
    x, targets = x.to(device), targets.to(device)
    params = torch.zeros(4, 2, device=device, requires_grad=True)
    mse, l1 = nn.MSELoss(reduction="none"), nn.L1Loss(reduction="none")
    for step in range(100):
        learning_rate = 0.5 if step < 70 else 0.05  # then smaller steps: the L1 gradient does not shrink near the end
        t_p = params[:, :1] * x + params[:, 1:]
        loss = mse(t_p[:2], targets[:2]).mean(dim=1).sum() + l1(t_p[2:], targets[2:]).mean(dim=1).sum()
        if params.grad is not None:
            params.grad.zero_()
        loss.backward()
        with torch.no_grad():
            params -= learning_rate * params.grad
    return params.detach()


def validation_growth(seed: int, device) -> dict:
    """How much each loss's validation error grows when the training set has the 3 outliers."""
    x_train, y_train, y_outliers, x_val, y_val = line_data(seed)
    params = fit_lines(x_train, torch.stack([y_train, y_outliers, y_train, y_outliers]), device).cpu()
    val_mse = ((params[:, :1] * x_val + params[:, 1:] - y_val) ** 2).mean(dim=1)
    return {"mse": (val_mse[1] / val_mse[0]).item(), "l1": (val_mse[3] / val_mse[2]).item(), "params": params.tolist()}


@pytest.mark.claim(OUTLIERS)
def test_outliers_pull_the_mse_fit_not_the_l1_fit(seed, device, evidence):
    """p.275: 3 outliers among 40 training points make the MSE-trained line fit clean validation data much
    worse; the L1-trained line, training meant to be robust to outliers, barely moves."""
    growth = validation_growth(seed, device)
    evidence.record(**growth)
    assert growth["mse"] > MSE_PULL, f"MSE fit: validation error grew {growth['mse']:.2f}x, expected > {MSE_PULL}x"
    assert growth["l1"] < L1_PULL, f"L1 fit: validation error grew {growth['l1']:.2f}x, expected < {L1_PULL}x"


@pytest.mark.sweep
def test_outlier_margins_over_50_seeds(device):
    """The margins above, measured over 50 seeds (python -m pytest tests/ch10 -m sweep -s)."""
    growths = [validation_growth(seed, device) for seed in range(50)]
    mse, l1 = [g["mse"] for g in growths], [g["l1"] for g in growths]
    print(f"\n50 seeds: MSE fit {min(mse):.2f}-{max(mse):.2f}x, L1 fit {min(l1):.2f}-{max(l1):.2f}x")
    assert min(mse) > MSE_PULL and max(l1) < L1_PULL
