"""``python -m claims``: read a ledger back.

    python -m claims summary [LEDGER] [--claims]

prints the verdicts per chapter and device as an aligned table (and, with ``--claims``, one line
per claim) and exits 1 when any claim fails on any device, 2 when the ledger cannot be read.

    python -m claims plot BENCHMARK_JSON [-o OUT.png]

draws throughput against batch size per model and device from a pytest-benchmark JSON file (the
benchmarks in ``tests/benchmarks``) into a PNG; exits 2 when the file cannot be read.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from claims import ledger
from claims.errors import DataFileError

DEFAULT_LEDGER = "reports/ledger.json"


def table(rows: list[list[str]]) -> str:
    """Columns padded to their widest cell; the first column left-aligned, numbers right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def summary_rows(document: dict) -> list[list[str]]:
    devices = sorted({d for c in document["claims"] for d in c["results"]}, key=lambda d: (d != "cpu", d))
    counts: dict[tuple[int, str], Counter] = {}
    untested: Counter = Counter()
    for claim in document["claims"]:
        if not claim["results"]:
            untested[claim["chapter"]] += 1
        for device, result in claim["results"].items():
            counts.setdefault((claim["chapter"], device), Counter())[result["verdict"]] += 1
    verdicts = [v for v in ledger.VERDICTS if v != "untested"]
    rows = [["chapter", "device", "claims", *verdicts, "untested"]]
    chapters = sorted({c["chapter"] for c in document["claims"]})
    for chapter in chapters:
        n = sum(1 for c in document["claims"] if c["chapter"] == chapter)
        for i, device in enumerate(devices or ["-"]):
            got = counts.get((chapter, device), Counter())
            rows.append([f"ch{chapter:02d}" if i == 0 else "", device, str(n),
                         *(str(got[v]) for v in verdicts), str(untested[chapter]) if i == 0 else ""])
    return rows


def claim_rows(document: dict) -> list[list[str]]:
    devices = sorted({d for c in document["claims"] for d in c["results"]}, key=lambda d: (d != "cpu", d))
    rows = [["claim", "page", *devices]]
    for claim in document["claims"]:
        rows.append([claim["id"], str(claim["page"]),
                     *(claim["results"].get(d, {}).get("verdict", "untested") for d in devices)])
    return rows


def summary(args) -> int:
    try:
        document = ledger.read(args.ledger)
    except ledger.LedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    env = document["environment"]
    print(f"ledger {args.ledger}: torch {env.get('torch')} on {env.get('platform')}, "
          f"GPU {env.get('gpu') or 'none'}, written {document['created']}")
    print(table(summary_rows(document)))
    if args.claims:
        print()
        print(table(claim_rows(document)))
    failing = sorted({c["id"] for c in document["claims"] for r in c["results"].values() if r["verdict"] == "fails"})
    if failing:
        print(f"\n{len(failing)} claim(s) fail: " + ", ".join(failing))
        return 1
    return 0


def plot(args) -> int:
    from claims.plot import plot as draw  # here: matplotlib only for this command

    out = args.output or str(Path(args.benchmark_json).with_suffix(".png"))
    try:
        written = draw(args.benchmark_json, out)
    except DataFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {out}: cannot write the plot ({exc.strerror or exc})", file=sys.stderr)
        return 2
    print(f"wrote {written}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m claims", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("summary", help="verdicts per chapter and device, from a ledger")
    s.add_argument("ledger", nargs="?", default=DEFAULT_LEDGER, help=f"ledger file (default {DEFAULT_LEDGER})")
    s.add_argument("--claims", action="store_true", help="also list every claim with its verdicts")
    s.set_defaults(run=summary)
    g = sub.add_parser("plot", help="throughput against batch size, from a pytest-benchmark JSON file")
    g.add_argument("benchmark_json", metavar="BENCHMARK_JSON",
                   help="written by --benchmark-json FILE, or saved by --benchmark-autosave under .benchmarks/")
    g.add_argument("-o", "--output", metavar="OUT.png", help="the PNG to write (default: BENCHMARK_JSON with .png)")
    g.set_defaults(run=plot)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)
