"""Chapter 8, page 194: why convolutions: local, the same kernel everywhere, few parameters."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
from hypothesis import given
from hypothesis import strategies as st

from claims.book.models import fc_small, n_parameters
from claims.compat import assert_close, full_float32
from tests.strategies import rounding_tolerance

# A gradient counts as nonzero above this. Inside the window it is at least 4 * 0.5 = 2 (weights drawn in
# [0.5, 1]); outside it is 0 on the CPU, while cuDNN's FFT or Winograd backward may leave rounding noise
# of about 1e-6 there.
NONZERO = 1e-3


@pytest.mark.usefixtures("one_cpu_thread")  # many tiny convolutions: thread-pool barriers cost more
@pytest.mark.claim("ch08.convolution-is-local")
@given(kernel=st.sampled_from([1, 3, 5]), row=st.integers(0, 7), col=st.integers(0, 7))
def test_an_output_pixel_depends_only_on_the_pixels_under_the_kernel(device, kernel, row, col):
    """p.194: output pixel (row, col) of a k x k convolution has a nonzero gradient with respect to
    exactly the k x k input pixels under the kernel, in every input channel, and zero elsewhere."""
    conv = nn.Conv2d(3, 4, kernel_size=kernel).to(device)
    with torch.no_grad():
        conv.weight.uniform_(0.5, 1.0)  # positive, so no sum of weights can cancel to zero by chance
    x = torch.randn(1, 3, 8 + kernel - 1, 8 + kernel - 1, device=device, requires_grad=True)
    conv(x)[0, :, row, col].sum().backward()

    depends = x.grad[0].abs() > NONZERO
    expected = torch.zeros_like(depends)
    expected[:, row : row + kernel, col : col + kernel] = True
    assert torch.equal(depends, expected), (
        f"expected the {kernel}x{kernel} window at ({row}, {col}) in all 3 channels, "
        f"measured gradient above {NONZERO} at {depends.nonzero().tolist()}"
    )


@pytest.mark.usefixtures("one_cpu_thread")  # many tiny convolutions: thread-pool barriers cost more
@pytest.mark.claim("ch08.convolution-is-translation-equivariant")
@given(dy=st.integers(-4, 4), dx=st.integers(-4, 4), dtype=st.sampled_from([torch.float32, torch.float64]))
def test_shifting_the_input_shifts_the_output(device, dy, dx, dtype):
    """p.194: the same kernel slides over the whole image, so conv(shift(x)) == shift(conv(x)) on every
    output pixel whose window does not touch the border or the wrapped-around part of the shift."""
    conv = nn.Conv2d(3, 4, kernel_size=3).to(device, dtype)
    x = torch.randn(1, 3, 20, 20, device=device, dtype=dtype)
    with full_float32(deterministic=True):  # TF32 would round the float32 inputs to 10 mantissa bits on cuda
        shifted_then_conv = conv(torch.roll(x, shifts=(dy, dx), dims=(2, 3)))
        conv_then_shifted = torch.roll(conv(x), shifts=(dy, dx), dims=(2, 3))

    inside = (slice(None), slice(None), slice(max(dy, 0), 18 + min(dy, 0)), slice(max(dx, 0), 18 + min(dx, 0)))
    tol = rounding_tolerance(dtype)  # rounding: an algorithm may sum in another order per position
    assert_close(shifted_then_conv[inside], conv_then_shifted[inside], rtol=tol, atol=tol)


@pytest.mark.claim("ch08.convolution-is-translation-equivariant")
def test_a_pattern_gets_the_same_response_wherever_it_lies(device, evidence):
    """p.194 with p.189: a pattern at (2, 3) and the same pattern at (9, 8) get the same strongest
    response, and the responses around the second are those around the first moved by (7, 5): what the
    kernel picks up in one place it picks up in every other. The output map itself moves with the
    pattern (equivariance); it does not stay unchanged."""
    conv = nn.Conv2d(3, 4, kernel_size=3).to(device)
    pattern = torch.randn(3, 3, 5, device=device)
    here, there = torch.zeros(1, 3, 16, 16, device=device), torch.zeros(1, 3, 16, 16, device=device)
    here[0, :, 2:5, 3:8], there[0, :, 9:12, 8:13] = pattern, pattern
    with full_float32(deterministic=True):
        out_here, out_there = conv(here).detach(), conv(there).detach()

    strongest_here, strongest_there = out_here.flatten(2).max(dim=2).values, out_there.flatten(2).max(dim=2).values
    change = (out_there - out_here).abs().max().item()
    evidence.record(strongest_response=strongest_here.flatten().tolist(), max_change_of_the_map=change)

    assert_close(strongest_there, strongest_here, rtol=1e-5, atol=1e-5)
    # the response around the pattern, moved by (7, 5): out_there[r + 7, c + 5] == out_here[r, c]
    assert_close(out_there[..., 7:, 5:], out_here[..., :-7, :-5], rtol=1e-5, atol=1e-5)
    assert change > 0.1, f"expected the output map to move with the pattern, max change {change}"


@pytest.mark.claim("ch08.convolution-needs-far-fewer-parameters-than-linear")
def test_conv2d_3_16_3_has_448_parameters_against_linears_1573376(device, evidence):
    """p.194: Conv2d(3, 16, 3) has 16*3*3*3 + 16 = 448 parameters and takes 32x32 and 64x64 images
    alike; chapter 7's Linear(3072, 512) over the flattened 32x32 image has 1,573,376, takes only 3072
    inputs, and would need 6,291,968 for a 64x64 image."""
    conv = nn.Conv2d(3, 16, kernel_size=3).to(device)
    linear = fc_small()[0].to(device)
    linear_64 = nn.Linear(3 * 64 * 64, 512).to(device)
    counts = {"conv": n_parameters(conv), "linear_32x32": n_parameters(linear), "linear_64x64": n_parameters(linear_64)}
    evidence.record(**counts)

    assert counts == {"conv": 448, "linear_32x32": 1_573_376, "linear_64x64": 6_291_968}, f"counted {counts}"
    shapes = [tuple(conv(torch.randn(1, 3, side, side, device=device)).shape) for side in (32, 64)]
    assert shapes == [(1, 16, 30, 30), (1, 16, 62, 62)], f"expected 30x30 and 62x62 outputs, measured {shapes}"
    with pytest.raises(RuntimeError):
        linear(torch.randn(1, 3 * 64 * 64, device=device))
