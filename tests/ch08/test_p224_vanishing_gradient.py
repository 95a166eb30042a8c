"""Chapter 8, page 224: the vanishing gradient problem, and the skip connections of ResNets.

The network is a 100-layer stack of conv + tanh blocks (``claims.experiments.depth``), on 2 inputs of 16
channels at 8x8 drawn on the CPU; the loss is the mean output. Backpropagation takes the gradient from the
output down the stack, one layer at a time, so the measure is what SGD applies: each layer's weight-gradient
norm (taken in float64) divided by the last layer's. SGD moves every weight by the learning rate times its
gradient: a layer whose gradient is 1e-20 of the last layer's does not train.

Whether that gradient vanishes depends on how the stack starts, so the same stack is measured three ways:
at PyTorch's default Conv2d init, at Glorot's normalized init (2010), and with BatchNorm between the layers
(2015). 50 seeds on the CPU (torch 1.4 and 2.14):

- default init, no skips: each layer multiplies the gradient by a median 0.47-0.57; 20 layers down it is
  8e-7 to 2e-5 of the last layer's, at the first of 100 layers 4e-27 to 7e-26. (Its weights with zero
  biases lose nothing, 0.16-3.5: the default's non-zero biases keep the activations up while the gradient
  shrinks.)
- Glorot's init, no skips: the first layer gets 0.23-7.4 times the last layer's gradient;
- BatchNorm between the layers, no skips: the first layer gets 6,200-25,000 times the last layer's (the
  gradient grows toward the input, the opposite of vanishing);
- default init with skips: every layer gets 0.86 to 8.8 times the last layer's gradient.
"""

from __future__ import annotations

import statistics

import pytest
import torch

from claims.compat import full_float32
from claims.experiments.depth import layer_grad_norms, stack

DEPTH = 100
FACTOR = 100.0  # with skips, every layer's gradient within this factor of the last layer's
VANISHED = 1e-20  # below this fraction of the last layer's gradient, a layer gets none
GLOROT_BAND = 30.0  # Glorot's init: the first layer's gradient within this factor of the last's (0.23-7.4)
# The stack both claims measure: PyTorch's default init, no normalization, the weights as drawn. A skeptic's
# fault gives it Glorot's init, BatchNorm between the layers, or twice Glorot's weights.
STACK = {"init": "default", "batch_norm": False}

# Many small ops: one CPU thread (the conftest fixture says why).
pytestmark = pytest.mark.usefixtures("one_cpu_thread")


def gradient_profile(skip: bool, seed: int, device, **options) -> list[float]:
    """Each layer's weight-gradient norm over the last layer's, first layer first."""
    torch.manual_seed(seed)
    model = stack("tanh", DEPTH, n_chans=16, skip=skip, **options).to(device)
    x = torch.randn(2, 16, 8, 8, generator=torch.Generator().manual_seed(seed)).to(device)
    with full_float32():  # CUDA: no TF32; only the summation order differs from the CPU
        norms = layer_grad_norms(model, x)
    return [norm / norms[-1] for norm in norms]


def per_layer_factors(profile: list[float]) -> list[float]:
    """How much each of the 30 layers nearest the output shrinks the gradient it passes down."""
    return [profile[k] / profile[k + 1] for k in range(DEPTH - 31, DEPTH - 1)]


def down(profile: list[float]) -> dict:
    """The profile at 1, 10, 20, 50 and 100 layers from the output (for the ledger)."""
    return {d: profile[DEPTH - d] for d in (1, 10, 20, 50, 100)}


def three_starts(seed: int, device) -> dict:
    """The plain stack (no skips) at the stack's own start, at Glorot's init and with BatchNorm between layers."""
    return {
        "stack": gradient_profile(False, seed, device, **STACK),
        "glorot": gradient_profile(False, seed, device, init="glorot"),
        "batch_norm": gradient_profile(False, seed, device, batch_norm=True),
    }


@pytest.mark.claim("ch08.plain-networks-lose-early-gradients-past-20-layers")
def test_whether_a_plain_stack_loses_its_gradient_depends_on_its_init(device, seed, evidence):
    """p.224, refuted: without skips, the 100-layer conv + tanh stack at PyTorch's default init multiplies
    the gradient by about 0.5 per layer (median below 0.8) and its first layer gets none (below 1e-20 of
    the last layer's). The same stack at Glorot's init gives its first layer about the last layer's gradient
    (within 30x), and with BatchNorm between the layers more than the last layer's: depth alone does not
    make the gradient vanish, the init and the normalization decide."""
    profiles = three_starts(seed, device)
    default, glorot, batch_norm = profiles["stack"], profiles["glorot"], profiles["batch_norm"]
    factor = statistics.median(per_layer_factors(default))
    evidence.record(
        median_factor_per_layer=factor,
        default_init=down(default),
        glorot_init=down(glorot),
        batch_norm_between_layers=down(batch_norm),
    )

    assert factor < 0.8, f"expected the default init to shrink the gradient per layer, median factor {factor}"
    assert default[DEPTH - 10] > default[DEPTH - 20] > default[DEPTH - 50], f"not shrinking with depth: {default}"
    assert default[0] < VANISHED, f"expected the first layer's gradient gone, measured {default[0]} of the last's"
    assert 1 / GLOROT_BAND < glorot[0] < GLOROT_BAND, f"Glorot's init: first layer at {glorot[0]} of the last's"
    assert batch_norm[0] > 1, f"BatchNorm between layers: first layer at {batch_norm[0]} of the last's"


@pytest.mark.claim("ch08.skip-connections-ease-vanishing-gradients")
def test_skip_connections_keep_the_gradient_the_plain_stack_loses(device, seed, evidence):
    """p.224: the 100-layer stack at PyTorch's default init, whose first layer gets no gradient without skips
    (below 1e-20 of the last layer's), gets at every layer, the first included, a gradient within a factor
    of 100 of the last layer's with `+ x` around each block (a ResNet's skip connection)."""
    plain = gradient_profile(False, seed, device, **STACK)
    skipped = gradient_profile(True, seed, device, **STACK)
    evidence.record(relative_to_last_layer=down(skipped), range=[min(skipped), max(skipped)], plain_first=plain[0])

    assert plain[0] < VANISHED, f"expected the plain stack to lose the gradient, first layer at {plain[0]}"
    assert all(1 / FACTOR < r < FACTOR for r in skipped), (
        f"expected every layer within {FACTOR}x of the last, measured {min(skipped)} to {max(skipped)}"
    )


@pytest.mark.sweep
def test_sweep_gradient_profiles(device):
    """The margins above over 50 seeds."""
    factors, at_20, first, glorot, batch_norm, skip_low, skip_high = [], [], [], [], [], [], []
    for seed in range(50):
        profiles = three_starts(seed, device)
        skipped = gradient_profile(True, seed, device, **STACK)
        factors.append(statistics.median(per_layer_factors(profiles["stack"])))
        at_20.append(profiles["stack"][DEPTH - 20])
        first.append(profiles["stack"][0])
        glorot.append(profiles["glorot"][0])
        batch_norm.append(profiles["batch_norm"][0])
        skip_low.append(min(skipped))
        skip_high.append(max(skipped))
    ranges = {
        "median_factor": (min(factors), max(factors)),
        "plain_20_down": (min(at_20), max(at_20)),
        "plain_first": (min(first), max(first)),
        "glorot_first": (min(glorot), max(glorot)),
        "batch_norm_first": (min(batch_norm), max(batch_norm)),
        "skip": (min(skip_low), max(skip_high)),
    }
    print(ranges)
    assert max(factors) < 0.8 and max(first) < VANISHED, ranges
    assert 1 / GLOROT_BAND < min(glorot) and max(glorot) < GLOROT_BAND and min(batch_norm) > 1, ranges
    assert 1 / FACTOR < min(skip_low) and max(skip_high) < FACTOR, ranges
