"""The LUNA16 root check: ``claims.book.luna.candidates.check_luna_root(path)``, which the plugin runs once at
start-up on ``--luna-root``, and the loaders that go through the same one-line checkers.

Each test copies a synthetic tree written with ``fixtures/luna.py``, damages one thing, and expects one
``DataFileError`` naming the broken file and the problem. SimpleITK alone does badly here: on a truncated
``.raw``, SimpleITK 2.5 raises an error that blames the ``.mhd`` ("No such file or directory") and 2.2 returns
a half-read image, which is why the suite checks the header and the ``.raw``'s size before SimpleITK reads.
"""

from __future__ import annotations

import shutil

import pytest
import SimpleITK as sitk

from claims.book.luna import ct as ct_module
from claims.book.luna.candidates import check_luna_root, getCandidateInfoList
from claims.book.luna.ct import Ct
from claims.errors import DataFileError
from fixtures.luna import write_luna_tree

CANDIDATES_HEADER = "seriesuid,coordX,coordY,coordZ,class"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return write_luna_tree(tmp_path_factory.mktemp("luna-pristine"), seed=1)


@pytest.fixture
def tree(pristine, tmp_path):
    """A fresh copy of the synthetic tree: (root, the plain scan's uid, its .mhd, its .raw)."""
    root = tmp_path / "luna"
    shutil.copytree(str(pristine.root), str(root))
    series = pristine.series["plain"]
    mhd = series.mhd_path(root)
    getCandidateInfoList.cache_clear()
    ct_module.getCt.cache_clear()
    yield root, series.series_uid, mhd, mhd.with_suffix(".raw")
    getCandidateInfoList.cache_clear()
    ct_module.getCt.cache_clear()


def rejected(root) -> DataFileError:
    with pytest.raises(DataFileError) as err:
        check_luna_root(root)
    return err.value


def test_a_whole_tree_passes_reading_headers_and_sizes_only(tree, monkeypatch):
    root, _, _, _ = tree
    monkeypatch.setattr(sitk, "ReadImage", lambda *args: pytest.fail("the root check read voxels"))
    assert check_luna_root(str(root)) == root


def test_a_path_that_is_no_directory(tmp_path):
    err = rejected(tmp_path / "nowhere")
    assert err.path == tmp_path / "nowhere" and err.problem.startswith("no such directory (a LUNA16 tree has")


def test_an_empty_directory(tmp_path):
    err = rejected(tmp_path)
    assert err.path == tmp_path / "candidates.csv" and err.problem.startswith("missing: not a LUNA16 tree")


def test_no_scans_on_disk(tree):
    root, _, _, _ = tree
    for subset in root.glob("subset*"):
        shutil.rmtree(str(subset))
    err = rejected(root)
    assert err.path == root and err.problem.startswith("no subset*/*.mhd files: not a LUNA16 tree")


def test_wrong_columns(tree):
    root, _, _, _ = tree
    (root / "candidates.csv").write_text("uid,x,y,z,label\n1.2.3,1,2,3,1\n")
    err = rejected(root)
    assert err.path == root / "candidates.csv"
    assert err.problem == f"line 1: expected the header {CANDIDATES_HEADER}, got 'uid,x,y,z,label'"


@pytest.mark.parametrize(
    "bad_row, problem",
    [
        (
            "1.2.3,1.0,2.0,3.0",
            "line 3: expected 5 fields (seriesuid,coordX,coordY,coordZ,class), got 4: '1.2.3,1.0,2.0,3.0'",
        ),
        ("1.2.3,1.0,2.0,3.0,2", "line 3: class must be 0 or 1, got '2'"),
    ],
)
def test_malformed_candidate_row(tree, bad_row, problem):
    root, _, _, _ = tree
    (root / "candidates.csv").write_text(f"{CANDIDATES_HEADER}\n1.2.3,1,2,3,1\n{bad_row}\n")
    err = rejected(root)
    assert err.path == root / "candidates.csv" and err.problem == problem
    with pytest.raises(DataFileError) as loading:  # the book's reading says the same
        getCandidateInfoList(str(root))
    assert (loading.value.path, loading.value.problem) == (err.path, err.problem)


def test_a_word_for_a_number_is_found_when_the_rows_are_read(tree):
    """The start-up check looks at each line's shape, not its numbers: reading the rows finds those."""
    root, _, _, _ = tree
    (root / "candidates.csv").write_text(f"{CANDIDATES_HEADER}\n1.2.3,1,2,3,1\n\n1.2.3,1.0,two,3.0,0\n")
    assert check_luna_root(root) == root
    with pytest.raises(DataFileError) as loading:
        getCandidateInfoList(str(root))
    assert loading.value.path == root / "candidates.csv"
    assert loading.value.problem == "line 4: expected numbers in coordX,coordY,coordZ,class, got '1.0,two,3.0,0'"


def test_windows_line_ends_and_blank_lines_pass(tree, pristine):
    root, _, _, _ = tree
    for name in ("candidates.csv", "annotations.csv"):
        text = (root / name).read_text()
        (root / name).write_bytes(text.replace("\n", "\r\n").replace("\r\n", "\r\n\r\n", 1).encode())
    assert check_luna_root(root) == root
    assert len(getCandidateInfoList(str(root), requireOnDisk_bool=False)) == len(pristine.candidate_rows)


def test_malformed_annotation_row(tree, pristine):
    root, _, _, _ = tree
    with open(root / "annotations.csv", "a") as f:
        f.write("1.2.3,1.0,2.0,3.0,4.0,5.0\n")
    err = rejected(root)
    line = len(pristine.annotation_rows) + 2  # after the header and the rows written
    assert err.path == root / "annotations.csv"
    assert err.problem == (
        f"line {line}: expected 5 fields (seriesuid,coordX,coordY,coordZ,diameter_mm), got 6: "
        "'1.2.3,1.0,2.0,3.0,4.0,5.0'"
    )


def test_truncated_raw(tree):
    root, uid, mhd, raw = tree
    raw.write_bytes(raw.read_bytes()[:368_640])
    err = rejected(root)
    assert err.path == raw
    assert err.problem == (
        f"holds 368640 bytes, but {mhd.name} says DimSize 96 96 40 of MET_SHORT, 737280 bytes "
        "(a truncated .raw or a wrong DimSize)"
    )
    with pytest.raises(DataFileError) as loading:  # the loader goes through the same checker
        Ct(str(root), uid)
    assert (loading.value.path, loading.value.problem) == (err.path, err.problem)


def test_wrong_dimsize(tree):
    root, _, mhd, raw = tree
    mhd.write_text(mhd.read_text().replace("DimSize = 96 96 40", "DimSize = 96 96 41"))
    err = rejected(root)
    assert err.path == raw and err.problem.startswith(f"holds 737280 bytes, but {mhd.name} says DimSize 96 96 41")


def test_missing_raw(tree):
    root, uid, mhd, raw = tree
    raw.unlink()
    err = rejected(root)
    assert err.path == raw and err.problem == f"missing: the voxel file that {mhd.name} names in ElementDataFile"
    with pytest.raises(DataFileError, match=f"{raw.name}: missing"):
        Ct(str(root), uid)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("this is not a header\n", "not a MetaIO header: no NDims, DimSize, ElementType, ElementDataFile field"),
        (None, "unknown ElementType 'MET_COMPLEX'"),
        (
            "NDims = 3\nDimSize = 96 96\nElementType = MET_SHORT\nElementDataFile = x.raw\n",
            "DimSize '96 96' does not give NDims = 3 sizes >= 1",
        ),
    ],
)
def test_broken_header(tree, text, problem):
    root, _, mhd, _ = tree
    mhd.write_text(text if text is not None else mhd.read_text().replace("MET_SHORT", "MET_COMPLEX"))
    err = rejected(root)
    assert err.path == mhd and err.problem == problem


def test_series_with_no_ct_on_disk(tree, pristine):
    root, _, _, _ = tree
    with pytest.raises(DataFileError, match=rf"{pristine.ghost_uid}\.mhd: series .* has no CT on disk"):
        ct_module.getCt(str(root), pristine.ghost_uid)
