"""Chapter 10, page 263: a CT scan in MetaIO format, as SimpleITK reads it.

A MetaIO scan is two files: ``<series_uid>.mhd``, a text header of ``Key = value`` lines, and the ``.raw``
it names in ``ElementDataFile``, DimSize voxels of ElementType. The synthetic scans (``fixtures/luna.py``)
were written by SimpleITK: "plain" (identity direction) and "rotated" (30 degrees about z), 96 x 96 x 40
int16 voxels. The real LUNA16 scans are checked with ``--luna-root``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import SimpleITK as sitk

from claims.book.luna.layout import check_metaio, read_mhd_header
from claims.experiments.geometry import numbers

HEADER = "ch10.mhd-is-a-text-header-naming-raw-voxels"
REAL = "ch10.luna16-scans-are-metaio-files-simpleitk-reads"


def assert_header_is_what_simpleitk_reads(fields: dict, image) -> None:
    """Size, spacing, origin and direction as the header says; TransformMatrix is written column by column, so
    it is the transpose of GetDirection()'s row-major tuple."""
    direction = np.array(image.GetDirection()).reshape(3, 3)
    assert numbers(fields["DimSize"]) == list(image.GetSize()), (fields["DimSize"], image.GetSize())
    assert numbers(fields["ElementSpacing"]) == pytest.approx(image.GetSpacing(), abs=1e-12)
    assert numbers(fields["Offset"]) == pytest.approx(image.GetOrigin(), abs=1e-12)
    np.testing.assert_allclose(
        np.array(numbers(fields["TransformMatrix"])).reshape(3, 3),
        direction.T,
        atol=1e-12,
        err_msg="TransformMatrix should be GetDirection() transposed",
    )


@pytest.mark.claim(HEADER)
@pytest.mark.parametrize("name", ["plain", "rotated"])
def test_mhd_header_fields_match_what_simpleitk_reads(luna_tree, name, evidence):
    """p.263: the .mhd is text with ObjectType, NDims, DimSize, ElementSpacing, Offset, TransformMatrix,
    ElementType and ElementDataFile; SimpleITK's size, spacing, origin and direction are those numbers (the
    rotated scan shows TransformMatrix is the direction's transpose), and the .raw holds DimSize int16 voxels."""
    mhd = luna_tree.series[name].mhd_path(luna_tree.root)
    fields, image = read_mhd_header(mhd), sitk.ReadImage(str(mhd))
    evidence.record(
        fields=sorted(fields),
        transform_matrix=numbers(fields["TransformMatrix"]),
        get_direction=list(image.GetDirection()),
        origin=list(image.GetOrigin()),
    )
    assert (fields["ObjectType"], fields["NDims"], fields["ElementType"]) == ("Image", "3", "MET_SHORT")
    assert image.GetPixelIDTypeAsString() == "16-bit signed integer"
    assert_header_is_what_simpleitk_reads(fields, image)
    if name == "rotated":
        matrix = np.array(numbers(fields["TransformMatrix"])).reshape(3, 3)
        assert not np.allclose(matrix, matrix.T), "on a rotated scan the two orders differ"
    raw = mhd.parent / fields["ElementDataFile"]
    assert raw.stat().st_size == math.prod(image.GetSize()) * 2, "the .raw holds DimSize int16 voxels"


@pytest.mark.claim(REAL)
def test_luna16_headers_are_what_simpleitk_reads(real_luna, evidence):
    """p.263: every real scan's .mhd names a .raw beside it (not LOCAL, the voxels inside the header) holding
    DimSize voxels uncompressed (the size checked by the suite's MetaIO checker, which names the broken file), and
    its header is what SimpleITK reads: every header through SimpleITK's header reader, the first scan read whole
    with sitk.ReadImage (a scan is about 100 MB)."""
    mhd_paths = sorted(real_luna.glob("subset*/*.mhd"))
    for mhd in mhd_paths:
        raw, fields = check_metaio(mhd), read_mhd_header(mhd)
        assert raw.suffix == ".raw" and raw.parent == mhd.parent, (
            f"{mhd}: ElementDataFile is {fields['ElementDataFile']!r}, not a .raw beside it"
        )
        assert fields.get("CompressedData", "False").lower() != "true", (
            f"{mhd}: CompressedData = {fields['CompressedData']}, not DimSize voxels as they are"
        )
        reader = sitk.ImageFileReader()
        reader.SetFileName(str(mhd))
        reader.ReadImageInformation()
        assert_header_is_what_simpleitk_reads(read_mhd_header(mhd), reader)
    image = sitk.ReadImage(str(mhd_paths[0]))
    evidence.record(scans=len(mhd_paths), first=mhd_paths[0].stem, size=list(image.GetSize()))
    assert_header_is_what_simpleitk_reads(read_mhd_header(mhd_paths[0]), image)
    assert sitk.GetArrayFromImage(image).shape == image.GetSize()[::-1]
