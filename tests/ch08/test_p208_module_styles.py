"""Chapter 8, page 208: the book's Net as nn.Sequential, as an nn.Module subclass of submodules, and as
a subclass with nn.functional in forward (claims.book.models.Net) is one and the same function."""

from __future__ import annotations

import pytest
import torch

from claims.book.models import Net, net_as_sequential
from claims.book.net_styles import NetModules, sequential_state_from_net
from claims.compat import assert_close, full_float32

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

    with full_float32(deterministic=True):  # the same kernels in the same order: exact on every backend
        expected, by_modules, by_sequential = functional(x), modules(x), sequential(x)
    evidence.record(max_logit=expected.abs().max().item())
    assert_close(by_modules, expected, rtol=0, atol=0)
    assert_close(by_sequential, expected, rtol=0, atol=0)
    assert expected.std() > 0, "outputs should vary across images"


@pytest.mark.claim(CLAIM)
def test_the_styles_hold_the_same_parameters(device):
    """p.208: the three styles have the same parameter shapes in the same order (the book's 18,090
    parameters each), and the subclass of submodules has exactly the functional Net's state_dict keys:
    its tanh and pooling modules add none."""
    styles = [Net().to(device), NetModules().to(device), net_as_sequential().to(device)]
    shapes = [[tuple(p.shape) for p in m.parameters()] for m in styles]
    assert shapes[0] == shapes[1] == shapes[2], f"expected equal parameter shapes, measured {shapes}"
    totals = [sum(p.numel() for p in m.parameters()) for m in styles]
    assert totals == [18_090] * 3, f"expected 18,090 parameters in each style, counted {totals}"
    assert list(styles[1].state_dict()) == list(styles[0].state_dict()), (
        f"expected Net's keys {list(styles[0].state_dict())}, NetModules has {list(styles[1].state_dict())}"
    )
