"""Fixtures of the harness tests: a throwaway project with its own registry and tests, and the real plugin
(the project itself is ``tests/harness/helpers.py``, which test modules import)."""

from __future__ import annotations

import pytest

# Imported here, once: pytester's in-process runs drop the modules a run imported, and torch registers
# its operators once per process, so torchvision (and what it imports) must not be imported afresh there.
import claims.book.cifar  # noqa: F401
import claims.book.luna.candidates  # noqa: F401

try:  # On Python < 3.10 plugins (pytest-randomly) import this backport, which on import turns the standard
    # library's distribution finder off for good and puts its own in; imported afresh by a run and dropped
    # after it, it would leave this process with no entry points at all.
    import importlib_metadata  # noqa: F401
except ImportError:
    pass

from tests.harness.helpers import ClaimsProject  # noqa: E402


@pytest.fixture
def project(pytester) -> ClaimsProject:
    return ClaimsProject(pytester)


@pytest.fixture
def cached_project(pytester) -> ClaimsProject:
    """A project with pytest's cache on, for --lf."""
    return ClaimsProject(pytester, cache=True)
