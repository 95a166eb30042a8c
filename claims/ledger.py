"""The ledger: what a run found, claim by claim and device by device (its shape: README.md, "The ledger").

``verdict`` applies the rules; ``build`` assembles the document; ``merge`` folds a partial run into an
earlier ledger; ``read``/``validate`` check a file read back. The schema is 1; fields added since
(``run``, ``source``, ``checked_by``, the per-device counts, ``falsification``) are optional on reading,
so ledgers written before them still read.
"""

from __future__ import annotations

import functools
import json
import platform
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from claims.registry import Claim

SCHEMA = 1
DEFAULT_PATH = Path("reports") / "ledger.json"  # under the project root
VERDICTS = ("holds", "amended", "refuted", "fails", "skipped", "not-run", "untested")
RUN_SCOPES = ("complete", "partial", "merged", "falsify")
SAME_ENVIRONMENT = ("python", "torch", "torchvision", "numpy", "platform", "cuda", "gpu")


@dataclass
class DeviceResult:
    """The outcomes of one claim's tests on one device."""

    outcomes: dict[str, str] = field(default_factory=dict)  # test id -> passed, failed, skipped, not-run
    seconds: float = 0.0
    skip_reasons: Counter = field(default_factory=Counter)
    not_run_reasons: Counter = field(default_factory=Counter)
    evidence: dict = field(default_factory=dict)

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes.values() if o == outcome)


def verdict(claim: Claim, outcomes, torch_version: str) -> str:
    """``fails`` if any test failed; ``skipped`` if every test was skipped; ``not-run`` if none ran but some
    were collected and not run (deselected, or the run stopped first); otherwise what the registry says."""
    outcomes = list(outcomes)
    if not outcomes:
        return "untested"
    if "failed" in outcomes:
        return "fails"
    if "passed" not in outcomes:
        return "skipped" if all(o == "skipped" for o in outcomes) else "not-run"
    if claim.refuted:
        return "refuted"
    if claim.amended_in(torch_version):
        return "amended"
    return "holds"


@functools.lru_cache(maxsize=None)
def _installed(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def environment() -> dict:
    """Versions of everything whose behaviour the claims depend on (read without importing them)."""
    import numpy
    import torch

    cuda = torch.cuda.is_available()
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": _installed("torchvision"),
        "numpy": numpy.__version__,
        "SimpleITK": _installed("SimpleITK"),
        "platform": platform.platform(),
        "cuda": torch.version.cuda if cuda else None,
        "gpu": torch.cuda.get_device_name(0) if cuda else None,
    }


def result_entry(claim: Claim, result: DeviceResult, torch_version: str) -> dict:
    """One claim on one device: its verdict, how many tests passed, failed, were skipped or not run (and
    why), whether the verdict rests on only some of them (``partial``), the seconds and the evidence."""
    v = verdict(claim, result.outcomes.values(), torch_version)
    counts = {
        k: result.count(o)
        for k, o in (("passed", "passed"), ("failed", "failed"), ("skipped", "skipped"), ("not_run", "not-run"))
    }
    entry = {
        "verdict": v,
        "tests": len(result.outcomes),
        **counts,
        "partial": counts["passed"] > 0 and counts["failed"] == 0 and (counts["skipped"] + counts["not_run"]) > 0,
        "seconds": round(result.seconds, 3),
    }
    if result.skip_reasons:
        entry["skip_reasons"] = dict(result.skip_reasons.most_common())
    if result.not_run_reasons:
        entry["not_run_reasons"] = dict(result.not_run_reasons.most_common())
    if v == "skipped":
        entry["reason"] = result.skip_reasons.most_common(1)[0][0] if result.skip_reasons else "skipped"
    elif v == "not-run":
        entry["reason"] = result.not_run_reasons.most_common(1)[0][0] if result.not_run_reasons else "not run"
    if result.evidence:
        entry["evidence"] = result.evidence
    return entry


def claim_entry(claim: Claim, results: dict, checked_by: list[str]) -> dict:
    return {
        "id": claim.id,
        "chapter": claim.chapter,
        "page": claim.page,
        "statement": claim.statement,
        "source": claim.source,
        "amended": {"since": claim.amended.since, "now": claim.amended.now} if claim.amended else None,
        "refuted": claim.refuted,
        "uncheckable": claim.uncheckable,
        "faults": list(claim.faults),
        "skeptic_faults": list(claim.skeptic_faults),
        "unfalsifiable": claim.unfalsifiable,
        "book_code": claim.book_code,
        "second_edition": claim.second_edition,
        "checked_by": checked_by,
        "results": results,
    }


def summarize(claims: list[dict]) -> dict:
    """One verdict per claim and device; a claim with no results once (``untested``, or ``uncheckable``
    where the registry says no experiment can check it); ``partial`` counts results resting on some tests."""
    summary = dict.fromkeys(VERDICTS, 0)
    summary.update(partial=0, uncheckable=0)
    for claim in claims:
        if not claim["results"]:
            summary["uncheckable" if claim.get("uncheckable") else "untested"] += 1
        for entry in claim["results"].values():
            summary[entry["verdict"]] += 1
            summary["partial"] += bool(entry.get("partial"))
    return summary


def build(
    claims: dict[str, Claim],
    results: dict[str, dict[str, DeviceResult]],
    env: dict,
    run: dict,
    checked_by: dict[str, list[str]] | None = None,
    printed: dict | None = None,
) -> dict:
    """The ledger document of one run; ``printed`` counts the book's printed outputs the suite asserts
    (``claims.registry.printed.counts``), left out when the project lists none."""
    checked_by = checked_by or {}
    entries = [
        claim_entry(
            claim,
            {
                dev: result_entry(claim, r, env["torch"])
                for dev, r in sorted(results.get(claim.id, {}).items(), key=_device_order)
            },
            checked_by.get(claim.id, []),
        )
        for claim in claims.values()
    ]
    return {
        "schema": SCHEMA,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "environment": env,
        "run": run,
        "claims": entries,
        "summary": summarize(entries),
        **({"printed": printed} if printed and printed.get("outputs") else {}),
    }


def _device_order(item) -> tuple:
    return (item[0] != "cpu", item[0])


def mergeable(base: dict, document: dict) -> str | None:
    """Why a partial run's ``document`` cannot be merged into ``base``, or None when it can."""
    env, base_env = document["environment"], base["environment"]
    for key in SAME_ENVIRONMENT:
        if base_env.get(key) != env.get(key):
            return f"it was written with {key} {base_env.get(key)}, this run has {env.get(key)}"
    if base.get("run", {}).get("executed") is False:
        return "it records a run that executed nothing"
    return None


def merge(base: dict, document: dict, updated: set[str]) -> dict:
    """``base`` with the results of the claims in ``updated`` replaced, device by device, by the partial
    run ``document``'s; every other claim keeps its earlier results. Registry fields come from the run."""
    ran = {c["id"]: c for c in document["claims"]}
    earlier = {c["id"]: c for c in base["claims"]}
    claims = []
    for claim in document["claims"]:
        results = dict(earlier.get(claim["id"], {}).get("results", {}))
        if claim["id"] in updated:
            results.update(ran[claim["id"]]["results"])
        claims.append(
            {
                **claim,
                "results": dict(sorted(results.items(), key=_device_order)),
                "checked_by": claim["checked_by"] or earlier.get(claim["id"], {}).get("checked_by", []),
            }
        )
    run = dict(
        document["run"],
        scope="merged",
        updated=sorted(updated),
        base_created=base["created"],
        base_scope=base.get("run", {}).get("scope", "complete"),
    )
    merged = dict(document, run=run, claims=claims, summary=summarize(claims))
    if base.get("falsification") and "falsification" not in document:
        merged["falsification"] = base["falsification"]
    return merged


def write(document: dict, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)  # a reader never sees half a ledger
    return path


class LedgerError(Exception):
    """A ledger file is missing or is not a ledger."""


def load_json(path: Path):
    """The JSON in a ledger file, unchecked; a ``LedgerError`` naming the file when there is none."""
    if path.is_dir():
        raise LedgerError(f"{path}: is a directory, not a ledger file")
    if not path.is_file():
        raise LedgerError(f"{path}: no such ledger file (a pytest run writes one; see --ledger)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerError(f"{path}: cannot be read ({exc})") from None
    if not text.strip():
        raise LedgerError(f"{path}: the file is empty (the run that wrote it was cut short?)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LedgerError(f"{path}: not a JSON file (line {exc.lineno}: {exc.msg})") from None


def read(path: str | Path) -> dict:
    """Read and check a ledger file; every problem is one ``LedgerError`` naming the file."""
    path = Path(path)
    document = load_json(path)
    problem = validate(document)
    if problem:
        raise LedgerError(f"{path}: not a valid ledger: {problem}")
    return document


def _type_problem(value, kind, where: str) -> str | None:
    names = {dict: "an object", list: "a list", str: "a string", int: "an integer", bool: "true or false"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        return f"{where} must be {names[kinds[0]]}, got {json.dumps(value)}"
    if not isinstance(value, kinds):
        return f"{where} must be {' or '.join(names.get(k, 'null') for k in kinds)}, got {json.dumps(value)[:40]}"
    return None


def validate(document) -> str | None:
    """The first way ``document`` departs from the ledger's shape (types included), or None."""
    if not isinstance(document, dict):
        return "the top level must be an object"
    for key in ("schema", "created", "environment", "claims", "summary"):
        if key not in document:
            return f"'{key}' is missing"
    if document["schema"] != SCHEMA:
        return f"schema is {document['schema']!r}, this tool reads schema {SCHEMA}"
    checks = [
        (document["created"], str, "'created'"),
        (document["environment"], dict, "'environment'"),
        (document["claims"], list, "'claims'"),
        (document["summary"], dict, "'summary'"),
        (document.get("run", {}), dict, "'run'"),
    ]
    for value, kind, where in checks:
        problem = _type_problem(value, kind, where)
        if problem:
            return problem
    scope = document.get("run", {}).get("scope", "complete")
    if scope not in RUN_SCOPES:
        return f"run.scope is {scope!r}, not one of {', '.join(RUN_SCOPES)}"
    for n, claim in enumerate(document["claims"]):
        if not isinstance(claim, dict):
            return f"claims[{n}] must be an object"
        for key, kind in (("id", str), ("chapter", int), ("page", int), ("statement", str), ("results", dict)):
            if key not in claim:
                return f"claims[{n}] has no '{key}'"
            problem = _type_problem(claim[key], kind, f"claims[{n}].{key}")
            if problem:
                return problem
        for device, result in claim["results"].items():
            where = f"claims[{n}] ('{claim['id']}'): results.{device}"
            if not isinstance(result, dict) or result.get("verdict") not in VERDICTS:
                return f"{where} has no valid verdict"
            for key in ("tests", "passed", "failed", "skipped", "not_run"):
                if key in result and (_type_problem(result[key], int, key) or result[key] < 0):
                    return f"{where}.{key} must be a count, got {json.dumps(result[key])}"
            if "evidence" in result and not isinstance(result["evidence"], dict):
                return f"{where}.evidence must be an object"
    for key, value in document["summary"].items():
        if isinstance(value, bool) or not isinstance(value, int):
            return f"summary.{key} must be a count, got {json.dumps(value)[:40]}"
    if document.get("falsification") is not None and not isinstance(document["falsification"], dict):
        return "'falsification' must be an object"
    return None


def executed_nothing(document: dict) -> str | None:
    """Why the run behind ``document`` checked nothing (collection errors, interrupted), or None."""
    run = document.get("run") or {}
    if run.get("executed") is False:
        return run.get("problem") or "the run executed no claim test"
    return None
