"""Under pytest-xdist the controller gathers every worker's outcomes and evidence into one ledger."""

import pytest

pytest.importorskip("xdist")

TESTS = """
import pytest

@pytest.mark.claim("ch05.plain-claim")
@pytest.mark.parametrize("n", range(6))
def test_many(device, evidence, n):
    evidence.record(n=n, square=n * n)

@pytest.mark.claim("ch05.changed-claim")
def test_changed(device):
    pass

@pytest.mark.claim("ch07.wrong-claim")
def test_wrong(device):
    assert False, "broken"

@pytest.mark.claim("ch07.future-change")
def test_skips(device):
    pytest.skip("needs --cifar10-root DIR")
"""


def _comparable(ledger: dict) -> dict:
    keep = (
        "verdict",
        "tests",
        "passed",
        "failed",
        "skipped",
        "not_run",
        "partial",
        "skip_reasons",
        "reason",
        "evidence",
    )
    return {c["id"]: {d: {k: r.get(k) for k in keep} for d, r in c["results"].items()} for c in ledger["claims"]}


def test_two_workers_write_the_ledger_a_serial_run_writes(project):
    project.write_tests(TESTS)
    serial = project.run("--ledger", "serial.json")
    serial.assert_outcomes(passed=7, failed=1, skipped=10 if serial.stdout.str().count("CUDA is not") else 1)
    parallel = project.run("-n", "2", "--ledger", "parallel.json")  # the workers are processes of their own
    assert parallel.ret == serial.ret == pytest.ExitCode.TESTS_FAILED
    one, two = project.ledger("serial.json"), project.ledger("parallel.json")
    assert _comparable(two) == _comparable(one)
    assert two["summary"] == one["summary"]
    assert two["run"]["workers"] == 2 and two["run"]["scope"] == "complete"
    assert two["claims"][0]["checked_by"] == one["claims"][0]["checked_by"] == ["test_claims.py::test_many"]
    parallel.stdout.fnmatch_lines(["*= claims =*", "*ledger written to parallel.json*"])


@pytest.mark.parametrize(
    "args, dist", [(("-n", "2"), "worksteal"), (("-n", "2", "--dist", "load"), "load"), ((), "no")], ids=str
)
def test_n_without_dist_steals_work_and_an_explicit_dist_is_kept(project, args, dist):
    """-n alone schedules by work stealing (the slow tests do not leave a worker idle); --dist is the user's.
    The choice is made before xdist's own pytest_cmdline_main, driven here without starting workers."""
    from claims import plugin

    config = project.pytester.parseconfig(*args)
    wrapper = plugin.pytest_cmdline_main(config)
    next(wrapper)
    wrapper.close()
    assert config.option.dist == dist
