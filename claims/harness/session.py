"""One pytest session of the suite: which parts run in which process, and what the run writes at its end.

``register`` is called by ``claims.plugin`` only in a project that turns the suite on (``claims_registry`` in
its pytest configuration), so in any other project none of these hooks run. The parts, by role, as
pytest-xdist splits its controller from its workers:

- in every process that runs tests (the only one, or each xdist worker): ``collection.Collection`` (what each
  test checks) and ``outcomes.Reports`` (attaches that to each report), under ``--falsify`` also
  ``falsify.Derandomized``; in a worker ``xdist_hooks.Worker`` sends the controller what it collected;
- in the process that writes the ledger (the only one, or xdist's controller): ``outcomes.Outcomes`` (what
  each test did), ``terminal.Terminal``, one of the runs below by mode, and where xdist is,
  ``xdist_hooks.Controller``.

What each run writes (``scope`` decides which ledger, ``writer`` writes it): a plain run writes the ledger,
whole or partial (``LedgerRun``); ``--falsify`` writes only the ``falsification`` section (``FalsifyRun``);
``--plant``, ``--collect-only``, ``--benchmark-only`` and a run that collected no claim test leave the ledger
alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from claims import ledger
from claims.harness import falsify, scope, xdist_hooks
from claims.harness.collection import Collection
from claims.harness.outcomes import Outcomes, Reports
from claims.harness.settings import Settings
from claims.harness.terminal import Terminal
from claims.harness.writer import LedgerWriter


def register(config: pytest.Config) -> Settings:
    """Reads this run's settings (a usage error stops it) and registers the parts this process needs."""
    settings = Settings.from_config(config, xdist_hooks.data_roots_from_controller(config))
    plugins = config.pluginmanager
    collection = Collection(settings, config)
    plugins.register(collection, "dlwpt-claims-collection")
    plugins.register(Reports(collection), "dlwpt-claims-reports")
    if settings.falsify:
        plugins.register(falsify.Derandomized(), "dlwpt-claims-derandomized")
    if xdist_hooks.is_worker(config):
        plugins.register(xdist_hooks.Worker(config, collection), "dlwpt-claims-xdist-worker")
        return settings
    outcomes = Outcomes(collection)
    terminal = Terminal(settings, collection)
    plugins.register(outcomes, "dlwpt-claims-outcomes")
    plugins.register(terminal, "dlwpt-claims-terminal")
    if settings.falsify:
        plugins.register(FalsifyRun(config, settings, collection, outcomes, terminal), "dlwpt-claims-run")
    elif not settings.plant:
        plugins.register(LedgerRun(config, settings, collection, outcomes, terminal), "dlwpt-claims-run")
    if plugins.hasplugin("xdist"):
        controller = xdist_hooks.Controller(settings.data_roots, collection, outcomes)
        plugins.register(controller, "dlwpt-claims-xdist-controller")
    return settings


class Run:
    """The end of a run, in the process that writes the ledger; a subclass per mode says what it writes."""

    def __init__(
        self, config: pytest.Config, settings: Settings, collection: Collection, outcomes: Outcomes, terminal: Terminal
    ) -> None:
        self.config = config
        self.settings = settings
        self.collection = collection
        self.outcomes = outcomes
        self.terminal = terminal
        self.writer = LedgerWriter(settings.ledger_path, Path(config.invocation_params.dir))

    def left_alone(self) -> str | None:
        """Why this run writes nothing ("" to say nothing about it), or None when it writes."""
        if self.config.option.collectonly:
            return ""
        if self.config.getoption("benchmark_only", False):
            return "a benchmark run: the claims ledger is left alone"
        return None


class LedgerRun(Run):
    """The end of a plain run: the ledger, whole when the run was, else merged or partial (``scope``)."""

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int | pytest.ExitCode) -> None:
        why = self.left_alone()
        if why is None and not self.collection.collected:
            why = f"no claim test was collected: {self.writer.short(self.settings.ledger_path)} is left alone"
        if why is not None:
            self.terminal.lines.extend([why] if why else [])
            return
        not_run = self.outcomes.account_for_unfinished()
        ran = self.outcomes.ran()
        errors = self.collection.errors
        selection = scope.partial_because(
            scope.Invocation.from_config(self.config), self.collection.deselected(), not_run
        )
        run = scope.RunRecord(
            scope="partial" if selection else "complete",
            executed=scope.executed(bool(ran), errors, bool(self.outcomes.finished)),
            problem=scope.problem(errors, bool(ran), self.outcomes.interrupted),
            exitstatus=int(exitstatus),
            devices=self.settings.devices,
            selection=selection,
            workers=self.outcomes.workers,
        )
        document = ledger.build(
            self.settings.claims,
            self.outcomes.results,
            ledger.environment(),
            run.as_dict(),
            self.collection.checked_by(),
            self.settings.printed,
        )
        self.terminal.lines.extend(self.writer.run(document, ran if run.executed else set()))


class FalsifyRun(Run):
    """The end of ``--falsify``: each claim judged by what its tests did under its faults (``falsify.Tally``),
    written as the ledger's ``falsification`` section; the run fails when a claim is not proven falsifiable."""

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int | pytest.ExitCode) -> None:
        why = self.left_alone()
        if why is not None:
            self.terminal.lines.extend([why] if why else [])
            return
        invocation = scope.Invocation.from_config(self.config)
        partial = bool(scope.narrowed_by_paths(invocation) or self.collection.deselected())
        named = {c.claim for c in self.collection.collected.values()}
        judged = {cid: claim for cid, claim in self.settings.claims.items() if not partial or cid in named}
        section = self.outcomes.tally.section(judged, torch.__version__)
        problems = falsify.problems(section)
        self.terminal.falsify_problems = problems
        if problems or session.testsfailed:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        run = scope.RunRecord(
            scope="falsify",
            executed=bool(self.outcomes.finished),
            problem=None,
            exitstatus=int(session.exitstatus),
            devices=["cpu"],
            selection=[],
            workers=self.outcomes.workers,
        )
        fresh = ledger.build(
            self.settings.claims, {}, ledger.environment(), run.as_dict(), self.collection.checked_by()
        )
        self.terminal.lines.extend(self.writer.falsification(section, fresh))
