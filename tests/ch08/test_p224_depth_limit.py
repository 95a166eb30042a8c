"""Chapter 8, page 224: ~20 layers before 2015, 100 with ResNets: a plain stack's early-layer gradient at
20 and at 100 layers, with and without skip connections.

The stack is ``claims.book.depth``'s conv + tanh block (PyTorch's default init, no normalization) on
2 inputs of 16 channels at 8x8; the loss is the mean output; the measure is the first block's conv
weight gradient norm divided by the same norm in a 1-layer stack. Seeds 0-5 on the CPU: plain stack
4e-6 to 2e-5 at 20 layers and exactly 0 at 100; with skips 2.4-3.8 at 20 and 19-30 at 100.
"""
import pytest
import torch

from claims.book.depth import first_layer_grad_norm, stack

CLAIM = "ch08.plain-networks-lose-early-gradients-past-20-layers"


# Many small ops: one CPU thread (the conftest fixture says why).
pytestmark = pytest.mark.usefixtures("one_cpu_thread")


def relative_grad_norms(skip: bool, device) -> dict[int, float]:
    x = torch.randn(2, 16, 8, 8, device=device)
    norms = {d: first_layer_grad_norm(stack("tanh", d, n_chans=16, skip=skip).to(device), x) for d in (1, 20, 100)}
    return {d: norms[d] / norms[1] for d in norms}


@pytest.mark.claim(CLAIM)
def test_plain_stack_gradient_at_20_and_100_layers(device, evidence):
    """p.224: without skips the first layer's gradient is down by more than a factor of 1,000 (measured
    ~1e-5) at 20 layers and underflows to 0 at 100: such layers hardly train."""
    plain = relative_grad_norms(skip=False, device=device)
    evidence.record(relative_to_one_layer=plain)
    assert plain[20] < 1e-3, f"expected < 1e-3 of the 1-layer gradient at 20 layers, measured {plain}"
    assert plain[100] < 1e-20, f"expected the gradient gone at 100 layers, measured {plain}"


@pytest.mark.claim(CLAIM)
def test_skip_connections_keep_the_gradient_at_20_and_100_layers(device, evidence):
    """p.224: with `+ x` around each block the first layer's gradient does not shrink with depth: at
    20 and at 100 layers it stays between half and 100 times its 1-layer value (measured 2-30x)."""
    skipped = relative_grad_norms(skip=True, device=device)
    evidence.record(relative_to_one_layer=skipped)
    assert all(0.5 < skipped[d] < 100 for d in (20, 100)), f"expected within [0.5, 100], measured {skipped}"
