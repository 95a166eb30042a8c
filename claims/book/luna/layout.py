"""What a LUNA16 tree must look like before the book's code reads it: the suite's checks, not the book's code.

The book's ``dsets.py`` reads ``candidates.csv`` and ``annotations.csv`` with ``csv.reader`` and each
``subset*/<series_uid>.mhd`` with SimpleITK, and trusts both. A file that is not what it should be (a wrong
header, a short row, a truncated ``.raw``) then fails deep inside, or not at all; these checks turn it into one
``DataFileError`` naming the file and the problem. ``check_luna_root`` runs once at start-up on ``--luna-root``;
the book's candidate list (``candidates``) and CT loader (``ct``) use the same checks as they read.

Only headers, line shapes and file sizes are looked at, so the real tree (888 scans, 551,065 candidates) takes
about a second. Both ``candidates`` and ``ct`` import this module; it imports neither.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from claims.errors import DataFileError

LAYOUT = "a LUNA16 tree has subset0..9/<series_uid>.mhd (+ .raw), candidates.csv and annotations.csv"
CANDIDATE_COLUMNS = ("seriesuid", "coordX", "coordY", "coordZ", "class")
ANNOTATION_COLUMNS = ("seriesuid", "coordX", "coordY", "coordZ", "diameter_mm")

ELEMENT_BYTES = {
    "MET_CHAR": 1,
    "MET_UCHAR": 1,
    "MET_SHORT": 2,
    "MET_USHORT": 2,
    "MET_INT": 4,
    "MET_UINT": 4,
    "MET_FLOAT": 4,
    "MET_LONG": 8,
    "MET_ULONG": 8,
    "MET_DOUBLE": 8,
}
REQUIRED_FIELDS = ("NDims", "DimSize", "ElementType", "ElementDataFile")


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
    fields and that the ``.raw`` it names exists and holds DimSize x ElementType bytes.
    """
    root = check_layout(root)
    check_csv(root / "candidates.csv", CANDIDATE_COLUMNS)
    check_csv(root / "annotations.csv", ANNOTATION_COLUMNS)
    for mhd_path in sorted(root.glob("subset*/*.mhd")):
        check_metaio(mhd_path)
    return root


def check_csv(path, columns: tuple[str, ...]) -> None:
    """A DataFileError naming the file and the line unless the header is ``columns`` and every row has that many
    fields (and a class of 0 or 1 in candidates.csv). Quick: it counts each line's commas with numpy and does not
    parse the numbers, which the book's code checks as it reads them (``candidates.read_rows``)."""
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


def read_mhd_header(mhd_path) -> dict[str, str]:
    """The ``Key = value`` fields of a MetaIO header, as text; a DataFileError if it is not one."""
    mhd_path = Path(mhd_path)
    try:
        text = mhd_path.read_text()
    except FileNotFoundError:
        raise DataFileError(mhd_path, "missing: no such MetaIO header") from None
    except UnicodeDecodeError:
        raise DataFileError(mhd_path, "not a MetaIO text header (not text)") from None
    fields = {}
    for line in text.splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            fields[key.strip()] = value.strip()
    missing = [f for f in REQUIRED_FIELDS if f not in fields]
    if missing:
        raise DataFileError(mhd_path, f"not a MetaIO header: no {', '.join(missing)} field")
    return fields


def check_metaio(mhd_path) -> Path:
    """Checks the header and that the ``.raw`` beside it holds exactly DimSize x element bytes; returns the raw path."""
    mhd_path = Path(mhd_path)
    fields = read_mhd_header(mhd_path)
    raw_path = mhd_path.parent / fields["ElementDataFile"]
    try:
        dims = [int(v) for v in fields["DimSize"].split()]
        int(fields["NDims"])
    except ValueError:
        raise DataFileError(
            mhd_path,
            f"NDims and DimSize must be integers, got NDims {fields['NDims']!r}, DimSize {fields['DimSize']!r}",
        ) from None
    if len(dims) != int(fields["NDims"]) or min(dims, default=0) < 1:
        raise DataFileError(
            mhd_path, f"DimSize {fields['DimSize']!r} does not give NDims = {fields['NDims']} sizes >= 1"
        )
    if fields["ElementType"] not in ELEMENT_BYTES:
        raise DataFileError(mhd_path, f"unknown ElementType {fields['ElementType']!r}")
    if fields["ElementDataFile"] == "LOCAL":
        return mhd_path
    if not raw_path.is_file():
        raise DataFileError(raw_path, f"missing: the voxel file that {mhd_path.name} names in ElementDataFile")
    if fields.get("CompressedData", "False").lower() != "true":
        expected = math.prod(dims) * ELEMENT_BYTES[fields["ElementType"]]
        actual = raw_path.stat().st_size
        if actual != expected:
            raise DataFileError(
                raw_path,
                f"holds {actual} bytes, but {mhd_path.name} says DimSize {fields['DimSize']} "
                f"of {fields['ElementType']}, {expected} bytes "
                f"(a truncated .raw or a wrong DimSize)",
            )
    return raw_path
