"""The claim registry: one TOML file per chapter under ``claims/registry/``, validated on load.

A record::

    [[claim]]
    id = "ch07.nllloss-of-logsoftmax-equals-cross-entropy"
    chapter = 7
    page = 185
    statement = "One plain sentence of what the book asserts."
    source = "The line of the notes it comes from."
    amended = { since = "2.0", now = "What PyTorch does instead." }   # optional
    refuted = "What is true instead."                                 # optional
    faults = ["view-copies"]          # the planted faults (claims.faults) that must turn its tests red
    skeptic_faults = ["dropout-so-strong-it-underfits"]  # experiments under which the statement would be false
    unfalsifiable = "Why no fault can honestly reach it."             # instead of faults, rarely
    uncheckable = "Why no experiment can check this sentence."        # a sentence with no test
    book_code = "p1ch8/1_convolution.ipynb"   # the companion code's file, where the claim is about that code
    second_edition = "What dlwpt-code-2e changed here, with the file."  # optional

Every problem is reported as a ``RegistryError`` naming the file, the record and the field.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.8 to 3.10
    import tomli as tomllib

DEFAULT_DIR = Path(__file__).parent
ID_PATTERN = re.compile(r"^ch(\d{2})\.[a-z0-9]+(?:-[a-z0-9]+)*$")
FIELDS = {
    "id",
    "chapter",
    "page",
    "statement",
    "source",
    "amended",
    "refuted",
    "faults",
    "skeptic_faults",
    "unfalsifiable",
    "uncheckable",
    "book_code",
    "second_edition",
}
REQUIRED = ("id", "chapter", "page", "statement", "source")


class RegistryError(Exception):
    """A registry file is unreadable, malformed, or repeats an id."""


@dataclass(frozen=True)
class Amendment:
    since: str
    now: str


@dataclass(frozen=True)
class Claim:
    id: str
    chapter: int
    page: int
    statement: str
    source: str
    amended: Amendment | None = None
    refuted: str | None = None
    faults: tuple[str, ...] = ()
    unfalsifiable: str | None = None
    uncheckable: str | None = None
    skeptic_faults: tuple[str, ...] = ()
    book_code: str | None = None  # the companion code's file (deep-learning-with-pytorch/dlwpt-code) it tests
    second_edition: str | None = None  # what dlwpt-code-2e changed in the code or the numbers the claim tests
    origin: str = ""  # "file (claim #n)", for error messages

    def amended_in(self, torch_version: str) -> bool:
        """Whether the installed torch is at or past the release that changed this claim."""
        return self.amended is not None and release(torch_version) >= release(self.amended.since)


def release(version: str) -> tuple[int, ...]:
    """``"2.14.1+cu130"`` -> ``(2, 14, 1)``; ``"2.0"`` -> ``(2, 0)`` padded for comparison."""
    rel = Version(version).release
    return tuple(rel) + (0,) * (3 - len(rel))


def _problem(where: str, field: str, message: str) -> RegistryError:
    return RegistryError(f"{where}: field '{field}' {message}")


def _parse_record(raw: object, where: str) -> Claim:
    if not isinstance(raw, dict):
        raise RegistryError(f"{where}: must be a table ([[claim]]), got {type(raw).__name__}")
    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        raise _problem(where, unknown[0], f"is not a claim field (known: {', '.join(sorted(FIELDS))})")
    for field in REQUIRED:
        if field not in raw:
            raise _problem(where, field, "is missing")
    cid = raw["id"]
    if not isinstance(cid, str) or not ID_PATTERN.match(cid):
        raise _problem(where, "id", f"must look like 'ch07.words-with-dashes', got {cid!r}")
    where = f"{where} (id '{cid}')"
    for field in ("chapter", "page"):
        if not isinstance(raw[field], int) or isinstance(raw[field], bool) or raw[field] <= 0:
            raise _problem(where, field, f"must be a positive integer, got {raw[field]!r}")
    if raw["chapter"] != int(ID_PATTERN.match(cid).group(1)):
        raise _problem(where, "chapter", f"is {raw['chapter']} but the id says chapter {cid[2:4]}")
    for field in ("statement", "source"):
        if not isinstance(raw[field], str) or not raw[field].strip():
            raise _problem(where, field, "must be a non-empty string")
    amended = None
    if "amended" in raw:
        a = raw["amended"]
        if not isinstance(a, dict) or set(a) != {"since", "now"}:
            raise _problem(where, "amended", "must be a table with exactly 'since' and 'now'")
        if not isinstance(a["now"], str) or not a["now"].strip():
            raise _problem(where, "amended.now", "must be a non-empty string")
        try:
            release(str(a["since"]))
        except InvalidVersion:
            raise _problem(where, "amended.since", f'must be a torch version like "2.0", got {a["since"]!r}') from None
        if not isinstance(a["since"], str):
            raise _problem(where, "amended.since", f'must be a string like "2.0", got {a["since"]!r}')
        amended = Amendment(a["since"], a["now"])
    refuted, unfalsifiable, uncheckable = (
        _reason(raw, field, where) for field in ("refuted", "unfalsifiable", "uncheckable")
    )
    if amended and refuted:
        raise _problem(where, "refuted", "cannot be set together with 'amended'")
    faults, skeptic_faults = (_names(raw, field, where) for field in ("faults", "skeptic_faults"))
    both = sorted(set(faults) & set(skeptic_faults))
    if both:
        raise _problem(where, "skeptic_faults", f"names {both[0]!r}, which 'faults' names too")
    if faults and unfalsifiable:
        raise _problem(where, "unfalsifiable", "cannot be set together with 'faults'")
    return Claim(
        cid,
        raw["chapter"],
        raw["page"],
        raw["statement"].strip(),
        raw["source"].strip(),
        amended,
        refuted,
        tuple(faults),
        unfalsifiable,
        uncheckable,
        tuple(skeptic_faults),
        _reason(raw, "book_code", where),
        _reason(raw, "second_edition", where),
        origin=where.split(" (id")[0],
    )


def _names(raw: dict, field: str, where: str) -> list[str]:
    names = raw.get(field, [])
    if not isinstance(names, list) or not all(isinstance(f, str) and f.strip() for f in names):
        raise _problem(where, field, f"must be a list of fault names (claims.faults), got {names!r}")
    if len(set(names)) != len(names):
        raise _problem(where, field, f"names a fault twice: {names!r}")
    return names


def _reason(raw: dict, field: str, where: str) -> str | None:
    value = raw.get(field)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise _problem(where, field, "must be a non-empty string")
    return value.strip() if value else None


def load_file(path: Path) -> list[Claim]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RegistryError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{path}: not valid TOML ({exc})") from None
    extra = sorted(set(data) - {"claim"})
    if extra:
        raise RegistryError(f"{path}: unexpected top-level key '{extra[0]}' (records go in [[claim]] tables)")
    records = data.get("claim", [])
    if not isinstance(records, list):
        raise RegistryError(f"{path}: 'claim' must be an array of tables ([[claim]])")
    return [_parse_record(raw, f"{path} (claim #{n})") for n, raw in enumerate(records, start=1)]


def load_registry(directory: str | Path = DEFAULT_DIR) -> dict[str, Claim]:
    """Every claim in ``directory/*.toml``, by id, in file then record order."""
    directory = Path(directory)
    if not directory.is_dir():
        raise RegistryError(f"{directory}: the claim registry directory does not exist")
    claims: dict[str, Claim] = {}
    for path in sorted(directory.glob("*.toml")):
        for claim in load_file(path):
            if claim.id in claims:
                raise RegistryError(f"duplicate claim id '{claim.id}': {claims[claim.id].origin} and {claim.origin}")
            claims[claim.id] = claim
    return claims
