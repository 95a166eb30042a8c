"""Seed sweeps for chapter 6's statistical margins: ``python -m pytest tests/ch06 -m sweep -s``.

Each runs a claim test's own experiment for 50 seeds and checks that the margin the claim test asks for
holds for every one of them; the measured range is printed, and written beside the claim test's assert.
They are deselected in a normal run (no claim marker: they check the suite's margins, not the book).
"""

import pytest

from tests.ch06.test_p145_activation import fit_x_squared
from tests.ch06.test_p147_activations import fit_abs

SEEDS = range(50)


@pytest.mark.sweep
def test_tanh_stack_fits_x_squared_for_50_seeds(device):
    results = [fit_x_squared(device, seed) for seed in SEEDS]
    mse = [r["tanh_stack_mse"] for r in results]
    bend = [r["no_tanh_stack_bend"] for r in results]
    print(f"\n{device}: tanh-stack MSE {min(mse):.4f}-{max(mse):.4f}; no-tanh bend {min(bend):.1e}-{max(bend):.1e}")
    assert max(mse) < 0.01 and max(bend) < 1e-5, f"MSE {min(mse):.4f}-{max(mse):.4f}, bend up to {max(bend):.1e}"


@pytest.mark.sweep
def test_relu_net_fits_abs_for_50_seeds(device):
    results = [fit_abs(device, seed) for seed in SEEDS]
    final = [r["final_mse"] for r in results]
    initial = [r["initial_mse"] for r in results]
    drop = [r["initial_mse"] / r["final_mse"] for r in results]
    moved = [r["first_layer_moved"] for r in results]
    print(
        f"\n{device}: final MSE {min(final):.4f}-{max(final):.4f} from {min(initial):.3f}-{max(initial):.3f}, "
        f"drop {min(drop):.0f}x-{max(drop):.0f}x, first layer moved {min(moved):.3f}-{max(moved):.3f}"
    )
    assert max(final) < 0.01 and min(drop) > 10 and min(moved) > 1e-2
