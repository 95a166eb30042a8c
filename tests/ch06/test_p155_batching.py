"""Chapter 6, page 155: modules take the batch in the first dimension (Linear: every dimension before the features),
and the book's 1-D data tensors become a batch with unsqueeze(1); a single sample needs no batch dimension for
Linear, one for Conv2d before torch 1.11, and one still for BatchNorm and Upsample; batch statistics
tie samples together."""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn as nn

from claims.book.models import thermometer_seq
from claims.compat import assert_close, full_float32, matmul_shape_error
from claims.experiments.printed import HALF_A_UNIT_OF_4_DECIMALS, printed_tensor

BATCH_DIM = "ch06.modules-read-dimension-zero-as-the-batch"
SINGLE_SAMPLE = "ch06.modules-expect-a-leading-batch-dimension"
ONE_IMAGE = "ch06.conv2d-needs-a-batch-dimension-for-one-image"
BATCH_STATS = "ch06.batch-statistics-make-outputs-depend-on-batch-mates"

# p1ch6/1_neural_networks.ipynb In[2]: the readings made a column, as printed; In[22] printed the validation
# targets t_c_val, the rows of that column at the validation indices of the (unseeded) split printed in In[3]
BOOK_T_U_SHAPE = "torch.Size([11, 1])"
BOOK_VAL_INDICES = "tensor([ 7, 10])"
BOOK_T_C_VAL = "answer tensor([[-4.],\n        [21.]])"
# p1ch6/1_neural_networks.ipynb: nn.Linear(1, 1)'s unseeded weight and bias (In[6], In[7]), and the layer given
# torch.ones(1), a single sample without a batch dimension (In[8]), and torch.ones(10, 1), a batch of ten (In[9]),
# as printed on torch 1.4; beside them the second edition's re-run of the same cells on torch 2.x.
BOOK_LINEAR_MODEL = {
    "1st edition": {
        "weight": "Parameter containing:\ntensor([[-0.0674]], requires_grad=True)",
        "bias": "Parameter containing:\ntensor([0.7488], requires_grad=True)",
        "torch.ones(1)": "tensor([0.6814], grad_fn=<AddBackward0>)",
        "torch.ones(10, 1)": "tensor([[0.6814],\n        [0.6814],\n        [0.6814],\n        [0.6814],\n"
        "        [0.6814],\n        [0.6814],\n        [0.6814],\n        [0.6814],\n        [0.6814],\n"
        "        [0.6814]], grad_fn=<AddmmBackward>)",
    },
    "2nd edition": {
        "weight": "Parameter containing:\ntensor([[0.5747]], requires_grad=True)",
        "bias": "Parameter containing:\ntensor([0.6126], requires_grad=True)",
        "torch.ones(1)": "tensor([1.1873], grad_fn=<AddBackward0>)",
        "torch.ones(10, 1)": "tensor([[1.1873],\n        [1.1873],\n        [1.1873],\n        [1.1873],\n"
        "        [1.1873],\n        [1.1873],\n        [1.1873],\n        [1.1873],\n        [1.1873],\n"
        "        [1.1873]], grad_fn=<AddmmBackward0>)",
    },
}


def normalization(features: int) -> nn.Module:
    """The layer the batch-statistics test normalizes with: the book's BatchNorm (p.222)."""
    return nn.BatchNorm1d(features)


NORMALIZATION = normalization  # read when the test runs (a skeptic's fault replaces it)


@pytest.mark.claim(BATCH_DIM)
def test_the_readings_are_one_sample_until_unsqueeze_1_makes_them_a_batch(thermometer, device):
    """p.155, as the book applies it to its 1-D data tensors: the data go in with the batch first, the
    features last, and unsqueeze makes the readings a batch. Linear reads the last dimension as
    the features and every dimension before it as the batch, so the eleven readings t_u, shape [11], are one
    sample of 11 features to Linear(1, 13), which it refuses. t_u.unsqueeze(1), the book's
    torch.Size([11, 1]), is eleven samples of one feature, and every row of the batch gets exactly the
    output it gets alone (the book's validation targets, t_c's column at rows 7 and 10, are a batch of two,
    printed [[-4.], [21.]] in In[22]); two such columns stacked, [2, 11, 1], are two batches of eleven."""
    model = thermometer_seq().to(device)
    t_u = thermometer.t_u
    assert t_u.shape == (11,)
    # the release's words for a [1 x 11] by [1 x 13] product (compat: "m1: [1 x 11]" on 1.4, "(1x11 and 1x13)" on 2.x)
    refusal = matmul_shape_error((1, 11), (1, 13), device.type)
    if refusal is None:
        pytest.skip(
            "torch 1.9.0's CUDA mm checks no shapes (pytorch/pytorch#61291): "
            "whether it refuses [1 x 11] by [1 x 13] is not known"
        )
    with pytest.raises(RuntimeError, match=re.escape(refusal)):
        model(t_u)  # [11] is read as one sample with 11 features
    column = t_u.unsqueeze(1)
    assert str(column.shape) == BOOK_T_U_SHAPE, f"the book printed {BOOK_T_U_SHAPE}, measured {column.shape}"
    batch_out = model(column)
    assert batch_out.shape == (11, 1)
    alone = torch.cat([model(column[i : i + 1]) for i in range(11)])
    assert_close(alone, batch_out, rtol=1e-6, atol=1e-6)
    t_c_val = thermometer.t_c.unsqueeze(1)[printed_tensor(BOOK_VAL_INDICES).long().to(device)]  # a batch of two
    assert_close(t_c_val.cpu(), printed_tensor(BOOK_T_C_VAL), rtol=0, atol=0)  # the book's answer, shape included
    two_batches = model(torch.stack([column, column.flip(0)]))  # [2, 11, 1]: both leading dimensions are batch
    assert two_batches.shape == (2, 11, 1), f"expected [2, 11, 1], measured {list(two_batches.shape)}"
    assert_close(two_batches, torch.stack([batch_out, batch_out.flip(0)]), rtol=1e-6, atol=1e-6)


@pytest.mark.claim(SINGLE_SAMPLE)
@pytest.mark.parametrize("edition", list(BOOK_LINEAR_MODEL))
def test_linear_takes_a_single_sample_as_it_is(edition, device, evidence):
    """p.155, refuted: read of a single sample, "we need to provide the data where first dimension is the batch
    quantity" is false for nn.Linear, the layer the page is about: it takes a single sample [in_features] as it
    is, on every release, and returns [out_features], the row that sample gets as a batch of one (unsqueeze(0),
    which the notes say we "can" use: optional here) or among other samples. The book's own
    linear_model(torch.ones(1)) printed a shape-[1] output, w + b, and a batch of ten ones ten such rows; with
    the weight and bias it printed, the layer gives those numbers again."""
    book = BOOK_LINEAR_MODEL[edition]
    linear_model = nn.Linear(1, 1).to(device)
    with torch.no_grad():
        linear_model.weight.copy_(printed_tensor(book["weight"]))
        linear_model.bias.copy_(printed_tensor(book["bias"]))
    try:
        single, refusal = linear_model(torch.ones(1, device=device)), None
    except RuntimeError as err:
        single, refusal = None, str(err).splitlines()[0]
    evidence.record(single=single, refusal=refusal)
    assert refusal is None, f"nn.Linear should take a single [1] sample as it is, it raised: {refusal}"
    ten = linear_model(torch.ones(10, 1, device=device))
    # the printed weight and bias are rounded to 4 decimals: w + b is off by up to a unit, plus its own rounding
    tolerance = 3 * HALF_A_UNIT_OF_4_DECIMALS + 1e-6
    for name, out in (("torch.ones(1)", single), ("torch.ones(10, 1)", ten)):
        printed = printed_tensor(book[name])
        assert out.shape == printed.shape, f"linear_model({name}): printed {list(printed.shape)}, got {list(out.shape)}"
        assert_close(out.cpu(), printed, rtol=0, atol=tolerance)

    wide = nn.Linear(3, 2).to(device)  # a single sample that cannot be mistaken for a batch of one-feature rows
    sample, others = torch.randn(3, device=device), torch.randn(4, 3, device=device)
    with full_float32():
        out, as_a_batch_of_one = wide(sample), wide(sample.unsqueeze(0))
        among_others = wide(torch.cat([others[:2], sample.unsqueeze(0), others[2:]]))
    assert out.shape == (2,), f"a single [3] sample should give [2], measured {list(out.shape)}"
    assert_close(as_a_batch_of_one[0], out, rtol=1e-6, atol=1e-6)
    assert_close(among_others[2], out, rtol=1e-6, atol=1e-6)


@pytest.mark.claim(SINGLE_SAMPLE)
def test_batchnorm_and_upsample_still_need_unsqueeze_0(device, evidence):
    """p.155, refuted, the other side: some layers do need a single sample given with unsqueeze(0), on every
    release from 1.4 to the newest. BatchNorm1d refuses a [C] sample and BatchNorm2d a [C, H, W] image;
    nn.Upsample takes a [C, H, W] image but reads it as a batch of C one-dimensional signals, (N, C, L):
    Upsample(scale_factor=2) stretches only its last dimension, [3, 4, 4] -> [3, 4, 8]. Given
    img.unsqueeze(0), it reads it as one image."""
    with pytest.raises(ValueError, match=r"got 1D input"):
        nn.BatchNorm1d(3).to(device).eval()(torch.randn(3, device=device))
    with pytest.raises(ValueError, match=r"got 3D input"):
        nn.BatchNorm2d(3).to(device).eval()(torch.randn(3, 4, 4, device=device))

    img = torch.randn(3, 4, 4, device=device)
    upsample = nn.Upsample(scale_factor=2)
    unbatched, as_one_image = upsample(img), upsample(img.unsqueeze(0))
    evidence.record(upsample=list(unbatched.shape), upsample_unsqueezed=list(as_one_image.shape))
    assert unbatched.shape == (3, 4, 8), f"Upsample should read [3, 4, 4] as (N, C, L): got {list(unbatched.shape)}"
    assert as_one_image.shape == (1, 3, 8, 8), f"unsqueezed, one image: got {list(as_one_image.shape)}"


@pytest.mark.claim(ONE_IMAGE)
def test_conv2d_without_a_batch_dimension(device, amended, evidence):
    """p.155, amended: the book gives Conv2d one image as img.unsqueeze(0) (p1ch8/1_convolution.ipynb In[13]),
    and on its PyTorch Conv2d refuses a 3-D [C, H, W] image. Since PyTorch 1.11 (pytorch/pytorch#70506)
    Conv2d also takes the unbatched image and returns what unsqueeze(0) then [0] gives."""
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
    above its batch's mean, beside seven rows of 10 below it. In eval mode it normalizes by the running
    statistics those two training batches left (not 0 and 1), the same in both batches."""
    norm = NORMALIZATION(4).to(device)
    sample = torch.tensor([[1.0, 2.0, 0.5, 3.0]], device=device)
    batch_a = torch.cat([sample, torch.zeros(7, 4, device=device)])
    batch_b = torch.cat([sample, torch.full((7, 4), 10.0, device=device)])

    out_a, out_b = norm(batch_a)[0], norm(batch_b)[0]
    evidence.record(beside_zeros=out_a, beside_tens=out_b)
    assert (out_a > 0).all() and (out_b < 0).all(), f"beside 0s {out_a.tolist()}, beside 10s {out_b.tolist()}"
    for batch, out in ((batch_a, out_a), (batch_b, out_b)):  # the batch's own mean and (biased) variance
        by_hand = (sample[0] - batch.mean(0)) / torch.sqrt(batch.var(0, unbiased=False) + norm.eps)
        assert_close(out, by_hand * norm.weight + norm.bias, rtol=1e-5, atol=1e-5)

    norm.eval()
    in_a, in_b = norm(batch_a)[0], norm(batch_b)[0]
    evidence.record(eval_beside_zeros=in_a, eval_beside_tens=in_b)
    assert_close(in_a, in_b, rtol=0, atol=0)
    mean, var = norm.running_mean, norm.running_var  # moved from 0 and 1 by the two training batches
    evidence.record(running_mean=mean, running_var=var)
    by_hand = (sample[0] - mean) / torch.sqrt(var + norm.eps) * norm.weight + norm.bias
    assert_close(in_a, by_hand, rtol=1e-5, atol=1e-5)
