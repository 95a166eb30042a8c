"""Chapter 8, page 218: adding width to the network (NetWidth).

Counting parameters runs on the host: these tests take no device.
"""

import pytest
import torch

from claims.book.models import NetWidth, n_parameters

WIDTHS = [2, 4, 8, 16, 32, 64, 128, 256, 512]


def netwidth_count(c: int) -> int:
    """conv1 (27c + c) + conv2 (9c * c//2 + c//2) + fc1 (64 * c//2 * 32 + 32) + fc2 (32 * 2 + 2), c even."""
    return 28 * c + (9 * c + 1) * (c // 2) + 2048 * (c // 2) + 32 + 66


def widened(c: int):
    """The network the width sweep counts: the book's NetWidth with ``c`` channels in its first conv (a
    skeptic's fault swaps in one whose second conv stays at 16 channels)."""
    return NetWidth(n_chans1=c)


@pytest.mark.claim("ch08.netwidth-has-38386-parameters")
def test_netwidth_has_38386_parameters(evidence):
    """p.218: NetWidth(n_chans1=32) has 38,386 parameters (the notebook printed 38386) and still maps a
    [N, 3, 32, 32] batch to two scores per image."""
    model = NetWidth(n_chans1=32)
    per_tensor = [p.numel() for p in model.parameters()]
    evidence.record(per_tensor=per_tensor, total=sum(per_tensor))

    assert n_parameters(model) == 38386, f"expected 38,386 parameters, counted {per_tensor}"
    assert per_tensor == [864, 32, 4608, 16, 32768, 32, 64, 2], f"per tensor: {per_tensor}"
    assert model(torch.rand(4, 3, 32, 32)).shape == (4, 2)


@pytest.mark.claim("ch08.width-grows-capacity")
def test_parameter_count_grows_with_width(evidence):
    """p.218: more channels is more capacity: NetWidth's count grows strictly with the width, about
    doubling with it for small widths (fc1: 2.05x from 8 to 16) and faster for large ones (conv2's c x c/2
    kernels: 3.04x from 256 to 512, the test asks 2.9), and follows the closed form for every even width."""
    counts = [n_parameters(widened(c)) for c in WIDTHS]
    evidence.record(widths=WIDTHS, counts=counts)

    assert all(a < b for a, b in zip(counts, counts[1:])), f"not increasing with width: {counts}"
    assert 1.9 < counts[3] / counts[2] < 2.1, f"small widths grow ~linearly (fc1): {counts[2:4]}"
    assert counts[-1] / counts[-2] > 2.9, f"large widths grow faster, toward quadratically (conv2): {counts[-2:]}"
    assert counts == [netwidth_count(c) for c in WIDTHS], f"measured {counts}"
