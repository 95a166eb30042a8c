"""The book's CT loader (sections 10.3-10.4): ``Ct``, ``getRawCandidate``'s crop and ``getCt``.

A scan is a MetaIO pair: ``<series_uid>.mhd``, a text header of ``Key = value`` lines, and the raw
voxels it names in ``ElementDataFile``. The loader reads it with SimpleITK (``GetArrayFromImage`` gives
(index, row, col) = (z, y, x)), keeps float32 Hounsfield units clipped to [-1000, 1000], and crops
``width_irc`` voxels around a candidate, shifted to stay inside the volume. Before SimpleITK sees a
file, the header and the size of the ``.raw`` are checked (``layout.check_metaio``, the suite's), so bad
files give one DataFileError.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from claims.book.luna import coords
from claims.book.luna.coords import IrcTuple, XyzTuple
from claims.book.luna.layout import LAYOUT, check_metaio
from claims.errors import DataFileError

HU_MIN, HU_MAX = -1000, 1000  # air is -1000, water 0; the book clips to this range


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
    """The book's in-memory cache: the last CT loaded stays in memory (``lru_cache(1, typed=True)``)."""
    return Ct(root, series_uid)
