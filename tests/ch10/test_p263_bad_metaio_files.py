"""Chapter 10, page 263: what the loader does with broken MetaIO files.

SimpleITK alone does badly here: on a truncated .raw it raises a RuntimeError whose message says the
*.mhd* "cannot be read ... No such file or directory", though the .mhd is there. The rebuilt loader
checks the header and the .raw's size first and raises one DataFileError naming the broken file.
"""
from __future__ import annotations

import shutil

import pytest
import SimpleITK as sitk

from claims.book.luna.ct import Ct
from claims.errors import DataFileError

CLAIM = "ch10.mhd-is-a-text-header-naming-raw-voxels"


@pytest.fixture
def scan(luna_tree, tmp_path):
    """A copy of the plain scan in a tree of its own: (root, uid, mhd path, raw path)."""
    series = luna_tree.series["plain"]
    mhd = tmp_path / "subset0" / f"{series.series_uid}.mhd"
    mhd.parent.mkdir()
    shutil.copy(series.mhd_path(luna_tree.root), mhd)
    shutil.copy(series.mhd_path(luna_tree.root).with_suffix(".raw"), mhd.with_suffix(".raw"))
    return str(tmp_path), series.series_uid, mhd, mhd.with_suffix(".raw")


@pytest.mark.claim(CLAIM)
def test_the_copied_scan_loads(scan):
    """p.263: the untouched copy loads (so the errors below come from the damage alone)."""
    root, uid, mhd, raw = scan
    assert Ct(root, uid).hu_a.shape == (40, 96, 96)


@pytest.mark.claim(CLAIM)
def test_missing_raw_names_the_raw_file(scan):
    """p.263: the .raw that ElementDataFile names is missing: one DataFileError naming it."""
    root, uid, mhd, raw = scan
    raw.unlink()
    with pytest.raises(DataFileError, match=rf"{raw.name}: missing: the voxel file that {mhd.name} names") as err:
        Ct(root, uid)
    assert err.value.path == raw


@pytest.mark.claim(CLAIM)
def test_truncated_raw_names_the_raw_file_and_sizes(scan, evidence):
    """p.263: a .raw cut in half: one DataFileError with both sizes. SimpleITK alone is no help here: 2.5
    raises an error that blames the .mhd ("No such file or directory"), 2.2 returns a half-read image
    and only prints to stderr; the ledger's evidence records which this SimpleITK does."""
    root, uid, mhd, raw = scan
    raw.write_bytes(raw.read_bytes()[:368_640])
    try:
        sitk.ReadImage(str(mhd))
        simpleitk_says = "returns an image without raising"
    except RuntimeError as exc:
        simpleitk_says = str(exc).splitlines()[-1][-60:]
    with pytest.raises(DataFileError, match=r"holds 368640 bytes, but .*DimSize 96 96 40 of MET_SHORT, 737280 bytes") as err:
        Ct(root, uid)
    evidence.record(simpleitk_says=simpleitk_says, suite_says=str(err.value)[-120:])
    assert err.value.path == raw


@pytest.mark.claim(CLAIM)
def test_wrong_dimsize_names_the_sizes(scan):
    """p.263: an .mhd whose DimSize says 41 slices for 40 slices of voxels: one DataFileError."""
    root, uid, mhd, raw = scan
    mhd.write_text(mhd.read_text().replace("DimSize = 96 96 40", "DimSize = 96 96 41"))
    with pytest.raises(DataFileError, match=rf"{raw.name}: holds 737280 bytes, but {mhd.name} says DimSize 96 96 41"):
        Ct(root, uid)


@pytest.mark.claim(CLAIM)
def test_header_without_metaio_fields_names_the_mhd(scan):
    """p.263: an .mhd that is not a MetaIO header (no DimSize, ElementDataFile...): one DataFileError."""
    root, uid, mhd, raw = scan
    mhd.write_text("this is not a header\n")
    with pytest.raises(DataFileError, match=rf"{mhd.name}: not a MetaIO header: no NDims, DimSize"):
        Ct(root, uid)
