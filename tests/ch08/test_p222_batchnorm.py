"""Chapter 8, page 222: batch normalization (nn.BatchNorm2d, as in NetBatchNorm), and why the conv before
it takes bias=False.

Inputs are drawn on the CPU and moved, so every device normalizes the same numbers; float64 statistics are
computed on the CPU. No margin here rests on chance: each follows from the channels' set shifts and scales or
the conv's set biases.
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


@pytest.mark.claim("ch08.batchnorm-beta-makes-the-conv-bias-redundant")
@pytest.mark.parametrize("affine", [True, False], ids=["with-beta", "affine-false"])
def test_the_batch_mean_not_beta_removes_the_conv_bias(device, seed, affine, evidence):
    """p.222, refuted: it is BatchNorm's subtraction of the batch mean that removes a conv bias, not its
    own bias beta. With affine=False (no beta, no weight) the conv's biases -2 to 2 still change nothing in
    the train-mode output, and their gradient is 0 up to rounding (below 1e-3 of the conv weight's; 50
    seeds: at most 1.5e-5). What beta does is put a shift back: each channel's mean after BatchNorm is beta
    (here 0.5 to 3.5) with affine=True, and 0 without, whatever the conv bias."""
    x = torch.rand(16, 3, 8, 8, generator=torch.Generator().manual_seed(seed)).to(device)
    conv = nn.Conv2d(3, 8, kernel_size=3, padding=1, bias=False).to(device)
    bn = nn.BatchNorm2d(8, affine=affine).to(device).train(TRAINING)
    beta = torch.linspace(0.5, 3.5, 8, dtype=torch.float64, device="cpu")
    if affine:
        with torch.no_grad():
            bn.bias.copy_(beta)
    else:
        beta = torch.zeros_like(beta)  # no beta: no shift
    bias = BIASES.to(device).requires_grad_()
    out = conv_then_batchnorm(conv, bn, x, bias)
    with torch.no_grad():
        without = conv_then_batchnorm(conv, bn, x, torch.zeros(8, device=device))
    (out * torch.linspace(-1, 1, out.numel()).view_as(out).to(device)).sum().backward()  # any loss will do
    bias_grad, weight_grad = bias.grad.abs().max().item(), conv.weight.grad.abs().max().item()
    channel_means = out.detach().cpu().double().mean(dim=DIMS)
    evidence.record(channel_means=channel_means.tolist(), bias_grad_over_weight_grad=bias_grad / weight_grad)

    assert_close(out.detach(), without, rtol=1e-4, atol=1e-5)
    assert bias_grad < 1e-3 * weight_grad, f"expected no gradient for the conv bias: {bias_grad} vs {weight_grad}"
    assert_close(channel_means, beta, rtol=0, atol=1e-5)


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
