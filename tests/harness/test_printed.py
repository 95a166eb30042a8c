"""The inventory of what the book's companion notebooks printed (``claims/registry/printed/``): every record
is well formed, every value it says a test asserts is text the notebook printed, every test it names exists
and holds those values, and every cell that printed something has a record. What the notebooks printed is
``notebooks.json``, written from a checkout of dlwpt-code by ``scripts/printed_outputs.py``."""

from __future__ import annotations

import ast
import functools
import json
import re
from pathlib import Path

import pytest

from claims.registry import RegistryError, printed

ROOT = Path(__file__).resolve().parents[2]
INVENTORY = printed.load()
MANIFEST = json.loads((printed.DEFAULT_DIR / "notebooks.json").read_text(encoding="utf-8"))
FOLDERS = sorted({notebook.split("/")[0].split("_")[0] for notebook in MANIFEST})  # p1ch5 ... p2ch10


@functools.lru_cache(maxsize=None)  # one parse per test module, not one per printed output it asserts
def _functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_cell_that_printed_something_has_a_record(folder):
    covered = {(o.notebook, o.cell) for o in INVENTORY}
    missing = [
        f"{notebook} In[{cell}]"
        for notebook, cells in MANIFEST.items()
        if notebook.startswith(folder)
        for cell in map(int, cells)
        if (notebook, cell) not in covered
    ]
    assert not missing, f"{len(missing)} printed outputs of {folder} have no record:\n" + "\n".join(missing)


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_named_test_exists_and_holds_the_printed_values(folder):
    problems = []
    for output in (o for o in INVENTORY if o.test and o.notebook.startswith(folder)):
        path, _, function = output.test.partition("::")
        source = ROOT / path
        if not source.is_file() or function not in _functions(source):
            problems.append(f"{output.origin}: {output.test} does not exist")
            continue
        text = source.read_text(encoding="utf-8")
        absent = [value for value in output.values if value not in text]
        if absent:
            problems.append(f"{output.origin}: {path} never writes {absent} as printed")
    assert not problems, "\n".join(problems)


def test_records_name_only_cells_that_printed_something():
    stray = [o.origin for o in INVENTORY if str(o.cell) not in MANIFEST.get(o.notebook, {})]
    assert not stray, f"records of cells that printed nothing (or of another notebook): {stray}"


def _spaced(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_asserted_value_is_text_the_notebook_printed(folder):
    """A value is the notebook's own text (spaces aside), so a test holds what the book printed, not a copy of
    itself: ``values`` are checked against the notebook's output, then against the test's source."""
    foreign = [
        f"{o.origin}: {value!r}"
        for o in INVENTORY
        if o.notebook.startswith(folder)
        for value in o.values
        if _spaced(value) not in _spaced(MANIFEST.get(o.notebook, {}).get(str(o.cell), ""))
    ]
    assert not foreign, "values that the notebook did not print:\n" + "\n".join(foreign)


def test_counts_are_what_the_records_say():
    found = printed.counts(INVENTORY)
    assert found["asserted"] == sum(1 for o in INVENTORY if o.test)
    assert found["reproducible"] >= found["asserted"]
    assert found["outputs"] == len(INVENTORY)


@pytest.mark.parametrize(
    "record, message",
    [
        ('notebook = "a.ipynb"\ncell = 3\nprinted = "x"', "give exactly one of 'test'"),
        ('notebook = "a.ipynb"\ncell = 3\nprinted = "x"\ntest = "tests/t.py::test_a"', "with the 'values'"),
        ('notebook = "a.ipynb"\ncell = 3\nprinted = "x"\nnot_asserted = "lazy"\nwhy = "w"', "must be one of"),
        ('notebook = "a.ipynb"\ncell = 3\nprinted = "x"\nnot_asserted = "unseeded"', "with a 'why'"),
        ('notebook = "a.ipynb"\nprinted = "x"', "field 'cell' must be a non-empty int"),
        ('notebook = "a.ipynb"\ncell = 3\nprinted = "x"\nverdict = "ok"', "field 'verdict' is not an output field"),
    ],
)
def test_a_malformed_record_names_the_file_the_cell_and_the_problem(tmp_path, record, message):
    (tmp_path / "p1ch5.toml").write_text("[[output]]\n" + record + "\n")
    with pytest.raises(RegistryError, match="p1ch5.toml \\(output #1\\)") as raised:
        printed.load(tmp_path)
    assert message in str(raised.value)
