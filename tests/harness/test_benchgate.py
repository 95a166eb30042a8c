"""The benchmark regression gate fails in one readable line per regressed benchmark, not a traceback."""

import functools

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
    # This suite may itself run under xdist, where pytest-benchmark would disable the inner benchmarks.
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT"):
        monkeypatch.delenv(name, raising=False)
    run = functools.partial(project.run, "-p", "no:xdist", "--benchmark-only", f"--benchmark-storage={storage}")
    run("--benchmark-autosave").assert_outcomes(passed=1)
    monkeypatch.setenv("NAP", "0.02")
    result = run("--benchmark-compare", "--benchmark-compare-fail=median:50%")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*= benchmark regressions =*",
            "REGRESSED test_sleepy (0001_*): Field 'median' has failed PercentageRegressionCheck: *",
        ]
    )
    assert "Traceback" not in result.stdout.str() and "INTERNALERROR" not in result.stdout.str()
