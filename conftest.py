"""The fixtures every chapter shares, and the hypothesis profiles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from claims import faults
from claims.book.thermometer import Run, Thermometer, book_run, read_thermometer_csv
from claims.experiments import threads

pytest_plugins = ["pytester"]  # the suite's own plugin, claims.plugin, is installed as a pytest11 entry point

FIXTURES = Path(__file__).parent / "fixtures"

# Properties stay small so the suite stays fast; CI replays the same examples every run (derandomized: no
# example database). Elsewhere the database lives under the project root, wherever pytest is started from.
_common = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
_database = DirectoryBasedExampleDatabase(str(Path(__file__).parent / ".hypothesis" / "examples"))
settings.register_profile("ci", max_examples=25, derandomize=True, print_blob=True, **_common)
settings.register_profile("dev", max_examples=25, database=_database, **_common)
settings.register_profile("thorough", max_examples=500, database=_database, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(scope="session")
def thermometer_cpu() -> Thermometer:
    """The book's eleven thermometer readings, from fixtures/thermometer.csv."""
    return read_thermometer_csv(FIXTURES / "thermometer.csv")


@pytest.fixture
def thermometer(thermometer_cpu, device) -> Thermometer:
    """The readings on the test's device."""
    return thermometer_cpu.to(device)


@pytest.fixture
def generator(seed, device) -> torch.Generator:
    """A generator on the test's device, seeded from the test id, for data that must not depend on
    what other code drew from the global generator."""
    return torch.Generator(device=device).manual_seed(seed)


@pytest.fixture(scope="session")
def session_cache():
    """``session_cache(key, compute)``: ``compute()`` once per session for each key, shared by every test
    that asks (the long training runs cost seconds). What is computed with a planted fault (``--plant``,
    ``--falsify``) is kept apart from what is computed without it, so neither is served to the other."""
    store: dict = {}

    def cached(key, compute):
        key = (faults.active(), key)
        if key not in store:
            store[key] = compute()
        return store[key]

    return cached


@pytest.fixture
def thermometer_run(thermometer, device, session_cache):
    """``thermometer_run(route, n_epochs, lr, inputs)``: one of the book's chapter-5 runs on the test's
    device, computed once per session and shared by every claim that reads it."""

    def run(route: str, n_epochs: int, learning_rate: float, inputs: str) -> Run:
        key = ("thermometer", str(device), route, n_epochs, learning_rate, inputs)
        return session_cache(key, lambda: book_run(thermometer, route, n_epochs, learning_rate, inputs))

    return run


@pytest.fixture
def one_cpu_thread():
    """The test on one CPU thread (``pytestmark = pytest.mark.usefixtures("one_cpu_thread")``).

    Tests of hundreds of tiny ops (100-layer stacks on 16x16 images, batched small regressions) spend
    their time in the thread pool's barriers: on a busy 2-core machine two threads took 5-8 s where one
    takes 0.1-0.3 s. Results do not depend on the thread count beyond rounding.
    """
    with threads.one_cpu_thread():
        yield
