"""The benchmarks: kept out of the default run, and the matmul ceiling they are measured against.

A benchmark (a test that takes pytest-benchmark's ``benchmark`` fixture) runs only when asked for:
``--benchmark-only`` (pytest-benchmark's own option, which also skips every other test), or this folder
(or a file in it) named on the command line. Otherwise it is deselected, so ``python -m pytest`` stays
the claims and stays fast; the plain tests here (the FLOP count) run in every run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from pytest_benchmark.utils import load_timer

from claims.experiments import throughput

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


def ceiling_shapes(device_type: str) -> list[tuple[int, int, int]]:
    """Square products that fill the device, and the largest product of each model's layers at the largest
    batch benchmarked there: no model layer can then outrun the ceiling it is compared with."""
    largest = []
    for name in throughput.MODELS:
        batch = max(
            b
            for b in throughput.BATCH_SIZES
            if device_type != "cpu"
            or b <= max(throughput.CPU_LARGEST[name, mode] for mode in ("inference", "training"))
        )
        largest.append(throughput.largest_product(name, batch))
    return throughput.square_shapes(device_type) + largest


def _measure_ceiling(device, config, ceilings: dict) -> float:
    clock = load_timer(config.getoption("benchmark_timer")).target
    found = throughput.matmul_ceiling(device, ceiling_shapes(device.type), clock=clock)
    found["timer"] = str(config.getoption("benchmark_timer"))
    if found["flop_per_s"] > ceilings.get(device.type, {}).get("flop_per_s", 0.0):
        ceilings[device.type] = found
    return ceilings[device.type]["flop_per_s"]


@pytest.fixture
def matmul_ceiling(device, _ceilings, pytestconfig) -> float:
    """The device's float32 matrix-multiply rate in FLOP/s (``claims.experiments.throughput.matmul_ceiling``), measured
    with the benchmarks' own clock and threads the first time a benchmark needs it and again when the session
    ends; the faster of the two is the ceiling every benchmark's ``fraction_of_ceiling`` is finally computed with
    (``pytest_sessionfinish`` below), so a benchmark timed when the machine was quieter than at the first
    measurement cannot come out above 1."""
    if device.type not in _ceilings:
        _measure_ceiling(device, pytestconfig, _ceilings)
    pytestconfig.stash[CEILINGS] = _ceilings
    return _ceilings[device.type]["flop_per_s"]


CEILINGS = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True)  # around pytest-benchmark's own wrapper, which writes the JSON
def pytest_sessionfinish(session):
    ceilings = session.config.stash.get(CEILINGS, None)
    benchmark_session = getattr(session.config, "_benchmarksession", None)
    if ceilings and benchmark_session is not None:
        _final_fractions(session, ceilings, benchmark_session)
    return (yield)


def _final_fractions(session, ceilings: dict, benchmark_session) -> None:
    for device_type in list(ceilings):
        _measure_ceiling(torch.device(device_type), session.config, ceilings)
    for result in benchmark_session.benchmarks:
        info = result.extra_info
        ceiling = ceilings.get(info.get("device"), {}).get("flop_per_s")
        if ceiling and "flop_per_s" in info:
            info.update(matmul_ceiling_flop_per_s=ceiling, fraction_of_ceiling=info["flop_per_s"] / ceiling)
            if info["fraction_of_ceiling"] > 1:  # a measurement error, never a result: say so in the file
                info["measurement_error"] = "faster than the matmul ceiling measured in the same run"


def pytest_benchmark_update_json(config, benchmarks, output_json):
    """The ceiling each fraction was computed with, in the JSON (``python -m claims plot`` draws it)."""
    if config.stash.get(CEILINGS, None):
        output_json["dlwpt_matmul_ceiling"] = config.stash[CEILINGS]


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info.update(
        torch=torch.__version__,
        cpu_threads=torch.get_num_threads(),
        gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    )
