"""Chapter 8, page 208: the book's Net as nn.Sequential, as an nn.Module subclass of submodules, and as
a subclass with nn.functional in forward (claims.book.models.Net) is one and the same function."""
import pytest
import torch
from claims.compat import assert_close

from claims.book.models import Net, net_as_sequential
from claims.book.net_styles import NetModules, sequential_state_from_net

CLAIM = "ch08.subclass-and-sequential-nets-compute-the-same-function"


@pytest.mark.claim(CLAIM)
def test_three_styles_of_net_give_the_same_outputs_with_the_same_weights(device, evidence):
    """p.208-210: load one Net's weights into the all-modules subclass (same names) and into the
    nn.Sequential (layers renamed 0, 3, 7, 9): all three return the same logits for a batch of images."""
    functional = Net().to(device)
    modules, sequential = NetModules().to(device), net_as_sequential().to(device)
    modules.load_state_dict(functional.state_dict())
    sequential.load_state_dict(sequential_state_from_net(functional.state_dict()))
    x = torch.randn(8, 3, 32, 32, device=device)

    expected = functional(x)
    evidence.record(max_logit=expected.abs().max().item())
    tol = 0 if device.type == "cpu" else 1e-6  # same kernels, same order on the CPU; cuDNN may pick per call
    assert_close(modules(x), expected, rtol=tol, atol=tol)
    assert_close(sequential(x), expected, rtol=tol, atol=tol)
    assert expected.std() > 0, "outputs should vary across images"


@pytest.mark.claim(CLAIM)
def test_the_styles_hold_the_same_parameters(device):
    """p.208: the three styles have the same parameter shapes in the same order, and the subclass of
    submodules has exactly the functional Net's state_dict keys: its tanh and pooling modules add none."""
    styles = [Net().to(device), NetModules().to(device), net_as_sequential().to(device)]
    shapes = [[tuple(p.shape) for p in m.parameters()] for m in styles]
    assert shapes[0] == shapes[1] == shapes[2], f"expected equal parameter shapes, measured {shapes}"
    assert list(styles[1].state_dict()) == list(styles[0].state_dict()), (
        f"expected Net's keys {list(styles[0].state_dict())}, NetModules has {list(styles[1].state_dict())}")
    assert len(list(styles[1].children())) == 9 and len(list(styles[0].children())) == 4
