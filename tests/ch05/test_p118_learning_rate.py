"""Chapter 5, page 118: too large a learning rate diverges; a small one converges slowly.

Both runs are the book's hand-written loop (p.117, ``train_by_hand``) from w=1, b=0 on the raw t_u. The
book printed them in 1_parameter_estimation.ipynb In[17] and In[18]: every number it printed is asserted, the
book's digits within half a unit of the last printed digit and a relative 1e-6 (torch 1.4 gives the printed
digits; torch 2.x sums the eleven terms in another order and lands up to 5.4e-7 away: 1763.884766 for
1763.884644, 5802484.5 for 5802485.5); the values today's torch gives are recorded as evidence.
"""

import math

import pytest

from claims.experiments.printed import assert_printed, assert_printed_epochs
from claims.experiments.scales import least_squares_loss

# the rates the property tests use (read at run time, so that a skeptic's fault can change one)
LARGE_LR = 1e-2
SMALL_LR = 1e-4


@pytest.mark.claim("ch05.too-large-learning-rate-diverges")
def test_lr_1e_2_on_raw_input_blows_up(thermometer_run, evidence):
    """p.118: with lr=1e-2 on the raw t_u every update overshoots the minimum further than the last: the loss
    grows more than 100-fold each epoch until it overflows float32 to inf at epoch 11."""
    run = thermometer_run("by_hand", 11, LARGE_LR, "t_u")
    evidence.record(losses=run.losses)

    assert all(b > 100 * a for a, b in zip(run.losses[:9], run.losses[1:10])), f"each epoch x100: {run.losses}"
    assert math.isfinite(run.losses[9]) and run.losses[10] == math.inf, f"expected inf first at epoch 11: {run.losses}"


@pytest.mark.claim("ch05.too-large-learning-rate-diverges")
def test_book_printed_the_diverging_run(thermometer_run, evidence):
    """1_parameter_estimation.ipynb In[17], lr=1e-2 on t_u: the loss, params and grad the book printed at
    epochs 1, 2, 3, 10 and 11 (inf, where its loop stops), and the params it returned."""
    run = thermometer_run("by_hand", 11, 1e-2, "t_u")
    printed = {
        "epochs": [1, 2, 3, 10, 11],
        "loss": ["1763.884644", "5802485.500000", "19408035840.000000"]
        + ["90901154706620645225508955521810432.000000", "inf"],
        "params": ["-44.1730", "-0.8260", "2568.4014", "45.1637", "-148527.7344", "-2616.3933"]
        + ["3.2144e+17", "5.6621e+15", "-1.8590e+19", "-3.2746e+17"],
        "grad": ["4517.2969", "82.6000", "-261257.4219", "-4598.9712", "15109614.0000", "266155.7188"]
        + ["-3.2700e+19", "-5.7600e+17", "1.8912e+21", "3.3313e+19"],
    }
    evidence.record(printed_today=assert_printed_epochs(run, printed, rtol=1e-6))
    assert_printed(run.params, ["-1.8590e+19", "-3.2746e+17"], rtol=1e-6, what="params returned")


@pytest.mark.claim("ch05.small-learning-rate-converges-slowly")
def test_small_rate_is_stable_but_slow(thermometer_run, thermometer, evidence):
    """p.118: with lr=1e-4 on t_u the descent is stable, the loss falls every one of 100 epochs, but slow:
    it ends near 29, about ten times the best line's 2.93, b hardly moved towards the line's -17.3 (its gradient is
    55 times smaller than w's)."""
    run = thermometer_run("by_hand", 100, SMALL_LR, "t_u")
    best = least_squares_loss(thermometer.t_u.unsqueeze(1), thermometer.t_c)  # 2.9276, float64 on the CPU
    evidence.record(params=run.params.tolist(), final_loss=run.final_loss, least_squares_loss=best)

    rises = [epoch for epoch, (a, b) in enumerate(zip(run.losses, run.losses[1:]), start=2) if not b < a]
    assert not rises, f"the loss should fall every epoch; it does not at epochs {rises[:5]}...: {run.losses[:4]}..."
    assert run.final_loss > 9 * best, f"still about ten times the best line's loss {best}: {run.final_loss}"
    assert abs(run.params[1].item()) < 0.01 * 17.3, f"b should hardly move: {run.params.tolist()}"


@pytest.mark.claim("ch05.small-learning-rate-converges-slowly")
def test_book_printed_the_slow_run(thermometer_run, evidence):
    """1_parameter_estimation.ipynb In[18], lr=1e-4 on t_u: the loss, params and grad the book printed at
    epochs 1, 2, 3, 10, 11, 99 and 100, and the params it returned, [0.2327, -0.0438] (loss 29.022669)."""
    run = thermometer_run("by_hand", 100, 1e-4, "t_u")
    printed = {
        "epochs": [1, 2, 3, 10, 11, 99, 100],
        "loss": ["1763.884644", "323.090546", "78.929634", "29.105242", "29.104168", "29.023582", "29.022669"],
        "params": ["0.5483", "-0.0083", "0.3623", "-0.0118", "0.2858", "-0.0135", "0.2324", "-0.0166"]
        + ["0.2323", "-0.0169", "0.2327", "-0.0435", "0.2327", "-0.0438"],
        "grad": ["4517.2969", "82.6000", "1859.5493", "35.7843", "765.4667", "16.5122", "1.4803", "3.0544"]
        + ["0.5781", "3.0384", "-0.0533", "3.0226", "-0.0532", "3.0226"],
    }
    evidence.record(printed_today=assert_printed_epochs(run, printed, rtol=1e-6))
    assert_printed(run.params, ["0.2327", "-0.0438"], rtol=1e-6, what="params returned")
