"""The book's disk cache of cropped candidates (section 10.5.1), with the ``diskcache`` package.

``getCtRawCandidate`` is memoized on disk: the first call loads the CT (``getCt``) and crops; later
calls, in this process or another, read the crop back from the cache directory. As in the book, the
values are stored gzip-compressed (level 1) by a ``diskcache.Disk`` subclass.
"""
from __future__ import annotations

import gzip
import pickle
from pathlib import Path

from diskcache import Disk, FanoutCache

from claims.book.luna import ct as ct_module


class GzipDisk(Disk):
    """Stores each value pickled and gzip-compressed; keys are stored as ``Disk`` stores them."""

    def store(self, value, read, key=None):
        if read:
            raise ValueError("GzipDisk stores values, not files (read=True)")
        data = gzip.compress(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), compresslevel=1)
        return super().store(data, False, key=key)

    def fetch(self, mode, filename, value, read):
        return pickle.loads(gzip.decompress(super().fetch(mode, filename, value, read)))


def getCache(directory) -> FanoutCache:
    """A cache directory like the book's ``getCache(scope_str)``: a sharded diskcache with GzipDisk."""
    return FanoutCache(str(directory), disk=GzipDisk, shards=4, timeout=1)


def getCtRawCandidate(root, series_uid: str, center_xyz, width_irc):
    """The crop and its centre voxel, straight from the CT (what the cache stores)."""
    ct = ct_module.getCt(str(root), series_uid)
    return ct.getRawCandidate(center_xyz, width_irc)


class RawCandidateCache:
    """``getCtRawCandidate`` memoized in the cache directory ``directory`` (the book's ``raw_cache``)."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.cache = getCache(self.directory)
        self.getCtRawCandidate = self.cache.memoize(name="getCtRawCandidate", typed=True)(getCtRawCandidate)

    def __getstate__(self):  # DataLoader workers started with spawn reopen the same directory
        return {"directory": self.directory}

    def __setstate__(self, state):
        self.__init__(state["directory"])
