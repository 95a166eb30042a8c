"""The benchmark regression gates.

- pytest-benchmark's own, readable: ``--benchmark-compare-fail`` ends, when a benchmark regressed, in a
  traceback of pytest-benchmark's; this plugin (registered by ``claims.plugin`` where pytest-benchmark is
  installed) turns it into one line per regressed benchmark and a failed run.
- ``python -m claims gate BASELINE NEW``: compares each model's time relative to the reference workload
  timed beside every round (``claims.experiments.throughput.reference_step``), which other processes'
  load slows alike, so the gate holds on a shared machine where raw times move by more than any useful threshold.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from claims.cli.plot import load_file
from claims.errors import DataFileError


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


# -- python -m claims gate BASELINE NEW: the gate on times relative to the reference workload --------------

DEFAULT_MAX_SLOWDOWN = 35.0  # percent; identical runs moved up to 27% on a shared 2-core machine (README)


def relative_times(path) -> dict[str, float]:
    """``{benchmark name: its median time / the reference workload's}`` from a pytest-benchmark JSON file
    written by ``tests/benchmarks``; a ``DataFileError`` naming the file when there is none."""
    _, benchmarks = load_file(Path(path))
    found = {}
    for bench in benchmarks:
        info = bench.get("extra_info") if isinstance(bench, dict) else None
        if isinstance(info, dict) and isinstance(info.get("relative_time"), (int, float)):
            found[str(bench.get("fullname") or bench.get("name"))] = float(info["relative_time"])
    if not found:
        raise DataFileError(
            path, "no benchmark records relative_time (written before this gate existed? run the benchmarks again)"
        )
    return found


def compare(baseline: dict[str, float], new: dict[str, float], max_slowdown: float) -> tuple[list[str], int]:
    """One line per benchmark more than ``max_slowdown`` percent slower relative to the reference, then a
    summary line; status 1 when any regressed."""
    both = sorted(set(baseline) & set(new))
    change = {name: 100 * (new[name] / baseline[name] - 1) for name in both}
    regressed = [name for name in both if change[name] > max_slowdown]
    lines = [
        f"REGRESSED {name}: {baseline[name]:.4g} -> {new[name]:.4g} times the reference "
        f"(+{change[name]:.0f}%, more than {max_slowdown:g}%)"
        for name in regressed
    ]
    for label, names in (
        ("only in the baseline", set(baseline) - set(new)),
        ("only in the new run", set(new) - set(baseline)),
    ):
        if names:
            lines.append(f"{label} (not compared): {', '.join(sorted(names))}")
    if both:
        worst = max(both, key=change.get)
        lines.append(
            f"{len(both)} benchmarks compared, {len(regressed)} regressed; the largest change {change[worst]:+.0f}% "
            f"({worst}), the threshold +{max_slowdown:g}%"
        )
    else:
        lines.append("no benchmark is in both files: nothing compared")
    return lines, int(bool(regressed) or not both)
