"""claims.compat's assert_close for torch before 1.9 agrees with torch.testing.assert_close where both exist."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from claims.compat import _assert_close_fallback, storage_ptr

torch_assert_close = (
    pytest.importorskip("torch.testing").assert_close if hasattr(torch.testing, "assert_close") else None
)
pytestmark = pytest.mark.skipif(torch_assert_close is None, reason="this torch has no assert_close to agree with")

finite = st.floats(-1e6, 1e6, allow_nan=False, width=32)


def outcome(check, *args, **kwargs) -> bool:
    try:
        check(*args, **kwargs)
    except AssertionError:
        return False
    return True


@given(
    st.lists(finite, min_size=1, max_size=6),
    st.lists(finite, min_size=1, max_size=6),
    st.sampled_from([(0.0, 0.0), (1e-5, 1e-8), (1e-3, 1e-3), (None, None)]),
)
def test_the_fallback_passes_and_fails_where_torch_does(a, b, tolerances):
    rtol, atol = tolerances
    x = torch.tensor(a)
    y = torch.tensor((b * len(a))[: len(a)])
    y_close = x + x.abs() * 1e-6
    for other in (y, y_close, x.clone()):
        assert outcome(_assert_close_fallback, x, other, rtol=rtol, atol=atol) == outcome(
            torch_assert_close, x, other, rtol=rtol, atol=atol
        )


@pytest.mark.parametrize(
    "actual, expected, kwargs, same",
    [
        (torch.tensor([float("nan")]), torch.tensor([float("nan")]), {}, False),
        (torch.tensor([float("nan")]), torch.tensor([float("nan")]), {"equal_nan": True}, True),
        (torch.tensor([float("inf"), 1.0]), torch.tensor([float("inf"), 1.0]), {}, True),
        (torch.tensor([1.0]), torch.tensor([1.0], dtype=torch.float64), {}, False),
        (torch.zeros(2, 3), torch.zeros(3, 2), {}, False),
        (2.927646, 2.927647, {"rtol": 1e-5, "atol": 0}, True),
        ([torch.ones(2), 3.0], [torch.ones(2), 3.0], {}, True),
        ({"w": torch.ones(1)}, {"w": torch.zeros(1)}, {}, False),
    ],
)
def test_the_fallback_handles_what_the_tests_pass_it(actual, expected, kwargs, same):
    assert outcome(_assert_close_fallback, actual, expected, **kwargs) is same
    assert outcome(torch_assert_close, actual, expected, **kwargs) is same


def test_storage_ptr_is_shared_by_views_not_copies():
    base = torch.arange(6.0)
    assert storage_ptr(base.view(2, 3)) == storage_ptr(base) != storage_ptr(base.clone())
