"""Chapter 10, page 263: CT voxels are Hounsfield units, and the book's ``Ct`` clips them to [-1000, 1000].

The synthetic "plain" scan holds lung at about -850 HU, nodules at about +100, -2048 outside the round field
of view and a 1500 HU "bone" bar.
"""

from __future__ import annotations

import pytest
import SimpleITK as sitk
import torch

from claims.book.luna.ct import Ct
from claims.compat import assert_close

HU = "ch10.hounsfield-units-clipped-to-plus-minus-1000"


@pytest.mark.claim(HU)
def test_ct_clips_hounsfield_units(luna_tree, device, evidence):
    """p.263: the scan holds -2048 outside the field of view and 1500 in the "bone" bar; the book's Ct clips to
    [-1000, 1000] and leaves everything in between as it was."""
    series = luna_tree.series["plain"]
    raw = torch.from_numpy(sitk.GetArrayFromImage(sitk.ReadImage(str(series.mhd_path(luna_tree.root))))).to(device)
    hu = torch.from_numpy(Ct(str(luna_tree.root), series.series_uid).hu_a).to(device)
    evidence.record(
        raw_range=[raw.min().item(), raw.max().item()],
        clipped_range=[hu.min().item(), hu.max().item()],
        clipped_fraction=round(((raw < -1000) | (raw > 1000)).float().mean().item(), 4),
    )
    assert raw.min().item() == -2048 and raw.max().item() == 1500, "the scan has values outside [-1000, 1000]"
    assert hu.dtype == torch.float32 and (hu.min().item(), hu.max().item()) == (-1000.0, 1000.0), (
        f"clipped range [{hu.min().item()}, {hu.max().item()}]"
    )
    assert_close(hu, raw.float().clamp(-1000, 1000), rtol=0, atol=0)
