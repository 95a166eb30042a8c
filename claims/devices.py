"""Which devices a claim runs on, and why one is skipped; the order every table shows them in.

torch is imported where it is used, so the commands that only read ledgers (``python -m claims summary``)
can sort devices without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import torch

KNOWN = ("cpu", "cuda", "mps")  # also the order of the devices in the ledger, summary, matrix and report


def order(device: str) -> tuple:
    """Sort key: the known devices in ``KNOWN``'s order, then any other name alphabetically."""
    return (KNOWN.index(device) if device in KNOWN else len(KNOWN), device)


def unavailable_reason(name: str) -> str | None:
    """None when ``name`` can run here, else the reason the tests on it are skipped."""
    import torch

    if name == "cuda" and not torch.cuda.is_available():
        return "CUDA is not available"
    if name == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        return "MPS is not available"
    return None


def default_devices() -> list[str]:
    """cpu and cuda always (cuda then shows as skipped with its reason), mps only where present."""
    return ["cpu", "cuda"] + (["mps"] if unavailable_reason("mps") is None else [])


def parse_option(value: str | None) -> list[str]:
    """``--device cpu,cuda`` -> ``["cpu", "cuda"]`` (None: the default devices); raises ValueError naming the
    valid names for an unknown or empty value."""
    if value is None:
        return default_devices()
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in KNOWN]
    if unknown or not names:
        what = f"unknown device {unknown[0]!r}" if unknown else f"no device named in {value!r}"
        raise ValueError(f"--device: {what}; valid names are {', '.join(KNOWN)} (comma-separated)")
    return list(dict.fromkeys(names))


def synchronize(device) -> None:
    """Wait for queued kernels, so a timing or a comparison sees finished work."""
    import torch

    kind = torch.device(device).type
    if kind == "cuda":
        torch.cuda.synchronize()
    elif kind == "mps":
        torch.mps.synchronize()


NO_FLOAT64 = {"mps": "MPS has no float64 (pytorch/pytorch#122602): the float64 case runs on cpu and cuda"}


def dtype_or_skip(device, dtype: torch.dtype | None = None) -> torch.dtype:
    """``dtype`` (default float64) where ``device`` has it; on a device without it (float64 on MPS) the test
    is skipped with the reason. A float64 *reference* never needs this: compute it on the CPU (``device="cpu"``)."""
    import pytest
    import torch

    dtype = torch.float64 if dtype is None else dtype

    reason = NO_FLOAT64.get(torch.device(device).type) if dtype == torch.float64 else None
    if reason:
        pytest.skip(reason)
    return dtype
