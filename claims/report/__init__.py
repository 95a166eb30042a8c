"""``python -m claims report``: the ledgers as a static site, or as one Markdown document.

    python -m claims report [LEDGER ...] [-o reports/site] [--benchmarks FILE] [--root DIR]
    python -m claims report [LEDGER ...] --format markdown [-o FILE]

The site (plain files, readable from disk, nothing fetched from the network): ``index.html`` lists every
claim in the book's order with its verdict per ledger and device, one column each in release order, and
marks a cell that differs from the previous release's; ``claims/<id>.html`` is a claim's entry (the notes'
line, the suite's statement, the book's code, what PyTorch does now, every test that checks it with its
docstring and source, the evidence each recorded, as a table and, for series, a plot);
``benchmarks.html`` is the throughput plot and table of a pytest-benchmark file. The Markdown form (for a
CI job summary or a pull request comment) is the counts, the claims that do not simply hold, and what
differs between the ledgers.

A ledger that is missing, empty, malformed or of another schema is one error line naming it (exit 2); so
is a project root without the tests' source (unless ``--no-sources``).
This module imports only argparse; the work is in ``claims.report.site`` (Jinja2, Pygments, matplotlib).
"""

from __future__ import annotations

import sys
from pathlib import Path

from claims.ledger import DEFAULT_PATH

DEFAULT_LEDGER = str(DEFAULT_PATH)
DEFAULT_SITE = "reports/site"
FORMATS = ("html", "markdown")


def add_parser(subparsers):
    """Register ``report`` on ``python -m claims``'s subparsers; returns the subparser."""
    p = subparsers.add_parser(
        "report",
        help="the ledgers as a static site (or Markdown): verdicts, tests, evidence, plots",
        description="Write the ledgers as a static site, or with --format markdown as one Markdown "
        "document. Several ledgers (other torch versions, machines, devices) become columns "
        "side by side in release order, with the cells that differ from the previous release marked.",
    )
    p.add_argument(
        "ledgers",
        nargs="*",
        metavar="LEDGER",
        help=f"ledger files, shown in release order whatever the order given (default {DEFAULT_LEDGER})",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help=f"the site directory (default {DEFAULT_SITE}); with --format markdown, the file "
        "to write (default: standard output)",
    )
    p.add_argument("--format", choices=FORMATS, default="html", help="html (the site, default) or markdown")
    p.add_argument(
        "--benchmarks",
        metavar="FILE",
        help="a pytest-benchmark JSON file (--benchmark-json FILE): adds the throughput page",
    )
    p.add_argument(
        "--root",
        default=".",
        metavar="DIR",
        help="the project root, whose tests/ hold the tests' source (default: the current directory)",
    )
    p.add_argument(
        "--no-sources",
        action="store_true",
        help="write the site without the tests' source (otherwise a root without tests/ is an error)",
    )
    p.add_argument(
        "--no-plots",
        action="store_true",
        help="write the site without the evidence's plots, in tables only (about half the time)",
    )
    p.add_argument(
        "--source-url",
        metavar="URL",
        help="link each test's file to URL + path + #Lline (e.g. https://github.com/OWNER/REPO/blob/SHA/)",
    )
    p.add_argument(
        "--site-url",
        metavar="URL",
        help="with --format markdown: link each claim to its entry in the published site at URL",
    )
    p.set_defaults(run=run)
    return p


def run(args) -> int:
    from claims.errors import DataFileError
    from claims.ledger import LedgerError
    from claims.registry import DEFAULT_DIR, RegistryError, load_registry, printed
    from claims.report import model, site

    paths = args.ledgers or [DEFAULT_LEDGER]
    try:
        registry_dir = Path(args.root) / "claims" / "registry"
        registry_dir = registry_dir if registry_dir.is_dir() else DEFAULT_DIR
        registry = load_registry(registry_dir)
        report = model.build(paths, registry)
        if args.format == "markdown":
            text = site.markdown(report, site_url=args.site_url)
            if args.output and args.output != "-":
                Path(args.output).parent.mkdir(parents=True, exist_ok=True)
                Path(args.output).write_text(text, encoding="utf-8")
                print(f"wrote {args.output} ({len(text):,} characters)", file=sys.stderr)
            else:
                sys.stdout.write(text)
            return 0
        outputs_dir = registry_dir / "printed"
        done = site.write_site(
            report,
            args.output or DEFAULT_SITE,
            root=args.root,
            benchmarks=args.benchmarks,
            source_url=args.source_url,
            sources=not args.no_sources,
            printed=printed.load(outputs_dir) if outputs_dir.is_dir() else [],
            plots=not args.no_plots,
        )
    except (LedgerError, DataFileError, RegistryError, site.SiteError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.filename or args.output}: cannot write the report ({exc.strerror or exc})", file=sys.stderr)
        return 2
    print(
        f"wrote {done['index']}: {done['claims']} claims, {done['figures']} figures, "
        f"{done['bytes'] / 1e6:.1f} MB in {done['seconds']:.1f} s"
    )
    return 0


def main(argv=None) -> int:
    """``python -m claims.report``: the report subcommand on its own (until ``python -m claims`` has it)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m claims")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["report", *(sys.argv[1:] if argv is None else argv)])
    return args.run(args)
