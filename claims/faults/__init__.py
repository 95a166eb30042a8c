"""Planted faults: each breaks exactly one behaviour of PyTorch, torchvision, SimpleITK or the book's code
as the suite rebuilds it, so that a claim's tests can be seen to go red (``python -m pytest --falsify``,
or ``--plant NAME`` to watch one fault by hand).

A fault is a generator function registered with ``@fault("name")``; its first docstring line says what it
breaks. It patches with pytest's ``MonkeyPatch`` and undoes everything when the block ends::

    @fault("view-copies")
    def view_copies():
        \"\"\"Tensor.view returns a copy instead of a view of the same storage.\"\"\"
        view = torch.Tensor.view
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(torch.Tensor, "view", lambda self, *shape: view(self, *shape).clone())
            yield

A fault breaks a value, never the harness: the tests it targets must fail by an assertion (a wrong
number, a check that no longer holds), not by a TypeError that any broken import would also give.
Faults live in modules by area (``torch_core`` for the behaviours many chapters share, then one module per
chapter for the rest); a claim names the ones that must reach it in the registry (``faults = [...]``).
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import functools
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager

MODULES = ("torch_core", "ch05", "ch06", "ch07", "ch08", "ch08_training", "ch10")


@dataclass(frozen=True)
class Fault:
    name: str
    doc: str  # one line: what it breaks
    factory: Callable[[], ContextManager[None]]
    module: str


FAULTS: dict[str, Fault] = {}
_active: list[str] = []


class FaultError(Exception):
    """An unknown fault name, or a fault defined twice."""


def fault(name: str):
    """Register a generator function as the fault ``name`` (see the module docstring)."""

    def register(function):
        if name in FAULTS and FAULTS[name].module != function.__module__:
            raise FaultError(f"fault '{name}' is defined twice: in {FAULTS[name].module} and {function.__module__}")
        doc = (function.__doc__ or "").strip().splitlines()
        if not doc:
            raise FaultError(f"fault '{name}' ({function.__module__}) needs a one-line docstring saying what it breaks")
        factory = contextlib.contextmanager(function)
        FAULTS[name] = Fault(name, doc[0], factory, function.__module__)
        return factory

    return register


def load_all() -> dict[str, Fault]:
    """Every fault, by name (imports the fault modules once)."""
    for module in MODULES:
        importlib.import_module(f"{__name__}.{module}")
    return FAULTS


def known_names() -> set[str]:
    """Every fault's name, read from the fault modules' source without importing them (they import
    torchvision, SimpleITK and the book's code), plus any registered already (a project's conftest)."""
    names = set(FAULTS)
    for module in MODULES:
        path = Path(__file__).parent / f"{module}.py"
        names.update(_names_in(path, path.stat().st_mtime_ns))
    return names


@functools.lru_cache(maxsize=None)
def _names_in(path: Path, mtime_ns: int) -> frozenset:
    """The names given to ``@fault(...)`` in one module's source (cached until the file changes)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "fault" and node.args:
            if isinstance(node.args[0], ast.Constant):
                found.add(node.args[0].value)
    return frozenset(found)


def check_name(name: str, names: set[str] | None = None) -> None:
    """Raise a FaultError naming ``name`` and its likely intended spelling when no fault has that name."""
    names = known_names() if names is None else names
    if name not in names:
        close = difflib.get_close_matches(name, sorted(names), n=3, cutoff=0.75)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise FaultError(f"unknown fault '{name}'{hint}; the faults are defined in claims/faults/")


def get(name: str) -> Fault:
    check_name(name, set(load_all()))
    return FAULTS[name]


@contextlib.contextmanager
def plant(name: str):
    """``with plant("view-copies"): ...``: the block runs with that fault in place."""
    planted = get(name).factory()
    with planted:
        _active.append(name)
        try:
            yield
        finally:
            _active.pop()


def active() -> str | None:
    """The fault planted right now, or None: for session caches that must not serve a planted test a
    result computed without its fault (or the other way round)."""
    return _active[-1] if _active else None
