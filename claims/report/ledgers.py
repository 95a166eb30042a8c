"""Reading ledgers for the report: one clear error per bad file, every optional field tolerated.

The report reads every ledger of schema 1, from before and after the harness added ``run``,
``falsification``, ``source``, ``checked_by``, the per-device counts and the ``not-run`` verdict.
"""

from __future__ import annotations

from pathlib import Path

from claims.ledger import SCHEMA, LedgerError, load_json

RERUN = "a pytest run writes a new one"


def read(path: str | Path) -> dict:
    """The ledger document in ``path``; a ``LedgerError`` naming the file for any problem."""
    path = Path(path)
    document = load_json(path)
    problem = check(document)
    if problem:
        raise LedgerError(f"{path}: {problem}")
    return document


def check(document) -> str | None:
    """The first way ``document`` is not a ledger this report can read, or None."""
    if not isinstance(document, dict):
        return "not a ledger: the top level must be an object"
    schema = document.get("schema")
    if schema is None:
        return f"not a ledger of schema {SCHEMA}: it has no 'schema' (an older ledger format; {RERUN})"
    if not isinstance(schema, int) or isinstance(schema, bool):
        return f"not a valid ledger: schema is {schema!r}"
    if schema < SCHEMA:
        return f"written with ledger schema {schema}, older than the schema {SCHEMA} this report reads ({RERUN})"
    if schema > SCHEMA:
        return (
            f"written with ledger schema {schema}, newer than the schema {SCHEMA} this report reads (update the suite)"
        )
    for key, kind in (("created", str), ("environment", dict), ("claims", list)):
        if key not in document:
            return f"not a valid ledger: '{key}' is missing"
        if not isinstance(document[key], kind):
            return f"not a valid ledger: '{key}' must be {'an object' if kind is dict else 'a ' + kind.__name__}"
    if not document["claims"]:
        return f"the ledger holds no claims ({RERUN})"
    for n, claim in enumerate(document["claims"]):
        problem = _check_claim(claim, n)
        if problem:
            return f"not a valid ledger: {problem}"
    for key in ("run", "falsification"):
        if document.get(key) is not None and not isinstance(document[key], dict):
            return f"not a valid ledger: '{key}' must be an object or null"
    return None


def _check_claim(claim, n: int) -> str | None:
    if not isinstance(claim, dict):
        return f"claims[{n}] must be an object"
    for key in ("id", "chapter", "page", "statement", "results"):
        if key not in claim:
            return f"claims[{n}] has no '{key}'"
    if not isinstance(claim["id"], str):
        return f"claims[{n}]: 'id' must be a string"
    where = f"claims[{n}] ('{claim['id']}')"
    for key in ("chapter", "page"):
        if not isinstance(claim[key], int) or isinstance(claim[key], bool):
            return f"{where}: '{key}' must be an integer"
    if not isinstance(claim["statement"], str):
        return f"{where}: 'statement' must be a string"
    if not isinstance(claim["results"], dict):
        return f"{where}: 'results' must be an object"
    for device, result in claim["results"].items():
        if not isinstance(result, dict) or not isinstance(result.get("verdict"), str):
            return f"{where}: results.{device} has no verdict"
        if not isinstance(result.get("evidence", {}), dict):
            return f"{where}: results.{device}.evidence must be an object"
    amended = claim.get("amended")
    if amended is not None and not (isinstance(amended, dict) and "since" in amended and "now" in amended):
        return f"{where}: 'amended' must be null or an object with 'since' and 'now'"
    return None
