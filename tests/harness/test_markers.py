"""The plugin's markers are defined once, in claims.plugin, which registers them wherever it loads."""

from __future__ import annotations

import sys
from pathlib import Path

from claims.plugin import MARKERS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.8 to 3.10
    import tomli as tomllib

MARKED = """
import pytest

@pytest.mark.claim("ch05.plain-claim")
@pytest.mark.devices("cpu", reason="a claim about the CPU")
def test_plain(device):
    pass

@pytest.mark.sweep
@pytest.mark.claim("ch05.plain-claim")
def test_sweep():
    pass
"""


def test_strict_markers_accepts_the_plugins_markers_with_none_in_the_configuration(project):
    project.write_tests(MARKED)
    result = project.run("--strict-markers", "--device", "cpu", "-m", "sweep or not sweep")
    result.assert_outcomes(passed=2)
    markers = project.run("--markers").stdout.str()
    for line in MARKERS:
        assert f"@pytest.mark.{line}" in markers


def test_this_projects_configuration_repeats_none_of_the_plugins_markers():
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    declared = {line.split(":")[0].split("(")[0] for line in pyproject["tool"]["pytest"]["ini_options"]["markers"]}
    assert declared.isdisjoint({line.split(":")[0].split("(")[0] for line in MARKERS})
