"""Chapter 8, page 194: why convolutions: local, the same kernel everywhere, few parameters."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
from hypothesis import given
from hypothesis import strategies as st

from claims.book.models import fc_deep, fc_small, n_parameters
from claims.compat import assert_close, full_float32
from claims.devices import dtype_or_skip
from tests.strategies import rounding_tolerance

# A gradient counts as nonzero above this. Inside the window it is at least 4 * 0.5 = 2 (weights drawn in
# [0.5, 1]); outside it is 0 on the CPU, while cuDNN's FFT or Winograd backward may leave rounding noise
# of about 1e-6 there.
NONZERO = 1e-3
DILATION = 1  # the kernel's taps lie next to each other, as in every convolution of the book
SHIFT = (7, 5)  # rows, columns: where the second copy of the pattern lies, relative to the first
# A fully connected layer's map for the moved pattern, against its map for the first one moved by SHIFT:
# their largest difference, as a fraction of the first map's largest value. Seeds 0-49: 0.88 to 1.93
# (the sweep below); a convolution's is 0 up to rounding.
LINEAR_MOVES_APART = 0.4
KERNEL = 3  # the book's Conv2d(3, 16, kernel_size=3)
FAR_FEWER = 100  # ours: "far fewer" is at least 100 times fewer parameters than the Linear(3072, 512)
# dlwpt-code p1ch8/1_convolution.ipynb In[7] and In[9], (sum(numel_list), numel_list) as printed
BOOK_FULLY_CONNECTED_COUNTS = {
    "fc_deep": "(3737474, [3145728, 1024, 524288, 512, 65536, 128, 256, 2])",
    "fc_small": "(1574402, [1572864, 512, 1024, 2])",
}

LOCAL = "ch08.convolution-is-local"
EQUIVARIANT = "ch08.convolution-is-translation-equivariant"


@pytest.mark.usefixtures("one_cpu_thread")  # many tiny convolutions: thread-pool barriers cost more
@pytest.mark.claim(LOCAL)
@given(kernel=st.sampled_from([1, 3, 5]), row=st.integers(0, 7), col=st.integers(0, 7))
def test_an_output_pixel_depends_only_on_the_pixels_under_the_kernel(device, kernel, row, col):
    """p.194: output pixel (row, col) of a k x k convolution has a nonzero gradient with respect to
    exactly the k x k input pixels under the kernel, in every input channel, and zero elsewhere."""
    conv = nn.Conv2d(3, 4, kernel_size=kernel, dilation=DILATION).to(device)
    with torch.no_grad():
        conv.weight.uniform_(0.5, 1.0)  # positive, so no sum of weights can cancel to zero by chance
    side = 8 + DILATION * (kernel - 1)  # an 8x8 output
    x = torch.randn(1, 3, side, side, device=device, requires_grad=True)
    conv(x)[0, :, row, col].sum().backward()

    depends = x.grad[0].abs() > NONZERO
    expected = torch.zeros_like(depends)
    expected[:, row : row + kernel, col : col + kernel] = True
    assert torch.equal(depends, expected), (
        f"expected the {kernel}x{kernel} window at ({row}, {col}) in all 3 channels, "
        f"measured gradient above {NONZERO} at {depends.nonzero().tolist()}"
    )


@pytest.mark.claim(EQUIVARIANT)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_shifting_the_input_shifts_the_output(device, dtype):
    """p.194: the same kernel slides over the whole image, so for every shift (dy, dx) in -4..4,
    conv(shift(x)) == shift(conv(x)) on every output pixel whose window does not touch the border or
    the wrapped-around part of the shift."""
    dtype = dtype_or_skip(device, dtype)
    conv = nn.Conv2d(3, 4, kernel_size=3).to(device, dtype)
    x = torch.randn(1, 3, 20, 20, device=device, dtype=dtype)
    shifts = [(dy, dx) for dy in range(-4, 5) for dx in range(-4, 5)]
    with full_float32(deterministic=True):  # TF32 would round the float32 inputs to 10 mantissa bits on cuda
        out = conv(x)
        shifted_then_conv = conv(torch.cat([torch.roll(x, shifts=s, dims=(2, 3)) for s in shifts]))

    tol = rounding_tolerance(dtype)  # rounding: an algorithm may sum in another order per position
    for n, (dy, dx) in enumerate(shifts):
        inside = (slice(None), slice(max(dy, 0), 18 + min(dy, 0)), slice(max(dx, 0), 18 + min(dx, 0)))
        conv_then_shifted = torch.roll(out[0], shifts=(dy, dx), dims=(1, 2))
        assert_close(shifted_then_conv[n][inside], conv_then_shifted[inside], rtol=tol, atol=tol)


def pattern_here_and_moved(device, shift) -> torch.Tensor:
    """[2, 3, 16, 16]: a random 3x5 pattern at (2, 3) on a blank image, and the same pattern moved by shift."""
    dy, dx = shift
    pattern, images = torch.randn(3, 3, 5, device=device), torch.zeros(2, 3, 16, 16, device=device)
    images[0, :, 2:5, 3:8], images[1, :, 2 + dy : 5 + dy, 3 + dx : 8 + dx] = pattern, pattern
    return images


def responses(device, shift) -> dict:
    """The maps a Conv2d(3, 4, 3) and a fully connected Linear(768, 784) (read as the conv's [4, 14, 14]
    map) give the pattern and the moved pattern: {"conv": [2, 4, 14, 14], "linear": [2, 4, 14, 14]}."""
    conv, linear = nn.Conv2d(3, 4, kernel_size=3).to(device), nn.Linear(3 * 16 * 16, 4 * 14 * 14).to(device)
    images = pattern_here_and_moved(device, shift)
    with torch.no_grad(), full_float32(deterministic=True):
        return {"conv": conv(images), "linear": linear(images.flatten(1)).view(2, 4, 14, 14)}


def moved_gap(maps: torch.Tensor, shift) -> float:
    """How far the map for the moved pattern is from the first map moved by shift: the largest
    difference over the positions both cover, as a fraction of the first map's largest value."""
    dy, dx = shift
    here, there = maps[0], maps[1]
    gap = (there[:, dy:, dx:] - here[:, : 14 - dy, : 14 - dx]).abs().max()
    return (gap / here.abs().max()).item()


@pytest.mark.claim(EQUIVARIANT)
def test_a_pattern_gets_the_same_response_wherever_it_lies_and_a_linear_layer_does_not(device, evidence):
    """p.194 with p.189, the notes' "translation invariance" in the sense of p.189: a pattern at (2, 3) and
    the same pattern moved by (7, 5). The convolution's output map moves with it (out_there[r + 7, c + 5]
    == out_here[r, c]): equivariance. Invariance in the literal sense, an output that does not change, holds
    only after pooling over the whole map (each channel's strongest response is the same wherever the
    pattern lies); the map itself changes. A fully connected layer over the same image (Linear(768, 784),
    read as the same [4, 14, 14] map) lacks the equivariance: its answer to the moved pattern is not its
    first answer moved."""
    maps = responses(device, SHIFT)
    conv_here, conv_there = maps["conv"][0], maps["conv"][1]
    strongest_here, strongest_there = conv_here.flatten(1).max(dim=1).values, conv_there.flatten(1).max(dim=1).values
    gaps = {layer: moved_gap(m, SHIFT) for layer, m in maps.items()}
    change = (conv_there - conv_here).abs().max().item()
    evidence.record(strongest_response=strongest_here.tolist(), max_change_of_the_map=change, moved_gap=gaps)

    assert_close(strongest_there, strongest_here, rtol=1e-5, atol=1e-5)
    assert gaps["conv"] < 1e-5, f"expected the conv's map to move with the pattern, gap {gaps['conv']}"
    assert change > 0.1, f"expected the map to change (no literal invariance), max change {change}"
    assert gaps["linear"] > LINEAR_MOVES_APART, (
        f"expected the fully connected layer's map not to move with the pattern (gap above "
        f"{LINEAR_MOVES_APART} of its largest value), measured {gaps['linear']:.3f}"
    )


@pytest.mark.sweep
def test_sweep_how_far_a_linear_layers_map_is_from_moving():
    """Measures LINEAR_MOVES_APART's margin: the fully connected layer's gap over seeds 0-49."""
    gaps = []
    for seed in range(50):
        torch.manual_seed(seed)
        gaps.append(moved_gap(responses("cpu", SHIFT)["linear"], SHIFT))
    print(f"a fully connected layer's moved gap, seeds 0-49: {min(gaps):.2f} to {max(gaps):.2f}")
    assert min(gaps) > 2 * LINEAR_MOVES_APART, f"LINEAR_MOVES_APART {LINEAR_MOVES_APART} is too close: {min(gaps)}"


@pytest.mark.claim("ch08.convolution-needs-far-fewer-parameters-than-linear")
def test_conv2d_3_16_3_has_448_parameters_against_millions_for_a_fully_connected_layer(evidence):
    """p.194: Conv2d(3, 16, 3) has 16*3*3*3 + 16 = 448 parameters and takes 32x32 and 64x64 images
    alike. A fully connected layer over the flattened 32x32 image has 3072 weights per output: the
    notebook's Linear(3072, 1024) has weight [1024, 3072] and bias [1024], chapter 7's first model
    1,574,402 parameters (its Linear(3072, 512) alone 1,573,376, taking only 3072 inputs; 6,291,968 for a
    64x64 image) and its deeper model 3,737,474, as the chapter-8 notebook prints them."""
    conv = nn.Conv2d(3, 16, kernel_size=KERNEL)
    printed, first_model = {}, fc_small()
    for name, model in (("fc_deep", fc_deep()), ("fc_small", first_model)):
        numel_list = [p.numel() for p in model.parameters()]
        printed[name] = str((sum(numel_list), numel_list))
    linear_1024 = nn.Linear(3072, 1024)  # In[10]
    linear, linear_64 = first_model[0], nn.Linear(3 * 64 * 64, 512)
    counts = {"conv": n_parameters(conv), "linear_32x32": n_parameters(linear), "linear_64x64": n_parameters(linear_64)}
    evidence.record(**counts)

    assert counts["linear_32x32"] >= FAR_FEWER * counts["conv"], f"expected far fewer for the conv: {counts}"
    assert counts == {"conv": 448, "linear_32x32": 1573376, "linear_64x64": 6291968}, f"counted {counts}"
    assert printed == BOOK_FULLY_CONNECTED_COUNTS, f"expected the notebook's counts, measured {printed}"
    shapes = (str(linear_1024.weight.shape), str(linear_1024.bias.shape))
    assert shapes == ("torch.Size([1024, 3072])", "torch.Size([1024])"), f"measured {shapes}"
    sizes = [tuple(conv(torch.randn(1, 3, side, side)).shape) for side in (32, 64)]
    assert sizes == [(1, 16, 30, 30), (1, 16, 62, 62)], f"expected 30x30 and 62x62 outputs, measured {sizes}"
    with pytest.raises(RuntimeError):
        linear(torch.randn(1, 3 * 64 * 64))
