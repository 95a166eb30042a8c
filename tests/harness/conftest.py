"""A throwaway project for the harness tests: its own registry, its own tests, the real plugin.

The plugin is the installed ``pytest11`` entry point; the project turns it on the way this suite does,
with ``claims_registry`` in its pytest configuration.
"""

from __future__ import annotations

import json
import textwrap

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

REGISTRY = """
[[claim]]
id = "ch05.plain-claim"
chapter = 5
page = 110
statement = "A claim that holds."
source = "110 - a line of the notes"

[[claim]]
id = "ch05.changed-claim"
chapter = 5
page = 127
statement = "A claim PyTorch changed."
source = "127 - a line of the notes"
amended = { since = "2.0", now = "What PyTorch does now." }

[[claim]]
id = "ch07.future-change"
chapter = 7
page = 170
statement = "A claim amended by a release that has not happened yet."
source = "170 - a line of the notes"
amended = { since = "99.0", now = "Something later." }

[[claim]]
id = "ch07.wrong-claim"
chapter = 7
page = 180
statement = "A claim the book gets wrong."
source = "180 - a line of the notes"
refuted = "What is true instead."

[[claim]]
id = "ch08.nobody-tests-this"
chapter = 8
page = 205
statement = "A claim no test names."
source = "205 - a line of the notes"
"""

PLAIN_TEST = """
import pytest

@pytest.mark.claim("ch05.plain-claim")
def test_plain(device):
    assert device.type in ("cpu", "cuda")
"""


class ClaimsProject:
    def __init__(self, pytester: pytest.Pytester, cache: bool = False):
        self.pytester = pytester
        plugins = "-p no:randomly" + ("" if cache else " -p no:cacheprovider")
        pytester.makeini(f"[pytest]\nclaims_registry = registry\ntestpaths = .\naddopts = {plugins}\n")
        self.write_registry(REGISTRY)

    @property
    def path(self):
        return self.pytester.path

    def write_registry(self, text: str, name: str = "claims.toml"):
        path = self.pytester.path / "registry" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    def write_tests(self, source: str, name: str = "test_claims"):
        return self.pytester.makepyfile(**{name: textwrap.dedent(source)})

    def run(self, *args):
        return self.pytester.runpytest_inprocess(*args)

    def ledger(self, path: str = "reports/ledger.json") -> dict:
        return json.loads((self.pytester.path / path).read_text())

    def verdicts(self, path: str = "reports/ledger.json", device: str = "cpu") -> dict:
        return {c["id"]: c["results"].get(device, {}).get("verdict") for c in self.ledger(path)["claims"]}


@pytest.fixture
def project(pytester) -> ClaimsProject:
    return ClaimsProject(pytester)


@pytest.fixture
def cached_project(pytester) -> ClaimsProject:
    """A project with pytest's cache on, for --lf."""
    return ClaimsProject(pytester, cache=True)
