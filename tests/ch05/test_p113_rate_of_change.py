"""Chapter 5, pages 113-114: the rate of change approximates the derivative; descent lowers the loss.

The book (p.113) estimates d loss / d w with a central difference, (loss(w + delta) - loss(w - delta))
/ (2 * delta), at delta = 0.1. Its error depends on delta in two ways, measured here on the CPU:
truncation (one-sided differences: exactly delta * mean(t_u**2) = 294.1 at delta 0.1; a quartic loss:
relative error 1.8% at delta 0.1, quartered with each halving) and, in float32, rounding (central
difference error 2.4 at delta 1e-4 and 5.4 at 1e-5, against 8e-4 at delta 0.1, on torch 2.14; 1.1, 6.8 and
1.3e-3 on torch 1.4, which sums in another order; float64 stays below 1e-7: at delta 3e-6, 5.9e-8 on torch
2.14 and 9.7e-8 on torch 1.4).
"""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from claims.book.thermometer import loss_fn, model
from claims.compat import assert_close
from claims.devices import dtype_or_skip

CLAIM = "ch05.rate-of-change-approximates-derivative"


def loss_at_w(thermometer, dtype):
    """loss(w) at b = 0 on t_u, and the exact derivative 2 * mean((t_u - t_c) * t_u) at w = 1, on the
    readings' device (float64 ones go on the CPU: some devices have no float64)."""
    t_u, t_c = thermometer.t_u.to(dtype), thermometer.t_c.to(dtype)
    return (lambda w: loss_fn(model(t_u, w, 0.0), t_c)), 2 * ((t_u - t_c) * t_u).mean()


def central(loss, w, delta):
    return (loss(w + delta) - loss(w - delta)) / (2.0 * delta)


@pytest.mark.claim(CLAIM)
def test_one_sided_difference_carries_truncation_error_central_does_not(thermometer, device, evidence):
    """p.113: on the book's loss (quadratic in w) the one-sided difference is off by exactly
    delta * mean(t_u**2), growing with delta, while the central difference is exact up to rounding
    even at delta = 1 (float64, on the CPU); in float32 on the device the book's delta = 0.1 gives 4517.3
    within 0.01."""
    loss, exact = loss_at_w(thermometer.to("cpu"), torch.float64)
    deltas = [1.0, 0.1, 0.01]
    one_sided = torch.stack([(loss(1.0 + d) - loss(1.0)) / d for d in deltas]) - exact
    central_err = torch.stack([central(loss, 1.0, d) for d in deltas]) - exact
    evidence.record(deltas=deltas, one_sided_error=one_sided.tolist(), central_error=central_err.tolist())

    expected = torch.tensor(deltas, dtype=torch.float64) * (thermometer.t_u.cpu().double() ** 2).mean()
    assert_close(one_sided, expected, rtol=1e-6, atol=0)
    assert_close(central_err, torch.zeros_like(central_err), rtol=0, atol=1e-8)
    loss32, _ = loss_at_w(thermometer, torch.float32)
    book_estimate = central(loss32, torch.ones((), device=device), 0.1)
    assert_close(book_estimate, torch.tensor(4517.2969, device=device), rtol=0, atol=1e-2)


@pytest.mark.claim(CLAIM)
def test_central_difference_on_a_non_quadratic_loss_errs_by_delta_squared(thermometer_cpu, evidence):
    """p.113: for a loss that is not quadratic in w (the mean fourth power of the error) the central
    difference carries truncation error, about 1.8% at delta 0.1, shrinking 4x with each halving (float64
    arithmetic on the host: truncation, not rounding, is what is measured)."""
    t_u, t_c = thermometer_cpu.t_u.double(), thermometer_cpu.t_c.double()
    loss = lambda w: ((model(t_u, w, 0.0) - t_c) ** 4).mean()  # noqa: E731
    w = torch.ones((), dtype=torch.float64, requires_grad=True)
    (exact,) = torch.autograd.grad(loss(w), w)
    rel_err = torch.stack([(central(loss, 1.0, d) - exact) / exact for d in (0.1, 0.05, 0.025)])
    evidence.record(relative_error_at_delta_0_1_0_05_0_025=rel_err.tolist())

    assert rel_err[0] > 0.01, f"expected > 1% error at delta 0.1, measured {rel_err[0]:.3g}"
    assert_close(rel_err[:-1] / rel_err[1:], torch.full((2,), 4.0, dtype=torch.float64), rtol=0.01, atol=0)


@pytest.mark.claim(CLAIM)
def test_tiny_delta_in_float32_carries_rounding_error(thermometer, device, evidence):
    """p.113: in float32 a tiny delta makes the difference of two nearly equal losses (about 1764
    each, stored to 1e-4) dominate: the central difference errs by more than 1 at some delta in
    1e-4..3e-6, 1000 times its error at delta 0.1; in float64 (on the CPU) the same deltas stay within 1e-5."""
    tiny = [1e-4, 3e-5, 1e-5, 3e-6]
    _, exact = loss_at_w(thermometer.to("cpu"), torch.float64)
    errors = {}  # by the float's width in bits
    for bits, readings, dtype in ((32, thermometer, torch.float32), (64, thermometer.to("cpu"), torch.float64)):
        loss, _ = loss_at_w(readings, dtype)
        w = torch.ones((), device=readings.t_u.device, dtype=dtype)
        errors[bits] = [abs(central(loss, w, d).cpu().double() - exact).item() for d in [0.1] + tiny]
    evidence.record(deltas=[0.1] + tiny, float32_error=errors[32], float64_error=errors[64])

    at_book_delta, worst_tiny = errors[32][0], max(errors[32][1:])
    assert worst_tiny > 1.0 and worst_tiny > 1000 * at_book_delta, f"float32 errors {errors[32]}"
    assert max(errors[64]) < 1e-5, f"float64 errors {errors[64]}"


@pytest.mark.claim("ch05.small-step-against-gradient-lowers-loss")
@given(w=st.floats(-5, 5), b=st.floats(-30, 30), lr=st.floats(1e-7, 3e-4))
def test_small_step_against_the_gradient_lowers_the_loss(thermometer, device, w, b, lr):
    """p.113: from any (w, b), params - lr * grad has a lower loss when lr is small (on t_u any
    lr below 2 / 5884, the loss's largest curvature, about 3.4e-4). float64, so rounding cannot hide it."""
    dtype = dtype_or_skip(device, torch.float64)
    t_u, t_c = thermometer.t_u.to(dtype), thermometer.t_c.to(dtype)
    params = torch.tensor([w, b], device=device, dtype=dtype, requires_grad=True)
    loss = loss_fn(model(t_u, *params), t_c)
    (grad,) = torch.autograd.grad(loss, params)
    new_loss = loss_fn(model(t_u, *(params.detach() - lr * grad)), t_c)
    assert new_loss < loss, f"lr={lr} from ({w}, {b}): loss {loss.item()} -> {new_loss.item()}"


@pytest.mark.claim("ch05.small-step-against-gradient-lowers-loss")
def test_book_learning_rates_one_lowers_the_other_raises(thermometer_run, evidence):
    """p.113/117: one step from [1, 0] on t_u with lr=1e-4 lowers the loss from 1763.88 to 323.09;
    lr=1e-2 is not small and raises it to 5802485.5."""
    small = thermometer_run("by_hand", 100, 1e-4, "t_u").losses[:2]
    large = thermometer_run("by_hand", 11, 1e-2, "t_u").losses[:2]
    evidence.record(lr_1e_4=small, lr_1e_2=large)
    assert_close(small, [1763.8846, 323.0905], rtol=1e-6, atol=0)
    assert_close(large, [1763.8846, 5802485.5], rtol=1e-6, atol=0)
