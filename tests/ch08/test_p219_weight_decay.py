"""Chapter 8, pages 219-220: L2 regularization is weight decay.

The book adds the penalty to the loss in its training loop (page 220)::

    l2_norm = sum(p.pow(2.0).sum() for p in model.parameters())
    loss = loss + l2_lambda * l2_norm

Its gradient is 2 * l2_lambda * p, which is exactly what SGD's ``weight_decay`` adds to every gradient:
so the loop with l2_lambda = 0.001 and SGD(weight_decay=0.002) without the penalty take the same steps.
"""

import copy

import pytest
import torch

from claims.book.models import NetWidth
from claims.book.training import training_loop
from claims.compat import assert_close, full_float32
from fixtures.images import bars

CLAIM = "ch08.l2-penalty-equals-sgd-weight-decay"
L2_LAMBDA = 0.001  # the book's value

# Many small ops: one CPU thread (the conftest fixture says why).
pytestmark = pytest.mark.usefixtures("one_cpu_thread")


def bars_batches(n: int, seed: int, batch_size: int = 8):
    """``n`` bars images in fixed batches, drawn on the CPU (the same on every device; the loop moves them)."""
    imgs, labels = bars(n, torch.Generator().manual_seed(seed))
    return list(zip(imgs.split(batch_size), labels.split(batch_size)))


@pytest.mark.claim(CLAIM)
def test_book_loop_adds_lambda_times_the_sum_of_squares(device, seed, evidence):
    """p.220: the book's loop adds 0.001 * (the sum of the squares of every weight and bias) to the loss:
    on one batch, before its first step, its loss exceeds the plain loop's by exactly that."""
    batch = bars_batches(8, seed)
    model = NetWidth(n_chans1=8).to(device)
    twin = copy.deepcopy(model)
    sum_of_squares = torch.cat([p.detach().flatten() for p in model.parameters()]).pow(2).sum().item()
    loss_fn = torch.nn.CrossEntropyLoss()
    with full_float32():
        penalised = training_loop(
            1, torch.optim.SGD(model.parameters(), lr=1e-2), model, loss_fn, batch, device=device, l2_lambda=L2_LAMBDA
        )[0]
        plain = training_loop(1, torch.optim.SGD(twin.parameters(), lr=1e-2), twin, loss_fn, batch, device=device)[0]
    evidence.record(sum_of_squares=sum_of_squares, penalised_loss=penalised, plain_loss=plain)

    assert_close(penalised - plain, L2_LAMBDA * sum_of_squares, rtol=1e-4, atol=0)  # float32 losses near 0.7


@pytest.mark.claim(CLAIM)
def test_book_l2_loop_equals_sgd_weight_decay_step_by_step(device, seed, evidence):
    """p.219-220: the book's loop with the penalty and SGD(lr=1e-2) reaches, after every epoch, the
    parameters of the same loop without the penalty and SGD(weight_decay=0.002); both differ from plain SGD
    by more than 30 times their gap."""
    batches = bars_batches(24, seed)
    l2_model = NetWidth(n_chans1=8).to(device)
    wd_model, plain_model = copy.deepcopy(l2_model), copy.deepcopy(l2_model)
    l2_opt = torch.optim.SGD(l2_model.parameters(), lr=1e-2)
    wd_opt = torch.optim.SGD(wd_model.parameters(), lr=1e-2, weight_decay=2 * L2_LAMBDA)
    plain_opt = torch.optim.SGD(plain_model.parameters(), lr=1e-2)
    loss_fn = torch.nn.CrossEntropyLoss()
    gaps, decay_effect = [], []
    for _ in range(3):
        # Full float32: TF32 convolutions on CUDA would round away the 1e-5 differences measured here.
        with full_float32(deterministic=True):
            training_loop(1, l2_opt, l2_model, loss_fn, batches, device=device, l2_lambda=L2_LAMBDA)
            training_loop(1, wd_opt, wd_model, loss_fn, batches, device=device)
            training_loop(1, plain_opt, plain_model, loss_fn, batches, device=device)
        l2_p, wd_p, plain_p = (
            torch.cat([p.detach().flatten() for p in m.parameters()]) for m in (l2_model, wd_model, plain_model)
        )
        gaps.append((l2_p - wd_p).abs().max().item())
        decay_effect.append((l2_p - plain_p).abs().max().item())
        assert_close(l2_p, wd_p, rtol=1e-6, atol=1e-7)  # float32 rounding of two orders of summation
    evidence.record(max_gap_per_epoch=gaps, decay_effect_per_epoch=decay_effect)
    assert min(decay_effect) > 30 * max(gaps), f"the penalty must matter: {decay_effect} vs gaps {gaps}"
