"""Chapter 8, page 203: three ways to downsample: max-pooling, average-pooling, strided convolution."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from claims.compat import assert_close, full_float32


def blocks_2x2(x: torch.Tensor) -> torch.Tensor:
    """[N, C, H, W] -> [N, C, H/2, W/2, 4]: the four pixels of each 2x2 block, by hand."""
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)


@pytest.mark.claim("ch08.maxpool2d-keeps-the-largest-of-each-block")
def test_maxpool2d_keeps_the_largest_pixel_of_each_2x2_block(device):
    """p.203: nn.MaxPool2d(2) takes [1, 3, 32, 32] to [1, 3, 16, 16] (the shape dlwpt-code's notebook
    prints, In[21]), each output the largest of its 2x2 block in the same channel."""
    img = torch.randn(3, 32, 32, device=device)
    output = nn.MaxPool2d(2)(img.unsqueeze(0))
    assert str(output.shape) == "torch.Size([1, 3, 16, 16])", f"expected [1, 3, 16, 16], measured {output.shape}"
    assert_close(output, blocks_2x2(img.unsqueeze(0)).max(dim=-1).values, rtol=0, atol=0)


@pytest.mark.claim("ch08.avgpool2d-keeps-the-mean-of-each-block")
def test_avgpool2d_keeps_the_mean_of_each_2x2_block(device):
    """p.203: nn.AvgPool2d(2) represents each 2x2 block by the mean of its 4 pixels: [1, 3, 32, 32] to
    [1, 3, 16, 16]."""
    x = torch.randn(1, 3, 32, 32, device=device)
    pooled = nn.AvgPool2d(2)(x)
    assert pooled.shape == (1, 3, 16, 16), f"expected [1, 3, 16, 16], measured {list(pooled.shape)}"
    assert_close(pooled, blocks_2x2(x).mean(dim=-1), rtol=1e-6, atol=1e-6)  # 4 float32 terms, summed in any order


@pytest.mark.claim("ch08.strided-convolution-downsamples")
def test_stride_2_convolution_is_the_stride_1_one_at_every_other_pixel(device):
    """p.203: Conv2d(3, 3, 3, padding=1, stride=2) halves 32x32 to 16x16; it is the same filter as the
    stride-1 convolution, evaluated only at every other row and column."""
    strided = nn.Conv2d(3, 3, kernel_size=3, padding=1, stride=2).to(device)
    dense = nn.Conv2d(3, 3, kernel_size=3, padding=1).to(device)
    dense.load_state_dict(strided.state_dict())
    x = torch.randn(1, 3, 32, 32, device=device)

    with full_float32():  # on cuda the two strides may get different algorithms: none of them in TF32
        out, every_other = strided(x), dense(x)[..., ::2, ::2]
    assert out.shape == (1, 3, 16, 16), f"expected [1, 3, 16, 16], measured {list(out.shape)}"
    assert_close(out, every_other, rtol=1e-5, atol=1e-5)  # 27 float32 products, summed in another order


@pytest.mark.claim("ch08.strided-convolution-downsamples")
def test_a_strided_convolution_is_not_a_dilated_one(device):
    """p.203, the reading: "looking at pixels that are further from each other" taken literally describes a
    dilated convolution, whose 3x3 taps lie 2 pixels apart; that does not downsample. With the same weights,
    stride 2 (padding 1) takes 32x32 to 16x16, while dilation 2 (padding 2) keeps 32x32 and, read at every
    other pixel, gives other numbers: a window of 5x5 pixels with holes, not a contiguous 3x3."""
    strided = nn.Conv2d(3, 3, kernel_size=3, padding=1, stride=2).to(device)
    dilated = nn.Conv2d(3, 3, kernel_size=3, padding=2, dilation=2).to(device)
    dilated.load_state_dict(strided.state_dict())
    x = torch.randn(1, 3, 32, 32, device=device)

    with full_float32():
        out, spread = strided(x), dilated(x)
    assert out.shape == (1, 3, 16, 16), f"stride 2: expected [1, 3, 16, 16], measured {list(out.shape)}"
    assert spread.shape == (1, 3, 32, 32), f"dilation 2: expected [1, 3, 32, 32], measured {list(spread.shape)}"
    gap = (spread[..., ::2, ::2] - out).abs().max().item()
    assert gap > 0.1, f"expected the dilated taps to compute other numbers than the strided ones, gap {gap}"
