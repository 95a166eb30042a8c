"""Hypothesis strategies shared by every chapter's property tests: one place for shapes, dtypes, values."""
from __future__ import annotations

import math

import torch
from hypothesis import strategies as st

float_dtypes = st.sampled_from([torch.float32, torch.float64])


def shapes(min_dims: int = 1, max_dims: int = 4, max_side: int = 5) -> st.SearchStrategy[tuple[int, ...]]:
    """Small tensor shapes, every side at least 1."""
    return st.lists(st.integers(1, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


@st.composite
def shape_and_view(draw, max_dims: int = 4, max_side: int = 5):
    """A shape and another shape with the same number of elements (a valid target of ``view``).

    The target regroups the prime factors of the element count, and may use ``-1`` for one side.
    """
    shape = draw(shapes(1, max_dims, max_side))
    n = math.prod(shape)
    factors = [p for p in _prime_factors(n)]
    n_dims = draw(st.integers(1, 4))
    target = [1] * n_dims
    for p in factors:
        target[draw(st.integers(0, n_dims - 1))] *= p
    if draw(st.booleans()):
        target[draw(st.integers(0, n_dims - 1))] = -1
    return shape, tuple(target)


def _prime_factors(n: int) -> list[int]:
    out, p = [], 2
    while n > 1:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out
