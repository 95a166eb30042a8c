"""Which ledger a run writes, decided from plain values (no pytest objects past ``Invocation.from_config``).

- a run of the whole suite (``python -m pytest``) writes the ledger whole (``run.scope = "complete"``);
- a partial run (paths narrower than the suite, ``-k``/``-m``/``--lf``/``--deselect`` leaving claim tests
  out, ``-x`` or an interrupt stopping before every claim test ran) merges the claims it ran into the
  ledger at that path, when that ledger was written by the same environment (``scope = "merged"``, with the
  updated claims listed); otherwise it writes ``<name>.partial.json`` beside it, or the path itself when no
  ledger is there yet (``scope = "partial"``). It never destroys a full ledger;
- ``--falsify`` writes only the ``falsification`` section: into the ledger at that path when the same
  environment wrote it, else into a ledger of its own (``<name>.falsify.json`` beside one already there).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Mapping, NamedTuple

import pytest

INTERRUPTED = "interrupted"
STOPPED = "the run stopped before it (-x, --maxfail or --sw)"
DESELECTED = "deselected"


@dataclass(frozen=True)
class Invocation:
    """What the command line asked pytest to run, as plain values."""

    args: tuple[str, ...]  # the paths and node ids given ("tests/ch05", "tests/x.py::test_y"), as pytest has them
    paths: tuple[Path, ...]  # each arg's path, resolved against where pytest started
    testpaths: tuple[Path, ...]  # the configured testpaths, resolved (the root when there are none)
    from_testpaths: bool = False  # no path was given: pytest took them from testpaths
    keyword: str = ""  # -k
    markexpr: str = ""  # -m
    last_failed: bool = False  # --lf
    stepwise: bool = False  # --sw
    deselect: bool = False  # --deselect

    @classmethod
    def from_config(cls, config: pytest.Config) -> Invocation:
        started = Path(config.invocation_params.dir)
        paths = []
        for arg in config.args:
            path = Path(arg.split("::")[0])
            paths.append((path if path.is_absolute() else started / path).resolve())
        testpaths = [(config.rootpath / p).resolve() for p in config.getini("testpaths")] or [config.rootpath]
        option = config.option
        return cls(
            args=tuple(config.args),
            paths=tuple(paths),
            testpaths=tuple(testpaths),
            from_testpaths=getattr(config, "args_source", None) == pytest.Config.ArgsSource.TESTPATHS,
            keyword=option.keyword or "",
            markexpr=option.markexpr or "",
            last_failed=bool(getattr(option, "lf", False)),
            stepwise=bool(getattr(option, "stepwise", False)),
            deselect=bool(getattr(option, "deselect", None)),
        )


def narrowed_by_paths(invocation: Invocation) -> str | None:
    """``"only <args>"`` when a path given may leave part of the suite out (a node id, a path that does not
    hold every test path), else None."""
    if invocation.from_testpaths:
        return None
    for arg, path in zip(invocation.args, invocation.paths):
        covers = all(path == t or path in t.parents for t in invocation.testpaths)
        if "::" in arg or not covers:
            return "only " + " ".join(invocation.args)
    return None


def partial_because(invocation: Invocation, deselected: int, not_run: int) -> list[str]:
    """Why a run is partial, in words; empty for a run of the whole suite. ``deselected``: claim tests
    collected and then deselected; ``not_run``: claim tests selected that never ran."""
    reasons = []
    narrowed = narrowed_by_paths(invocation)
    if narrowed:
        reasons.append(narrowed)
    if deselected:
        how = [
            f"-k {invocation.keyword!r}" if invocation.keyword else "",
            f"-m {invocation.markexpr!r}" if invocation.markexpr else "",
            "--lf" if invocation.last_failed else "",
            "--sw" if invocation.stepwise else "",
            "--deselect" if invocation.deselect else "",
        ]
        reasons.append(f"{deselected} claim tests deselected ({', '.join(h for h in how if h) or 'by a plugin'})")
    elif invocation.last_failed:  # --lf may leave whole files uncollected: nothing shows as deselected
        reasons.append("--lf")
    if not_run:
        reasons.append(f"{not_run} claim tests not run (the run stopped early)")
    return reasons


class Unfinished(NamedTuple):
    nodeid: str
    reason: str  # INTERRUPTED, STOPPED or DESELECTED

    @property
    def selected(self) -> bool:
        """It was meant to run (it is what makes a run that stopped early partial)."""
        return self.reason != DESELECTED


def unfinished(
    collected: Iterable[str], finished: Mapping[str, str], selected: set[str], interrupted: bool
) -> list[Unfinished]:
    """The claim tests collected that never ran, each with why: deselected, or after the run stopped."""
    stopped = INTERRUPTED if interrupted else STOPPED
    return [
        Unfinished(nodeid, stopped if nodeid in selected else DESELECTED)
        for nodeid in collected
        if nodeid not in finished
    ]


def problem(collection_errors: int, ran_any: bool, interrupted: bool) -> str | None:
    """Why this run checked nothing, or None."""
    if collection_errors:
        return f"{collection_errors} error{'s' * (collection_errors > 1)} during collection"
    if not ran_any:
        return "interrupted before any claim test ran" if interrupted else "no claim test ran"
    return None


def executed(ran_any: bool, collection_errors: int, finished_any: bool) -> bool:
    """Whether the run's results count: some claim test ran, and collection errors did not stop it first."""
    return ran_any and not (collection_errors and not finished_any)


@dataclass(frozen=True)
class RunRecord:
    """The ledger's ``run``: what kind of run wrote it (README.md, "The ledger")."""

    scope: str  # complete, partial or falsify (a merge makes it "merged": claims.ledger.merge)
    executed: bool
    problem: str | None
    exitstatus: int
    devices: list[str]
    selection: list[str]  # why it is partial, empty when complete
    workers: int  # xdist workers, 0 for a serial run

    def as_dict(self) -> dict:
        return asdict(self)


class Target(NamedTuple):
    scope: str  # what the file written holds: complete, merged, partial, falsify
    path: Path


def ledger_target(path: Path, complete: bool, exists: bool, merge_problem: str | None) -> Target:
    """Where a run's ledger goes. ``merge_problem``: why the ledger at ``path`` cannot take this run's
    claims (claims.ledger.mergeable, a file that does not read, a run that executed nothing), or None."""
    if complete:
        return Target("complete", path)
    if exists and merge_problem is None:
        return Target("merged", path)
    if exists:
        return Target("partial", path.with_name(path.stem + ".partial.json"))
    return Target("partial", path)


def falsification_target(path: Path, exists: bool, mergeable: bool) -> Target:
    """Where ``--falsify`` writes its section: into the ledger at ``path`` when the same environment wrote it
    (``mergeable``), else into a new ledger: at ``path`` when none is there, beside it when one is."""
    if exists and mergeable:
        return Target("merged", path)
    return Target("falsify", path.with_name(path.stem + ".falsify.json") if exists else path)
