"""Chapter 5, page 111: zero-dimensional tensors, size/shape/type, and broadcasting."""

import numpy as np
import pytest
import torch
from hypothesis import given

from claims.book.thermometer import model
from claims.compat import assert_close
from claims.devices import dtype_or_skip
from claims.experiments.printed import assert_printed
from tests.strategies import shape_pairs, shapes

TYPE_NAMES = {torch.float32: "FloatTensor", torch.float64: "DoubleTensor"}


@pytest.mark.claim("ch05.ones-of-empty-shape-is-zero-dim")
def test_ones_of_empty_shape_is_a_zero_dim_scalar(thermometer, device):
    """p.111: w = torch.ones(()) is 0-dimensional: shape torch.Size([]), dim 0, one element, .item()
    gives the Python number; the model w * t_u + b with such scalars keeps t_u's shape [11], and at w=1, b=0
    it is t_u itself, as 1_parameter_estimation.ipynb In[5] printed."""
    w, b = torch.ones((), device=device), torch.zeros((), device=device)
    assert w.shape == torch.Size([]), f"expected torch.Size([]), got {w.shape}"
    assert (w.dim(), w.numel(), w.item(), b.item()) == (0, 1, 1.0, 0.0)
    t_p = model(thermometer.t_u, w, b)
    assert t_p.shape == torch.Size([11])
    printed = ["35.7000", "55.9000", "58.2000", "81.9000", "56.3000", "48.9000", "33.9000", "21.8000", "48.4000"]
    assert_printed(t_p, printed + ["60.4000", "68.4000"], rtol=0, what="t_p at w=1, b=0")


@pytest.mark.claim("ch05.size-equals-shape-and-type-names-dtype")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@given(shape=shapes(0, 4, 4))
def test_size_is_shape_and_type_names_the_dtype(device, dtype, shape):
    """p.111: t.size() == t.shape, t.dtype is the dtype asked for, and t.type() is
    'torch.FloatTensor' for float32 on the CPU ('torch.cuda.FloatTensor' on CUDA)."""
    t = torch.ones(shape, dtype=dtype_or_skip(device, dtype), device=device)
    assert t.size() == t.shape == torch.Size(shape), f"size {t.size()}, shape {t.shape}, asked {shape}"
    assert t.dtype == dtype
    prefix = "torch." if device.type == "cpu" else f"torch.{device.type}."
    assert t.type() == prefix + TYPE_NAMES[dtype], f"expected {prefix + TYPE_NAMES[dtype]}, got {t.type()}"


@pytest.mark.claim("ch05.broadcasting-follows-numpy-rules")
@given(pair=shape_pairs)
def test_broadcast_shape_matches_numpy_or_both_raise(device, pair):
    """p.111 and the broadcasting notes: for any two shapes, x * y has numpy.broadcast_shapes' result,
    and where NumPy refuses the pair PyTorch raises too."""
    a, b = pair
    x, y = torch.ones(a, device=device), torch.ones(b, device=device)
    try:
        expected = np.broadcast_shapes(a, b)
    except ValueError:
        with pytest.raises(RuntimeError, match="must match the size"):
            x * y
        return
    assert (x * y).shape == torch.Size(expected), f"{a} * {b}: expected {expected}, got {(x * y).shape}"
    assert torch.broadcast_tensors(x, y)[0].shape == torch.Size(expected)  # (torch.broadcast_shapes is 1.8+)


@pytest.mark.claim("ch05.broadcasting-follows-numpy-rules")
def test_book_broadcasting_examples(device):
    """p.111, 1_parameter_estimation.ipynb In[7]: x = ones(()), y = ones(3, 1), z = ones(1, 3),
    a = ones(2, 1, 1): the book printed their shapes and x * y [3, 1], y * z [3, 3], y * z * a [2, 3, 3];
    the values are products of the stretched entries."""
    x = torch.ones((), device=device)
    y = torch.tensor([[1.0], [2.0], [3.0]], device=device)
    z = torch.tensor([[10.0, 20.0, 30.0]], device=device)
    a = torch.ones(2, 1, 1, device=device)
    shapes = [str(t.shape) for t in (x, y, z, a, x * y, y * z, y * z * a)]
    printed = ["torch.Size([])", "torch.Size([3, 1])", "torch.Size([1, 3])", "torch.Size([2, 1, 1])"]
    assert shapes == printed + ["torch.Size([3, 1])", "torch.Size([3, 3])", "torch.Size([2, 3, 3])"], shapes
    assert_close(y * z, y.expand(3, 3) * z.expand(3, 3), rtol=0, atol=0)
    assert_close((y * z)[2, 1], torch.tensor(60.0, device=device), rtol=0, atol=0)


@pytest.mark.claim("ch05.in-place-op-cannot-broadcast-its-left-operand")
def test_in_place_op_broadcasts_right_operand_only(device):
    """p.111 and the broadcasting notes: an in-place op may stretch its right operand to its left one's
    shape (y.add_(row) with y [3, 1] and row [1, 1]), but y.mul_(z) with y [3, 1] and z [1, 3] would need
    a [3, 3] result in y and raises (y.add_(z) as well); z * y out of place is fine."""
    y = torch.ones(3, 1, device=device)
    z = torch.full((1, 3), 2.0, device=device)
    row = torch.full((1, 1), 5.0, device=device)
    y.add_(row)  # right operand [1, 1] stretched to [3, 1]
    assert_close(y, torch.full((3, 1), 6.0, device=device), rtol=0, atol=0)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        y.mul_(z)
    assert (z * y).shape == torch.Size([3, 3])
    assert_close(y, torch.full((3, 1), 6.0, device=device), rtol=0, atol=0)  # untouched by the failed op
