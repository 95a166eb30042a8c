"""Chapter 7, page 170: what the book's per-channel mean prints is a float32 sum of 51,200,000 values.

The book's cell (1_datasets.ipynb In[16]) is ``imgs.view(3, -1).mean(dim=1)`` over the 50,000 training
images: each channel's mean adds 50,000 x 1,024 float32 pixel values on the CPU. On torch 1.4 it printed
tensor([0.4915, 0.4823, 0.4468]); the second edition's run of the same cell on torch 2.x printed
tensor([0.4914, 0.4822, 0.4465]), the exact mean's digits (0.49140, 0.48216, 0.44653): the book's blue mean
is 2.2e-4 to 3.2e-4 above the exact one, red 0.5e-4 to 1.5e-4, green 0.9e-4 to 1.9e-4. Before torch 1.7 the
CPU's float32 sum added the values into 32 running float32 sums (one per float lane of its vectorised loop,
1.6 million values each), which grow far above each value, so every addition rounded; torch 1.7 sums float32 by
cascade summation (pytorch/pytorch#39516), within 1e-6 of the exact mean.

A synthetic channel of the same size with the blue channel's mean and std shows the mechanism on every
machine: a drift in the fourth decimal before 1.7, none from 1.7. It does not give the book's digits: how far
the running sums drift depends on the shape of the histogram of pixel values, not only on its mean and std.
On torch 1.4, over seeds 0-49, they drift by 1.42e-4 to 1.62e-4 on this channel's Beta-shaped histogram and
by 1.06e-4 to 1.25e-4 on a normal one clipped to 0..255 (mean about 0.450); 32 running float32 sums drift by under
2e-5 on a uniform histogram (seeds 0-3). So only the real data set prints 0.4468
(ch07.cifar10-mean-and-std-are-the-books asserts it, given --cifar10-root).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from claims.registry import load_registry

CLAIM = "ch07.float32-mean-of-a-cifar10-channel-drifts-in-the-fourth-decimal"

IMAGES, PIXELS = 50_000, 32 * 32  # one channel of the 50,000 CIFAR-10 training images: 51,200,000 values
DISTINCT = 1_000  # images drawn; the channel holds each of them IMAGES // DISTINCT times (see channel())
BLUE_MEAN, BLUE_STD = 0.4465, 0.2616  # CIFAR-10's blue channel, whose printed mean moved most (0.4468 -> 0.4465)
# How far the float32 mean lands from the exact one. Over seeds 0-49 (the sweep below, one CPU thread): torch
# 1.4.0 and 1.6.0 drift by 1.42e-4 to 1.62e-4 and never print the exact mean's digits; 1.7.0 and 2.14.1 by
# 1e-9 to 6.7e-8, and always print them.
DRIFTS_AT_LEAST = 1e-4  # before torch 1.7
DRIFTS_AT_MOST = 1e-6  # from torch 1.7
SWEEP_SEEDS = range(50)


def channel(rng: np.random.Generator) -> tuple[torch.Tensor, float]:
    """One synthetic channel as the book's view(3, -1) row holds it: [1, 51,200,000] float32 pixel values k/255,
    as ToTensor gives a byte k, and their exact mean. The values are drawn in [0, 1] from the Beta distribution
    with the blue channel's mean and std, then rounded to a byte. It tiles 1,000 drawn images 50 times: drawing
    all 50,000 would take seconds, and the sum's rounding depends on the values' size, not on their order. The
    exact mean is the bytes' integer sum over 255 n."""
    spread = BLUE_MEAN * (1 - BLUE_MEAN) / BLUE_STD**2 - 1  # Beta(a, b) with a / (a + b) = mean, and this std
    drawn = rng.beta(BLUE_MEAN * spread, (1 - BLUE_MEAN) * spread, DISTINCT * PIXELS)
    pixels = np.rint(drawn * 255).astype(np.uint8)
    exact = int(pixels.sum(dtype=np.int64)) / (255 * pixels.size)
    values = (torch.from_numpy(pixels).float() / 255).repeat(IMAGES // DISTINCT)
    return values.view(1, -1), exact


def drift(rng: np.random.Generator) -> dict:
    """The book's mean(dim=1) of one synthetic channel: its printout, the exact mean's, and how far apart."""
    values, exact = channel(rng)
    mean = values.mean(dim=1)
    return {
        "printed": str(mean),
        "exact_printed": str(torch.tensor([exact])),
        "drift": abs(mean.item() - exact),
    }


@pytest.mark.claim(CLAIM)
def test_float32_mean_of_51_million_pixels_drifts_before_torch_1_7(rng, amended, evidence, one_cpu_thread):
    """p.170: the float32 mean of a 51,200,000-value channel with CIFAR-10's blue mean and std, computed on the
    CPU as the book's imgs.view(3, -1).mean(dim=1) computes each row: before torch 1.7 it drifts from the exact
    mean by more than 1e-4 and prints another fourth decimal; from 1.7 (cascade summation) it is within 1e-6
    of the exact mean and prints its digits."""
    measured = drift(rng)
    evidence.record(**measured)
    if amended:
        assert measured["drift"] <= DRIFTS_AT_MOST, f"cascade summation lands within 1e-6 of the exact mean: {measured}"
        assert measured["printed"] == measured["exact_printed"], f"it should print the exact mean: {measured}"
    else:
        assert measured["drift"] >= DRIFTS_AT_LEAST, f"running float32 sums drift by more than 1e-4: {measured}"
        assert measured["printed"] != measured["exact_printed"], f"the drift should show when printed: {measured}"


@pytest.mark.sweep
def test_drift_margins_hold_for_50_seeds(one_cpu_thread):
    """The margin of this torch's side for every seed of SWEEP_SEEDS: prints the drifts' range (run with -s)."""
    cascade = load_registry()[CLAIM].amended_in(torch.__version__)  # this torch's side, as the test's `amended`
    runs = [drift(np.random.default_rng(seed)) for seed in SWEEP_SEEDS]
    drifts = [run["drift"] for run in runs]
    exact = sum(run["printed"] == run["exact_printed"] for run in runs)
    print(f"\ntorch {torch.__version__}: drift {min(drifts):.3g}-{max(drifts):.3g}, {exact}/{len(runs)} print exactly")
    if cascade:
        assert (max(drifts), exact) <= (DRIFTS_AT_MOST, len(runs)) and exact == len(runs), (max(drifts), exact)
    else:
        assert min(drifts) >= DRIFTS_AT_LEAST and exact == 0, (min(drifts), exact)
