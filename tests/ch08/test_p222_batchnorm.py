"""Chapter 8, page 222: batch normalization (nn.BatchNorm2d, as in NetBatchNorm), and why the conv before
it takes bias=False."""
import pytest
import torch
import torch.nn as nn
from claims.compat import assert_close


SCALES, SHIFTS = [0.1, 1.0, 10.0, 100.0], [-5.0, 0.0, 3.0, 50.0]


# Many small ops: one CPU thread (the conftest fixture says why).
pytestmark = pytest.mark.usefixtures("one_cpu_thread")


def channels_with_their_own_scale(device, n=16):
    """[n, 4, 8, 8]: channel c has standard deviation SCALES[c] around SHIFTS[c]."""
    scale = torch.tensor(SCALES, device=device)[None, :, None, None]
    shift = torch.tensor(SHIFTS, device=device)[None, :, None, None]
    return torch.randn(n, 4, 8, 8, device=device) * scale + shift


@pytest.mark.claim("ch08.batchnorm-standardizes-each-channel-over-the-batch")
def test_batchnorm_gives_each_channel_mean_0_variance_1(device, evidence):
    """p.222: in train mode BatchNorm2d(4) turns channels of std 0.1 to 100 around -5 to 50 into channels
    of mean 0 and variance 1 over (batch, height, width), then applies weight * . + bias."""
    x = channels_with_their_own_scale(device)
    bn = nn.BatchNorm2d(4).to(device).train()
    y = bn(x)
    mean, var = y.mean(dim=(0, 2, 3)), y.var(dim=(0, 2, 3), unbiased=False)
    evidence.record(channel_means=mean.tolist(), channel_variances=var.tolist())

    assert_close(mean, torch.zeros(4, device=device), rtol=0, atol=1e-5)
    assert_close(var, torch.ones(4, device=device), rtol=0, atol=2e-3)  # var / (var + eps), eps = 1e-5
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([2.0, 0.5, 1.0, 3.0])), bn.bias.copy_(torch.tensor([1.0, -1.0, 0.0, 4.0]))
    assert_close(bn(x), y * bn.weight[None, :, None, None] + bn.bias[None, :, None, None], rtol=1e-5, atol=1e-5)


@pytest.mark.claim("ch08.conv-bias-before-batchnorm-is-redundant")
def test_conv_bias_before_batchnorm_changes_nothing_in_train_mode(device, evidence):
    """p.222: the same conv weights with and without a bias give the same BatchNorm output in train mode
    (the batch mean absorbs the bias). In eval mode the running mean has absorbed only 1 - 0.9**k of it
    after k train batches, so the outputs differ by 0.9**k * b / sqrt(running_var + eps)."""
    with_bias = nn.Conv2d(3, 8, kernel_size=3, padding=1, bias=True).to(device)
    no_bias = nn.Conv2d(3, 8, kernel_size=3, padding=1, bias=False).to(device)
    with torch.no_grad():
        no_bias.weight.copy_(with_bias.weight)
        with_bias.bias.copy_(torch.linspace(-2, 2, 8))
    bn_b, bn_nb = nn.BatchNorm2d(8).to(device), nn.BatchNorm2d(8).to(device)
    k = 5
    for _ in range(k):
        x = torch.rand(16, 3, 8, 8, device=device)
        assert_close(bn_b(with_bias(x)), bn_nb(no_bias(x)), rtol=1e-4, atol=1e-5)
    bn_b.eval()
    bn_nb.eval()
    x = torch.rand(16, 3, 8, 8, device=device)
    gap = bn_b(with_bias(x)) - bn_nb(no_bias(x))
    expected = 0.9**k * with_bias.bias / torch.sqrt(bn_b.running_var + bn_b.eps)
    evidence.record(eval_gap_per_channel=gap.mean(dim=(0, 2, 3)).tolist(), bias=with_bias.bias.tolist())

    assert_close(gap, expected[None, :, None, None].detach().expand_as(gap), rtol=1e-3, atol=1e-4)
    assert gap.abs().max() > 0.1, f"in eval mode the bias survives: gap {gap.abs().max().item()}"


@pytest.mark.claim("ch08.batchnorm-running-stats-update-in-train-and-serve-in-eval")
def test_running_statistics_update_in_train_and_are_used_in_eval(device, evidence):
    """p.222-223: a train-mode forward moves running_mean from 0 to 0.1 * batch mean and running_var from
    1 to 0.9 + 0.1 * unbiased batch variance; an eval-mode forward leaves them alone and normalizes with
    them, (x - running_mean) / sqrt(running_var + eps), not with the batch's own statistics."""
    x = channels_with_their_own_scale(device)
    bn = nn.BatchNorm2d(4, affine=False).to(device).train()
    bn(x)
    assert_close(bn.running_mean, 0.1 * x.mean(dim=(0, 2, 3)), rtol=1e-4, atol=1e-5)
    assert_close(bn.running_var, 0.9 + 0.1 * x.var(dim=(0, 2, 3), unbiased=True), rtol=1e-4, atol=1e-5)
    saved = bn.running_mean.clone(), bn.running_var.clone()
    y = bn.eval()(x)
    evidence.record(running_mean=saved[0].tolist(), running_var=saved[1].tolist())

    assert_close((bn.running_mean, bn.running_var), saved, rtol=0, atol=0)
    expected = (x - saved[0][None, :, None, None]) / torch.sqrt(saved[1][None, :, None, None] + bn.eps)
    assert_close(y, expected, rtol=1e-5, atol=1e-5)
    assert y.mean(dim=(0, 2, 3)).abs().max() > 1, "eval mode does not re-centre on the batch"
