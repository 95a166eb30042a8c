"""Chapter 8, page 221: dropout (nn.Dropout, and nn.Dropout2d as in NetDropout)."""
import pytest
import torch
import torch.nn as nn
from claims.compat import assert_close

from claims.book.models import NetDropout

N = 250_000  # elements; the zeroed fraction's standard deviation is sqrt(p(1-p)/N) <= 0.001


# Many small ops: one CPU thread (the conftest fixture says why).
pytestmark = pytest.mark.usefixtures("one_cpu_thread")


@pytest.mark.claim("ch08.dropout-zeros-a-fraction-p-and-rescales-survivors")
@pytest.mark.parametrize("p", [0.2, 0.4, 0.7])
def test_dropout_zeros_about_p_and_scales_survivors(device, p, evidence):
    """p.221: in train mode Dropout(p) zeros a fraction p of 250,000 ones (within 0.006, six standard
    deviations), sets the others to exactly 1 / (1 - p), and so keeps the mean at 1 (within 0.015, five
    standard deviations at p=0.7)."""
    x = torch.ones(N, device=device)
    y = nn.Dropout(p).train()(x)
    zeroed = (y == 0).double().mean().item()
    survivors = y[y != 0]
    evidence.record(zeroed_fraction=zeroed, mean=y.mean().item())

    assert abs(zeroed - p) < 0.006, f"expected a fraction {p} zeroed, measured {zeroed}"
    assert_close(survivors, torch.full_like(survivors, 1 / (1 - p)), rtol=1e-6, atol=0)
    assert abs(y.mean().item() - 1) < 0.015, f"expected the mean kept at 1, measured {y.mean().item()}"


@pytest.mark.claim("ch08.dropout2d-zeros-whole-channels")
def test_dropout2d_zeros_whole_channels(device, evidence):
    """p.221: NetDropout's Dropout2d(p=0.4) on [64, 32, 8, 8] positive activations zeros whole channels
    (every pixel of a channel or none), about 40% of the 2048 channels (within 0.05, 4.6 standard
    deviations), and scales the rest by 1 / 0.6."""
    x = torch.rand(64, 32, 8, 8, device=device) + 0.1
    drop = NetDropout().conv1_dropout.train()
    y = drop(x)
    zero_pixels = (y == 0).flatten(2).double().mean(-1)  # per channel: fraction of its pixels zeroed
    dropped = zero_pixels == 1
    evidence.record(dropped_channel_fraction=dropped.double().mean().item(), p=drop.p)

    assert ((zero_pixels == 0) | dropped).all(), "expected each channel all zero or untouched"
    assert abs(dropped.double().mean().item() - 0.4) < 0.05, f"dropped {dropped.double().mean().item()}"
    kept = ~dropped
    assert_close(y[kept], x[kept] / 0.6, rtol=1e-6, atol=0)


@pytest.mark.claim("ch08.dropout-is-the-identity-in-eval-mode")
@pytest.mark.parametrize("layer", [nn.Dropout(0.4), nn.Dropout2d(0.4)], ids=["Dropout", "Dropout2d"])
def test_dropout_is_identity_in_eval_mode(device, layer):
    """p.221/223: in eval mode dropout returns its input unchanged (no zeros, no 1 / (1 - p))."""
    x = torch.rand(8, 16, 4, 4, device=device) + 0.1
    assert_close(layer.eval()(x), x, rtol=0, atol=0)
    assert (layer.train()(x) == 0).any(), "and in train mode it does zero something"
