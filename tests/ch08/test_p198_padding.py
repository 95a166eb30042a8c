"""Chapter 8, page 198: padding keeps the image size; without it every convolution shrinks the image.

All of it at stride 1 and dilation 1, as every convolution of the book is: a stride s divides the size by about
s whatever the padding, and a dilation d needs d (k - 1) / 2 pixels of padding; neither is in the claim."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
from hypothesis import given
from hypothesis import strategies as st

CLAIM = "ch08.padding-keeps-the-image-size"
KERNEL = 3  # the book's 3x3 kernels, padded with padding=1


def output_size(conv: nn.Conv2d, x: torch.Tensor):
    """(height, width) of conv(x), or "refused" where the layer raises (the kernel does not fit)."""
    try:
        return tuple(conv(x).shape[-2:])
    except RuntimeError:
        return "refused"


@pytest.mark.claim(CLAIM)
def test_padding_1_keeps_32x32_and_no_padding_gives_30x30(device):
    """p.198: a 3x3 kernel on a 32x32 image gives 30x30; with padding=1 it gives 32x32, as the book's
    nn.Conv2d(3, 1, kernel_size=3, padding=1) turns [1, 3, 32, 32] into [1, 1, 32, 32] (In[16])."""
    img = torch.randn(3, 32, 32, device=device)
    unpadded = nn.Conv2d(3, 16, kernel_size=KERNEL).to(device)(img.unsqueeze(0))
    output = nn.Conv2d(3, 1, kernel_size=KERNEL, padding=1).to(device)(img.unsqueeze(0))
    assert str(output.shape) == "torch.Size([1, 1, 32, 32])", f"expected 32x32 with padding=1, measured {output.shape}"
    assert unpadded.shape[-2:] == (30, 30), f"expected 30x30 without padding, measured {tuple(unpadded.shape)}"


@pytest.mark.usefixtures("one_cpu_thread")  # many tiny convolutions: thread-pool barriers cost more
@pytest.mark.claim(CLAIM)
@given(n=st.integers(1, 12), kernel=st.sampled_from([1, 3, 5, 7]))
def test_half_the_kernel_as_padding_keeps_any_size(device, n, kernel):
    """p.198, for any odd kernel k: padding=(k - 1) / 2 keeps an n x (n + 1) image n x (n + 1), even one
    smaller than the kernel; without padding each side loses k - 1 pixels (output side n - k + 1), and
    an image smaller than the kernel is refused."""
    x = torch.randn(1, 1, n, n + 1, device=device)
    padded = output_size(nn.Conv2d(1, 1, kernel_size=kernel, padding=(kernel - 1) // 2).to(device), x)
    unpadded = output_size(nn.Conv2d(1, 1, kernel_size=kernel).to(device), x)
    assert padded == (n, n + 1), f"expected {(n, n + 1)} with padding {(kernel - 1) // 2}, measured {padded}"
    expected = (n - kernel + 1, n - kernel + 2) if n >= kernel else "refused"
    assert unpadded == expected, f"expected {expected} without padding, measured {unpadded}"


@pytest.mark.usefixtures("one_cpu_thread")
@pytest.mark.claim(CLAIM)
@given(n=st.integers(1, 12), kernel=st.sampled_from([2, 4, 6]))
def test_an_even_kernel_cannot_keep_the_size_with_the_same_padding_on_each_side(device, n, kernel):
    """p.198, where 'half the kernel' is no whole number: an even kernel k takes k - 1 pixels, an odd
    number, so the same padding p on each side gives n + 2p - k + 1, never n: p = k/2 - 1 gives n - 1 and
    p = k/2 gives n + 1 (an n x (n + 1) image; n - 1 = 0 is refused)."""
    x = torch.randn(1, 1, n, n + 1, device=device)
    less = output_size(nn.Conv2d(1, 1, kernel_size=kernel, padding=kernel // 2 - 1).to(device), x)
    more = output_size(nn.Conv2d(1, 1, kernel_size=kernel, padding=kernel // 2).to(device), x)
    assert less == ((n - 1, n) if n > 1 else "refused"), (
        f"expected {(n - 1, n)} with padding {kernel // 2 - 1}, measured {less}"
    )
    assert more == (n + 1, n + 2), f"expected {(n + 1, n + 2)} with padding {kernel // 2}, measured {more}"


@pytest.mark.claim(CLAIM)
def test_a_skip_connection_adds_a_blocks_input_to_its_output_only_when_padded(device, evidence):
    """p.198, why it matters in big architectures: a block that adds its input to its output, as the skip
    connections of p.227 do (ResBlock: out + x), needs a convolution that keeps the size. With padding=1
    the 3x3 convolution's output adds to the 32x32 input; without padding its 30x30 output cannot."""
    x = torch.randn(1, 4, 32, 32, device=device)
    added = {}
    for padding in (0, 1):
        conv = nn.Conv2d(4, 4, kernel_size=KERNEL, padding=padding).to(device)
        try:
            added[padding] = tuple((torch.relu(conv(x)) + x).shape[-2:])
        except RuntimeError:  # "The size of tensor a (30) must match the size of tensor b (32)"
            added[padding] = "refused"
    evidence.record(unpadded=added[0], padded=added[1])
    assert added == {0: "refused", 1: (32, 32)}, f"expected the addition refused unpadded, 32x32 padded: {added}"


@pytest.mark.claim(CLAIM)
def test_a_deep_stack_keeps_its_size_only_when_padded(device, evidence):
    """p.198, 'important in big architectures', the other half: each unpadded 3x3 convolution takes 2
    pixels, so ten of them shrink 32x32 to 12x12 (fifteen leave 2x2, and a sixteenth is refused: the kernel is
    larger than its input); ten padded ones keep 32x32."""
    x = torch.randn(1, 4, 32, 32, device=device)
    sizes = {}
    for padding in (0, 1):
        stack = nn.Sequential(*[nn.Conv2d(4, 4, kernel_size=KERNEL, padding=padding) for _ in range(10)]).to(device)
        sizes[padding] = output_size(stack, x)
    evidence.record(unpadded=sizes[0], padded=sizes[1])
    assert sizes == {0: (12, 12), 1: (32, 32)}, f"expected 12x12 unpadded, 32x32 padded; measured {sizes}"
