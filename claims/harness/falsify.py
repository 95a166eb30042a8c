"""``python -m pytest --falsify``: every claim's tests, on the CPU, once per fault the registry names for it.

A claim is proven falsifiable when each fault it names turns at least one of its tests red by an assertion
(an ``AssertionError``, pytest.raises' "DID NOT RAISE", a hypothesis falsifying example), and each of its
tests is turned red by an assertion under at least one of its faults. A red by a crash (a TypeError, a
RuntimeError) counts for nothing: it proves no more than a broken import would. A test weakened to
``assert True`` stays green under every fault, so the run fails and names it. Tests skipped on the CPU
(claims about CUDA only, about a real data set not given) are left out; a claim with no test run is
``not-run``.

``classify`` sorts one test's outcome under one fault; ``Tally`` gathers them and judges each claim.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pytest

from claims.registry import Claim

CAUGHT, SURVIVED, CRASHED, SKIPPED = "caught", "survived", "crashed", "skipped"


def _assertion_like(exc: BaseException) -> bool:
    group = getattr(exc, "exceptions", None)  # hypothesis' MultipleFailures / ExceptionGroup of several
    if group:
        return all(_assertion_like(e) for e in group)
    return isinstance(exc, (AssertionError, pytest.fail.Exception))


def classify(call) -> tuple[str, str | None]:
    """The outcome of one test run under a planted fault, and for a crash the error in one line."""
    if call.excinfo is None:
        return SURVIVED, None
    if call.excinfo.errisinstance(pytest.skip.Exception):
        return SKIPPED, None
    exc = call.excinfo.value
    if _assertion_like(exc):
        return CAUGHT, None
    first_line = (str(exc).strip().splitlines() or [""])[0][:200]
    return CRASHED, f"{type(exc).__name__}: {first_line}"


@dataclass
class ClaimTally:
    faults: dict[str, dict] = field(
        default_factory=lambda: defaultdict(lambda: {CAUGHT: [], SURVIVED: [], CRASHED: {}, SKIPPED: []})
    )


class Tally:
    """Outcomes per claim, fault and test, and the verdicts they add up to."""

    def __init__(self):
        self.claims: dict[str, ClaimTally] = defaultdict(ClaimTally)

    def add(self, claim_id: str, fault: str, test: str, outcome: str, detail: str | None) -> None:
        slot = self.claims[claim_id].faults[fault]
        if outcome == CRASHED:
            slot[CRASHED][test] = detail
        else:
            slot[outcome].append(test)

    def judge(self, claim: Claim) -> dict:
        """``{"verdict": ..., "faults": {...}, "problems": [...]}`` for one claim."""
        if claim.uncheckable:
            return {"verdict": "uncheckable", "reason": claim.uncheckable, "faults": {}, "problems": []}
        if claim.unfalsifiable:
            return {"verdict": "unfalsifiable", "reason": claim.unfalsifiable, "faults": {}, "problems": []}
        if not claim.faults:
            return {
                "verdict": "no-faults",
                "faults": {},
                "problems": [
                    f"{claim.id}: names no fault and gives no reason (registry: faults = [...] or unfalsifiable = ...)"
                ],
            }
        tally = self.claims.get(claim.id)
        faults = {name: tally.faults[name] for name in claim.faults} if tally else {}
        ran = {t for slot in faults.values() for t in slot[CAUGHT] + slot[SURVIVED] + list(slot[CRASHED])}
        if not ran:
            reasons = "every test was skipped" if tally else "no test of it was run"
            return {"verdict": "not-run", "reason": reasons, "faults": _plain(faults), "problems": []}
        problems = []
        for name, slot in faults.items():
            if not slot[CAUGHT] and (slot[SURVIVED] or slot[CRASHED]):
                crashes = "; ".join(f"{test}: {error}" for test, error in slot[CRASHED].items())
                problems.append(
                    f"{claim.id}: fault {name} turned none of its tests red by an assertion"
                    + (
                        f" (it made them crash instead: {crashes}; a fault must break a value, not the harness)"
                        if crashes
                        else ""
                    )
                )
        caught = {t for slot in faults.values() for t in slot[CAUGHT]}
        for test in sorted(ran - caught):
            problems.append(
                f"{claim.id}: {test} stayed green under every fault it names ({', '.join(claim.faults)})"
                if any(test in slot[SURVIVED] for slot in faults.values())
                else f"{claim.id}: {test} went red under no fault by an assertion (it only crashed)"
            )
        return {"verdict": "survives" if problems else "falsifiable", "faults": _plain(faults), "problems": problems}

    def section(self, claims: dict[str, Claim], torch_version: str) -> dict:
        """The ledger's ``falsification`` section: per claim its verdict and, per fault, what each test did."""
        judged = {cid: self.judge(claim) for cid, claim in claims.items()}
        verdicts = [j["verdict"] for j in judged.values()]
        score = {
            "falsifiable": verdicts.count("falsifiable"),
            "claims": len(claims),
            "unfalsifiable": verdicts.count("unfalsifiable"),
            "uncheckable": verdicts.count("uncheckable"),
            "not_run": verdicts.count("not-run"),
            "failing": verdicts.count("survives") + verdicts.count("no-faults"),
        }
        return {
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "torch": torch_version,
            "score": score,
            "claims": {cid: {k: v for k, v in j.items() if k != "problems" or v} for cid, j in judged.items()},
        }


def _plain(faults: dict) -> dict:
    return {
        name: {k: (dict(v) if isinstance(v, dict) else sorted(v)) for k, v in slot.items() if v}
        for name, slot in faults.items()
    }


def problems(section: dict) -> list[str]:
    return [p for judged in section["claims"].values() for p in judged.get("problems", [])]


def score_line(section: dict) -> str:
    s = section["score"]
    line = f"falsification (torch {section.get('torch')}): {s['falsifiable']}/{s['claims']} claims proven falsifiable"
    extras = [
        f"{s[k]} {k.replace('_', ' ')}" for k in ("failing", "unfalsifiable", "uncheckable", "not_run") if s.get(k)
    ]
    return line + (f" ({', '.join(extras)})" if extras else "")
