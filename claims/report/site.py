"""Writing the report: the static site (Jinja2 templates, Pygments, matplotlib) and the Markdown form."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from claims.ledger import MEANINGS
from claims.report import citations, entries, figures
from claims.report.model import ABSENT, NONE, Report
from claims.report.sources import SourceIndex, code_segments, pygments_css

PACKAGE = Path(__file__).parent
MARKER = ".dlwpt-claims-report"  # a site directory the report may clear and rewrite
SUBDIRS = ("claims", "figures", "static")


class SiteError(Exception):
    """The output directory cannot be used."""


def environment(markdown: bool = False):
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(PACKAGE / "templates")),
        autoescape=not markdown,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["citations"] = citations.segments
    env.filters["links"] = citations.links
    env.filters["md"] = md_cell
    env.filters["code_segments"] = code_segments
    env.globals.update(MEANINGS=MEANINGS, NONE=NONE, ABSENT=ABSENT, score_line=score_line, printed_line=printed_line)
    return env


def md_cell(text) -> str:
    """Text safe inside a Markdown table cell: one line, ``|`` escaped, a space kept at either end (where a
    citation link follows or precedes it)."""
    text = str(text)
    inner = " ".join(text.split()).replace("|", "\\|")
    if not inner:
        return " " if text else ""
    return (" " if text[0].isspace() else "") + inner + (" " if text[-1].isspace() else "")


def score_line(section: dict) -> str:
    """The falsification score, in the words ``python -m claims summary`` prints it."""
    from claims.harness.falsify import score_line as line

    try:
        return line(section)
    except (KeyError, TypeError):  # a section written before the score had these fields
        return "falsification: the ledger's score has an older shape: run --falsify again to count it"


def printed_line(found: dict) -> str:
    """The book's printed outputs asserted, in the words ``python -m claims summary`` prints it."""
    from claims.registry.printed import line

    try:
        return line(found)
    except (KeyError, TypeError):
        return "the book's printed outputs: the ledger's count has an older shape"


@dataclass
class Benchmarks:
    path: Path
    figure: str  # relative to the site
    rows: list = field(default_factory=list)  # dicts: model, device, mode, batch_size, samples_per_s, ...
    ceilings: list = field(default_factory=list)  # (device, flop_per_s)


def read_benchmarks(path: str | Path, out: Path) -> Benchmarks:
    """The throughput table and plot (``claims.cli.plot``) of a pytest-benchmark JSON file; a
    ``DataFileError`` naming the file when it is not one."""
    from claims.cli.plot import plot, read_benchmarks, read_throughput

    series = read_throughput(path)
    png = plot(path, out / "figures" / "throughput.png")
    ceilings = sorted(read_benchmarks(path).ceilings.items())  # dlwpt_matmul_ceiling, or an older file's benchmark
    extra = {}
    for bench in json.loads(Path(path).read_text(encoding="utf-8")).get("benchmarks", []):
        info = bench.get("extra_info") if isinstance(bench, dict) else None
        if isinstance(info, dict) and "samples_per_s" in info:
            key = (str(info.get("model")), str(info.get("device")), str(info.get("mode")), info.get("batch_size"))
            extra[key] = dict(info, median_s=(bench.get("stats") or {}).get("median"))
    rows = []
    for model in sorted(series, key=lambda m: (m != "fc_deep", m)):
        for (device, mode), points in sorted(series[model].items()):
            for point in points:
                size, rate = point[0], point[1]
                info = extra.get((model, device, mode, size), {})
                rows.append(
                    {
                        "model": model,
                        "device": device,
                        "mode": mode,
                        "batch_size": size,
                        "samples_per_s": rate,
                        "flop_per_s": info.get("flop_per_s"),
                        "fraction_of_ceiling": info.get("fraction_of_ceiling"),
                        "median_s": info.get("median_s"),
                    }
                )
    return Benchmarks(Path(path), png.relative_to(out).as_posix(), rows, ceilings)


def prepare(out: Path) -> None:
    """Make ``out`` an empty site directory; refuse a non-empty directory the report did not write."""
    if out.exists() and not out.is_dir():
        raise SiteError(f"{out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise SiteError(f"{out}: not empty and not a report site written before; name a new directory with -o")
    if out.is_dir():
        for name in SUBDIRS:
            shutil.rmtree(out / name, ignore_errors=True)
        for page in out.glob("*.html"):
            page.unlink()
    (out / "static").mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by python -m claims report; the next report may clear this directory\n")


def write_site(
    report: Report,
    out: str | Path,
    root: str | Path = ".",
    benchmarks: str | Path | None = None,
    source_url: str | None = None,
    sources: bool = True,
    printed: list | None = None,
    plots: bool = True,
) -> dict:
    """Write the site for ``report`` into ``out``; returns what was written (pages, figures, bytes, seconds).
    The tests' source comes from ``root/tests``: none there is a ``SiteError`` (the wrong directory, most
    likely), unless ``sources`` is False. ``printed`` is the inventory of the book's printed outputs
    (``claims.registry.printed.load``): each claim's page lists those its tests assert. Without ``plots``
    the evidence is in tables only (matplotlib draws most of a site's time)."""
    start = time.perf_counter()
    out = Path(out)
    index = SourceIndex(root if sources else None)
    if sources and not index.by_name:
        raise SiteError(
            f"{Path(root) / 'tests'}: no test sources there: run the report from the project root, give "
            "--root DIR, or --no-sources for a site without the tests' source"
        )
    prepare(out)
    bench = read_benchmarks(benchmarks, out) if benchmarks else None
    env = environment()
    shutil.copyfile(PACKAGE / "static" / "style.css", out / "static" / "style.css")
    (out / "static" / "pygments.css").write_text(pygments_css(), encoding="utf-8")
    common = {"report": report, "generated": readable_now(), "benchmarks": bench, "source_url": source_url}

    (out / "index.html").write_text(env.get_template("index.html.j2").render(root="", **common), encoding="utf-8")
    hints = figures.load_hints()
    all_columns = report.columns + report.folded
    claim_page = env.get_template("claim.html.j2")
    n_figures = 0
    for claim in report.claims:
        tests = entries.tests_for(claim, all_columns, index)
        for test in tests:
            for group in test.groups:
                path = out / "figures" / claim.id / f"{group.slug}.png"
                group.figure = figures.draw(group.key, lines_of(report, group), path, hints) if plots else None
                n_figures += group.figure is not None
        outputs = entries.printed_outputs(tests, printed or [])
        page = claim_page.render(root="../", claim=claim, tests=tests, printed=outputs, sources=sources, **common)
        (out / claim.href).parent.mkdir(parents=True, exist_ok=True)
        (out / claim.href).write_text(page, encoding="utf-8")
    if bench:
        page = env.get_template("benchmarks.html.j2").render(root="", **common)
        (out / "benchmarks.html").write_text(page, encoding="utf-8")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return {
        "index": out / "index.html",
        "claims": len(report.claims),
        "figures": n_figures,
        "bytes": size,
        "seconds": time.perf_counter() - start,
    }


def lines_of(report: Report, group) -> list:
    """``[(label, evidence)]`` for a group's figure: neighbouring columns of one device that recorded the same
    share one line (``torch 1.4.0 to torch 2.15.0, cpu``), so ten releases that agree draw one line, not ten."""
    out: list = []  # [columns, evidence]
    for column, evidence in zip(group.columns, group.evidence):
        if out and out[-1][1] == evidence and out[-1][0][-1].device == column.device:
            out[-1][0].append(column)
        else:
            out.append([[column], evidence])
    if not report.several:
        return [(columns[0].subtitle, evidence) for columns, evidence in out]
    return [(f"{report.which([c.title for c in columns])}, {columns[0].device}", e) for columns, e in out]


def render_index(report: Report, generated: str | None = None) -> str:
    """The index page's HTML alone, as ``write_site`` writes it without benchmarks or source links."""
    return (
        environment()
        .get_template("index.html.j2")
        .render(root="", report=report, generated=generated or readable_now(), benchmarks=None, source_url=None)
    )


def markdown(report: Report, site_url: str | None = None) -> str:
    """The index as one Markdown document: counts, the claims that do not simply hold, the differences."""
    return (
        environment(markdown=True)
        .get_template("report.md.j2")
        .render(report=report, generated=readable_now(), site_url=site_url.rstrip("/") + "/" if site_url else None)
    )


def readable_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
