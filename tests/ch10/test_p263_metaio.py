"""Chapter 10, page 263: MetaIO files through SimpleITK, Hounsfield units, and the book's conversion
between voxel (index, row, col) and patient (x, y, z) coordinates.

The synthetic scans: "plain" (identity direction), "flipped" (diag(-1, -1, 1)) and "rotated" (30
degrees about z), 40 x 96 x 96 voxels, each with nodules of about +100 HU planted at known voxels.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import SimpleITK as sitk
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from claims.book.luna.coords import irc2xyz, xyz2irc
from claims.book.luna.ct import Ct, read_mhd_header
from claims.compat import assert_close
from tests.strategies import ct_indices_irc, ct_origins, direction_matrices, voxel_sizes

HEADER = "ch10.mhd-is-a-text-header-naming-raw-voxels"
ZYX = "ch10.getarrayfromimage-returns-index-row-column"
HU = "ch10.hounsfield-units-clipped-to-plus-minus-1000"
IRC2XYZ = "ch10.irc2xyz-agrees-with-simpleitk"
XYZ2IRC = "ch10.xyz2irc-inverts-irc2xyz"
PLANTED = "ch10.planted-nodule-xyz-maps-to-its-voxel"


def numbers(text: str) -> list[float]:
    return [float(v) for v in text.split()]


def geometry(spacing, origin, direction) -> sitk.Image:
    """A one-voxel image that carries only a geometry, for SimpleITK's own conversions."""
    image = sitk.Image(1, 1, 1, sitk.sitkInt16)
    image.SetSpacing(spacing)
    image.SetOrigin(origin)
    image.SetDirection(direction)
    return image


@pytest.mark.claim(HEADER)
@pytest.mark.parametrize("name", ["plain", "rotated"])
def test_mhd_header_fields_match_what_simpleitk_reads(luna_tree, name, evidence):
    """p.263: the .mhd is text with ObjectType, NDims, DimSize, ElementSpacing, Offset, TransformMatrix,
    ElementType and ElementDataFile; SimpleITK's size, spacing, origin and direction are those numbers,
    except that TransformMatrix is written column by column: it is the transpose of GetDirection()'s
    row-major tuple (visible on the rotated scan)."""
    mhd = luna_tree.series[name].mhd_path(luna_tree.root)
    fields, image = read_mhd_header(mhd), sitk.ReadImage(str(mhd))
    direction = np.array(image.GetDirection()).reshape(3, 3)
    matrix = np.array(numbers(fields["TransformMatrix"])).reshape(3, 3)
    evidence.record(fields=sorted(fields), transform_matrix=numbers(fields["TransformMatrix"]),
                    get_direction=list(image.GetDirection()))
    assert (fields["ObjectType"], fields["NDims"], fields["ElementType"]) == ("Image", "3", "MET_SHORT")
    assert image.GetPixelIDTypeAsString() == "16-bit signed integer"
    assert numbers(fields["DimSize"]) == list(image.GetSize()) == [96, 96, 40]
    assert numbers(fields["ElementSpacing"]) == pytest.approx(image.GetSpacing(), abs=1e-12)
    assert numbers(fields["Offset"]) == pytest.approx(image.GetOrigin(), abs=1e-12)
    np.testing.assert_allclose(matrix, direction.T, atol=1e-12, err_msg="TransformMatrix should be direction.T")
    if name == "rotated":
        assert not np.allclose(matrix, direction), "on a rotated scan the two orders differ"
    raw = mhd.parent / fields["ElementDataFile"]
    assert raw.stat().st_size == math.prod(image.GetSize()) * 2, "the .raw holds DimSize int16 voxels"


@pytest.mark.claim(HEADER)
def test_real_mhd_header_fields_match_simpleitk(real_luna, evidence):
    """p.263: the same on the first real scan (the header is read as text, the image with SimpleITK)."""
    mhd = sorted(real_luna.glob("subset*/*.mhd"))[0]
    fields, image = read_mhd_header(mhd), sitk.ReadImage(str(mhd))
    evidence.record(series=mhd.stem, fields=sorted(fields), size=list(image.GetSize()))
    assert numbers(fields["DimSize"]) == list(image.GetSize())
    assert numbers(fields["ElementSpacing"]) == pytest.approx(image.GetSpacing())
    assert numbers(fields["Offset"]) == pytest.approx(image.GetOrigin())
    np.testing.assert_allclose(np.array(numbers(fields["TransformMatrix"])).reshape(3, 3),
                               np.array(image.GetDirection()).reshape(3, 3).T, atol=1e-12)


@pytest.mark.claim(ZYX)
def test_get_array_from_image_is_index_row_column(luna_tree, evidence):
    """p.263: GetArrayFromImage's array is (z, y, x): its shape is GetSize() reversed, and
    array[i, r, c] is the voxel GetPixel(c, r, i) reads."""
    image = sitk.ReadImage(str(luna_tree.series["plain"].mhd_path(luna_tree.root)))
    array = sitk.GetArrayFromImage(image)
    evidence.record(get_size=list(image.GetSize()), array_shape=list(array.shape))
    assert array.shape == image.GetSize()[::-1] == (40, 96, 96)
    for i, r, c in [(20, 48, 48), (3, 12, 80), (0, 0, 95), (39, 88, 45)]:
        assert array[i, r, c] == image.GetPixel(c, r, i), f"array[{i}, {r}, {c}] != GetPixel({c}, {r}, {i})"
    assert array[3, 12, 80] > 0, "the nodule planted at irc (3, 12, 80) is bright at array[3, 12, 80]"


@pytest.mark.claim(HU)
def test_ct_clips_hounsfield_units(luna_tree, device, evidence):
    """p.263: the scans hold -2048 outside the field of view and 1500 in the "bone" bar; the book's Ct
    clips to [-1000, 1000] and leaves everything in between as it was."""
    series = luna_tree.series["plain"]
    raw = torch.from_numpy(sitk.GetArrayFromImage(sitk.ReadImage(str(series.mhd_path(luna_tree.root))))).to(device)
    hu = torch.from_numpy(Ct(str(luna_tree.root), series.series_uid).hu_a).to(device)
    evidence.record(raw_range=[raw.min().item(), raw.max().item()], clipped_range=[hu.min().item(), hu.max().item()],
                    clipped_fraction=round(((raw < -1000) | (raw > 1000)).float().mean().item(), 4))
    assert raw.min() == -2048 and raw.max() == 1500, "the fixture has values outside [-1000, 1000]"
    assert hu.dtype == torch.float32 and (hu.min().item(), hu.max().item()) == (-1000.0, 1000.0)
    assert_close(hu, raw.float().clamp(-1000, 1000), rtol=0, atol=0)


@pytest.mark.claim(IRC2XYZ)
@given(irc=ct_indices_irc, offset=st.tuples(*[st.floats(-0.5, 0.5)] * 3), spacing=voxel_sizes,
       origin=ct_origins, direction=direction_matrices())
def test_irc2xyz_matches_transform_index_to_physical_point(irc, offset, spacing, origin, direction):
    """p.263: for any voxel size, origin and direction (flips, permutations, rotations), at whole and
    fractional indices, the book's irc2xyz gives SimpleITK's physical point (within 1e-6 mm)."""
    irc = np.array(irc) + np.array(offset)
    expected = geometry(spacing, origin, direction).TransformContinuousIndexToPhysicalPoint(irc[::-1].tolist())
    book = irc2xyz(irc, origin, spacing, np.array(direction).reshape(3, 3))
    np.testing.assert_allclose(book, expected, rtol=0, atol=1e-6)


@pytest.mark.claim(XYZ2IRC)
@given(irc=ct_indices_irc, offset=st.tuples(*[st.floats(-0.4, 0.4)] * 3), spacing=voxel_sizes,
       origin=ct_origins, direction=direction_matrices())
def test_xyz2irc_agrees_with_simpleitk_only_for_symmetric_directions(irc, offset, spacing, origin, direction):
    """p.263, refuted: the book's xyz2irc gives SimpleITK's TransformPhysicalPointToIndex when the
    direction matrix is symmetric (flips; some permutations); in every case it gives the index
    SimpleITK finds with the transposed direction: ``v @ inv(D)`` is ``inv(D).T @ v``, which is ``D @ v``
    for a rotation, not ``inv(D) @ v``. (Points at rounding ties are left out: see the rounding test.)"""
    D = np.array(direction).reshape(3, 3)
    xyz = geometry(spacing, origin, direction).TransformContinuousIndexToPhysicalPoint((np.array(irc) + offset)[::-1].tolist())
    book = tuple(xyz2irc(xyz, origin, spacing, D))
    with_transpose = geometry(spacing, origin, tuple(D.T.ravel()))
    continuous = np.array(with_transpose.TransformPhysicalPointToContinuousIndex(xyz))
    assume(np.all(np.abs(np.abs(continuous % 1) - 0.5) > 1e-6))  # rounding ties: see the test after next
    transposed = with_transpose.TransformPhysicalPointToIndex(xyz)[::-1]
    assert book == transposed, f"book {book}, SimpleITK with direction.T {transposed}"
    if np.allclose(D, D.T):
        assert book == irc, f"symmetric direction: book {book}, planted {irc}"


@pytest.mark.claim(XYZ2IRC)
def test_xyz2irc_misplaces_the_rotated_scans_nodule(luna_tree, evidence):
    """p.263, refuted: on the scan rotated 30 degrees about z, SimpleITK maps the nodule's xyz back to the
    voxel where it was planted (bright), and the book's xyz2irc does not (outside the volume), so
    xyz2irc(irc2xyz(irc)) != irc (dlwpt-code issue #96)."""
    series = luna_tree.series["rotated"]
    ct = Ct(str(luna_tree.root), series.series_uid)
    nodule = series.nodules[0]
    image = sitk.ReadImage(str(series.mhd_path(luna_tree.root)))
    simpleitk_irc = image.TransformPhysicalPointToIndex(nodule.center_xyz)[::-1]
    book_irc = tuple(xyz2irc(nodule.center_xyz, ct.origin_xyz, ct.vxSize_xyz, ct.direction_a))
    round_trip = tuple(xyz2irc(irc2xyz(nodule.center_irc, ct.origin_xyz, ct.vxSize_xyz, ct.direction_a),
                               ct.origin_xyz, ct.vxSize_xyz, ct.direction_a))
    evidence.record(planted=nodule.center_irc, simpleitk=simpleitk_irc, book=book_irc, round_trip=round_trip)
    assert simpleitk_irc == nodule.center_irc and ct.hu_a[simpleitk_irc] > 0
    assert book_irc == round_trip == (20, 66, -18), f"book's xyz2irc gave {book_irc}"


@pytest.mark.claim(XYZ2IRC)
def test_book_rounds_halves_to_even_where_simpleitk_rounds_up(evidence):
    """p.263, refuted in a corner: np.round sends 2.5 to 2, ITK sends it to 3 (1.5 goes to 2 in both)."""
    identity = (1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0)
    image = geometry((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), identity)
    measured = {h: (tuple(xyz2irc((h, h, h), (0, 0, 0), (1, 1, 1), np.eye(3))),
                    image.TransformPhysicalPointToIndex((h, h, h))[::-1]) for h in (0.5, 1.5, 2.5)}
    evidence.record(book_vs_simpleitk={str(h): [list(b), list(s)] for h, (b, s) in measured.items()})
    assert measured == {0.5: ((0, 0, 0), (1, 1, 1)), 1.5: ((2, 2, 2), (2, 2, 2)), 2.5: ((2, 2, 2), (3, 3, 3))}


@pytest.mark.claim(XYZ2IRC)
def test_real_scans_are_axis_aligned(real_luna, evidence):
    """p.263: on the real data (up to 50 headers) the direction matrices are diagonal, so the book's
    xyz2irc is exact there."""
    matrices = {read_mhd_header(p)["TransformMatrix"] for p in sorted(real_luna.glob("subset*/*.mhd"))[:50]}
    evidence.record(distinct_matrices=sorted(matrices))
    for text in matrices:
        m = np.array(numbers(text)).reshape(3, 3)
        assert np.allclose(m, np.diag(np.diag(m))), f"non-diagonal TransformMatrix {text}"


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
        found.append([list(irc), float(ct.hu_a[irc])])
        assert irc == nodule.center_irc == image.TransformPhysicalPointToIndex(nodule.center_xyz)[::-1]
        assert ct.hu_a[irc] > 0 > np.median(ct.hu_a), f"HU {ct.hu_a[irc]} at {irc}"
    evidence.record(nodules=found)
