"""``python -m claims matrix-doc LEDGER... -o docs/matrix.md``: the version matrix as a page to read.

At a glance: each amended claim (page, statement, what PyTorch does now, since when, and where the matrix
sees it flip) and each refuted one. Then the releases as rows, in release order whatever order the ledgers
are given in: why each is there (``--why RELEASE=TEXT``, else what the registry's ``since`` dates say), its
environment, its verdicts, and which verdicts changed from the release before. Then the claims that differ
between releases, releases as rows, so the page fits GitHub's width. The ledgers are copied beside the page
(``docs/matrix/<file>``) so its links hold. ``python -m claims.cli.matrix_doc`` runs the same command.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from claims import ledger
from claims.cli.summary import cell
from claims.registry import release

NOT_HOLDING = ("amended", "refuted", "fails", "skipped", "not-run")


def add_parser(subparsers, run):
    p = subparsers.add_parser(
        "matrix-doc",
        help="the version matrix's ledgers as a page to read (docs/matrix.md)",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
    )
    p.add_argument("ledgers", nargs="+", type=Path, metavar="LEDGER")
    p.add_argument("-o", "--output", type=Path, default=Path("docs/matrix.md"), help="default docs/matrix.md")
    p.add_argument(
        "--why",
        action="append",
        type=_why,
        metavar="RELEASE=TEXT",
        help="why a release is in the matrix (RELEASE: its torch version or its ledger's file stem); repeatable",
    )
    p.set_defaults(run=run)
    return p


def _why(text: str) -> tuple[str, str]:
    name, sep, why = text.partition("=")
    if not sep or not name.strip() or not why.strip():
        raise argparse.ArgumentTypeError(f'{text!r}: give RELEASE=TEXT, e.g. 1.4.0="the book\'s pin"')
    return name.strip(), why.strip()


class Matrix:
    """The ledgers of a version matrix, in release order, with what the page says about them."""

    def __init__(self, paths: list, why: dict | None = None):
        named = [(Path(p), ledger.read(p)) for p in paths]
        named.sort(key=lambda item: ledger.release_key(item[1], str(item[0])))
        self.paths = [p for p, _ in named]
        self.documents = [d for _, d in named]
        self.names = [n[len("torch ") :] for n in ledger.column_names(self.documents, self.paths)]
        self.why = why or {}
        self.by_id = [{c["id"]: c for c in d["claims"]} for d in self.documents]
        newest = self.documents[-1]["claims"]
        self.claims = {c["id"]: c for d in self.documents for c in d["claims"]}
        self.claims.update({c["id"]: c for c in newest})  # the newest release's record wins

    def cpu(self, n: int, cid: str) -> str:
        claim = self.by_id[n].get(cid)
        if claim is None:
            return "absent"
        if not claim["results"]:
            return "uncheckable" if claim.get("uncheckable") else "untested"
        return cell(claim["results"].get("cpu"))

    def predicted(self, n: int, cid: str) -> str:
        """The cpu cell, in bold with what was expected where an amended claim is not on the side its
        ``since`` puts this release on."""
        found = self.cpu(n, cid)
        since = (self.claims[cid].get("amended") or {}).get("since")
        if not since or found.split(" ")[0] not in ("holds", "amended"):
            return found
        expected = "amended" if release(ledger.torch_release(self.documents[n])) >= release(since) else "holds"
        return found if found.split(" ")[0] == expected else f"**{found}** (expected {expected})"

    def verdicts(self, n: int) -> str:
        counts = Counter(self.cpu(n, cid).split(" ")[0] for cid in self.by_id[n])
        return ", ".join(f"{counts[v]} {v}" for v in (*ledger.MEANINGS, "-") if counts[v])

    def changes(self, n: int) -> list:
        """``[(claim id, before, after)]``: the cpu cells that differ from the release before."""
        if n == 0:
            return []
        return [
            (cid, self.cpu(n - 1, cid), self.cpu(n, cid))
            for cid in self.claims
            if self.cpu(n - 1, cid) != self.cpu(n, cid)
        ]

    def differing(self) -> list:
        return [cid for cid in self.claims if len({self.cpu(n, cid) for n in range(len(self.documents))}) > 1]

    def reason(self, n: int) -> str:
        """Why release ``n`` is in the matrix: ``--why`` by file stem, then by release; else the amendments
        whose ``since`` it stands just before or at."""
        stem, torch = self.paths[n].stem, ledger.torch_release(self.documents[n])
        if stem in self.why or torch in self.why:
            return self.why.get(stem) or self.why[torch]
        found = []
        releases = [release(ledger.torch_release(d)) for d in self.documents]
        for claim in self.claims.values():
            since = (claim.get("amended") or {}).get("since")
            if not since:
                continue
            before = [r for r in releases if r < release(since)]
            after = [r for r in releases if r >= release(since)]
            page = f"p.{claim['page']}"
            if before and releases[n] == max(before):
                found.append(f"the last before {since} ({page} amended)")
            if after and releases[n] == min(after):
                found.append(f"the first from {since} ({page} amended)")
        if not found and n == len(self.documents) - 1:
            found.append("the newest in this matrix")
        return "; ".join(found)


def _first_sentence(text: str) -> str:
    head, sep, _ = text.partition(". ")
    return head + "." if sep else text


def at_a_glance(m: Matrix) -> list:
    count = len(m.documents)
    span = f"torch {m.names[0]} to {m.names[-1]}" if count > 1 else f"torch {m.names[0]}"
    every = {cid: {m.cpu(n, cid).split(" ")[0] for n in range(count)} for cid in m.claims}
    same = Counter(next(iter(v)) for v in every.values() if len(v) == 1)
    failing = sorted(cid for cid, v in every.items() if "fails" in v)
    changed = sum(1 for v in every.values() if len(v) > 1)
    partly = len(m.differing()) - changed
    out = [
        f"On {'every release from ' if count > 1 else ''}{span} (the CPU), "
        + (f"{len(failing)} claims fail somewhere: {', '.join(failing)}. " if failing else "no claim fails. ")
        + f"Of the {len(m.claims)} claims, {same['holds']} hold on every release, "
        + f"{same['refuted']} are refuted on every release, {same['uncheckable']} are uncheckable, and "
        + f"{same['skipped']} are skipped on a CPU without a GPU or the real data sets; the verdict of "
        + f"{changed} changes between releases, and {partly} more rest on fewer of their tests on older ones (below).",
        "",
    ]
    amended = [c for c in m.claims.values() if c.get("amended")]
    if amended:
        out += [f"**Amended** ({len(amended)}): PyTorch changed what the book does; the tests check each side.", ""]
        for claim in sorted(amended, key=lambda c: c["page"]):
            seen = [m.cpu(n, claim["id"]).split(" ")[0] for n in range(count)]
            flips = [m.names[n] for n in range(1, count) if seen[n - 1] != "amended" and seen[n] == "amended"]
            observed = f"; in this matrix amended from {', '.join(flips)}" if flips else ""
            out.append(
                f"- **p.{claim['page']}** `{claim['id']}`, since torch {claim['amended']['since']}{observed}: "
                f"{claim['statement']} *Now:* {claim['amended']['now']}"
            )
        out.append("")
    refuted = [c for c in m.claims.values() if c.get("refuted")]
    if refuted:
        out += [f"**Refuted** ({len(refuted)}): the notes' statement is wrong or too broad, on every release.", ""]
        for claim in sorted(refuted, key=lambda c: c["page"]):
            out.append(
                f"- **p.{claim['page']}** `{claim['id']}`: {claim['statement']} "
                f"*Instead:* {_first_sentence(claim['refuted'])}"
            )
        out.append("")
    return out


def _short(cid: str) -> str:
    return cid.split(".", 1)[-1]


def releases(m: Matrix) -> list:
    lines = [
        "| torch | why it is here | Python | torchvision | numpy | verdicts on the CPU | changed from the row above |",
        "|---|---|---|---|---|---|---|",
    ]
    for n, (document, path) in enumerate(zip(m.documents, m.paths)):
        env, run = document["environment"], document.get("run") or {}
        changes = m.changes(n)
        if n == 0:
            changed = "(the first)"
        elif not changes:
            changed = "no verdict changed"
        else:
            changed = "; ".join(
                f"p.{m.claims[cid]['page']} `{_short(cid)}`: {before} → {after}" for cid, before, after in changes
            )
        if run.get("executed") is False:
            changed += f" **(this run checked nothing: {run.get('problem')})**"
        lines.append(
            f"| [{m.names[n]}](matrix/{path.name}) | {m.reason(n)} | {env.get('python')} | {env.get('torchvision')} "
            f"| {env.get('numpy')} | {m.verdicts(n)} | {changed} |"
        )
    return lines


def differences(m: Matrix) -> list:
    ids = m.differing()
    if not ids:
        return ["No claim's verdict differs between the releases."]
    # numbered heads, the claims named below the table: a row of claim ids passed GitHub's page width
    heads = [f"({k}) p.{m.claims[cid]['page']}" for k, cid in enumerate(ids, start=1)]
    lines = ["| torch | " + " | ".join(heads) + " |", "|---|" + "---|" * len(ids)]
    for n in range(len(m.documents)):
        lines.append(f"| {m.names[n]} | " + " | ".join(m.predicted(n, cid) for cid in ids) + " |")
    lines += ["", *(f"({k}) p.{m.claims[cid]['page']} `{_short(cid)}`  " for k, cid in enumerate(ids, start=1))]
    lines[-1] = lines[-1].rstrip()
    if any("**" in line for line in lines[2 : 2 + len(m.documents)]):
        lines += ["", "A bold cell is a verdict the registry's `since` did not predict for that release."]
    return lines


def skips_by_release(m: Matrix) -> list:
    """Why a claim's cpu result rests on only some of its tests, on the releases where it does."""
    reasons: dict[tuple[str, str], list[str]] = {}
    for n, document in enumerate(m.documents):
        for claim in document["claims"]:
            result = claim["results"].get("cpu") or {}
            for reason in (result.get("skip_reasons") or {}) if result.get("partial") else ():
                reasons.setdefault((claim["id"], reason), []).append(m.names[n])
    return [
        f"- `{cid}` on {', '.join(where)}: {reason}"
        for (cid, reason), where in reasons.items()
        if len(where) < len(m.documents)  # the same on every release is no difference between them
    ]


def render(paths: list, why: dict | None = None) -> str:
    m = Matrix(paths, why)
    tags = sorted({t for t in (ledger.build_tag(d) for d in m.documents) if t})
    cuda = {
        (c["results"].get("cuda") or {}).get("reason")
        for d in m.documents
        for c in d["claims"]
        if (c["results"].get("cuda") or {}).get("verdict") == "skipped"
    }
    out = [
        "# The book's claims across PyTorch releases",
        "",
        f"Written by `python -m claims matrix-doc` (`nox -s matrix_doc`) on {datetime.now(timezone.utc):%Y-%m-%d} "
        f"from the ledgers of `nox -s matrix`, one session per release, kept beside this page in `docs/matrix/`. "
        "Regenerate: `nox -s matrix && nox -s matrix_doc`.",
        "",
        "Every run here was on a CPU"
        + (f" (cuda was skipped: {'; '.join(sorted(r for r in cuda if r))})" if cuda else "")
        + ". "
        + (
            f"Releases are named without the wheel's build tag ({', '.join('+' + t for t in tags)}: "
            "the CUDA version the wheel was built for, unused on a CPU)."
            if tags
            else ""
        ),
        "",
        "## At a glance",
        "",
        *at_a_glance(m),
        "## The releases",
        "",
        "In release order; a ledger named after its file where two have the same torch. "
        "The verdicts count each claim once, on the CPU.",
        "",
        *releases(m),
        "",
        "## What differs between the releases",
        "",
        *differences(m),
        "",
    ]
    skips = skips_by_release(m)
    if skips:
        out += ["A cell `holds (4/5)` rests on 4 of the claim's 5 tests; the others skipped there:", "", *skips, ""]
    return "\n".join(out)


def write(paths: list, output: Path, why: dict | None = None) -> int:
    paths = [Path(p) for p in paths]
    try:
        text = render(paths, why)
    except ledger.LedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    output = Path(output)
    copies = output.parent / "matrix"
    copies.mkdir(parents=True, exist_ok=True)
    for path in paths:
        if path.resolve() != (copies / path.name).resolve():
            shutil.copyfile(path, copies / path.name)
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output} from {len(paths)} ledgers (copied to {copies})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m claims.cli.matrix_doc``: the same as ``python -m claims matrix-doc``."""
    from claims.cli import main as claims_main

    return claims_main(["matrix-doc", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
