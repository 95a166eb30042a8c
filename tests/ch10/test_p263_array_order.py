"""Chapter 10, page 263: ``sitk.GetArrayFromImage`` gives the voxels in (index, row, column) = (z, y, x) order.

The synthetic "plain" scan is 96 x 96 x 40 voxels by SimpleITK's (x, y, z) ``GetSize()``, with a bright
nodule planted around the voxel index 3, row 12, column 80.
"""

from __future__ import annotations

import pytest
import SimpleITK as sitk

ZYX = "ch10.getarrayfromimage-returns-index-row-column"


@pytest.mark.claim(ZYX)
def test_get_array_from_image_is_index_row_column(luna_tree, evidence):
    """p.263: GetArrayFromImage's array is (z, y, x): its shape is GetSize() reversed, and array[i, r, c] is the
    voxel GetPixel(c, r, i) reads."""
    image = sitk.ReadImage(str(luna_tree.series["plain"].mhd_path(luna_tree.root)))
    array = sitk.GetArrayFromImage(image)
    evidence.record(get_size=list(image.GetSize()), array_shape=list(array.shape))
    assert array.shape == image.GetSize()[::-1] == (40, 96, 96), f"shape {array.shape}, GetSize {image.GetSize()}"
    for i, r, c in [(20, 48, 48), (3, 12, 80), (0, 0, 95), (39, 88, 45)]:
        assert array[i, r, c] == image.GetPixel(c, r, i), f"array[{i}, {r}, {c}] != GetPixel({c}, {r}, {i})"
    assert array[3, 12, 80] > 0, "the nodule planted at irc (3, 12, 80) is bright at array[3, 12, 80]"
