"""Where this project's pytest configuration is, when a path option misled pytest into looking elsewhere.

pytest finds its configuration before it loads any plugin, so it does not know yet that ``--luna-root``,
``--cifar10-root`` and ``--ledger`` take a value: ``python -m pytest --luna-root /data/luna`` reads
/data/luna as a test path, looks for a configuration above it, finds none (or another project's), and
would run without this project's settings (no registry, no markers, the wrong root). Once the plugin's
options are known (its ``pytest_load_initial_conftests``, before any conftest is read), ``correct`` looks
again where pytest would have looked without those values, and when that finds a configuration that turns
the suite on, the run uses it: its root, its settings and its ``addopts``, as if the value had been
written with ``=``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _pytest.config.findpaths import locate_config

PATH_OPTIONS = ("ledger", "cifar10_root", "luna_root")


def _locate(invocation_dir: Path, dirs: list[Path]) -> tuple[Path | None, Path | None, dict[str, Any]]:
    """``(rootdir, inipath, inicfg)`` of the first configuration at or above ``dirs``, as pytest looks."""
    try:
        rootdir, inipath, inicfg = locate_config(invocation_dir, dirs)[:3]
    except TypeError:  # pytest 8.0: locate_config(args)
        rootdir, inipath, inicfg = locate_config(dirs)[:3]  # type: ignore[call-arg, arg-type]
    return rootdir, inipath, inicfg


def correct(config: pytest.Config, args: list[str]) -> None:
    ns = config.known_args_namespace
    if getattr(ns, "inifilename", None) or getattr(ns, "rootdir", None):
        return  # the user chose the configuration
    if not any(getattr(ns, dest, None) for dest in PATH_OPTIONS):
        return
    invocation_dir = Path(config.invocation_params.dir)
    # Parsed again now that the plugin's options are known, file_or_dir no longer holds their values.
    paths = [Path(arg.split("::")[0]) for arg in getattr(ns, "file_or_dir", []) or []]
    paths = [p if p.is_absolute() else invocation_dir / p for p in paths]
    dirs = [p if p.is_dir() else p.parent for p in paths if p.exists()] or [invocation_dir]
    rootdir, inipath, inicfg = _locate(invocation_dir, dirs)
    if rootdir is None or inipath is None or "claims_registry" not in inicfg:
        return
    if inipath == config.inipath and rootdir == config.rootpath:
        return  # pytest found it too (or found nothing else: a value outside any project)
    wrong_cut = str(config.inipath.parent if config.inipath else config.rootpath)  # pytest's default confcutdir
    wrong_addopts = config.getini("addopts") if config.inipath else []
    if wrong_addopts and args[: len(wrong_addopts)] == wrong_addopts:
        del args[: len(wrong_addopts)]  # the other configuration's; its -p options have taken effect already
    config._rootpath, config._inipath = rootdir, inipath
    setattr(config, "_inicfg" if hasattr(config, "_inicfg") else "inicfg", inicfg)  # pytest 9 / pytest 8
    config._inicache.clear()
    config._parser.extra_info.update(rootdir=str(rootdir), inifile=str(inipath))
    if ns.confcutdir == wrong_cut:
        ns.confcutdir = str(inipath.parent)
    addopts = config.getini("addopts")
    config.pluginmanager.consider_preparse(addopts, exclude_only=False)  # their -p name / -p no:name, as pytest would
    args[:0] = addopts  # and the rest before the command line's
