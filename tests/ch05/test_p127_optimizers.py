"""Chapter 5, page 127: optimizers take the parameters, step() updates them in place."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from claims.book.thermometer import loss_fn, model
from claims.compat import assert_close, storage_ptr
from claims.devices import dtype_or_skip
from claims.experiments.printed import assert_printed


@pytest.mark.claim("ch05.optimizer-step-updates-its-parameters-in-place")
def test_step_changes_the_same_tensor_and_nothing_else(thermometer, device, evidence):
    """p.127: optim.SGD([params]) keeps the very tensor it was given; step() writes the new values into it
    in place (same object, same storage: no hand-written params -= ... any more), and a tracked tensor it
    was not given keeps its value."""
    params = torch.tensor([1.0, 0.0], device=device, requires_grad=True)
    other = torch.tensor([1.0, 0.0], device=device, requires_grad=True)
    optimizer = torch.optim.SGD([params], lr=1e-5)
    assert optimizer.param_groups[0]["params"][0] is params
    storage = storage_ptr(params)

    for p in (params, other):
        loss_fn(model(thermometer.t_u, *p), thermometer.t_c).backward()
    optimizer.step()
    evidence.record(params_after_step=params, other_after_step=other)
    assert optimizer.param_groups[0]["params"][0] is params
    assert storage_ptr(params) == storage, "step() should write into the parameter's own storage"
    assert_close(params.detach(), torch.tensor([0.95483, -0.000826], device=device), rtol=5e-5, atol=0)
    assert_close(other.detach(), torch.tensor([1.0, 0.0], device=device), rtol=0, atol=0)


@pytest.mark.claim("ch05.optimizer-zero-grad-zeros-its-parameters-grads")
def test_zero_grad_clears_the_grads_of_its_parameters_only(thermometer, device, evidence, amended):
    """p.127: optimizer.zero_grad() zeros the .grad of the parameters the optimizer was built with, and of
    no other tensor. Amended in torch 2.0: it sets those .grad to None instead (set_to_none=True is the
    default); zero_grad(set_to_none=False) still zeros them."""
    params = torch.tensor([1.0, 0.0], device=device, requires_grad=True)
    other = torch.tensor([1.0, 0.0], device=device, requires_grad=True)
    optimizer = torch.optim.SGD([params], lr=1e-2)

    def backward():
        for p in (params, other):
            loss_fn(model(thermometer.t_u, *p), thermometer.t_c).backward()

    backward()
    other_grad = other.grad.clone()
    optimizer.zero_grad()
    after = None if params.grad is None else params.grad.tolist()
    evidence.record(grad_after_zero_grad=after, other_grad_after_zero_grad=other.grad)
    assert_close(other.grad, other_grad, rtol=0, atol=0)  # not the optimizer's: untouched
    if amended:  # torch >= 2.0
        assert params.grad is None, f"expected .grad None after zero_grad(), got {params.grad}"
        backward()
        optimizer.zero_grad(set_to_none=False)
        evidence.record(grad_after_zero_grad_set_to_none_false=params.grad)
        assert params.grad is not None, "zero_grad(set_to_none=False) should keep a .grad tensor"
        assert_close(params.grad, torch.zeros(2, device=device), rtol=0, atol=0)
    else:  # the book's torch 1.4
        assert params.grad is not None, "expected .grad filled with zeros after zero_grad(), got None"
        assert_close(params.grad, torch.zeros(2, device=device), rtol=0, atol=0)


@pytest.mark.claim("ch05.sgd-step-is-params-minus-lr-times-grad")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@given(values=st.lists(st.floats(-1e3, 1e3), min_size=4, max_size=4), lr=st.floats(1e-6, 1.0))
def test_sgd_step_is_the_hand_written_update(device, dtype, values, lr):
    """p.127: with plain optim.SGD, one step turns params into params - lr * params.grad. Not always
    to the last bit (measured on the CPU: 35% of random float32 cases differ): step() computes
    params.add_(grad, alpha=-lr), which may round once where the hand-written update rounds twice;
    so the two agree within the rounding of the terms."""
    dtype = dtype_or_skip(device, dtype)
    params = torch.tensor(values[:2], device=device, dtype=dtype, requires_grad=True)
    params.grad = torch.tensor(values[2:], device=device, dtype=dtype)
    before, step = params.detach().clone(), lr * params.grad
    torch.optim.SGD([params], lr=lr).step()

    error = (params.detach() - (before - step)).abs()
    # the hand-written update rounds lr * grad (half an ulp of the step) and the sum (half an ulp of the
    # result, at most |before| + |step|); the fused one rounds once: they differ by at most this much
    roundings = torch.finfo(dtype).eps * (before.abs() + 2 * step.abs())
    assert torch.all(error <= roundings), f"params {before} - {lr} * {params.grad} -> {params.detach()}"


@pytest.mark.claim("ch05.one-sgd-step-gives-book-params")
@pytest.mark.parametrize(
    "lr, inputs, printed", [(1e-5, "t_u", ["9.5483e-01", "-8.2600e-04"]), (1e-2, "t_un", ["1.7761", "0.1064"])]
)
def test_one_optimizer_step_gives_the_printed_params(thermometer, device, evidence, lr, inputs, printed):
    """p.128-129, 3_optimizers.ipynb In[7] and In[8]: one optim.SGD step from [1, 0]: lr=1e-5 on t_u gives
    [9.5483e-01, -8.2600e-04]; lr=1e-2 on t_un gives [1.7761, 0.1064]."""
    params = torch.tensor([1.0, 0.0], device=device, requires_grad=True)
    optimizer = torch.optim.SGD([params], lr=lr)
    loss = loss_fn(model(getattr(thermometer, inputs), *params), thermometer.t_c)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    evidence.record(params=params.tolist())
    assert_printed(params.detach(), printed, rtol=1e-6, what=f"params after one step, lr={lr} on {inputs}")
