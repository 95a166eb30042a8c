"""The plugin's command-line options, checked at start-up: each bad value is one usage error naming the
option and the problem, before any test runs."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest

from claims import devices, ledger
from claims.errors import DataFileError

# option dest -> (flag, environment variable, what it points at, "module:checker" run on it at start-up)
DATA_OPTIONS = {
    "cifar10_root": (
        "--cifar10-root",
        "CIFAR10_ROOT",
        "the real CIFAR-10 (torchvision's cifar-10-batches-py layout)",
        "claims.book.cifar:check_cifar10_root",
    ),
    "luna_root": (
        "--luna-root",
        "LUNA16_ROOT",
        "the real LUNA16 data (subset0..9/, candidates.csv, annotations.csv)",
        "claims.book.luna.candidates:check_luna_root",
    ),
}
DEFAULT_LEDGER = ledger.DEFAULT_PATH  # under the project root


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("dlwpt-claims", "dlwpt-claims (the book's claims)")
    group.addoption(
        "--device",
        default=None,
        metavar="NAMES",
        help="comma-separated devices to run the claims on, from cpu, cuda, mps "
        "(default: cpu and cuda, plus mps where present)",
    )
    group.addoption(
        "--ledger",
        default=None,
        metavar="PATH",
        help=f"where to write the ledger of verdicts (default: {DEFAULT_LEDGER} under the project root)",
    )
    for dest, (flag, env, what, _) in DATA_OPTIONS.items():
        group.addoption(
            flag,
            dest=dest,
            default=None,
            metavar="DIR",
            help=f"directory of {what}; also ${env}. Without it those claims are skipped",
        )
    group.addoption(
        "--plant",
        default=None,
        metavar="FAULT",
        help="run the tests with one planted fault (claims/faults/) to watch its claims go red; writes no ledger",
    )
    group.addoption(
        "--falsify",
        action="store_true",
        default=False,
        help="run every claim's tests on the CPU once per fault the registry names for it, and fail "
        "where a test stays green under every fault or a fault turns no test red",
    )
    parser.addini(
        "claims_registry",
        "directory of the claim registry's TOML files; setting it is what turns "
        "the dlwpt-claims plugin on for a project",
        default="",
    )


def given(config: pytest.Config) -> list[str]:
    """The plugin's options that were given on this command line."""
    names = ["device", "ledger", "plant", *DATA_OPTIONS]
    flags = [f"--{name.replace('_', '-')}" for name in names if config.getoption(name) is not None]
    return flags + (["--falsify"] if config.getoption("falsify") else [])


def ledger_path(config: pytest.Config) -> Path:
    """``--ledger PATH`` (relative to where pytest was started), or reports/ledger.json under the project root;
    a value that cannot be a ledger file is a usage error now, not a traceback after the run."""
    value = config.getoption("ledger")
    if value is None:
        return config.rootpath / DEFAULT_LEDGER
    if not value.strip():
        raise pytest.UsageError("--ledger: the path is empty (give a file such as reports/ledger.json)")
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = Path(config.invocation_params.dir) / path
    if path.is_dir():
        raise pytest.UsageError(
            f"--ledger {value}: is a directory (give a file path such as {value.rstrip('/')}/ledger.json)"
        )
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise pytest.UsageError(f"--ledger {value}: {parent} is a file, so nothing can be written under it")
            if not os.access(parent, os.W_OK):
                raise pytest.UsageError(f"--ledger {value}: {parent} is not writable")
            break
    return path


def device_names(config: pytest.Config) -> list[str]:
    try:
        return devices.parse_option(config.getoption("device"))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


def data_root(config: pytest.Config, dest: str) -> Path | None:
    """The checked data root for ``dest`` (``--luna-root`` or its environment variable), or None when none was
    given. A directory that is missing or is not the data set stops the run here, in one line."""
    flag, env, what, checker = DATA_OPTIONS[dest]
    value = config.getoption(dest)
    source = flag
    if value is None:
        value, source = os.environ.get(env) or None, f"${env}"
    if value is None:
        return None
    if not value.strip():
        raise pytest.UsageError(f"{source}: the path is empty (it should be the directory of {what})")
    path = Path(value).expanduser()
    if not path.is_dir():
        problem = "is a file, not a directory" if path.exists() else "no such directory"
        raise pytest.UsageError(f"{source} {value}: {problem} (it should hold {what})")
    module, function = checker.split(":")
    try:
        getattr(importlib.import_module(module), function)(path)
    except DataFileError as exc:
        raise pytest.UsageError(f"{source} {value}: not {what}: {exc}") from None
    return path


def check_hypothesis_profile(config: pytest.Config) -> None:
    """``--hypothesis-profile NAME`` must name a profile the project registered (hypothesis itself would stop
    with an internal error)."""
    name = getattr(config.option, "hypothesis_profile", None)
    if not name:
        return
    from hypothesis import settings
    from hypothesis.errors import InvalidArgument

    try:
        settings.get_profile(name)
    except InvalidArgument:
        known = ", ".join(sorted(getattr(settings, "_profiles", {})))
        raise pytest.UsageError(f"--hypothesis-profile {name}: no such profile (registered: {known})") from None
