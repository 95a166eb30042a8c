"""Chapter 8, page 219: two perfectly correlated inputs under L2, L1 and Elastic Net.

"Perfectly correlated" is read as identical inputs, x1 = x2 = z: what two inputs of correlation 1 become once
standardized. Unstandardized, a correlation of 1 also covers a scaled copy, x2 = a z (a > 0, here 1.5); the
tests of each penalty say what it does with one.

With two identical inputs x1 = x2 = z the prediction is (w1 + w2) z, so the data fix the total w1 + w2
and never how it is split. The split is w1 / (w1 + w2), the share of the total on the first input: 0.5
is even, 1 or 0 puts it all on one input. Only the penalty can choose: for a total T, w1^2 + w2^2 is
smallest at the even split (T^2 / 2), while |w1| + |w2| = |T| for every split of one sign, so L1 does not
choose at all: its minimum is the whole segment from one input to the other. L1 picks one input where the
two are near-copies of one signal, each with a little noise of its own: then the one whose noise happens to
fit y better wins. With a scaled copy the data fix w1 + a w2 instead, and each penalty's choice follows the
scale: w1^2 + w2^2 is smallest at w2 / w1 = a, and |w1| + |w2| with everything on the larger-scale input.

Each regression is least squares with a penalty added to the mean squared error,
``mean((Xw - y)^2) + l1 * sum|w| + l2 * sum w^2``, solved exactly (``ridge``, ``lasso_exact``) or with the
usual iterative solvers (proximal gradient, coordinate descent) from ``claims.experiments.regularization``, in
float64 (skipped where the device has none), batched over starting points or draws; the data are drawn on
the CPU, so every device solves the same problems.
"""

from __future__ import annotations

import pytest
import torch

from claims.compat import assert_close
from claims.devices import dtype_or_skip
from claims.experiments import regularization as reg

# The penalties' strengths and the near-copies' own noise, read when a test runs (a skeptic's fault changes one).
L2 = 0.1
L1 = 0.1
ELASTIC = {"l1": 0.1, "l2": 0.05}  # on the two identical inputs
ELASTIC_SPARSE = {"l1": 0.2, "l2": 0.1}  # on the 20 sparse inputs, one of them duplicated
RIDGE_SPARSE_L2 = 0.1  # ridge alone on the same inputs, at the Elastic Net's l2
NEAR_COPY_NOISE = 0.01  # each near-copy is z plus noise of this std of its own (correlation above 0.9997)
DUPLICATE_NOISE = 0.0  # the duplicated input is z itself (a skeptic's fault makes it a near-copy)
COPY_SCALE = 1.5  # the scaled copy, x2 = 1.5 z: correlation 1, not identical
# Elastic Net's L1 part, as the tests ask it (a skeptic's fault that drops the part leaves these unchanged):
SHRINKS_BY = 0.02  # the total below L2 alone's by more than this on the identical inputs: 0.033-0.069 (50 seeds)
PAST_THE_SCALE = 0.4  # on the scaled copy w2 - 1.5 w1 above this (0.5 expected): 0.49999999-0.50000001 (50 seeds)

# Many small ops: one CPU thread (the conftest fixture says why).
pytestmark = pytest.mark.usefixtures("one_cpu_thread")


def duplicated_input(seed: int, device, dtype, S: int = 16, scale: float = 1.0):
    """One data set of 50 samples with one input z twice (x1 = z, x2 = scale * z: identical at scale 1),
    y = 2 z + noise, and S random starting weights around the solution."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(1, 50, generator=g, dtype=dtype)
    y = 2 * z + 0.3 * torch.randn(1, 50, generator=g, dtype=dtype)
    w0 = 2 * torch.randn(S, 2, generator=g, dtype=dtype)
    x2 = scale * z + DUPLICATE_NOISE * torch.randn(1, 50, generator=g, dtype=dtype)
    X = torch.stack([z, x2], dim=-1).expand(S, 50, 2)
    return X.to(device), y.expand(S, 50).to(device), w0.to(device)


def split_of(w, first: int = 0, second: int = 1):
    """The share of the pair's total weight on the first input, per problem."""
    return w[:, first] / (w[:, first] + w[:, second])


@pytest.mark.claim("ch08.l2-splits-correlated-inputs-evenly")
def test_l2_splits_identical_inputs_evenly_from_any_start(device, seed, evidence):
    """p.219: with x1 = x2, L2-penalised gradient descent (l2 = 0.1) from 16 random starts ends with
    w1 = w2, half of the total each, which is the exact ridge solution. (Without the penalty, gradient
    descent keeps each start's own split: the data never move w1 - w2.)"""
    X, y, w0 = duplicated_input(seed, device, dtype_or_skip(device))
    w = reg.proximal_gradient(X, y, w0, l2=L2, steps=500)
    split = split_of(w)
    evidence.record(
        split_range=[split.min().item(), split.max().item()],
        start_split_range=[split_of(w0).min().item(), split_of(w0).max().item()],
    )

    assert_close(split, torch.full_like(split, 0.5), rtol=0, atol=1e-6)  # 500 steps: within 1e-9
    assert_close(w, reg.ridge(X, y, l2=L2), rtol=1e-6, atol=1e-6)


@pytest.mark.claim("ch08.l2-splits-correlated-inputs-evenly")
def test_l2_splits_a_scaled_copy_by_its_scale(device, seed, evidence):
    """p.219: perfectly correlated without being identical, x2 = 1.5 x1: the data fix w1 + 1.5 w2, and of
    those fits w1^2 + w2^2 is smallest at w2 / w1 = 1.5, so L2 (l2 = 0.1) does not give half to each: from
    all 16 random starts it ends at w2 = 1.5 w1, the exact ridge solution. (Standardizing x2 would make it x1.)"""
    X, y, w0 = duplicated_input(seed, device, dtype_or_skip(device), scale=COPY_SCALE)
    w = reg.proximal_gradient(X, y, w0, l2=L2, steps=1000)
    ratio = w[:, 1] / w[:, 0]
    evidence.record(ratio_range=[ratio.min().item(), ratio.max().item()], weights=w[0].tolist())

    assert_close(ratio, torch.full_like(ratio, COPY_SCALE), rtol=1e-6, atol=0)  # 50 seeds: within 1.4e-8
    assert_close(w, reg.ridge(X, y, l2=L2), rtol=1e-6, atol=1e-6)


CLAIM_L1_PICKS = "ch08.l1-picks-one-correlated-input-at-random"


@pytest.mark.claim(CLAIM_L1_PICKS)
def test_l1_minimum_of_identical_inputs_is_every_split_and_the_solver_picks(device, seed, evidence):
    """p.219, refuted for identical inputs: with x1 = x2 every split of one sign costs the same under L1
    (l1 = 0.1), the even one included, so L1 picks no input. Proximal gradient from 16 random starts
    reaches one loss and one total with splits spread across the segment, interior ones among them: where
    it ends is set by where it started. Coordinate descent from zero puts it all on its first column, and
    does the same with the L1 term removed: its order picks, not the penalty."""
    dtype = dtype_or_skip(device)
    X, y, w0 = duplicated_input(seed, device, dtype)
    total = reg.proximal_gradient(X[:1], y[:1], w0[:1], l1=L1, steps=500).sum()
    shares = torch.linspace(0, 1, 11, dtype=dtype, device=device)[:, None]
    segment = shares * torch.stack([total, -total]) + torch.stack([0 * total, total])  # all on x2 ... all on x1
    flat = reg.objective(X[:11], y[:11], segment, l1=L1)
    assert_close(flat, flat[:1].expand(11), rtol=1e-12, atol=0)  # every split costs the same, 0.5 included

    w = reg.proximal_gradient(X, y, w0, l1=L1, steps=500)
    losses, split = reg.objective(X, y, w, l1=L1), split_of(w)
    interior = int(((split > 0.1) & (split < 0.9)).sum())
    zero = torch.zeros(2, 2, dtype=dtype, device=device)
    first_column = {l1: reg.coordinate_descent(X[:2], y[:2], zero, l1=l1, sweeps=20) for l1 in (L1, 0.0)}
    evidence.record(
        total=total.item(),
        proximal_splits=sorted(round(s, 3) for s in split.tolist()),
        coordinate_descent={str(l1): w_cd[0].tolist() for l1, w_cd in first_column.items()},
    )

    assert_close(losses, losses[:1].expand(16), rtol=1e-9, atol=0)  # one optimal loss...
    assert split.max() - split.min() > 0.5, f"...but many splits, measured {split.tolist()}"
    assert interior >= 2, f"expected interior splits, not one input: {split.tolist()}"
    for l1, w_cd in first_column.items():
        # Without the L1 term the second weight is rounding (1e-15), not an exact 0.
        assert (w_cd[:, 1].abs() < 1e-9).all() and (w_cd[:, 0] > 1).all(), f"coordinate descent, l1={l1}: {w_cd}"


@pytest.mark.claim(CLAIM_L1_PICKS)
def test_l1_puts_a_scaled_copys_weight_on_the_larger_input_every_time(device, seed, evidence):
    """p.219, refuted for a scaled copy too: with x2 = 1.5 x1 the data fix w1 + 1.5 w2, and |w1| + |w2| is
    smallest with all of it on x2, which fits with 1/1.5 of the weight. So the lasso (l1 = 0.1) has one
    minimum, w1 = 0 and w2 = (2 * 1.5 mean(zy) - l1) / (2 * 1.5^2 mean(z^2)) (setting the derivative in w2 to
    zero), and proximal gradient reaches it from all 16 random starts, w1 exactly 0: L1 picks the
    larger-scale input, deterministically, not at random."""
    X, y, w0 = duplicated_input(seed, device, dtype_or_skip(device), scale=COPY_SCALE)
    w = reg.proximal_gradient(X, y, w0, l1=L1, steps=2000)
    z, a = X[0, :, 0], COPY_SCALE
    all_on_x2 = (2 * a * (z * y[0]).mean() - L1) / (2 * a**2 * z.pow(2).mean())
    evidence.record(
        w1_range=[w[:, 0].min().item(), w[:, 0].max().item()], w2=w[0, 1].item(), all_on_x2=all_on_x2.item()
    )

    assert (w[:, 0] == 0).all(), f"expected the smaller-scale input's weight exactly 0 from every start: {w[:, 0]}"
    assert_close(w[:, 1], all_on_x2.expand(16), rtol=1e-9, atol=0)  # 50 seeds: within 9e-16


def near_copies(seed: int, device, dtype, S: int = 32):
    """S data sets of 50 samples: y = 2 z + noise, and two inputs that are copies of z with noise of their
    own (std NEAR_COPY_NOISE), drawn afresh for each data set."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(1, 50, generator=g, dtype=dtype)
    y = 2 * z + 0.3 * torch.randn(1, 50, generator=g, dtype=dtype)
    X = z.unsqueeze(-1) + NEAR_COPY_NOISE * torch.randn(S, 50, 2, generator=g, dtype=dtype)
    return X.to(device), y.expand(S, 50).to(device)


def picks_among_near_copies(seed: int, device, dtype) -> dict:
    """How often the exact lasso puts at least 95% of the weight on x1, on x2; ridge's largest split off even."""
    X, y = near_copies(seed, device, dtype)
    lasso_split, ridge_split = split_of(reg.lasso_exact(X, y, l1=L1)), split_of(reg.ridge(X, y, l2=L2))
    return {
        "x1": int((lasso_split > 0.95).sum()),
        "x2": int((lasso_split < 0.05).sum()),
        "ridge_off_even": (ridge_split - 0.5).abs().max().item(),
    }


@pytest.mark.claim(CLAIM_L1_PICKS)
def test_l1_picks_one_of_two_near_copies_at_random(device, seed, evidence):
    """p.219: make the inputs near-copies of one signal (each z plus its own 1% noise) and draw that noise
    32 times. The exact lasso (l1 = 0.1) keeps (at least 95% of the weight on) one input in most draws, x1
    in some and x2 in others: the tiny noise picks, at random. Ridge (l2 = 0.1) gives each input half
    every time. 50 seeds: one input kept in 21-31 of 32 draws (the test asks 16), x1 in 8-18 and x2 in
    7-18 (asks 4 each); ridge within 0.006 of even (asks 0.02)."""
    picks = picks_among_near_copies(seed, device, dtype_or_skip(device))
    evidence.record(**picks)

    assert picks["x1"] + picks["x2"] >= 16, f"expected lasso to keep one input in most of 32 draws: {picks}"
    assert picks["x1"] >= 4 and picks["x2"] >= 4, f"expected each input picked in some draws: {picks}"
    assert picks["ridge_off_even"] < 0.02, f"expected ridge to split evenly every time: {picks}"


CLAIM_ELASTIC = "ch08.elastic-net-splits-correlated-inputs-evenly"


@pytest.mark.claim(CLAIM_ELASTIC)
def test_elastic_net_splits_identical_inputs_evenly(device, seed, evidence):
    """p.219: adding an L2 part (l2 = 0.05) to the L1 penalty (l1 = 0.1) makes the 16 starts agree on
    w1 = w2 again, and the total keeps the L1 shrinkage: (2 mean(zy) - l1) / (2 mean(z^2) + l2), where L2
    alone gives 2 mean(zy) / (2 mean(z^2) + l2) (setting the derivative in w1 = w2 = T/2 to zero): by
    l1 / (2 mean(z^2) + l2), 0.033-0.069 less over 50 seeds (the test asks more than 0.02)."""
    X, y, w0 = duplicated_input(seed, device, dtype_or_skip(device))
    l1, l2 = ELASTIC["l1"], ELASTIC["l2"]
    w = reg.proximal_gradient(X, y, w0, l1=l1, l2=l2, steps=1000)
    z = X[0, :, 0]
    zy, zz = (z * y[0]).mean(), z.pow(2).mean()
    elastic_total, l2_total = (2 * zy - l1) / (2 * zz + l2), 2 * zy / (2 * zz + l2)
    split = split_of(w)
    evidence.record(
        split_range=[split.min().item(), split.max().item()], total=w.sum(1)[0].item(), l2_only_total=l2_total.item()
    )

    assert_close(split, torch.full_like(split, 0.5), rtol=0, atol=1e-6)  # 1000 steps: within 1e-9
    assert_close(w.sum(1), elastic_total.expand(16), rtol=1e-6, atol=0)
    shrinkage = l2_total - w.sum(1)
    assert (shrinkage > SHRINKS_BY).all(), f"expected the L1 part to shrink the total by about 0.05: {shrinkage}"


@pytest.mark.claim(CLAIM_ELASTIC)
def test_elastic_net_gives_a_scaled_copy_more_than_its_scale(device, seed, evidence):
    """p.219: with x2 = 1.5 x1 Elastic Net (l1 = 0.1, l2 = 0.05) follows the scale, between L2's w2 = 1.5 w1
    and L1's all on x2: the data pull on w2 with 1.5 times the force g they pull on w1, and where both
    weights are positive each pull balances its penalty, g = l1 + 2 l2 w1 and 1.5 g = l1 + 2 l2 w2, so
    w2 = 1.5 w1 + (1.5 - 1) l1 / (2 l2): the L1 part adds 0.5 to L2's split. All 16 starts end there
    (50 seeds: within 1.8e-8 of it, relative; w1 at least 0.32, the test asks 0.1; w2 - 1.5 w1 is
    0.49999999-0.50000001, the test asks more than 0.4, L2's split being 0)."""
    X, y, w0 = duplicated_input(seed, device, dtype_or_skip(device), scale=COPY_SCALE)
    l1, l2, a = ELASTIC["l1"], ELASTIC["l2"], COPY_SCALE
    w = reg.proximal_gradient(X, y, w0, l1=l1, l2=l2, steps=2000)
    past = w[:, 1] - a * w[:, 0]
    evidence.record(
        w1_range=[w[:, 0].min().item(), w[:, 0].max().item()],
        w2_over_w1=(w[0, 1] / w[0, 0]).item(),
        w2_past_the_scale=[past.min().item(), past.max().item()],
    )

    assert (w[:, 0] > 0.1).all(), f"expected both weights non-zero, measured w1 {w[:, 0]}"
    assert (past > PAST_THE_SCALE).all(), f"expected w2 past {a} w1 by 0.5, measured w2 - {a} w1 = {past}"
    assert_close(w[:, 1] - a * w[:, 0], torch.full_like(w[:, 0], (a - 1) * l1 / (2 * l2)), rtol=1e-6, atol=0)


def elastic_net_on_sparse_inputs(seed: int, device, dtype) -> dict:
    """Elastic Net and ridge (the same l2) on 20 sparse data sets whose first input is also the 21st
    (x21 = x1), each solved by proximal gradient from a random start."""
    X, y = reg.sparse_problems(seed, dtype)
    X = torch.cat([X, X[..., :1]], dim=-1).to(device)  # the informative x1, twice
    y = y.to(device)
    w0 = torch.randn(X.shape[0], X.shape[-1], generator=torch.Generator().manual_seed(seed), dtype=dtype).to(device)
    elastic = reg.proximal_gradient(X, y, w0, steps=600, **ELASTIC_SPARSE)
    ridge = reg.ridge(X, y, l2=RIDGE_SPARSE_L2)
    uninformative = slice(len(reg.INFORMATIVE), X.shape[-1] - 1)
    return {
        "elastic": elastic,
        "split": split_of(elastic, 0, -1),
        "elastic_zero": (elastic[:, uninformative] == 0).sum().item() / elastic[:, uninformative].numel(),
        "ridge_zero": (ridge[:, uninformative] == 0).sum().item() / ridge[:, uninformative].numel(),
    }


@pytest.mark.claim(CLAIM_ELASTIC)
def test_elastic_net_zeros_uninformative_weights_and_splits_a_duplicated_input(device, seed, evidence):
    """p.219: Elastic Net keeps both: on 20 data sets of 100 samples with 20 inputs of which 3 matter, the
    first one given twice, it (l1 = 0.2, l2 = 0.1, from random starts) sets most of the 17 uninformative
    weights exactly to 0, as L1 does, and splits the duplicated input's weight evenly, as L2 does; ridge
    alone (l2 = 0.1) zeros none of them. 50 seeds: Elastic Net zeros 81-91% (the test asks > 60%), the
    split is even within 4e-9 (asks 1e-6)."""
    run = elastic_net_on_sparse_inputs(seed, device, dtype_or_skip(device))
    split = run["split"]
    evidence.record(
        elastic_zero_fraction=run["elastic_zero"],
        ridge_zero_fraction=run["ridge_zero"],
        duplicated_split_range=[split.min().item(), split.max().item()],
    )

    assert run["elastic_zero"] > 0.6, f"expected most uninformative weights zeroed, zeroed {run['elastic_zero']}"
    assert_close(split, torch.full_like(split, 0.5), rtol=0, atol=1e-6)
    informative = run["elastic"][:, 1 : len(reg.INFORMATIVE)]
    assert (informative.abs() > 0.5).all(), f"expected the informative weights kept: {informative}"
    assert run["ridge_zero"] == 0.0, f"expected ridge to zero none, zeroed {run['ridge_zero']}"


@pytest.mark.sweep
def test_sweep_near_copy_picks_and_elastic_net_zeros(device):
    """The margins of the near-copies and the sparse Elastic Net tests over 50 seeds."""
    dtype = dtype_or_skip(device)
    picks = [picks_among_near_copies(seed, device, dtype) for seed in range(50)]
    elastic = [elastic_net_on_sparse_inputs(seed, device, dtype) for seed in range(50)]
    kept = [p["x1"] + p["x2"] for p in picks]
    ranges = {
        "kept_one": (min(kept), max(kept)),
        "x1": (min(p["x1"] for p in picks), max(p["x1"] for p in picks)),
        "x2": (min(p["x2"] for p in picks), max(p["x2"] for p in picks)),
        "ridge_off_even": max(p["ridge_off_even"] for p in picks),
        "elastic_zero": (min(r["elastic_zero"] for r in elastic), max(r["elastic_zero"] for r in elastic)),
        "elastic_split_off_even": max((r["split"] - 0.5).abs().max().item() for r in elastic),
    }
    print(ranges)
    assert ranges["kept_one"][0] >= 16 and ranges["x1"][0] >= 4 and ranges["x2"][0] >= 4, ranges
    assert ranges["ridge_off_even"] < 0.02, ranges
    assert ranges["elastic_zero"][0] > 0.6 and ranges["elastic_split_off_even"] < 1e-6, ranges
    assert all((r["elastic"][:, 1:3].abs() > 0.5).all() and r["ridge_zero"] == 0 for r in elastic), ranges


@pytest.mark.sweep
def test_sweep_scaled_copy(device):
    """The scaled-copy tests over 50 seeds: how close each solver ends to its predicted point from all 16 starts;
    and Elastic Net's margins: w2 - 1.5 w1 on the scaled copy, the shrinkage of the total on identical inputs."""
    dtype, a = dtype_or_skip(device), COPY_SCALE
    worst = {
        "ridge_ratio_off": 0.0,
        "lasso_w1_largest": 0.0,
        "lasso_w2_off": 0.0,
        "elastic_off": 0.0,
        "elastic_w1": 9.0,
        "elastic_past_lowest": 9.0,
        "elastic_shrinkage_lowest": 9.0,
    }
    for seed in range(50):
        X, y, w0 = duplicated_input(seed, device, dtype, scale=a)
        z = X[0, :, 0]
        ridge = reg.proximal_gradient(X, y, w0, l2=L2, steps=1000)
        lasso = reg.proximal_gradient(X, y, w0, l1=L1, steps=2000)
        elastic = reg.proximal_gradient(X, y, w0, steps=2000, **ELASTIC)
        all_on_x2 = (2 * a * (z * y[0]).mean() - L1) / (2 * a**2 * z.pow(2).mean())
        gap = (a - 1) * ELASTIC["l1"] / (2 * ELASTIC["l2"])
        worst["ridge_ratio_off"] = max(worst["ridge_ratio_off"], (ridge[:, 1] / ridge[:, 0] / a - 1).abs().max().item())
        worst["lasso_w1_largest"] = max(worst["lasso_w1_largest"], lasso[:, 0].abs().max().item())
        worst["lasso_w2_off"] = max(worst["lasso_w2_off"], (lasso[:, 1] / all_on_x2 - 1).abs().max().item())
        worst["elastic_off"] = max(
            worst["elastic_off"], ((elastic[:, 1] - a * elastic[:, 0]) / gap - 1).abs().max().item()
        )
        worst["elastic_w1"] = min(worst["elastic_w1"], elastic[:, 0].min().item())
        past = (elastic[:, 1] - a * elastic[:, 0]).min().item()
        worst["elastic_past_lowest"] = min(worst["elastic_past_lowest"], past)
        X, y, w0 = duplicated_input(seed, device, dtype)
        z = X[0, :, 0]
        identical = reg.proximal_gradient(X, y, w0, steps=1000, **ELASTIC)
        l2_total = 2 * (z * y[0]).mean() / (2 * z.pow(2).mean() + ELASTIC["l2"])
        shrinkage = (l2_total - identical.sum(1)).min().item()
        worst["elastic_shrinkage_lowest"] = min(worst["elastic_shrinkage_lowest"], shrinkage)
    print(worst)
    assert worst["ridge_ratio_off"] < 1e-6 and worst["lasso_w1_largest"] == 0 and worst["lasso_w2_off"] < 1e-9, worst
    assert worst["elastic_off"] < 1e-6 and worst["elastic_w1"] > 0.1, worst
    assert worst["elastic_past_lowest"] > PAST_THE_SCALE and worst["elastic_shrinkage_lowest"] > SHRINKS_BY, worst
