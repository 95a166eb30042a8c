"""Chapter 5, page 123: autograd accumulates gradients; zero them between passes."""
import pytest
import torch
from claims.compat import assert_close

from claims import torch_at_least
from claims.book.thermometer import loss_fn, model


@pytest.mark.claim("ch05.backward-accumulates-gradients")
def test_backward_adds_into_grad_until_it_is_zeroed(thermometer, device):
    """p.123: calling backward() accumulates into .grad; params.grad.zero_() resets it."""
    params = torch.tensor([1.0, 0.0], device=device, requires_grad=True)
    assert params.grad is None, "no gradient exists before the first backward()"

    loss_fn(model(thermometer.t_u, *params), thermometer.t_c).backward()
    once = params.grad.clone()
    loss_fn(model(thermometer.t_u, *params), thermometer.t_c).backward()

    # The book's gradient at w=1, b=0 (page 123), and twice that after the second pass.
    assert_close(once, torch.tensor([4517.2969, 82.6000], device=device), rtol=1e-6, atol=1e-3)
    assert_close(params.grad, 2 * once, rtol=1e-6, atol=0)
    params.grad.zero_()
    assert_close(params.grad, torch.zeros(2, device=device), rtol=0, atol=0)


@pytest.mark.claim("ch05.backward-accumulates-gradients")
def test_optimizer_zero_grad_sets_none_since_torch_2_0(thermometer, device):
    """p.127 with p.123: the book's optimizer.zero_grad() zeros .grad; since torch 2.0 it sets it to
    None (set_to_none=True is the default) and zero_grad(set_to_none=False) still zeros it."""
    params = torch.tensor([1.0, 0.0], device=device, requires_grad=True)
    optimizer = torch.optim.SGD([params], lr=1e-2)

    def backward():
        loss_fn(model(thermometer.t_u, *params), thermometer.t_c).backward()

    backward()
    optimizer.zero_grad()
    if torch_at_least("2.0"):
        assert params.grad is None, f"expected None after zero_grad() on torch >= 2.0, got {params.grad}"
    else:
        assert_close(params.grad, torch.zeros(2, device=device), rtol=0, atol=0)

    backward()
    optimizer.zero_grad(set_to_none=False)
    assert params.grad is not None
    assert_close(params.grad, torch.zeros(2, device=device), rtol=0, atol=0)
