"""``python -m claims.cli.matrix_doc LEDGER... -o docs/matrix.md``: the version matrix as a page to read.

It says which environment each run had, where each amended claim flips (the registry's ``since`` against
each release's verdict), which claims differ between the releases (``python -m claims matrix``), and the
totals. The ledgers are copied beside the page (``docs/matrix/<torch>.json``) so the page's links hold.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

from claims import ledger
from claims.cli import compare
from claims.registry import release


def _cpu_verdict(claim: dict) -> str:
    result = claim["results"].get("cpu")
    if result is None:
        return "-"
    if result["verdict"] in ("skipped", "not-run"):
        return f"{result['verdict']} ({result.get('reason', '')})"
    return result["verdict"]


def environments(documents: list[dict], names: list[str]) -> list[str]:
    lines = [
        "| torch | torchvision | Python | numpy | SimpleITK | run | verdicts (cpu) | ledger |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for document, name in zip(documents, names):
        env, run = document["environment"], document.get("run") or {}
        counts = ", ".join(
            f"{v} {n}"
            for v, n in document["summary"].items()
            if n and v in ("holds", "amended", "refuted", "fails", "not-run", "untested")
        )
        scope = run.get("scope", "complete") + ("" if run.get("executed", True) else f" ({run.get('problem')})")
        lines.append(
            f"| {env.get('torch')} | {env.get('torchvision')} | {env.get('python')} | {env.get('numpy')} | "
            f"{env.get('SimpleITK')} | {scope} | {counts} | [{name}](matrix/{name}) |"
        )
    return lines


def releases(documents: list[dict], names: list[str]) -> list[str]:
    """Each ledger's torch version, with its file name where two ledgers have the same one."""
    torches = [d["environment"]["torch"] for d in documents]
    return [t if torches.count(t) == 1 else f"{t} ({name})" for t, name in zip(torches, names)]


def amendments(documents: list[dict], names: list[str]) -> list[str]:
    """Each amended claim's cpu verdict per release, with the release its ``since`` names marked."""
    amended = {c["id"]: c["amended"] for d in documents for c in d["claims"] if c.get("amended")}
    torches = releases(documents, names)
    lines = ["| claim | since | " + " | ".join(torches) + " |", "|---|---|" + "---|" * len(torches)]
    for cid, amendment in amended.items():
        cells = []
        for document in documents:
            claim = next((c for c in document["claims"] if c["id"] == cid), None)
            cell = _cpu_verdict(claim) if claim else "absent"
            side = release(document["environment"]["torch"]) >= release(amendment["since"])
            expected = "amended" if side else "holds"
            cells.append(cell if cell == expected else f"**{cell}** (expected {expected})")
        lines.append(f"| `{cid}` | {amendment['since']} | " + " | ".join(cells) + " |")
    return lines


def skips_by_release(documents: list[dict], names: list[str]) -> list[str]:
    """Why a claim's cpu result rests on only some of its tests, on the releases where it does: a test whose
    subject a release lacks (``weights_only``, ``transforms.v2``) skips there with that reason."""
    torches = releases(documents, names)
    reasons: dict[tuple[str, str], list[str]] = {}
    for document, torch in zip(documents, torches):
        for claim in document["claims"]:
            result = claim["results"].get("cpu") or {}
            for reason in (result.get("skip_reasons") or {}) if result.get("partial") else ():
                reasons.setdefault((claim["id"], reason), []).append(torch)
    return [
        f"- `{cid}` on {', '.join(where)}: {reason}"
        for (cid, reason), where in reasons.items()
        if len(where) < len(documents)  # the same on every release is no difference between them
    ]


def render(paths: list[Path]) -> str:
    documents = [ledger.read(path) for path in paths]
    names = [path.name for path in paths]
    matrix_lines, _ = compare.matrix(documents, markdown=True, names=names)
    out = [
        "# The book's claims across PyTorch releases",
        "",
        f"Written by `nox -s matrix_doc` on {datetime.now(timezone.utc):%Y-%m-%d} from the ledgers of "
        f"`nox -s matrix` (one session per release, CPU), kept beside this page in `docs/matrix/`. "
        "Regenerate: `nox -s matrix && nox -s matrix_doc`.",
        "",
        "## The runs",
        "",
        *environments(documents, names),
        "",
        "## Where each amendment flips",
        "",
        "The cpu verdict of every amended claim on every release: `holds` (the book's side) before the release "
        "the registry's `since` names, `amended` from it on. A bold cell is a verdict the registry did not "
        "predict.",
        "",
        *amendments(documents, names),
        "",
        "## What differs between the releases",
        "",
        *matrix_lines,
        "",
    ]
    skips = skips_by_release(documents, names)
    if skips:
        out += ["A cell `holds (4/5)` rests on 4 of the claim's 5 tests; the others skipped there:", "", *skips, ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m claims.cli.matrix_doc", description=__doc__.splitlines()[0])
    parser.add_argument("ledgers", nargs="+", type=Path, metavar="LEDGER")
    parser.add_argument("-o", "--output", type=Path, default=Path("docs/matrix.md"))
    args = parser.parse_args(argv)
    try:
        text = render(args.ledgers)
    except ledger.LedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    copies = args.output.parent / "matrix"
    copies.mkdir(parents=True, exist_ok=True)
    for path in args.ledgers:
        if path.resolve() != (copies / path.name).resolve():
            shutil.copyfile(path, copies / path.name)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} from {len(args.ledgers)} ledgers (copied to {copies})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
