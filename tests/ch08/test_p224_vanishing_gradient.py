"""Chapter 8, page 224: the vanishing gradient problem, and the skip connections of ResNets.

The network is a 100-layer stack of conv + tanh blocks (``claims.experiments.depth``), on one input of 16
channels at 8x8 drawn on the CPU; the loss is the mean output. Backpropagation hands the gradient from the
output down the stack one layer at a time, each layer multiplying it by a factor of its own. Two measures
(``backward_profile``), each over the last layer's:

- the gradient with respect to each layer's output: the backward signal, the notes' product of "a lot of
  small numbers";
- each layer's conv-weight gradient, what SGD applies: that signal times the layer's input. A ratio of
  weight gradients alone cannot see a gradient that vanishes in every layer: with PyTorch's default weights
  and zero biases the first layer's is 0.26-5.0 times the last layer's, and every layer's is below 5e-26
  (the activations vanish as the backward signal does, about 1e-25 of the first layer's output by the
  last). So the test also asks the backward signal, and the ledger keeps the absolute gradients.

Whether the gradient vanishes depends on how the stack starts, so the same stack is measured four ways, each
at initialization (no training step is run: a gradient at the start says how strongly SGD's first steps move
each layer, not how well the stack goes on to train). Seeds 0-49 on the CPU, torch 1.4.0 and 2.14.1 (the sweep
below; the ranges are the same on both at two digits but one, inside the range given):

- PyTorch's default Conv2d init, no skips: each layer multiplies the backward signal by a median 0.54-0.56;
  20 layers down it is 4e-6 to 2.3e-5 of the last layer's, at the first of 100 layers 3e-27 to 4e-26, and
  the first layer's weight gradient 6e-27 to 1e-25 of the last layer's (0.10-0.20).
- Default weights with zero biases, no skips: every layer's weight gradient is 2.2e-27 to 4.9e-26.
- Glorot's init, no skips: 0.93-0.96 per layer, 0.09 to 1.2 of the last layer's signal 20 layers down, 7.3e-4
  to 1.2e-2 at the first layer; the activations shrink about as much (100-570 times from the first layer's
  output to the last's), so the first layer's weight gradient is 0.23-5.7 times the last layer's (which is
  1.7e-4 to 1.6e-3: every layer's gradient is small, the early ones no smaller).
- BatchNorm between the layers, no skips: about 1.1 per layer, the signal grows toward the input: 2.1-4.6
  times the last layer's 20 layers down, 2,600 to 15,000 times at the first layer (the weight gradient 6,100
  to 32,000 times).
- Default init with skips: at every layer the backward signal is 0.95-31 times the last layer's and the
  weight gradient 0.84-10 times.
"""

from __future__ import annotations

import statistics

import pytest
import torch

from claims.compat import full_float32
from claims.experiments.depth import Profile, backward_profile, stack

DEPTH = 100
FACTOR = 100.0  # with skips, every layer's gradients within this factor of the last layer's
VANISHED = 1e-20  # below this fraction of the last layer's gradient, a layer gets none
KEPT_AT_20 = 0.01  # Glorot's init: the backward signal 20 layers down above this fraction of the last layer's
USABLE = 1e-4  # Glorot's init: the first layer's backward signal above this fraction of the last layer's
GLOROT_BAND = 30.0  # Glorot's init: the first layer's weight gradient within this factor of the last layer's
SMALL_GRAD = 5e-3  # Glorot's init: the last layer's weight gradient below this; the default init's above LARGE_GRAD
LARGE_GRAD = 0.05
SHRINK = (30.0, 3000.0)  # Glorot's init: the activations shrink from the first layer's output to the last by this much
NO_GRAD = 1e-20  # default weights, zero biases: every layer's weight gradient below this, in absolute terms
EXPLODED = 100.0  # BatchNorm between layers: the first layer's gradients above this multiple of the last layer's
# The three starts, read when a test runs; a skeptic's fault replaces one. STACK is the stack both claims
# measure: PyTorch's default init, no normalization, the weights as drawn.
STACK = {"init": "default", "batch_norm": False}
NORMALIZED_INIT = {"init": "glorot", "batch_norm": False}  # xavier_normal_: Glorot and Bengio's variance (2010)
BATCH_NORM = {"init": "default", "batch_norm": True}  # BatchNorm between each conv and its tanh (2015)
ZERO_BIAS = {"init": "default-zero-bias", "batch_norm": False}  # the default weights with zero biases

# Many small ops: one CPU thread (the conftest fixture says why).
pytestmark = pytest.mark.usefixtures("one_cpu_thread")


def profile(skip: bool, seed: int, device, **options) -> Profile:
    """The 100-layer stack's backward profile, built and fed from the seed."""
    torch.manual_seed(seed)
    model = stack("tanh", DEPTH, n_chans=16, skip=skip, **options).to(device)
    x = torch.randn(1, 16, 8, 8, generator=torch.Generator().manual_seed(seed)).to(device)
    with full_float32():  # CUDA: no TF32; only the summation order differs from the CPU
        return backward_profile(model, x)


def summary(run: Profile) -> dict:
    """What the tests assert and the ledger keeps: the median factor per layer; the backward signal at 20 layers
    down and at the first layer and the first layer's weight gradient, each over the last layer's; the first
    and the last layer's weight gradients themselves; how much the activations shrink from the first layer's
    output to the last's."""
    signal = run.relative("output_grads")
    return {
        "factor_per_layer": statistics.median(run.factors()),
        "signal_20_down": signal[DEPTH - 20],
        "signal_first": signal[0],
        "weight_grad_first_over_last": run.relative("weight_grads")[0],
        "weight_grad_first": run.weight_grads[0],
        "weight_grad_last": run.weight_grads[-1],
        "activations_shrink": run.activations[0] / run.activations[-1],
        "weight_grad_largest": max(run.weight_grads),
    }


def by_depth(ratios: list[float]) -> dict:
    """The ratios at 1, 10, 20, 50 and 100 layers from the output (for the ledger and the report's plot)."""
    return {d: ratios[DEPTH - d] for d in (1, 10, 20, 50, 100)}


def four_starts(seed: int, device) -> dict:
    """The plain stack (no skips) at each start: its summary, and its backward signal by depth."""
    runs = {
        "default": profile(False, seed, device, **STACK),
        "glorot": profile(False, seed, device, **NORMALIZED_INIT),
        "batch_norm": profile(False, seed, device, **BATCH_NORM),
        "zero_bias": profile(False, seed, device, **ZERO_BIAS),
    }
    return {start: summary(run) for start, run in runs.items()}, {
        start: by_depth(run.relative("output_grads")) for start, run in runs.items()
    }


@pytest.mark.claim("ch08.plain-networks-lose-early-gradients-past-20-layers")
def test_whether_a_plain_stack_loses_its_gradient_depends_on_how_it_starts(device, seed, evidence):
    """p.224, refuted: without skips, the 100-layer conv + tanh stack at PyTorch's default init multiplies
    the backward signal by about 0.55 per layer (median below 0.8): 20 layers down it is already below 1e-3
    of the last layer's, at the first layer below 1e-20, and so is the first layer's weight gradient, while
    the last layer's weight gradient is large (above 0.05). With zero biases every layer's weight gradient is
    below 1e-20 itself. At Glorot's init the factor is about 0.95 (0.8 to 1): 20 layers down the signal is
    above 1e-2 of the last layer's, at the first layer above 1e-4; the activations shrink too (30 to 3000
    times through the stack), so the first layer's weight gradient is within 30x of the last layer's, and the
    last layer's is small (below 5e-3): at initialization the early layers get weight gradients comparable
    to the late layers'. With BatchNorm between the layers the factor is above 1 (1 to 1.3) and the gradient
    grows toward the input: above 1 of the last layer's 20 layers down and 100 at the first layer, an exploding
    gradient. Depth alone does not make the gradient vanish, and 20 layers is no threshold. (Gradients at
    initialization: no training step is run.)"""
    starts, signal = four_starts(seed, device)
    default, glorot, batch_norm = starts["default"], starts["glorot"], starts["batch_norm"]
    evidence.record(
        **starts,
        default_init=signal["default"],
        glorot_init=signal["glorot"],
        batch_norm_between_layers=signal["batch_norm"],
    )

    assert default["factor_per_layer"] < 0.8, f"expected the default init to shrink the signal per layer: {default}"
    assert default["signal_20_down"] < 1e-3, f"expected the default init's signal small 20 layers down: {default}"
    assert default["signal_first"] < VANISHED and default["weight_grad_first_over_last"] < VANISHED, (
        f"expected the first layer's gradient gone at the default init: {default}"
    )
    assert default["weight_grad_last"] > LARGE_GRAD, (
        f"expected a large last-layer gradient at the default init: {default}"
    )
    assert starts["zero_bias"]["weight_grad_largest"] < NO_GRAD, (
        f"zero biases: expected no gradient: {starts['zero_bias']}"
    )
    assert 0.8 < glorot["factor_per_layer"] < 1, f"Glorot's init: expected a factor a little below 1: {glorot}"
    assert glorot["signal_20_down"] > KEPT_AT_20, f"Glorot's init: expected a signal kept 20 layers down: {glorot}"
    assert glorot["signal_first"] > USABLE, f"Glorot's init: expected a usable signal at the first layer: {glorot}"
    assert SHRINK[0] < glorot["activations_shrink"] < SHRINK[1], (
        f"Glorot's init: expected shrinking activations: {glorot}"
    )
    assert 1 / GLOROT_BAND < glorot["weight_grad_first_over_last"] < GLOROT_BAND, f"Glorot's init: {glorot}"
    assert glorot["weight_grad_last"] < SMALL_GRAD, f"Glorot's init: expected a small last-layer gradient: {glorot}"
    assert 1 < batch_norm["factor_per_layer"] < 1.3 and batch_norm["signal_20_down"] > 1, (
        f"BatchNorm between layers: expected the signal to grow toward the input: {batch_norm}"
    )
    assert batch_norm["signal_first"] > EXPLODED and batch_norm["weight_grad_first_over_last"] > EXPLODED, (
        f"BatchNorm between layers: expected an exploding gradient at the first layer: {batch_norm}"
    )


@pytest.mark.claim("ch08.skip-connections-ease-vanishing-gradients")
def test_skip_connections_keep_the_gradient_the_plain_stack_loses(device, seed, evidence):
    """p.224: the 100-layer stack at PyTorch's default init, whose first layer gets no gradient without skips
    (the backward signal below 1e-20 of the last layer's), keeps it with `+ x` around each block (a ResNet's
    skip connection): at every layer, the first included, both the backward signal and the weight gradient
    are within a factor of 100 of the last layer's."""
    plain = profile(False, seed, device, **STACK).relative("output_grads")
    skipped = profile(True, seed, device, **STACK)
    signal, weights = skipped.relative("output_grads"), skipped.relative("weight_grads")
    evidence.record(
        relative_to_last_layer=by_depth(signal),
        signal_range=[min(signal), max(signal)],
        weight_grad_range=[min(weights), max(weights)],
        plain_first=plain[0],
    )

    assert plain[0] < VANISHED, f"expected the plain stack to lose the gradient, first layer at {plain[0]}"
    for name, ratios in (("backward signal", signal), ("weight gradient", weights)):
        assert all(1 / FACTOR < r < FACTOR for r in ratios), (
            f"expected every layer's {name} within {FACTOR}x of the last, measured {min(ratios)} to {max(ratios)}"
        )


@pytest.mark.sweep
def test_sweep_gradient_profiles(device):
    """The margins above over seeds 0-49."""
    runs = [four_starts(seed, device)[0] for seed in range(50)]
    skipped = [profile(True, seed, device, **STACK) for seed in range(50)]
    ranges = {
        f"{start} {key}": (min(r[start][key] for r in runs), max(r[start][key] for r in runs))
        for start in runs[0]
        for key in runs[0][start]
    }
    for which in ("output_grads", "weight_grads"):
        ranges[f"skip {which}"] = (
            min(min(p.relative(which)) for p in skipped),
            max(max(p.relative(which)) for p in skipped),
        )
    for key, (low, high) in ranges.items():
        print(f"{key}: {low:.2g} to {high:.2g}")

    def within(key: str, low: float, high: float) -> bool:  # the whole range, with room to spare
        return low < ranges[key][0] and ranges[key][1] < high

    assert ranges["default factor_per_layer"][1] < 0.8 and ranges["default signal_20_down"][1] < 1e-3, ranges
    assert ranges["default signal_first"][1] < VANISHED and ranges["default weight_grad_first_over_last"][1] < VANISHED
    assert within("glorot factor_per_layer", 0.8, 1) and ranges["glorot signal_20_down"][0] > 5 * KEPT_AT_20, ranges
    assert ranges["glorot signal_first"][0] > 5 * USABLE, ranges
    assert within("glorot weight_grad_first_over_last", 3 / GLOROT_BAND, GLOROT_BAND / 3), ranges
    assert within("glorot activations_shrink", 3 * SHRINK[0], SHRINK[1] / 3), ranges
    assert (
        ranges["glorot weight_grad_last"][1] < SMALL_GRAD / 3
        and ranges["default weight_grad_last"][0] > 1.5 * LARGE_GRAD
    )
    assert ranges["zero_bias weight_grad_largest"][1] < NO_GRAD / 1e3, ranges
    assert within("batch_norm factor_per_layer", 1, 1.3) and ranges["batch_norm signal_20_down"][0] > 1.5, ranges
    assert ranges["batch_norm signal_first"][0] > 5 * EXPLODED, ranges
    assert ranges["batch_norm weight_grad_first_over_last"][0] > 5 * EXPLODED, ranges
    assert within("skip output_grads", 3 / FACTOR, FACTOR / 3) and within("skip weight_grads", 3 / FACTOR, FACTOR / 3)
