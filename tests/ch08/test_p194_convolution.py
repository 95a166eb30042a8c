"""Chapter 8, page 194: why convolutions: local, translation equivariant, few parameters."""
import pytest
import torch
import torch.nn as nn
from hypothesis import given
from hypothesis import strategies as st
from claims.compat import assert_close

from claims.book.models import fc_small, n_parameters


@pytest.mark.claim("ch08.convolution-is-local")
@given(kernel=st.sampled_from([1, 3, 5]), row=st.integers(0, 7), col=st.integers(0, 7))
def test_an_output_pixel_depends_only_on_the_pixels_under_the_kernel(device, kernel, row, col):
    """p.194: output pixel (row, col) of a k x k convolution has a nonzero gradient with respect to
    exactly the k x k input pixels under the kernel, in every input channel, and zero elsewhere."""
    conv = nn.Conv2d(3, 4, kernel_size=kernel).to(device)
    x = torch.randn(1, 3, 8 + kernel - 1, 8 + kernel - 1, device=device, requires_grad=True)
    conv(x)[0, :, row, col].sum().backward()

    depends = x.grad[0] != 0
    expected = torch.zeros_like(depends)
    expected[:, row:row + kernel, col:col + kernel] = True
    assert torch.equal(depends, expected), (
        f"expected the {kernel}x{kernel} window at ({row}, {col}) in all 3 channels, "
        f"measured nonzero gradient at {depends.nonzero().tolist()}")


@pytest.mark.claim("ch08.convolution-is-translation-equivariant")
@given(dy=st.integers(-4, 4), dx=st.integers(-4, 4), dtype=st.sampled_from([torch.float32, torch.float64]))
def test_shifting_the_input_shifts_the_output(device, dy, dx, dtype):
    """p.194: the same kernel slides over the whole image, so conv(shift(x)) == shift(conv(x)) on every
    output pixel whose window does not touch the border or the wrapped-around part of the shift."""
    conv = nn.Conv2d(3, 4, kernel_size=3).to(device, dtype)
    x = torch.randn(1, 3, 20, 20, device=device, dtype=dtype)
    shifted_then_conv = conv(torch.roll(x, shifts=(dy, dx), dims=(2, 3)))
    conv_then_shifted = torch.roll(conv(x), shifts=(dy, dx), dims=(2, 3))

    inside = (slice(None), slice(None), slice(max(dy, 0), 18 + min(dy, 0)), slice(max(dx, 0), 18 + min(dx, 0)))
    tol = 1e-5 if dtype == torch.float32 else 1e-12  # rounding: the kernel may sum in another order per position
    assert_close(shifted_then_conv[inside], conv_then_shifted[inside], rtol=tol, atol=tol)


@pytest.mark.claim("ch08.convolution-is-translation-equivariant")
def test_with_circular_padding_the_shift_carries_everywhere_but_the_output_is_not_invariant(device, evidence):
    """p.194, precisely: with circular padding (no border) equivariance holds on every pixel, while the
    output itself changes when the input moves: convolution is equivariant, not invariant."""
    conv = nn.Conv2d(3, 4, kernel_size=3, padding=1, padding_mode="circular").to(device)
    x = torch.randn(1, 3, 16, 16, device=device)
    shifted = torch.roll(x, shifts=(3, -5), dims=(2, 3))

    assert_close(conv(shifted), torch.roll(conv(x), shifts=(3, -5), dims=(2, 3)), rtol=1e-5, atol=1e-5)
    change = (conv(shifted) - conv(x)).abs().max().item()
    evidence.record(max_output_change_under_shift=change)
    assert change > 0.1, f"expected the unshifted output to differ from the shifted one, max change {change}"


@pytest.mark.claim("ch08.convolution-needs-far-fewer-parameters-than-linear")
def test_conv2d_3_16_3_has_448_parameters_against_linears_1573376(device, evidence):
    """p.194: Conv2d(3, 16, 3) has 16*3*3*3 + 16 = 448 parameters and takes 32x32 and 64x64 images
    alike; chapter 7's Linear(3072, 512) over the flattened 32x32 image has 1,573,376 and takes only 3072 inputs."""
    conv = nn.Conv2d(3, 16, kernel_size=3).to(device)
    linear = fc_small()[0].to(device)
    evidence.record(conv=n_parameters(conv), linear=n_parameters(linear))

    assert n_parameters(conv) == 448, f"expected 448 conv parameters, counted {n_parameters(conv)}"
    assert n_parameters(linear) == 1_573_376, f"expected 1,573,376 Linear parameters, counted {n_parameters(linear)}"
    assert conv(torch.randn(1, 3, 64, 64, device=device)).shape == (1, 16, 62, 62)
    with pytest.raises(RuntimeError):
        linear(torch.randn(1, 3 * 64 * 64, device=device))
