"""What the report shows, computed once from the ledgers, the registry and the test sources; the
templates only lay it out.

Columns: one per ledger and device, grouped by device so that each column sits beside the same
device's column from the previous ledger; a cell that differs from that neighbour is marked. A column in
which every claim was skipped (``cuda`` on a machine without a GPU) is folded into one line above the table.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from claims.report import ledgers

VERDICTS = ("holds", "amended", "refuted", "fails", "skipped", "not-run", "untested", "uncheckable")
CHAPTERS = {  # the first edition's chapter titles
    5: "The mechanics of learning",
    6: "Using a neural network to fit the data",
    7: "Telling birds from airplanes: Learning from images",
    8: "Using convolutions to generalize",
    9: "Using PyTorch to fight cancer",
    10: "Combining data sources into a unified dataset",
    11: "Training a classification model to detect suspected tumors",
}
NONE = "none"  # the claim has results, none on this device
ABSENT = "absent"  # the claim is not in this ledger


@dataclass
class Ledger:
    number: int
    path: Path
    document: dict

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
    def torch(self) -> str:
        return str(self.env.get("torch") or "unknown torch")

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
        return sorted(found, key=device_order)

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
    folded: str | None = None  # why the column is not shown: "113 claims skipped: CUDA is not available"

    @property
    def key(self) -> str:
        return f"l{self.ledger.number}-{self.device}"

    @property
    def title(self) -> str:
        return f"torch {self.ledger.torch}"

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

    @property
    def css(self) -> str:
        return "v-" + self.verdict.replace(" ", "-")

    @property
    def compare(self) -> tuple:
        return (self.verdict, self.partial)


@dataclass
class ClaimView:
    id: str
    chapter: int
    page: int
    statement: str
    source: str | None
    amended: dict | None
    refuted: str | None
    uncheckable: str | None = None
    unfalsifiable: str | None = None
    faults: list = field(default_factory=list)
    known: bool = True
    records: dict = field(default_factory=dict)  # ledger number -> the ledger's record of this claim
    cells: dict = field(default_factory=dict)  # column key -> Cell
    falsified: dict = field(default_factory=dict)  # ledger number -> that ledger's falsification entry

    @property
    def href(self) -> str:
        return f"claims/{self.id}.html"

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
    registry_problem: str | None = None

    @property
    def claims(self) -> list:
        return [c for ch in self.chapters for c in ch.claims]

    def counts(self, column: Column) -> Counter:
        return Counter(c.cells[column.key].verdict for c in self.claims)

    def partial_count(self, column: Column) -> int:
        return sum(1 for c in self.claims if c.cells[column.key].partial)

    def any_partial(self) -> bool:
        return any(self.partial_count(column) for column in self.columns)

    def verdicts_present(self) -> list:
        seen = {c.cells[col.key].verdict for c in self.claims for col in self.columns}
        extra = sorted(seen - set(VERDICTS) - {NONE, ABSENT})
        return [v for v in VERDICTS if v in seen or v in ("holds", "amended", "refuted", "fails", "skipped")] + extra

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

    @property
    def falsifying_ledgers(self) -> list:
        return [ledger for ledger in self.ledgers if ledger.falsification]


def device_order(device: str) -> tuple:
    return ({"cpu": 0, "cuda": 1, "mps": 2}.get(device, 3), device)


def readable_time(iso: str) -> str:
    """``2026-11-27T09:29:03+00:00`` -> ``2026-11-27 09:29 UTC``."""
    text = str(iso)
    if len(text) >= 16 and text[10] == "T":
        zone = text[19:]
        return text[:10] + " " + text[11:16] + (" UTC" if zone in ("+00:00", "Z") else (" " + zone if zone else ""))
    return text


def load(paths: list) -> list:
    return [Ledger(n, Path(p), ledgers.read(p)) for n, p in enumerate(paths, start=1)]


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
    hover = []
    if result.get("tests") is not None:
        hover.append(f"{result['tests']} test{'' if result['tests'] == 1 else 's'}")
    if isinstance(result.get("seconds"), (int, float)):
        hover.append(f"{result['seconds']:.2g} s" if result["seconds"] < 10 else f"{result['seconds']:.0f} s")
    return Cell(verdict, text, detail, ", ".join(hover), partial)


def build(paths: list, registry: dict) -> Report:
    """The report for the ledgers in ``paths`` (read in order, left to right), with ``registry``
    (``claims.registry.load_registry()``) for the claims' notes lines and to mark unknown ids."""
    loaded = load(paths)
    columns = []
    for device in sorted({d for ledger in loaded for d in ledger.devices}, key=device_order):
        previous = None
        for ledger in loaded:
            if device in ledger.devices:
                column = Column(ledger, device, previous)
                columns.append(column)
                previous = column

    claims: dict[str, ClaimView] = {}
    for ledger in loaded:
        for record in ledger.document["claims"]:
            known = registry.get(record["id"])
            view = claims.get(record["id"])
            if view is None:
                view = claims[record["id"]] = ClaimView(
                    record["id"],
                    record["chapter"],
                    record["page"],
                    record["statement"],
                    None,
                    None,
                    None,
                    known=known is not None,
                )
            view.records[ledger.number] = record
            # the rightmost ledger's record wins; the registry fills what older ledgers lack
            view.chapter, view.page, view.statement = record["chapter"], record["page"], record["statement"]
            view.amended, view.refuted = record.get("amended"), record.get("refuted")
            view.source = record.get("source") or (known.source if known else None)
            view.uncheckable = record.get("uncheckable") or (known.uncheckable if known else None)
            view.unfalsifiable = record.get("unfalsifiable") or (known.unfalsifiable if known else None)
            view.faults = list(record.get("faults") or (known.faults if known else []))
            entry = ((ledger.falsification or {}).get("claims") or {}).get(record["id"])
            if entry is not None:
                view.falsified[ledger.number] = entry

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
                cell.changed_from = before.text

    ordered = sorted(claims.values(), key=lambda c: (c.chapter, c.page))
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
