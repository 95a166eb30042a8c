"""Chapter 8, page 195 (with its errata): what Conv2d computes, and the shapes of Conv2d(3, 16, 3).

The convolutions run in float32 on the test's device (TF32 off); the sums they are checked against are
computed in float64 on the CPU, exact beside float32's rounding.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from claims.compat import assert_close, full_float32
from tests.strategies import rounding_tolerance

FLOAT32 = rounding_tolerance(torch.float32)  # a float32 sum of a few products against the exact one


@pytest.mark.claim("ch08.conv2d-computes-a-cross-correlation")
def test_output_pixel_is_the_errata_unflipped_sum(device, evidence):
    """p.195 errata: for a 3x3 kernel w and the 3x3 patch i under it (1-based i, 0-based w, as printed),
    o11 = i11*w00 + i12*w01 + i13*w02 + i21*w10 + i22*w11 + i23*w12 + i31*w20 + i32*w21 + i33*w22;
    the flipped-kernel sum i11*w22 + ... + i33*w00 is not what Conv2d computes."""
    conv = nn.Conv2d(1, 1, kernel_size=3, bias=False).to(device)
    x = torch.randn(1, 1, 3, 3, device=device)
    with full_float32():
        o11 = conv(x)[0, 0, 0, 0].item()
    w = conv.weight[0, 0].detach().cpu().double()
    patch = x[0, 0].cpu().double()
    i = {(r + 1, c + 1): patch[r, c] for r in range(3) for c in range(3)}

    errata = (
        i[1, 1] * w[0, 0]
        + i[1, 2] * w[0, 1]
        + i[1, 3] * w[0, 2]
        + i[2, 1] * w[1, 0]
        + i[2, 2] * w[1, 1]
        + i[2, 3] * w[1, 2]
        + i[3, 1] * w[2, 0]
        + i[3, 2] * w[2, 1]
        + i[3, 3] * w[2, 2]
    ).item()
    flipped = (patch * w.flip(0, 1)).sum().item()
    evidence.record(conv=o11, errata_sum=errata, flipped_kernel_sum=flipped)

    assert_close(o11, errata, rtol=FLOAT32, atol=FLOAT32)
    assert abs(o11 - flipped) > 1e-3, f"flipped-kernel sum {flipped} should differ from conv {o11}"


@pytest.mark.claim("ch08.conv2d-computes-a-cross-correlation")
def test_every_output_pixel_is_the_unflipped_window_sum(device):
    """p.195: over a whole multichannel image, Conv2d's output at (r, c) is the sum of the kernel times
    the window x[:, r:r+3, c:c+3] as it lies, in every input channel, plus the bias; rotating the
    kernel by 180 degrees (a textbook convolution) gives another image for a non-symmetric kernel."""
    conv = nn.Conv2d(3, 2, kernel_size=3).to(device)
    x = torch.randn(1, 3, 7, 9, device=device)
    with full_float32():
        out = conv(x).detach().cpu().double()
    windows = (
        x.cpu().double().unfold(2, 3, 1).unfold(3, 3, 1)
    )  # [1, 3, 5, 7, 3, 3]: [..., r, c, :, :] = x[..., r:r+3, c:c+3]
    w, b = conv.weight.detach().cpu().double(), conv.bias.detach().cpu().double()[None, :, None, None]

    correlation = torch.einsum("nirckl,oikl->norc", windows, w) + b
    convolution = torch.einsum("nirckl,oikl->norc", windows, w.flip(2, 3)) + b
    assert_close(out, correlation, rtol=FLOAT32, atol=FLOAT32)
    gap = (out - convolution).abs().max().item()
    assert gap > 1e-3, f"the flipped-kernel convolution should differ, max difference {gap}"


@pytest.mark.claim("ch08.conv2d-3-16-3-gives-16-channels-of-30x30")
def test_conv2d_3_16_3_shapes(device):
    """p.195: nn.Conv2d(3, 16, kernel_size=3), printed as Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1)),
    has weight [16, 3, 3, 3] and bias [16]; a [1, 3, 32, 32] image becomes [1, 16, 30, 30] (the shapes
    dlwpt-code's notebook prints, In[11]-In[13])."""
    conv = nn.Conv2d(3, 16, kernel_size=3).to(device)
    img = torch.randn(3, 32, 32, device=device)
    output = conv(img.unsqueeze(0))
    printed = [repr(conv), str(conv.weight.shape), str(conv.bias.shape), str(img.unsqueeze(0).shape)]
    assert printed == [
        "Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1))",
        "torch.Size([16, 3, 3, 3])",
        "torch.Size([16])",
        "torch.Size([1, 3, 32, 32])",
    ], f"expected the notebook's layer and shapes, measured {printed}"
    assert str(output.shape) == "torch.Size([1, 16, 30, 30])", f"expected [1, 16, 30, 30], measured {output.shape}"
