"""What the book's disk cache meant to do (page 260): store every value gzip-compressed.

``PicklingGzipDisk`` is a ``diskcache.Disk`` that pickles every value and then compresses it (level 1, as the
book's ``GzipDisk``), so that ``memoize``'s (crop, center_irc) tuple is compressed too, which the book's class
does not do. It is the suite's, to measure what compression would save; the book's class is
``claims.book.luna.cache.BookGzipDisk``.
"""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

from diskcache import Disk


class PicklingGzipDisk(Disk):
    """Stores each value pickled and gzip-compressed; keys are stored as ``Disk`` stores them."""

    def store(self, value, read, key=None):
        if read:
            raise ValueError("PicklingGzipDisk stores values, not files (read=True)")
        data = gzip.compress(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), compresslevel=1)
        return super().store(data, False, key=key)

    def fetch(self, mode, filename, value, read):
        return pickle.loads(gzip.decompress(super().fetch(mode, filename, value, read)))


def stored_bytes(directory) -> int:
    """What diskcache wrote for the values it keeps in files (a crop is far above its 32 kB threshold)."""
    return sum(p.stat().st_size for p in Path(directory).rglob("*.val"))
