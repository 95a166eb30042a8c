"""Hypothesis strategies shared by every chapter's property tests: one place for shapes, dtypes, values."""

from __future__ import annotations

import math

import torch
from hypothesis import strategies as st

float_dtypes = st.sampled_from([torch.float32, torch.float64])


def rounding_tolerance(dtype: torch.dtype) -> float:
    """The absolute and relative tolerance for two ways of computing the same value in ``dtype``: they may
    round and sum in another order (float32 keeps about 7 digits, float64 about 16)."""
    return 1e-5 if dtype == torch.float32 else 1e-12


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


# Chapter 5: broadcasting. Pairs of small shapes (0 to 4 dims, sides 1-3): ones and missing leading
# dims make many pairs broadcastable, a 2 against a 3 makes others clash.
shape_pairs = st.tuples(shapes(0, 4, 3), shapes(0, 4, 3))


def _prime_factors(n: int) -> list[int]:
    out, p = [], 2
    while n > 1:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out


# Chapter 10: CT geometry. Voxel sizes and origins in mm; direction matrices as SimpleITK's row-major
# 9-tuples: axis flips (diagonal, symmetric), signed axis permutations (some not symmetric) and rotations, the
# orthonormal ones scans have, and on request ("invertible") any other invertible matrix SimpleITK accepts.
voxel_sizes = st.tuples(*[st.floats(0.3, 5.0)] * 3)
ct_origins = st.tuples(*[st.floats(-500.0, 500.0)] * 3)
ct_indices_irc = st.tuples(st.integers(0, 60), st.integers(0, 511), st.integers(0, 511))
ORTHONORMAL = ("flips", "permutations", "rotations")


def _rotation(draw) -> list[list[float]]:
    """A rotation matrix from a unit quaternion (w, x, y, z)."""
    q = [draw(st.floats(-1.0, 1.0, allow_subnormal=False)) for _ in range(4)]
    n = math.sqrt(sum(v * v for v in q))
    if n < 0.1:
        q, n = [1.0, 0.0, 0.0, 0.0], 1.0
    w, x, y, z = (v / n for v in q)
    return [
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ]


@st.composite
def direction_matrices(draw, kinds=ORTHONORMAL) -> tuple[float, ...]:
    """A 3x3 direction matrix, row-major: a flip, a signed permutation or a rotation (orthonormal), or, where
    ``kinds`` has "invertible", a rotation times scales and shears (columns of other lengths, not at right angles),
    whose determinant is bounded away from 0 (SimpleITK refuses a singular direction)."""
    kind = draw(st.sampled_from(kinds))
    signs = [draw(st.sampled_from([-1.0, 1.0])) for _ in range(3)]
    if kind == "flips":
        rows = [[signs[i] if j == i else 0.0 for j in range(3)] for i in range(3)]
    elif kind == "permutations":
        perm = draw(st.permutations([0, 1, 2]))
        rows = [[signs[i] if j == perm[i] else 0.0 for j in range(3)] for i in range(3)]
    elif kind == "rotations":
        rows = _rotation(draw)
    else:  # rotation @ (1.5 I + 0.4 E), E in [-1, 1]: diagonally dominant (1.1 or more against at most 0.8), invertible
        e = [[draw(st.floats(-1.0, 1.0, allow_subnormal=False)) for _ in range(3)] for _ in range(3)]
        shear = [[1.5 * (i == j) + 0.4 * e[i][j] for j in range(3)] for i in range(3)]
        r = _rotation(draw)
        rows = [[sum(r[i][k] * shear[k][j] for k in range(3)) for j in range(3)] for i in range(3)]
    # rounded to 12 places: ITK's SVD-based inverse reports failure on subnormal entries such as 1e-308
    return tuple(round(float(v), 12) + 0.0 for row in rows for v in row)


# Chapters 6-7: class scores (logits) for softmax and the classification losses: a few rows of a few
# classes, finite values up to +-50 in magnitude.
@st.composite
def logit_rows(draw, max_rows: int = 4, max_classes: int = 6, bound: float = 50.0) -> list[list[float]]:
    """A [rows, classes] nested list of finite logits (at least 2 classes)."""
    n_classes = draw(st.integers(2, max_classes))
    row = st.lists(st.floats(-bound, bound, allow_nan=False, width=32), min_size=n_classes, max_size=n_classes)
    return draw(st.lists(row, min_size=1, max_size=max_rows))
