"""Chapter 8, page 228: weight initialization, and the book's ResBlock init.

Weights and inputs are drawn on the CPU (from the test's seed) and moved, so every device multiplies the
same numbers, in full float32 (TF32 on CUDA would round the 50 products differently).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

from claims.book.models import ResBlock
from claims.compat import full_float32

DEPTH, WIDTH = 50, 256
N_INPUTS = 128  # standard-normal inputs fed through the stack


# Many small ops: one CPU thread (the conftest fixture says why).
pytestmark = pytest.mark.usefixtures("one_cpu_thread")


def mean_squares(gain: float, seed: int, device) -> dict:
    """Through DEPTH Linear(256, 256) + ReLU layers (no bias), each weight drawn by kaiming_normal_(relu)
    and then multiplied by `gain`, on N_INPUTS standard-normal inputs: the mean square at each layer of the
    pre-activation z = W h (the layer's output before the ReLU, the quantity He et al. 2015 derive the init
    to keep: Var[z] = fan_in Var[w] E[h^2] with E[h^2] = Var[z_prev] / 2) and of the activation relu(z)."""
    torch.manual_seed(seed)  # kaiming_normal_ draws from the global CPU generator
    h = torch.randn(N_INPUTS, WIDTH).to(device)
    pre, post = [], []
    for _ in range(DEPTH):
        w = torch.empty(WIDTH, WIDTH)
        nn.init.kaiming_normal_(w, nonlinearity="relu")
        with full_float32():
            z = h @ (gain * w.to(device)).t()
        h = torch.relu(z)
        pre.append(z.pow(2).mean().item())
        post.append(h.pow(2).mean().item())
    return {"pre": pre, "post": post}


def per_layer(scale: list) -> float:
    """The geometric mean factor per layer from the first layer to the last."""
    return (scale[-1] / scale[0]) ** (1 / (DEPTH - 1))


def kaiming_experiment(seed: int, device) -> dict:
    """At kaiming's std: the last layer's mean square over the first's, pre- and post-activation, its factor
    per layer (geometric mean) and the smallest and largest single layer's, and the activation's share of the
    pre-activation's at each layer; at half and twice the std: the pre-activation's factor per layer."""
    kaiming = mean_squares(1.0, seed, device)
    # (a layer whose every pre-activation is 0, as a stack a few units wide can reach, has no share: 0)
    share = [post / pre if pre > 0 else 0.0 for pre, post in zip(kaiming["pre"], kaiming["post"])]
    steps = [after / before if before > 0 else 0.0 for before, after in zip(kaiming["pre"], kaiming["pre"][1:])]
    return {
        "pre_kept": kaiming["pre"][-1] / kaiming["pre"][0],  # the first layer's is never 0: h is the input
        "post_kept": kaiming["post"][-1] / kaiming["post"][0],
        "pre_per_layer": per_layer(kaiming["pre"]),
        "pre_single_layers": (min(steps), max(steps)),
        "post_share": (min(share), max(share)),
        "half_std_per_layer": per_layer(mean_squares(0.5, seed, device)["pre"]),
        "twice_std_per_layer": per_layer(mean_squares(2.0, seed, device)["pre"]),
    }


# Margins; beside each, its range over seeds 0-49 (the sweep below), the same on torch 2.14.1 and 1.4.0, CPU
KEPT = 100  # last layer's mean square over the first's within 1/KEPT and KEPT: 0.101-4.93 (pre), 0.095-5.09 (post)
# kaiming's pre-activation factor per layer, the geometric mean over the 49 layer-to-layer steps, within 7% of 1:
# 0.954-1.03 (KEPT alone allows 0.910-1.098); single layers change it by 0.588-1.49
PER_LAYER = 0.07
# The activation's mean square over the pre-activation's at each layer: ReLU keeps half on average, 0.317-0.657 at
# single layers (128 inputs x 256 units)
SHARE = (0.25, 0.75)
FACTOR = 0.15  # half and twice the std, per layer within 15% of 1/4 and 4: 0.239-0.258 and 3.82-4.13


@pytest.mark.claim("ch08.kaiming-init-keeps-activation-scale-in-deep-relu-stacks")
def test_kaiming_init_keeps_the_scale_smaller_shrinks_larger_explodes(device, seed, evidence):
    """p.228: through 50 ReLU layers kaiming init keeps the mean square of each layer's pre-activation
    (W h, before the ReLU: what He et al. derive it to keep) roughly constant, within KEPT from the first
    layer to the last and on average (the geometric mean of the 49 steps) within 7% per layer, though single
    layers change it by 0.59-1.5 times, and with it the activation's (after the ReLU: about half
    the pre-activation's at every layer); half its std shrinks the pre-activations by about 4x per layer
    and twice its std grows them by about 4x per layer, 1e30 over the stack."""
    measured = kaiming_experiment(seed, device)
    evidence.record(**measured)

    pre, post = measured["pre_kept"], measured["post_kept"]
    assert 1 / KEPT < pre < KEPT and 1 / KEPT < post < KEPT, f"expected kept scales, last/first: pre {pre}, post {post}"
    assert abs(measured["pre_per_layer"] - 1) < PER_LAYER, (
        f"expected x1 per layer on average, measured {measured['pre_per_layer']}"
    )
    low, high = measured["post_share"]
    assert SHARE[0] < low and high < SHARE[1], f"expected the ReLU to keep about half, measured {low}-{high}"
    half, twice = measured["half_std_per_layer"], measured["twice_std_per_layer"]
    assert abs(half / 0.25 - 1) < FACTOR, f"expected x1/4 per layer at half the std, measured {half}"
    assert abs(twice / 4 - 1) < FACTOR, f"expected x4 per layer at twice the std, measured {twice}"


def resblock_conv_weight_statistics(seed: int) -> dict:
    """A fresh ResBlock(32) (built from the seed, on the host) and its conv weight's mean, std and kurtosis."""
    torch.manual_seed(seed)
    block = ResBlock(32)
    w = block.conv.weight.detach().flatten().double()
    return {
        "block": block,
        "mean": w.mean().item(),
        "std": w.std().item(),
        "kurtosis": (((w - w.mean()) / w.std()) ** 4).mean().item(),
    }


@pytest.mark.claim("ch08.resblock-initialization")
def test_resblock_is_initialised_as_the_book_says(seed, evidence):
    """p.227-228: ResBlock(32)'s conv has no bias and a normal (kurtosis 3, not uniform's 1.8) weight of
    mean 0 and std sqrt(2 / fan_in) = sqrt(2 / 288) = 0.0833; its BatchNorm weight is 0.5 everywhere and
    its bias 0. The 9,216 draws, 50 seeds: |mean| below 0.0027 (the test asks 0.005), std within 1.8% of
    0.0833 (asks 5%), kurtosis 2.86-3.11 (asks 2.7-3.3; PyTorch's default uniform init gives 1.8)."""
    stats = resblock_conv_weight_statistics(seed)
    block, std, kurtosis = stats["block"], stats["std"], stats["kurtosis"]
    evidence.record(conv_weight_mean=stats["mean"], conv_weight_std=std, kurtosis=kurtosis)

    assert block.conv.bias is None, "the conv before BatchNorm has no bias"
    assert abs(stats["mean"]) < 0.005, f"expected mean 0, measured {stats['mean']}"
    assert abs(std / (2 / 288) ** 0.5 - 1) < 0.05, f"expected std 0.0833, measured {std}"
    assert 2.7 < kurtosis < 3.3, f"expected a normal draw (kurtosis 3), measured {kurtosis}"
    assert (block.batch_norm.weight == 0.5).all() and (block.batch_norm.bias == 0).all(), (
        f"expected BatchNorm weight 0.5, bias 0: {block.batch_norm.weight}, {block.batch_norm.bias}"
    )


@pytest.mark.sweep
def test_sweep_initialization_margins(device):
    """The margins above over seeds 0-49."""
    runs = [kaiming_experiment(seed, device) for seed in range(50)]
    stats = [resblock_conv_weight_statistics(seed) for seed in range(50)]
    ranges = {
        name: (min(r[name] for r in runs), max(r[name] for r in runs))
        for name in runs[0]
        if name not in ("post_share", "pre_single_layers")
    }
    for pair in ("post_share", "pre_single_layers"):
        ranges[pair] = (min(r[pair][0] for r in runs), max(r[pair][1] for r in runs))
    ranges["abs_mean"] = (0.0, max(abs(s["mean"]) for s in stats))
    ranges["std_ratio"] = (
        min(s["std"] for s in stats) / (2 / 288) ** 0.5,
        max(s["std"] for s in stats) / (2 / 288) ** 0.5,
    )
    ranges["kurtosis"] = (min(s["kurtosis"] for s in stats), max(s["kurtosis"] for s in stats))
    print({name: f"{lo:.3g}-{hi:.3g}" for name, (lo, hi) in ranges.items()})
    for kept in ("pre_kept", "post_kept"):
        assert 1 / KEPT < ranges[kept][0] and ranges[kept][1] < KEPT, ranges
    assert 1 - PER_LAYER < ranges["pre_per_layer"][0] and ranges["pre_per_layer"][1] < 1 + PER_LAYER, ranges
    assert SHARE[0] < ranges["post_share"][0] and ranges["post_share"][1] < SHARE[1], ranges
    assert all(
        abs(r["half_std_per_layer"] / 0.25 - 1) < FACTOR and abs(r["twice_std_per_layer"] / 4 - 1) < FACTOR
        for r in runs
    )
    assert ranges["abs_mean"][1] < 0.005 and 0.95 < ranges["std_ratio"][0] and ranges["std_ratio"][1] < 1.05, ranges
    assert 2.7 < ranges["kurtosis"][0] and ranges["kurtosis"][1] < 3.3, ranges
