"""pytest-benchmark's regression gate, readable: ``--benchmark-compare-fail`` ends, when a benchmark
regressed, in a traceback of pytest-benchmark's own; this plugin (registered by ``claims.plugin`` where
pytest-benchmark is installed) turns it into one line per regressed benchmark and a failed run."""

from __future__ import annotations

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    from pytest_benchmark.session import PerformanceRegression

    try:
        return (yield)
    except PerformanceRegression:
        terminalreporter.section("benchmark regressions")
        for name, reason in config._benchmarksession.performance_regressions:
            terminalreporter.write_line(f"REGRESSED {name}: {reason}", red=True)
        terminalreporter._session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return None
