"""Chapter 10's data: a synthetic LUNA16 tree written once per session, and the user's real one.

``luna_tree`` is the synthetic tree (``fixtures/luna.py``: three MetaIO CTs with planted nodules, one
series in the CSVs with no CT on disk); ``real_luna`` is the directory given with ``--luna-root`` or
``$LUNA16_ROOT``, checked to be a LUNA16 tree, and skips with the reason otherwise.
"""

from __future__ import annotations

import pytest

from claims.book.luna.cache import RawCandidateCache
from claims.book.luna.layout import check_luna_root
from fixtures.luna import LunaTree, write_luna_tree


@pytest.fixture(scope="session")
def luna_tree(tmp_path_factory) -> LunaTree:
    """The synthetic LUNA16 tree (written in about 0.3 s)."""
    return write_luna_tree(tmp_path_factory.mktemp("luna"), seed=0)


@pytest.fixture
def luna_cache(session_cache, tmp_path_factory) -> RawCandidateCache:
    """One disk cache of crops shared by the dataset tests (the caching tests make their own); a test run
    with a planted fault gets a cache of its own, so no crop made with the fault is served without it."""
    return session_cache("luna-cache", lambda: RawCandidateCache(tmp_path_factory.mktemp("luna-cache")))


@pytest.fixture(scope="session")
def real_luna(luna_root):
    """The real LUNA16 root (``--luna-root``/``$LUNA16_ROOT``), checked; skipped without it."""
    return check_luna_root(luna_root)
