"""Bad options stop the run at start-up with one usage error naming the option and the problem."""

import fnmatch

import pytest

from tests.harness.helpers import PLAIN_TEST


def _one_error(result) -> str:
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    errors = [line for line in result.stderr.lines if line.strip()]
    assert len(errors) == 1, result.stderr.str()
    assert "passed" not in result.stdout.str() and "Traceback" not in result.stderr.str()
    return errors[0]


@pytest.mark.parametrize(
    "value, problem",
    [
        ("", "--ledger: the path is empty"),
        ("reports", "--ledger reports: is a directory"),
        ("a_file/ledger.json", "--ledger a_file/ledger.json: * is a file, so nothing can be written under it"),
    ],
)
def test_a_ledger_path_that_cannot_be_written_is_a_usage_error(project, value, problem):
    project.write_tests(PLAIN_TEST)
    (project.path / "reports").mkdir()
    (project.path / "a_file").write_text("")
    for form in ([f"--ledger={value}"], ["--ledger", value]):
        error = _one_error(project.run(*form))
        assert fnmatch.fnmatch(error, f"ERROR: {problem}*"), error


def test_an_unknown_hypothesis_profile_is_a_usage_error(project):
    project.write_tests(PLAIN_TEST)
    error = _one_error(project.run("--hypothesis-profile=bogus"))
    assert error.startswith("ERROR: --hypothesis-profile bogus: no such profile (registered: ")


def test_plant_with_an_unknown_fault_is_a_usage_error(project):
    project.write_tests(PLAIN_TEST)
    error = _one_error(project.run("--plant", "view-copes"))
    assert error.startswith("ERROR: --plant view-copes: unknown fault 'view-copes' (did you mean view-copies?)")


def test_plant_and_falsify_together_is_a_usage_error(project):
    project.write_tests(PLAIN_TEST)
    error = _one_error(project.run("--plant", "view-copies", "--falsify"))
    assert "give one" in error
