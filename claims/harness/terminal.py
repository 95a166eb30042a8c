"""What the suite says on the terminal: the header (versions, devices, the mode) and, at the end, the
``falsification`` and ``claims`` sections. Registered in the process that writes the ledger."""

from __future__ import annotations

import pytest
import torch

from claims import faults, ledger
from claims.harness import scope
from claims.harness.collection import Collection
from claims.harness.settings import Settings

UNTESTED_SHOWN = 10  # a run of one folder leaves the other chapters out: say so briefly


def header(settings: Settings) -> list[str]:
    env = ledger.environment()
    cuda = torch.cuda.is_available()
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    lines = [
        f"dlwpt-claims: torch {env['torch']}, torchvision {env['torchvision']}, numpy {env['numpy']}, "
        f"SimpleITK {env['SimpleITK']}, Python {env['python']}",
        f"devices: {', '.join(settings.devices)}; CPU threads {torch.get_num_threads()}; "
        f"CUDA {torch.version.cuda or 'none'} (build), cuDNN {cudnn or 'none'}; "
        f"GPU {torch.cuda.get_device_name(0) if cuda else 'none (CUDA is not available)'}",
    ]
    if settings.falsify:
        lines.append("--falsify: every claim test on the CPU, once per fault its claim names")
    if settings.plant:
        lines.append(f"--plant {settings.plant}: {faults.get(settings.plant).doc} (no ledger is written)")
    return lines


class Terminal:
    """The header, and at the end what the run found and wrote (the runs of ``session`` give the lines)."""

    def __init__(self, settings: Settings, collection: Collection) -> None:
        self.settings = settings
        self.collection = collection
        self.lines: list[str] = []  # the claims section: what was written where (session.py's runs add them)
        self.falsify_problems: list[str] | None = None  # the falsification section, once --falsify has judged

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        return header(self.settings)

    def untested(self, config: pytest.Config) -> list[str]:
        """The claims no collected test names, in a run of the whole suite (empty in any other)."""
        collected = self.collection.collected
        if not collected or scope.partial_because(
            scope.Invocation.from_config(config), self.collection.deselected(), 0
        ):
            return []
        named = {c.claim for c in collected.values()}
        return [cid for cid, claim in self.settings.claims.items() if cid not in named and not claim.uncheckable]

    def pytest_terminal_summary(
        self, terminalreporter: pytest.TerminalReporter, exitstatus: pytest.ExitCode, config: pytest.Config
    ) -> None:
        tr = terminalreporter
        if self.falsify_problems is not None:
            tr.section("falsification")
            for line in self.falsify_problems:
                tr.write_line(line, red=True)
        plant = self.settings.plant
        if not self.lines and not plant:
            return
        tr.section("claims")
        if plant:
            tr.write_line(f"fault {plant} was planted: no ledger written")
            return
        if not self.settings.falsify:
            untested = self.untested(config)
            for cid in untested[:UNTESTED_SHOWN]:
                tr.write_line(f"untested: {cid} (no collected test names it)")
            if len(untested) > UNTESTED_SHOWN:
                tr.write_line(f"untested: {len(untested) - UNTESTED_SHOWN} more claims (listed in the ledger)")
        for line in self.lines:
            tr.write_line(line)
