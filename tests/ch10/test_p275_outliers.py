"""Chapter 10, page 275: unless the training is meant to be robust to outliers, neither the training nor the
validation set should include any.

The experiment is chapter 5's line ``t_p = w * x + b`` and its gradient descent: 40 training and 40 validation
points on y = 2x + 1 (noise 0.1, x uniform in [-1, 1]); in each set 3 points get their y moved up by 10
(``OUTLIER_SHIFT``, ``VAL_OUTLIER_SHIFT``). Why the training set should hold none: they pull the usual fit, with the
mean squared error, away from the typical points. Why the validation set should hold none: the validation error is
how we tell a good fit from a bad one, and 3 outliers swamp it. Training meant to be robust to outliers (here the
mean absolute error, whose pull does not grow with the distance) may keep them: it fits the typical points about as
well with them as without, and about as well as the usual fit does without them.

The four fits (MSE or L1, training set clean or with outliers) run side by side as rows of one parameter
tensor; each row's loss depends on its own parameters only, so this is four of chapter 5's loops in one.
Margins measured over 50 seeds (``test_outlier_margins_over_50_seeds``, ``-m sweep``), CPU: the same ranges on torch
2.14.1 and 1.4.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

OUTLIERS = "ch10.outliers-pull-training-not-meant-to-be-robust"
OUTLIER_SHIFT = 10.0  # how far up a training outlier's y is moved (the noise is 0.1)
VAL_OUTLIER_SHIFT = 10.0  # and a validation outlier's (moved by 2 instead, they leave the pulled fit 1.8-5.8x worse)
N_OUTLIERS = 3  # in each set of 40
ROBUST_LR = 0.5  # the L1 fits' learning rate (the MSE fits': 0.5)
# Margins, as ratios of mean squared errors on validation data; each measured range is over 50 seeds (below).
PULLED = 10.0  # clean validation: the MSE fit with training outliers is this much worse at least (40-169x)
ROBUST = 1.35  # the L1 fit with training outliers against the L1 fit without: within this factor (0.91-1.21x)
ROBUST_FIT = 1.5  # the L1 fit with training outliers against the clean MSE fit: at most this (0.90-1.30x)
SWAMPED = 1.25  # validation with outliers: the pulled fit's error against the clean fit's, within this (0.89-1.19x)
pytestmark = pytest.mark.usefixtures("one_cpu_thread")


def line_data(seed: int) -> dict:
    """Training and validation x and y, each y also with N_OUTLIERS outliers, drawn on the CPU."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(80, generator=g) * 2 - 1
    y = 2 * x + 1 + 0.1 * torch.randn(80, generator=g)
    data = {"x_train": x[:40], "y_train": y[:40], "x_val": x[40:], "y_val": y[40:]}
    for name, shift in (("train", OUTLIER_SHIFT), ("val", VAL_OUTLIER_SHIFT)):
        with_outliers = data[f"y_{name}"].clone()
        with_outliers[torch.randperm(40, generator=g)[:N_OUTLIERS]] += shift
        data[f"y_{name}_outliers"] = with_outliers
    return data


def fit_lines(x, targets, device) -> torch.Tensor:
    """[w, b] per row of ``targets`` (4 rows), by chapter 5's gradient descent: rows 0-1 trained with the mean
    squared error (nn.MSELoss), rows 2-3 with the mean absolute error (nn.L1Loss)."""
    x, targets = x.to(device), targets.to(device)
    params = torch.zeros(4, 2, device=device, requires_grad=True)
    row_lr = torch.tensor([[0.5], [0.5], [ROBUST_LR], [ROBUST_LR]], device=device)
    mse, l1 = nn.MSELoss(reduction="none"), nn.L1Loss(reduction="none")
    for step in range(100):
        learning_rate = row_lr if step < 70 else row_lr / 10  # then smaller steps: the L1 gradient does not shrink
        t_p = params[:, :1] * x + params[:, 1:]
        loss = mse(t_p[:2], targets[:2]).mean(dim=1).sum() + l1(t_p[2:], targets[2:]).mean(dim=1).sum()
        if params.grad is not None:
            params.grad.zero_()
        loss.backward()
        with torch.no_grad():
            params -= learning_rate * params.grad
    return params.detach()


def validation_errors(seed: int, device) -> dict:
    """The mean squared error of the four fits on the clean validation points and on those with outliers."""
    d = line_data(seed)
    targets = torch.stack([d["y_train"], d["y_train_outliers"], d["y_train"], d["y_train_outliers"]])
    params = fit_lines(d["x_train"], targets, device).cpu()
    t_p = params[:, :1] * d["x_val"] + params[:, 1:]
    rows = ("mse_clean", "mse_outliers", "l1_clean", "l1_outliers")
    clean = dict(zip(rows, ((t_p - d["y_val"]) ** 2).mean(dim=1).tolist()))
    with_outliers = dict(zip(rows, ((t_p - d["y_val_outliers"]) ** 2).mean(dim=1).tolist()))
    return {"clean_val": clean, "val_with_outliers": with_outliers, "params": dict(zip(rows, params.tolist()))}


@pytest.mark.claim(OUTLIERS)
def test_outliers_in_the_training_set_pull_the_usual_fit(seed, device, evidence):
    """p.275, the training set: 3 outliers among 40 training points make the line trained with the mean squared
    error fit the clean validation points many times worse; the line trained to be robust (mean absolute error)
    fits them about as well with the outliers as without, and about as well as the usual fit on a clean set."""
    err = validation_errors(seed, device)["clean_val"]
    pulled = err["mse_outliers"] / err["mse_clean"]
    robust, robust_fit = err["l1_outliers"] / err["l1_clean"], err["l1_outliers"] / err["mse_clean"]
    evidence.record(clean_val=err, pulled=round(pulled, 2), robust=round(robust, 3), robust_fit=round(robust_fit, 3))
    assert pulled > PULLED, f"MSE fit: training outliers made it {pulled:.2f}x worse, expected > {PULLED}x"
    assert 1 / ROBUST < robust < ROBUST, (
        f"L1 fit: with training outliers {robust:.2f}x its error without them, expected within {ROBUST}x"
    )
    assert robust_fit < ROBUST_FIT, (
        f"L1 fit with training outliers: {robust_fit:.2f}x the clean MSE fit's error, expected < {ROBUST_FIT}x"
    )


@pytest.mark.claim(OUTLIERS)
def test_outliers_in_the_validation_set_hide_which_fit_is_better(seed, device, evidence):
    """p.275, the validation set: on clean validation points the fit the training outliers pulled is many times
    worse than the fit trained without them; with 3 outliers among the 40 validation points the two errors are
    within 1.25x of each other, either way, so the validation set no longer tells the bad fit from the good one."""
    errors = validation_errors(seed, device)
    clean, swamped = errors["clean_val"], errors["val_with_outliers"]
    on_clean = clean["mse_outliers"] / clean["mse_clean"]
    on_swamped = swamped["mse_outliers"] / swamped["mse_clean"]
    evidence.record(on_clean=round(on_clean, 2), on_validation_with_outliers=round(on_swamped, 3))
    assert on_clean > PULLED, f"clean validation: the pulled fit is {on_clean:.2f}x worse, expected > {PULLED}x"
    assert 1 / SWAMPED < on_swamped < SWAMPED, (
        f"validation with outliers: the pulled fit's error is {on_swamped:.2f}x the good fit's, "
        f"expected within {SWAMPED}x"
    )


@pytest.mark.sweep
def test_outlier_margins_over_50_seeds(device):
    """The margins above, measured over 50 seeds (python -m pytest tests/ch10 -m sweep -s)."""
    runs = [validation_errors(seed, device) for seed in range(50)]
    clean = [r["clean_val"] for r in runs]
    pulled = [e["mse_outliers"] / e["mse_clean"] for e in clean]
    robust = [e["l1_outliers"] / e["l1_clean"] for e in clean]
    robust_fit = [e["l1_outliers"] / e["mse_clean"] for e in clean]
    swamped = [r["val_with_outliers"]["mse_outliers"] / r["val_with_outliers"]["mse_clean"] for r in runs]
    print(
        f"\n50 seeds: pulled {min(pulled):.2f}-{max(pulled):.2f}x, robust {min(robust):.2f}-{max(robust):.2f}x, "
        f"robust fit {min(robust_fit):.2f}-{max(robust_fit):.2f}x, swamped {min(swamped):.2f}-{max(swamped):.2f}x"
    )
    assert min(pulled) > PULLED and max(robust_fit) < ROBUST_FIT
    assert 1 / ROBUST < min(robust) and max(robust) < ROBUST and 1 / SWAMPED < min(swamped) and max(swamped) < SWAMPED
