"""Chapter 10, page 260: caching, on disk (diskcache) for the crops and in memory (lru_cache) for the CT.

The disk cache pays because a crop is small and a CT is large: without it every sample loads its whole CT. How
much faster a cached crop is read than computed, in this process's CPU time (``time.process_time``: other
processes on a shared machine do not inflate it the way they do wall-clock times), median of 6 candidates, no CT
in memory before either, with the book's cache (which stores the crops uncompressed, see below), over 5 to 13
runs on torch 2.14.1 (Python 3.11) and 5 on torch 1.4 (Python 3.8): on a scan of 128 x 256 x 256 voxels
(``SCAN_SHAPE_IRC``, 114 times the 32 x 48 x 48 crop; LUNA16's are 300 to 2,500 times) 23.1-30.6x and 29.8-56.9x;
on 64 x 192 x 192 (32 crops) 6.3-7.5x and 6.5-14.1x; on a scan no bigger than the crop 4.2-4.5x and 3.3-4.0x
(what is left is the loader's own cost: finding, checking and opening the files); with a cache that never hits
(the fault diskcache-memoize-never-hits) about 1x. The test asks for 10x.

Each test makes its own cache directory and clears ``getCt``'s cache, so the counts do not depend on other
tests. Everything here runs on the host (SimpleITK, numpy, diskcache): no test takes ``device``.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import time
from pathlib import Path

import diskcache
import numpy as np
import pytest
from diskcache import FanoutCache

from claims.book.luna import cache as cache_module
from claims.book.luna import ct as ct_module
from claims.book.luna.cache import BookGzipDisk, RawCandidateCache
from claims.book.luna.candidates import getCandidateInfoList
from claims.book.luna.dataset import WIDTH_IRC
from claims.experiments.disk_cache import PicklingGzipDisk, stored_bytes
from fixtures.luna import write_lung_scan

DISK = "ch10.crops-are-cached-on-disk"
LRU = "ch10.ct-loader-keeps-the-last-ct-in-memory"
GZIP = "ch10.disk-cache-stores-crops-compressed"
SCAN_SHAPE_IRC = (128, 256, 256)  # the timed scan: 114 crops' worth of voxels
SPEEDUP = 10.0  # median uncached / cached CPU time, 6 candidates: 23.1-56.9x; crop-sized scan 3.3-4.5x; no cache ~1x


@pytest.fixture
def counted_loads(monkeypatch) -> list[str]:
    """Every call of the CT loader ``getCt`` (cleared first), by series uid."""
    ct_module.getCt.cache_clear()
    calls, real = [], ct_module.getCt

    def counting(root, series_uid):
        calls.append(series_uid)
        return real(root, series_uid)

    monkeypatch.setattr(ct_module, "getCt", counting)
    return calls


@pytest.fixture
def axis_aligned(luna_tree) -> list:
    """The candidates of the plain and flipped scans (the book's xyz2irc is wrong on the rotated one)."""
    rotated = luna_tree.series["rotated"].series_uid
    return [c for c in getCandidateInfoList(str(luna_tree.root)) if c.series_uid != rotated]


def digest(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


@pytest.mark.claim(DISK)
def test_second_request_comes_from_the_disk_cache(luna_tree, axis_aligned, counted_loads, tmp_path, evidence):
    """p.260: the first request loads the CT; the second does not call the loader and returns an identical
    crop, read back from the cache directory (a new array, equal to the first voxel for voxel). The cache keeps up
    to util/disk.py's size_limit, 3e11 bytes, before it culls: room for LUNA16's 551,065 crops (163 GB)."""
    cache = RawCandidateCache(tmp_path / "cache")
    assert cache.cache.size_limit == 3e11 > 551_065 * 4 * 32 * 48 * 48, f"size_limit {cache.cache.size_limit}"
    c = axis_aligned[0]
    args = (str(luna_tree.root), c.series_uid, c.center_xyz, WIDTH_IRC)
    first, first_irc = cache.getCtRawCandidate(*args)
    loads_after_first = len(counted_loads)
    second, second_irc = cache.getCtRawCandidate(*args)
    evidence.record(loads_after_first=loads_after_first, loads_after_second=len(counted_loads))
    assert loads_after_first == 1 and len(counted_loads) == 1, f"loader calls: {counted_loads}"
    assert second is not first and first_irc == second_irc
    assert np.array_equal(first, second) and first.dtype == second.dtype == np.float32


@pytest.mark.claim(DISK)
def test_a_new_process_reads_the_same_cache(luna_tree, axis_aligned, tmp_path, evidence):
    """p.260: the cache is on disk: a new Python process, whose CT loader raises if called, gets the
    crop the first process stored, byte for byte."""
    cache = RawCandidateCache(tmp_path / "cache")
    c = axis_aligned[1]
    crop, center_irc = cache.getCtRawCandidate(str(luna_tree.root), c.series_uid, c.center_xyz, WIDTH_IRC)
    script = f"""
import hashlib, numpy as np
from claims.book.luna import ct as ct_module
from claims.book.luna.cache import RawCandidateCache
def no_load(*args): raise SystemExit("the CT loader was called: the cache missed")
ct_module.getCt = no_load
crop, irc = RawCandidateCache({str(tmp_path / "cache")!r}).getCtRawCandidate(
    {str(luna_tree.root)!r}, {c.series_uid!r}, {c.center_xyz!r}, {WIDTH_IRC!r})
print(hashlib.sha256(np.ascontiguousarray(crop).tobytes()).hexdigest(), tuple(irc))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=Path(__file__).parents[2])
    evidence.record(returncode=out.returncode)
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.split(maxsplit=1) == [digest(crop), f"{tuple(center_irc)}\n"], out.stdout


@pytest.mark.claim(DISK)
def test_a_cached_crop_is_read_faster_than_its_ct_is_loaded(tmp_path, evidence):
    """p.260: on a scan 114 times the crop's size, reading a crop from the disk cache takes under a tenth of the
    CPU time that getCtRawCandidate takes without the cache, loading the whole CT to crop it (measured ranges in
    the module's docstring)."""
    root = tmp_path / "luna"
    series_uid, centers = write_lung_scan(root, SCAN_SHAPE_IRC)
    cache = RawCandidateCache(tmp_path / "cache")
    uncached, cached = [], []
    for center_xyz in centers:
        args = (str(root), series_uid, center_xyz, WIDTH_IRC)
        cache.getCtRawCandidate(*args)  # stored once
        for times, get in ((uncached, cache_module.getCtRawCandidate), (cached, cache.getCtRawCandidate)):
            ct_module.getCt.cache_clear()  # no CT in memory, as in a new run: only the disk cache can help
            start = time.process_time()
            get(*args)
            times.append(time.process_time() - start)
    speedup = float(np.median(np.array(uncached) / np.array(cached)))  # the median leaves out one-off costs
    evidence.record(
        uncached_cpu_ms=[round(1e3 * t, 1) for t in uncached],
        cached_cpu_ms=[round(1e3 * t, 1) for t in cached],
        median_speedup=round(speedup, 2),
    )
    assert speedup > SPEEDUP, f"expected the cached crop {SPEEDUP}x faster, measured {speedup:.2f}x"


@pytest.mark.claim(LRU)
def test_get_ct_keeps_the_last_ct_in_memory(luna_tree, monkeypatch, evidence):
    """p.260: getCt's lru_cache(1, typed=True): the same series twice is one read of the files and the same object;
    another series evicts it, so coming back reads it again."""
    ct_module.getCt.cache_clear()
    reads, real_init = [], ct_module.Ct.__init__

    def counting_init(self, root, series_uid):
        reads.append(series_uid[-1])
        real_init(self, root, series_uid)

    monkeypatch.setattr(ct_module.Ct, "__init__", counting_init)
    root = str(luna_tree.root)
    plain, flipped = luna_tree.series["plain"].series_uid, luna_tree.series["flipped"].series_uid
    a, b = ct_module.getCt(root, plain), ct_module.getCt(root, plain)
    assert a is b and reads == ["1"], f"same series twice: reads {reads}"
    ct_module.getCt(root, flipped)
    c = ct_module.getCt(root, plain)
    evidence.record(reads=reads, cache_info=list(ct_module.getCt.cache_info()))
    assert c is not a and reads == ["1", "2", "1"], f"expected plain, flipped, plain again; read {reads}"


@pytest.mark.claim(GZIP)
def test_books_gzip_disk_stores_memoized_crops_uncompressed(luna_tree, axis_aligned, tmp_path, evidence):
    """p.260, refuted (util/disk.py, both editions): the book's GzipDisk gzips only ``bytes`` values; memoize
    stores the (crop, center_irc) tuple, which diskcache pickles as is: a 32x48x48 float32 crop (294,912 bytes)
    takes at least that on disk. The same class does compress a bytes value, and a Disk that pickles and then
    compresses stores the crop in well under that (measured 104 kB, 2.8x)."""
    c = axis_aligned[0]
    args = (str(luna_tree.root), c.series_uid, c.center_xyz, WIDTH_IRC)
    crop, _ = RawCandidateCache(tmp_path / "book", disk=BookGzipDisk).getCtRawCandidate(*args)
    RawCandidateCache(tmp_path / "pickled", disk=PicklingGzipDisk).getCtRawCandidate(*args)
    raw_bytes = FanoutCache(str(tmp_path / "bytes"), disk=BookGzipDisk, shards=1)
    raw_bytes.set("crop-bytes", crop.tobytes())
    stored = {name: stored_bytes(tmp_path / name) for name in ("book", "pickled", "bytes")}
    evidence.record(array_bytes=crop.nbytes, stored_bytes=stored)
    assert stored["book"] >= crop.nbytes, f"book's GzipDisk stored the crop in {stored['book']} bytes"
    assert 0 < stored["bytes"] < 0.6 * crop.nbytes, f"book's GzipDisk on bytes: {stored['bytes']}"
    assert 0 < stored["pickled"] < 0.6 * crop.nbytes, f"pickled, then compressed: {stored['pickled']} bytes"
    assert raw_bytes.get("crop-bytes") == crop.tobytes()


@pytest.mark.claim(GZIP)
def test_only_the_second_editions_disk_py_imports_on_diskcache_5(evidence):
    """p.260, util/disk.py: the first edition imports BytesType and BytesIO from diskcache.core, which diskcache 5
    removed (dlwpt-code issues #22, #27): where they are gone the file raises ImportError. The second edition takes
    bytes and io.BytesIO instead, which is what the two names were on Python 3, so where the first edition's
    import still works the two editions' GzipDisk are the same code (``BookGzipDisk``)."""
    first, second = "from diskcache.core import BytesType, MODE_BINARY, BytesIO", "from io import BytesIO"
    namespace: dict = {}
    try:
        exec(first, namespace)
        first_error = None
    except ImportError as exc:
        first_error = str(exc)
    exec("from diskcache.core import MODE_BINARY\n" + second, {})
    evidence.record(diskcache=diskcache.__version__, first_edition_import_error=first_error)
    if first_error is None:  # diskcache before 5: the names are Python 3's own
        assert namespace["BytesType"] is bytes and namespace["BytesIO"] is io.BytesIO, namespace
    else:
        assert "BytesType" in first_error, first_error
        assert not hasattr(diskcache.core, "BytesType") and not hasattr(diskcache.core, "BytesIO")
