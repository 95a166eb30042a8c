"""Chapter 10, page 263: the book's ``irc2xyz``, voxel (index, row, col) to patient (x, y, z) millimetres.

``xyz = direction @ (reversed(irc) * voxel_size) + origin``, compared with SimpleITK's own
``TransformContinuousIndexToPhysicalPoint`` on geometries drawn by hypothesis (``tests/strategies.py``): the
orthonormal directions of scans, and other invertible ones, which SimpleITK accepts (it refuses only a singular one).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from claims.book.luna.coords import irc2xyz
from claims.experiments.geometry import geometry
from tests.strategies import ORTHONORMAL, ct_indices_irc, ct_origins, direction_matrices, voxel_sizes

IRC2XYZ = "ch10.irc2xyz-agrees-with-simpleitk"


@pytest.mark.claim(IRC2XYZ)
@given(
    irc=ct_indices_irc,
    offset=st.tuples(*[st.floats(-0.5, 0.5)] * 3),
    spacing=voxel_sizes,
    origin=ct_origins,
    direction=direction_matrices(kinds=(*ORTHONORMAL, "invertible")),
)
def test_irc2xyz_matches_transform_index_to_physical_point(irc, offset, spacing, origin, direction):
    """p.263: for any voxel size, origin and direction, orthonormal as scans have (flips, permutations, rotations)
    or any other invertible one (scales and shears), at whole and fractional indices, the book's irc2xyz gives
    SimpleITK's physical point (within 1e-6 mm)."""
    irc = np.array(irc) + np.array(offset)
    expected = geometry(spacing, origin, direction).TransformContinuousIndexToPhysicalPoint(irc[::-1].tolist())
    book = irc2xyz(irc, origin, spacing, np.array(direction).reshape(3, 3))
    np.testing.assert_allclose(book, expected, rtol=0, atol=1e-6)
