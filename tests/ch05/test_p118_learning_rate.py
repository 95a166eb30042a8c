"""Chapter 5, page 118: too large a learning rate diverges; a small one converges slowly.

Both runs are the book's hand-written loop (p.117, ``train_by_hand``) from w=1, b=0 on the raw t_u.
"""

import math

import pytest
import torch

from claims.compat import assert_close


@pytest.mark.claim("ch05.too-large-learning-rate-diverges")
def test_lr_1e_2_on_raw_input_blows_up(thermometer_run, device, evidence):
    """p.118: lr=1e-2: the book printed losses 1763.884644, 5802485.5, 19408035840.0 for epochs 1-3,
    params [-44.1730, -0.8260] after epoch 1, and inf at epoch 11."""
    run = thermometer_run("by_hand", 11, 1e-2, "t_u")
    first = thermometer_run("by_hand", 1, 1e-2, "t_u")
    evidence.record(losses=run.losses, params_after_epoch_1=first.params.tolist())

    # torch 1.4 gives the printed losses to the last digit; torch 2.x, summing in another order, one float32
    # ulp off each (1763.884766, 5802484.5, 19408029696.0): rtol 1e-6 takes either
    assert_close(run.losses[:3], [1763.884644, 5802485.5, 19408035840.0], rtol=1e-6, atol=0)
    assert all(b > 100 * a for a, b in zip(run.losses[:9], run.losses[1:10])), f"each epoch x100: {run.losses}"
    assert math.isfinite(run.losses[9]) and run.losses[10] == math.inf, f"expected inf first at epoch 11: {run.losses}"
    assert_close(first.params, torch.tensor([-44.1730, -0.8260], device=device), rtol=0, atol=5e-5)


@pytest.mark.claim("ch05.small-learning-rate-converges-slowly")
def test_lr_1e_4_is_stable_but_slow(thermometer_run, device, evidence):
    """p.118: lr=1e-4, 100 epochs: the loss falls every epoch but stops at 29.022669 with params
    [0.2327, -0.0438]; b has hardly moved towards the best line's -17.3 (its gradient is 55x smaller)."""
    run = thermometer_run("by_hand", 100, 1e-4, "t_u")
    evidence.record(params=run.params.tolist(), final_loss=run.final_loss)

    assert all(b < a for a, b in zip(run.losses, run.losses[1:])), "the loss should fall every epoch"
    assert_close(run.params, torch.tensor([0.2327, -0.0438], device=device), rtol=0, atol=5e-5)
    assert_close(run.final_loss, 29.022669, rtol=1e-6, atol=0)
    assert run.final_loss > 5 * 2.927648, "still far above the best line's loss"
