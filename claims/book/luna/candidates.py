"""The book's candidate list (section 10.2): ``CandidateInfoTuple`` and ``getCandidateInfoList``.

``candidates.csv`` (``seriesuid,coordX,coordY,coordZ,class``) lists every candidate, class 1 for a
nodule; ``annotations.csv`` (``seriesuid,coordX,coordY,coordZ,diameter_mm``) gives nodule diameters.
A candidate takes the diameter of an annotation of its series whose centre lies within a quarter of
that diameter on every axis, else 0.0; the list is sorted in reverse, so nodules come first, largest
diameter first. With ``requireOnDisk_bool`` (the default, as in the book) candidates of series with no
``.mhd`` on disk are left out.

The book reads each CSV with ``list(csv.reader(f))[1:]``; ``read_rows`` is that, with the header and
every row's fields checked first, so that a file that is not LUNA's is one error naming it, and blank lines
skipped (the book's code fails on one: ``csv.reader`` gives it as ``[]``, and ``row[0]`` raises IndexError;
LUNA16's files have none). The checks of a
whole tree (``check_luna_root``) are the suite's, in ``layout``.
"""

from __future__ import annotations

import collections
import csv
import functools
from pathlib import Path

from claims.book.luna.layout import (
    ANNOTATION_COLUMNS,
    CANDIDATE_COLUMNS,
    check_layout,
    check_luna_root,  # noqa: F401 (re-exported: --luna-root's checker is named here)
)
from claims.errors import DataFileError

CandidateInfoTuple = collections.namedtuple("CandidateInfoTuple", "isNodule_bool, diameter_mm, series_uid, center_xyz")


def read_rows(path, columns: tuple[str, ...]) -> list[list[str]]:
    """The rows of a LUNA CSV after its header, as the book's ``list(csv.reader(f))[1:]`` gives them but for blank
    lines, which it leaves out (the book's code would fail on them at ``row[0]``), once the header is ``columns``
    and every row has that many fields, numbers in the coordinate (and last) columns, and a class of 0 or 1; a
    DataFileError naming the file and the line otherwise."""
    path = Path(path)
    with open(path, newline="", encoding="utf-8-sig") as f:  # a spreadsheet's byte-order mark is no problem
        reader = csv.reader(f)
        header = tuple(h.strip() for h in next(reader, ()))
        if header != columns:
            raise DataFileError(path, f"line 1: expected the header {','.join(columns)}, got {','.join(header)!r}")
        numbered = [(reader.line_num, row) for row in reader if row]
    for n, row in numbered:
        if len(row) != len(columns):
            raise DataFileError(
                path,
                f"line {n}: expected {len(columns)} fields ({','.join(columns)}), got {len(row)}: {','.join(row)!r}",
            )
        try:
            for value in row[1:]:
                float(value)
        except ValueError:
            raise DataFileError(
                path, f"line {n}: expected numbers in {','.join(columns[1:])}, got {','.join(row[1:])!r}"
            ) from None
        if columns[-1] == "class" and row[-1].strip() not in ("0", "1"):
            raise DataFileError(path, f"line {n}: class must be 0 or 1, got {row[-1]!r}")
    return [row for _, row in numbered]


def candidate_diameter(center_xyz, annotations) -> float:
    """The book's rule: the diameter of the first annotation within a quarter of its diameter on every axis."""
    for annotationCenter_xyz, annotationDiameter_mm in annotations:
        if all(abs(center_xyz[i] - annotationCenter_xyz[i]) <= annotationDiameter_mm / 4 for i in range(3)):
            return annotationDiameter_mm
    return 0.0


def series_on_disk(root) -> set[str]:
    """The series uids with an ``.mhd`` in some ``subset*/`` folder."""
    return {p.stem for p in Path(root).glob("subset*/*.mhd")}


@functools.lru_cache(1)
def getCandidateInfoList(root, requireOnDisk_bool: bool = True) -> list[CandidateInfoTuple]:
    """Every candidate of ``root``'s candidates.csv with its matched diameter, nodules first, largest first."""
    root = check_layout(root)
    presentOnDisk_set = series_on_disk(root)

    diameter_dict: dict[str, list] = {}
    for row in read_rows(root / "annotations.csv", ANNOTATION_COLUMNS):
        series_uid = row[0]
        annotationCenter_xyz = tuple(float(x) for x in row[1:4])
        annotationDiameter_mm = float(row[4])
        diameter_dict.setdefault(series_uid, []).append((annotationCenter_xyz, annotationDiameter_mm))

    candidateInfo_list = []
    for row in read_rows(root / "candidates.csv", CANDIDATE_COLUMNS):
        series_uid = row[0]
        if series_uid not in presentOnDisk_set and requireOnDisk_bool:
            continue
        isNodule_bool = bool(int(row[4]))
        candidateCenter_xyz = tuple(float(x) for x in row[1:4])
        candidateDiameter_mm = candidate_diameter(candidateCenter_xyz, diameter_dict.get(series_uid, []))
        candidateInfo_list.append(
            CandidateInfoTuple(isNodule_bool, candidateDiameter_mm, series_uid, candidateCenter_xyz)
        )

    candidateInfo_list.sort(reverse=True)
    return candidateInfo_list
