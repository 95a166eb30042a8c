"""The ledger: what a run found, claim by claim and device by device (shape in ARCHITECTURE.md).

``verdict`` applies the rules; ``build`` assembles the document; ``validate`` checks a file read back.
"""
from __future__ import annotations

import functools
import json
import platform
from importlib import metadata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from claims.registry import Claim

SCHEMA = 1
VERDICTS = ("holds", "amended", "refuted", "fails", "skipped", "untested")


@dataclass
class DeviceResult:
    """The outcomes of one claim's tests on one device."""

    outcomes: list[str] = field(default_factory=list)  # one of "passed", "failed", "skipped" per test
    seconds: float = 0.0
    skip_reasons: list[str] = field(default_factory=list)
    evidence: dict = field(default_factory=dict)


def verdict(claim: Claim, outcomes: list[str], torch_version: str) -> str:
    """``fails`` if any test failed, ``skipped`` if all skipped; otherwise what the registry says."""
    if not outcomes:
        return "untested"
    if "failed" in outcomes:
        return "fails"
    if all(o == "skipped" for o in outcomes):
        return "skipped"
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


def _result_entry(claim: Claim, result: DeviceResult, torch_version: str) -> dict:
    v = verdict(claim, result.outcomes, torch_version)
    if v == "skipped":
        return {"verdict": v, "reason": result.skip_reasons[0] if result.skip_reasons else "skipped"}
    entry = {"verdict": v, "tests": len(result.outcomes), "seconds": round(result.seconds, 3)}
    if result.evidence:
        entry["evidence"] = result.evidence
    return entry


def build(claims: dict[str, Claim], results: dict[str, dict[str, DeviceResult]], env: dict) -> dict:
    """The ledger document. ``summary`` counts one verdict per claim and device, and untested claims once."""
    summary = dict.fromkeys(VERDICTS, 0)
    entries = []
    for claim in claims.values():
        per_device = {dev: _result_entry(claim, r, env["torch"]) for dev, r in results.get(claim.id, {}).items()}
        if per_device:
            for entry in per_device.values():
                summary[entry["verdict"]] += 1
        else:
            summary["untested"] += 1
        entries.append({
            "id": claim.id, "chapter": claim.chapter, "page": claim.page, "statement": claim.statement,
            "amended": {"since": claim.amended.since, "now": claim.amended.now} if claim.amended else None,
            "refuted": claim.refuted,
            "results": per_device,
        })
    return {
        "schema": SCHEMA,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "environment": env,
        "claims": entries,
        "summary": summary,
    }


def write(document: dict, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


class LedgerError(Exception):
    """A ledger file is missing or is not a ledger."""


def read(path: str | Path) -> dict:
    """Read and check a ledger file; every problem is one ``LedgerError`` naming the file."""
    path = Path(path)
    if not path.is_file():
        raise LedgerError(f"{path}: no such ledger file (a pytest run writes one; see --ledger)")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LedgerError(f"{path}: not a JSON file ({exc})") from None
    problem = validate(document)
    if problem:
        raise LedgerError(f"{path}: not a valid ledger: {problem}")
    return document


def validate(document) -> str | None:
    """The first way ``document`` departs from the ledger's shape, or None."""
    if not isinstance(document, dict):
        return "the top level must be an object"
    for key in ("schema", "created", "environment", "claims", "summary"):
        if key not in document:
            return f"'{key}' is missing"
    if document["schema"] != SCHEMA:
        return f"schema is {document['schema']!r}, this tool reads schema {SCHEMA}"
    if not isinstance(document["claims"], list):
        return "'claims' must be a list"
    for n, claim in enumerate(document["claims"]):
        if not isinstance(claim, dict):
            return f"claims[{n}] must be an object"
        for key in ("id", "chapter", "page", "statement", "results"):
            if key not in claim:
                return f"claims[{n}] has no '{key}'"
        if not isinstance(claim["results"], dict):
            return f"claims[{n}] ('{claim['id']}'): 'results' must be an object"
        for device, result in claim["results"].items():
            if not isinstance(result, dict) or result.get("verdict") not in VERDICTS:
                return f"claims[{n}] ('{claim['id']}'): results.{device} has no valid verdict"
    return None
