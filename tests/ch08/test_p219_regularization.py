"""Chapter 8, page 219: L2 regularization is weight decay; L1 (lasso) gives sparsity; correlated inputs
under L2, L1 and Elastic Net.

The regressions are least squares with the book's style of penalty added to the mean squared error,
``mean((Xw - y)^2) + l1 * sum|w| + l2 * sum w^2``, solved exactly (ridge) or with the usual solvers for
an L1 part (proximal gradient, coordinate descent) from ``claims.book.regularization``, in float64 and
batched over seeds or starting points.
"""
import copy

import pytest
import torch
from claims.compat import assert_close

from claims.book.models import NetWidth
from claims.book.regularization import coordinate_descent, objective, proximal_gradient, ridge
from claims.book.training import training_loop
from fixtures.images import bars

F64 = torch.float64


# Many small ops: one CPU thread (the conftest fixture says why).
pytestmark = pytest.mark.usefixtures("one_cpu_thread")


@pytest.mark.claim("ch08.l2-penalty-equals-sgd-weight-decay")
def test_book_l2_loop_equals_sgd_weight_decay_step_by_step(device, seed, evidence):
    """p.219-220: the book's loop with `loss + 0.001 * sum(p.pow(2).sum())` and SGD(lr=1e-2) reaches,
    after every epoch, the parameters of the same loop without the penalty and SGD(weight_decay=0.002)."""
    imgs, labels = bars(32, torch.Generator().manual_seed(seed))  # on the CPU; the loop moves batches
    batches = list(zip(imgs.split(8), labels.split(8)))  # fixed order: both runs see the same batches
    l2_model = NetWidth(n_chans1=8).to(device)
    wd_model, plain_model = copy.deepcopy(l2_model), copy.deepcopy(l2_model)
    l2_opt = torch.optim.SGD(l2_model.parameters(), lr=1e-2)
    wd_opt = torch.optim.SGD(wd_model.parameters(), lr=1e-2, weight_decay=2 * 0.001)
    plain_opt = torch.optim.SGD(plain_model.parameters(), lr=1e-2)
    loss_fn = torch.nn.CrossEntropyLoss()
    gaps, decay_effect = [], []
    for _ in range(3):
        # On CUDA, TF32 convolutions would round away the 1e-5 differences this test measures: use full
        # float32 (the flags do nothing on the CPU).
        with torch.backends.cudnn.flags(enabled=True, deterministic=True, allow_tf32=False):
            training_loop(1, l2_opt, l2_model, loss_fn, batches, device=device, l2_lambda=0.001)
            training_loop(1, wd_opt, wd_model, loss_fn, batches, device=device)
            training_loop(1, plain_opt, plain_model, loss_fn, batches, device=device)
        l2_p, wd_p, plain_p = (torch.cat([p.flatten() for p in m.parameters()])
                               for m in (l2_model, wd_model, plain_model))
        gaps.append((l2_p - wd_p).abs().max().item())
        decay_effect.append((l2_p - plain_p).abs().max().item())
        assert_close(l2_p, wd_p, rtol=1e-6, atol=1e-7)  # float32 rounding of two orders of summation
    evidence.record(max_gap_per_epoch=gaps, decay_effect_per_epoch=decay_effect)
    assert min(decay_effect) > 30 * max(gaps), f"the penalty must matter: {decay_effect} vs gaps {gaps}"


@pytest.mark.claim("ch08.l2-penalty-equals-sgd-weight-decay")
def test_gradient_of_l2_penalty_is_2_lambda_w(device):
    """p.219: the gradient of lambda * sum(w^2) is 2 * lambda * w, which is what weight_decay adds."""
    w = torch.randn(5, 7, device=device, requires_grad=True)
    (0.001 * w.pow(2).sum()).backward()
    assert_close(w.grad, 2 * 0.001 * w.detach(), rtol=1e-6, atol=0)


def sparse_regression(S: int, n: int, d: int, informative: list[float], generator):
    """S independent data sets: d standard-normal inputs, the first few informative, noise 0.5."""
    X = torch.randn(S, n, d, generator=generator, dtype=F64, device=generator.device)
    w_true = torch.zeros(d, dtype=F64, device=X.device)
    w_true[: len(informative)] = torch.tensor(informative, dtype=F64, device=X.device)
    y = X @ w_true + 0.5 * torch.randn(S, n, generator=generator, dtype=F64, device=X.device)
    return X, y


@pytest.mark.claim("ch08.l1-zeros-uninformative-weights-where-l2-only-shrinks")
def test_lasso_zeros_uninformative_weights_ridge_only_shrinks(device, generator, evidence):
    """p.219: 20 data sets of 100 samples, 20 inputs of which 3 matter. Lasso (l1=0.2, proximal
    gradient) sets most of the 17 uninformative weights exactly to 0; ridge (l2=0.2, exact) shrinks the
    weight vector below least squares but leaves all 340 uninformative weights non-zero.
    Seeds 0-5: lasso zeros 93-95% of them (margin: at least 60%), ridge none."""
    X, y = sparse_regression(20, 100, 20, [3.0, -2.0, 1.5], generator)
    lasso = proximal_gradient(X, y, torch.zeros(20, 20, dtype=F64, device=device), l1=0.2, steps=300)
    ridge_w, ols = ridge(X, y, l2=0.2), ridge(X, y, l2=0.0)
    lasso_zero = (lasso[:, 3:] == 0).double().mean().item()
    ridge_zero = (ridge_w[:, 3:].abs() < 1e-6).double().mean().item()
    shrink = (ridge_w.norm(dim=1) / ols.norm(dim=1))
    evidence.record(lasso_zero_fraction=lasso_zero, ridge_zero_fraction=ridge_zero,
                    ridge_over_ols_norm=[shrink.min().item(), shrink.max().item()])

    assert lasso_zero > 0.6, f"expected lasso to zero most uninformative weights, zeroed {lasso_zero:.2f}"
    assert (lasso[:, :3].abs() > 0.5).all(), f"lasso keeps the informative weights: {lasso[:, :3]}"
    assert ridge_zero == 0.0, f"expected ridge to zero none, zeroed {ridge_zero:.2f}"
    assert (shrink < 1).all(), f"ridge shrinks the weights below least squares: {shrink}"


def duplicated_input(S: int, generator):
    """One data set of 50 samples with the input z twice (x1 = x2 = z), y = 2 z + noise, and S random
    starting weights around the solution."""
    z = torch.randn(1, 50, generator=generator, dtype=F64, device=generator.device)
    y = 2 * z + 0.3 * torch.randn(1, 50, generator=generator, dtype=F64, device=z.device)
    X = torch.stack([z, z], dim=-1).expand(S, 50, 2)
    w0 = 2 * torch.randn(S, 2, generator=generator, dtype=F64, device=z.device)
    return X, y.expand(S, 50), w0


@pytest.mark.claim("ch08.l2-splits-correlated-inputs-evenly")
def test_l2_splits_identical_inputs_evenly_from_any_start(device, generator, evidence):
    """p.219: with x1 = x2, L2-penalised gradient descent from 16 random starts ends with w1 = w2,
    each half of the total, which is the exact ridge solution."""
    X, y, w0 = duplicated_input(16, generator)
    w = proximal_gradient(X, y, w0, l2=0.1, steps=500)
    split = w[:, 0] / w.sum(1)
    evidence.record(split_range=[split.min().item(), split.max().item()], start_split_range=[
        (w0[:, 0] / w0.sum(1)).min().item(), (w0[:, 0] / w0.sum(1)).max().item()])

    assert_close(split, torch.full_like(split, 0.5), rtol=0, atol=1e-6)  # 500 steps: seeds 0-5 within 2e-9
    assert_close(w, ridge(X, y, l2=0.1), rtol=1e-6, atol=1e-6)


@pytest.mark.claim("ch08.l1-picks-one-correlated-input-at-random")
def test_l1_leaves_the_split_of_identical_inputs_to_the_solver(device, generator, evidence):
    """p.219, refuted as worded: with x1 = x2, every same-sign split of the weight costs the same under
    L1, so L1 picks nothing: proximal gradient from 16 random starts reaches the same loss and the same
    total weight with splits spread from one input to the other; coordinate descent from zero puts it all
    on whichever input comes first in its order, the same way every time."""
    X, y, w0 = duplicated_input(16, generator)
    w = proximal_gradient(X, y, w0, l1=0.1, steps=500)
    split, total = w[:, 0] / w.sum(1), w.sum(1)
    losses = objective(X, y, w, l1=0.1)
    evidence.record(split_range=[split.min().item(), split.max().item()], total=total[0].item())

    assert_close(losses, losses[:1].expand(16), rtol=1e-9, atol=0)  # one optimal loss...
    assert_close(total, total[:1].expand(16), rtol=1e-9, atol=0)
    assert split.max() - split.min() > 0.5, f"...but many splits, measured {split.tolist()}"
    splits = torch.linspace(0, 1, 11, dtype=F64, device=device)[:, None] * torch.stack([total[0], -total[0]])
    flat = objective(X[:11], y[:11], splits + torch.stack([0 * total[0], total[0]]), l1=0.1)
    assert_close(flat, flat[:1].expand(11), rtol=1e-12, atol=0)  # every split costs the same
    zero = torch.zeros(2, 2, dtype=F64, device=device)
    first = coordinate_descent(X[:2], y[:2], zero, l1=0.1, sweeps=20)
    swapped = coordinate_descent(X[:2].flip(-1), y[:2], zero, l1=0.1, sweeps=20)
    assert (first[:, 1].abs() < 1e-12).all() and (swapped[:, 1].abs() < 1e-12).all(), \
        f"coordinate descent puts all on the first column in its order: {first.tolist()}, {swapped.tolist()}"


@pytest.mark.claim("ch08.elastic-net-splits-correlated-inputs-evenly")
def test_elastic_net_splits_identical_inputs_evenly(device, generator, evidence):
    """p.219: adding an L2 part (l2 = 0.05) to the L1 penalty (l1 = 0.1) makes the 16 starts of the
    L1 test agree again on w1 = w2, with a total smaller than the L2-only one (the L1 shrinkage)."""
    X, y, w0 = duplicated_input(16, generator)
    w = proximal_gradient(X, y, w0, l1=0.1, l2=0.05, steps=1000)
    split = w[:, 0] / w.sum(1)
    l2_only = proximal_gradient(X[:1], y[:1], w0[:1], l2=0.05, steps=500)
    evidence.record(split_range=[split.min().item(), split.max().item()], total=w.sum(1)[0].item(),
                    l2_only_total=l2_only.sum().item())

    assert_close(split, torch.full_like(split, 0.5), rtol=0, atol=1e-6)
    assert (w.sum(1) < l2_only.sum()).all(), f"L1 part shrinks the total: {w.sum(1)} vs {l2_only.sum()}"
