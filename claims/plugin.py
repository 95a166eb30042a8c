"""The pytest plugin: claim markers, the ``device`` fixture, per-test seeds, evidence, the ledger.

Registered from the root ``conftest.py``. Tests never need to read this file: they use
``@pytest.mark.claim(id)``, the ``device``, ``seed`` and ``evidence`` fixtures, and that is all.
"""
from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from claims import devices, faults, ledger
from claims.errors import DataFileError
from claims.evidence import Evidence
from claims.registry import DEFAULT_DIR, RegistryError, load_registry

EVIDENCE_KEY = pytest.StashKey[Evidence]()
DATA_OPTIONS = {  # option -> (environment variable, what it points at)
    "cifar10_root": ("CIFAR10_ROOT", "the real CIFAR-10 (torchvision's cifar-10-batches-py layout)"),
    "luna_root": ("LUNA16_ROOT", "the real LUNA16 data (subset0..9/, candidates.csv, annotations.csv)"),
}


def pytest_addoption(parser):
    group = parser.getgroup("dlwpt-claims")
    group.addoption("--device", default=None, metavar="NAMES",
                    help="comma-separated devices to run the claims on, from cpu, cuda, mps "
                         "(default: cpu and cuda, plus mps where present)")
    group.addoption("--ledger", default="reports/ledger.json", metavar="PATH",
                    help="where to write the ledger of verdicts (default: reports/ledger.json)")
    for name, (env, what) in DATA_OPTIONS.items():
        group.addoption("--" + name.replace("_", "-"), dest=name, default=None, metavar="DIR",
                        help=f"directory of {what}; also ${env}. Without it those runs are skipped")
    group.addoption("--plant", default=None, metavar="FAULT",
                    help="run the tests with one planted fault (claims/faults/) to watch its claims go red; "
                         "writes no ledger")
    parser.addini("claims_registry", "directory of the claim registry's TOML files", default=str(DEFAULT_DIR))


class Harness:
    """What one session collects: the registry, each claim test's device, and the outcomes."""

    def __init__(self, config):
        self.config = config
        registry = Path(config.getini("claims_registry"))
        if not registry.is_absolute():
            registry = (config.inipath.parent if config.inipath else config.rootpath) / registry
        try:
            self.claims = load_registry(registry)
        except RegistryError as exc:
            raise pytest.UsageError(f"claim registry: {exc}") from None
        try:
            self.devices = devices.parse_option(config.getoption("device"))
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
        self.data_roots = {name: self._data_root(name) for name in DATA_OPTIONS}
        self.plant = config.getoption("plant")
        try:
            known = faults.load_all()
            if self.plant:
                faults.get(self.plant)
        except faults.FaultError as exc:
            raise pytest.UsageError(f"--plant: {exc}" if self.plant else str(exc)) from None
        for claim in self.claims.values():
            for name in claim.faults:
                if name not in known:
                    raise pytest.UsageError(f"claim registry: {claim.origin} (id '{claim.id}'): field 'faults' names "
                                            "an unknown fault: "
                                            f"{_unknown_fault(name)}")
        self.item_claim: dict[str, tuple[str, str, str]] = {}  # nodeid -> (claim id, device, test name)
        self.results: dict[str, dict[str, ledger.DeviceResult]] = {}
        self.outcomes: dict[str, str] = {}
        self.collected = False

    def _data_root(self, name: str) -> Path | None:
        env, what = DATA_OPTIONS[name]
        value = self.config.getoption(name) or os.environ.get(env)
        if not value:
            return None
        path = Path(value).expanduser()
        if not path.is_dir():
            source = f"--{name.replace('_', '-')}" if self.config.getoption(name) else f"${env}"
            raise pytest.UsageError(f"{source} {value}: no such directory (it should hold {what})")
        return path

    # -- collection ----------------------------------------------------------------------------

    def register(self, item) -> None:
        marks = list(item.iter_markers("claim"))
        if not marks:
            return
        ids = [a for m in marks for a in m.args]
        if len(marks) != 1 or len(ids) != 1 or not isinstance(ids[0], str):
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.claim takes exactly one claim id, got {ids!r}")
        claim_id = ids[0]
        if claim_id not in self.claims:
            raise pytest.UsageError(f"{item.nodeid}: names unknown claim '{claim_id}' "
                                    f"(claim ids are defined in the registry, claims/registry/*.toml)")
        params = dict(getattr(item, "callspec", None).params) if hasattr(item, "callspec") else {}
        device = str(params.pop("device", "cpu"))  # a test with no device fixture runs on the host CPU
        name = item.originalname + (f"[{'-'.join(str(v) for v in params.values())}]" if params else "")
        self.item_claim[item.nodeid] = (claim_id, device, name)

    # -- outcomes ------------------------------------------------------------------------------

    def record(self, report, evidence: Evidence | None) -> None:
        if report.nodeid not in self.item_claim:
            return
        claim_id, device, name = self.item_claim[report.nodeid]
        result = self.results.setdefault(claim_id, {}).setdefault(device, ledger.DeviceResult())
        result.seconds += report.duration
        if report.failed or (report.skipped and hasattr(report, "wasxfail")):
            self.outcomes[report.nodeid] = "failed"  # an error in setup or teardown fails the claim too
        elif report.skipped and report.nodeid not in self.outcomes:
            self.outcomes[report.nodeid] = "skipped"
            longrepr = report.longrepr
            reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
            result.skip_reasons.append(reason[len("Skipped: "):] if reason.startswith("Skipped: ") else reason)
        elif report.when == "call" and report.passed:
            self.outcomes[report.nodeid] = "passed"
        if evidence and report.when == "call":
            result.evidence[name] = dict(evidence)
        if report.when == "teardown":
            result.outcomes.append(self.outcomes.pop(report.nodeid, "skipped"))

    def document(self) -> dict:
        return ledger.build(self.claims, self.results, ledger.environment())


def _unknown_fault(name: str) -> str:
    try:
        faults.get(name)
    except faults.FaultError as exc:
        return str(exc)
    return name


def _harness(config) -> Harness:
    return config.stash[HARNESS_KEY]


HARNESS_KEY = pytest.StashKey[Harness]()


def pytest_configure(config):
    config.addinivalue_line("markers", "claim(id): the registry claim this test checks (claims/registry/*.toml)")
    config.addinivalue_line("markers", "devices(*names, reason): run only on these devices; skip the others "
                                       "with the reason (for claims about one device)")
    config.addinivalue_line("markers", "sweep: a seed sweep that measures a statistical claim's margin; "
                                       "deselected unless -m selects it (python -m pytest -m sweep)")
    config.stash[HARNESS_KEY] = Harness(config)


def pytest_generate_tests(metafunc):
    if "device" in metafunc.fixturenames:
        names = _harness(metafunc.config).devices
        metafunc.parametrize("device", names, ids=names, indirect=True)


def pytest_collection_modifyitems(session, config, items):
    harness = _harness(config)
    if "sweep" not in (config.option.markexpr or ""):  # seed sweeps run only when asked for: -m sweep
        sweeps = [item for item in items if item.get_closest_marker("sweep")]
        if sweeps:
            items[:] = [item for item in items if not item.get_closest_marker("sweep")]
            config.hook.pytest_deselected(items=sweeps)
    for item in items:
        harness.register(item)
    harness.collected = True


@pytest.fixture
def device(request) -> torch.device:
    """The device this instance of the test runs on; skipped with the reason when it is absent."""
    name = getattr(request, "param", "cpu")
    reason = devices.unavailable_reason(name)
    if reason:
        pytest.skip(reason)
    only = request.node.get_closest_marker("devices")
    if only and name not in only.args:
        pytest.skip(only.kwargs.get("reason", f"this claim is about {', '.join(only.args)} only"))
    return torch.device(name)


def seed_for(nodeid: str) -> int:
    """A stable 32-bit seed from the test id, so no test depends on the order tests run in."""
    return int(hashlib.sha256(nodeid.encode()).hexdigest()[:8], 16)


@pytest.fixture(autouse=True)
def seed(request) -> int:
    """Seeds torch (every device), numpy and random from the test id; returns the seed."""
    value = seed_for(request.node.nodeid)
    torch.manual_seed(value)
    np.random.seed(value)
    random.seed(value)
    return value


@pytest.fixture(autouse=True)
def planted_fault(request):
    """The fault planted for this test (``--plant NAME``), in place from its setup to its teardown."""
    name = _harness(request.config).plant
    if not name:
        yield None
        return
    with faults.plant(name):
        yield name


@pytest.fixture
def amended(request) -> bool:
    """Which side of its claim's amendment a test asserts: True when the installed torch is at or past the
    registry's ``amended.since`` for the test's claim (``@pytest.mark.claim``), False before it."""
    mark = request.node.get_closest_marker("claim")
    claim = _harness(request.config).claims.get(mark.args[0]) if mark and mark.args else None
    if claim is None or claim.amended is None:
        pytest.fail(f"{request.node.nodeid}: the 'amended' fixture needs a claim with an 'amended' entry "
                    f"in the registry, got {mark.args[0] if mark and mark.args else 'no claim'}", pytrace=False)
    return claim.amended_in(torch.__version__)


@pytest.fixture
def evidence(request) -> Evidence:
    """Record measurements for the ledger: ``evidence.record(final_loss=..., grad_norms=...)``."""
    return request.node.stash.setdefault(EVIDENCE_KEY, Evidence())


def _data_root_fixture(name: str):
    env, what = DATA_OPTIONS[name]

    @pytest.fixture(scope="session", name=name)
    def root(pytestconfig) -> Path:
        path = _harness(pytestconfig).data_roots[name]
        if path is None:
            pytest.skip(f"no {what}: pass --{name.replace('_', '-')} DIR or set ${env}")
        return path

    root.__doc__ = f"The directory of {what}; skips with the reason when none was given."
    return root


cifar10_root = _data_root_fixture("cifar10_root")
luna_root = _data_root_fixture("luna_root")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if call.excinfo is not None and call.excinfo.errisinstance(DataFileError):
        report.longrepr = f"bad input: {call.excinfo.value}"  # one line naming the file, no library traceback
    _harness(item.config).record(report, item.stash.get(EVIDENCE_KEY, None))
    return report


def pytest_report_header(config):
    env = ledger.environment()
    cuda = torch.cuda.is_available()
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    return [
        f"dlwpt-claims: torch {env['torch']}, torchvision {env['torchvision']}, numpy {env['numpy']}, "
        f"SimpleITK {env['SimpleITK']}, Python {env['python']}",
        f"devices: {', '.join(_harness(config).devices)}; CPU threads {torch.get_num_threads()}; "
        f"CUDA {torch.version.cuda or 'none'} (build), cuDNN {cudnn or 'none'}; "
        f"GPU {torch.cuda.get_device_name(0) if cuda else 'none (CUDA is not available)'}",
    ]


def pytest_sessionfinish(session, exitstatus):
    harness = session.config.stash.get(HARNESS_KEY, None)
    if harness is None or not harness.collected or session.config.option.collectonly:
        return
    if session.config.getoption("benchmark_only", False):
        return  # a benchmark run checks no claim: keep the last claims run's ledger
    if harness.plant:
        return  # a run with a planted fault says nothing about the installed torch
    harness.ledger_path = ledger.write(harness.document(), session.config.getoption("ledger"))
    harness.ledger_summary = ledger.read(harness.ledger_path)["summary"]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    harness = config.stash.get(HARNESS_KEY, None)
    if harness is None or not hasattr(harness, "ledger_path"):
        return
    tr = terminalreporter
    tr.section("claims")
    named = {claim for claim, _, _ in harness.item_claim.values()}
    untested = [cid for cid in harness.claims if cid not in named]
    for cid in untested[:10]:
        tr.write_line(f"untested: {cid} (no collected test names it)")
    if len(untested) > 10:  # a run of one folder leaves the other chapters untested: say so briefly
        tr.write_line(f"untested: {len(untested) - 10} more claims (listed in the ledger)")
    counts = ", ".join(f"{k} {v}" for k, v in harness.ledger_summary.items())
    tr.write_line(f"{len(harness.claims)} claims; verdicts per claim and device: {counts}")
    tr.write_line(f"ledger written to {harness.ledger_path} (python -m claims summary {harness.ledger_path})")
