"""Chapter 10, page 259: the candidate list, ``CandidateInfoTuple`` (a ``collections.namedtuple``).

The synthetic tree (``fixtures/luna.py``) has 20 candidates on disk: 8 nodules (diameters 10, 10, 8,
8, 8, 8, 6, 5 mm) and 12 non-nodules, three of them 0.3 diameters from a nodule on one axis, plus 3
candidates of a "ghost" series whose CT is not on disk. How the suite reports a CSV that is not LUNA's is
a harness test (tests/harness/test_luna_root.py).
"""

from __future__ import annotations

import pytest

from claims.book.luna.candidates import CandidateInfoTuple, candidate_diameter, getCandidateInfoList

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
    """p.259: requireOnDisk_bool=True (the default) leaves out the 3 candidates of the ghost series, whose
    .mhd is in no subset folder; requireOnDisk_bool=False keeps every one of the 23 rows."""
    on_disk = getCandidateInfoList(str(luna_tree.root))
    every_row = getCandidateInfoList(str(luna_tree.root), requireOnDisk_bool=False)
    ghost = [c for c in every_row if c.series_uid == luna_tree.ghost_uid]
    evidence.record(on_disk=len(on_disk), every_row=len(every_row), ghost=len(ghost))
    assert luna_tree.ghost_uid not in {c.series_uid for c in on_disk}, "the ghost series has no CT on disk"
    assert len(on_disk) == 20, f"expected the 20 candidates of the 3 scans on disk, got {len(on_disk)}"
    assert len(every_row) == len(luna_tree.candidate_rows) == 23 and len(ghost) == 3, (len(every_row), len(ghost))


@pytest.mark.claim(LAYOUT)
def test_candidate_list_holds_each_rows_values(luna_tree, evidence):
    """p.259: each CandidateInfoTuple holds its candidates.csv row: class 1 as isNodule_bool True, the
    seriesuid, (coordX, coordY, coordZ) in that order as center_xyz, and the diameter_mm of the
    annotations.csv row it was planted to match (0.0 for none)."""
    read = getCandidateInfoList(str(luna_tree.root), requireOnDisk_bool=False)
    written = [
        CandidateInfoTuple(cls == 1, diameter, uid, (x, y, z))
        for (uid, x, y, z, cls), diameter in zip(luna_tree.candidate_rows, luna_tree.candidate_diameters)
    ]
    plain = luna_tree.series["plain"]
    nodule = plain.nodules[0]
    as_read = [c for c in read if c.center_xyz == nodule.center_xyz]
    evidence.record(rows=len(read), plain_nodule=[list(c) for c in as_read])
    assert as_read == [CandidateInfoTuple(True, 8.0, plain.series_uid, nodule.center_xyz)], (
        f"the plain scan's 8 mm nodule at xyz {nodule.center_xyz} read as {as_read}"
    )
    missing, extra = set(written) - set(read), set(read) - set(written)
    assert not missing and not extra, f"written, not read: {sorted(missing)[:2]}; read instead: {sorted(extra)[:2]}"
