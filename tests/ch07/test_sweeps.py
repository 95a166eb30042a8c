"""Seed sweeps for chapter 7's statistical margins: ``python -m pytest tests/ch07 -m sweep -s``.

Runs the claim test's own experiment for 50 seeds and checks that the margins the claim test asks for
hold for every one of them; the measured ranges are printed, and written beside the claim test's asserts.
Deselected in a normal run (no claim marker: it checks the suite's margins, not the book).
"""

import pytest

from tests.ch07.test_p189_fully_connected import translation_scores

SEEDS = range(50)


@pytest.mark.sweep
def test_translation_margins_for_50_seeds(device, one_cpu_thread):
    runs = [translation_scores(device, seed) for seed in SEEDS]
    ranges = {
        f"{net}.{where}": (min(r[net][where] for r in runs), max(r[net][where] for r in runs))
        for net in ("fully_connected", "conv")
        for where in ("in_place", "shifted")
    }
    print(f"\n{device}: " + ", ".join(f"{k} {lo:.2f}-{hi:.2f}" for k, (lo, hi) in ranges.items()))
    assert ranges["fully_connected.in_place"][0] >= 0.85, ranges
    assert ranges["fully_connected.shifted"][1] <= 0.7, ranges
    assert ranges["conv.shifted"][0] >= 0.9, ranges
