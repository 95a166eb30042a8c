"""Ledgers side by side: ``python -m claims diff A B`` and ``python -m claims matrix LEDGER...``.

``diff`` says what changed from A to B, claim by claim and device by device: verdict changes first, then
evidence numbers that moved by more than a stated tolerance. ``matrix`` puts the claims as rows and the
ledgers' devices as columns (labelled by torch version and device), showing only the rows that differ,
with the totals. A ledger of a run that checked nothing (collection errors, interrupted) is never read as
green: both commands then exit 1.
"""

from __future__ import annotations

import math
from collections import Counter

from claims import ledger
from claims.cli.summary import cell, table

GREEN = ("holds", "amended", "refuted")


def _results(document: dict) -> dict[str, dict]:
    return {c["id"]: c for c in document["claims"]}


def _leaves(value, prefix: str = ""):
    """``(path, number-or-text)`` for every leaf of an evidence value."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _leaves(inner, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from _leaves(inner, f"{prefix}[{i}]")
    else:
        yield prefix, value


def _moved(a, b, rtol: float, atol: float) -> bool:
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))
    if not numbers:
        return a != b
    if math.isnan(a) and math.isnan(b):
        return False
    return abs(a - b) > atol + rtol * abs(a)


def evidence_moves(a: dict, b: dict, rtol: float, atol: float) -> list[str]:
    """Evidence numbers that moved beyond ``atol + rtol * |A|``, as ``test.key: A -> B``."""
    lines = []
    for test in sorted(set(a) & set(b)):
        before, after = dict(_leaves(a[test])), dict(_leaves(b[test]))
        for key in sorted(set(before) | set(after)):
            old, new = before.get(key, "absent"), after.get(key, "absent")
            if _moved(old, new, rtol, atol):
                lines.append(f"{test}.{key}: {old} -> {new}")
    return lines


def diff(a: dict, b: dict, rtol: float = 0.01, atol: float = 1e-12) -> tuple[list[str], int]:
    """The lines of ``diff A B`` and its exit status (1 when a claim that held in A fails in B, or either
    ledger checked nothing)."""
    out, status = [], 0
    for name, document in (("A", a), ("B", b)):
        problem = ledger.executed_nothing(document)
        if problem:
            out.append(f"{name} checked nothing: {problem}")
            status = 1
    before, after = _results(a), _results(b)
    broke, changed, moved = [], [], []
    for cid in list(before) + [c for c in after if c not in before]:
        if cid not in after:
            changed.append(f"{cid}: only in A (the registry of B has no such claim)")
            continue
        if cid not in before:
            changed.append(f"{cid}: new in B")
            continue
        ra, rb = before[cid]["results"], after[cid]["results"]
        for device in sorted(set(ra) | set(rb), key=lambda d: (d != "cpu", d)):
            va, vb = ra.get(device, {}).get("verdict", "absent"), rb.get(device, {}).get("verdict", "absent")
            if va != vb:
                line = f"{cid} on {device}: {va} -> {vb}"
                (broke if va in GREEN and vb == "fails" else changed).append(line)
            moves = evidence_moves(
                ra.get(device, {}).get("evidence", {}), rb.get(device, {}).get("evidence", {}), rtol, atol
            )
            moved += [f"{cid} on {device}: {m}" for m in moves]
    if broke:
        status = 1
        out += ["claims that held in A and fail in B:"] + [f"  {line}" for line in broke]
    if changed:
        out += ["verdicts that changed:"] + [f"  {line}" for line in changed]
    if moved:
        out += [f"evidence that moved by more than rtol={rtol:g}:"] + [f"  {line}" for line in moved]
    if not (broke or changed or moved):
        out.append("no verdict changed and no evidence moved beyond the tolerance")
    return out, status


def _label(document: dict, device: str) -> str:
    env = document["environment"]
    gpu = f" ({env['gpu']})" if device == "cuda" and env.get("gpu") else ""
    return f"torch {env.get('torch')} {device}{gpu}"


def _columns(documents: list[dict]) -> tuple[list[tuple[int, str]], list[str]]:
    """(ledger index, device) for every device that ran something; notes for the devices left out."""
    columns, notes = [], []
    for n, document in enumerate(documents):
        devices = sorted({d for c in document["claims"] for d in c["results"]}, key=lambda d: (d != "cpu", d))
        for device in devices:
            verdicts = [c["results"][device] for c in document["claims"] if device in c["results"]]
            if verdicts and all(r["verdict"] == "skipped" for r in verdicts):
                notes.append(
                    f"{_label(document, device)}: every claim skipped ({verdicts[0].get('reason', '')}): left out"
                )
            else:
                columns.append((n, device))
        if not devices:
            columns.append((n, "-"))
    return columns, notes


def matrix(documents: list[dict], markdown: bool = False, names: list[str] | None = None) -> tuple[list[str], int]:
    """Claims as rows, one column per ledger and device, only the rows whose cells differ; then the totals.
    Two columns with the same torch and device are told apart by their ledgers' ``names``."""
    columns, notes = _columns(documents)
    status = 0
    labels = []
    plain = Counter(_label(documents[n], device) for n, device in columns)
    for n, device in columns:
        label = _label(documents[n], device)
        if plain[label] > 1 and names:
            label += f" ({names[n]})"
        if ledger.executed_nothing(documents[n]):
            label += " [checked nothing]"
            status = 1
        labels.append(label)
    by_ledger = [_results(d) for d in documents]
    ids = list(dict.fromkeys(cid for d in documents for cid in (c["id"] for c in d["claims"])))
    rows = [["claim", *labels]]
    for cid in ids:
        cells = [
            cell(by_ledger[n][cid]["results"].get(device)) if cid in by_ledger[n] else "absent" for n, device in columns
        ]
        if len(set(cells)) > 1:
            rows.append([cid, *cells])
    totals = [["verdict", *labels]]
    for verdict in ledger.VERDICTS:
        counts = [
            Counter(c["results"][device]["verdict"] for c in documents[n]["claims"] if device in c["results"])[verdict]
            for n, device in columns
        ]
        if verdict == "untested":
            counts = [
                sum(1 for c in documents[n]["claims"] if not c["results"] and not c.get("uncheckable"))
                for n, _ in columns
            ]
        if any(counts):
            totals.append([verdict, *map(str, counts)])
    uncheckable = [sum(1 for c in documents[n]["claims"] if c.get("uncheckable")) for n, _ in columns]
    if any(uncheckable):
        totals.append(["uncheckable", *map(str, uncheckable)])
    render = _markdown if markdown else table
    out = [f"{len(rows) - 1} of {len(ids)} claims differ between the columns" + (":" if len(rows) > 1 else "")]
    if len(rows) > 1:
        out += [""] * markdown + [render(rows)]  # a Markdown table must not touch the sentence above it
    out += ["", render(totals)]
    if notes:
        out += [""] + [f"- {note}" if markdown else note for note in notes]
    return out, status


def _markdown(rows: list[list[str]]) -> str:
    head, *body = rows
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
    for row in body:
        first = f"`{row[0]}`" if "." in row[0] else row[0]  # claim ids in code type
        lines.append("| " + " | ".join([first, *row[1:]]) + " |")
    return "\n".join(lines)
