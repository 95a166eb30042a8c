"""Writes a run's ledger where ``scope`` says (complete, merged into the ledger there, or a partial ledger of its
own), or ``--falsify``'s section; each returns the lines that tell the terminal what it wrote and where."""

from __future__ import annotations

from pathlib import Path

from claims import ledger
from claims.harness import falsify, scope


class LedgerWriter:
    """Writes to the ledger at ``path`` (``--ledger``, or reports/ledger.json under the project root)."""

    def __init__(self, path: Path, invoked_in: Path) -> None:
        self.path = path
        self.invoked_in = invoked_in  # paths in the lines are relative to where pytest was started

    def short(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.invoked_in))
        except ValueError:
            return str(path)

    def _read(self) -> tuple[dict | None, str | None]:
        """The ledger at the path, or why it does not read (both None when there is none)."""
        if not self.path.exists():
            return None, None
        try:
            return ledger.read(self.path), None
        except ledger.LedgerError as exc:
            return None, str(exc)

    def run(self, document: dict, updated: set[str]) -> list[str]:
        """A run's ``document`` (with ``scope.RunRecord`` as its ``run``): whole, merged into the ledger there
        (the claims in ``updated``), or as a ledger of its own."""
        run = document["run"]
        complete = run["scope"] == "complete"
        base, merge_problem = self._read()
        if base is not None and not complete:
            merge_problem = ledger.mergeable(base, document) if run["executed"] else "this run executed nothing"
        target = scope.ledger_target(self.path, complete, self.path.exists(), merge_problem)
        why = "; ".join(run["selection"])
        if target.scope == "complete":
            return self._written(ledger.write(self._keep_falsification(document, base), target.path), document)
        if target.scope == "merged" and base is not None:
            merged = ledger.merge(base, document, updated)
            kept = len(document["claims"]) - len(updated)
            return [
                f"partial run ({why}): {len(updated)} claims updated in {self.short(target.path)}; "
                f"the other {kept} keep their results of {base['created']}",
                *self._written(ledger.write(merged, target.path), merged),
            ]
        if target.path != self.path:
            said = (
                f"partial run ({why}): not merged into {self.short(self.path)} ({merge_problem}); "
                f"this run's ledger is {self.short(target.path)}"
            )
        else:
            said = f"partial run ({why}): {self.short(target.path)} holds only the claims it ran"
        return [said, *self._written(ledger.write(document, target.path), document)]

    @staticmethod
    def _keep_falsification(document: dict, base: dict | None) -> dict:
        """A complete run replaces the ledger but keeps its falsification section (written by ``--falsify``
        in the same environment: it dates itself), so the summary's score survives the next plain run."""
        if not base or not base.get("falsification") or ledger.mergeable(base, document) is not None:
            return document
        return dict(document, falsification=base["falsification"])

    def _written(self, path: Path, document: dict) -> list[str]:
        counts = ", ".join(f"{k} {v}" for k, v in document["summary"].items() if v or k in ("holds", "fails"))
        lines = [f"{len(document['claims'])} claims; verdicts per claim and device: {counts}"]
        problem = ledger.executed_nothing(document)
        if problem:
            lines.append(f"this run checked nothing ({problem}): the ledger says so")
        lines.append(f"ledger written to {self.short(path)} (python -m claims summary {self.short(path)})")
        return lines

    def falsification(self, section: dict, fresh: dict) -> list[str]:
        """``--falsify``'s ``section``, into the ledger there when the same environment wrote it, else into
        ``fresh`` (this run's ledger, with no results), written where ``scope`` says."""
        base, _ = self._read()
        same = base is not None and not ledger.mergeable(base, {"environment": ledger.environment(), "run": {}})
        target = scope.falsification_target(self.path, self.path.exists(), same)
        document = base if base is not None and target.scope == "merged" else fresh
        document["falsification"] = section
        ledger.write(document, target.path)
        return [falsify.score_line(section), f"falsification written to {self.short(target.path)}"]
