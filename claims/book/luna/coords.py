"""The book's coordinate systems (section 10.3): voxel (index, row, column) and patient (x, y, z) in mm.

``irc2xyz`` and ``xyz2irc`` are the book's formulas, as printed (see book-reference.md). Note the
book's ``xyz2irc`` multiplies the row vector ``xyz - origin`` by ``inv(direction)`` on the right, which
is the inverse of ``irc2xyz`` only when the direction matrix is symmetric (identity, axis flips);
the tests of page 263 show where it parts from SimpleITK.
"""

from __future__ import annotations

import collections

import numpy as np

IrcTuple = collections.namedtuple("IrcTuple", ["index", "row", "col"])
XyzTuple = collections.namedtuple("XyzTuple", ["x", "y", "z"])


def irc2xyz(coord_irc, origin_xyz, vxSize_xyz, direction_a) -> XyzTuple:
    """Voxel (index, row, col) -> patient (x, y, z) mm: ``direction @ (cri * voxel_size) + origin``."""
    cri_a = np.array(coord_irc)[::-1]
    origin_a = np.array(origin_xyz)
    vxSize_a = np.array(vxSize_xyz)
    coords_xyz = (np.asarray(direction_a) @ (cri_a * vxSize_a)) + origin_a
    return XyzTuple(*coords_xyz.tolist())


def xyz2irc(coord_xyz, origin_xyz, vxSize_xyz, direction_a) -> IrcTuple:
    """Patient (x, y, z) mm -> voxel (index, row, col), rounded with ``np.round``:
    ``((xyz - origin) @ inv(direction)) / voxel_size``."""
    origin_a = np.array(origin_xyz)
    vxSize_a = np.array(vxSize_xyz)
    coord_a = np.array(coord_xyz)
    cri_a = ((coord_a - origin_a) @ np.linalg.inv(np.asarray(direction_a))) / vxSize_a
    cri_a = np.round(cri_a)
    return IrcTuple(int(cri_a[2]), int(cri_a[1]), int(cri_a[0]))
