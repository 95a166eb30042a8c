"""The book's disk cache of cropped candidates (section 10.5.1, ``util/disk.py``), with the ``diskcache`` package.

``getCtRawCandidate`` is memoized on disk: the first call loads the CT (``getCt``) and crops; later
calls, in this process or another, read the crop back from the cache directory.

The book's ``util/disk.py`` gives diskcache a ``Disk`` subclass, ``GzipDisk``, meant to store values
gzip-compressed (level 1). ``BookGzipDisk`` is that class as dlwpt-code-2e prints it: the first edition's code
with ``bytes`` and ``io.BytesIO`` where the first edition imports ``BytesType`` and ``BytesIO`` from
``diskcache.core``, names diskcache 5 removed (they were ``bytes`` and ``io.BytesIO`` on Python 3), so the same
code runs on every diskcache. It compresses only values whose type is ``bytes``; ``memoize`` hands it the
(array, center_irc) tuple, which diskcache then pickles uncompressed.
"""

from __future__ import annotations

import gzip
from io import BytesIO
from pathlib import Path

from diskcache import Disk, FanoutCache
from diskcache.core import MODE_BINARY

from claims.book.luna import ct as ct_module


class BookGzipDisk(Disk):
    """util/disk.py's GzipDisk: gzip (level 1, in 1 GiB chunks) for values that are ``bytes``; the rest as Disk."""

    def store(self, value, read, key=None):
        if type(value) is bytes:  # the first edition: ``type(value) is BytesType``
            if read:
                value = value.read()
                read = False

            str_io = BytesIO()
            gz_file = gzip.GzipFile(mode="wb", compresslevel=1, fileobj=str_io)

            for offset in range(0, len(value), 2**30):
                gz_file.write(value[offset : offset + 2**30])
            gz_file.close()

            value = str_io.getvalue()

        return super().store(value, read)

    def fetch(self, mode, filename, value, read):
        value = super().fetch(mode, filename, value, read)

        if mode == MODE_BINARY:
            str_io = BytesIO(value)
            gz_file = gzip.GzipFile(mode="rb", fileobj=str_io)
            read_csio = BytesIO()

            while True:
                uncompressed_data = gz_file.read(2**30)
                if uncompressed_data:
                    read_csio.write(uncompressed_data)
                else:
                    break

            value = read_csio.getvalue()

        return value


SIZE_LIMIT = 3e11  # util/disk.py's size_limit: 300 GB before diskcache culls (its default is 1 GiB)


def getCache(directory, disk: type[Disk] = BookGzipDisk) -> FanoutCache:
    """A cache directory like the book's ``getCache(scope_str)``: its GzipDisk, timeout=1 and size_limit=3e11, so
    that the crops of all of LUNA16 (about 163 GB uncompressed) fit as they do in the book's, where diskcache's
    default 1 GiB would cull them. One difference: one shard, not 64 (each shard is an SQLite database, which takes
    about 0.1 s to create here: the book makes one cache, the tests a dozen). FanoutCache splits size_limit among
    its shards, so the total is the book's: 3e11 in one shard instead of 64 shards of 4.7 GB."""
    return FanoutCache(str(directory), disk=disk, shards=1, timeout=1, size_limit=SIZE_LIMIT)


def getCtRawCandidate(root, series_uid: str, center_xyz, width_irc):
    """The crop and its centre voxel, straight from the CT (what the cache stores)."""
    ct = ct_module.getCt(str(root), series_uid)
    return ct.getRawCandidate(center_xyz, width_irc)


class RawCandidateCache:
    """``getCtRawCandidate`` memoized in the cache directory ``directory`` (the book's ``raw_cache``)."""

    def __init__(self, directory, disk: type[Disk] | None = None):
        self.directory, self.disk = Path(directory), disk
        self.cache = getCache(self.directory, disk or BookGzipDisk)
        self.getCtRawCandidate = self.cache.memoize(name="getCtRawCandidate", typed=True)(getCtRawCandidate)

    def __getstate__(self):  # DataLoader workers started with spawn reopen the same directory
        return {"directory": self.directory, "disk": self.disk}

    def __setstate__(self, state):
        self.__init__(state["directory"], state["disk"])
