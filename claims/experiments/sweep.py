"""What a seed sweep (``@pytest.mark.sweep``, ``python -m pytest -m sweep -s``) does with what it measured:
print each statistic's range over the seeds beside its bounds, and name those that missed a bound."""

from __future__ import annotations


def missed_bounds(measured: dict, bounds: dict) -> list:
    """``measured``: statistic -> values over the seeds; ``bounds``: statistic -> (low, high), either None
    (low <= value < high). Prints one line per statistic; returns the names that missed at some seed."""
    missed = []
    for name, values in measured.items():
        low, high = bounds.get(name, (None, None))
        inside = all((low is None or v >= low) and (high is None or v < high) for v in values)
        flag = "" if inside else "  MISSED"
        print(f"{name:52s} {min(values):.4g} to {max(values):.4g}  (bounds {low}, {high}){flag}")
        if not inside:
            missed.append(name)
    return missed
