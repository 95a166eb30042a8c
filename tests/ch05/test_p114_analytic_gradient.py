"""Chapter 5, page 114: the analytic gradient needs no delta, and autograd computes the same."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from claims.compat import assert_close

from claims.book.thermometer import grad_fn, loss_fn, model

CLAIM = "ch05.analytic-gradient-matches-autograd"


@pytest.mark.claim(CLAIM)
def test_analytic_gradient_at_the_start_is_the_books(thermometer, device, evidence):
    """p.116 (the gradient function of p.114-116): grad_fn at w=1, b=0 on t_u is [4517.2969, 82.6000]."""
    w, b = torch.ones((), device=device), torch.zeros((), device=device)
    grad = grad_fn(thermometer.t_u, thermometer.t_c, model(thermometer.t_u, w, b), w, b)
    evidence.record(grad=grad.tolist())
    assert_close(grad, torch.tensor([4517.2969, 82.6000], device=device), rtol=1e-6, atol=1e-4)


@pytest.mark.claim(CLAIM)
@given(w=st.floats(-10, 10), b=st.floats(-30, 30), inputs=st.sampled_from(["t_u", "t_un"]),
       dtype=st.sampled_from([torch.float32, torch.float64]))
def test_analytic_gradient_equals_autograd_anywhere(thermometer, device, w, b, inputs, dtype):
    """p.114/123: at any (w, b), on t_u or t_un, grad_fn and loss.backward() give the same gradient."""
    t_u, t_c = getattr(thermometer, inputs).to(dtype), thermometer.t_c.to(dtype)
    params = torch.tensor([w, b], device=device, dtype=dtype, requires_grad=True)
    t_p = model(t_u, *params)
    loss_fn(t_p, t_c).backward()
    analytic = grad_fn(t_u, t_c, t_p.detach(), *params.detach())
    # float32 sums of terms up to ~1e4 in different orders: rounding of ~1e-6 of the largest term
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    scale = (2 * (t_p.detach() - t_c).abs() * t_u.abs()).mean().item() + 1.0
    assert_close(analytic, params.grad, rtol=tol, atol=tol * scale)
