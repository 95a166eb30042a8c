"""Chapter 7, page 170: view reshapes without copying; the view and its base share storage.

The notes write torch.view; torch has no such function (``hasattr(torch, "view")`` is False on torch 1.4
and 2.14): view is the tensor's method, ``Tensor.view``, as the book calls it (``imgs.view(3, -1)``).
"""

import numpy as np
import pytest
import torch
from hypothesis import given

from claims.compat import assert_close, storage_ptr
from tests.strategies import shape_and_view

CLAIM = "ch07.view-shares-storage-with-its-base"


@pytest.mark.claim(CLAIM)
@given(shapes=shape_and_view())
def test_view_shares_storage_and_writes_through(device, one_cpu_thread, shapes):
    """p.170: a view uses the same storage as its base: same data pointer, and writes go both ways."""
    shape, target = shapes
    base = torch.arange(float(np.prod(shape)), device=device).reshape(shape)
    view = base.view(target)

    assert storage_ptr(view) == storage_ptr(base), "a view uses its base's storage"
    assert view.data_ptr() == base.data_ptr()
    view.view(-1)[-1] = -7.0  # write through the view ...
    assert base.view(-1)[-1].item() == -7.0, "the write through the view must show in the base"
    base.view(-1)[0] = -3.0  # ... and through the base
    assert view.reshape(-1)[0].item() == -3.0, "the write through the base must show in the view"


@pytest.mark.claim(CLAIM)
def test_view_of_non_contiguous_tensor_raises_where_reshape_copies(device):
    """p.170: view never copies, so it refuses a shape whose strides it cannot express (the transposed
    matrix viewed flat); reshape then copies."""
    base = torch.arange(12.0, device=device).view(3, 4)
    transposed = base.t()
    assert not transposed.is_contiguous()
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        transposed.view(12)

    flat = transposed.reshape(12)
    assert storage_ptr(flat) != storage_ptr(base), "reshape of a non-contiguous tensor returns a copy"
    assert_close(flat, torch.tensor([0.0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11], device=device), rtol=0, atol=0)
    flat[0] = 100.0
    assert base[0, 0].item() == 0.0, "the copy does not write through"


@pytest.mark.claim(CLAIM)
def test_view_needs_compatible_strides_not_contiguity(device):
    """p.170: what view needs is strides that can express the new shape, which a contiguous tensor always
    has: torch.arange(24.).view(2, 3, 4).transpose(0, 1) is not contiguous, yet view(3, 2, 2, 2) only splits
    its last dimension, whose 4 values lie side by side, so it is a view of the same storage."""
    assert not hasattr(torch, "view"), "the notes' torch.view: view is Tensor.view"
    base = torch.arange(24.0, device=device).view(2, 3, 4)
    transposed = base.transpose(0, 1)
    assert not transposed.is_contiguous()
    try:
        split = transposed.view(3, 2, 2, 2)
    except RuntimeError as error:
        pytest.fail(f"view(3, 2, 2, 2) of the transposed tensor should be a view, it raised: {error}")
    assert split.data_ptr() == base.data_ptr(), "the view starts where its base's data does"
    assert_close(split, transposed.reshape(3, 2, 2, 2), rtol=0, atol=0)
    split[2, 1, 1, 1] = -1.0  # transposed[2, 1, 3], which is base[1, 2, 3]
    assert base[1, 2, 3].item() == -1.0, "the write through the view must show in the base"


@pytest.mark.claim(CLAIM)
@given(shapes=shape_and_view())
def test_view_agrees_with_numpy_reshape(device, one_cpu_thread, shapes):
    """p.170: on contiguous data, view gives the same elements in the same order as np.reshape."""
    shape, target = shapes
    data = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    viewed = torch.from_numpy(data).to(device).view(target)
    expected = np.reshape(data, target)
    assert viewed.shape == expected.shape
    assert_close(viewed.cpu(), torch.from_numpy(expected), rtol=0, atol=0)
