"""A claim's entry: every test that checks it (source, docstring) and the evidence each recorded,
as table rows per column, ready for a template and a figure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from claims.report.model import ClaimView
from claims.report.sources import FunctionSource, SourceIndex, paragraphs

MAX_LIST = 12  # longer lists show their ends; the figure shows them whole


@dataclass
class EvidenceGroup:
    """What one test (with one set of parameters) recorded, per column."""

    key: str  # test_name[params]
    columns: list  # the columns that recorded it
    evidence: list  # one dict per column
    rows: list = field(default_factory=list)  # [(quantity, [(lines, how many neighbouring columns share them)])]
    figure: object = None  # figures.Figure, drawn by the site writer

    @property
    def params(self) -> str:
        return self.key[self.key.index("[") :] if "[" in self.key else ""

    @property
    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9_.-]+", "-", self.key).strip("-")


@dataclass
class ClaimTest:
    name: str
    source: FunctionSource | None
    node: str | None = None
    groups: list = field(default_factory=list)
    module_doc: list = field(default_factory=list)  # the paragraphs of its module's docstring, on the first
    # test of each module only (it says how the module's margins were measured)


def tests_for(claim: ClaimView, columns: list, index: SourceIndex) -> list:
    """The tests of ``claim``: those the ledgers name (``checked_by``), those that recorded evidence,
    and those whose ``@pytest.mark.claim`` names it in the sources, each once, in file order."""
    views: dict = {}

    def add(name: str, node: str | None = None) -> ClaimTest:
        source = index.find(claim.id, node=node, name=name)
        key = (source.path, source.name) if source else ("", name)
        if key not in views:
            views[key] = ClaimTest(source.name if source else name, source, node)
        return views[key]

    for node in claim.checked_by():
        add(node.split("::")[-1].split("[")[0], node)
    by_key: dict = {}
    for column in columns:
        for key, evidence in claim.evidence(column).items():
            by_key.setdefault(key, []).append((column, evidence))
    for key, recorded in by_key.items():
        view = add(key.split("[")[0])
        view.groups.append(group(key, recorded))
    for source in index.for_claim(claim.id):
        add(source.name, f"{source.path}::{source.name}")
    ordered = sorted(
        views.values(),
        key=lambda v: (v.source is None, v.source.path if v.source else "", v.source.line if v.source else 0, v.name),
    )
    seen = set()
    for view in ordered:
        view.groups.sort(key=lambda g: g.key)
        if view.source and view.source.path not in seen:
            seen.add(view.source.path)
            view.module_doc = paragraphs(index.module_doc.get(view.source.path, ""))
    return ordered


def printed_outputs(tests: list, outputs: list) -> list:
    """The book's printed outputs (``claims.registry.printed.PrintedOutput``) that one of ``tests`` asserts:
    those whose ``test`` (``tests/chNN/test_x.py::test_name``) is one of them."""
    names = set()
    for test in tests:
        if test.source:
            names.add(f"{test.source.path}::{test.source.name}")
        if test.node:
            names.add(test.node.split("[")[0])
    return [o for o in outputs if o.test and o.test.split("[")[0] in names]


def group(key: str, recorded: list) -> EvidenceGroup:
    columns = [c for c, _ in recorded]
    evidence = [e if isinstance(e, dict) else {"value": e} for _, e in recorded]
    quantities = list(dict.fromkeys(q for e in evidence for q in e))
    rows = []
    for q in quantities:
        cells: list = []  # neighbouring columns of one device that recorded the same share a cell
        for n, e in enumerate(evidence):
            shown = lines(e[q]) if q in e else ["\u2014"]
            if cells and cells[-1][0] == shown and columns[n].device == columns[n - 1].device:
                cells[-1][1] += 1
            else:
                cells.append([shown, 1])
        rows.append((q, [tuple(c) for c in cells]))
    return EvidenceGroup(key, columns, evidence, rows)


def number(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.7g}"
    return str(value)


def inline(value) -> str:
    """One value on one line: numbers to 7 significant digits, long lists shortened."""
    if isinstance(value, list):
        items = [inline(v) for v in value]
        if len(items) > MAX_LIST:
            items = items[:6] + ["\u2026"] + items[-2:]
            return "[" + ", ".join(items) + f"] ({len(value)} values)"
        return "[" + ", ".join(items) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key(k)}: {inline(v)}" for k, v in value.items()) + "}"
    if value is None:
        return "null"
    return number(value)


def key(text) -> str:
    """A dict key as recorded, numbers to 7 significant digits (a float32 rate ``9.99999993922529e-09`` reads
    ``1e-08``)."""
    try:
        return number(float(text)) if not str(text).isdigit() else str(text)
    except ValueError:
        return str(text)


def lines(value) -> list:
    """A value for a table cell: a dict one entry a line, anything else on one line."""
    if isinstance(value, dict) and value:
        return [f"{key(k)}: {inline(v)}" for k, v in value.items()]
    return [inline(value)]
