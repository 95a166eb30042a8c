"""The pytest plugin: claim markers, the ``device`` fixture, per-test seeds, evidence, planted faults, the ledger.

Installed as a pytest plugin (the ``pytest11`` entry point ``claims.plugin``), so its options are known
when pytest first reads the command line. It turns itself on only in a project whose pytest configuration
sets ``claims_registry`` (this suite's pyproject.toml does); in any other project it stays inert: no
ledger, no header, no device parametrization, no seeding. Without the package installed, load it with
``-p claims.plugin``. The work of a session is in ``claims.harness`` (``session.register`` puts it together).

Tests never need to read this file: they use ``@pytest.mark.claim(id)``, and the ``device``, ``seed``,
``generator``-style fixtures, ``amended`` and ``evidence``, and that is all.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import Callable, Generator, Iterator

import numpy as np
import pytest
import torch

from claims import devices, faults
from claims.harness import options, rootdir, session
from claims.harness.evidence import EVIDENCE_KEY, Evidence
from claims.harness.settings import Settings

SETTINGS_KEY = pytest.StashKey[Settings]()  # this run's settings, where the suite is on
MARKERS = (
    "claim(id): the registry claim this test checks (claims/registry/*.toml)",
    "devices(*names, reason): run only on these devices; skip the others with the reason (for claims about one device)",
    "sweep: a seed sweep that measures a statistical claim's margin; deselected unless -m selects it "
    "(python -m pytest -m sweep)",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    rootdir.correct(early_config, args)  # --luna-root /data/luna must not hide this project's configuration


@pytest.hookimpl(tryfirst=True)  # before hypothesis' own configure, which would stop on a bad profile name
def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    if not config.getini("claims_registry"):
        flags = options.given(config)
        if flags:
            raise pytest.UsageError(
                f"{flags[0]}: the dlwpt-claims plugin is not on in this project (its pytest "
                f"configuration sets no claims_registry)"
            )
        return
    config.stash[SETTINGS_KEY] = session.register(config)
    if config.pluginmanager.hasplugin("benchmark"):
        from claims.cli import gate

        config.pluginmanager.register(gate, "dlwpt-claims-benchgate")


@pytest.hookimpl(wrapper=True)  # before xdist's own, which would choose "load"
def pytest_cmdline_main(config: pytest.Config) -> Generator[None, int | pytest.ExitCode, int | pytest.ExitCode]:
    # -n without --dist: workers steal tests from each other instead of splitting them up front, so the few
    # slow tests (harness runs of pytest, chapter 5's training loops) do not leave one worker idle at the end.
    option = config.option
    if config.getini("claims_registry") and getattr(option, "numprocesses", None) and option.dist == "no":
        option.dist = "load" if getattr(option, "distload", False) else "worksteal"
    return (yield)


def _settings(config: pytest.Config) -> Settings | None:
    """This run's settings; None in a project that does not turn the suite on."""
    return config.stash.get(SETTINGS_KEY, None)


def _device_skip_reason(request: pytest.FixtureRequest, name: str) -> str | None:
    reason = devices.unavailable_reason(name)
    if reason:
        return reason
    only = request.node.get_closest_marker("devices")
    if only and name not in only.args:
        return only.kwargs.get("reason", f"this claim is about {', '.join(only.args)} only")
    return None


@pytest.fixture
def device(request: pytest.FixtureRequest) -> torch.device:
    """The device this instance of the test runs on; skipped with the reason when it is absent, or when the
    test's claim is about other devices only (``@pytest.mark.devices("cuda", reason=...)``)."""
    name = getattr(request, "param", "cpu")
    reason = _device_skip_reason(request, name)
    if reason:
        pytest.skip(reason)
    return torch.device(name)


def seed_for(nodeid: str) -> int:
    """A stable 32-bit seed from the test id, so no test depends on the order tests run in."""
    return int(hashlib.sha256(nodeid.encode()).hexdigest()[:8], 16)


@pytest.fixture(autouse=True)
def seed(request: pytest.FixtureRequest) -> int | None:
    """Seeds torch (every device), numpy and random from the test id; returns the seed.

    Only torch's seed is sure to hold when the test body runs: pytest-randomly reseeds ``random`` and numpy's
    global generator from its own seed in ``pytest_runtest_call``, after the fixtures. Numbers a test draws
    with numpy come from the ``rng`` fixture instead, seeded from the test id like torch."""
    if _settings(request.config) is None:
        return None  # another project's run: leave its random state alone
    value = seed_for(request.node.nodeid)
    torch.manual_seed(value)
    np.random.seed(value)
    random.seed(value)
    return value


@pytest.fixture
def rng(seed: int | None) -> np.random.Generator:
    """A numpy generator seeded from the test id (numpy's global one is pytest-randomly's: see ``seed``)."""
    return np.random.default_rng(seed)


@pytest.fixture(autouse=True)
def planted_fault(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The fault planted for this test (``--plant NAME``, or one of its claim's faults under ``--falsify``),
    in place from its setup to its teardown; None in a normal run."""
    settings = _settings(request.config)
    name = getattr(request, "param", None) or (settings.plant if settings else None)
    if not name:
        yield None
        return
    with faults.plant(name):
        yield name


@pytest.fixture
def amended(request: pytest.FixtureRequest) -> bool:
    """Which side of its claim's amendment a test asserts: True when the installed torch is at or past the
    registry's ``amended.since`` for the test's claim (``@pytest.mark.claim``), False before it."""
    settings = _settings(request.config)
    mark = request.node.get_closest_marker("claim")
    claim = settings.claims.get(mark.args[0]) if settings and mark and mark.args else None
    if claim is None or claim.amended is None:
        pytest.fail(
            f"{request.node.nodeid}: the 'amended' fixture needs a claim with an 'amended' entry "
            f"in the registry, got {mark.args[0] if mark and mark.args else 'no claim'}",
            pytrace=False,
        )
    return claim.amended_in(torch.__version__)


@pytest.fixture
def evidence(request: pytest.FixtureRequest) -> Evidence:
    """Record measurements for the ledger: ``evidence.record(final_loss=..., grad_norms=...)``."""
    return request.node.stash.setdefault(EVIDENCE_KEY, Evidence())


def _data_root_fixture(dest: str) -> Callable[..., Path]:
    flag, env, what, _ = options.DATA_OPTIONS[dest]

    @pytest.fixture(scope="session", name=dest)
    def root(pytestconfig: pytest.Config) -> Path:
        settings = _settings(pytestconfig)
        path = settings.data_roots[dest] if settings else None
        if path is None:
            pytest.skip(f"needs {flag} DIR (or ${env}): {what}")
        return path

    root.__doc__ = f"The directory of {what}, checked at start-up; skips with the reason when none was given."
    return root


cifar10_root = _data_root_fixture("cifar10_root")
luna_root = _data_root_fixture("luna_root")
