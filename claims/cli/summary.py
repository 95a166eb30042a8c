"""``python -m claims summary``: a ledger as a table per chapter and device, and with ``--claims`` one line
per claim. The table, the per-claim lines and the ledger's own ``summary`` count the same things:

- a claim's verdict on a device counts in that device's row;
- a claim with no result on a device (a host-only test, recorded under cpu, has none on cuda) counts as
  "none" there, not as untested;
- ``untested`` (no test names the claim) and ``uncheckable`` (no experiment can check it) count once per
  claim, in its chapter's first row;
- ``partial`` counts results that rest on only some of their tests (the others skipped or not run).
"""

from __future__ import annotations

import textwrap
from collections import Counter

from claims import devices, ledger

VERDICT_COLUMNS = [v for v in ledger.VERDICTS if v != "untested"]
WIDTH = 100  # summary's lines fit a 100-column terminal


def table(rows: list[list[str]], gap: int = 2) -> str:
    """Columns padded to their widest cell, ``gap`` spaces apart; the first column left-aligned, the others
    right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append((" " * gap).join(cells).rstrip())
        if n == 0:
            lines.append((" " * gap).join("-" * w for w in widths))
    return "\n".join(lines)


def wrap(line: str, indent: str = "  ") -> list[str]:
    """A long line as several within ``WIDTH`` columns, the later ones indented."""
    return textwrap.wrap(line, WIDTH, subsequent_indent=indent, break_on_hyphens=False) or [""]


def devices_of(document: dict) -> list[str]:
    return sorted({d for c in document["claims"] for d in c["results"]}, key=devices.order)


def summary_rows(document: dict) -> list[list[str]]:
    devices = devices_of(document) or ["-"]
    rows = [["chapter", "device", "claims", *VERDICT_COLUMNS, "none", "partial", "untested", "uncheckable"]]
    chapters = sorted({c["chapter"] for c in document["claims"]})
    totals = {device: Counter() for device in devices}
    for chapter in chapters:
        claims = [c for c in document["claims"] if c["chapter"] == chapter]
        once = Counter("uncheckable" if c.get("uncheckable") else "untested" for c in claims if not c["results"])
        for i, device in enumerate(devices):
            got = Counter(c["results"][device]["verdict"] for c in claims if device in c["results"])
            got["none"] = sum(1 for c in claims if c["results"] and device not in c["results"])
            got["partial"] = sum(1 for c in claims if c["results"].get(device, {}).get("partial"))
            if i == 0:
                got.update(once)
            totals[device].update(got)
            rows.append(
                [
                    f"ch{chapter:02d}" if i == 0 else "",
                    device,
                    str(len(claims)),
                    *(str(got[v]) for v in VERDICT_COLUMNS),
                    str(got["none"]),
                    str(got["partial"]),
                    str(got["untested"]) if i == 0 else "",
                    str(got["uncheckable"]) if i == 0 else "",
                ]
            )
    for i, device in enumerate(devices):
        got = totals[device]
        rows.append(
            [
                "all" if i == 0 else "",
                device,
                str(len(document["claims"])),
                *(str(got[v]) for v in VERDICT_COLUMNS),
                str(got["none"]),
                str(got["partial"]),
                str(got["untested"]) if i == 0 else "",
                str(got["uncheckable"]) if i == 0 else "",
            ]
        )
    return rows


def cell(result: dict | None) -> str:
    """A claim's verdict on one device, marked when it rests on only some of its tests: ``holds (2/3)``."""
    if result is None:
        return "-"
    if result.get("partial"):
        tests = result.get("tests", 0) + result.get("host_tests", 0)  # a host test is one of the claim's too
        return f"{result['verdict']} ({result.get('passed', '?')}/{tests or '?'})"
    return result["verdict"]


def claim_rows(document: dict) -> list[list[str]]:
    devices = devices_of(document)
    rows = [["claim", "page", *devices]]
    for claim in document["claims"]:
        if not claim["results"]:
            what = "uncheckable" if claim.get("uncheckable") else "untested"
            rows.append([claim["id"], str(claim["page"]), *([what] * len(devices or [1]))])
        else:
            rows.append([claim["id"], str(claim["page"]), *(cell(claim["results"].get(d)) for d in devices)])
    return rows


def notes(document: dict) -> list[str]:
    """Why results are partial, skipped or not run, grouped by reason; and what no experiment can check."""
    lines = []
    for claim in document["claims"]:
        for device, result in claim["results"].items():
            if result.get("partial"):
                reasons = {**result.get("skip_reasons", {}), **result.get("not_run_reasons", {})}
                if result.get("host_tests"):
                    reasons["ran on the host (their result is under cpu)"] = result["host_tests"]
                why = "; ".join(f"{n} {r}" for r, n in reasons.items())
                lines.append(
                    f"partial: {claim['id']} on {device}: {result.get('passed')} of "
                    f"{result.get('tests', 0) + result.get('host_tests', 0)} tests ran ({why})"
                )
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for claim in document["claims"]:
        for device, result in claim["results"].items():
            if result["verdict"] in ("skipped", "not-run"):
                grouped.setdefault((result["verdict"], device, result.get("reason", "")), []).append(claim["id"])
    for (verdict, device, reason), ids in sorted(grouped.items()):
        names = ", ".join(ids) if len(ids) <= 4 else f"{', '.join(ids[:3])} and {len(ids) - 3} more"
        lines.append(f"{verdict} on {device} ({reason}): {len(ids)} claim{'s' * (len(ids) > 1)}: {names}")
    for claim in document["claims"]:
        if claim.get("uncheckable") and not claim["results"]:
            lines.append(f"uncheckable: {claim['id']}: {claim['uncheckable']}")
    return lines


def render(document: dict, path: str, with_claims: bool) -> tuple[list[str], int]:
    """The lines ``summary`` prints and its exit status: 1 when a claim fails, the run checked nothing, or
    a falsification run found a claim that survives its faults; 0 otherwise."""
    env, run = document["environment"], document.get("run") or {}
    head = f"ledger {path}:"
    tail = (
        f"torch {env.get('torch')}, Python {env.get('python')}, GPU {env.get('gpu') or 'none'}, "
        f"written {document['created']}; {env.get('platform')}"
    )
    # "ledger" and its path stay on one line, however long the path (a temporary directory's can pass WIDTH)
    out = wrap(f"{head} {tail}") if len(head) < WIDTH else [head, *wrap("  " + tail)]
    scope = run.get("scope", "complete")
    if scope == "merged":
        out.append(
            f"merged: {len(run.get('updated', []))} claims from a partial run ({'; '.join(run.get('selection', []))})"
            f" over the ledger of {run.get('base_created')}"
        )
    elif scope == "partial":
        out.append(f"partial run: {'; '.join(run.get('selection', []))}")
    status = 0
    problem = ledger.executed_nothing(document)
    if problem:
        out.append(f"this run checked nothing: {problem}")
        status = 1
    rows = summary_rows(document)
    out.append(table(rows, gap=1))  # one space apart: the thirteen columns fit 100
    out += [""] + legend(rows)
    if with_claims:
        out += ["", table(claim_rows(document), gap=1)]
        extra = notes(document)
        if extra:
            out += [""] + [part for line in extra for part in wrap(line)]
    if document.get("printed"):
        from claims.registry.printed import line

        out += [""] + wrap(line(document["printed"]))
    section = document.get("falsification")
    if section:
        from claims.harness.falsify import score_line

        out += [""] + wrap(score_line(section))
        if section.get("score", {}).get("failing"):
            status = 1
    failing = sorted({c["id"] for c in document["claims"] for r in c["results"].values() if r["verdict"] == "fails"})
    if failing:
        out += [""] + wrap(f"{len(failing)} claim(s) fail: " + ", ".join(failing))
        status = 1
    return out, status


def legend(rows: list[list[str]]) -> list[str]:
    """What each verdict counted in the table means (those with a count), in the words README.md and the
    report use; and what ``none`` and ``partial`` count."""
    header = rows[0]
    counted = {name for i, name in enumerate(header[3:], start=3) if any(row[i] not in ("0", "") for row in rows[1:])}
    meanings = dict(ledger.MEANINGS)
    meanings["none"] = "no result on that device: its tests take no device and run once, under cpu"
    meanings["partial"] = "of those results, how many rest on only some of the claim's tests"
    width = max(len(name) for name in meanings)
    return [
        part
        for name in header[3:]
        if name in counted
        for part in wrap(f"{name.ljust(width)}  {meanings[name]}", indent=" " * (width + 2))
    ]
