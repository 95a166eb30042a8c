"""Chapter 5, page 123: autograd accumulates gradients; zero them between passes."""

import pytest
import torch

from claims.book.thermometer import loss_fn, model
from claims.compat import assert_close


@pytest.mark.claim("ch05.backward-accumulates-gradients")
def test_backward_adds_into_grad_until_it_is_zeroed(thermometer, device, evidence):
    """p.123: calling backward() accumulates into .grad; params.grad.zero_() resets it."""
    params = torch.tensor([1.0, 0.0], device=device, requires_grad=True)
    assert params.grad is None, "no gradient exists before the first backward()"

    loss_fn(model(thermometer.t_u, *params), thermometer.t_c).backward()
    once = params.grad.clone()
    loss_fn(model(thermometer.t_u, *params), thermometer.t_c).backward()
    twice = params.grad.clone()
    params.grad.zero_()
    evidence.record(grad_after_one_backward=once, grad_after_two=twice, grad_after_zero_=params.grad)

    # The book's gradient at w=1, b=0 (page 123), and twice that after the second pass.
    assert_close(once, torch.tensor([4517.2969, 82.6000], device=device), rtol=1e-6, atol=1e-3)
    assert_close(twice, 2 * once, rtol=1e-6, atol=0)
    assert_close(params.grad, torch.zeros(2, device=device), rtol=0, atol=0)
    loss_fn(model(thermometer.t_u, *params), thermometer.t_c).backward()
    assert_close(params.grad, once, rtol=1e-6, atol=0, msg="after zero_() the next backward starts from 0")
