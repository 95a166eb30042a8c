"""Chapter 8, page 195 (with its errata): what Conv2d computes, and the shapes of Conv2d(3, 16, 3)."""

import pytest
import torch
import torch.nn as nn

from claims.compat import assert_close


@pytest.mark.claim("ch08.conv2d-computes-a-cross-correlation")
def test_output_pixel_is_the_errata_unflipped_sum(device, evidence):
    """p.195 errata: for a 3x3 kernel w and the 3x3 patch i under it (1-based i, 0-based w, as printed),
    o11 = i11*w00 + i12*w01 + i13*w02 + i21*w10 + i22*w11 + i23*w12 + i31*w20 + i32*w21 + i33*w22;
    the flipped-kernel sum i11*w22 + ... + i33*w00 is not what Conv2d computes."""
    conv = nn.Conv2d(1, 1, kernel_size=3, bias=False).to(device, torch.float64)
    x = torch.randn(1, 1, 3, 3, device=device, dtype=torch.float64)
    w, i = conv.weight[0, 0].detach(), {(r + 1, c + 1): x[0, 0, r, c] for r in range(3) for c in range(3)}
    o11 = conv(x)[0, 0, 0, 0].detach()

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
    )
    flipped = (x[0, 0] * w.flip(0, 1)).sum()
    evidence.record(conv=o11.item(), errata_sum=errata.item(), flipped_kernel_sum=flipped.item())

    assert_close(o11, errata, rtol=1e-12, atol=1e-12)
    assert abs(o11 - flipped) > 1e-3, f"flipped-kernel sum {flipped.item()} should differ from conv {o11.item()}"


@pytest.mark.claim("ch08.conv2d-computes-a-cross-correlation")
def test_every_output_pixel_is_the_unflipped_window_sum(device):
    """p.195: over a whole multichannel image, Conv2d's output at (r, c) is the sum of the kernel times
    the window x[:, r:r+3, c:c+3] as it lies, in every input channel, plus the bias; rotating the
    kernel by 180 degrees (a textbook convolution) gives another image for a non-symmetric kernel."""
    conv = nn.Conv2d(3, 2, kernel_size=3).to(device, torch.float64)
    x = torch.randn(1, 3, 7, 9, device=device, dtype=torch.float64)
    windows = x.unfold(2, 3, 1).unfold(3, 3, 1)  # [1, 3, 5, 7, 3, 3]: windows[..., r, c, :, :] = x[..., r:r+3, c:c+3]
    w = conv.weight.detach()

    correlation = torch.einsum("nirckl,oikl->norc", windows, w) + conv.bias.detach()[None, :, None, None]
    convolution = torch.einsum("nirckl,oikl->norc", windows, w.flip(2, 3)) + conv.bias.detach()[None, :, None, None]
    assert_close(conv(x).detach(), correlation, rtol=1e-12, atol=1e-12)
    gap = (conv(x).detach() - convolution).abs().max().item()
    assert gap > 1e-3, f"the flipped-kernel convolution should differ, max difference {gap}"


@pytest.mark.claim("ch08.conv2d-3-16-3-gives-16-channels-of-30x30")
def test_conv2d_3_16_3_shapes(device):
    """p.195: nn.Conv2d(3, 16, kernel_size=3) has weight [16, 3, 3, 3] and bias [16]; a [1, 3, 32, 32]
    image becomes [1, 16, 30, 30]."""
    conv = nn.Conv2d(3, 16, kernel_size=3).to(device)
    out = conv(torch.randn(1, 3, 32, 32, device=device))
    measured = [tuple(conv.weight.shape), tuple(conv.bias.shape), tuple(out.shape)]
    assert measured == [(16, 3, 3, 3), (16,), (1, 16, 30, 30)], f"expected the book's shapes, measured {measured}"
