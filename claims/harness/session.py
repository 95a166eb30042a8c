"""What one pytest session of the suite collects and decides: which test checks which claim on which device,
what each test did, and which ledger the run writes.

The ``Harness`` is a pytest plugin object, registered by ``claims.plugin`` only in a project that turns the
suite on (``claims_registry`` in its pytest configuration), so in any other project the hooks below never
run. It works the same serially and under pytest-xdist: every process that runs tests attaches the claim,
device and evidence to its reports; the process that writes the ledger (the only one, or xdist's
controller) reads them from the reports and learns what each worker collected from its ``workeroutput``.

Which ledger a run writes:

- a run of the whole suite (``python -m pytest``) writes the ledger whole (``run.scope = "complete"``);
- a partial run (paths narrower than the suite, ``-k``/``-m``/``--lf``/``--deselect`` leaving claim tests
  out, ``-x`` or an interrupt stopping before every claim test ran) merges the claims it ran into the
  ledger at that path, when that ledger was written by the same environment (``scope = "merged"``, with the
  updated claims listed); otherwise it writes ``<name>.partial.json`` beside it, or the path itself when no
  ledger is there yet (``scope = "partial"``). It never destroys a full ledger;
- a run that collected no claim test (``pytest tests/benchmarks``), ``--benchmark-only``, ``--plant`` and
  ``--collect-only`` leave the ledger alone; ``--falsify`` writes only the ``falsification`` section.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from claims import devices, faults, ledger
from claims.errors import DataFileError
from claims.harness import falsify, options
from claims.registry import RegistryError, load_registry, printed

WORKER_KEY = "dlwpt_claims"
EVIDENCE_KEY = pytest.StashKey[dict]()  # the evidence a test recorded, on its item


@dataclass(frozen=True)
class Collected:
    """One collected claim test: its claim, device, its name in the evidence, its function, its fault."""

    claim: str
    device: str
    name: str  # test function plus its non-device parameters: "test_remedy[dropout]"
    function: str  # "tests/ch05/test_p131_overfitting.py::test_remedy"
    fault: str | None = None


class Harness:
    def __init__(self, config):
        self.config = config
        self.is_worker = hasattr(config, "workerinput")
        registry = Path(config.getini("claims_registry"))
        if not registry.is_absolute():
            registry = (config.inipath.parent if config.inipath else config.rootpath) / registry
        try:
            self.claims = load_registry(registry)
            self.printed = printed.counts(printed.load(registry / "printed"))
        except RegistryError as exc:
            raise pytest.UsageError(f"claim registry: {exc}") from None
        self.falsify = bool(config.getoption("falsify"))
        self.plant = config.getoption("plant")
        if self.falsify and self.plant:
            raise pytest.UsageError("--plant and --falsify: give one (--falsify plants every claim's faults itself)")
        self.devices = ["cpu"] if self.falsify else options.device_names(config)
        if self.falsify and config.getoption("device") not in (None, "cpu"):
            raise pytest.UsageError("--falsify runs on the CPU only; leave out --device")
        self._check_faults()
        options.check_hypothesis_profile(config)
        self.ledger_path = options.ledger_path(config)
        # the data sets are checked once, by the process that starts the run (xdist's workers trust it)
        self.data_roots = {
            dest: (
                options.data_root(config, dest)
                if not self.is_worker
                else Path(config.workerinput["dlwpt_data_roots"][dest])
                if config.workerinput.get("dlwpt_data_roots", {}).get(dest)
                else None
            )
            for dest in options.DATA_OPTIONS
        }
        self.collected: dict[str, Collected] = {}  # nodeid -> what it checks, before any deselection
        self.selected: set[str] = set()
        self.finished: dict[str, str] = {}  # nodeid -> passed, failed, skipped
        self.results: dict[str, dict[str, ledger.DeviceResult]] = {}
        self.tally = falsify.Tally()
        self.collection_errors = 0
        self.workers = 0
        self.outcome_line: list[str] = []  # what the terminal summary says about the ledger

    def _check_faults(self) -> None:
        """Every fault the registry names exists; ``--plant``'s too. Only a run that plants faults imports them."""
        try:
            if self.plant or self.falsify:
                faults.load_all()
            if self.plant:
                faults.get(self.plant)
        except faults.FaultError as exc:
            raise pytest.UsageError(f"--plant {self.plant}: {exc}" if self.plant else f"claims.faults: {exc}") from None
        kinds = faults.known_kinds()
        for claim in self.claims.values():
            for field, kind in (("faults", faults.PLANTED), ("skeptic_faults", faults.SKEPTIC)):
                for name in getattr(claim, field):
                    where = f"claim registry: {claim.origin} (id '{claim.id}'): field '{field}'"
                    try:
                        faults.check_name(name, set(kinds))
                    except faults.FaultError as exc:
                        raise pytest.UsageError(f"{where}: {exc}") from None
                    if kinds[name] != kind:
                        raise pytest.UsageError(
                            f"{where}: '{name}' is a {kinds[name]} fault; "
                            f"{'skeptic_faults' if kinds[name] == faults.SKEPTIC else 'faults'} is where it goes"
                        )

    def pytest_sessionstart(self, session):
        if self.falsify:  # after every configure hook, so no profile chosen on the command line undoes it
            from hypothesis import Phase, settings

            settings.register_profile(
                "dlwpt-falsify", settings(derandomize=True, database=None, phases=[Phase.explicit, Phase.generate])
            )
            settings.load_profile("dlwpt-falsify")  # the same examples every run; a red needs no shrinking

    # -- xdist: what the controller tells its workers, and what they tell it back ------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node):
        node.workerinput["dlwpt_data_roots"] = {k: str(v) if v else None for k, v in self.data_roots.items()}

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error):
        self.workers += 1
        sent = getattr(node, "workeroutput", {}).get(WORKER_KEY)
        if sent:
            for nodeid, fields in sent["collected"].items():
                self.collected.setdefault(nodeid, Collected(**fields))
            self.selected.update(sent["selected"])

    # -- collection -------------------------------------------------------------------------------------

    def pytest_generate_tests(self, metafunc):
        if "device" in metafunc.fixturenames:
            metafunc.parametrize("device", self.devices, ids=self.devices, indirect=True)
        if self.falsify:
            mark = metafunc.definition.get_closest_marker("claim")
            claim = self.claims.get(mark.args[0]) if mark and mark.args else None
            planted = [*claim.faults, *claim.skeptic_faults] if claim is not None else []
            if planted:
                metafunc.parametrize("planted_fault", planted, ids=planted, indirect=True)

    def _describe(self, item) -> Collected | None:
        marks = list(item.iter_markers("claim"))
        if not marks:
            return None
        ids = [a for m in marks for a in m.args]
        if len(marks) != 1 or len(ids) != 1 or not isinstance(ids[0], str):
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.claim takes exactly one claim id, got {ids!r}")
        if ids[0] not in self.claims:
            raise pytest.UsageError(
                f"{item.nodeid}: names unknown claim '{ids[0]}' "
                f"(claim ids are defined in the registry, claims/registry/*.toml)"
            )
        params = dict(item.callspec.params) if hasattr(item, "callspec") else {}
        device = str(params.pop("device", "cpu"))  # a test with no device fixture runs on the host CPU
        fault = params.pop("planted_fault", None)
        name = item.originalname + (f"[{'-'.join(str(v) for v in params.values())}]" if params else "")
        path = Path(str(item.fspath))
        try:
            path = path.relative_to(self.config.rootpath)
        except ValueError:
            pass
        return Collected(ids[0], device, name, f"{path.as_posix()}::{item.originalname}", fault)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session, config, items):
        for item in items:  # every claim test, before -k, -m, --lf or a conftest deselects any
            described = self._describe(item)
            if described:
                self.collected[item.nodeid] = described
        keep, drop = [], []
        for item in items:
            if item.get_closest_marker("sweep") and "sweep" not in (config.option.markexpr or ""):
                drop.append(item)  # seed sweeps run only when asked for: -m sweep
            elif self.falsify and (item.nodeid not in self.collected or self.collected[item.nodeid].fault is None):
                drop.append(item)  # --falsify runs only claim tests, once per fault
            else:
                keep.append(item)
        if drop:
            items[:] = keep
            config.hook.pytest_deselected(items=drop)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session):
        self.selected = {item.nodeid for item in session.items}
        if self.is_worker:
            self.config.workeroutput[WORKER_KEY] = {
                "collected": {nodeid: c.__dict__ for nodeid, c in self.collected.items()},
                "selected": sorted(self.selected & set(self.collected)),
            }

    def pytest_collectreport(self, report):
        if report.failed:
            self.collection_errors += 1

    # -- outcomes ---------------------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        described = self.collected.get(item.nodeid)
        if call.excinfo is not None and call.excinfo.errisinstance(DataFileError):
            report.longrepr = f"bad input: {call.excinfo.value}"  # one line naming the file, no traceback
        if described is None:
            return report
        info = {**described.__dict__, "evidence": None}  # all the controller needs, whatever it collected
        if described.fault:  # hypothesis would write a patch of "failing examples" that only the fault made fail
            report.__dict__.pop("_hypothesis_failing_examples", None)
        if call.when == "call":
            evidence = item.stash.get(EVIDENCE_KEY, None)
            info["evidence"] = dict(evidence) if evidence else None
        if described.fault and (call.when == "call" or call.excinfo is not None):
            outcome, detail = falsify.classify(call)
            info.update(falsify=outcome, detail=detail)
            if outcome == falsify.CAUGHT:  # red by an assertion under the fault: what falsification wants
                report.outcome, report.longrepr = "passed", None
            elif outcome == falsify.CRASHED:  # judged with the claim's other faults at the end of the run
                report.outcome, report.longrepr = "passed", None
        report.dlwpt_claims = info  # travels with the report to xdist's controller
        return report

    def pytest_runtest_logreport(self, report):
        info = getattr(report, "dlwpt_claims", None)
        if self.is_worker or not info:
            return
        described = Collected(**{k: info[k] for k in Collected.__dataclass_fields__})
        self.collected.setdefault(report.nodeid, described)
        result = self.results.setdefault(described.claim, {}).setdefault(described.device, ledger.DeviceResult())
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
        if info.get("falsify"):
            self.tally.add(described.claim, described.fault, described.name, info["falsify"], info.get("detail"))
        if report.when == "teardown":
            result.outcomes[report.nodeid] = self.finished.get(report.nodeid, "skipped")

    def pytest_report_teststatus(self, report, config):
        outcome = (getattr(report, "dlwpt_claims", None) or {}).get("falsify")
        if report.when == "call" and outcome == falsify.CAUGHT:
            return "caught", "c", "CAUGHT"
        if report.when == "call" and outcome == falsify.SURVIVED:
            return "survived", "s", ("SURVIVED", {"yellow": True})
        if outcome == falsify.CRASHED and report.when in ("setup", "call"):
            return "crashed", "x", ("CRASHED", {"yellow": True})
        return None

    # -- the run's scope ---------------------------------------------------------------------------------

    def _narrowed_by_paths(self) -> str | None:
        config = self.config
        source = getattr(config, "args_source", None)
        if source == pytest.Config.ArgsSource.TESTPATHS:
            return None
        testpaths = [(config.rootpath / p).resolve() for p in config.getini("testpaths")] or [config.rootpath]
        for arg in config.args:
            path = Path(arg.split("::")[0])
            path = (path if path.is_absolute() else Path(config.invocation_params.dir) / path).resolve()
            if "::" in arg or not all(path == t or path in t.parents for t in testpaths):
                return "only " + " ".join(config.args)
        return None

    def _selection(self, not_run: list[str]) -> list[str]:
        """Why this run is partial, in words; empty for a run of the whole suite."""
        reasons = []
        narrowed = self._narrowed_by_paths()
        if narrowed:
            reasons.append(narrowed)
        option = self.config.option
        deselected = set(self.collected) - self.selected
        if deselected:
            how = [
                f"-k {option.keyword!r}" if option.keyword else "",
                f"-m {option.markexpr!r}" if option.markexpr else "",
                "--lf" if getattr(option, "lf", False) else "",
                "--sw" if getattr(option, "stepwise", False) else "",
                "--deselect" if getattr(option, "deselect", None) else "",
            ]
            reasons.append(
                f"{len(deselected)} claim tests deselected ({', '.join(h for h in how if h) or 'by a plugin'})"
            )
        elif getattr(option, "lf", False):  # --lf may leave whole files uncollected: nothing shows as deselected
            reasons.append("--lf")
        if not_run:
            reasons.append(f"{len(not_run)} claim tests not run (the run stopped early)")
        return reasons

    def _account_for_unfinished(self, session) -> list[str]:
        """Claim tests that were collected but never ran: deselected, or after the run stopped."""
        why_stopped = "interrupted" if self.interrupted else "the run stopped before it (-x, --maxfail or --sw)"
        not_run = []
        for nodeid, described in self.collected.items():
            if nodeid in self.finished:
                continue
            if nodeid in self.selected:
                not_run.append(nodeid)
                reason = why_stopped
            else:
                reason = "deselected"
            result = self.results.setdefault(described.claim, {}).setdefault(described.device, ledger.DeviceResult())
            result.outcomes[nodeid] = "not-run"
            result.not_run_reasons[reason] += 1
        return not_run

    # -- the ledger ---------------------------------------------------------------------------------------

    interrupted = False

    def pytest_keyboard_interrupt(self, excinfo):
        self.interrupted = True

    def pytest_sessionfinish(self, session, exitstatus):
        if self.is_worker or self.config.option.collectonly or self.plant:
            return
        if self.config.getoption("benchmark_only", False):
            self.outcome_line.append("a benchmark run: the claims ledger is left alone")
            return
        if self.falsify:
            self._finish_falsify(session)
            return
        if not self.collected:
            self.outcome_line.append(f"no claim test was collected: {self._short(self.ledger_path)} is left alone")
            return
        not_run = self._account_for_unfinished(session)
        ran = {c.claim for nodeid, c in self.collected.items() if self.finished.get(nodeid)}
        executed = bool(ran) and not (self.collection_errors and not self.finished)
        problem = None
        if self.collection_errors:
            problem = f"{self.collection_errors} error{'s' * (self.collection_errors > 1)} during collection"
        elif not ran:
            problem = "interrupted before any claim test ran" if self.interrupted else "no claim test ran"
        selection = self._selection(not_run)
        run = {
            "scope": "partial" if selection else "complete",
            "executed": executed,
            "problem": problem,
            "exitstatus": int(exitstatus),
            "devices": self.devices,
            "selection": selection,
            "workers": self.workers,
        }
        document = ledger.build(self.claims, self.results, ledger.environment(), run, self._checked_by(), self.printed)
        self._write(document, ran if executed else set())

    def _checked_by(self) -> dict[str, list[str]]:
        functions: dict[str, list[str]] = {}
        for described in self.collected.values():
            found = functions.setdefault(described.claim, [])
            if described.function not in found:
                found.append(described.function)
        return functions

    def _short(self, path: Path) -> str:
        try:
            return str(path.relative_to(Path(self.config.invocation_params.dir)))
        except ValueError:
            return str(path)

    def _write(self, document: dict, updated: set[str]) -> None:
        path = self.ledger_path
        run = document["run"]
        if run["scope"] == "complete":
            self._written(ledger.write(self._keep_falsification(document, path), path), document)
            return
        why = "; ".join(run["selection"])
        base, problem = None, None
        if path.exists():
            try:
                base = ledger.read(path)
                problem = ledger.mergeable(base, document) if run["executed"] else "this run executed nothing"
            except ledger.LedgerError as exc:
                problem = str(exc)
        if base is not None and problem is None:
            merged = ledger.merge(base, document, updated)
            self._written(ledger.write(merged, path), merged)
            self.outcome_line.insert(
                0,
                f"partial run ({why}): {len(updated)} claims updated in {self._short(path)}; "
                f"the other {len(self.claims) - len(updated)} keep their results of "
                f"{base['created']}",
            )
        elif path.exists():
            own = path.with_name(path.stem + ".partial.json")
            self._written(ledger.write(document, own), document)
            self.outcome_line.insert(
                0,
                f"partial run ({why}): not merged into {self._short(path)} ({problem}); "
                f"this run's ledger is {self._short(own)}",
            )
        else:
            self._written(ledger.write(document, path), document)
            self.outcome_line.insert(0, f"partial run ({why}): {self._short(path)} holds only the claims it ran")

    @staticmethod
    def _keep_falsification(document: dict, path: Path) -> dict:
        """A complete run replaces the ledger but keeps its falsification section (written by ``--falsify``
        in the same environment: it dates itself), so the summary's score survives the next plain run."""
        try:
            base = ledger.read(path) if path.exists() else {}
        except ledger.LedgerError:
            return document
        if not base.get("falsification") or ledger.mergeable(base, document) is not None:
            return document
        return dict(document, falsification=base["falsification"])

    def _written(self, path: Path, document: dict) -> None:
        counts = ", ".join(f"{k} {v}" for k, v in document["summary"].items() if v or k in ("holds", "fails"))
        self.outcome_line.append(f"{len(document['claims'])} claims; verdicts per claim and device: {counts}")
        problem = ledger.executed_nothing(document)
        if problem:
            self.outcome_line.append(f"this run checked nothing ({problem}): the ledger says so")
        self.outcome_line.append(
            f"ledger written to {self._short(path)} (python -m claims summary {self._short(path)})"
        )
        self.summary = document["summary"]

    def _finish_falsify(self, session) -> None:
        partial = bool(self._narrowed_by_paths() or set(self.collected) - self.selected)
        named = {c.claim for c in self.collected.values()}
        judged = {cid: claim for cid, claim in self.claims.items() if not partial or cid in named}
        section = self.tally.section(judged, torch.__version__)
        self.falsification = section
        if falsify.problems(section) or session.testsfailed:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        path = self.ledger_path
        document = None
        if path.exists():
            try:
                document = ledger.read(path)
            except ledger.LedgerError:
                document = None
        if document is None or ledger.mergeable(document, {"environment": ledger.environment(), "run": {}}):
            document = ledger.build(
                self.claims,
                {},
                ledger.environment(),
                {
                    "scope": "falsify",
                    "executed": bool(self.finished),
                    "problem": None,
                    "exitstatus": int(session.exitstatus),
                    "devices": ["cpu"],
                    "selection": [],
                    "workers": self.workers,
                },
                self._checked_by(),
            )
            target = path if not path.exists() else path.with_name(path.stem + ".falsify.json")
        else:
            target = path
        document["falsification"] = section
        ledger.write(document, target)
        self.outcome_line.append(falsify.score_line(section))
        self.outcome_line.append(f"falsification written to {self._short(target)}")

    # -- reporting ----------------------------------------------------------------------------------------

    def pytest_report_header(self, config):
        env = ledger.environment()
        cuda = torch.cuda.is_available()
        cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
        lines = [
            f"dlwpt-claims: torch {env['torch']}, torchvision {env['torchvision']}, numpy {env['numpy']}, "
            f"SimpleITK {env['SimpleITK']}, Python {env['python']}",
            f"devices: {', '.join(self.devices)}; CPU threads {torch.get_num_threads()}; "
            f"CUDA {torch.version.cuda or 'none'} (build), cuDNN {cudnn or 'none'}; "
            f"GPU {torch.cuda.get_device_name(0) if cuda else 'none (CUDA is not available)'}",
        ]
        if self.falsify:
            lines.append("--falsify: every claim test on the CPU, once per fault its claim names")
        if self.plant:
            lines.append(f"--plant {self.plant}: {faults.get(self.plant).doc} (no ledger is written)")
        return lines

    def pytest_terminal_summary(self, terminalreporter, exitstatus, config):
        if self.is_worker:
            return
        tr = terminalreporter
        if self.falsify and hasattr(self, "falsification"):
            tr.section("falsification")
            for line in falsify.problems(self.falsification):
                tr.write_line(line, red=True)
        if not self.outcome_line and not self.plant:
            return
        tr.section("claims")
        if self.plant:
            tr.write_line(f"fault {self.plant} was planted: no ledger written")
            return
        if not self.falsify and self.collected and not self._selection([]):
            named = {c.claim for c in self.collected.values()}
            untested = [cid for cid, claim in self.claims.items() if cid not in named and not claim.uncheckable]
            for cid in untested[:10]:
                tr.write_line(f"untested: {cid} (no collected test names it)")
            if len(untested) > 10:  # a run of one folder leaves the other chapters out: say so briefly
                tr.write_line(f"untested: {len(untested) - 10} more claims (listed in the ledger)")
        for line in self.outcome_line:
            tr.write_line(line)


def device_skip_reason(request, name: str) -> str | None:
    reason = devices.unavailable_reason(name)
    if reason:
        return reason
    only = request.node.get_closest_marker("devices")
    if only and name not in only.args:
        return only.kwargs.get("reason", f"this claim is about {', '.join(only.args)} only")
    return None
