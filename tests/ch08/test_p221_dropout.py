"""Chapter 8, page 221: dropout (nn.Dropout, and nn.Dropout2d as in NetDropout).

The masks come from the device's own generator (seeded from the test id; CUDA's stream is not the CPU's),
so each margin is stated in standard deviations of the binomial count, which holds for any stream; the
inputs are drawn on the CPU. 50 seeds on the CPU: the largest deviations were 2.7 standard deviations for
Dropout's zeroed fraction (the test allows 6) and 3.2 for Dropout2d's dropped channels (it allows 4.6).
"""

import pytest
import torch
import torch.nn as nn

from claims.book.models import NetDropout
from claims.compat import assert_close

N = 250_000  # elements; the zeroed fraction's standard deviation is sqrt(p(1-p)/N) <= 0.001
PS = [0.2, 0.4, 0.7]
TRAINING = True  # the mode the train-mode claims measure in (a skeptic's fault measures in eval mode)

# Many small ops: one CPU thread (the conftest fixture says why).
pytestmark = pytest.mark.usefixtures("one_cpu_thread")


def dropout_ones(p: float, device):
    """Dropout(p) in train mode applied to N ones: the output and its zeroed fraction (counted exactly)."""
    y = nn.Dropout(p).train(TRAINING)(torch.ones(N, device=device))
    return y, (y == 0).sum().item() / N


@pytest.mark.claim("ch08.dropout-zeros-a-fraction-p-and-rescales-survivors")
@pytest.mark.parametrize("p", PS)
def test_dropout_zeros_about_p_and_scales_survivors(device, p, evidence):
    """p.221: in train mode Dropout(p) zeros a fraction p of 250,000 ones (within 0.006, six standard
    deviations), sets the others to exactly 1 / (1 - p), and so keeps the mean at 1 (within 0.015, five
    standard deviations at p=0.7)."""
    y, zeroed = dropout_ones(p, device)
    survivors = y[y != 0]
    evidence.record(zeroed_fraction=zeroed, mean=y.mean().item())

    assert abs(zeroed - p) < 0.006, f"expected a fraction {p} zeroed, measured {zeroed}"
    assert_close(survivors, torch.full_like(survivors, 1 / (1 - p)), rtol=1e-6, atol=0)
    assert abs(y.mean().item() - 1) < 0.015, f"expected the mean kept at 1, measured {y.mean().item()}"


def dropout2d_on_activations(seed: int, device):
    """NetDropout's Dropout2d(p=0.4), train mode, on [64, 32, 8, 8] positive activations (drawn on the CPU):
    the input, the output, and per channel the fraction of its pixels that were zeroed."""
    x = (torch.rand(64, 32, 8, 8, generator=torch.Generator().manual_seed(seed)) + 0.1).to(device)
    drop = NetDropout().conv1_dropout.train(TRAINING)
    y = drop(x)
    return x, y, (y == 0).flatten(2).float().mean(-1).cpu(), drop.p  # float32 is exact for 64 pixels


@pytest.mark.claim("ch08.dropout2d-zeros-whole-channels")
def test_dropout2d_zeros_whole_channels(device, seed, evidence):
    """p.221: NetDropout's Dropout2d(p=0.4) zeros whole channels (every pixel of a channel or none), about
    40% of the 2048 channels (within 0.05, 4.6 standard deviations), and scales the rest by 1 / 0.6."""
    x, y, zero_pixels, p = dropout2d_on_activations(seed, device)
    dropped = zero_pixels == 1
    fraction = dropped.sum().item() / dropped.numel()
    evidence.record(dropped_channel_fraction=fraction, p=p)

    assert ((zero_pixels == 0) | dropped).all(), "expected each channel all zero or untouched"
    assert abs(fraction - 0.4) < 0.05, f"expected about 40% of the channels dropped, dropped {fraction}"
    kept = ~dropped.to(y.device)
    assert_close(y[kept], x[kept] / 0.6, rtol=1e-6, atol=0)


@pytest.mark.claim("ch08.dropout-is-the-identity-in-eval-mode")
@pytest.mark.parametrize("layer", [nn.Dropout, nn.Dropout2d])
def test_dropout_is_identity_in_eval_mode(device, layer):
    """p.221/223: in eval mode Dropout(0.4) and Dropout2d(0.4) return their input unchanged (no zeros, no
    1 / (1 - p)); in train mode the same layer zeros some of it."""
    x = (torch.rand(8, 16, 4, 4) + 0.1).to(device)
    drop = layer(0.4)
    assert_close(drop.eval()(x), x, rtol=0, atol=0)
    assert (drop.train()(x) == 0).any(), "and in train mode it does zero something"


@pytest.mark.sweep
def test_sweep_dropout_margins(device):
    """The margins above over 50 seeds, in standard deviations."""
    worst = {p: 0.0 for p in PS}
    worst_2d = 0.0
    for seed in range(50):
        torch.manual_seed(seed)
        for p in PS:
            worst[p] = max(worst[p], abs(dropout_ones(p, device)[1] - p) / (p * (1 - p) / N) ** 0.5)
        dropped = (dropout2d_on_activations(seed, device)[2] == 1).sum().item() / (64 * 32)
        worst_2d = max(worst_2d, abs(dropped - 0.4) / (0.24 / 2048) ** 0.5)
    print({"dropout_sd": worst, "dropout2d_sd": worst_2d})
    assert max(worst.values()) < 5 and worst_2d < 4.6, (worst, worst_2d)
