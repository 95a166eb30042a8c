"""Chapter 6, page 155: modules expect a batch dimension; batch statistics tie samples together."""

import pytest
import torch
import torch.nn as nn

from claims.book.models import thermometer_seq
from claims.compat import assert_close, full_float32

BATCH_DIM = "ch06.modules-expect-a-leading-batch-dimension"
BATCH_STATS = "ch06.batch-statistics-make-outputs-depend-on-batch-mates"


@pytest.mark.claim(BATCH_DIM)
def test_readings_need_unsqueeze_to_become_a_batch(thermometer, device):
    """p.155: the eleven readings t_u have shape [11]; Linear(1, 13) needs [batch, 1], so the book
    writes t_u.unsqueeze(1) -> [11, 1]; a single reading needs unsqueeze(0) -> [1, 1]. Every row of the
    batch gets exactly the output it gets alone."""
    model = thermometer_seq().to(device)
    t_u = thermometer.t_u
    assert t_u.shape == (11,)
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied|size mismatch"):  # 2.x | 1.4 wording
        model(t_u)  # [11] is read as one sample with 11 features
    batch_out = model(t_u.unsqueeze(1))
    assert batch_out.shape == (11, 1)
    one = model(t_u[3].reshape(1).unsqueeze(0))  # one reading -> [1] -> [1, 1]
    assert one.shape == (1, 1)
    assert_close(one[0], batch_out[3], rtol=1e-6, atol=1e-6)


@pytest.mark.claim(BATCH_DIM)
def test_conv2d_without_a_batch_dimension(device, amended, evidence):
    """p.155, amended: the book adds the batch dimension with unsqueeze(0), and on its PyTorch Conv2d
    refuses a 3-D [C, H, W] image. Since PyTorch 1.11 (pytorch/pytorch#70506) Conv2d also takes the
    unbatched image and returns what unsqueeze(0) then [0] gives."""
    conv = nn.Conv2d(3, 16, kernel_size=3).to(device)
    img = torch.randn(3, 32, 32, device=device)
    with full_float32(deterministic=True):  # the same cuDNN algorithm, no TF32, for the two shapes
        batched = conv(img.unsqueeze(0))
        try:
            unbatched, refusal = conv(img), None
        except RuntimeError as err:
            unbatched, refusal = None, str(err).splitlines()[0]
    assert batched.shape == (1, 16, 30, 30)
    evidence.record(unbatched_shape=None if unbatched is None else list(unbatched.shape), refusal=refusal)
    if amended:
        assert refusal is None, f"since 1.11 Conv2d should take a [3, 32, 32] image, it raised: {refusal}"
        assert unbatched.shape == (16, 30, 30), f"expected [16, 30, 30], measured {list(unbatched.shape)}"
        assert_close(unbatched, batched[0], rtol=1e-6, atol=1e-6)
    else:  # the book's PyTorch: 4-D input only
        assert refusal is not None and "4-dimensional" in refusal, (
            f"before 1.11 Conv2d should refuse a [3, 32, 32] image, it returned {unbatched}"
        )


@pytest.mark.claim(BATCH_STATS)
def test_batchnorm_output_depends_on_batch_mates_in_training(device, evidence):
    """p.155: BatchNorm1d in training mode normalizes each feature by the batch's own mean and
    variance, so the same sample comes out differently in two batches: beside seven rows of 0 it is
    above its batch's mean, beside seven rows of 10 below it. In eval mode (running statistics) it
    comes out the same in both."""
    bn = nn.BatchNorm1d(4).to(device)
    sample = torch.tensor([[1.0, 2.0, 0.5, 3.0]], device=device)
    batch_a = torch.cat([sample, torch.zeros(7, 4, device=device)])
    batch_b = torch.cat([sample, torch.full((7, 4), 10.0, device=device)])

    out_a, out_b = bn(batch_a)[0], bn(batch_b)[0]
    for batch, out in ((batch_a, out_a), (batch_b, out_b)):
        by_hand = (sample[0] - batch.mean(0)) / torch.sqrt(batch.var(0, unbiased=False) + bn.eps)
        assert_close(out, by_hand, rtol=1e-5, atol=1e-5)
    evidence.record(beside_zeros=out_a, beside_tens=out_b)
    assert (out_a > 0).all() and (out_b < 0).all(), f"beside 0s {out_a.tolist()}, beside 10s {out_b.tolist()}"

    bn.eval()
    assert_close(bn(batch_a)[0], bn(batch_b)[0], rtol=0, atol=0)
