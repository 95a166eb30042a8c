"""Chapter 5, page 123: what autograd tracks, and three ways to stop it: no_grad, detach, set_grad_enabled."""
import pytest
import torch
from claims.compat import assert_close

from claims.book.thermometer import loss_fn, model

LEAF_IN_PLACE = "a leaf Variable that requires grad is being used in an in-place operation"


@pytest.mark.claim("ch05.autograd-tracks-tensors-that-require-grad")
def test_results_of_tracked_leaves_carry_a_grad_fn(thermometer, device):
    """p.123: params = torch.tensor([1.0, 0.0], requires_grad=True) is a leaf with .grad None; the loss
    computed from it requires grad and has a grad_fn; the same loss from untracked params has neither."""
    params = torch.tensor([1.0, 0.0], device=device, requires_grad=True)
    assert params.is_leaf and params.grad is None and params.grad_fn is None

    loss = loss_fn(model(thermometer.t_u, *params), thermometer.t_c)
    assert loss.requires_grad and loss.grad_fn is not None, f"tracked loss: grad_fn {loss.grad_fn}"
    assert not loss.is_leaf

    plain = loss_fn(model(thermometer.t_u, *torch.tensor([1.0, 0.0], device=device)), thermometer.t_c)
    assert not plain.requires_grad and plain.grad_fn is None

    loss.backward()
    assert_close(params.grad, torch.tensor([4517.2969, 82.6000], device=device), rtol=1e-6, atol=1e-4)


@pytest.mark.claim("ch05.no-grad-stops-tracking")
def test_update_works_inside_no_grad_and_raises_outside(thermometer, device):
    """p.124-125: inside torch.no_grad() results have requires_grad False and the book's update
    params -= lr * params.grad works; outside it the same in-place update of the leaf raises."""
    params = torch.tensor([1.0, 0.0], device=device, requires_grad=True)
    loss_fn(model(thermometer.t_u, *params), thermometer.t_c).backward()

    with pytest.raises(RuntimeError, match=LEAF_IN_PLACE):
        params -= 1e-4 * params.grad
    with torch.no_grad():
        untracked = params * 2
        params -= 1e-4 * params.grad
    assert not untracked.requires_grad and untracked.grad_fn is None
    assert params.requires_grad and params.is_leaf, "the parameter itself stays tracked"
    assert_close(params.detach(), torch.tensor([1 - 0.45172969, -0.00826], device=device), rtol=1e-5, atol=1e-7)
    assert (params * 2).requires_grad, "tracking resumes after the block"


@pytest.mark.claim("ch05.detach-shares-storage-without-tracking")
def test_detach_shares_storage_and_drops_tracking(device):
    """p.123: params.detach() is a view of the same storage with requires_grad False: writing to it
    changes params, and what is computed from it has no grad_fn."""
    params = torch.tensor([1.0, 0.0], device=device, requires_grad=True)
    detached = params.detach()
    assert not detached.requires_grad and detached.grad_fn is None
    assert detached.data_ptr() == params.data_ptr(), "detach() should not copy"
    assert (detached * 2).grad_fn is None

    detached[1] = 7.0
    assert_close(params.detach(), torch.tensor([1.0, 7.0], device=device), rtol=0, atol=0)
    assert params.requires_grad, "the original keeps tracking"


@pytest.mark.claim("ch05.set-grad-enabled-switches-tracking")
@pytest.mark.parametrize("use", ["context", "call"])
def test_set_grad_enabled_false_acts_as_no_grad(thermometer, device, use):
    """p.123: torch.set_grad_enabled(False), as a context manager or a plain call, stops tracking like
    no_grad (and allows the leaf update); set_grad_enabled(True) turns tracking back on."""
    params = torch.tensor([1.0, 0.0], device=device, requires_grad=True)
    loss_fn(model(thermometer.t_u, *params), thermometer.t_c).backward()
    try:
        if use == "context":
            with torch.set_grad_enabled(False):
                off = params * 2
                params -= 1e-4 * params.grad
            on = params * 2
        else:
            torch.set_grad_enabled(False)
            off = params * 2
            params -= 1e-4 * params.grad
            torch.set_grad_enabled(True)
            on = params * 2
    finally:
        torch.set_grad_enabled(True)
    assert not off.requires_grad and off.grad_fn is None, "no tracking while disabled"
    assert on.requires_grad and on.grad_fn is not None, "tracking again once re-enabled"
    assert_close(params.detach(), torch.tensor([1 - 0.45172969, -0.00826], device=device), rtol=1e-5, atol=1e-7)
