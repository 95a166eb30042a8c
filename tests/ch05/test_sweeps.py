"""Seed sweeps that measured the margins of chapter 5's statistical claims: ``python -m pytest tests/ch05 -m sweep -s``.

Not part of the default run (the ``sweep`` marker deselects them; minutes of CPU time). Each repeats the
claim tests' computation for data seeds 0-49 on the CPU, prints the range of every statistic (the ranges
written beside the margins in the tests) and fails if a margin is missed at any seed.
"""

from __future__ import annotations

import pytest
import torch

from claims.experiments.overfitting import page_131_runs
from tests.ch05 import test_p131_overfitting as p131
from tests.ch05.test_p119_normalization import ONE_RATE, RATES, descend, inputs_of_many_scales, least_squares_loss

SEEDS = range(50)
CPU = torch.device("cpu")


def page_131_statistics(runs) -> dict:
    """The statistics test_p131_overfitting.py asserts, computed as there, by name."""
    base = runs["baseline"]
    val, train_loss = base.val.mean(dim=1), base.train.mean(dim=1)
    best = int(val.argmin())

    def ratio(name, attribute):
        return getattr(runs[name], attribute) / getattr(base, attribute)

    small, large = runs["curve_1_unit"].train[-1], runs["curve_32_units"].train[-1]
    return {
        "validation minimum before the last checkpoint": float(best < len(val) - 1),
        "validation end / minimum": (val[-1] / val[best]).item(),
        "training end / at the validation minimum": (train_loss[-1] / train_loss[best]).item(),
        "share of networks turned up": (base.val[-1] > 1.02 * base.val.min(dim=0).values).float().mean().item(),
        "more data: validation ratio": ratio("more_data", "final_val"),
        "more data: gap ratio": ratio("more_data", "mean_gap"),
        "regularization: total variation ratio": ratio("regularization", "mean_total_variation"),
        "regularization: gap ratio": ratio("regularization", "mean_gap"),
        "regularization: validation ratio (recorded)": ratio("regularization", "final_val"),
        "noise: gap ratio": ratio("noise_augmentation", "mean_gap"),
        "noise: validation ratio (recorded)": ratio("noise_augmentation", "final_val"),
        "smaller: training ratio": ratio("smaller_model", "final_train"),
        "smaller: validation ratio": ratio("smaller_model", "final_val"),
        "smaller: gap ratio": ratio("smaller_model", "mean_gap"),
        "dropout: gap ratio": ratio("dropout", "mean_gap"),
        "dropout: validation ratio (recorded)": ratio("dropout", "final_val"),
        "32 units: training loss on the line": base.final_train,
        "4 units: training loss on the line": runs["smaller_model"].final_train,
        "curve: one unit worse in every network": float(torch.all(small > large)),
        "curve: one unit's training loss": small.mean().item(),
        "curve: 32 units' training loss": large.mean().item(),
    }


# each statistic's bounds, from the margins the tests assert (None: not asserted, only measured)
PAGE_131_BOUNDS = {
    "validation minimum before the last checkpoint": (1.0, None),
    "validation end / minimum": (p131.TURNS_UP, None),
    "training end / at the validation minimum": (None, p131.KEEPS_FALLING),
    "share of networks turned up": (p131.SHARE_TURNED, None),
    "more data: validation ratio": (None, p131.MORE_DATA_VAL),
    "more data: gap ratio": (None, p131.MORE_DATA_GAP),
    "regularization: total variation ratio": (None, p131.REGULARIZED_VARIATION),
    "regularization: gap ratio": (None, p131.REGULARIZED_GAP),
    "regularization: validation ratio (recorded)": (None, None),
    "noise: gap ratio": (None, p131.NOISE_GAP),
    "noise: validation ratio (recorded)": (None, None),
    "smaller: training ratio": p131.SMALLER_TRAIN,
    "smaller: validation ratio": (None, p131.SMALLER_VAL),
    "smaller: gap ratio": (None, p131.SMALLER_GAP),
    "dropout: gap ratio": (None, p131.DROPOUT_GAP),
    "dropout: validation ratio (recorded)": (None, None),
    "32 units: training loss on the line": (None, p131.LINE_NOISE_VARIANCE),
    "4 units: training loss on the line": (None, p131.LINE_NOISE_VARIANCE),
    "curve: one unit worse in every network": (1.0, None),
    "curve: one unit's training loss": (p131.ONE_UNIT_TRAIN, None),
    "curve: 32 units' training loss": (None, p131.CURVE_NOISE_VARIANCE),
}


def check(measured: dict, bounds: dict) -> list:
    """Print each statistic's range over the seeds; the statistics that missed a bound at some seed."""
    missed = []
    for name, values in measured.items():
        low, high = bounds[name]
        inside = all((low is None or v >= low) and (high is None or v < high) for v in values)
        flag = "" if inside else "  MISSED"
        print(f"{name:58s} {min(values):.4g} to {max(values):.4g}  (bounds {low}, {high}){flag}")
        if not inside:
            missed.append(name)
    return missed


@pytest.mark.sweep
def test_page_131_margins_hold_for_50_data_seeds():
    """The page-131 claims' margins at data seeds 0-49 (the suite runs seed 0)."""
    measured: dict = {}
    for seed in SEEDS:
        for name, value in page_131_statistics(page_131_runs(CPU, seed)).items():
            measured.setdefault(name, []).append(value)
    missed = check(measured, PAGE_131_BOUNDS)
    assert not missed, f"margins missed at some seed: {missed}"


@pytest.mark.sweep
def test_page_119_per_parameter_rates_for_50_data_seeds(one_cpu_thread):
    """The page-119 per-parameter claim's margins at data seeds 0-49 (the suite runs seed 0)."""
    measured: dict = {}
    for seed in SEEDS:
        x, y = inputs_of_many_scales(32, seed)
        best = least_squares_loss(x, y)
        scale = x.std(dim=0)
        per_input = torch.cat([ONE_RATE / scale**2, torch.tensor([ONE_RATE])])
        swapped = torch.cat([per_input[:-1].flip(0), per_input[-1:]])
        shared = descend(x, y, RATES.unsqueeze(1).expand(-1, 33))[-1] / best
        per_parameter = descend(x, y, torch.stack([per_input, swapped]))
        normalized = descend(x / scale, y, torch.full((1, 33), ONE_RATE))
        values = {
            "best shared rate on the raw inputs / least squares": shared[~torch.isnan(shared)].min().item(),
            "per-input rates vs normalized, largest relative difference": (
                (per_parameter[:, 0] - normalized[:, 0]).abs() / normalized[:, 0]
            )
            .max()
            .item(),
            "per-input rates / least squares": (per_parameter[-1, 0] / best).item(),
            "swapped rates / least squares (nan counts as inf)": float("inf")
            if torch.isnan(per_parameter[-1, 1])
            else (per_parameter[-1, 1] / best).item(),
        }
        for n in (2, 8, 32):
            xs, ys = inputs_of_many_scales(n, seed)
            final = descend(xs / xs.std(dim=0), ys, torch.full((1, n + 1), ONE_RATE))[-1, 0]
            values[f"{n} normalized inputs / least squares"] = (final / least_squares_loss(xs, ys)).item()
        for name, value in values.items():
            measured.setdefault(name, []).append(value)
    missed = check(
        measured,
        {
            "best shared rate on the raw inputs / least squares": (10.0, None),
            "per-input rates vs normalized, largest relative difference": (None, 1e-4),
            "per-input rates / least squares": (None, 1.01),
            "swapped rates / least squares (nan counts as inf)": (10.0, None),
            "2 normalized inputs / least squares": (None, 1.01),
            "8 normalized inputs / least squares": (None, 1.01),
            "32 normalized inputs / least squares": (None, 1.01),
        },
    )
    assert not missed, f"margins missed at some seed: {missed}"
