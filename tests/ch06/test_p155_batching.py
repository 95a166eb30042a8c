"""Chapter 6, page 155: modules expect a batch dimension; batch statistics tie samples together."""
import pytest
import torch
import torch.nn as nn
from claims.compat import assert_close

from claims import torch_at_least
from claims.book.models import thermometer_seq

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
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        model(t_u)  # [11] is read as one sample with 11 features
    batch_out = model(t_u.unsqueeze(1))
    assert batch_out.shape == (11, 1)
    one = model(t_u[3].reshape(1).unsqueeze(0))  # one reading -> [1] -> [1, 1]
    assert one.shape == (1, 1)
    assert_close(one[0], batch_out[3], rtol=1e-6, atol=1e-6)


@pytest.mark.claim(BATCH_DIM)
def test_conv2d_without_a_batch_dimension(device, evidence):
    """p.155, amended: the book adds the batch dimension with unsqueeze(0). Since PyTorch 1.11 Conv2d
    also takes an unbatched [C, H, W] image (pytorch/pytorch#70506) and returns what unsqueeze(0) then
    [0] gives; before 1.11 it raised for 3-D input."""
    conv = nn.Conv2d(3, 16, kernel_size=3).to(device)
    img = torch.randn(3, 32, 32, device=device)
    batched = conv(img.unsqueeze(0))
    assert batched.shape == (1, 16, 30, 30)
    if torch_at_least("1.11"):
        unbatched = conv(img)
        evidence.record(unbatched_shape=list(unbatched.shape))
        assert unbatched.shape == (16, 30, 30), f"expected [16, 30, 30], measured {list(unbatched.shape)}"
        # cuda: cuDNN may pick a different algorithm for the two shapes; 1e-5 covers the reordering
        assert_close(unbatched, batched[0], rtol=1e-5, atol=1e-5)
    else:  # the book's PyTorch: 4-D input only
        with pytest.raises(RuntimeError, match="4-dimensional"):
            conv(img)


@pytest.mark.claim(BATCH_STATS)
def test_batchnorm_output_depends_on_batch_mates_in_training(device, evidence):
    """p.155: BatchNorm1d in training mode normalizes each feature by the batch's own mean and
    variance, so the same sample comes out differently in two different batches; in eval mode (running
    statistics) it comes out the same."""
    bn = nn.BatchNorm1d(4).to(device)
    sample = torch.randn(1, 4, device=device)
    mates_a = torch.randn(7, 4, device=device)
    mates_b = torch.randn(7, 4, device=device) * 3 + 2
    batch_a, batch_b = torch.cat([sample, mates_a]), torch.cat([sample, mates_b])

    out_a, out_b = bn(batch_a)[0], bn(batch_b)[0]
    by_hand = (sample[0] - batch_a.mean(0)) / torch.sqrt(batch_a.var(0, unbiased=False) + bn.eps)
    assert_close(out_a, by_hand, rtol=1e-4, atol=1e-5)
    gap = (out_a - out_b).abs().max().item()
    evidence.record(train_mode_gap=gap)
    assert gap > 0.1, f"the sample's output should depend on its batch-mates in train mode; max gap {gap}"

    bn.eval()
    assert_close(bn(batch_a)[0], bn(batch_b)[0], rtol=0, atol=0)
