"""Chapter 5, page 123: what autograd tracks, and three ways to stop it: no_grad, detach, set_grad_enabled."""

import pytest
import torch

from claims.book.thermometer import loss_fn, model
from claims.compat import assert_close, storage_ptr

# torch 1.4 says "has been used", later releases "is being used"
LEAF_IN_PLACE = "a leaf Variable that requires grad (is being|has been) used in an in-place operation"


@pytest.mark.claim("ch05.autograd-tracks-tensors-that-require-grad")
def test_results_of_tracked_leaves_carry_a_grad_fn(thermometer, device):
    """p.123: params = torch.tensor([1.0, 0.0], requires_grad=True) is a leaf with .grad None; the loss
    computed from it requires grad and has a grad_fn; the same loss from untracked params has neither."""
    params = torch.tensor([1.0, 0.0], device=device, requires_grad=True)
    assert params.grad is None, "2_autograd.ipynb In[6] printed True for params.grad is None"
    assert params.is_leaf and params.grad_fn is None

    loss = loss_fn(model(thermometer.t_u, *params), thermometer.t_c)
    assert loss.requires_grad and loss.grad_fn is not None, f"tracked loss: grad_fn {loss.grad_fn}"
    assert not loss.is_leaf

    plain = loss_fn(model(thermometer.t_u, *torch.tensor([1.0, 0.0], device=device)), thermometer.t_c)
    assert not plain.requires_grad and plain.grad_fn is None

    loss.backward()
    assert_close(params.grad, torch.tensor([4517.2969, 82.6000], device=device), rtol=1e-6, atol=1e-4)


@pytest.mark.claim("ch05.no-grad-stops-tracking")
def test_nothing_is_tracked_inside_no_grad_and_the_update_works_there(thermometer, device):
    """p.124-125: inside torch.no_grad() results have requires_grad False and no grad_fn, and an in-place change
    to a tensor computed from the params is not recorded (its grad_fn stays the MulBackward0 it had); the
    book's update params -= lr * params.grad works there, params stays a leaf that requires grad, and tracking
    resumes after the block."""
    params = torch.tensor([1.0, 0.0], device=device, requires_grad=True)
    loss_fn(model(thermometer.t_u, *params), thermometer.t_c).backward()
    result = params * 1.0  # computed from the params: requires grad, not a leaf

    with torch.no_grad():
        untracked = params * 2
    assert not untracked.requires_grad and untracked.grad_fn is None, f"tracked inside no_grad: {untracked}"
    with torch.no_grad():
        result -= 1e-4 * params.grad
        params -= 1e-4 * params.grad
    assert type(result.grad_fn).__name__ == "MulBackward0", f"in-place change recorded: {result.grad_fn}"
    assert params.requires_grad and params.is_leaf, "the parameter itself stays tracked"
    assert_close(params.detach(), torch.tensor([1 - 0.45172969, -0.00826], device=device), rtol=1e-5, atol=1e-7)
    assert (params * 2).requires_grad, "tracking resumes after the block"


@pytest.mark.claim("ch05.no-grad-update-since-grad-would-track-it")
def test_outside_no_grad_the_update_of_the_params_raises_instead_of_being_tracked(thermometer, device):
    """p.123: the notes' reason for no_grad, "grad would track that in-place change", is not what happens to the
    book's params, a leaf that requires grad: outside no_grad autograd refuses the update with a RuntimeError and
    params is left as it was. What it says is what happens to a tensor computed from the params (not a leaf):
    its in-place update is recorded, its grad_fn becomes the update's SubBackward0."""
    params = torch.tensor([1.0, 0.0], device=device, requires_grad=True)
    loss_fn(model(thermometer.t_u, *params), thermometer.t_c).backward()
    result = params * 1.0  # computed from the params: requires grad, not a leaf

    with pytest.raises(RuntimeError, match=LEAF_IN_PLACE):
        params -= 1e-4 * params.grad
    assert params.tolist() == [1.0, 0.0], f"the refused update should leave params as it was: {params.tolist()}"
    result -= 1e-4 * params.grad
    assert type(result.grad_fn).__name__ == "SubBackward0", f"recorded outside no_grad: {result.grad_fn}"


@pytest.mark.claim("ch05.detach-creates-a-copy")
def test_detach_shares_storage_and_clone_copies(device, evidence):
    """p.123: the notes call params.detach() a copy. It is not: it is a new tensor object on the same
    storage, so a write through it shows in params (and the reverse); params.clone() is the copy."""
    params = torch.tensor([1.0, 0.0], device=device, requires_grad=True)
    detached, copied = params.detach(), params.clone()
    evidence.record(
        same_storage_as_params={
            "detach": storage_ptr(detached) == storage_ptr(params),
            "clone": storage_ptr(copied) == storage_ptr(params),
        }
    )
    assert detached is not params
    assert storage_ptr(detached) == storage_ptr(params), "detach() should return a tensor on params' storage"
    assert storage_ptr(copied) != storage_ptr(params), "clone() should copy to a storage of its own"

    detached[1] = 7.0
    assert params.tolist() == [1.0, 7.0], f"a write through detach() should show in params: {params.tolist()}"
    with torch.no_grad():
        params[0] = -3.0
    assert detached[0].item() == -3.0, f"a write to params should show in the detached tensor: {detached.tolist()}"
    assert copied.tolist() == [1.0, 0.0], f"clone() is a copy, untouched by both writes: {copied.tolist()}"


@pytest.mark.claim("ch05.detach-removes-grad-tracking")
def test_detach_cuts_the_recorded_update_loose_from_the_graph(thermometer, device):
    """p.123: what detach() returns does not require grad and has no grad_fn, and nothing computed from it is
    tracked. The update params - lr * params.grad outside no_grad IS recorded (a SubBackward0 node back to the
    old params); .detach() cuts the result loose, and .requires_grad_() makes it a fresh leaf, with the values
    of the update under no_grad. The next backward stops at that leaf; without the detach it would run on
    through the update into the old params' .grad."""
    params = torch.tensor([1.0, 0.0], device=device, requires_grad=True)
    detached = params.detach()
    assert not detached.requires_grad and detached.grad_fn is None, f"detached: {detached}"
    assert (detached * 2).grad_fn is None and not (detached * 2).requires_grad
    assert params.requires_grad, "the original keeps tracking"

    loss_fn(model(thermometer.t_u, *params), thermometer.t_c).backward()
    old_grad = params.grad.clone()
    recorded = params - 1e-4 * params.grad
    assert type(recorded.grad_fn).__name__ == "SubBackward0", f"the update is recorded: {recorded.grad_fn}"
    updated = recorded.detach().requires_grad_()
    assert updated.is_leaf and updated.grad_fn is None, "the updated params should be a fresh leaf"
    with torch.no_grad():
        under_no_grad = params - 1e-4 * params.grad
    assert under_no_grad.grad_fn is None, "under no_grad the same update is not recorded at all"
    assert_close(updated.detach(), under_no_grad, rtol=0, atol=0)
    assert_close(updated.detach(), torch.tensor([1 - 0.45172969, -0.00826], device=device), rtol=1e-5, atol=1e-7)

    loss_fn(model(thermometer.t_u, *updated), thermometer.t_c).backward()
    assert updated.grad is not None and torch.equal(params.grad, old_grad), "backward stops at the detached leaf"
    loss_fn(model(thermometer.t_u, *recorded), thermometer.t_c).backward()
    assert not torch.equal(params.grad, old_grad), "without detach, backward runs on into the old params"


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
                assert not off.requires_grad and off.grad_fn is None, "no tracking while disabled"
                params -= 1e-4 * params.grad
        else:
            torch.set_grad_enabled(False)
            off = params * 2
            assert not off.requires_grad and off.grad_fn is None, "no tracking while disabled"
            params -= 1e-4 * params.grad
            torch.set_grad_enabled(True)
        on = params * 2
    finally:
        torch.set_grad_enabled(True)
    assert on.requires_grad and on.grad_fn is not None, "tracking again once re-enabled"
    assert_close(params.detach(), torch.tensor([1 - 0.45172969, -0.00826], device=device), rtol=1e-5, atol=1e-7)
