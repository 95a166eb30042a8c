"""The book's CT loader (sections 10.3-10.4): ``Ct``, ``getRawCandidate``'s crop and ``getCt``.

A scan is a MetaIO pair: ``<series_uid>.mhd``, a text header of ``Key = value`` lines, and the raw
voxels it names in ``ElementDataFile``. The loader reads it with SimpleITK (``GetArrayFromImage`` gives
(index, row, col) = (z, y, x)), keeps float32 Hounsfield units clipped to [-1000, 1000], and crops
``width_irc`` voxels around a candidate, shifted to stay inside the volume. Before SimpleITK sees a
file, the header and the size of the ``.raw`` are checked, so bad files give one DataFileError.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from claims.book.luna import coords
from claims.book.luna.candidates import LAYOUT
from claims.book.luna.coords import IrcTuple, XyzTuple
from claims.errors import DataFileError

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
HU_MIN, HU_MAX = -1000, 1000  # air is -1000, water 0; the book clips to this range


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


def find_mhd(root, series_uid: str) -> Path:
    """The ``subset*/<series_uid>.mhd`` of a series, or a DataFileError when it is not on disk."""
    paths = sorted(Path(root).glob(f"subset*/{series_uid}.mhd"))
    if not paths:
        raise DataFileError(
            Path(root) / f"subset*/{series_uid}.mhd", f"series {series_uid} has no CT on disk ({LAYOUT})"
        )
    return paths[0]


class Ct:
    """One CT scan: ``hu_a`` float32 (index, row, col), clipped to [-1000, 1000], and its geometry."""

    def __init__(self, root, series_uid: str):
        self.mhd_path = find_mhd(root, series_uid)
        check_metaio(self.mhd_path)
        try:
            ct_mhd = sitk.ReadImage(str(self.mhd_path))
            ct_a = np.array(sitk.GetArrayFromImage(ct_mhd), dtype=np.float32)
        except RuntimeError as exc:  # whatever the checks above missed, still one line naming the file
            problem = str(exc).strip().splitlines()[-1]
            raise DataFileError(self.mhd_path, f"SimpleITK cannot read it: {problem}") from None
        # Hounsfield units: air -1000, water 0; below -1000 is outside the scanner's field of view,
        # above 1000 bone and metal that the model does not need.
        ct_a.clip(HU_MIN, HU_MAX, ct_a)

        self.series_uid = series_uid
        self.hu_a = ct_a
        self.origin_xyz = XyzTuple(*ct_mhd.GetOrigin())
        self.vxSize_xyz = XyzTuple(*ct_mhd.GetSpacing())
        self.direction_a = np.array(ct_mhd.GetDirection()).reshape(3, 3)

    def getRawCandidate(self, center_xyz, width_irc) -> tuple[np.ndarray, IrcTuple]:
        """The ``width_irc`` block around ``center_xyz``, shifted to stay inside the volume, and its centre voxel."""
        center_irc = coords.xyz2irc(center_xyz, self.origin_xyz, self.vxSize_xyz, self.direction_a)
        slice_list = []
        for axis, center_val in enumerate(center_irc):
            if not 0 <= center_val < self.hu_a.shape[axis]:
                raise DataFileError(
                    self.mhd_path,
                    f"candidate at xyz {tuple(center_xyz)} maps to voxel "
                    f"{tuple(center_irc)}, outside the volume {self.hu_a.shape}",
                )
            slice_list.append(crop_slice(center_val, width_irc[axis], self.hu_a.shape[axis]))
        return self.hu_a[tuple(slice_list)], center_irc


def crop_slice(center_val: int, width: int, size: int) -> slice:
    """The book's crop along one axis: ``width`` voxels centred on ``center_val``, shifted to stay in ``[0, size)``."""
    start_ndx = int(round(center_val - width / 2))
    end_ndx = int(start_ndx + width)
    if start_ndx < 0:
        start_ndx, end_ndx = 0, int(width)
    if end_ndx > size:
        end_ndx = size
        start_ndx = int(size - width)
    return slice(start_ndx, end_ndx)


@functools.lru_cache(1, typed=True)
def getCt(root, series_uid: str) -> Ct:
    """The book's in-memory cache: the last CT loaded stays in memory (``lru_cache(1)``)."""
    return Ct(root, series_uid)
