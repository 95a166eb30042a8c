"""Chapter 8, pages 210-211: nn.functional against modules; who owns the parameters."""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from claims.book.models import Net
from claims.book.net_styles import NetModules
from claims.compat import assert_close, full_float32
from claims.devices import dtype_or_skip


@pytest.mark.usefixtures("one_cpu_thread")  # many tiny convolutions: thread-pool barriers cost more
@pytest.mark.claim("ch08.functional-calls-equal-their-modules")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@given(side=st.integers(2, 9), channels=st.integers(1, 4), kernel=st.integers(1, 3))
def test_max_pool2d_and_tanh_equal_their_modules(device, dtype, side, channels, kernel):
    """p.210: F.max_pool2d(x, k) is nn.MaxPool2d(k)(x) and torch.tanh(x) is nn.Tanh()(x), exactly; so is
    F.tanh(x), which the second edition's Net calls (dlwpt-code-2e In[29]; torch 1.4 warns that it is
    deprecated)."""
    dtype = dtype_or_skip(device, dtype)
    x = 3 * torch.randn(2, channels, side, side, device=device, dtype=dtype)
    if side >= kernel:
        assert_close(F.max_pool2d(x, kernel), nn.MaxPool2d(kernel)(x), rtol=0, atol=0)
    assert_close(torch.tanh(x), nn.Tanh()(x), rtol=0, atol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch 1.4: "nn.functional.tanh is deprecated"
        assert_close(F.tanh(x), torch.tanh(x), rtol=0, atol=0)


@pytest.mark.claim("ch08.modules-own-parameters-functional-calls-do-not")
def test_conv2d_module_owns_its_weights_and_f_conv2d_borrows_them(device):
    """p.211: nn.Conv2d registers its weight and bias (parameters(), state_dict()); F.conv2d keeps
    nothing and computes the same only when handed the module's tensors; tanh and pooling own nothing."""
    conv = nn.Conv2d(3, 4, kernel_size=3).to(device)
    x = torch.randn(1, 3, 8, 8, device=device)

    assert [name for name, _ in conv.named_parameters()] == ["weight", "bias"]
    assert list(conv.state_dict()) == ["weight", "bias"]
    with full_float32(deterministic=True):  # one algorithm for both calls on cuda too: exact
        borrowed, owned = F.conv2d(x, conv.weight, conv.bias), conv(x)
    assert_close(borrowed, owned, rtol=0, atol=0)
    for stateless in (nn.Tanh(), nn.MaxPool2d(2)):
        assert list(stateless.parameters()) == [] and stateless.state_dict() == {}, f"{stateless} owns state"


@pytest.mark.claim("ch08.modules-own-parameters-functional-calls-do-not")
def test_the_optimizer_updates_module_parameters_only(device, evidence):
    """p.211: the optimizer sees the parameters a module traces: one SGD step changes every tensor in
    Net's state_dict; the all-modules NetModules offers the optimizer exactly the same 8 tensors
    (its nn.Tanh and nn.MaxPool2d contribute nothing to train)."""
    net, modules = Net().to(device), NetModules().to(device)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = F.cross_entropy(net(torch.randn(4, 3, 32, 32, device=device)), torch.tensor([0, 1, 0, 1], device=device))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

    changed = [k for k, v in net.state_dict().items() if not torch.equal(v, before[k])]
    evidence.record(changed=changed)
    assert changed == list(before), f"expected every tensor to change, changed: {changed}"
    assert len(list(modules.parameters())) == len(list(net.parameters())) == 8
