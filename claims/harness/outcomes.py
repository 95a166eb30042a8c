"""What each claim test did. ``Reports`` (in every process that runs tests) attaches the claim, device, evidence
and, under a planted fault, how the test went red to the test's reports; they travel with the report to
xdist's controller. ``Outcomes`` (in the process that writes the ledger) reads them back into results per
claim and device, and the falsification tally."""

from __future__ import annotations

from dataclasses import asdict
from typing import Generator

import pytest

from claims import ledger
from claims.errors import DataFileError
from claims.harness import falsify, scope
from claims.harness.collection import Collected, Collection
from claims.harness.evidence import EVIDENCE_KEY

REPORT_KEY = "dlwpt_claims"  # the attribute of a TestReport that holds what the ledger needs of it


def attached(report: pytest.TestReport) -> dict | None:
    """What ``Reports`` attached to ``report``, or None for a test that checks no claim."""
    return getattr(report, REPORT_KEY, None)


class Reports:
    """In every process that runs tests: what the ledger needs of each claim test, on its reports."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        described = self.collection.collected.get(item.nodeid)
        if call.excinfo is not None and call.excinfo.errisinstance(DataFileError):
            report.longrepr = f"bad input: {call.excinfo.value}"  # one line naming the file, no traceback
        if described is None:
            return report
        info: dict = {**asdict(described), "evidence": None}  # all the controller needs, whatever it collected
        if described.fault:  # hypothesis would write a patch of "failing examples" that only the fault made fail
            report.__dict__.pop("_hypothesis_failing_examples", None)
        if call.when == "call":
            evidence = item.stash.get(EVIDENCE_KEY, None)
            info["evidence"] = dict(evidence) if evidence else None
        if described.fault and (call.when == "call" or call.excinfo is not None):
            outcome, detail = falsify.classify(call)
            info.update(falsify=outcome, detail=detail)
            if outcome in (falsify.CAUGHT, falsify.CRASHED):
                # caught: red by an assertion under the fault, what falsification wants; crashed: judged with
                # the claim's other faults at the end of the run. Neither fails the run by itself.
                report.outcome, report.longrepr = "passed", None
        setattr(report, REPORT_KEY, info)
        return report

    def pytest_report_teststatus(
        self, report: pytest.TestReport, config: pytest.Config
    ) -> tuple[str, str, str | tuple[str, dict[str, bool]]] | None:
        outcome = (attached(report) or {}).get("falsify")
        if report.when == "call" and outcome == falsify.CAUGHT:
            return "caught", "c", "CAUGHT"
        if report.when == "call" and outcome == falsify.SURVIVED:
            return "survived", "s", ("SURVIVED", {"yellow": True})
        if outcome == falsify.CRASHED and report.when in ("setup", "call"):
            return "crashed", "x", ("CRASHED", {"yellow": True})
        return None


class Outcomes:
    """In the process that writes the ledger: each claim test's outcome, gathered into results per claim and
    device and the falsification tally."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection
        self.finished: dict[str, str] = {}  # nodeid -> passed, failed, skipped
        self.results: dict[str, dict[str, ledger.DeviceResult]] = {}  # claim -> device -> its tests' outcomes
        self.tally = falsify.Tally()
        self.interrupted = False
        self.workers = 0  # xdist workers that finished (0 in a serial run)

    def result(self, described: Collected) -> ledger.DeviceResult:
        return self.results.setdefault(described.claim, {}).setdefault(described.device, ledger.DeviceResult())

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        info = attached(report)
        if not info:
            return
        described = Collected(**{k: info[k] for k in Collected.__dataclass_fields__})
        self.collection.collected.setdefault(report.nodeid, described)
        result = self.result(described)
        result.seconds += report.duration
        state = self.finished.get(report.nodeid)
        if report.failed or (report.skipped and hasattr(report, "wasxfail")):
            self.finished[report.nodeid] = "failed"  # an error in setup or teardown fails the claim too
        elif report.skipped and state is None:
            self.finished[report.nodeid] = "skipped"
            longrepr = report.longrepr
            reason = longrepr[2] if isinstance(longrepr, (tuple, list)) else str(longrepr)
            result.skip_reasons[reason[len("Skipped: ") :] if reason.startswith("Skipped: ") else reason] += 1
        elif report.when == "call" and report.passed and state is None:
            self.finished[report.nodeid] = "passed"
        if info.get("evidence"):
            result.evidence[described.name] = info["evidence"]
        if info.get("falsify") and described.fault:
            self.tally.add(described.claim, described.fault, described.name, info["falsify"], info.get("detail"))
        if report.when == "teardown":
            result.outcomes[report.nodeid] = self.finished.get(report.nodeid, "skipped")
            if described.host:
                result.host.add(report.nodeid)

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        self.interrupted = True

    def ran(self) -> set[str]:
        """The claims at least one of whose tests finished."""
        return {c.claim for nodeid, c in self.collection.collected.items() if self.finished.get(nodeid)}

    def account_for_unfinished(self) -> int:
        """Records the collected claim tests that never ran as not-run, with why; how many were meant to run."""
        collection = self.collection
        not_run = scope.unfinished(collection.collected, self.finished, collection.selected, self.interrupted)
        for test in not_run:
            result = self.result(self.collection.collected[test.nodeid])
            result.outcomes[test.nodeid] = "not-run"
            result.not_run_reasons[test.reason] += 1
        return sum(1 for test in not_run if test.selected)
