"""Which ledger a run writes, and why, decided from plain values: no pytest run needed (claims.harness.scope)."""

from __future__ import annotations

from pathlib import Path

import pytest

from claims.harness import scope

ROOT = Path("/project")
TESTS = ROOT / "tests"


def invocation(*args: str, **options) -> scope.Invocation:
    """A command line run from the project root, whose configuration has ``testpaths = ["tests"]``."""
    paths = tuple(ROOT / a.split("::")[0] for a in args)
    return scope.Invocation(args=args, paths=paths, testpaths=(TESTS,), from_testpaths=not args, **options)


@pytest.mark.parametrize("args", [(), ("tests",), (".",), ("tests", ".")])
def test_the_whole_suite_is_complete(args):
    assert scope.partial_because(invocation(*args), deselected=0, not_run=0) == []


@pytest.mark.parametrize(
    "args",
    [
        ("tests/ch05",),
        ("tests/ch05/test_p131.py",),
        ("tests/ch05/test_p131.py::test_remedy",),
        ("tests", "other"),
        ("tests/ch05", "tests"),  # each path is judged alone: one that does not hold every test path narrows
    ],
)
def test_paths_narrower_than_the_suite_make_it_partial(args):
    assert scope.partial_because(invocation(*args), deselected=0, not_run=0) == ["only " + " ".join(args)]


def test_a_node_id_of_the_whole_testpath_is_still_narrower():
    assert scope.narrowed_by_paths(invocation("tests::x")) == "only tests::x"


@pytest.mark.parametrize(
    "options, how",
    [
        ({"keyword": "adam"}, "-k 'adam'"),
        ({"markexpr": "not slow"}, "-m 'not slow'"),
        ({"keyword": "adam", "deselect": True}, "-k 'adam', --deselect"),
        ({"last_failed": True}, "--lf"),
        ({"stepwise": True}, "--sw"),
        ({}, "by a plugin"),
    ],
)
def test_deselected_claim_tests_say_how(options, how):
    reasons = scope.partial_because(invocation(**options), deselected=3, not_run=0)
    assert reasons == [f"3 claim tests deselected ({how})"]


def test_last_failed_is_partial_even_when_it_deselects_nothing():
    """--lf may leave whole files uncollected: nothing shows as deselected, the run is still partial."""
    assert scope.partial_because(invocation(last_failed=True), deselected=0, not_run=0) == ["--lf"]


def test_a_run_that_stopped_early_is_partial_and_every_reason_is_listed():
    reasons = scope.partial_because(invocation("tests/ch05", keyword="x"), deselected=2, not_run=5)
    assert reasons == [
        "only tests/ch05",
        "2 claim tests deselected (-k 'x')",
        "5 claim tests not run (the run stopped early)",
    ]


def test_unfinished_tests_say_why_they_did_not_run():
    collected = ["a", "b", "c", "d"]
    finished = {"a": "passed"}
    stopped = scope.unfinished(collected, finished, selected={"a", "b", "c"}, interrupted=False)
    assert stopped == [("b", scope.STOPPED), ("c", scope.STOPPED), ("d", scope.DESELECTED)]
    assert [t.selected for t in stopped] == [True, True, False]
    interrupted = scope.unfinished(collected, finished, selected={"a", "b"}, interrupted=True)
    assert [t.reason for t in interrupted] == [scope.INTERRUPTED, scope.DESELECTED, scope.DESELECTED]


@pytest.mark.parametrize(
    "errors, ran_any, interrupted, problem",
    [
        (0, True, False, None),
        (0, False, False, "no claim test ran"),
        (0, False, True, "interrupted before any claim test ran"),
        (1, True, False, "1 error during collection"),
        (2, False, True, "2 errors during collection"),
    ],
)
def test_the_problem_of_a_run_that_checked_nothing(errors, ran_any, interrupted, problem):
    assert scope.problem(errors, ran_any, interrupted) == problem


@pytest.mark.parametrize(
    "ran_any, errors, finished_any, executed",
    [(True, 0, True, True), (False, 0, False, False), (True, 1, True, True), (False, 1, False, False)],
)
def test_a_run_executed_when_a_claim_test_ran_past_any_collection_error(ran_any, errors, finished_any, executed):
    assert scope.executed(ran_any, errors, finished_any) is executed


def test_the_run_record_has_the_ledgers_fields_in_order():
    record = scope.RunRecord("partial", True, None, 1, ["cpu"], ["only tests/ch05"], 2)
    assert list(record.as_dict()) == ["scope", "executed", "problem", "exitstatus", "devices", "selection", "workers"]
    assert record.as_dict()["selection"] == ["only tests/ch05"]


LEDGER = Path("reports/ledger.json")


@pytest.mark.parametrize(
    "complete, exists, problem, target",
    [
        (True, True, "another torch", ("complete", LEDGER)),  # a complete run replaces whatever is there
        (True, False, None, ("complete", LEDGER)),
        (False, True, None, ("merged", LEDGER)),  # the same environment's ledger takes the claims it ran
        (False, True, "another torch", ("partial", Path("reports/ledger.partial.json"))),  # never destroyed
        (False, False, None, ("partial", LEDGER)),  # nothing there yet: the path itself
    ],
)
def test_where_a_runs_ledger_goes(complete, exists, problem, target):
    assert scope.ledger_target(LEDGER, complete, exists, problem) == target


@pytest.mark.parametrize(
    "exists, same_environment, target",
    [
        (True, True, ("merged", LEDGER)),
        (True, False, ("falsify", Path("reports/ledger.falsify.json"))),
        (False, False, ("falsify", LEDGER)),
    ],
)
def test_where_the_falsification_goes(exists, same_environment, target):
    assert scope.falsification_target(LEDGER, exists, same_environment) == target
