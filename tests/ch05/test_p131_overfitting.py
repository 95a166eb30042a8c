"""Chapter 5, page 131: overfitting shows as training and validation loss diverging; ways to prevent it.

The experiment is in ``tests/ch05/overfitting.py`` (read its docstring: 24 networks 1-32-1 (tanh) per
setting, each on its own 16 noisy points of a straight line with 128 validation points, 150 epochs of
full-batch Adam, trained as one batch for speed; the last test here checks one of them against the book's
plain loop). Each statistic is over the 24 networks of one data seed: a mean, or a paired ratio of means
(remedy / baseline: same points, same initialization). The suite runs data seed 0; every margin was set
from data seeds 0-49 on the CPU (``python -m pytest tests/ch05 -m sweep`` measures them again), and the
range measured there is written beside it.
"""

import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from claims.compat import assert_close
from claims.experiments.overfitting import book_loop, page_131_runs

LINE_NOISE_VARIANCE = 0.3**2  # y = x + 0.3 * noise: a model that fits the line gets down to this
CURVE_NOISE_VARIANCE = 0.1**2  # y = sin(pi x) + 0.1 * noise

# margins, each with the range that data seeds 0-49 gave
TURNS_UP = 1.03  # validation loss at the end / its minimum: 1.075-1.338
KEEPS_FALLING = 0.95  # training loss at the end / at the validation minimum: 0.577-0.872
SHARE_TURNED = 0.7  # share of the networks whose own validation loss ends 2% above its minimum: 0.83-1.00
MORE_DATA_VAL = 0.9  # validation loss, 64 points / 16: 0.590-0.783
MORE_DATA_GAP = 0.5  # gap, 64 points / 16: 0.123-0.340
REGULARIZED_VARIATION = 0.95  # total variation of the fitted curve, weight decay / none: 0.745-0.904
REGULARIZED_GAP = 0.8  # gap, weight decay / none: 0.388-0.696
NOISE_GAP = 0.95  # gap, noisy inputs / clean: 0.393-0.870
SMALLER_TRAIN = (1.05, 1.5)  # training loss, 4 units / 32 ("a bit worse"): 1.114-1.305
SMALLER_VAL = 1.0  # validation loss, 4 units / 32 ("less error on new data"): 0.760-0.960
SMALLER_GAP = 0.9  # gap, 4 units / 32: 0.514-0.817
DROPOUT_GAP = 0.8  # gap, dropout / none: 0.346-0.619
ONE_UNIT_TRAIN = 3 * CURVE_NOISE_VARIANCE  # one unit's training loss on the curve stays above: 0.060-0.204


@pytest.fixture
def runs(device, session_cache):
    """Every page-131 setting on the test's device, trained once per session (and once per planted fault)."""
    return session_cache(("page-131", str(device)), lambda: page_131_runs(device, seed=0))


@pytest.mark.claim("ch05.overfitting-shows-as-validation-loss-turning-up")
def test_validation_loss_turns_up_while_training_loss_keeps_falling(runs, evidence):
    """p.131: a network with far more capacity than its 16 points keeps lowering its training loss while
    its validation loss reaches a minimum early and turns up: the two diverge as it overfits."""
    base = runs["baseline"]
    val, train_loss = base.val.mean(dim=1), base.train.mean(dim=1)  # every 10 epochs, mean of the networks
    best = int(val.argmin())
    turned = (base.val[-1] > 1.02 * base.val.min(dim=0).values).float().mean().item()
    evidence.record(val_curve=val, train_curve=train_loss, val_min_at_epoch=10 * (best + 1), share_turned=turned)

    assert best < len(val) - 1, f"validation loss should bottom out before the end: {val.tolist()}"
    assert val[-1] > TURNS_UP * val[best], f"validation should end above its minimum: {val.tolist()}"
    assert train_loss[-1] < KEEPS_FALLING * train_loss[best], f"training should keep falling: {train_loss.tolist()}"
    assert turned >= SHARE_TURNED, f"only {turned:.0%} of the networks turned up"


@pytest.mark.claim("ch05.more-data-generalizes-better")
def test_more_data_lowers_the_error_on_new_data(runs, evidence):
    """p.131: the same networks trained on 64 points (the 16 plus 48 more) instead of 16 generalize
    better: a lower validation loss, and a narrower gap between validation and training loss."""
    base, more = runs["baseline"], runs["more_data"]
    val_ratio, gap_ratio = more.final_val / base.final_val, more.mean_gap / base.mean_gap
    evidence.record(val_16=base.final_val, val_64=more.final_val, val_ratio=val_ratio, gap_ratio=gap_ratio)

    assert val_ratio < MORE_DATA_VAL, f"validation loss 64 / 16 points: {val_ratio:.2f}, expected < {MORE_DATA_VAL}"
    assert gap_ratio < MORE_DATA_GAP, f"gap 64 / 16 points: {gap_ratio:.2f}, expected < {MORE_DATA_GAP}"


@pytest.mark.claim("ch05.regularization-penalizes-prediction-differences")
def test_weight_decay_acts_where_predictions_equal_the_ground_truth(device, evidence):
    """p.131: the notes say regularization penalizes big differences between prediction and ground truth.
    That is the loss itself; a regularizer (the book's p.134 'penalization terms', L2 on p.219) penalizes
    the model. Where a network predicts its targets exactly there is no difference to penalize: the loss and
    its gradient are 0 and an Adam step leaves every weight where it is; with weight_decay the same step
    still pulls every weight towards 0 (by lr, Adam's first step)."""
    net = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1)).to(device)
    x = torch.linspace(-1, 1, 16, device=device).unsqueeze(1)
    with torch.no_grad():
        y = net(x)  # the ground truth is what the network predicts: every difference is 0
    steps = {}
    for weight_decay in (0.0, 1e-2):
        trained = copy.deepcopy(net)
        optimizer = torch.optim.Adam(trained.parameters(), lr=1e-2, weight_decay=weight_decay)
        loss = F.mse_loss(trained(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        steps[weight_decay] = [(p - q).detach() for p, q in zip(trained.parameters(), net.parameters())]
    largest = {wd: max(step.abs().max().item() for step in s) for wd, s in steps.items()}
    towards_zero = all(bool((step * q.detach() < 0).all()) for step, q in zip(steps[1e-2], net.parameters()))
    evidence.record(loss=loss.item(), largest_step=largest, weight_decay_steps_every_weight_towards_0=towards_zero)

    assert loss.item() == 0.0, f"the predictions should equal the targets exactly: loss {loss.item()}"
    assert largest[0.0] == 0.0, f"without a regularizer nothing should move: largest step {largest[0.0]}"
    assert towards_zero, f"weight decay should pull every weight towards 0: steps {steps[1e-2]}"
    assert_close(largest[1e-2], 1e-2, rtol=1e-3, atol=0)  # Adam's first step: lr, whatever the gradient's size


@pytest.mark.claim("ch05.regularization-keeps-the-model-regular-between-points")
def test_weight_decay_smooths_the_fit_between_the_points(runs, evidence):
    """p.131: with a penalty on the squared weights (Adam's weight_decay 2e-3, the loss plus 1e-3 * the
    sum of squared weights) the fitted curve is more regular in between the training points (it rises and
    falls less over [-1, 1]; the true line's total variation is 2) and the gap narrows."""
    base, regular = runs["baseline"], runs["regularization"]
    variation_ratio = regular.mean_total_variation / base.mean_total_variation
    gap_ratio = regular.mean_gap / base.mean_gap
    evidence.record(
        total_variation=[base.mean_total_variation, regular.mean_total_variation],
        variation_ratio=variation_ratio,
        gap_ratio=gap_ratio,
        val_ratio=regular.final_val / base.final_val,
    )  # 50 seeds: 0.704-0.902

    assert variation_ratio < REGULARIZED_VARIATION, f"total variation ratio {variation_ratio:.2f}"
    assert gap_ratio < REGULARIZED_GAP, f"gap ratio {gap_ratio:.2f}, expected < {REGULARIZED_GAP}"


@pytest.mark.claim("ch05.noise-augmentation-reduces-overfitting")
def test_noisy_inputs_narrow_the_gap(runs, evidence):
    """p.131: augmenting the training data with fresh noise (std 0.2) on the inputs every epoch narrows
    the gap between validation and training loss. (The validation loss itself falls on average, but not
    for every data seed: 0.81-1.09 of the baseline's over seeds 0-49, mean 0.85; input noise also flattens
    the fitted slope. The suite asserts the gap, the notes' sign of overfitting.)"""
    base, noisy = runs["baseline"], runs["noise_augmentation"]
    gap_ratio = noisy.mean_gap / base.mean_gap
    evidence.record(gap_ratio=gap_ratio, val_ratio=noisy.final_val / base.final_val)

    assert gap_ratio < NOISE_GAP, f"gap with noisy inputs / clean: {gap_ratio:.2f}, expected < {NOISE_GAP}"


@pytest.mark.claim("ch05.smaller-model-fits-worse-and-errs-less-on-new-data")
def test_fewer_units_fit_a_bit_worse_and_predict_new_data_better(runs, evidence):
    """p.131: a simpler model, 4 hidden units instead of 32 (the same first 4), fits the training data a
    bit worse (training loss up by less than half) and makes less error on new data (lower validation loss)."""
    base, small = runs["baseline"], runs["smaller_model"]
    train_ratio, val_ratio = small.final_train / base.final_train, small.final_val / base.final_val
    evidence.record(train_ratio=train_ratio, val_ratio=val_ratio, gap_ratio=small.mean_gap / base.mean_gap)

    low, high = SMALLER_TRAIN
    assert low < train_ratio < high, f"training loss 4 / 32 units: {train_ratio:.2f}, expected a bit worse"
    assert val_ratio < SMALLER_VAL, f"validation loss 4 / 32 units: {val_ratio:.2f}, expected < {SMALLER_VAL}"


@pytest.mark.claim("ch05.dropout-reduces-overfitting")
def test_dropout_narrows_the_gap(runs, evidence):
    """p.131: dropout (p=0.5 on the hidden units while training) narrows the gap between validation and
    training loss. (The validation loss falls too: 0.75-0.94 of the baseline's over seeds 0-49.)"""
    base, dropped = runs["baseline"], runs["dropout"]
    gap_ratio = dropped.mean_gap / base.mean_gap
    evidence.record(gap_ratio=gap_ratio, val_ratio=dropped.final_val / base.final_val)

    assert gap_ratio < DROPOUT_GAP, f"gap with dropout / without: {gap_ratio:.2f}, expected < {DROPOUT_GAP}"


@pytest.mark.claim("ch05.bigger-until-it-fits-then-scale-down")
def test_step_1_grow_the_model_until_it_fits(runs, evidence):
    """p.131, step 1: one tanh unit (monotonic) cannot fit 16 points of sin(pi x) + 0.1 noise even on
    its training data, 32 units fit them below the noise variance 0.01; the small one is worse in every
    paired network."""
    small, large = runs["curve_1_unit"].train[-1], runs["curve_32_units"].train[-1]
    evidence.record(train_loss_1_unit=small.mean().item(), train_loss_32_units=large.mean().item())

    assert torch.all(small > large), f"one unit fit better in {(small <= large).sum().item()} networks"
    assert small.mean() > ONE_UNIT_TRAIN, f"one unit should stay well above the noise: {small.mean():.4f}"
    assert large.mean() < CURVE_NOISE_VARIANCE, f"32 units should fit below the noise: {large.mean():.4f}"


@pytest.mark.claim("ch05.bigger-until-it-fits-then-scale-down")
def test_step_2_scale_it_down_until_it_stops_overfitting(runs, evidence):
    """p.131, step 2: on the straight line's 16 points the 32-unit network fits below the noise variance
    0.09 and overfits; scaled down to 4 units it still fits below the noise and overfits less (narrower gap)."""
    base, small = runs["baseline"], runs["smaller_model"]
    gap_ratio = small.mean_gap / base.mean_gap
    evidence.record(train_loss_32_units=base.final_train, train_loss_4_units=small.final_train, gap_ratio=gap_ratio)

    assert base.final_train < LINE_NOISE_VARIANCE, f"32 units should fit: training loss {base.final_train:.3f}"
    assert small.final_train < LINE_NOISE_VARIANCE, f"4 units should still fit: training loss {small.final_train:.3f}"
    assert gap_ratio < SMALLER_GAP, f"gap 4 / 32 units: {gap_ratio:.2f}, expected < {SMALLER_GAP}"


@pytest.mark.devices("cpu", reason="a check of the experiment, made once: the book's loop on the CPU")
def test_batched_networks_train_as_the_book_loop(runs):
    """Not a claim: a check of the experiment. Network 0 of the batch, trained by the book's plain loop
    (nn.Sequential, nn.MSELoss, optimizer.zero_grad / backward / step; ``book_loop``), has the same
    training and validation losses every 10 epochs as in the batched run (float32: the batched sums round
    differently: measured within 3e-7 relative over 150 epochs, networks 0-2, on the CPU)."""
    batched = runs["baseline"]
    plain = torch.tensor(book_loop(net=0, seed=0))
    assert_close(plain[:, 0], batched.train[:, 0], rtol=2e-6, atol=0)
    assert_close(plain[:, 1], batched.val[:, 0], rtol=2e-6, atol=0)
