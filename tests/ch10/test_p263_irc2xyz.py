"""Chapter 10, page 263: the book's ``irc2xyz``, voxel (index, row, col) to patient (x, y, z) millimetres.

``xyz = direction @ (reversed(irc) * voxel_size) + origin``, compared with SimpleITK's own
``TransformIndexToPhysicalPoint`` at whole indices and ``TransformContinuousIndexToPhysicalPoint`` at fractional
ones, on geometries drawn by hypothesis (``tests/strategies.py``): the
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
    or any other invertible one (scales and shears), the book's irc2xyz gives SimpleITK's physical point (within
    1e-6 mm): TransformIndexToPhysicalPoint's at a whole index, TransformContinuousIndexToPhysicalPoint's at one
    moved by a fraction of a voxel (offset)."""
    image, direction_matrix = geometry(spacing, origin, direction), np.array(direction).reshape(3, 3)
    expected = image.TransformIndexToPhysicalPoint([int(v) for v in irc[::-1]])
    np.testing.assert_allclose(irc2xyz(irc, origin, spacing, direction_matrix), expected, rtol=0, atol=1e-6)
    fractional = np.array(irc) + np.array(offset)
    expected = image.TransformContinuousIndexToPhysicalPoint(fractional[::-1].tolist())
    np.testing.assert_allclose(irc2xyz(fractional, origin, spacing, direction_matrix), expected, rtol=0, atol=1e-6)
