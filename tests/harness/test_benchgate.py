"""The benchmark regression gate fails in one readable line per regressed benchmark, not a traceback."""

import pytest

pytest.importorskip("pytest_benchmark")

BENCHMARK = """
import os, time

def test_sleepy(benchmark):
    benchmark.pedantic(time.sleep, args=(float(os.environ.get("NAP", "0.001")),), rounds=3, iterations=1)
"""


def test_a_regression_is_one_line_per_benchmark_and_a_failed_run(project, monkeypatch):
    project.write_tests(BENCHMARK, name="test_bench")
    storage = f"file://{project.path / 'saved'}"
    project.run("--benchmark-only", "--benchmark-autosave", f"--benchmark-storage={storage}").assert_outcomes(passed=1)
    monkeypatch.setenv("NAP", "0.02")
    result = project.run(
        "--benchmark-only",
        f"--benchmark-storage={storage}",
        "--benchmark-compare",
        "--benchmark-compare-fail=median:50%",
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*= benchmark regressions =*",
            "REGRESSED test_sleepy (0001_*): Field 'median' has failed PercentageRegressionCheck: *",
        ]
    )
    assert "Traceback" not in result.stdout.str() and "INTERNALERROR" not in result.stdout.str()
