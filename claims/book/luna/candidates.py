"""The book's candidate list (section 10.2): ``CandidateInfoTuple`` and ``getCandidateInfoList``.

``candidates.csv`` (``seriesuid,coordX,coordY,coordZ,class``) lists every candidate, class 1 for a
nodule; ``annotations.csv`` (``seriesuid,coordX,coordY,coordZ,diameter_mm``) gives nodule diameters.
A candidate takes the diameter of an annotation of its series whose centre lies within a quarter of
that diameter on every axis, else 0.0; the list is sorted in reverse, so nodules come first, largest
diameter first. With ``requireOnDisk_bool`` (the default, as in the book) candidates of series with no
``.mhd`` on disk are left out.

The book reads each CSV with ``list(csv.reader(f))[1:]``; ``read_rows`` is that, with the header and
every row's fields checked first, so that a file that is not LUNA's is one error naming it.
``check_luna_root`` checks a whole tree that way (both CSVs, every scan's header against its ``.raw``).
"""

from __future__ import annotations

import collections
import csv
import functools
from pathlib import Path

import numpy as np

from claims.errors import DataFileError

CandidateInfoTuple = collections.namedtuple("CandidateInfoTuple", "isNodule_bool, diameter_mm, series_uid, center_xyz")

CANDIDATE_COLUMNS = ("seriesuid", "coordX", "coordY", "coordZ", "class")
ANNOTATION_COLUMNS = ("seriesuid", "coordX", "coordY", "coordZ", "diameter_mm")
LAYOUT = "a LUNA16 tree has subset0..9/<series_uid>.mhd (+ .raw), candidates.csv and annotations.csv"


def check_layout(root) -> Path:
    """``root`` as a Path if it has the two CSV files and some ``subset*/*.mhd``; else a DataFileError."""
    root = Path(root)
    if not root.is_dir():
        raise DataFileError(root, f"no such directory ({LAYOUT})")
    for name in ("candidates.csv", "annotations.csv"):
        if not (root / name).is_file():
            raise DataFileError(root / name, f"missing: not a LUNA16 tree ({LAYOUT})")
    if not any(root.glob("subset*/*.mhd")):
        raise DataFileError(root, f"no subset*/*.mhd files: not a LUNA16 tree ({LAYOUT})")
    return root


def check_luna_root(root) -> Path:
    """``root`` as a Path once the whole tree is checked, else one DataFileError naming the file and the problem.

    Checks the layout, both CSVs (header, and every row's fields), and every ``subset*/*.mhd``: its header's
    fields and that the ``.raw`` it names exists and holds DimSize x ElementType bytes. Only headers and file
    sizes are read, and the CSVs' lines are looked at for their shape only, so the real tree's 888 scans and
    551,065 candidates take about a second.
    """
    from claims.book.luna.ct import check_metaio  # ct imports this module

    root = check_layout(root)
    check_csv(root / "candidates.csv", CANDIDATE_COLUMNS)
    check_csv(root / "annotations.csv", ANNOTATION_COLUMNS)
    for mhd_path in sorted(root.glob("subset*/*.mhd")):
        check_metaio(mhd_path)
    return root


def check_csv(path, columns: tuple[str, ...]) -> None:
    """A DataFileError naming the file and the line unless the header is ``columns`` and every row has that many
    fields (and a class of 0 or 1 in candidates.csv). Quick: it counts each line's commas with numpy and does not
    parse the numbers, which the book's code checks as it reads them (``read_rows``)."""
    path = Path(path)
    with open(path, newline="", encoding="utf-8-sig") as f:
        header = tuple(h.strip() for h in next(csv.reader(f), ()))
    if header != columns:
        raise DataFileError(path, f"line 1: expected the header {','.join(columns)}, got {','.join(header)!r}")
    data = path.read_bytes()
    data += b"" if data.endswith(b"\n") else b"\n"
    a = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(a == ord("\n"))
    starts = np.concatenate(([0], ends[:-1] + 1))
    last = ends - 1 - (a[np.maximum(ends - 1, 0)] == ord("\r"))  # the last character before the line break
    comma_at = np.flatnonzero(a == ord(","))
    commas = np.searchsorted(comma_at, ends) - np.searchsorted(comma_at, starts)
    blank = last < starts
    bad = (commas != len(columns) - 1) & ~blank
    if columns[-1] == "class":
        is_class = np.isin(a[np.maximum(last, 0)], (ord("0"), ord("1"))) & (a[np.maximum(last - 1, 0)] == ord(","))
        bad |= ~blank & ~is_class
    bad[0] = False  # the header, checked above
    if bad.any():
        n = int(np.argmax(bad))
        line = data[starts[n] : last[n] + 1].decode(errors="replace")
        if line.count(",") != len(columns) - 1:
            raise DataFileError(
                path,
                f"line {n + 1}: expected {len(columns)} fields ({','.join(columns)}), "
                f"got {line.count(',') + 1}: {line!r}",
            )
        raise DataFileError(path, f"line {n + 1}: class must be 0 or 1, got {line.rsplit(',', 1)[-1]!r}")


def read_rows(path, columns: tuple[str, ...]) -> list[list[str]]:
    """The rows of a LUNA CSV after its header, as the book's ``list(csv.reader(f))[1:]`` gives them, once the
    header is ``columns`` and every row has that many fields, numbers in the coordinate (and last) columns, and
    a class of 0 or 1; a DataFileError naming the file and the line otherwise."""
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
