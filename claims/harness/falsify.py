"""``python -m pytest --falsify``: every claim's tests, on the CPU, once per fault the registry names for it.

Two kinds of fault (``claims.faults``): planted faults break PyTorch or the book's code; a skeptic's fault
keeps them right and changes the experiment so that the statement, as written, would be false. Both must
turn the claim's tests red: a test green under a skeptic's fault tests less than its statement says.

A claim is proven falsifiable when each fault it names, of either kind, turns at least one of its tests red
by an assertion (an ``AssertionError``, pytest.raises' "DID NOT RAISE", a hypothesis falsifying example), and
each of its tests is turned red by an assertion under at least one of its faults. A red by a crash (a TypeError, a
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
from typing import Any

import pytest

from claims.registry import Claim

CAUGHT, SURVIVED, CRASHED, SKIPPED = "caught", "survived", "crashed", "skipped"


def _assertion_like(exc: BaseException) -> bool:
    group = getattr(exc, "exceptions", None)  # hypothesis' MultipleFailures / ExceptionGroup of several
    if group:
        return all(_assertion_like(e) for e in group)
    return isinstance(exc, (AssertionError, pytest.fail.Exception))


def classify(call: pytest.CallInfo[None]) -> tuple[str, str | None]:
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

    def __init__(self) -> None:
        self.claims: dict[str, ClaimTally] = defaultdict(ClaimTally)

    def add(self, claim_id: str, fault: str, test: str, outcome: str, detail: str | None) -> None:
        slot = self.claims[claim_id].faults[fault]
        if outcome == CRASHED:
            slot[CRASHED][test] = detail
        else:
            slot[outcome].append(test)

    def judge(self, claim: Claim) -> dict:
        """``{"verdict": ..., "faults": {...}, "skeptic_faults": {...}, "problems": [...]}`` for one claim."""
        if claim.uncheckable:
            return {"verdict": "uncheckable", "reason": claim.uncheckable, "faults": {}, "problems": []}
        if claim.unfalsifiable and not claim.skeptic_faults:
            return {"verdict": "unfalsifiable", "reason": claim.unfalsifiable, "faults": {}, "problems": []}
        if not claim.faults and not claim.unfalsifiable:
            return {
                "verdict": "no-faults",
                "faults": {},
                "problems": [
                    f"{claim.id}: names no fault and gives no reason (registry: faults = [...] or unfalsifiable = ...)"
                ],
            }
        tally = self.claims.get(claim.id)
        planted = {name: tally.faults[name] for name in claim.faults} if tally else {}
        doubted = {name: tally.faults[name] for name in claim.skeptic_faults} if tally else {}
        both = {**planted, **doubted}
        ran = {t for slot in both.values() for t in slot[CAUGHT] + slot[SURVIVED] + list(slot[CRASHED])}
        judged = {"faults": _plain(planted), "skeptic_faults": _plain(doubted)}
        if not ran:
            reasons = "every test was skipped" if tally else "no test of it was run"
            return {"verdict": "not-run", "reason": reasons, **judged, "problems": []}
        problems = []
        for name, slot in both.items():
            if slot[CAUGHT] or not (slot[SURVIVED] or slot[CRASHED]):
                continue
            crashes = "; ".join(f"{test}: {error}" for test, error in slot[CRASHED].items())
            if name in doubted:
                problem = (
                    f"{claim.id}: skeptic's fault {name} left every test green by an assertion: the tests check "
                    f"less than the statement says (strengthen them, or narrow the statement)"
                )
            else:
                problem = f"{claim.id}: fault {name} turned none of its tests red by an assertion"
            if crashes:
                problem += f" (it made them crash instead: {crashes}; a fault must break a value, not the harness)"
            problems.append(problem)
        caught = {t for slot in both.values() for t in slot[CAUGHT]}
        for test in sorted(ran - caught):
            problems.append(
                f"{claim.id}: {test} stayed green under every fault it names ({', '.join(both)})"
                if any(test in slot[SURVIVED] for slot in both.values())
                else f"{claim.id}: {test} went red under no fault by an assertion (it only crashed)"
            )
        return {"verdict": "survives" if problems else "falsifiable", **judged, "problems": problems}

    def section(self, claims: dict[str, Claim], torch_version: str) -> dict:
        """The ledger's ``falsification`` section: per claim its verdict and, per fault, what each test did;
        the score counts claims, and the faults of each kind named and caught."""
        judged = {cid: self.judge(claim) for cid, claim in claims.items()}
        verdicts = [j["verdict"] for j in judged.values()]
        score: dict[str, Any] = {
            "falsifiable": verdicts.count("falsifiable"),
            "claims": len(claims),
            "unfalsifiable": verdicts.count("unfalsifiable"),
            "uncheckable": verdicts.count("uncheckable"),
            "not_run": verdicts.count("not-run"),
            "failing": verdicts.count("survives") + verdicts.count("no-faults"),
        }
        for kind in ("faults", "skeptic_faults"):
            slots = [slot for j in judged.values() for slot in j.get(kind, {}).values()]
            tried = [slot for slot in slots if any(slot.get(k) for k in (CAUGHT, SURVIVED, CRASHED))]
            score[kind] = {"tried": len(tried), "caught": sum(1 for slot in tried if slot.get(CAUGHT))}
        score["claims_with_skeptic_faults"] = sum(1 for c in claims.values() if c.skeptic_faults)
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


class Derandomized:
    """Under ``--falsify``, in every process that runs tests: hypothesis draws the same examples every run and
    does not shrink a red one (a fault's red needs no minimal example)."""

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        # at session start, after every configure hook, so no profile chosen on the command line undoes it
        from hypothesis import Phase, settings

        settings.register_profile(
            "dlwpt-falsify", settings(derandomize=True, database=None, phases=[Phase.explicit, Phase.generate])
        )
        settings.load_profile("dlwpt-falsify")


def problems(section: dict) -> list[str]:
    return [p for judged in section["claims"].values() for p in judged.get("problems", [])]


def score_line(section: dict) -> str:
    s = section["score"]
    line = f"falsification (torch {section.get('torch')}): {s['falsifiable']}/{s['claims']} claims proven falsifiable"
    extras = [
        f"{s[k]} {k.replace('_', ' ')}" for k in ("failing", "unfalsifiable", "uncheckable", "not_run") if s.get(k)
    ]
    line += f" ({', '.join(extras)})" if extras else ""
    kinds = [(s.get(k), what) for k, what in (("faults", "planted faults"), ("skeptic_faults", "skeptic's faults"))]
    counted = [f"{what} {n['caught']}/{n['tried']} caught" for n, what in kinds if isinstance(n, dict)]
    return line + ("; " + ", ".join(counted) if counted else "")
