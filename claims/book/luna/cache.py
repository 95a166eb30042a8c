"""The book's disk cache of cropped candidates (section 10.5.1), with the ``diskcache`` package.

``getCtRawCandidate`` is memoized on disk: the first call loads the CT (``getCt``) and crops; later
calls, in this process or another, read the crop back from the cache directory.

The book's ``util/disk.py`` meant to store values gzip-compressed with a ``diskcache.Disk`` subclass,
``GzipDisk``; ``BookGzipDisk`` is that class as printed (with ``bytes`` for ``diskcache.core.BytesType``,
which diskcache 5 removed). It compresses only values that are ``bytes``, and ``memoize`` stores the
(array, center_irc) tuple, which diskcache pickles uncompressed. ``GzipDisk``, the default here,
pickles every value and then compresses it (level 1, as the book).
"""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

from diskcache import Disk, FanoutCache
from diskcache.core import MODE_BINARY

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


class BookGzipDisk(Disk):
    """The book's GzipDisk: gzip (level 1) for values that are ``bytes``; anything else as ``Disk`` does."""

    def store(self, value, read, key=None):
        if type(value) is bytes:  # the book: ``type(value) is BytesType``
            if read:
                value, read = value.read(), False
            value = gzip.compress(value, compresslevel=1)
        return super().store(value, read)

    def fetch(self, mode, filename, value, read):
        value = super().fetch(mode, filename, value, read)
        if mode == MODE_BINARY:
            value = gzip.decompress(value)
        return value


def getCache(directory, disk: type[Disk] = GzipDisk) -> FanoutCache:
    """A cache directory like the book's ``getCache(scope_str)``: a sharded diskcache (4 shards, not 64)."""
    return FanoutCache(str(directory), disk=disk, shards=4, timeout=1)


def getCtRawCandidate(root, series_uid: str, center_xyz, width_irc):
    """The crop and its centre voxel, straight from the CT (what the cache stores)."""
    ct = ct_module.getCt(str(root), series_uid)
    return ct.getRawCandidate(center_xyz, width_irc)


class RawCandidateCache:
    """``getCtRawCandidate`` memoized in the cache directory ``directory`` (the book's ``raw_cache``)."""

    def __init__(self, directory, disk: type[Disk] = GzipDisk):
        self.directory, self.disk = Path(directory), disk
        self.cache = getCache(self.directory, disk)
        self.getCtRawCandidate = self.cache.memoize(name="getCtRawCandidate", typed=True)(getCtRawCandidate)

    def __getstate__(self):  # DataLoader workers started with spawn reopen the same directory
        return {"directory": self.directory, "disk": self.disk}

    def __setstate__(self, state):
        self.__init__(state["directory"], state["disk"])
