"""What each collected test checks: its claim (``@pytest.mark.claim``), its device, and under ``--falsify`` the
fault planted for it. Registered in every process that collects tests (the only one, or each xdist worker)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from claims.harness.settings import Settings


@dataclass(frozen=True)
class Collected:
    """One collected claim test: its claim, device, its name in the evidence, its function, its fault."""

    claim: str
    device: str
    name: str  # test function plus its non-device parameters: "test_remedy[dropout]"
    function: str  # "tests/ch05/test_p131_overfitting.py::test_remedy"
    fault: str | None = None
    host: bool = False  # takes no device: runs on the host, recorded under cpu


class Collection:
    """Parametrizes ``device`` (and ``planted_fault`` under ``--falsify``), records what every claim test checks
    before anything deselects it, and drops the tests this run does not want: seed sweeps unless ``-m``
    selects them, and under ``--falsify`` every test that plants no fault."""

    def __init__(self, settings: Settings, config: pytest.Config) -> None:
        self.settings = settings
        self.config = config
        self.collected: dict[str, Collected] = {}  # nodeid -> what it checks, before any deselection
        self.selected: set[str] = set()  # the nodeids left to run after every deselection
        self.errors = 0  # collection errors

    def describe(self, item: pytest.Item) -> Collected | None:
        """What ``item`` checks, or None when it names no claim; a malformed or unknown claim id stops the run."""
        marks = list(item.iter_markers("claim"))
        if not marks:
            return None
        ids = [a for m in marks for a in m.args]
        if len(marks) != 1 or len(ids) != 1 or not isinstance(ids[0], str):
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.claim takes exactly one claim id, got {ids!r}")
        if ids[0] not in self.settings.claims:
            raise pytest.UsageError(
                f"{item.nodeid}: names unknown claim '{ids[0]}' "
                f"(claim ids are defined in the registry, claims/registry/*.toml)"
            )
        callspec = getattr(item, "callspec", None)  # only a parametrized pytest.Function has one
        params = dict(callspec.params) if callspec is not None else {}
        host = "device" not in params
        device = str(params.pop("device", "cpu"))  # a test with no device fixture runs on the host CPU
        fault = params.pop("planted_fault", None)
        original = getattr(item, "originalname", item.name)
        name = original + (f"[{'-'.join(str(v) for v in params.values())}]" if params else "")
        path = item.path
        try:
            path = path.relative_to(self.config.rootpath)
        except ValueError:
            pass
        return Collected(ids[0], device, name, f"{path.as_posix()}::{original}", fault, host)

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        devices = self.settings.devices
        if "device" in metafunc.fixturenames:
            metafunc.parametrize("device", devices, ids=devices, indirect=True)
        if self.settings.falsify:
            mark = metafunc.definition.get_closest_marker("claim")
            claim = self.settings.claims.get(mark.args[0]) if mark and mark.args else None
            planted = [*claim.faults, *claim.skeptic_faults] if claim is not None else []
            if planted:
                metafunc.parametrize("planted_fault", planted, ids=planted, indirect=True)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        for item in items:  # every claim test, before -k, -m, --lf or a conftest deselects any
            described = self.describe(item)
            if described:
                self.collected[item.nodeid] = described
        keep, drop = [], []
        for item in items:
            if item.get_closest_marker("sweep") and "sweep" not in (config.option.markexpr or ""):
                drop.append(item)  # seed sweeps run only when asked for: -m sweep
            elif self.settings.falsify and (
                item.nodeid not in self.collected or self.collected[item.nodeid].fault is None
            ):
                drop.append(item)  # --falsify runs only claim tests, once per fault
            else:
                keep.append(item)
        if drop:
            items[:] = keep
            config.hook.pytest_deselected(items=drop)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.selected = {item.nodeid for item in session.items}

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors += 1

    def merge(self, collected: dict[str, dict], selected: list[str]) -> None:
        """What an xdist worker collected (``Worker.sent``), into the controller's view of the run."""
        for nodeid, fields in collected.items():
            self.collected.setdefault(nodeid, Collected(**fields))
        self.selected.update(selected)

    def deselected(self) -> int:
        """How many claim tests were collected and then deselected."""
        return len(set(self.collected) - self.selected)

    def checked_by(self) -> dict[str, list[str]]:
        """Per claim, the test functions that check it, in collection order."""
        functions: dict[str, list[str]] = {}
        for described in self.collected.values():
            found = functions.setdefault(described.claim, [])
            if described.function not in found:
                found.append(described.function)
        return functions
