"""A throwaway project for the harness tests: its own registry, its own tests, the real plugin."""
import textwrap

import pytest

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


class ClaimsProject:
    def __init__(self, pytester: pytest.Pytester):
        self.pytester = pytester
        pytester.makeini("[pytest]\nclaims_registry = registry\naddopts = -p no:cacheprovider -p no:unraisableexception\n")
        pytester.makeconftest('pytest_plugins = ["claims.plugin"]\n')
        self.write_registry(REGISTRY)

    def write_registry(self, text: str, name: str = "claims.toml"):
        path = self.pytester.path / "registry" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    def write_tests(self, source: str):
        return self.pytester.makepyfile(test_claims=textwrap.dedent(source))

    def run(self, *args):
        return self.pytester.runpytest_inprocess(*args)


@pytest.fixture
def project(pytester) -> ClaimsProject:
    return ClaimsProject(pytester)
