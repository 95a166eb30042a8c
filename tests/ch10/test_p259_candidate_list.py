"""Chapter 10, page 259: the candidate list, ``CandidateInfoTuple`` (a ``collections.namedtuple``).

The synthetic tree (``fixtures/luna.py``) has 20 candidates on disk: 8 nodules (diameters 10, 10, 8,
8, 8, 8, 6, 5 mm) and 12 non-nodules, two of them 0.3 diameters from a nodule on one axis, plus 3
candidates of a "ghost" series whose CT is not on disk.
"""
from __future__ import annotations

import pytest

from claims.book.luna.candidates import CandidateInfoTuple, candidate_diameter, getCandidateInfoList
from claims.book.luna.ct import getCt
from claims.errors import DataFileError

TUPLE = "ch10.candidate-info-is-an-immutable-namedtuple"
SORT = "ch10.reverse-sort-puts-largest-nodules-first"
DIAMETER = "ch10.candidate-takes-annotation-diameter-within-a-quarter"
ON_DISK = "ch10.candidates-without-ct-on-disk-are-left-out"
LAYOUT = "ch10.candidate-list-reads-the-luna-csv-layout"


@pytest.fixture
def candidates(luna_tree) -> list[CandidateInfoTuple]:
    return getCandidateInfoList(str(luna_tree.root))


@pytest.mark.claim(TUPLE)
def test_candidate_info_is_a_namedtuple_with_the_books_fields(candidates, evidence):
    """p.259: a namedtuple with isNodule_bool, diameter_mm, series_uid, center_xyz; fields read by name
    or position; assigning to one raises AttributeError; it equals the plain tuple of its values."""
    c = candidates[0]
    evidence.record(fields=list(CandidateInfoTuple._fields), first=[c.isNodule_bool, c.diameter_mm])
    assert CandidateInfoTuple._fields == ("isNodule_bool", "diameter_mm", "series_uid", "center_xyz")
    assert isinstance(c, tuple) and (c.isNodule_bool, c.diameter_mm) == (c[0], c[1])
    with pytest.raises(AttributeError):
        c.diameter_mm = 99.0
    assert c == tuple(c) and hash(c) == hash(tuple(c)), "a namedtuple compares and hashes as its plain tuple"


@pytest.mark.claim(SORT)
def test_reverse_sort_puts_nodules_first_largest_first(luna_tree, candidates, evidence):
    """p.259: sort(reverse=True) orders by isNodule_bool, then diameter_mm: nodules first, largest first."""
    flags = [c.isNodule_bool for c in candidates]
    diameters = [c.diameter_mm for c in candidates if c.isNodule_bool]
    evidence.record(nodule_diameters=diameters, n_nodules=sum(flags), n_candidates=len(candidates))
    assert flags == sorted(flags, reverse=True), f"nodules not all first: {flags}"
    assert diameters == sorted(diameters, reverse=True) == [10.0, 10.0, 8.0, 8.0, 8.0, 8.0, 6.0, 5.0], diameters
    assert candidates == sorted(candidates, reverse=True)


@pytest.mark.claim(DIAMETER)
def test_candidate_within_a_quarter_diameter_takes_it(evidence):
    """p.259: within d/4 on every axis the candidate takes the annotation's diameter; just past d/4 on
    one axis it gets 0.0 (an 8 mm annotation reaches 2 mm per axis)."""
    annotations = [((10.0, 20.0, 30.0), 8.0)]
    cases = {(11.9, 21.9, 28.1): 8.0, (12.0, 22.0, 32.0): 8.0, (10.0, 22.1, 30.0): 0.0, (7.9, 20.0, 30.0): 0.0}
    measured = {str(xyz): candidate_diameter(xyz, annotations) for xyz in cases}
    evidence.record(diameters=measured)
    assert measured == {str(xyz): d for xyz, d in cases.items()}


@pytest.mark.claim(DIAMETER)
def test_fixture_candidates_match_their_annotations(luna_tree, candidates, evidence):
    """p.259: in the tree, candidates 0.2 diameters off a nodule on every axis take its diameter, those
    0.3 diameters off on one axis get 0.0, and empty-lung candidates get 0.0."""
    by_xyz = {c.center_xyz: c.diameter_mm for c in candidates}
    for series in luna_tree.series.values():
        n = series.nodules[0]
        near = tuple(round(v + 0.2 * n.diameter_mm, 6) for v in n.center_xyz)
        x, y, z = n.center_xyz
        far = (x, round(y + 0.3 * n.diameter_mm, 6), z)
        assert by_xyz[near] == n.diameter_mm, f"{series.name}: 0.2 d off should match, got {by_xyz[near]}"
        assert by_xyz[far] == 0.0, f"{series.name}: 0.3 d off should not match, got {by_xyz[far]}"
    unmatched = sum(1 for c in candidates if c.diameter_mm == 0.0)
    evidence.record(unmatched=unmatched)
    assert unmatched == 12


@pytest.mark.claim(ON_DISK)
def test_series_with_no_ct_on_disk_is_left_out(luna_tree, evidence):
    """p.259: requireOnDisk_bool=True (the default) leaves out the ghost series' 3 candidates;
    False keeps them, and then loading that CT is one DataFileError naming the missing .mhd."""
    on_disk = getCandidateInfoList(str(luna_tree.root))
    everything = getCandidateInfoList(str(luna_tree.root), requireOnDisk_bool=False)
    ghost = [c for c in everything if c.series_uid == luna_tree.ghost_uid]
    evidence.record(on_disk=len(on_disk), all_rows=len(everything), ghost=len(ghost))
    assert len(everything) == len(luna_tree.candidate_rows) == 23 and len(ghost) == 3
    assert luna_tree.ghost_uid not in {c.series_uid for c in on_disk} and len(on_disk) == 20
    with pytest.raises(DataFileError, match=rf"{luna_tree.ghost_uid}\.mhd: series .* has no CT on disk"):
        getCt(str(luna_tree.root), luna_tree.ghost_uid)


def write_tree(root, candidates_text: str, mhd: bool = True):
    (root / "subset0").mkdir(parents=True)
    if mhd:
        (root / "subset0" / "1.2.3.mhd").write_text("NDims = 3\n")
    (root / "annotations.csv").write_text("seriesuid,coordX,coordY,coordZ,diameter_mm\n1.2.3,1,2,3,4.5\n")
    (root / "candidates.csv").write_text(candidates_text)
    return str(root)


@pytest.mark.claim(LAYOUT)
@pytest.mark.parametrize("bad_row, problem", [
    ("1.2.3,1.0,2.0,3.0", r"line 3: expected 5 fields .*, got 4"),
    ("1.2.3,1.0,two,3.0,0", r"line 3: expected numbers in coordX,coordY,coordZ,class, got '1.0,two,3.0,0'"),
    ("1.2.3,1.0,2.0,3.0,2", r"line 3: class must be 0 or 1, got '2'"),
])
def test_malformed_candidate_row_names_file_and_line(tmp_path, bad_row, problem):
    """p.259: a row without LUNA's five fields is one DataFileError naming candidates.csv and the line."""
    root = write_tree(tmp_path, f"seriesuid,coordX,coordY,coordZ,class\n1.2.3,1,2,3,1\n{bad_row}\n")
    with pytest.raises(DataFileError, match=r"candidates\.csv: " + problem):
        getCandidateInfoList(root)


@pytest.mark.claim(LAYOUT)
def test_directory_that_is_not_a_luna_tree_is_one_clear_error(tmp_path):
    """p.259: a path that does not exist, a folder without candidates.csv, without any subset*/*.mhd, or
    with another header: one DataFileError each."""
    with pytest.raises(DataFileError, match=r"nowhere: no such directory \(a LUNA16 tree has subset0\.\.9/"):
        getCandidateInfoList(str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFileError, match=r"empty/candidates\.csv: missing: not a LUNA16 tree"):
        getCandidateInfoList(str(tmp_path / "empty"))
    no_ct = write_tree(tmp_path / "no-ct", "seriesuid,coordX,coordY,coordZ,class\n", mhd=False)
    with pytest.raises(DataFileError, match=r"no-ct: no subset\*/\*\.mhd files: not a LUNA16 tree"):
        getCandidateInfoList(no_ct)
    other = write_tree(tmp_path / "other", "uid,x,y,z,label\n1.2.3,1,2,3,1\n")
    with pytest.raises(DataFileError, match=r"candidates\.csv: line 1: expected the header seriesuid,coordX"):
        getCandidateInfoList(other)


@pytest.mark.claim(LAYOUT)
def test_real_candidate_list(real_luna, evidence):
    """p.259: on the real data the list holds a candidate per row of a series on disk, sorted in reverse."""
    candidates = getCandidateInfoList(str(real_luna))
    nodules = sum(c.isNodule_bool for c in candidates)
    evidence.record(candidates=len(candidates), nodules=nodules, largest=candidates[0].diameter_mm)
    assert 0 < len(candidates) <= 551_065 and nodules <= 1_351
    assert candidates == sorted(candidates, reverse=True) and candidates[0].isNodule_bool
