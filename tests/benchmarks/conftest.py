"""The benchmarks: kept out of the default run, and the matmul ceiling they are measured against.

A benchmark (a test that takes pytest-benchmark's ``benchmark`` fixture) runs only when asked for:
``--benchmark-only`` (pytest-benchmark's own option, which also skips every other test), or this folder
(or a file in it) named on the command line. Otherwise it is deselected, so ``python -m pytest`` stays
the claims and stays fast; the plain tests here (the FLOP count) run in every run.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from pytest_benchmark.utils import load_timer

from claims import bench

HERE = Path(__file__).parent.resolve()


def _named_on_command_line(config) -> bool:
    for arg in config.args:
        path = Path(arg.split("::")[0])
        path = (path if path.is_absolute() else Path(config.invocation_params.dir) / path).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_collection_modifyitems(config, items):
    if config.getoption("benchmark_only") or _named_on_command_line(config):
        return
    keep, benchmarks = [], []
    for item in items:
        is_ours = HERE in Path(item.fspath).resolve().parents and "benchmark" in getattr(item, "fixturenames", ())
        (benchmarks if is_ours else keep).append(item)
    if benchmarks:
        items[:] = keep
        config.hook.pytest_deselected(items=benchmarks)


@pytest.fixture(scope="session")
def _ceilings() -> dict:
    return {}


@pytest.fixture
def matmul_ceiling(device, _ceilings, pytestconfig) -> float:
    """The device's float32 matrix-multiply rate in FLOP/s, measured once per device per session
    (``claims.bench.matmul_ceiling``) with the benchmarks' own clock (``--benchmark-timer``): what each
    benchmark's FLOP/s is a fraction of."""
    if device.type not in _ceilings:
        clock = load_timer(pytestconfig.getoption("benchmark_timer")).target
        _ceilings[device.type] = bench.matmul_ceiling(device, clock=clock)
    return _ceilings[device.type]
