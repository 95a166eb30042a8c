"""Ledgers side by side: ``python -m claims diff A B`` and ``python -m claims matrix LEDGER...``.

Both put the ledgers in release order (torch, then Python, then file: ``claims.ledger.release_key``)
whatever order they are given in, and name them by release (``claims.ledger.column_names``).

``diff`` says what changed from the older ledger to the newer, claim by claim and device by device: the
verdicts first ("no verdict changed" when none did), then the evidence that moved by more than
``atol + rtol * |old|``, one line per quantity (a list is one line: how many of its values moved, or that
it holds the same values in another order). Timings (CPU milliseconds, speed-ups, samples per second) are
evidence of their own kind, as noisy as the machine: they are compared only with ``timings=True``.
``matrix`` puts the claims as rows and the ledgers' devices as columns, showing only the rows that differ,
with the totals. A ledger of a run that checked nothing (collection errors, interrupted) is never read as
green, and neither is a failing claim: both make ``matrix`` exit 1.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from claims import devices, ledger
from claims.cli.summary import cell, table

GREEN = ("holds", "amended", "refuted")
WIDTH = 120  # no line of diff is longer
RTOL, ATOL = 0.01, 1e-6  # 1%; 1e-6 is float32 rounding of a value near 10, below any number a claim rests on
# Evidence that is a timing: a unit of time in the key, or a test that measures speed by its name.
TIMING = re.compile(r"(^|_)(ms|us|ns|s|sec|secs|seconds|speedup|per_s|per_second|faster|slower|throughput)(_|$)")


def _leaves(value, prefix: str = ""):
    """``(path, value)`` for every leaf of an evidence value; a list is one leaf (a sequence)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _leaves(inner, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def _flat(value) -> list:
    """The scalars of a (nested) list, in order."""
    if isinstance(value, list):
        return [x for inner in value for x in _flat(inner)]
    if isinstance(value, dict):
        return [x for _, inner in _leaves(value) for x in _flat(inner)]
    return [value]


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _as_number(v):
    """A number, or a number's printed digits (the book's printed outputs are recorded as the text torch
    printed, "4517.2969"), as a float; anything else as it is."""
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return v
    return v


def _moved(a, b, rtol: float, atol: float) -> bool:
    a, b = _as_number(a), _as_number(b)
    if not (_number(a) and _number(b)):
        return a != b
    if math.isnan(a) and math.isnan(b):
        return False
    if math.isinf(a) or math.isinf(b):
        return a != b
    return abs(a - b) > atol + rtol * abs(a)


def _show(v, width: int = 24) -> str:
    if v is None:
        return "null"
    if _number(v):
        return f"{v:.4g}" if isinstance(v, float) else str(v)
    text = v if isinstance(v, str) else repr(v)
    return text if len(text) <= width else text[: width - 3] + "..."


def _change(old, new, rtol: float, atol: float) -> str | None:
    """How one quantity moved, in a few words, or None when it did not move beyond the tolerance."""
    if isinstance(old, list) or isinstance(new, list):
        if not (isinstance(old, list) and isinstance(new, list)):
            return f"{_show(old)} -> {_show(new)}"
        a, b = _flat(old), _flat(new)
        if len(a) != len(b):
            return f"{len(a)} values -> {len(b)} values"
        moved = [i for i, (x, y) in enumerate(zip(a, b)) if _moved(x, y, rtol, atol)]
        if not moved:
            return None
        if len(a) > 1 and sorted(map(repr, a)) == sorted(map(repr, b)):
            return f"the same {len(a)} values in another order"
        if len(a) == 1:
            return f"{_show(a[0])} -> {_show(b[0])}"
        numeric = [i for i in moved if _number(a[i]) and _number(b[i]) and math.isfinite(a[i] - b[i])]
        most = max(numeric, key=lambda i: abs(a[i] - b[i])) if numeric else moved[0]
        what = "the most" if numeric else "the first"
        return f"{len(moved)} of {len(a)} values moved, {what} at [{most}]: {_show(a[most])} -> {_show(b[most])}"
    if not _moved(old, new, rtol, atol):
        return None
    if _number(old) and _number(new) and old and math.isfinite(old) and math.isfinite(new):
        return f"{_show(old)} -> {_show(new)} ({100 * (new - old) / abs(old):+.0f}%)"
    return f"{_show(old)} -> {_show(new)}"


def is_timing(test: str, key: str) -> bool:
    """Whether a quantity is a timing: its key names a unit of time, or its test measures speed."""
    return any(TIMING.search(part) for part in [test.split("[")[0], *re.split(r"[.\[\]]", key)] if part)


def evidence_moves(a: dict, b: dict, rtol: float, atol: float, timings: bool = False) -> tuple[list, int]:
    """``([(test, key, change)], timings left out)``: each quantity of the tests both recorded that moved."""
    moves, skipped = [], 0
    for test in sorted(set(a) & set(b)):
        before, after = dict(_leaves(a[test])), dict(_leaves(b[test]))
        for key in sorted(set(before) | set(after)):
            if is_timing(test, key) and not timings:
                skipped += 1
                continue
            change = _change(before.get(key, "absent"), after.get(key, "absent"), rtol, atol)
            if change:
                moves.append((test, key, change))
    return moves, skipped


def fit(line: str) -> str:
    """``line``, cut to ``WIDTH`` columns."""
    return line if len(line) <= WIDTH else line[: WIDTH - 3] + "..."


def in_release_order(named: list, by_file: bool = True) -> list:
    """``[(file, document)]`` sorted by release, then by file; ``by_file`` False keeps two ledgers of one
    release (and Python) in the order given, as ``diff`` does: there the order given says which is the baseline."""
    return sorted(named, key=lambda item: ledger.release_key(item[1], str(item[0]) if by_file else ""))


def diff(
    a: dict, b: dict, rtol: float = RTOL, atol: float = ATOL, timings: bool = False, names=("A", "B")
) -> tuple[list[str], int]:
    """The lines of ``diff A B`` and its exit status (1 when a claim that held in A fails in B, or either
    ledger checked nothing). The caller puts A and B in release order."""
    out, status = [], 0
    for name, document in zip(names, (a, b)):
        problem = ledger.executed_nothing(document)
        if problem:
            out.append(f"{name} checked nothing: {problem}")
            status = 1
    before, after = {c["id"]: c for c in a["claims"]}, {c["id"]: c for c in b["claims"]}
    broke, changed, moved, left_out = [], [], {}, 0
    for cid in list(before) + [c for c in after if c not in before]:
        if cid not in after:
            changed.append(f"{cid}: only in {names[0]} (the registry of {names[1]} has no such claim)")
            continue
        if cid not in before:
            changed.append(f"{cid}: new in {names[1]}")
            continue
        ra, rb = before[cid]["results"], after[cid]["results"]
        for device in sorted(set(ra) | set(rb), key=devices.order):
            va, vb = ra.get(device, {}).get("verdict", "absent"), rb.get(device, {}).get("verdict", "absent")
            if va != vb:
                line = f"{cid} on {device}: {va} -> {vb}"
                (broke if va in GREEN and vb == "fails" else changed).append(line)
            moves, skipped = evidence_moves(
                ra.get(device, {}).get("evidence", {}), rb.get(device, {}).get("evidence", {}), rtol, atol, timings
            )
            left_out += skipped
            if moves:
                moved[(cid, device)] = moves
    if broke:
        status = 1
        out += [f"claims that held in {names[0]} and fail in {names[1]}:"] + [fit(f"  {line}") for line in broke]
    if changed:
        out += ["verdicts that changed:"] + [fit(f"  {line}") for line in changed]
    if not (broke or changed):
        out.append("no verdict changed")
    tolerance = f"more than rtol {rtol:g} + atol {atol:g}"
    if moved:
        out.append(f"evidence that moved by {tolerance}{' (timings included)' if timings else ''}:")
        for (cid, device), moves in moved.items():
            out.append(fit(f"  {cid} on {device}"))
            test_before = None
            for test, key, change in moves:
                if test != test_before:
                    out.append(fit(f"    {test}"))
                    test_before = test
                out.append(fit(f"      {key}: {change}"))
    else:
        out.append(f"no evidence moved by {tolerance}")
    if left_out:
        out.append(f"timings not compared: {left_out} quantities (--timings compares them)")
    return out, status


def _columns(documents: list[dict], names: list[str]) -> tuple[list[tuple[int, str]], list[str]]:
    """(ledger index, device) for every device that ran something; notes for the devices left out."""
    columns, skipped = [], {}
    for n, document in enumerate(documents):
        found = sorted({d for c in document["claims"] for d in c["results"]}, key=devices.order)
        for device in found:
            verdicts = [c["results"][device] for c in document["claims"] if device in c["results"]]
            if verdicts and all(r["verdict"] == "skipped" for r in verdicts):
                reason = verdicts[0].get("reason", "")
                skipped.setdefault((device, reason), []).append(names[n])
            else:
                columns.append((n, device))
        if not found:
            columns.append((n, "-"))
    notes = [
        f"{device} on {_which(where, names)}: every claim skipped ({reason}): left out"
        for (device, reason), where in skipped.items()
    ]
    return columns, notes


def _which(where: list, names: list) -> str:
    return f"all {len(names)} ledgers" if len(where) == len(names) > 1 else ", ".join(where)


def matrix(documents: list[dict], markdown: bool = False, names: list[str] | None = None) -> tuple[list[str], int]:
    """Claims as rows, one column per ledger and device (in release order), only the rows whose cells differ;
    then the totals. ``names`` are the ledgers' files: two of one release are told apart by them. Status 1
    when a ledger checked nothing or a claim fails in some column."""
    given = names or [f"#{n}" for n in range(1, len(documents) + 1)]
    named = in_release_order(list(zip(given, documents)))
    names = [n for n, _ in named]
    documents = [d for _, d in named]
    titles = ledger.column_names(documents, names)
    columns, notes = _columns(documents, titles)
    status = 0
    labels = []
    for n, device in columns:
        label = f"{titles[n]} {device}"
        if ledger.executed_nothing(documents[n]):
            label += " [checked nothing]"
            status = 1
        labels.append(label)
    by_ledger = [{c["id"]: c for c in d["claims"]} for d in documents]
    ids = list(dict.fromkeys(cid for d in documents for cid in (c["id"] for c in d["claims"])))
    rows = [["claim", *labels]]
    failing = set()
    for cid in ids:
        cells = [
            cell(by_ledger[n][cid]["results"].get(device)) if cid in by_ledger[n] else "absent" for n, device in columns
        ]
        failing.update(cid for c in cells if c.startswith("fails"))
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
    if failing:
        out += ["", f"{len(failing)} claim(s) fail in some column: " + ", ".join(sorted(failing))]
        status = 1
    return out, status


def _markdown(rows: list[list[str]]) -> str:
    head, *body = rows
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
    for row in body:
        first = f"`{row[0]}`" if "." in row[0] else row[0]  # claim ids in code type
        lines.append("| " + " | ".join([first, *row[1:]]) + " |")
    return "\n".join(lines)
