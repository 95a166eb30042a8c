"""Chapter 10, page 263: CT voxels are Hounsfield units, and the book's ``Ct`` clips them to [-1000, 1000].

The synthetic "plain" scan holds lung at about -850 HU, nodules at about +100, -2048 outside the round field
of view and a 1500 HU "bone" bar. The experiment runs on the host (SimpleITK and numpy): no ``device``.
"""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from claims.book.luna.ct import Ct

HU = "ch10.hounsfield-units-clipped-to-plus-minus-1000"


@pytest.mark.claim(HU)
def test_ct_clips_hounsfield_units(luna_tree, evidence):
    """p.263: the scan holds -2048 outside the field of view and 1500 in the "bone" bar; the book's Ct clips to
    [-1000, 1000] and leaves everything in between as it was."""
    series = luna_tree.series["plain"]
    raw = sitk.GetArrayFromImage(sitk.ReadImage(str(series.mhd_path(luna_tree.root))))
    hu = Ct(str(luna_tree.root), series.series_uid).hu_a
    evidence.record(
        raw_range=[int(raw.min()), int(raw.max())],
        clipped_range=[float(hu.min()), float(hu.max())],
        clipped_fraction=round(float(((raw < -1000) | (raw > 1000)).mean()), 4),
    )
    assert (raw.min(), raw.max()) == (-2048, 1500), "the scan has values outside [-1000, 1000]"
    assert hu.dtype == np.float32 and (hu.min(), hu.max()) == (-1000.0, 1000.0), f"clipped to [{hu.min()}, {hu.max()}]"
    np.testing.assert_array_equal(hu, np.clip(raw, -1000, 1000).astype(np.float32))
