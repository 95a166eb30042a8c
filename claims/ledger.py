"""The ledger: what a run found, claim by claim and device by device (its shape: README.md, "The ledger").

``verdict`` applies the rules; ``build`` assembles the document; ``merge`` folds a partial run into an
earlier ledger; ``read``/``validate`` check a file read back (the one check every command and the report
use). The schema is 1; fields added since (``run``, ``source``, ``checked_by``, the per-device counts,
``falsification``, ``printed``, ``skeptic_faults``, ``book_code``, ``second_edition``) are optional on
reading, so ledgers written before them still read. ``release_key`` and ``column_names`` put several
ledgers in release order and name them, the same way in ``diff``, ``matrix``, ``matrix-doc`` and the report.
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

from claims import devices
from claims.registry import Claim

SCHEMA = 1
DEFAULT_PATH = Path("reports") / "ledger.json"  # under the project root: the --ledger default and the commands'
VERDICTS = ("holds", "amended", "refuted", "fails", "skipped", "not-run", "untested")
# What each verdict means, in the words README.md, the report and ``summary`` all use. ``uncheckable`` is no
# verdict of a device's tests: it counts, once per claim, a sentence the registry says no experiment can check.
MEANINGS = {
    "holds": "the tests passed: the notes' statement holds on this PyTorch",
    "amended": "the tests passed; PyTorch changed this after the book (since the release named) "
    "and the tests check what it does now",
    "refuted": "the tests passed and show the notes' statement is wrong or too broad; "
    "the claim says what is true instead",
    "fails": "a test failed or errored: the statement, as the suite states it, does not hold on this PyTorch",
    "skipped": "every test was skipped, for the reason given (no GPU; the real data set not given)",
    "not-run": "its tests were collected but did not run (deselected, or the run stopped first)",
    "untested": "no collected test names the claim",
    "uncheckable": "no experiment can check the sentence; the registry says why",
}
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
    host: set = field(default_factory=set)  # the test ids among ``outcomes`` that take no device (under cpu)

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


def result_entry(claim: Claim, result: DeviceResult, torch_version: str, host_tests: int = 0) -> dict:
    """One claim on one device: its verdict, how many tests passed, failed, were skipped or not run (and
    why), whether the verdict rests on only some of them (``partial``), the seconds and the evidence.

    ``host_tests`` counts, on a device other than cpu, the claim's tests that take no device: they ran on
    the host and their results are under cpu, so this device's verdict rests on the others only (partial)."""
    v = verdict(claim, result.outcomes.values(), torch_version)
    counts = {
        k: result.count(o)
        for k, o in (("passed", "passed"), ("failed", "failed"), ("skipped", "skipped"), ("not_run", "not-run"))
    }
    elsewhere = counts["skipped"] + counts["not_run"] + host_tests
    entry = {
        "verdict": v,
        "tests": len(result.outcomes),
        **counts,
        "partial": counts["passed"] > 0 and counts["failed"] == 0 and elsewhere > 0,
        "seconds": round(result.seconds, 3),
    }
    if host_tests:
        entry["host_tests"] = host_tests
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
                dev: result_entry(claim, r, env["torch"], _host_tests(results.get(claim.id, {}), dev))
                for dev, r in sorted(results.get(claim.id, {}).items(), key=_device_item)
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


def _host_tests(by_device: dict[str, DeviceResult], device: str) -> int:
    """How many of a claim's tests ran on the host (recorded under cpu), seen from another device."""
    cpu = by_device.get("cpu")
    return len(cpu.host) if cpu is not None and device != "cpu" else 0


def _device_item(item) -> tuple:
    return devices.order(item[0])


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
    run ``document``'s; every other claim keeps its earlier results. Registry fields come from the run.

    An updated claim keeps an earlier device's result only where the run was not asked for that device: a
    device it was asked for and gave the claim no result (its tests now take no ``device``, a host-only
    experiment recorded under the CPU) is no longer one of the claim's, and a stale row would say otherwise."""
    ran = {c["id"]: c for c in document["claims"]}
    earlier = {c["id"]: c for c in base["claims"]}
    asked = set(document.get("run", {}).get("devices", []))
    claims = []
    for claim in document["claims"]:
        results = dict(earlier.get(claim["id"], {}).get("results", {}))
        if claim["id"] in updated:
            results = {device: result for device, result in results.items() if device not in asked}
            results.update(ran[claim["id"]]["results"])
        claims.append(
            {
                **claim,
                "results": dict(sorted(results.items(), key=_device_item)),
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
        raise LedgerError(f"{path}: {problem}")
    return document


RERUN = "a pytest run writes a new one"
_NAMES = {dict: "an object", list: "a list", str: "a string", int: "an integer", bool: "true or false"}
# Fields added after the first ledgers: absent or null in older ones, of this type where present.
OPTIONAL_TEXT = ("source", "refuted", "uncheckable", "unfalsifiable", "book_code", "second_edition")
OPTIONAL_NAMES = ("faults", "skeptic_faults", "checked_by")
COUNTS = ("tests", "passed", "failed", "skipped", "not_run")


def _type_problem(value, kind, where: str) -> str | None:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        return f"{where} must be {_NAMES[kinds[0]]}, got {json.dumps(value)}"
    if not isinstance(value, kinds):
        return f"{where} must be {' or '.join(_NAMES.get(k, 'null') for k in kinds)}, got {json.dumps(value)[:40]}"
    return None


def validate(document) -> str | None:
    """The first way ``document`` departs from the ledger's shape (types included), as the rest of the
    sentence "PATH: ...", or None. Every field added after schema 1 began may be absent."""
    if not isinstance(document, dict):
        return "not a ledger: the top level must be an object"
    if "schema" not in document:
        return f"not a ledger of schema {SCHEMA}: it has no 'schema' (an older ledger format; {RERUN})"
    schema = document["schema"]
    if not isinstance(schema, int) or isinstance(schema, bool):
        return f"not a valid ledger: schema is {schema!r}"
    if schema < SCHEMA:
        return f"written with ledger schema {schema}, older than the schema {SCHEMA} this tool reads ({RERUN})"
    if schema > SCHEMA:
        return f"written with ledger schema {schema}, newer than the schema {SCHEMA} this tool reads (update the suite)"
    problem = _shape_problem(document)
    return f"not a valid ledger: {problem}" if problem else None


def _shape_problem(document: dict) -> str | None:
    for key in ("created", "environment", "claims", "summary"):
        if key not in document:
            return f"'{key}' is missing"
    checks: list = [
        (document["created"], str, "'created'"),
        (document["environment"], dict, "'environment'"),
        (document["claims"], list, "'claims'"),
        (document["summary"], dict, "'summary'"),
    ]
    checks += [(document.get(key), (dict, type(None)), f"'{key}'") for key in ("run", "falsification", "printed")]
    for value, kind, where in checks:
        problem = _type_problem(value, kind, where)
        if problem:
            return problem
    scope = (document.get("run") or {}).get("scope", "complete")
    if scope not in RUN_SCOPES:
        return f"run.scope is {scope!r}, not one of {', '.join(RUN_SCOPES)}"
    for n, claim in enumerate(document["claims"]):
        problem = _claim_problem(claim, n)
        if problem:
            return problem
    for key, value in document["summary"].items():
        if isinstance(value, bool) or not isinstance(value, int):
            return f"summary.{key} must be a count, got {json.dumps(value)[:40]}"
    for key, value in (document.get("printed") or {}).items():
        if key != "not_asserted" and (isinstance(value, bool) or not isinstance(value, int)):
            return f"printed.{key} must be a count, got {json.dumps(value)[:40]}"
    return None


def _claim_problem(claim, n: int) -> str | None:
    if not isinstance(claim, dict):
        return f"claims[{n}] must be an object"
    for key, kind in (("id", str), ("chapter", int), ("page", int), ("statement", str), ("results", dict)):
        if key not in claim:
            return f"claims[{n}] has no '{key}'"
        problem = _type_problem(claim[key], kind, f"claims[{n}].{key}")
        if problem:
            return problem
    where = f"claims[{n}] ('{claim['id']}')"
    for key in OPTIONAL_TEXT:
        problem = _type_problem(claim.get(key), (str, type(None)), f"{where}.{key}")
        if problem:
            return problem
    for key in OPTIONAL_NAMES:
        names = claim.get(key) or []
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            return f"{where}.{key} must be a list of names"
    amended = claim.get("amended")
    if amended is not None and not (isinstance(amended, dict) and "since" in amended and "now" in amended):
        return f"{where}.amended must be null or an object with 'since' and 'now'"
    for device, result in claim["results"].items():
        at = f"{where}: results.{device}"
        if not isinstance(result, dict) or result.get("verdict") not in VERDICTS:
            return f"{at} has no valid verdict"
        for key in COUNTS:
            if key in result and (_type_problem(result[key], int, key) or result[key] < 0):
                return f"{at}.{key} must be a count, got {json.dumps(result[key])}"
        if "evidence" in result and not isinstance(result["evidence"], dict):
            return f"{at}.evidence must be an object"
    return None


# -- several ledgers: release order and column names ---------------------------------------------------------


def _version(text) -> tuple:
    """A sortable key for a version string, local tags (``+cu102``) left out; unreadable ones sort last."""
    from packaging.version import InvalidVersion, Version

    try:
        return (0, Version(str(text).split("+")[0]))
    except InvalidVersion:
        return (1, str(text))


def torch_release(document: dict) -> str:
    """``2.14.1+cu130`` -> ``2.14.1``: the release, without the wheel's build tag."""
    return str(document["environment"].get("torch") or "unknown").split("+")[0]


def build_tag(document: dict) -> str | None:
    """``2.14.1+cu130`` -> ``cu130`` (the CUDA the wheel was built for, whatever device ran it), or None."""
    torch = str(document["environment"].get("torch") or "")
    return torch.split("+", 1)[1] if "+" in torch else None


def release_key(document: dict, name: str = "") -> tuple:
    """Ledgers sort by torch release, then Python, then file: the order of every table of several ledgers,
    whatever order they were given in."""
    env = document["environment"]
    return (_version(env.get("torch")), _version(env.get("python")), str(name))


def column_names(documents: list[dict], paths: list) -> list[str]:
    """``torch 1.4.0``, one per ledger; where two ledgers share a release, what tells them apart: the Python,
    else the file, unless it is named after the release (``torch 1.4.0`` and ``torch 1.4.0 (lowest)`` for
    1.4.0.json and lowest.json), so a column is never named by its position."""
    releases = [torch_release(d) for d in documents]
    paths = [Path(str(p)) for p in paths]
    names = [f"torch {r}" for r in releases]
    for release in set(releases):
        twins = [n for n, r in enumerate(releases) if r == release]
        if len(twins) < 2:
            continue
        pythons = [documents[n]["environment"].get("python") for n in twins]
        for n, python in zip(twins, pythons):
            if pythons.count(python) == 1:
                names[n] += f" (Python {python})"
            elif paths[n].stem != release:
                names[n] += f" ({paths[n].stem})"
        for n in twins:  # still alike (two ledger.json in two folders): the folders tell them apart
            if sum(1 for m in twins if names[m] == names[n]) > 1:
                names[n] = f"torch {release} ({_distinct(paths[n], [paths[m] for m in twins])})"
    return names


def _distinct(path: Path, others: list) -> str:
    """The shortest tail of ``path`` (the file, then its folders) that no other path in ``others`` shares."""
    parts = path.parts
    for k in range(1, len(parts) + 1):
        tail = "/".join(parts[-k:])
        if sum(1 for p in others if "/".join(p.parts[-k:]) == tail) == 1:
            return tail
    return str(path)


def executed_nothing(document: dict) -> str | None:
    """Why the run behind ``document`` checked nothing (collection errors, interrupted), or None."""
    run = document.get("run") or {}
    if run.get("executed") is False:
        return run.get("problem") or "the run executed no claim test"
    return None
