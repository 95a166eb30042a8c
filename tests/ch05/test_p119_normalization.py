"""Chapter 5, page 119: parameters of different scale, input normalization, and three routes to one line.

The 5000-epoch runs are the book's loops, shared through the ``thermometer_run`` fixture: by hand (p.117),
with autograd (p.124) and with optim.SGD (p.129), each lr=1e-2 on t_un = 0.1 * t_u from w=1, b=0.
"""
import pytest
import torch
from claims.compat import assert_close

from claims.book.thermometer import grad_fn, loss_fn, model

BOOK_LINE = [5.3671, -17.3012]


@pytest.mark.claim("ch05.parameters-get-gradients-of-different-scale")
def test_gradient_on_w_is_55_times_that_on_b_until_input_is_normalized(thermometer, device, evidence):
    """p.119: at w=1, b=0 the gradient is [4517.2969, 82.6000] on t_u, a ratio of about 55; on
    t_un = 0.1 * t_u it is [-77.6140, -10.6400], a ratio of about 7."""
    w, b = torch.ones((), device=device), torch.zeros((), device=device)
    grads = {name: grad_fn(x, thermometer.t_c, model(x, w, b), w, b)
             for name, x in (("t_u", thermometer.t_u), ("t_un", thermometer.t_un))}
    ratios = {name: (g[0] / g[1]).item() for name, g in grads.items()}
    evidence.record(grad_t_u=grads["t_u"].tolist(), grad_t_un=grads["t_un"].tolist(), ratio_w_to_b=ratios)

    assert_close(grads["t_u"], torch.tensor([4517.2969, 82.6000], device=device), rtol=1e-6, atol=1e-4)
    assert_close(grads["t_un"], torch.tensor([-77.6140, -10.6400], device=device), rtol=1e-5, atol=0)
    assert 50 < ratios["t_u"] < 60, f"expected about 55 on t_u, measured {ratios['t_u']:.1f}"
    assert 1 < ratios["t_un"] < 10, f"expected within 10x on t_un, measured {ratios['t_un']:.1f}"


@pytest.mark.claim("ch05.normalized-input-converges-with-lr-1e-2")
def test_lr_1e_2_converges_on_normalized_input(thermometer_run, thermometer, device, evidence):
    """p.119-120: lr=1e-2 on t_un: after 100 epochs params [2.7553, -2.5162], loss 22.148710; after
    5000, [5.3671, -17.3012] and loss 2.927648, within 0.004 of the least-squares line [5.3677, -17.3048]
    and within 1e-6 of its loss."""
    short = thermometer_run("by_hand", 100, 1e-2, "t_un")
    long = thermometer_run("by_hand", 5000, 1e-2, "t_un")
    x = torch.stack([thermometer.t_un, torch.ones_like(thermometer.t_un)], dim=1).double()
    best = torch.linalg.lstsq(x.cpu(), thermometer.t_c.double().cpu().unsqueeze(1)).solution.squeeze(1)
    best_loss = ((x.cpu() @ best - thermometer.t_c.double().cpu()) ** 2).mean().item()
    evidence.record(params_100=short.params.tolist(), loss_100=short.final_loss, params_5000=long.params.tolist(),
                    loss_5000=long.final_loss, least_squares=best.tolist(), least_squares_loss=best_loss)

    assert_close(short.params, torch.tensor([2.7553, -2.5162], device=device), rtol=0, atol=5e-5)
    assert_close(short.final_loss, 22.148710, rtol=1e-6, atol=0)
    assert_close(long.params, torch.tensor(BOOK_LINE, device=device), rtol=0, atol=5e-5)
    assert_close(long.final_loss, 2.927648, rtol=1e-6, atol=0)
    assert_close(long.params.double().cpu(), best, rtol=0, atol=5e-3)
    assert_close(long.final_loss, best_loss, rtol=1e-6, atol=0)


@pytest.mark.claim("ch05.three-routes-reach-the-same-line")
@pytest.mark.parametrize("route, printed_loss", [("by_hand", 2.927648), ("autograd", 2.927647), ("sgd", 2.927648)])
def test_each_route_reaches_the_book_line(thermometer_run, device, evidence, route, printed_loss):
    """p.119/124/129: the hand-written gradient, autograd and optim.SGD each reach [5.3671, -17.3012]
    after 5000 epochs; the book printed the final loss 2.927648 (autograd's run: 2.927647)."""
    run = thermometer_run(route, 5000, 1e-2, "t_un")
    evidence.record(params=run.params.tolist(), final_loss=run.final_loss)
    assert_close(run.params, torch.tensor(BOOK_LINE, device=device), rtol=0, atol=5e-5)
    assert_close(run.final_loss, printed_loss, rtol=1e-6, atol=0)


@pytest.mark.claim("ch05.three-routes-reach-the-same-line")
def test_routes_agree_epoch_by_epoch(thermometer_run, device):
    """p.124/129: the three routes compute the same descent: their loss curves agree at every epoch
    (float32: the gradients are summed in different orders, so to about 1e-5 relative)."""
    curves = [torch.tensor(thermometer_run(r, 5000, 1e-2, "t_un").losses) for r in ("by_hand", "autograd", "sgd")]
    assert_close(curves[1], curves[0], rtol=1e-5, atol=0)
    assert_close(curves[2], curves[1], rtol=1e-5, atol=0)


@pytest.mark.claim("ch05.per-parameter-learning-rates-also-cope-with-scale")
def test_separate_learning_rates_for_w_and_b_beat_one_shared_rate(thermometer, thermometer_run, device, evidence):
    """p.119: on the raw t_u, 100 epochs of SGD with param groups (w: 1e-4, b: 1e-2) reach loss 18.9
    (measured) where the shared lr=1e-4 stops at 29.02, because b, whose gradient is 55x smaller, can
    now move (-3.8 instead of -0.04). It works, at the price of one tuned rate per parameter."""
    w = torch.ones((), device=device, requires_grad=True)
    b = torch.zeros((), device=device, requires_grad=True)
    optimizer = torch.optim.SGD([{"params": [w], "lr": 1e-4}, {"params": [b], "lr": 1e-2}])
    for _ in range(100):
        loss = loss_fn(model(thermometer.t_u, w, b), thermometer.t_c)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    shared = thermometer_run("by_hand", 100, 1e-4, "t_u")
    evidence.record(per_parameter_w_b_loss=[w.item(), b.item(), loss.item()],
                    shared_lr_1e_4_w_b_loss=shared.params.tolist() + [shared.final_loss])

    assert loss.item() < 0.75 * shared.final_loss, f"per-parameter {loss.item():.3f} vs shared {shared.final_loss:.3f}"
    assert abs(b.item()) > 50 * abs(shared.params[1].item()), \
        f"b should move 50x further: {b.item():.3f} vs {shared.params[1]:.4f}"
