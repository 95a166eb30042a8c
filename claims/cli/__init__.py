"""``python -m claims``: read ledgers and benchmark files back.

    python -m claims summary [LEDGER] [--claims]      verdicts per chapter and device (and per claim)
    python -m claims diff A B [--rtol R] [--atol A]    what changed from the older ledger to the newer
    python -m claims matrix LEDGER... [--format F]     claims that differ between ledgers, as a table
    python -m claims matrix-doc LEDGER... -o FILE      the version matrix as a page (docs/matrix.md)
    python -m claims plot BENCHMARK_JSON [-o OUT]      throughput against batch size (.png, .svg, .pdf)
    python -m claims gate BASELINE NEW                 benchmarks that got slower, relative to a reference
    python -m claims report [LEDGER...] -o DIR         the ledgers as a static site (or --format markdown)

Several ledgers are always shown in release order (torch, then Python, then file), whatever order they are
given in. Exit status: 0 when all is well; 1 when a claim fails (summary, matrix), a claim that held now
fails (diff), a ledger records a run that checked nothing, or a benchmark regressed (gate); 2 when an
input cannot be read (one line naming the file).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from claims import ledger
from claims.cli import compare, summary
from claims.errors import DataFileError

DEFAULT_LEDGER = ledger.DEFAULT_PATH


def _read(path: str) -> dict:
    return ledger.read(path)  # a LedgerError names the file and the problem in one line


def _not_negative(value: str) -> float:
    """An argparse type: a number at or above 0 (a negative tolerance or slowdown means nothing)."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not number >= 0:  # nan too
        raise argparse.ArgumentTypeError(f"{value} is negative: give 0 or more")
    return number


def run_summary(args) -> int:
    lines, status = summary.render(_read(args.ledger), args.ledger, args.claims)
    _print(lines)
    return status


def run_diff(args) -> int:
    named = [(args.a, _read(args.a)), (args.b, _read(args.b))]
    (a_path, a), (b_path, b) = compare.in_release_order(named, by_file=False)
    head = [
        f"{name}: {path} (torch {d['environment'].get('torch')}, Python {d['environment'].get('python')})"
        for name, path, d in (("A", a_path, a), ("B", b_path, b))
    ]
    if a_path != args.a:
        head.append("(older release first: A is the second file given)")
    lines, status = compare.diff(a, b, rtol=args.rtol, atol=args.atol, timings=args.timings)
    _print([compare.fit(line) for line in head] + lines)
    return status


def run_matrix(args) -> int:
    lines, status = compare.matrix(
        [_read(path) for path in args.ledgers], markdown=args.format == "markdown", names=list(args.ledgers)
    )
    _print(lines)
    return status


def run_matrix_doc(args) -> int:
    from claims.cli import matrix_doc

    return matrix_doc.write(args.ledgers, args.output, dict(args.why or []))


def run_plot(args) -> int:
    from claims.cli import plot  # matplotlib only for this command

    out = args.output or str(Path(args.benchmark_json).with_suffix(".png"))
    warnings = plot.read_benchmarks(args.benchmark_json).warnings
    try:
        written = plot.plot(args.benchmark_json, out)
    except OSError as exc:
        raise DataFileError(out, f"cannot write the plot ({exc.strerror or exc})") from None
    _print([f"warning: {w}" for w in warnings] + [f"wrote {written}"])
    return 0


def run_gate(args) -> int:
    from claims.cli import gate

    lines, status = gate.compare(gate.relative_times(args.baseline), gate.relative_times(args.new), args.max_slowdown)
    _print([f"baseline: {args.baseline}", f"new: {args.new}"] + lines)
    return status


def _print(lines: list[str]) -> None:
    print("\n".join(lines))
    sys.stdout.flush()  # a closed pipe shows here, inside main, not as a traceback at exit


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m claims", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    s = sub.add_parser("summary", help="verdicts per chapter and device, from a ledger")
    s.add_argument("ledger", nargs="?", default=str(DEFAULT_LEDGER), help=f"ledger file (default {DEFAULT_LEDGER})")
    s.add_argument(
        "--claims",
        action="store_true",
        help="also list every claim with its verdicts, and why any is partial, skipped or not run",
    )
    s.set_defaults(run=run_summary)
    d = sub.add_parser("diff", help="what changed between two ledgers, claim by claim and device by device")
    d.add_argument("a", metavar="A", help="the earlier ledger")
    d.add_argument("b", metavar="B", help="the later ledger")
    d.add_argument(
        "--rtol",
        type=_not_negative,
        default=compare.RTOL,
        help=f"list evidence that moved by more than atol + rtol * |A| (default rtol {compare.RTOL:g})",
    )
    d.add_argument(
        "--atol",
        type=_not_negative,
        default=compare.ATOL,
        help=f"the absolute part of that tolerance (default {compare.ATOL:g}: float32 rounding; 0 lists every move)",
    )
    d.add_argument(
        "--timings",
        action="store_true",
        help="compare timings too (CPU milliseconds, speed-ups): they move with the machine's load",
    )
    d.set_defaults(run=run_diff)
    m = sub.add_parser("matrix", help="claims as rows, ledgers as columns, only the rows that differ")
    m.add_argument("ledgers", nargs="+", metavar="LEDGER")
    m.add_argument(
        "--format",
        choices=("text", "markdown"),
        default="text",
        help="markdown: for a CI job summary or a pull request comment",
    )
    m.set_defaults(run=run_matrix)
    from claims.cli.matrix_doc import add_parser as add_matrix_doc

    add_matrix_doc(sub, run_matrix_doc)
    g = sub.add_parser("plot", help="throughput against batch size, from a pytest-benchmark JSON file")
    g.add_argument(
        "benchmark_json",
        metavar="BENCHMARK_JSON",
        help="written by --benchmark-json FILE, or saved by --benchmark-autosave under .benchmarks/",
    )
    g.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="the figure to write; its extension picks the format: .png, .svg or .pdf "
        "(default: BENCHMARK_JSON with .png)",
    )
    g.set_defaults(run=run_plot)
    from claims.cli.gate import DEFAULT_MAX_SLOWDOWN

    r = sub.add_parser("gate", help="benchmarks slower than a baseline, relative to the reference workload")
    r.add_argument("baseline", metavar="BASELINE", help="a --benchmark-json file of tests/benchmarks")
    r.add_argument("new", metavar="NEW", help="the same benchmarks, run later")
    r.add_argument(
        "--max-slowdown",
        type=_not_negative,
        default=DEFAULT_MAX_SLOWDOWN,
        metavar="PERCENT",
        help=f"fail when a benchmark's relative time grew by more than this (default {DEFAULT_MAX_SLOWDOWN:g})",
    )
    r.set_defaults(run=run_gate)
    try:
        from claims.report import add_parser as add_report
    except ImportError:  # pragma: no cover - the report package is optional while it is being built
        pass
    else:
        add_report(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (DataFileError, ledger.LedgerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `python -m claims summary | head`: the reader left; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
