"""The book's candidate list (section 10.2): ``CandidateInfoTuple`` and ``getCandidateInfoList``.

``candidates.csv`` (``seriesuid,coordX,coordY,coordZ,class``) lists every candidate, class 1 for a
nodule; ``annotations.csv`` (``seriesuid,coordX,coordY,coordZ,diameter_mm``) gives nodule diameters.
A candidate takes the diameter of an annotation of its series whose centre lies within a quarter of
that diameter on every axis, else 0.0; the list is sorted in reverse, so nodules come first, largest
diameter first. With ``requireOnDisk_bool`` (the default, as in the book) candidates of series with no
``.mhd`` on disk are left out.
"""
from __future__ import annotations

import collections
import csv
import functools
from pathlib import Path

from claims.errors import DataFileError

CandidateInfoTuple = collections.namedtuple(
    "CandidateInfoTuple", "isNodule_bool, diameter_mm, series_uid, center_xyz")

CANDIDATE_COLUMNS = ("seriesuid", "coordX", "coordY", "coordZ", "class")
ANNOTATION_COLUMNS = ("seriesuid", "coordX", "coordY", "coordZ", "diameter_mm")
LAYOUT = "a LUNA16 tree has subset0..9/<series_uid>.mhd (+ .raw), candidates.csv and annotations.csv"


def check_luna_root(root) -> Path:
    """``root`` as a Path, or a DataFileError saying what a LUNA16 tree lacks there."""
    root = Path(root)
    if not root.is_dir():
        raise DataFileError(root, f"no such directory ({LAYOUT})")
    for name in ("candidates.csv", "annotations.csv"):
        if not (root / name).is_file():
            raise DataFileError(root / name, f"missing: not a LUNA16 tree ({LAYOUT})")
    if not any(root.glob("subset*/*.mhd")):
        raise DataFileError(root, f"no subset*/*.mhd files: not a LUNA16 tree ({LAYOUT})")
    return root


def read_rows(path, columns: tuple[str, ...], last: type) -> list[tuple]:
    """The rows of a LUNA CSV as ``(series_uid, (x, y, z), last)``, checking the header and every row."""
    path = Path(path)
    rows = []
    with open(path, newline="", encoding="utf-8-sig") as f:  # a spreadsheet's byte-order mark is no problem
        reader = csv.reader(f)
        header = tuple(h.strip() for h in next(reader, ()))
        if header != columns:
            raise DataFileError(path, f"line 1: expected the header {','.join(columns)}, got {','.join(header)!r}")
        for row in reader:
            if not row:
                continue
            if len(row) != len(columns):
                raise DataFileError(path, f"line {reader.line_num}: expected {len(columns)} fields "
                                          f"({','.join(columns)}), got {len(row)}: {','.join(row)!r}")
            try:
                center_xyz = tuple(float(v) for v in row[1:4])
                value = last(float(row[4])) if last is bool else last(row[4])
            except ValueError:
                raise DataFileError(path, f"line {reader.line_num}: expected numbers in "
                                          f"{','.join(columns[1:])}, got {','.join(row[1:])!r}") from None
            if last is bool and row[4].strip() not in ("0", "1"):
                raise DataFileError(path, f"line {reader.line_num}: class must be 0 or 1, got {row[4]!r}")
            rows.append((row[0], center_xyz, value))
    return rows


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
    root = check_luna_root(root)
    presentOnDisk_set = series_on_disk(root)

    diameter_dict: dict[str, list] = {}
    for series_uid, center_xyz, diameter_mm in read_rows(root / "annotations.csv", ANNOTATION_COLUMNS, float):
        diameter_dict.setdefault(series_uid, []).append((center_xyz, diameter_mm))

    candidateInfo_list = []
    for series_uid, center_xyz, isNodule_bool in read_rows(root / "candidates.csv", CANDIDATE_COLUMNS, bool):
        if series_uid not in presentOnDisk_set and requireOnDisk_bool:
            continue
        diameter_mm = candidate_diameter(center_xyz, diameter_dict.get(series_uid, []))
        candidateInfo_list.append(CandidateInfoTuple(isNodule_bool, diameter_mm, series_uid, center_xyz))

    candidateInfo_list.sort(reverse=True)
    return candidateInfo_list
