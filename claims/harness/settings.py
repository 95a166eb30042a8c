"""What one run of the suite was asked for, read and checked once at start-up: the registry, the mode
(``--falsify``, ``--plant NAME`` or neither), the devices, the ledger's path and the data sets. Each bad
value stops the run here with one usage error, before any test is collected."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from claims import faults
from claims.harness import options
from claims.registry import Claim, RegistryError, load_registry, printed


@dataclass(frozen=True)
class Settings:
    """This run's settings; ``from_config`` reads and checks them."""

    claims: dict[str, Claim]
    printed: dict  # the book's printed outputs the suite asserts (claims.registry.printed.counts)
    falsify: bool
    plant: str | None
    devices: list[str]
    ledger_path: Path
    data_roots: dict[str, Path | None]  # option dest -> the checked directory, or None when not given

    @classmethod
    def from_config(cls, config: pytest.Config, data_roots: dict[str, Path | None] | None = None) -> Settings:
        """The settings of this run. ``data_roots`` are the ones xdist's controller checked already (its
        workers trust them); without them each data set given is checked here."""
        registry = Path(config.getini("claims_registry"))
        if not registry.is_absolute():
            registry = (config.inipath.parent if config.inipath else config.rootpath) / registry
        try:
            claims = load_registry(registry)
            printed_counts = printed.counts(printed.load(registry / "printed"))
        except RegistryError as exc:
            raise pytest.UsageError(f"claim registry: {exc}") from None
        falsify = bool(config.getoption("falsify"))
        plant = config.getoption("plant")
        if falsify and plant:
            raise pytest.UsageError("--plant and --falsify: give one (--falsify plants every claim's faults itself)")
        devices = ["cpu"] if falsify else options.device_names(config)
        if falsify and config.getoption("device") not in (None, "cpu"):
            raise pytest.UsageError("--falsify runs on the CPU only; leave out --device")
        check_faults(claims, plant, falsify)
        options.check_hypothesis_profile(config)
        ledger_path = options.ledger_path(config)
        if data_roots is None:
            data_roots = {dest: options.data_root(config, dest) for dest in options.DATA_OPTIONS}
        return cls(claims, printed_counts, falsify, plant, devices, ledger_path, data_roots)


def check_faults(claims: dict[str, Claim], plant: str | None, falsify: bool) -> None:
    """Every fault the registry names exists and is of the kind its field says; ``--plant``'s too. Only a run
    that plants faults imports them (the others read their names from the fault modules' source)."""
    try:
        if plant or falsify:
            faults.load_all()
        if plant:
            faults.get(plant)
    except faults.FaultError as exc:
        raise pytest.UsageError(f"--plant {plant}: {exc}" if plant else f"claims.faults: {exc}") from None
    kinds = faults.known_kinds()
    for claim in claims.values():
        for field, kind in (("faults", faults.PLANTED), ("skeptic_faults", faults.SKEPTIC)):
            for name in getattr(claim, field):
                where = f"claim registry: {claim.origin} (id '{claim.id}'): field '{field}'"
                try:
                    faults.check_name(name, set(kinds))
                except faults.FaultError as exc:
                    raise pytest.UsageError(f"{where}: {exc}") from None
                if kinds[name] != kind:
                    raise pytest.UsageError(
                        f"{where}: '{name}' is a {kinds[name]} fault; "
                        f"{'skeptic_faults' if kinds[name] == faults.SKEPTIC else 'faults'} is where it goes"
                    )
