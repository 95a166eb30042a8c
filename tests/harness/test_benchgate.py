"""The benchmark regression gate fails in one readable line per regressed benchmark, not a traceback."""

import functools
import json

import pytest

from claims.cli import main

pytest.importorskip("pytest_benchmark")

BENCHMARK = """
import os, time

def test_sleepy(benchmark):
    benchmark.pedantic(time.sleep, args=(float(os.environ.get("NAP", "0.001")),), rounds=3, iterations=1)
"""


MACHINE_INFO = """
def pytest_benchmark_generate_machine_info(config):
    return {"node": "harness-test", "processor": "", "machine": "", "python_implementation": "",
            "python_version": "", "python_compiler": "", "release": "", "system": "", "cpu": {}}
"""


def test_a_regression_is_one_line_per_benchmark_and_a_failed_run(project, monkeypatch):
    project.write_tests(BENCHMARK, name="test_bench")
    # pytest-benchmark describes the machine with py-cpuinfo, 1.1 s a run here; the gate never reads it
    project.pytester.makeconftest(MACHINE_INFO)
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


# -- python -m claims gate ----------------------------------------------------------------------------


def bench_file(tmp_path, name, relative: dict, **extra):
    """A pytest-benchmark JSON file as tests/benchmarks writes it, reduced to what the gate reads."""
    benchmarks = [
        {"name": n.split("::")[-1], "fullname": n, "extra_info": {"relative_time": r, **extra}, "stats": {}}
        for n, r in relative.items()
    ]
    path = tmp_path / name
    path.write_text(json.dumps({"machine_info": {}, "benchmarks": benchmarks}))
    return str(path)


def test_gate_fails_one_line_per_benchmark_slower_relative_to_the_reference(tmp_path, capsys):
    """Times relative to the reference workload: 8 -> 12 is +50%, a regression; 100 -> 110 is +10%, noise."""
    base = bench_file(tmp_path, "base.json", {"t::test_throughput[cpu-Net-training-1]": 8.0, "t::fc": 100.0})
    new = bench_file(tmp_path, "new.json", {"t::test_throughput[cpu-Net-training-1]": 12.0, "t::fc": 110.0})
    assert main(["gate", base, new]) == 1
    out = capsys.readouterr().out.splitlines()
    assert [line for line in out if line.startswith("REGRESSED")] == [
        "REGRESSED t::test_throughput[cpu-Net-training-1]: 8 -> 12 times the reference (+50%, more than 35%)"
    ]
    assert out[-1].startswith("2 benchmarks compared, 1 regressed; the largest change +50%")
    assert main(["gate", base, new, "--max-slowdown", "60"]) == 0
    assert main(["gate", new, base]) == 0, "faster is no regression"


def test_gate_says_what_it_could_not_compare(tmp_path, capsys):
    base = bench_file(tmp_path, "base.json", {"t::a": 1.0, "t::gone": 1.0})
    new = bench_file(tmp_path, "new.json", {"t::a": 1.0, "t::added": 1.0})
    assert main(["gate", base, new]) == 0
    out = capsys.readouterr().out
    assert (
        "only in the baseline (not compared): t::gone" in out and "only in the new run (not compared): t::added" in out
    )
    disjoint = bench_file(tmp_path, "other.json", {"t::b": 1.0})
    assert main(["gate", base, disjoint]) == 1, "nothing compared is no pass"


@pytest.mark.parametrize(
    "content, problem",
    [
        (None, "no such benchmark file"),
        ("{", "not a JSON file"),
        ('{"benchmarks": [{"name": "t", "extra_info": {}}]}', "no benchmark records relative_time"),
    ],
)
def test_gate_bad_input_is_one_line_naming_the_file(tmp_path, capsys, content, problem):
    path = tmp_path / "bench.json"
    if content is not None:
        path.write_text(content)
    good = bench_file(tmp_path, "good.json", {"t::a": 1.0})
    assert main(["gate", str(path), good]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and problem in err[0], err
