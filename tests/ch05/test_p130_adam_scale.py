"""Chapter 5, page 130: why Adam is less sensitive to the scale of the parameters than SGD.

Adam divides each parameter's running mean gradient by the root of its running mean squared gradient,
so multiplying every gradient by a constant cancels out; SGD's step is the gradient times lr.
"""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from claims.book.thermometer import loss_fn, model
from claims.compat import assert_close

CLAIM = "ch05.adam-update-ignores-gradient-scale"
ADAM_EPS = 1e-8  # Adam's default eps (read at run time, so that a skeptic's fault can change it)


def displacement(optimizer_class, gradients, **kwargs):
    """Where a parameter starting at 0 ends after one step per gradient in ``gradients``."""
    params = torch.zeros_like(gradients[0], requires_grad=True)
    optimizer = optimizer_class([params], **kwargs)
    for grad in gradients:
        params.grad = grad.clone()
        optimizer.step()
    return params.detach()


@pytest.mark.claim(CLAIM)
@given(scale=st.floats(1e-2, 1e3), n_steps=st.integers(1, 4), data=st.data())
def test_adam_steps_do_not_change_when_gradients_are_scaled(device, scale, n_steps, data):
    """p.130: Adam's displacement after a few steps is the same for gradients g and scale * g (up to
    its eps=1e-8, below 1e-5 relative for these gradient sizes); SGD's is scale times larger."""
    g = torch.Generator().manual_seed(data.draw(st.integers(0, 2**31 - 1), label="seed"))
    signs = torch.randint(0, 2, (n_steps, 3), generator=g) * 2 - 1
    gradients = (signs * (0.5 + 1.5 * torch.rand(n_steps, 3, generator=g))).to(device)

    adam = displacement(torch.optim.Adam, gradients, lr=0.1, eps=ADAM_EPS)
    adam_scaled = displacement(torch.optim.Adam, scale * gradients, lr=0.1, eps=ADAM_EPS)
    assert_close(adam_scaled, adam, rtol=1e-4, atol=1e-7)
    sgd = displacement(torch.optim.SGD, gradients, lr=0.1)
    sgd_scaled = displacement(torch.optim.SGD, scale * gradients, lr=0.1)
    # steps of opposite sign can cancel: float32 rounding of each step (~1e-7 * lr * scale * |g|) is the floor
    assert_close(sgd_scaled, scale * sgd, rtol=1e-5, atol=1e-6 * scale)


@pytest.mark.claim(CLAIM)
def test_adam_first_step_moves_w_and_b_alike_despite_55x_gradients(thermometer, device, evidence):
    """p.130: on the raw t_u the gradients on w and b differ 55x ([4517.3, 82.6]); Adam's first step,
    lr=0.1, moves both by 0.1 to [0.9, -0.1], while SGD's first step moves each by lr times its own
    gradient, w 55x further than b."""
    steps, grads = {}, {}
    optimizers = {
        "adam": lambda params: torch.optim.Adam(params, lr=0.1, eps=ADAM_EPS),
        "sgd": lambda params: torch.optim.SGD(params, lr=1e-5),
    }
    for name, make in optimizers.items():
        params = torch.tensor([1.0, 0.0], device=device, requires_grad=True)
        optimizer = make([params])
        loss_fn(model(thermometer.t_u, *params), thermometer.t_c).backward()
        grads[name] = params.grad.clone()
        optimizer.step()
        steps[name] = torch.tensor([1.0, 0.0], device=device) - params.detach()
    evidence.record(gradient=grads["adam"], adam_step=steps["adam"], sgd_step=steps["sgd"])

    assert_close(steps["adam"], torch.tensor([0.1, 0.1], device=device), rtol=1e-5, atol=0)
    assert_close(steps["sgd"], 1e-5 * grads["sgd"], rtol=1e-5, atol=0)
