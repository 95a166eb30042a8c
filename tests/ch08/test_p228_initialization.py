"""Chapter 8, page 228: weight initialization, and the book's ResBlock init."""
import pytest
import torch
import torch.nn as nn

from claims.book.models import ResBlock

DEPTH, WIDTH = 30, 256


# Many small ops: one CPU thread (the conftest fixture says why).
pytestmark = pytest.mark.usefixtures("one_cpu_thread")


def preactivation_mean_squares(gain: float, device) -> list[float]:
    """Mean square of W h at each of DEPTH Linear(256, 256) + ReLU layers (no bias), with each weight
    drawn by kaiming_normal_(relu) and then multiplied by `gain`; 512 standard-normal inputs."""
    h = torch.randn(512, WIDTH, device=device)
    out = []
    for _ in range(DEPTH):
        w = torch.empty(WIDTH, WIDTH, device=device)
        nn.init.kaiming_normal_(w, nonlinearity="relu")
        z = h @ (gain * w).T
        out.append(z.pow(2).mean().item())
        h = torch.relu(z)
    return out


@pytest.mark.claim("ch08.kaiming-init-keeps-activation-scale-in-deep-relu-stacks")
def test_kaiming_init_keeps_the_scale_smaller_shrinks_larger_explodes(device, evidence):
    """p.228: through 30 ReLU layers, kaiming init keeps the mean square within 10x of the first layer's
    (seeds 0-5: 0.3-4.0x); half its std shrinks it by ~4x per layer and twice its std grows it by ~4x per
    layer (geometric mean per layer within 15% of 1/4 and 4; seeds 0-5: 0.241-0.250 and 3.76-4.12)."""
    scales = {gain: preactivation_mean_squares(gain, device) for gain in (0.5, 1.0, 2.0)}
    per_layer = {gain: (s[-1] / s[0]) ** (1 / (DEPTH - 1)) for gain, s in scales.items()}
    evidence.record(last_over_first={g: s[-1] / s[0] for g, s in scales.items()}, per_layer_factor=per_layer)

    kaiming = scales[1.0]
    assert 0.1 < kaiming[-1] / kaiming[0] < 10, f"expected a kept scale, measured {kaiming[0]} -> {kaiming[-1]}"
    assert abs(per_layer[0.5] / 0.25 - 1) < 0.15, f"expected x1/4 per layer, measured {per_layer[0.5]}"
    assert abs(per_layer[2.0] / 4 - 1) < 0.15, f"expected x4 per layer, measured {per_layer[2.0]}"


@pytest.mark.claim("ch08.resblock-initialization")
def test_resblock_is_initialised_as_the_book_says(device, evidence):
    """p.227-228: ResBlock(32)'s conv has no bias and a normal (kurtosis 3, not uniform's 1.8) weight of
    mean 0 and std sqrt(2 / fan_in) = sqrt(2 / 288) = 0.0833 (9,216 draws: within 5%); its BatchNorm
    weight is 0.5 everywhere and its bias 0."""
    block = ResBlock(32).to(device)
    w = block.conv.weight.detach().flatten().double()
    std = w.std().item()
    kurtosis = (((w - w.mean()) / w.std()) ** 4).mean().item()
    evidence.record(conv_weight_mean=w.mean().item(), conv_weight_std=std, kurtosis=kurtosis)

    assert block.conv.bias is None, "the conv before BatchNorm has no bias"
    assert abs(w.mean().item()) < 0.005, f"expected mean 0, measured {w.mean().item()}"
    assert abs(std / (2 / 288) ** 0.5 - 1) < 0.05, f"expected std 0.0833, measured {std}"
    assert 2.7 < kurtosis < 3.3, f"expected a normal draw (kurtosis 3), measured {kurtosis}"
    assert (block.batch_norm.weight == 0.5).all() and (block.batch_norm.bias == 0).all(), \
        f"expected BatchNorm weight 0.5, bias 0: {block.batch_norm.weight}, {block.batch_norm.bias}"
