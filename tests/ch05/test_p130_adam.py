"""Chapter 5, pages 119 and 130: plain SGD needs normalized input; Adam copes with the raw scale, at the book's rate.

The Adam runs are the book's loop (3_optimizers.ipynb In[11], ``train_with_optimizer``, lr=1e-1) on both inputs
at once (``adam_on_both_inputs``: one row [w, b] per input; each row's loss is its own, and Adam steps every
element on its own, so each row is the run it would be alone): ``test_adam_rows_follow_the_book_loop`` checks
that the book's own run is the t_u row.
"""

import math

import pytest
import torch

from claims.book.thermometer import Run, book_run, model
from claims.compat import assert_close, lstsq
from claims.experiments.printed import as_printed, assert_printed

CLAIM = "ch05.adam-copes-with-unnormalized-input"
RAW_INPUT = "t_u"  # the input the book does not normalize (read at run time: a skeptic's fault changes it)
ADAM_LR, EPOCHS = 1e-1, 2000  # the book's Adam run
# the plain SGD rates tried on the raw input, as fractions of its stability limit 2 / (the loss's largest curvature,
# 5884 on t_u: the limit is 3.4e-4), and the epochs read: Adam's 2000 and the book's SGD runs' 5000
STABLE_FRACTIONS = (0.03, 0.06, 0.15, 0.3, 0.6, 0.9, 0.97)
SGD_EPOCHS = (2000, 5000)
SGD_MISSES = 5  # the best of those rates' loss / the least-squares loss, stays above: 8.10 at 2000, 6.02 at 5000
ADAM_LAGS = 1.02  # Adam on t_u after 1000 epochs / the least-squares loss, stays above: 1.0543 (on t_un: 1.0000)


def least_squares_line(thermometer, inputs: str):
    """The best line's params and loss on the input ``inputs`` (float64, on the CPU)."""
    x = getattr(thermometer, inputs).cpu().double()
    design = torch.stack([x, torch.ones_like(x)], dim=1)
    best = lstsq(design, thermometer.t_c.cpu().double().unsqueeze(1)).squeeze(1)
    return best, ((design @ best - thermometer.t_c.cpu().double()) ** 2).mean().item()


def adam_on_both_inputs(thermometer, lr: float, epochs: int) -> dict:
    """The book's Adam loop from w=1, b=0 on t_u and on t_un at once: a Run (its final params and the loss of
    every epoch before its update) by input."""
    x = torch.stack([thermometer.t_u, thermometer.t_un])  # one row per input
    params = torch.tensor([[1.0, 0.0]] * 2, device=x.device, requires_grad=True)  # one row [w, b] per input
    optimizer = torch.optim.Adam([params], lr=lr)
    losses = []
    for _ in range(epochs):
        loss = ((model(x, params[:, :1], params[:, 1:]) - thermometer.t_c) ** 2).mean(dim=1)
        optimizer.zero_grad()
        loss.sum().backward()  # each row's gradient is its own loss's
        optimizer.step()
        losses.append(loss.detach())
    curves = torch.stack(losses).cpu()  # [epochs, inputs]
    return {name: Run(params[i].detach(), curves[:, i].tolist()) for i, name in enumerate(("t_u", "t_un"))}


@pytest.fixture
def adam(thermometer, device, session_cache):
    """``adam_on_both_inputs`` with the book's lr and epochs on the test's device, once per session."""
    return session_cache(("page-130 adam", str(device)), lambda: adam_on_both_inputs(thermometer, ADAM_LR, EPOCHS))


@pytest.mark.claim(CLAIM)
def test_sgd_with_lr_1e_2_diverges_on_raw_input(thermometer_run, evidence):
    """p.118-119: optim.SGD with lr=1e-2 on the raw t_u overshoots: the loss grows more than 100-fold every
    epoch and overflows to inf at epoch 11 (the book's losses 1763.884644, 5802485.5, 19408035840.0 first)."""
    run = thermometer_run("sgd", 11, 1e-2, RAW_INPUT)
    evidence.record(losses_epochs_1_to_3=run.losses[:3], loss_epoch_11=run.losses[10])

    assert all(b > 100 * a for a, b in zip(run.losses[:9], run.losses[1:10])), f"each epoch x100: {run.losses}"
    assert all(math.isfinite(loss) for loss in run.losses[:10]), f"finite until epoch 10: {run.losses}"
    assert run.losses[10] == math.inf, f"expected inf at epoch 11, got {run.losses[10]}"


@pytest.mark.claim(CLAIM)
def test_no_stable_sgd_rate_reaches_the_line_on_raw_input(thermometer, device, evidence):
    """p.119: a smaller rate is no way out on the raw t_u. Plain gradient descent (the book's hand-written
    loop, p.117, for every rate at once) is stable below 2 / 5884, 3.4e-4, the loss's largest curvature on t_u;
    at seven rates from 3% to 97% of that limit (1.0e-5 to 3.3e-4) the loss after 2000 epochs, and after 5000,
    stays over 5 times the least-squares line's 2.93: b, whose curvature is 34000 times smaller, hardly moves
    (at best 23.7 after 2000 epochs and 17.6 after 5000, at 3.3e-4). Within these epochs: the loss is a convex
    quadratic, and any stable rate reaches the line in the end."""
    x = getattr(thermometer, RAW_INPUT)
    design = torch.stack([x, torch.ones_like(x)], dim=1)  # t_p = design @ [w, b]
    (a, b), (_, c) = (2 / len(x) * design.t() @ design).tolist()  # the loss's Hessian in [w, b], symmetric
    curvature = (a + c) / 2 + math.hypot((a - c) / 2, b)  # its largest eigenvalue
    rates = torch.tensor(STABLE_FRACTIONS, device=device).unsqueeze(1) * 2 / curvature
    params = torch.tensor([[1.0, 0.0]] * len(STABLE_FRACTIONS), device=device)  # one row [w, b] per rate
    steps = rates * 2 / len(x)  # lr times the 2 / n of the book's grad_fn
    losses = {}
    for epoch in range(1, max(SGD_EPOCHS) + 1):
        errors = params @ design.t() - thermometer.t_c  # t_p - t_c, every row at once
        if epoch in SGD_EPOCHS:
            losses[epoch] = (errors**2).mean(dim=1)
        params = params - steps * (errors @ design)  # lr * grad_fn: [dloss/dw, dloss/db] = 2 / n * errors @ design
    best_loss = least_squares_line(thermometer, RAW_INPUT)[1]
    over = {epoch: (loss / best_loss).tolist() for epoch, loss in losses.items()}
    evidence.record(curvature=curvature, rates=rates.squeeze(1).tolist(), loss_over_least_squares=over)

    for epoch, ratios in over.items():
        assert min(ratios) > SGD_MISSES, f"epoch {epoch}: a stable rate came near the line: {ratios}"


@pytest.mark.claim(CLAIM)
def test_sgd_converges_on_normalized_input(thermometer_run, thermometer, evidence):
    """p.119/129: optim.SGD, lr=1e-2, 5000 epochs on t_un = 0.1 * t_u reaches the least-squares line
    (w ten times Adam's, because the input is a tenth)."""
    run = thermometer_run("sgd", 5000, 1e-2, "t_un")
    best, best_loss = least_squares_line(thermometer, "t_un")
    evidence.record(params=run.params, final_loss=run.final_loss)

    assert_close(run.params.cpu().double(), best, rtol=0, atol=5e-3)  # 5000 epochs stop 0.0036 short in b
    assert_close(run.final_loss, best_loss, rtol=1e-5, atol=0)


@pytest.mark.claim(CLAIM)
def test_adam_converges_on_raw_input(adam, thermometer, evidence):
    """p.130: Adam, lr=1e-1, 2000 epochs on the raw t_u reaches the least-squares line, within 0.005 of its
    params and 1e-5 of its loss: the line SGD only finds on normalized input."""
    run = adam[RAW_INPUT]
    best, best_loss = least_squares_line(thermometer, RAW_INPUT)
    evidence.record(params=run.params, final_loss=run.final_loss, least_squares=best.tolist())

    assert_close(run.params.cpu().double(), best, rtol=0, atol=5e-3)  # 2000 epochs stop 0.0027 short in b
    assert_close(run.final_loss, best_loss, rtol=1e-5, atol=0)


@pytest.mark.claim(CLAIM)
def test_adam_reaches_the_line_on_either_input_but_is_not_scale_free(adam, thermometer, evidence):
    """p.130: with the book's lr=1e-1 Adam reaches the least-squares line in 2000 epochs on the raw t_u and on
    t_un alike (its loss within 1e-5). Not scale-free: on the raw input it takes longer. After 1000 epochs it
    is there on t_un and still over 2% above it on t_u (the book printed 3.086700 against the line's 2.927646).
    (Measured once and not asserted: within 1e-5 for good from epoch 1762 on t_u and 776 on t_un, 777 on torch
    1.4; on torch 1.4 and 2.14 alike, at lr=3e-2, after 2000 epochs, 2.92778 on t_un and 3.9296 on t_u; at lr=0.3
    both reach it; at lr=1.0 t_un stays on it while t_u reaches it and leaves it again, up to 160-220 after epoch
    1000.)"""
    over = {}
    for inputs in (RAW_INPUT, "t_un"):
        best = least_squares_line(thermometer, inputs)[1]
        over[inputs] = {epoch: adam[inputs].losses[epoch - 1] / best for epoch in (1000, EPOCHS)}
    evidence.record(loss_over_least_squares=over)

    for inputs, ratios in over.items():
        assert abs(ratios[EPOCHS] - 1) < 1e-5, f"after {EPOCHS} epochs Adam should be on the line on {inputs}: {over}"
    assert abs(over["t_un"][1000] - 1) < 1e-5, f"on t_un Adam should be on the line by epoch 1000: {over}"
    assert over[RAW_INPUT][1000] > ADAM_LAGS, f"on {RAW_INPUT} Adam should still be above the line at 1000: {over}"


@pytest.mark.claim(CLAIM)
def test_book_printed_the_adam_run(adam, evidence):
    """3_optimizers.ipynb In[11], Adam lr=1e-1 on t_u: losses 7.612903, 3.086700, 2.928578, 2.927646 at
    epochs 500 to 2000, and the params [0.5367, -17.3021]. Half a unit of the last digit and 1e-6 relative:
    Adam's steps round differently with the machine (torch 1.4 on this project's machine prints 7.612901 and
    2.928580, torch 2.14 7.612900, 2.928579 and 2.927644)."""
    run = adam["t_u"]
    printed = {500: "7.612903", 1000: "3.086700", 1500: "2.928578", 2000: "2.927646"}
    measured = [run.losses[epoch - 1] for epoch in printed]
    evidence.record(printed_today={epoch: as_printed(v, printed[epoch]) for epoch, v in zip(printed, measured)})

    assert_printed(measured, list(printed.values()), rtol=1e-6, what="losses at epochs 500-2000")
    assert_printed(run.params, ["0.5367", "-17.3021"], rtol=1e-6, what="params returned")


@pytest.mark.devices("cpu", reason="a check of the experiment, made once: the book's loop on the CPU")
def test_adam_rows_follow_the_book_loop(adam, thermometer):
    """Not a claim: a check of the experiment. The book's own loop (``train_with_optimizer``, optim.Adam,
    lr=1e-1, on t_u) and the t_u row of ``adam_on_both_inputs`` lose the same at every one of the first 100
    epochs (measured bitwise equal on torch 1.4 and 2.14, over the book's 2000 epochs and its params too)."""
    book = book_run(thermometer, "adam", 100, 1e-1, "t_u")
    assert_close(torch.tensor(adam["t_u"].losses[:100]), torch.tensor(book.losses), rtol=1e-6, atol=0)
