"""Chapter 8, page 198: padding keeps the image size; the output-size formula."""
import pytest
import torch
import torch.nn as nn
from hypothesis import given
from hypothesis import strategies as st


@pytest.mark.claim("ch08.padding-keeps-the-image-size")
def test_padding_1_keeps_32x32_and_no_padding_gives_30x30(device):
    """p.198: a 3x3 kernel on a 32x32 image gives 30x30; with padding=1 it gives 32x32."""
    x = torch.randn(1, 3, 32, 32, device=device)
    unpadded = nn.Conv2d(3, 16, kernel_size=3).to(device)(x)
    padded = nn.Conv2d(3, 16, kernel_size=3, padding=1).to(device)(x)
    assert unpadded.shape[-2:] == (30, 30), f"expected 30x30 without padding, measured {tuple(unpadded.shape)}"
    assert padded.shape[-2:] == (32, 32), f"expected 32x32 with padding=1, measured {tuple(padded.shape)}"


@pytest.mark.claim("ch08.padding-keeps-the-image-size")
def test_a_deep_stack_keeps_its_size_only_when_padded(device, evidence):
    """p.198, 'important in big architectures': ten unpadded 3x3 convolutions shrink 32x32 to 12x12;
    ten padded ones keep 32x32."""
    x = torch.randn(1, 4, 32, 32, device=device)
    sizes = {}
    for padding in (0, 1):
        stack = nn.Sequential(*[nn.Conv2d(4, 4, kernel_size=3, padding=padding) for _ in range(10)]).to(device)
        sizes[padding] = tuple(stack(x).shape[-2:])
    evidence.record(unpadded=sizes[0], padded=sizes[1])
    assert sizes == {0: (12, 12), 1: (32, 32)}, f"expected 12x12 unpadded, 32x32 padded; measured {sizes}"


def output_side(n: int, kernel: int, padding: int, stride: int, dilation: int) -> int:
    """The size rule of the Conv2d documentation."""
    return (n + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


@pytest.mark.claim("ch08.conv-output-size-follows-kernel-padding-stride-dilation")
@given(n=st.integers(1, 12), kernel=st.integers(1, 5), padding=st.integers(0, 2), stride=st.integers(1, 3),
       dilation=st.integers(1, 3))
def test_output_size_formula_agrees_with_the_layer(device, n, kernel, padding, stride, dilation):
    """p.198: the output side is floor((n + 2p - d(k - 1) - 1) / s) + 1; the layer refuses an input for
    which that is below 1 (the kernel does not fit even in the padded image)."""
    conv = nn.Conv2d(1, 1, kernel_size=kernel, padding=padding, stride=stride, dilation=dilation).to(device)
    x = torch.randn(1, 1, n, n + 1, device=device)
    expected = tuple(output_side(side, kernel, padding, stride, dilation) for side in (n, n + 1))
    if min(expected) < 1:
        with pytest.raises(RuntimeError):
            conv(x)
    else:
        measured = tuple(conv(x).shape[-2:])
        assert measured == expected, f"formula says {expected}, layer gave {measured}"
