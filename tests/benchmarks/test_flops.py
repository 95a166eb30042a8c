"""The FLOP counts the benchmarks report, counted from the layers, against the book's architectures.

Not a benchmark: runs in the default suite. The same counts come out of PyTorch's own counter,
``torch.utils.flop_counter.FlopCounterMode``, for forward and forward + backward (checked when this was
written; its first use takes seconds, too slow for every run).
"""

import pytest

from claims.experiments import throughput

# 2 x multiply-adds per sample, layer by layer (Linear: in x out; Conv2d: in x 3 x 3 x out x H x W).
FORWARD = {
    "fc_deep": 2 * (3072 * 1024 + 1024 * 512 + 512 * 128 + 128 * 2),
    "Net": 2 * (3 * 9 * 16 * 32 * 32 + 16 * 9 * 8 * 16 * 16 + 512 * 32 + 32 * 2),
    "NetResDeep": 2 * (3 * 9 * 32 * 32 * 32 + 10 * 32 * 9 * 32 * 16 * 16 + 2048 * 32 + 32 * 2),
}
FIRST_LAYER = {"fc_deep": 2 * 3072 * 1024, "Net": 2 * 3 * 9 * 16 * 32 * 32, "NetResDeep": 2 * 3 * 9 * 32 * 32 * 32}


@pytest.mark.parametrize("model", list(throughput.MODELS))
def test_layer_flops_count_every_linear_and_conv(model, device):
    """Forward: the sum over the layers. Training step: three times that (forward, weight gradient,
    input gradient), less the first layer's input gradient, which nothing needs. Batch 5 is 5 times batch 1."""
    net = throughput.build(model, device)
    one = throughput.example_batch(model, 1, device)[0]
    assert throughput.layer_flops(net, one) == FORWARD[model]
    assert throughput.layer_flops(net, one, train=True) == 3 * FORWARD[model] - FIRST_LAYER[model]
    assert throughput.layer_flops(net, throughput.example_batch(model, 5, device)[0]) == 5 * FORWARD[model]
