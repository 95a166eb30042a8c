"""Chapter 8, page 224: the vanishing gradient problem, and the skip connections of ResNets.

The network is a 100-layer stack of conv + tanh blocks (``claims.experiments.depth``: PyTorch's default init, no
normalization, the layer of the networks before 2015), on 2 inputs of 16 channels at 8x8 drawn on the CPU;
the loss is the mean output. Backpropagation takes the gradient from the output down the stack, one
layer at a time, so the measure is each layer's weight-gradient norm divided by the last layer's. SGD
moves every weight by the learning rate times its gradient: a layer whose gradient is 1e-30 of the last
layer's does not train.

50 seeds on the CPU: without skips the gradient shrinks by a median factor of 0.47-0.57 per layer, is
8e-7 to 2e-5 of the last layer's 20 layers down and exactly 0 at the first of 100; with skips every layer
gets 0.86 to 8.7 times the last layer's gradient.
"""

from __future__ import annotations

import statistics

import pytest
import torch

from claims.compat import full_float32
from claims.experiments.depth import layer_grad_norms, stack

DEPTH = 100
FACTOR = 100.0  # with skips, every layer's gradient within this factor of the last layer's

# Many small ops: one CPU thread (the conftest fixture says why).
pytestmark = pytest.mark.usefixtures("one_cpu_thread")


def gradient_profile(skip: bool, seed: int, device) -> list[float]:
    """Each layer's weight-gradient norm over the last layer's, first layer first."""
    torch.manual_seed(seed)
    model = stack("tanh", DEPTH, n_chans=16, skip=skip).to(device)
    x = torch.randn(2, 16, 8, 8, generator=torch.Generator().manual_seed(seed)).to(device)
    with full_float32():  # CUDA: no TF32; only the summation order differs from the CPU
        norms = layer_grad_norms(model, x)
    return [norm / norms[-1] for norm in norms]


def per_layer_factors(profile: list[float]) -> list[float]:
    """How much each of the 30 layers nearest the output shrinks the gradient it passes down."""
    return [profile[k] / profile[k + 1] for k in range(DEPTH - 31, DEPTH - 1)]


@pytest.mark.claim("ch08.plain-networks-lose-early-gradients-past-20-layers")
def test_plain_stack_multiplies_the_gradient_away(device, seed, evidence):
    """p.224: without skips each layer multiplies the gradient it passes down by a small factor (median
    below 0.8; measured about 0.5), so the gradient shrinks geometrically with the distance from the output
    and the first of 100 layers gets none of it (below 1e-30 of the last layer's; measured 0)."""
    plain = gradient_profile(skip=False, seed=seed, device=device)
    factor = statistics.median(per_layer_factors(plain))
    evidence.record(
        median_factor_per_layer=factor, relative_to_last_layer={d: plain[DEPTH - d] for d in (1, 10, 20, 50, 100)}
    )

    assert factor < 0.8, f"expected each layer to shrink the gradient, median factor {factor}"
    assert plain[DEPTH - 10] > plain[DEPTH - 20] > plain[DEPTH - 50], f"expected shrinking with depth: {plain}"
    assert plain[0] < 1e-30, f"expected the first layer's gradient gone, measured {plain[0]} of the last's"


@pytest.mark.claim("ch08.skip-connections-ease-vanishing-gradients")
def test_skip_connections_keep_the_gradient_at_100_layers(device, seed, evidence):
    """p.224: with `+ x` around each block (a ResNet's skip connection), every layer of the same
    100-layer stack, the first included, gets a gradient within a factor of 100 of the last layer's."""
    skipped = gradient_profile(skip=True, seed=seed, device=device)
    evidence.record(
        relative_to_last_layer={d: skipped[DEPTH - d] for d in (1, 10, 20, 50, 100)}, range=[min(skipped), max(skipped)]
    )

    assert all(1 / FACTOR < r < FACTOR for r in skipped), (
        f"expected every layer within {FACTOR}x of the last, measured {min(skipped)} to {max(skipped)}"
    )


@pytest.mark.sweep
def test_sweep_gradient_profiles(device):
    """The margins above over 50 seeds."""
    factors, at_20, first, skip_low, skip_high = [], [], [], [], []
    for seed in range(50):
        plain, skipped = gradient_profile(False, seed, device), gradient_profile(True, seed, device)
        factors.append(statistics.median(per_layer_factors(plain)))
        at_20.append(plain[DEPTH - 20])
        first.append(plain[0])
        skip_low.append(min(skipped))
        skip_high.append(max(skipped))
    ranges = {
        "median_factor": (min(factors), max(factors)),
        "plain_20_down": (min(at_20), max(at_20)),
        "plain_first": max(first),
        "skip": (min(skip_low), max(skip_high)),
    }
    print(ranges)
    assert max(factors) < 0.8 and max(first) < 1e-30, ranges
    assert 1 / FACTOR < min(skip_low) and max(skip_high) < FACTOR, ranges
