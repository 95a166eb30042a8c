"""Planted faults: each breaks exactly one behaviour of PyTorch, torchvision, SimpleITK or the book's code
as the suite rebuilds it, so that a claim's tests can be seen to go red (``python -m pytest --falsify``,
or ``--plant NAME`` to watch one fault by hand).

A fault is a generator function registered with ``@fault("name")``; its first docstring line says what it
breaks. It changes something while it is suspended at its ``yield`` and undoes it when the block ends. Most
replace one attribute, and ``replace`` says so in one line (the original is read when the fault is planted)::

    @fault("view-copies")
    def view_copies():
        \"\"\"Tensor.view returns a copy instead of a view that shares the tensor's storage.\"\"\"
        view = torch.Tensor.view
        yield from replace(torch.Tensor, "view", lambda self, *shape: view(self, *shape).clone())

A name other modules imported with ``from module import name`` is not reached that way: ``replace_code``
and ``replace_everywhere`` are for it (see the note above them). A fault that changes several things at
once patches with pytest's ``MonkeyPatch.context()`` itself and yields inside its block.

A fault breaks a value, never the harness: the tests it targets must fail by an assertion (a wrong
number, a check that no longer holds), not by a TypeError that any broken import would also give.
Faults live in modules by area (``torch_core`` for the behaviours many chapters share, then one module per
chapter for the rest); a claim names the ones that must reach it in the registry (``faults = [...]``).

A skeptic's fault (``@skeptic("name")``) is the other kind: it keeps PyTorch and the book's code right and
changes the experiment the way a doubting reader would (a remedy strong enough to underfit, an init that
changes the story, an input that is not what the statement assumes), so that the statement, as written,
would be false. A claim names them apart from its planted faults (``skeptic_faults = [...]``); a test that
stays green under one tests less than its statement says. They usually replace a named setting of the
experiment (a constant of the test module or of ``claims.experiments``), which a test must read when it
runs, not when it is collected.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import functools
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager, Iterator

import pytest

MODULES = ("torch_core", "ch05", "ch06", "ch07", "ch08", "ch08_training", "ch10")


PLANTED, SKEPTIC = "planted", "skeptic"  # the two kinds: a broken behaviour, a doubted experiment
DECORATORS = {"fault": PLANTED, "skeptic": SKEPTIC}


@dataclass(frozen=True)
class Fault:
    name: str
    doc: str  # one line: what it breaks, or how it changes the experiment
    factory: Callable[[], ContextManager[None]]
    module: str
    kind: str = PLANTED


FAULTS: dict[str, Fault] = {}
_active: list[str] = []


class FaultError(Exception):
    """An unknown fault name, or a fault defined twice."""


def fault(name: str, kind: str = PLANTED):
    """Register a generator function as the fault ``name`` (see the module docstring)."""

    def register(function):
        if name in FAULTS and FAULTS[name].module != function.__module__:
            raise FaultError(f"fault '{name}' is defined twice: in {FAULTS[name].module} and {function.__module__}")
        doc = (function.__doc__ or "").strip().splitlines()
        if not doc:
            raise FaultError(f"fault '{name}' ({function.__module__}) needs a one-line docstring saying what it breaks")
        factory = contextlib.contextmanager(function)
        FAULTS[name] = Fault(name, doc[0], factory, function.__module__, kind)
        return factory

    return register


def skeptic(name: str):
    """Register a generator function as the skeptic's fault ``name``: it changes the experiment, not PyTorch."""
    return fault(name, SKEPTIC)


def replace(target, name: str, value) -> Iterator[None]:
    """A fault's body when it replaces one attribute: ``yield from replace(F, "mse_loss", wrong)``.

    ``target`` is an object or a module's dotted name (imported when the fault is planted, so a fault can
    reach a test module's constant: ``replace("tests.ch05.test_p131_overfitting", "DROPOUT_P", 0.9)``).
    The attribute is restored when the fault ends.
    """
    if isinstance(target, str):
        target = importlib.import_module(target)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(target, name, value)
        yield


# A name other modules imported with ``from module import name`` is a second reference that replacing the
# attribute in its module does not reach. Two ways round it:
# - ``replace_code``: the function object stays, its code changes; every reference sees the change. For a
#   plain Python function of the book's or the suite's code (no closure, the same free names).
# - ``replace_everywhere``: every loaded module's reference is replaced (tests included). For anything else:
#   a class, a builtin, a function whose replacement needs a closure.


def replace_code(function, replacement) -> Iterator[None]:
    """A fault's body: ``function`` runs ``replacement``'s code, wherever it was imported."""
    yield from replace(function, "__code__", replacement.__code__)


def replace_everywhere(module, name: str, value) -> Iterator[None]:
    """A fault's body: ``module.name`` is ``value`` there and in every loaded module that imported it by name."""
    original = getattr(module, name)
    with pytest.MonkeyPatch.context() as mp:
        for loaded in list(sys.modules.values()):
            if loaded is not None and vars(loaded).get(name) is original:
                mp.setattr(loaded, name, value)
        yield


def load_all() -> dict[str, Fault]:
    """Every fault, by name (imports the fault modules once)."""
    for module in MODULES:
        importlib.import_module(f"{__name__}.{module}")
    return FAULTS


def known_names() -> set[str]:
    """Every fault's name, read from the fault modules' source without importing them (they import
    torchvision, SimpleITK and the book's code), plus any registered already (a project's conftest)."""
    return set(known_kinds())


def known_kinds() -> dict[str, str]:
    """Every fault's name and kind (``planted`` or ``skeptic``), read from source like ``known_names``."""
    kinds = {name: f.kind for name, f in FAULTS.items()}
    for module in MODULES:
        path = Path(__file__).parent / f"{module}.py"
        kinds.update(_names_in(path, path.stat().st_mtime_ns))
    return kinds


@functools.lru_cache(maxsize=None)
def _names_in(path: Path, mtime_ns: int) -> dict[str, str]:
    """The names given to ``@fault(...)`` and ``@skeptic(...)`` in one module's source, with their kind
    (cached until the file changes)."""
    found = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in DECORATORS and node.args:
            if isinstance(node.args[0], ast.Constant):
                found[node.args[0].value] = DECORATORS[node.func.id]
    return found


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
