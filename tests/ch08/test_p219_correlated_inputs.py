"""Chapter 8, page 219: two perfectly correlated inputs under L2, L1 and Elastic Net.

With two identical inputs x1 = x2 = z the prediction is (w1 + w2) z, so the data fix the total w1 + w2
and never how it is split. The split is w1 / (w1 + w2), the share of the total on the first input: 0.5
is even, 1 or 0 puts it all on one input. Only the penalty can choose: for a total T, w1^2 + w2^2 is
smallest at the even split (T^2 / 2), while |w1| + |w2| = |T| for every split of one sign, so L1 does not
choose at all.

Each regression is least squares with a penalty added to the mean squared error,
``mean((Xw - y)^2) + l1 * sum|w| + l2 * sum w^2``, solved exactly (``ridge``, ``lasso_exact``) or with the
usual iterative solvers (proximal gradient, coordinate descent) from ``claims.experiments.regularization``, in
float64, batched over starting points or draws; the data are drawn on the CPU, so every device solves the
same problems.
"""

from __future__ import annotations

import pytest
import torch

from claims.compat import assert_close
from claims.experiments import regularization as reg

F64 = torch.float64

# Many small ops: one CPU thread (the conftest fixture says why).
pytestmark = pytest.mark.usefixtures("one_cpu_thread")


def duplicated_input(seed: int, device, S: int = 16):
    """One data set of 50 samples with one input z twice (x1 = x2 = z), y = 2 z + noise, and S random
    starting weights around the solution."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(1, 50, generator=g, dtype=F64)
    y = 2 * z + 0.3 * torch.randn(1, 50, generator=g, dtype=F64)
    w0 = 2 * torch.randn(S, 2, generator=g, dtype=F64)
    X = torch.stack([z, z], dim=-1).expand(S, 50, 2)
    return X.to(device), y.expand(S, 50).to(device), w0.to(device)


def split_of(w):
    """The share of the total weight on the first input, per problem."""
    return w[:, 0] / w.sum(1)


@pytest.mark.claim("ch08.l2-splits-correlated-inputs-evenly")
def test_l2_splits_identical_inputs_evenly_from_any_start(device, seed, evidence):
    """p.219: with x1 = x2, L2-penalised gradient descent (l2 = 0.1) from 16 random starts ends with
    w1 = w2, half of the total each, which is the exact ridge solution."""
    X, y, w0 = duplicated_input(seed, device)
    w = reg.proximal_gradient(X, y, w0, l2=0.1, steps=500)
    split = split_of(w)
    evidence.record(
        split_range=[split.min().item(), split.max().item()],
        start_split_range=[split_of(w0).min().item(), split_of(w0).max().item()],
    )

    assert_close(split, torch.full_like(split, 0.5), rtol=0, atol=1e-6)  # 500 steps: within 1e-9
    assert_close(w, reg.ridge(X, y, l2=0.1), rtol=1e-6, atol=1e-6)


CLAIM_L1_PICKS = "ch08.l1-picks-one-correlated-input-at-random"


@pytest.mark.claim(CLAIM_L1_PICKS)
def test_l1_split_of_identical_inputs_is_set_by_the_solver(device, seed, evidence):
    """p.219: with x1 = x2 every split of one sign costs the same under L1 (l1 = 0.1), so the data do not
    choose. Coordinate descent from zero, the usual lasso solver, puts all of the weight on one input: the
    first in its column order, whichever that is. Proximal gradient from 16 random starts reaches the same
    loss and total with splits spread from one input to the other: set by where it started."""
    X, y, w0 = duplicated_input(seed, device)
    total = reg.proximal_gradient(X[:1], y[:1], w0[:1], l1=0.1, steps=500).sum()
    splits = torch.linspace(0, 1, 11, dtype=F64, device=device)[:, None] * torch.stack([total, -total])
    flat = reg.objective(X[:11], y[:11], splits + torch.stack([0 * total, total]), l1=0.1)
    assert_close(flat, flat[:1].expand(11), rtol=1e-12, atol=0)  # every split costs the same

    zero = torch.zeros(2, 2, dtype=F64, device=device)
    in_order = reg.coordinate_descent(X[:2], y[:2], zero, l1=0.1, sweeps=20)
    swapped = reg.coordinate_descent(X[:2].flip(-1), y[:2], zero, l1=0.1, sweeps=20)
    assert (in_order[:, 1] == 0).all() and (swapped[:, 1] == 0).all() and (in_order[:, 0] > 1).all(), (
        f"coordinate descent puts all on its first column: {in_order.tolist()}, swapped {swapped.tolist()}"
    )

    w = reg.proximal_gradient(X, y, w0, l1=0.1, steps=500)
    losses, split = reg.objective(X, y, w, l1=0.1), split_of(w)
    evidence.record(total=total.item(), proximal_split_range=[split.min().item(), split.max().item()])
    assert_close(losses, losses[:1].expand(16), rtol=1e-9, atol=0)  # one optimal loss...
    assert split.max() - split.min() > 0.5, f"...but many splits, measured {split.tolist()}"


def near_copies(seed: int, device, S: int = 32, noise: float = 0.01):
    """S data sets of 50 samples: y = 2 z + noise, and two inputs that are copies of z with 1% noise of
    their own (correlation above 0.9997)."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(1, 50, generator=g, dtype=F64)
    y = 2 * z + 0.3 * torch.randn(1, 50, generator=g, dtype=F64)
    X = z.unsqueeze(-1) + noise * torch.randn(S, 50, 2, generator=g, dtype=F64)
    return X.to(device), y.expand(S, 50).to(device)


def picks_among_near_copies(seed: int, device) -> dict:
    """How often the exact lasso (l1 = 0.1) puts at least 95% of the weight on x1, on x2; ridge's split."""
    X, y = near_copies(seed, device)
    lasso_split, ridge_split = split_of(reg.lasso_exact(X, y, l1=0.1)), split_of(reg.ridge(X, y, l2=0.1))
    return {
        "x1": int((lasso_split > 0.95).sum()),
        "x2": int((lasso_split < 0.05).sum()),
        "ridge_off_even": (ridge_split - 0.5).abs().max().item(),
    }


@pytest.mark.claim(CLAIM_L1_PICKS)
def test_l1_picks_one_of_two_near_copies_at_random(device, seed, evidence):
    """p.219: make the inputs near-copies of one signal (each z plus its own 1% noise) and draw that noise
    32 times. The exact lasso keeps (at least 95% of the weight on) one input in most draws, x1 in some and
    x2 in others: the tiny noise picks, at random. Ridge gives each input half every time.
    50 seeds: one input kept in 21-31 of 32 draws (the test asks 16), x1 in 8-18 and x2 in 7-18 (asks 4
    each); ridge within 0.006 of even (asks 0.02)."""
    picks = picks_among_near_copies(seed, device)
    evidence.record(**picks)

    assert picks["x1"] + picks["x2"] >= 16, f"expected lasso to keep one input in most of 32 draws: {picks}"
    assert picks["x1"] >= 4 and picks["x2"] >= 4, f"expected each input picked in some draws: {picks}"
    assert picks["ridge_off_even"] < 0.02, f"expected ridge to split evenly every time: {picks}"


@pytest.mark.claim("ch08.elastic-net-splits-correlated-inputs-evenly")
def test_elastic_net_splits_identical_inputs_evenly(device, seed, evidence):
    """p.219: adding an L2 part (l2 = 0.05) to the L1 penalty (l1 = 0.1) makes the 16 starts agree on
    w1 = w2 again, and the total keeps the L1 shrinkage: (2 mean(zy) - l1) / (2 mean(z^2) + l2), where L2
    alone gives 2 mean(zy) / (2 mean(z^2) + l2) (setting the derivative in w1 = w2 = T/2 to zero)."""
    X, y, w0 = duplicated_input(seed, device)
    w = reg.proximal_gradient(X, y, w0, l1=0.1, l2=0.05, steps=1000)
    z = X[0, :, 0]
    zy, zz = (z * y[0]).mean(), z.pow(2).mean()
    elastic_total, l2_total = (2 * zy - 0.1) / (2 * zz + 0.05), 2 * zy / (2 * zz + 0.05)
    split = split_of(w)
    evidence.record(
        split_range=[split.min().item(), split.max().item()], total=w.sum(1)[0].item(), l2_only_total=l2_total.item()
    )

    assert_close(split, torch.full_like(split, 0.5), rtol=0, atol=1e-6)  # 1000 steps: within 1e-9
    assert_close(w.sum(1), elastic_total.expand(16), rtol=1e-6, atol=0)
    assert (w.sum(1) < l2_total).all(), f"the L1 part shrinks the total: {w.sum(1)} vs L2 alone {l2_total}"


@pytest.mark.sweep
def test_sweep_near_copy_picks(device):
    """The margins of the near-copies test over 50 seeds."""
    picks = [picks_among_near_copies(seed, device) for seed in range(50)]
    kept = [p["x1"] + p["x2"] for p in picks]
    ranges = {
        "kept_one": (min(kept), max(kept)),
        "x1": (min(p["x1"] for p in picks), max(p["x1"] for p in picks)),
        "x2": (min(p["x2"] for p in picks), max(p["x2"] for p in picks)),
        "ridge_off_even": max(p["ridge_off_even"] for p in picks),
    }
    print(ranges)
    assert ranges["kept_one"][0] >= 16 and ranges["x1"][0] >= 4 and ranges["x2"][0] >= 4, ranges
    assert ranges["ridge_off_even"] < 0.02, ranges
