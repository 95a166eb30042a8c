"""The harness tests' throwaway project: one registry and one builder, for pytest runs (``ClaimsProject``,
the ``project`` fixture of conftest.py) and for the report (``make_project``, a root as ``--root`` expects).

The plugin is the installed ``pytest11`` entry point; the project turns it on the way this suite does, with
``claims_registry`` in its pytest configuration.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

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
REGISTRY_DIR = "claims/registry"  # under the project root, where the report looks for it too

PLAIN_TEST = """
import pytest

@pytest.mark.claim("ch05.plain-claim")
def test_plain(device):
    assert device.type in ("cpu", "cuda")
"""


def write_project(root: Path, cache: bool = False) -> Path:
    """A project root: its pytest configuration (the plugin on, this project's registry) and the registry."""
    plugins = "-p no:randomly" + ("" if cache else " -p no:cacheprovider")
    root.mkdir(parents=True, exist_ok=True)
    (root / "pytest.ini").write_text(
        f"[pytest]\nclaims_registry = {REGISTRY_DIR}\ntestpaths = .\naddopts = {plugins}\n"
    )
    write_registry(root, REGISTRY)
    return root


def write_registry(root: Path, text: str, name: str = "claims.toml") -> Path:
    path = root / REGISTRY_DIR / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


class ClaimsProject:
    """The project inside a ``pytester`` directory, run in process."""

    def __init__(self, pytester, cache: bool = False):
        self.pytester = pytester
        write_project(pytester.path, cache=cache)

    @property
    def path(self) -> Path:
        return self.pytester.path

    def write_registry(self, text: str, name: str = "claims.toml") -> Path:
        return write_registry(self.path, text, name)

    def write_tests(self, source: str, name: str = "test_claims"):
        return self.pytester.makepyfile(**{name: textwrap.dedent(source)})

    def run(self, *args):
        return self.pytester.runpytest_inprocess(*args)

    def ledger(self, path: str = "reports/ledger.json") -> dict:
        return json.loads((self.path / path).read_text())

    def verdicts(self, path: str = "reports/ledger.json", device: str = "cpu") -> dict:
        return {c["id"]: c["results"].get(device, {}).get("verdict") for c in self.ledger(path)["claims"]}


# -- the same project, as the report reads it ----------------------------------------------------------------

REPORT_TESTS = '''
"""Module docstring: how the margins were measured."""
import pytest

CLAIM = "ch07.wrong-claim"


@pytest.mark.claim("ch05.plain-claim")
def test_plain(device, evidence):
    """p.110: the plain claim's docstring."""
    evidence.record(losses=[4.0, 2.0, 1.0, 0.5], final=0.5)
    assert True


@pytest.mark.claim(CLAIM)
def test_wrong_depth(device, evidence):
    """p.180: gradient norm against depth."""
    evidence.record(without_skips={"10": 1.0, "50": 1e-6, "100": 0.0}, with_skips={"10": 1.0, "50": 2.0, "100": 3.0})
'''

PRINTED = """
[[output]]
notebook = "p1ch5/1_parameter_estimation.ipynb"
cell = 17
printed = "Epoch 1, Loss 1763.884644"
values = ["1763.884644"]
test = "tests/ch05/test_fake.py::test_plain"

[[output]]
notebook = "p1ch5/1_parameter_estimation.ipynb"
cell = 9
printed = "tensor([...])"
not_asserted = "unseeded"
why = "drawn without a seed"
"""


def make_project(root: Path) -> Path:
    """The project root with one test module (``tests/ch05/test_fake.py``) and one printed output it asserts,
    as the report's ``--root`` expects."""
    write_project(root)
    (root / "tests" / "ch05").mkdir(parents=True)
    (root / "tests" / "ch05" / "test_fake.py").write_text(REPORT_TESTS.lstrip())
    (root / REGISTRY_DIR / "printed").mkdir()
    (root / REGISTRY_DIR / "printed" / "p1ch5.toml").write_text(PRINTED.lstrip())
    return root
