"""Chapter 8, page 222: batch normalization (nn.BatchNorm2d, as in NetBatchNorm), and why the conv before
it takes bias=False.

Inputs are drawn on the CPU and moved, so every device normalizes the same numbers; float64 statistics are
computed on the CPU. No margin here rests on chance: each follows from the channels' set shifts and scales or
the conv's set biases, but NO_GRADIENT, which bounds float32 rounding and is measured over 50 seeds.
"""

import pytest
import torch
import torch.nn as nn

from claims.compat import assert_close

SCALES, SHIFTS = [0.1, 1.0, 10.0, 100.0], [-5.0, 0.0, 3.0, 50.0]
DIMS = (0, 2, 3)  # batch, height, width: what BatchNorm2d averages over, per channel
BIASES = torch.linspace(-2, 2, 8)  # a conv's 8 biases
# What the experiments do, read when a test runs; a skeptic's fault changes one.
TRAINING = True  # the mode the train-mode claims measure BatchNorm in
BIAS_AFTER_BATCHNORM = False  # the book's order: the conv's bias, then BatchNorm
# The conv bias's largest gradient, as a fraction of the conv weight's, below which it gets none: float32 rounding
# of a sum that cancels exactly. Seeds 0-49 (the sweep below), median and largest: with beta 1.6e-5 and 6.2e-5
# (torch 2.14.1; 1.7e-5 and 4.6e-5 on 1.4.0), affine=False 4.8e-5 and 1.4e-4 (3.5e-5 and 9.4e-5 on 1.4.0).
NO_GRADIENT = 1e-3

# Many small ops: one CPU thread (the conftest fixture says why).
pytestmark = pytest.mark.usefixtures("one_cpu_thread")


def channels_with_their_own_scale(seed: int, device, n: int = 16):
    """[n, 4, 8, 8]: channel c has standard deviation SCALES[c] around SHIFTS[c]."""
    x = torch.randn(n, 4, 8, 8, generator=torch.Generator().manual_seed(seed))
    return (x * torch.tensor(SCALES)[None, :, None, None] + torch.tensor(SHIFTS)[None, :, None, None]).to(device)


@pytest.mark.claim("ch08.batchnorm-standardizes-each-channel-over-the-batch")
def test_batchnorm_gives_each_channel_mean_0_variance_1(device, seed, evidence):
    """p.222: in train mode BatchNorm2d(4) turns channels of std 0.1 to 100 around -5 to 50 into channels
    of mean 0 and (biased) variance 1 over (batch, height, width), up to eps: each channel's variance is
    exactly var / (var + eps) of its input's, 0.99900 for the first (var 0.01, eps 1e-5). Then it applies
    weight * . + bias."""
    x = channels_with_their_own_scale(seed, device)
    bn = nn.BatchNorm2d(4).to(device).train(TRAINING)
    y = bn(x)
    in_var = x.cpu().double().var(dim=DIMS, unbiased=False)
    mean, var = y.cpu().double().mean(dim=DIMS), y.cpu().double().var(dim=DIMS, unbiased=False)
    evidence.record(channel_means=mean.tolist(), channel_variances=var.tolist())

    assert_close(mean, torch.zeros_like(mean), rtol=0, atol=1e-5)
    # Per channel, not one loose bound: dividing by the unbiased variance would give 1023/1024 of this.
    assert_close(var, in_var / (in_var + bn.eps), rtol=0, atol=1e-5)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([2.0, 0.5, 1.0, 3.0])), bn.bias.copy_(torch.tensor([1.0, -1.0, 0.0, 4.0]))
    assert_close(bn(x), y * bn.weight[None, :, None, None] + bn.bias[None, :, None, None], rtol=1e-5, atol=1e-5)


def conv_then_batchnorm(conv, bn, x, bias):
    """The book's order: a conv with ``bias`` (per channel), then BatchNorm, ``bn(conv(x) + bias)``; with
    BIAS_AFTER_BATCHNORM the bias comes after instead, ``bn(conv(x)) + bias``."""
    out, b = conv(x), bias[None, :, None, None]
    return bn(out) + b if BIAS_AFTER_BATCHNORM else bn(out + b)


@pytest.mark.claim("ch08.conv-bias-before-batchnorm-is-redundant")
def test_conv_bias_before_batchnorm_changes_nothing_in_train_mode(device, seed, evidence):
    """p.222: the same conv weights with biases -2 to 2 and without give the same BatchNorm output in
    train mode (the batch mean removes the bias). In eval mode the running mean has taken in only 1 - 0.9**k
    of it after k train batches, so the outputs differ by 0.9**k * b / sqrt(running_var + eps) (times the
    BatchNorm weight, 1)."""
    g = torch.Generator().manual_seed(seed)
    conv = nn.Conv2d(3, 8, kernel_size=3, padding=1, bias=False).to(device)
    bias, no_bias = BIASES.to(device), torch.zeros(8, device=device)
    bn_b, bn_nb = nn.BatchNorm2d(8).to(device), nn.BatchNorm2d(8).to(device)
    k = 5
    for _ in range(k):
        x = torch.rand(16, 3, 8, 8, generator=g).to(device)
        with torch.no_grad():
            assert_close(conv_then_batchnorm(conv, bn_b, x, bias), conv_then_batchnorm(conv, bn_nb, x, no_bias))
    bn_b.eval()
    bn_nb.eval()
    x = torch.rand(16, 3, 8, 8, generator=g).to(device)
    with torch.no_grad():
        gap = conv_then_batchnorm(conv, bn_b, x, bias) - conv_then_batchnorm(conv, bn_nb, x, no_bias)
    expected = 0.9**k * bias / torch.sqrt(bn_b.running_var + bn_b.eps)
    evidence.record(eval_gap_per_channel=gap.mean(dim=DIMS).tolist(), bias=bias.tolist())

    assert_close(gap, expected[None, :, None, None].expand_as(gap), rtol=1e-3, atol=1e-4)
    assert gap.abs().max() > 0.1, f"in eval mode the bias survives: gap {gap.abs().max().item()}"


BETA = torch.linspace(0.5, 3.5, 8, dtype=torch.float64)  # BatchNorm's own shift, per channel, with affine=True


def bias_through_batchnorm(seed: int, device, affine: bool) -> dict:
    """The conv's biases -2 to 2 before BatchNorm2d(8, affine=affine) (beta set to BETA with affine): the output
    with them and without, the largest gradient they get against the conv weight's under one loss, and each
    channel's mean after BatchNorm (float64, on the CPU)."""
    torch.manual_seed(seed)
    x = torch.rand(16, 3, 8, 8, generator=torch.Generator().manual_seed(seed)).to(device)
    conv = nn.Conv2d(3, 8, kernel_size=3, padding=1, bias=False).to(device)
    bn = nn.BatchNorm2d(8, affine=affine).to(device).train(TRAINING)
    if affine:
        with torch.no_grad():
            bn.bias.copy_(BETA)
    bias = BIASES.to(device).requires_grad_()
    out = conv_then_batchnorm(conv, bn, x, bias)
    with torch.no_grad():
        without = conv_then_batchnorm(conv, bn, x, torch.zeros(8, device=device))
    (out * torch.linspace(-1, 1, out.numel()).view_as(out).to(device)).sum().backward()  # any loss will do
    return {
        "with_bias": out.detach(),
        "without_bias": without,
        "bias_grad_over_weight_grad": bias.grad.abs().max().item() / conv.weight.grad.abs().max().item(),
        "channel_means": out.detach().cpu().double().mean(dim=DIMS),
    }


@pytest.mark.claim("ch08.conv-bias-before-batchnorm-is-redundant")
@pytest.mark.parametrize("affine", [True, False], ids=["with-beta", "affine-false"])
def test_the_batch_mean_cancels_the_conv_bias_and_beta_is_the_shift_kept(device, seed, affine, evidence):
    """p.222: in train mode BatchNorm's subtraction of the batch mean cancels the conv's biases -2 to 2,
    with affine=True or False alike: the output is the same with them and without, and their gradient is
    0 up to rounding (below 1e-3 of the conv weight's; seeds 0-49: at most 1.4e-4). The bias the layer
    keeps is BatchNorm's own shift, beta: each channel's mean after BatchNorm is beta (here 0.5 to 3.5)
    with affine=True, and 0 with affine=False, whatever the conv bias."""
    run = bias_through_batchnorm(seed, device, affine)
    shift = BETA if affine else torch.zeros_like(BETA)  # affine=False: no beta, no shift
    evidence.record(
        channel_means=run["channel_means"].tolist(), bias_grad_over_weight_grad=run["bias_grad_over_weight_grad"]
    )

    assert_close(run["with_bias"], run["without_bias"], rtol=1e-4, atol=1e-5)
    assert run["bias_grad_over_weight_grad"] < NO_GRADIENT, (
        f"expected no gradient for the conv bias: {run['bias_grad_over_weight_grad']} of the conv weight's"
    )
    assert_close(run["channel_means"], shift, rtol=0, atol=1e-5)


@pytest.mark.sweep
def test_sweep_the_conv_bias_gradient_through_batchnorm(device):
    """NO_GRADIENT's margin: the conv bias's largest gradient over the conv weight's, seeds 0-49."""
    ranges = {}
    for affine in (True, False):
        ratios = sorted(
            bias_through_batchnorm(seed, device, affine)["bias_grad_over_weight_grad"] for seed in range(50)
        )
        ranges[f"affine={affine}"] = {"min": ratios[0], "median": ratios[25], "max": ratios[-1]}
    print(ranges)
    assert all(r["max"] < NO_GRADIENT / 3 for r in ranges.values()), ranges


@pytest.mark.claim("ch08.batchnorm-running-stats-update-in-train-and-serve-in-eval")
def test_running_statistics_update_in_train_and_are_used_in_eval(device, seed, evidence):
    """p.222-223: a train-mode forward moves running_mean from 0 to 0.1 * batch mean and running_var from
    1 to 0.9 + 0.1 * unbiased batch variance; an eval-mode forward leaves them alone and normalizes with
    them, (x - running_mean) / sqrt(running_var + eps), not with the batch's own statistics (the first
    channel's eval-mode mean is then about -5 * 0.9 / sqrt(0.901) = -4.7, not 0)."""
    x = channels_with_their_own_scale(seed, device)
    bn = nn.BatchNorm2d(4, affine=False).to(device).train()
    bn(x)
    assert_close(bn.running_mean, 0.1 * x.mean(dim=DIMS), rtol=1e-4, atol=1e-5)
    assert_close(bn.running_var, 0.9 + 0.1 * x.var(dim=DIMS, unbiased=True), rtol=1e-4, atol=1e-5)
    saved = bn.running_mean.clone(), bn.running_var.clone()
    y = bn.eval()(x)
    evidence.record(running_mean=saved[0].tolist(), running_var=saved[1].tolist())

    assert_close((bn.running_mean, bn.running_var), saved, rtol=0, atol=0)
    expected = (x - saved[0][None, :, None, None]) / torch.sqrt(saved[1][None, :, None, None] + bn.eps)
    assert_close(y, expected, rtol=1e-5, atol=1e-5)
    assert y.mean(dim=DIMS).abs().max() > 1, "eval mode does not re-centre on the batch"
