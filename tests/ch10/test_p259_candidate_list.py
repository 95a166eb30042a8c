"""Chapter 10, page 259: the candidate list, ``CandidateInfoTuple`` (a ``collections.namedtuple``).

The synthetic tree (``fixtures/luna.py``) has 22 candidates on disk: 9 nodules (diameters 10, 10, 8, 8, 8, 8, 6,
5 and 0 mm: one that no annotation matches, as LUNA16 has) and 13 non-nodules, three of them 0.3 diameters from a
nodule on one axis and one 0.1 diameters from one (so it takes a 6 mm diameter), plus 3 candidates of a "ghost"
series whose CT is not on disk. The flipped scan's 10 mm nodule also lies within reach of a 12 mm annotation listed
after its own, and the ghost's nodule is annotated at the point of a plain-scan candidate. How the suite reports a
CSV that is not LUNA's is a harness test (tests/harness/test_luna_root.py). The real LUNA16 list is checked with
``--luna-root`` against what the book's notebook printed (p2ch10_explore_data.ipynb, In[3] to In[6]).
"""

from __future__ import annotations

import numpy as np
import pytest

from claims.book.luna.candidates import CandidateInfoTuple, candidate_diameter, getCandidateInfoList

TUPLE = "ch10.candidate-info-is-an-immutable-namedtuple"
SORT = "ch10.reverse-sort-puts-largest-nodules-first"
DIAMETER = "ch10.candidate-takes-annotation-diameter-within-a-quarter"
ON_DISK = "ch10.candidates-without-ct-on-disk-are-left-out"
LAYOUT = "ch10.candidate-list-reads-the-luna-csv-layout"
REAL = "ch10.luna16-candidate-list-puts-its-1351-nodules-first"

UID = "1.3.6.1.4.1.14519.5.2.1.6279.6001."  # every LUNA16 series uid starts so
# What p2ch10_explore_data.ipynb printed, from candidates.csv and annotations.csv with every row kept:
BOOK_NODULES = 1351  # In[3]: len(positiveInfo_list)
BOOK_FIRST_NODULE = (  # In[3]: positiveInfo_list[0]
    "CandidateInfoTuple(isNodule_bool=True, diameter_mm=32.27003025, "
    "series_uid='1.3.6.1.4.1.14519.5.2.1.6279.6001.287966244644280690737019247886', "
    "center_xyz=(67.61451718, 85.02525992, -109.8084416))"
)
BOOK_EVERY_HUNDREDTH = """\
   0  32.3 mm
 100  17.7 mm
 200  13.0 mm
 300  10.0 mm
 400   8.2 mm
 500   7.0 mm
 600   6.3 mm
 700   5.7 mm
 800   5.1 mm
 900   4.7 mm
1000   4.0 mm
1100   0.0 mm
1200   0.0 mm
1300   0.0 mm
"""  # In[4]: '{:4}  {:4.1f} mm'.format(i, diameter_list[i]) for every hundredth nodule
BOOK_FIRST_AND_LAST_TEN = [  # In[5]: the first ten nodules, the last ten, then those of the series ending in 565
    (32.27003025, "287966244644280690737019247886", (67.61451718, 85.02525992, -109.8084416)),
    (30.61040636, "112740418331256326754121315800", (47.90350511, 37.60442008, -99.93417567)),
    (30.61040636, "112740418331256326754121315800", (44.19, 37.79, -107.01)),
    (30.61040636, "112740418331256326754121315800", (40.69, 32.19, -97.15)),
    (27.44242293, "943403138251347598519939390311", (-45.29440163, 74.86925386, -97.52812481)),
    (27.07544345, "481278873893653517789960724156", (-102.571208, -5.186558766, -205.1033412)),
    (26.83708074, "487268565754493433372433148666", (121.152909372, 12.9136003304, -159.399497186)),
    (26.83708074, "487268565754493433372433148666", (118.8539408, 11.54202797, -165.5042458)),
    (25.87269662, "177086402277715068525592995222", (-66.628286875, 57.151972075, -110.12035075)),
    (25.41540526, "219618492426142913407827034169", (-101.7504204, -95.65460516, -138.4943211)),
    (0.0, "107109359065300889765026303943", (-100.57, -66.23, -218.76)),
    (0.0, "106379658920626694402549886949", (-71.09, 68.3, -160.4)),
    (0.0, "102681962408431413578140925249", (106.18, 12.61, -96.81)),
    (0.0, "102681962408431413578140925249", (96.2846726653, 19.0348690723, -88.478440818)),
    (0.0, "100621383016233746780170740405", (89.32, 190.84, -516.82)),
    (0.0, "100621383016233746780170740405", (89.32, 143.23, -427.1)),
    (0.0, "100621383016233746780170740405", (85.12, 152.33, -425.7)),
    (0.0, "100621383016233746780170740405", (8.8, 174.74, -401.87)),
    (0.0, "100621383016233746780170740405", (5.99, 171.94, -398.37)),
    (0.0, "100621383016233746780170740405", (1.79, 166.34, -408.88)),
    (0.0, "124154461048929153767743874565", (146.12, -160.55, -309.93)),
]
BOOK_HISTOGRAM_COUNTS = "[323, 466, 248, 111,  71,  57,  37,  29,   5,   4]"  # In[6]: np.histogram(diameter_list)
BOOK_HISTOGRAM_EDGES = """[ 0.        ,  3.22700302,  6.45400605,  9.68100907, 12.9080121 ,
        16.13501512, 19.36201815, 22.58902117, 25.8160242 , 29.04302722,
        32.27003025]"""


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
    """p.259: sort(reverse=True) compares the tuples field by field, isNodule_bool first, then diameter_mm:
    nodules first, largest first. It is the field order, not the diameters, that puts the nodules first: the
    nodule that no annotation matched (0.0 mm) comes before the non-nodule that took a 6 mm diameter."""
    flags = [c.isNodule_bool for c in candidates]
    diameters = [c.diameter_mm for c in candidates if c.isNodule_bool]
    others = [c.diameter_mm for c in candidates if not c.isNodule_bool]
    evidence.record(nodule_diameters=diameters, non_nodule_diameters=others, n_candidates=len(candidates))
    assert flags == sorted(flags, reverse=True), f"nodules not all first: {flags}"
    assert diameters == [10.0, 10.0, 8.0, 8.0, 8.0, 8.0, 6.0, 5.0, 0.0], f"nodules, largest first: {diameters}"
    assert others == [6.0] + [0.0] * 12, f"then the non-nodules, largest first: {others}"
    assert candidates == sorted(candidates, reverse=True)


@pytest.mark.claim(DIAMETER)
def test_candidate_within_a_quarter_diameter_takes_it(evidence):
    """p.259: within d/4 on every axis the candidate takes the annotation's diameter; just past d/4 on
    one axis it gets 0.0 (an 8 mm annotation reaches 2 mm per axis). Within reach of two annotations (the 8 mm
    one, then a 6 mm one 1 mm off on every axis, which reaches 1.5 mm), it takes the first listed."""
    annotations = [((10.0, 20.0, 30.0), 8.0)]
    cases = {(11.9, 21.9, 28.1): 8.0, (12.0, 22.0, 32.0): 8.0, (10.0, 22.1, 30.0): 0.0, (7.9, 20.0, 30.0): 0.0}
    measured = {str(xyz): candidate_diameter(xyz, annotations) for xyz in cases}
    two = [((10.0, 20.0, 30.0), 8.0), ((11.0, 21.0, 31.0), 6.0)]
    measured["(11.0, 21.0, 31.0) within both"] = candidate_diameter((11.0, 21.0, 31.0), two)
    evidence.record(diameters=measured)
    assert measured == {**{str(xyz): d for xyz, d in cases.items()}, "(11.0, 21.0, 31.0) within both": 8.0}


@pytest.mark.claim(DIAMETER)
def test_candidate_takes_the_first_annotation_of_its_own_series(luna_tree, evidence):
    """p.259: the flipped scan's 10 mm nodule also lies within a quarter diameter of a 12 mm annotation listed after
    its own: it, and the candidate 0.2 diameters off it, take the first, 10 mm. The ghost series' 7.5 mm nodule is
    annotated at the very point of a plain-scan candidate, which keeps 0.0: only its own series' annotations count."""
    every_row = getCandidateInfoList(str(luna_tree.root), requireOnDisk_bool=False)
    diameter_at = {(c.series_uid, c.center_xyz): c.diameter_mm for c in every_row}
    flipped, plain = luna_tree.series["flipped"], luna_tree.series["plain"]
    n = flipped.nodules[0]
    near = tuple(round(v + 0.2 * n.diameter_mm, 6) for v in n.center_xyz)
    in_reach = [
        a[4]
        for a in luna_tree.annotation_rows
        if a[0] == flipped.series_uid and all(abs(a[1 + i] - n.center_xyz[i]) <= a[4] / 4 for i in range(3))
    ]
    ghost_xyz = next(tuple(a[1:4]) for a in luna_tree.annotation_rows if a[0] == luna_tree.ghost_uid)
    taken = {
        "flipped nodule": diameter_at[flipped.series_uid, n.center_xyz],
        "0.2 d off it": diameter_at[flipped.series_uid, near],
        "ghost nodule": diameter_at[luna_tree.ghost_uid, ghost_xyz],
        "plain candidate at the ghost nodule's point": diameter_at[plain.series_uid, ghost_xyz],
    }
    evidence.record(annotations_in_reach=in_reach, diameters=taken)
    assert in_reach == [10.0, 12.0], f"annotations of the flipped scan within reach of its nodule: {in_reach}"
    assert taken == {
        "flipped nodule": 10.0,
        "0.2 d off it": 10.0,
        "ghost nodule": 7.5,
        "plain candidate at the ghost nodule's point": 0.0,
    }, taken


@pytest.mark.claim(DIAMETER)
def test_fixture_candidates_match_their_annotations(luna_tree, candidates, evidence):
    """p.259: in the tree, candidates 0.2 diameters off a nodule on every axis take its diameter, those
    0.3 diameters off on one axis get 0.0, and empty-lung candidates get 0.0, whatever their class (the 12
    empty-lung and 0.3-off non-nodules, and the nodule no annotation is near)."""
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
    assert unmatched == 13


@pytest.mark.claim(ON_DISK)
def test_series_with_no_ct_on_disk_is_left_out(luna_tree, evidence):
    """p.259: requireOnDisk_bool=True (the default) leaves out the 3 candidates of the ghost series, whose
    .mhd is in no subset folder, so every series left has its CT on disk; requireOnDisk_bool=False keeps every
    one of the 25 rows."""
    on_disk = getCandidateInfoList(str(luna_tree.root))
    every_row = getCandidateInfoList(str(luna_tree.root), requireOnDisk_bool=False)
    ghost = [c for c in every_row if c.series_uid == luna_tree.ghost_uid]
    without_ct = sorted({c.series_uid for c in on_disk if not any(luna_tree.root.glob(f"subset*/{c.series_uid}.mhd"))})
    evidence.record(on_disk=len(on_disk), every_row=len(every_row), ghost=len(ghost))
    assert not without_ct, f"series in the list with no CT on disk: {without_ct}"
    assert len(on_disk) == 22, f"expected the 22 candidates of the 3 scans on disk, got {len(on_disk)}"
    assert len(every_row) == len(luna_tree.candidate_rows) == 25 and len(ghost) == 3, (len(every_row), len(ghost))


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


@pytest.mark.claim(REAL)
def test_luna16_candidate_list_is_the_one_the_book_printed(real_luna, evidence):
    """p.259, as p2ch10_explore_data.ipynb printed it (In[3] to In[6]): with every row of the real CSVs, the list
    starts with 1,351 nodules, the largest (32.27 mm) first; every hundredth, the first ten, the last ten (0.0 mm:
    no annotation within a quarter diameter) and the histogram of their diameters are the book's."""
    every_row = getCandidateInfoList(str(real_luna), requireOnDisk_bool=False)
    positives = [c for c in every_row if c.isNodule_bool]
    diameters = [c.diameter_mm for c in positives]
    every_hundredth = "".join(f"{i:4}  {diameters[i]:4.1f} mm\n" for i in range(0, len(diameters), 100))
    printed = positives[:10] + positives[-10:] + [c for c in positives if c.series_uid.endswith("565")]
    counts, edges = np.histogram(diameters)
    evidence.record(nodules=len(positives), without_diameter=diameters.count(0.0), histogram=counts.tolist())
    assert len(positives) == BOOK_NODULES and repr(positives[0]) == BOOK_FIRST_NODULE, (len(positives), positives[0])
    head = [c.isNodule_bool for c in every_row[: BOOK_NODULES + 1]]
    assert head == [True] * BOOK_NODULES + [False], f"{sum(head[:-1])} nodules among the list's first {BOOK_NODULES}"
    assert every_hundredth == BOOK_EVERY_HUNDREDTH, every_hundredth
    assert printed == [CandidateInfoTuple(True, d, UID + uid, xyz) for d, uid, xyz in BOOK_FIRST_AND_LAST_TEN]
    assert counts.tolist() == [int(v) for v in BOOK_HISTOGRAM_COUNTS.strip("[]").split(",")], counts
    book_edges = [float(v) for v in BOOK_HISTOGRAM_EDGES.strip("[]").split(",")]
    np.testing.assert_allclose(edges, book_edges, rtol=0, atol=5e-9)  # printed to 8 decimals
