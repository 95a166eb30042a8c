"""What the report shows, computed once from the ledgers and the registry; the templates only lay it out.

Ledgers are put in release order (torch, then Python, then file: ``claims.ledger.release_key``), whatever
order they were given in, and named by their release (``claims.ledger.column_names``). Columns: one per
ledger and device, grouped by device, so that each column sits beside the same device's column of the
previous release; a cell that differs from that neighbour is marked. A column in which every claim was
skipped (``cuda`` on a machine without a GPU) is folded: one line says so for all such columns at once.
Neighbouring cells of one device that say the same are one box (``Report.spans``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from claims import devices, ledger
from claims.ledger import MEANINGS, LedgerError

COUNTED = tuple(MEANINGS)  # what the counts table may count, in order: the verdicts, then uncheckable
SHOWN_ALWAYS = ("holds", "amended", "refuted", "fails", "skipped")
CHAPTERS = {  # the first edition's chapter titles
    5: "The mechanics of learning",
    6: "Using a neural network to fit the data",
    7: "Telling birds from airplanes: Learning from images",
    8: "Using convolutions to generalize",
    9: "Using PyTorch to fight cancer",
    10: "Combining data sources into a unified dataset",
    11: "Training a classification model to detect suspected tumors",
}
BOOK_CODE = "https://github.com/deep-learning-with-pytorch/dlwpt-code/blob/master/"
NONE = "none"  # the claim has results, none on this device
ABSENT = "absent"  # the claim is not in this ledger
MANY = 4  # more columns than this: compact cells


@dataclass
class Ledger:
    number: int  # its place in release order, from 1
    path: Path
    document: dict
    name: str = ""  # "torch 1.4.0", "torch 1.4.0 (lowest)": how columns and notes name it

    @property
    def env(self) -> dict:
        return self.document["environment"]

    @property
    def run(self) -> dict:
        return self.document.get("run") or {}

    @property
    def falsification(self) -> dict | None:
        return self.document.get("falsification")

    @property
    def printed(self) -> dict | None:
        return self.document.get("printed")

    @property
    def torch(self) -> str:
        return str(self.env.get("torch") or "unknown torch")

    @property
    def build_note(self) -> str:
        """What the wheel's tag says (``+cu102``: built for CUDA 10.2), where it has one."""
        tag = ledger.build_tag(self.document)
        if not tag:
            return ""
        if tag.startswith("cu") and tag[2:].isdigit() and len(tag) > 3:
            return f"+{tag}: the wheel built for CUDA {tag[2:-1]}.{tag[-1]}"
        if tag == "cpu":
            return "+cpu: the CPU-only wheel"
        return f"+{tag}: the wheel's build tag"

    @property
    def created(self) -> str:
        return readable_time(self.document["created"])

    @property
    def claims(self) -> dict:
        return {c["id"]: c for c in self.document["claims"]}

    @property
    def devices(self) -> list:
        found = {d for c in self.document["claims"] for d in c["results"]}
        found.update(self.run.get("devices") or [])
        return sorted(found, key=devices.order)

    def notes(self) -> list:
        """What a reader must know before trusting this ledger's verdicts: how complete the run was."""
        run, out = self.run, []
        scope = run.get("scope")
        selection = " ".join(run.get("selection") or [])
        if run.get("executed") is False:
            out.append("no test ran in this run")
        if run.get("problem"):
            out.append(f"the run had a problem: {run['problem']}")
        if scope == "partial":
            out.append(
                "a partial run"
                + (f" (selected with {selection})" if selection else "")
                + ": claims outside the selection read not-run or untested"
            )
        elif scope == "merged":
            updated = run.get("updated") or []
            out.append(
                f"merged: {len(updated)} claim(s) updated by a later run on the ledger of "
                f"{readable_time(run.get('base_created') or '?')}"
            )
        elif scope == "falsify":
            out.append("a falsification run (planted faults)")
        return out


@dataclass
class Column:
    ledger: Ledger
    device: str
    previous: Column | None = None
    folded: str | None = None  # why the column is not shown: "every claim ... was skipped: CUDA is not available"

    @property
    def key(self) -> str:
        return f"l{self.ledger.number}-{self.device}"

    @property
    def title(self) -> str:
        return self.ledger.name

    @property
    def subtitle(self) -> str:
        env = self.ledger.env
        if self.device == "cuda" and env.get("gpu"):
            return f"cuda: {env['gpu']}" + (f" (CUDA {env['cuda']})" if env.get("cuda") else "")
        return self.device

    @property
    def label(self) -> str:
        return f"{self.title}, {self.subtitle}"


@dataclass
class Cell:
    verdict: str  # a ledger verdict, or NONE / ABSENT
    text: str
    detail: list = field(default_factory=list)  # short lines shown under the verdict
    hover: str = ""
    partial: bool = False
    changed_from: str | None = None  # the neighbouring column's text, where it differs
    changed_column: Column | None = None  # that neighbouring column

    @property
    def css(self) -> str:
        return "v-" + self.verdict.replace(" ", "-")

    @property
    def compare(self) -> tuple:
        return (self.verdict, self.partial)

    def says_the_same(self, other: Cell) -> bool:
        """Whether ``other`` (the next column's cell) can share this cell's box: same words, not changed."""
        return other.changed_from is None and (self.verdict, self.text, self.detail) == (
            other.verdict,
            other.text,
            other.detail,
        )


@dataclass
class Span:
    """One box of a claim's row: a cell, and the neighbouring columns of one device that say the same."""

    cell: Cell
    columns: list
    cell_hovers: list = field(default_factory=list)  # each column's test count and time

    @property
    def hover(self) -> str:
        return "; ".join(h for h in self.cell_hovers if h)


@dataclass
class ClaimView:
    id: str
    chapter: int
    page: int
    statement: str
    source: str | None = None
    amended: dict | None = None
    refuted: str | None = None
    uncheckable: str | None = None
    unfalsifiable: str | None = None
    faults: list = field(default_factory=list)
    skeptic_faults: list = field(default_factory=list)
    book_code: str | None = None
    second_edition: str | None = None
    known: bool = True
    records: dict = field(default_factory=dict)  # ledger number -> the ledger's record of this claim
    cells: dict = field(default_factory=dict)  # column key -> Cell
    falsified: dict = field(default_factory=dict)  # ledger number -> that ledger's falsification entry
    previous: ClaimView | None = None
    next: ClaimView | None = None

    @property
    def href(self) -> str:
        return f"claims/{self.id}.html"

    @property
    def book_url(self) -> str | None:
        return BOOK_CODE + self.book_code if self.book_code else None

    @property
    def notes_line(self) -> str | None:
        """The notes' line without the page it starts with (``"127 - optimizers ..."``)."""
        if not self.source:
            return None
        head, sep, rest = self.source.partition(" - ")
        return rest if sep and head.strip().isdigit() else self.source

    @property
    def changed(self) -> bool:
        return any(c.changed_from is not None for c in self.cells.values())  # folded columns have none

    def checked_by(self) -> list:
        out = []
        for record in self.records.values():
            for node in record.get("checked_by") or []:
                if node not in out:
                    out.append(node)
        return out

    def evidence(self, column: Column) -> dict:
        record = self.records.get(column.ledger.number) or {}
        return (record.get("results", {}).get(column.device) or {}).get("evidence") or {}


@dataclass
class Chapter:
    number: int
    claims: list

    @property
    def title(self) -> str:
        return CHAPTERS.get(self.number, "")

    @property
    def anchor(self) -> str:
        return f"ch{self.number:02d}"


@dataclass
class Report:
    ledgers: list
    columns: list  # shown
    folded: list  # columns not shown, with .folded saying why
    chapters: list

    @property
    def claims(self) -> list:
        return [c for ch in self.chapters for c in ch.claims]

    @property
    def several(self) -> bool:
        return len(self.ledgers) > 1

    @property
    def many(self) -> bool:
        return len(self.columns) > MANY

    def counts(self, column: Column) -> Counter:
        return Counter(c.cells[column.key].verdict for c in self.claims)

    def partial_count(self, column: Column) -> int:
        return sum(1 for c in self.claims if c.cells[column.key].partial)

    def any_partial(self) -> bool:
        return any(self.partial_count(column) for column in self.columns)

    def verdicts_present(self) -> list:
        seen = {c.cells[col.key].verdict for c in self.claims for col in self.columns}
        extra = sorted(seen - set(COUNTED) - {NONE, ABSENT})
        return [v for v in COUNTED if v in seen or v in SHOWN_ALWAYS] + extra

    def verdict_classes(self, claim: ClaimView) -> list:
        """The verdicts a claim has in the shown columns, for the index's filter; ``changed`` where it changed."""
        found = [v for v in COUNTED if any(claim.cells[col.key].verdict == v for col in self.columns)]
        return found + (["changed"] if claim.changed else [])

    def filters(self) -> list:
        """The verdicts the index can filter by: those some shown cell has, and ``changed`` where a cell is."""
        found = [v for v in COUNTED if any(v in self.verdict_classes(c) for c in self.claims)]
        return found + (["changed"] if self.differences() else [])

    def not_holding(self) -> list:
        """Claims whose verdict is something other than a plain ``holds`` in some shown column."""
        return [
            c
            for c in self.claims
            if any(c.cells[col.key].verdict not in ("holds", NONE) or c.cells[col.key].partial for col in self.columns)
        ]

    def differences(self) -> list:
        """``[(claim, column, cell)]`` for every cell that differs from its neighbouring column."""
        return [
            (c, col, c.cells[col.key])
            for c in self.claims
            for col in self.columns
            if c.cells[col.key].changed_from is not None
        ]

    def spans(self, claim: ClaimView, columns: list | None = None) -> list:
        """The claim's row as boxes: neighbouring columns of one device whose cells say the same share one."""
        out: list = []
        for column in self.columns if columns is None else columns:
            cell = claim.cells[column.key]
            last = out[-1] if out else None
            if last and last.columns[-1].device == column.device and last.cell.says_the_same(cell):
                last.columns.append(column)
                last.cell_hovers.append(_hover(column, cell))
            else:
                out.append(Span(cell, [column], [_hover(column, cell)]))
        return out

    def folded_groups(self) -> list:
        """``[(device, why, [ledger names])]``: the folded columns, one entry per device and reason."""
        groups: dict = {}
        for column in self.folded:
            groups.setdefault((column.device, column.folded), []).append(column.ledger.name)
        return [(device, why, names) for (device, why), names in groups.items()]

    def folded_cells(self, claim: ClaimView) -> list:
        """``[(device, text, [ledger names])]``: what the claim's folded cells say, one entry per device and text."""
        groups: dict = {}
        for column in self.folded:
            cell = claim.cells[column.key]
            text = cell.text + "".join(f" ({d})" for d in cell.detail)
            groups.setdefault((column.device, text), []).append(column.ledger.name)
        return [(device, text, names) for (device, text), names in groups.items()]

    def which(self, names: list) -> str:
        """Ledgers named in release order: ``all 10 ledgers``, ``torch 1.4.0``, ``torch 1.4.0 and torch 2.0.1``;
        three or more neighbours ``torch 1.11.0 to torch 2.15.0`` (a span of neighbouring columns)."""
        order = [ledger.name for ledger in self.ledgers]
        names = sorted(set(names), key=order.index)
        if len(names) == len(order) and len(names) > 1:
            return f"all {len(names)} ledgers"
        if len(names) <= 2:
            return " and ".join(names)
        positions = [order.index(name) for name in names]
        if positions == list(range(positions[0], positions[-1] + 1)):
            return f"{names[0]} to {names[-1]}"
        return ", ".join(names[:-1]) + " and " + names[-1]

    @property
    def falsifying_ledgers(self) -> list:
        return [ledger for ledger in self.ledgers if ledger.falsification]

    @property
    def printing_ledgers(self) -> list:
        return [ledger for ledger in self.ledgers if ledger.printed]


def _hover(column: Column, cell: Cell) -> str:
    return f"{column.title}: {cell.hover}" if cell.hover else ""


def readable_time(iso: str) -> str:
    """``2026-11-27T09:29:03+00:00`` -> ``2026-11-27 09:29 UTC``."""
    text = str(iso)
    if len(text) >= 16 and text[10] == "T":
        zone = text[19:]
        return text[:10] + " " + text[11:16] + (" UTC" if zone in ("+00:00", "Z") else (" " + zone if zone else ""))
    return text


def load(paths: list) -> list:
    """The ledgers in ``paths``, checked (``claims.ledger.read``), in release order, each with its name."""
    documents = []
    for path in paths:
        document = ledger.read(path)
        if not document["claims"]:
            raise LedgerError(f"{path}: the ledger holds no claims ({ledger.RERUN})")
        documents.append((Path(path), document))
    documents.sort(key=lambda item: ledger.release_key(item[1], str(item[0])))
    names = ledger.column_names([d for _, d in documents], [p for p, _ in documents])
    return [Ledger(n, path, document, name) for n, ((path, document), name) in enumerate(zip(documents, names), 1)]


def cell_for(record: dict | None, device: str) -> Cell:
    if record is None:
        return Cell(ABSENT, "not in this ledger", hover="this ledger has no record of the claim")
    results = record.get("results") or {}
    if not results:
        if record.get("uncheckable"):
            return Cell("uncheckable", "uncheckable", [record["uncheckable"]])
        return Cell("untested", "untested", ["no collected test names this claim"])
    result = results.get(device)
    if result is None:
        return Cell(
            NONE,
            "\u2014",
            hover=f"none of its tests ran on {device} (tests with no device "
            "fixture run once, on the host, and are recorded under cpu)",
        )
    verdict = result["verdict"]
    partial = bool(result.get("partial"))
    text = verdict.replace("-", " ") + (" (partial)" if partial else "")
    detail = []
    if verdict == "amended" and record.get("amended"):
        detail.append(f"since torch {record['amended']['since']}")
    if verdict == "skipped" and result.get("reason"):
        detail.append(result["reason"])
    counts = [(result.get(k), k.replace("_", " ")) for k in ("passed", "failed", "skipped", "not_run")]
    if partial or verdict in ("fails", "not-run"):
        shown = ", ".join(f"{n} {what}" for n, what in counts if n)
        if shown:
            detail.append(shown)
        for reason, n in (result.get("skip_reasons") or {}).items():
            detail.append(f"skipped ({n}): {reason}")
        if result.get("host_tests"):
            detail.append(f"{result['host_tests']} more ran on the host (under cpu)")
    hover = []
    if result.get("tests") is not None:
        hover.append(f"{result['tests']} test{'' if result['tests'] == 1 else 's'}")
    if isinstance(result.get("seconds"), (int, float)):
        hover.append(f"{result['seconds']:.2g} s" if result["seconds"] < 10 else f"{result['seconds']:.0f} s")
    return Cell(verdict, text, detail, ", ".join(hover), partial)


REGISTRY_FIELDS = ("source", "uncheckable", "unfalsifiable", "book_code", "second_edition")


def build(paths: list, registry: dict) -> Report:
    """The report for the ledgers in ``paths`` (any order: they are shown in release order), with
    ``registry`` (``claims.registry.load_registry()``) for what older ledgers lack and to mark unknown ids."""
    loaded = load(paths)
    columns = []
    for device in sorted({d for one in loaded for d in one.devices}, key=devices.order):
        previous = None
        for ledger_ in loaded:
            if device in ledger_.devices:
                column = Column(ledger_, device, previous)
                columns.append(column)
                previous = column

    claims: dict[str, ClaimView] = {}
    for ledger_ in loaded:  # in release order: the newest release's record wins
        for record in ledger_.document["claims"]:
            known = registry.get(record["id"])
            view = claims.get(record["id"])
            if view is None:
                view = claims[record["id"]] = ClaimView(
                    record["id"], record["chapter"], record["page"], record["statement"], known=known is not None
                )
            view.records[ledger_.number] = record
            view.chapter, view.page, view.statement = record["chapter"], record["page"], record["statement"]
            view.amended, view.refuted = record.get("amended"), record.get("refuted")
            for name in REGISTRY_FIELDS:
                setattr(view, name, record.get(name) or (getattr(known, name) if known else None))
            view.faults = list(record.get("faults") or (known.faults if known else []))
            view.skeptic_faults = list(record.get("skeptic_faults") or (known.skeptic_faults if known else []))
            entry = ((ledger_.falsification or {}).get("claims") or {}).get(record["id"])
            if entry is not None:
                view.falsified[ledger_.number] = entry

    for view in claims.values():
        for column in columns:
            view.cells[column.key] = cell_for(view.records.get(column.ledger.number), column.device)

    shown, folded = _fold(columns, list(claims.values()))
    for column in shown:  # neighbours among the shown columns
        previous = column.previous
        while previous is not None and previous.folded:
            previous = previous.previous
        column.previous = previous
        if previous is None:
            continue
        for view in claims.values():
            cell, before = view.cells[column.key], view.cells[previous.key]
            if cell.compare != before.compare:
                cell.changed_from, cell.changed_column = before.text, previous

    ordered = sorted(claims.values(), key=lambda c: (c.chapter, c.page))
    for before, after in zip(ordered, ordered[1:]):
        before.next, after.previous = after, before
    chapters = []
    for view in ordered:
        if not chapters or chapters[-1].number != view.chapter:
            chapters.append(Chapter(view.chapter, []))
        chapters[-1].claims.append(view)
    return Report(loaded, shown, folded, chapters)


def _fold(columns: list, claims: list) -> tuple[list, list]:
    """Columns in which every claim with a result on the device was skipped are folded, unless that
    would leave no column at all."""
    shown, folded = [], []
    for column in columns:
        cells = [c.cells[column.key] for c in claims]
        skipped = [c for c in cells if c.verdict == "skipped"]
        if skipped and all(c.verdict in ("skipped", NONE, ABSENT, "untested", "uncheckable") for c in cells):
            reasons = Counter(c.detail[0] if c.detail else "skipped" for c in skipped).most_common()
            if len(reasons) == 1:
                why = reasons[0][0]
            else:
                why = "; ".join(f"{reason} ({n})" for reason, n in reasons)
            column.folded = f"all {len(skipped)} claims with tests on {column.device} were skipped: {why}"
            folded.append(column)
        else:
            shown.append(column)
    if not shown:
        for column in folded:
            column.folded = None
        return columns, []
    return shown, folded
