"""Chapter 10, page 263: a nodule's patient xyz, from the CSV files, converted with the book's ``xyz2irc``,
lands on its voxel, on scans whose direction matrix is symmetric (the identity, axis flips), as LUNA16's are.

The synthetic "plain" (identity) and "flipped" (diag(-1, -1, 1)) scans have nodules of about +100 HU planted
in lung of about -850 HU at known voxels; the real LUNA16 nodules are checked with ``--luna-root``.
"""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from claims.book.luna.candidates import read_rows
from claims.book.luna.coords import xyz2irc
from claims.book.luna.ct import Ct
from claims.book.luna.layout import ANNOTATION_COLUMNS, check_metaio
from claims.experiments.geometry import geometry

PLANTED = "ch10.planted-nodule-xyz-maps-to-its-voxel"
REAL = "ch10.xyz2irc-finds-luna16-nodules-in-their-scans"


@pytest.mark.claim(PLANTED)
@pytest.mark.parametrize("name", ["plain", "flipped"])
def test_planted_nodule_xyz_maps_to_its_voxel(luna_tree, name, evidence):
    """p.263: each planted nodule's xyz (from candidates.csv) maps with the book's xyz2irc to the voxel
    where it was planted, SimpleITK agrees, and the voxel is bright (nodule ~+100 HU, lung ~-850)."""
    series = luna_tree.series[name]
    ct = Ct(str(luna_tree.root), series.series_uid)
    image = sitk.ReadImage(str(series.mhd_path(luna_tree.root)))
    found = []
    for nodule in series.nodules:
        irc = tuple(xyz2irc(nodule.center_xyz, ct.origin_xyz, ct.vxSize_xyz, ct.direction_a))
        found.append(list(irc))
        assert irc == nodule.center_irc == image.TransformPhysicalPointToIndex(nodule.center_xyz)[::-1], (
            f"xyz2irc gave {irc} for the nodule planted at {nodule.center_irc}"
        )
        assert ct.hu_a[irc] > 0 > np.median(ct.hu_a), f"HU {ct.hu_a[irc]} at {irc}"
    evidence.record(nodules=found)


@pytest.mark.claim(REAL)
def test_luna16_nodules_land_inside_their_scans(real_luna, evidence):
    """p.263: for every annotated nodule of a scan on disk, the scan's direction is an axis flip at most, and the
    book's xyz2irc gives the voxel SimpleITK's TransformPhysicalPointToIndex gives, inside the volume (the
    geometry is read from each header alone)."""
    mhd_paths = {p.stem: p for p in real_luna.glob("subset*/*.mhd")}
    headers = {}
    for row in read_rows(real_luna / "annotations.csv", ANNOTATION_COLUMNS):
        if row[0] not in mhd_paths:
            continue
        if row[0] not in headers:
            check_metaio(mhd_paths[row[0]])  # a broken scan is one error naming its file
            headers[row[0]] = sitk.ImageFileReader()
            headers[row[0]].SetFileName(str(mhd_paths[row[0]]))
            headers[row[0]].ReadImageInformation()
        header = headers[row[0]]
        direction = np.array(header.GetDirection()).reshape(3, 3)
        # diagonal, each entry +1 or -1: the identity with some axes flipped
        assert np.allclose(np.abs(direction), np.eye(3)), f"{row[0]}: direction {direction.tolist()} is no axis flip"
        xyz = tuple(float(v) for v in row[1:4])
        book = tuple(xyz2irc(xyz, header.GetOrigin(), header.GetSpacing(), direction))
        simpleitk = geometry(
            header.GetSpacing(), header.GetOrigin(), header.GetDirection()
        ).TransformPhysicalPointToIndex(xyz)[::-1]
        assert book == simpleitk, f"{row[0]}: nodule at xyz {xyz}: book {book}, SimpleITK {simpleitk}"
        assert all(0 <= i < n for i, n in zip(book, header.GetSize()[::-1])), f"{row[0]}: {book} outside the scan"
    directions = sorted({h.GetDirection() for h in headers.values()})
    evidence.record(scans_with_nodules=len(headers), distinct_directions=[list(d) for d in directions])
    assert headers, "no annotated nodule has its scan on disk"
