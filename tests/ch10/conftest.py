"""Chapter 10's data: a synthetic LUNA16 tree written once per session, and the user's real one.

``luna_tree`` is the synthetic tree (``fixtures/luna.py``: three MetaIO CTs with planted nodules, one
series in the CSVs with no CT on disk); ``luna_split_tree`` a tree of 3,000 candidates for the split;
``real_luna`` is the directory given with ``--luna-root`` or ``$LUNA16_ROOT``, checked to be a LUNA16 tree,
and skips with the reason otherwise.
"""

from __future__ import annotations

import pytest

from claims.book.luna.cache import RawCandidateCache
from claims.book.luna.layout import check_luna_root
from fixtures.luna import LunaTree, write_luna_tree, write_split_tree


@pytest.fixture(scope="session")
def luna_tree(tmp_path_factory) -> LunaTree:
    """The synthetic LUNA16 tree (written in about 0.3 s)."""
    return write_luna_tree(tmp_path_factory.mktemp("luna"), seed=0)


@pytest.fixture(scope="session")
def luna_split_tree(tmp_path_factory):
    """A LUNA16 tree of 3,000 candidates, 300 of them nodules of 3 to 30 mm, over 10 tiny scans."""
    return write_split_tree(tmp_path_factory.mktemp("luna-split"), seed=0)


@pytest.fixture
def luna_cache(session_cache, tmp_path_factory) -> RawCandidateCache:
    """One disk cache of crops shared by the dataset tests (the caching tests make their own); a test run
    with a planted fault gets a cache of its own, so no crop made with the fault is served without it."""
    return session_cache("luna-cache", lambda: RawCandidateCache(tmp_path_factory.mktemp("luna-cache")))


@pytest.fixture(scope="session")
def real_luna(luna_root):
    """The real LUNA16 root (``--luna-root``/``$LUNA16_ROOT``), checked; skipped without it."""
    return check_luna_root(luna_root)
