"""Faults that reach the claims of chapter 5 (the shared ones are in ``torch_core``).

Each planted fault breaks one behaviour of PyTorch, or of the book's chapter-5 code as
``claims.book.thermometer`` rebuilds it, and works on every torch from 1.4 on. Each skeptic's fault (at the
end) keeps both right and changes a setting of an experiment, as a doubting reader would, so that the
claim's statement would be false there; the claim's tests must go red under it.
"""

from __future__ import annotations

import importlib
from typing import Iterator

import pytest
import torch
import torch.nn.functional as F

from claims.book import thermometer
from claims.faults import fault, replace, replace_code, skeptic

# -- the book's code (claims.book.thermometer) --------------------------------------------------------


def _summed_loss_fn(t_p, t_c):
    squared_diffs = (t_p - t_c) ** 2
    return squared_diffs.sum()


def _grad_fn_without_the_2(t_u, t_c, t_p, w, b):
    dloss_dtp = (t_p - t_c) / t_p.size(0)
    return torch.stack([(dloss_dtp * t_u).sum(), (dloss_dtp * 1.0).sum()])


@fault("book-loss-fn-sums-the-squares")
def book_loss_fn_sums_the_squares():
    """The book's loss_fn returns the sum of the squared differences instead of their mean."""
    yield from replace_code(thermometer.loss_fn, _summed_loss_fn)  # tests import it by name


@fault("book-grad-fn-drops-the-factor-2")
def book_grad_fn_drops_the_factor_2():
    """The book's hand-written grad_fn forgets the 2 of d(x**2)/dx: it returns half the gradient."""
    yield from replace_code(thermometer.grad_fn, _grad_fn_without_the_2)


def _split_by_count(n_samples, generator=None, device=None):
    n_val = int(0.2 * n_samples)
    shuffled_indices = torch.randperm(n_samples, generator=generator, device=device)
    return shuffled_indices[: n_samples - n_val], shuffled_indices[n_samples - n_val :]


@fault("book-split-slices-by-count")
def book_split_slices_by_count():
    """The book's split slices [:n - n_val] and [n - n_val:] instead of [:-n_val] and [-n_val:]."""
    yield from replace_code(thermometer.split_indices, _split_by_count)


@fault("thermometer-t-un-is-the-raw-t-u")
def thermometer_t_un_is_the_raw_t_u():
    """The normalized input t_un is the raw t_u (the book's 0.1 * is forgotten)."""
    yield from replace(thermometer.Thermometer, "t_un", property(lambda self: self.t_u))


# -- losses and element-wise operations ---------------------------------------------------------------


@fault("mse-loss-computes-the-absolute-error")
def mse_loss_computes_the_absolute_error():
    """F.mse_loss (and nn.MSELoss) computes the absolute error, F.l1_loss, instead of the squared one."""
    yield from replace(F, "mse_loss", lambda input, target, *args, **kwargs: F.l1_loss(input, target, *args, **kwargs))


@fault("abs-is-smoothed-near-zero")
def abs_is_smoothed_near_zero():
    """Tensor.abs computes sqrt(x**2 + 1e-8), whose gradient shrinks to 0 near 0 as the square's does."""
    yield from replace(torch.Tensor, "abs", lambda self: torch.sqrt(self * self + 1e-8))


@fault("ones-of-empty-shape-is-one-dim")
def ones_of_empty_shape_is_one_dim():
    """torch.ones(()) returns a 1-dimensional tensor of one element instead of a 0-dimensional one."""
    ones = torch.ones

    def one_dim(*size, **kwargs):
        if size in ((), ((),)) and kwargs.get("size", ()) == ():
            kwargs.pop("size", None)
            return ones(1, **kwargs)
        return ones(*size, **kwargs)

    yield from replace(torch, "ones", one_dim)


@fault("tensor-size-reverses-its-dims")
def tensor_size_reverses_its_dims():
    """Tensor.size() returns the sides in reverse order (tensor.shape is left alone)."""
    size = torch.Tensor.size

    def reversed_size(self, *args, **kwargs):
        if args or kwargs:
            return size(self, *args, **kwargs)
        return torch.Size(reversed(size(self)))

    yield from replace(torch.Tensor, "size", reversed_size)


@fault("broadcast-product-drops-size-one-dims")
def broadcast_product_drops_size_one_dims():
    """x * y of two tensors of different shapes squeezes the size-1 sides out of the broadcast result."""
    mul = torch.Tensor.__mul__

    def squeezing(self, other):
        out = mul(self, other)
        if torch.is_tensor(other) and other.shape != self.shape:
            return out.squeeze()
        return out

    yield from replace(torch.Tensor, "__mul__", squeezing)


@fault("in-place-mul-resizes-its-left-operand")
def in_place_mul_resizes_its_left_operand():
    """y.mul_(z) broadcasts y too: where the result does not fit y, y is resized to hold it."""
    mul_ = torch.Tensor.mul_

    def resizing(self, other):
        if torch.is_tensor(other) and torch.broadcast_tensors(self, other)[0].shape != self.shape:
            return self.set_(mul_(self.expand(torch.broadcast_tensors(self, other)[0].shape).clone(), other))
        return mul_(self, other)

    yield from replace(torch.Tensor, "mul_", resizing)


# -- autograd --------------------------------------------------------------------------------------------


def _scaled_gradients(factor: float):
    """Tensor.backward and torch.autograd.grad deliver ``factor`` times the true gradient."""
    backward, grad = torch.Tensor.backward, torch.autograd.grad

    def scaled_backward(self, gradient=None, *args, **kwargs):
        if gradient is None and self.numel() == 1:
            gradient = torch.full_like(self, factor)
        elif gradient is not None:
            gradient = gradient * factor
        return backward(self, gradient, *args, **kwargs)

    def scaled_grad(outputs, inputs, *args, **kwargs):
        return tuple(None if g is None else g * factor for g in grad(outputs, inputs, *args, **kwargs))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch.Tensor, "backward", scaled_backward)
        mp.setattr(torch.autograd, "grad", scaled_grad)
        yield


@fault("autograd-gradient-off-by-1e-3")
def autograd_gradient_off_by_1e_3():
    """backward() and torch.autograd.grad give 1.001 times the gradient."""
    yield from _scaled_gradients(1.001)


@fault("autograd-gradient-points-uphill")
def autograd_gradient_points_uphill():
    """backward() and torch.autograd.grad give the gradient with its sign flipped."""
    yield from _scaled_gradients(-1.0)


@fault("no-grad-does-not-stop-tracking")
def no_grad_does_not_stop_tracking():
    """torch.no_grad() leaves autograd on: results inside it are tracked, and a leaf's in-place update raises."""

    class tracking(torch.no_grad):
        def __enter__(self):
            return None

        def __exit__(self, *exc):
            return False

    yield from replace(torch, "no_grad", tracking)


@fault("in-place-sub-bypasses-autograd")
def in_place_sub_bypasses_autograd() -> Iterator[None]:
    """Tensor.__isub__ (a -= b) runs untracked: a leaf's update goes through and a result's is not recorded."""
    isub = torch.Tensor.__isub__

    def untracked(self: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
        with torch.autograd.no_grad():
            return isub(self, other)

    yield from replace(torch.Tensor, "__isub__", untracked)


@fault("set-grad-enabled-false-keeps-tracking")
def set_grad_enabled_false_keeps_tracking():
    """torch.set_grad_enabled(False), as a call or a context manager, leaves autograd on."""
    set_grad_enabled = torch.set_grad_enabled
    yield from replace(torch, "set_grad_enabled", lambda mode: set_grad_enabled(True))


@fault("detach-copies")
def detach_copies():
    """Tensor.detach() returns a copy of the data instead of a tensor on the same storage."""
    detach = torch.Tensor.detach
    yield from replace(torch.Tensor, "detach", lambda self: detach(self).clone())


@fault("detach-keeps-tracking")
def detach_keeps_tracking():
    """Tensor.detach() of a tensor that requires grad returns a tracked view of it instead of an untracked one."""
    detach = torch.Tensor.detach
    yield from replace(torch.Tensor, "detach", lambda self: self.view_as(self) if self.requires_grad else detach(self))


# -- optimizers ------------------------------------------------------------------------------------------


def _during_step(optimizer_class, change):
    """Patch ``optimizer_class.step`` so that ``change(optimizer)`` is in force during each step (it returns
    a function that undoes it)."""
    step = optimizer_class.step

    def changed(self, *args, **kwargs):
        undo = change(self)
        try:
            return step(self, *args, **kwargs)
        finally:
            undo()

    yield from replace(optimizer_class, "step", changed)


def _set_in_groups(optimizer, key, values):
    saved = [group[key] for group in optimizer.param_groups]
    for group, value in zip(optimizer.param_groups, values):
        group[key] = value

    def undo():
        for group, value in zip(optimizer.param_groups, saved):
            group[key] = value

    return undo


@fault("sgd-lr-off-by-1-percent")
def sgd_lr_off_by_1_percent():
    """optim.SGD's step uses 1.01 times each group's learning rate."""
    yield from _during_step(
        torch.optim.SGD, lambda opt: _set_in_groups(opt, "lr", [1.01 * group["lr"] for group in opt.param_groups])
    )


@fault("sgd-param-groups-share-the-first-lr")
def sgd_param_groups_share_the_first_lr():
    """optim.SGD steps every parameter group with the first group's learning rate."""
    yield from _during_step(
        torch.optim.SGD, lambda opt: _set_in_groups(opt, "lr", [opt.param_groups[0]["lr"]] * len(opt.param_groups))
    )


@fault("sgd-step-writes-new-storage")
def sgd_step_writes_new_storage():
    """optim.SGD's step gives each parameter a new storage holding the updated values, instead of updating in place."""

    def move(opt):
        for group in opt.param_groups:
            for p in group["params"]:
                p.data = p.data.clone()
        return lambda: None

    yield from _during_step(torch.optim.SGD, move)


@fault("adam-ignores-weight-decay")
def adam_ignores_weight_decay():
    """optim.Adam steps as if weight_decay were 0: no L2 penalty on the weights."""
    yield from _during_step(
        torch.optim.Adam, lambda opt: _set_in_groups(opt, "weight_decay", [0.0] * len(opt.param_groups))
    )


# -- randomness and activations --------------------------------------------------------------------------


@fault("randperm-does-not-shuffle")
def randperm_does_not_shuffle():
    """torch.randperm(n) returns 0..n-1 in order."""
    randperm = torch.randperm
    yield from replace(torch, "randperm", lambda n, *args, **kwargs: randperm(n, *args, **kwargs).sort().values)


@fault("roll-does-not-shift")
def roll_does_not_shift():
    """torch.roll returns a copy of its input, not shifted."""
    yield from replace(torch, "roll", lambda input, shifts, dims=None: input.clone())


@fault("tanh-is-linear")
def tanh_is_linear():
    """torch.tanh (and nn.Tanh) returns its input: a network of such units computes a straight line."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch, "tanh", lambda input, *args, **kwargs: input * 1.0)
        mp.setattr(torch.Tensor, "tanh", lambda self: self * 1.0)
        yield


@fault("dropout-drops-nothing")
def dropout_drops_nothing():
    """F.dropout (and nn.Dropout) in training mode returns its input unchanged: no unit is dropped."""
    yield from replace(F, "dropout", lambda input, p=0.5, training=True, inplace=False: input)


@fault("global-randn-returns-zeros")
def global_randn_returns_zeros():
    """torch.randn without a generator of its own (the global generator's normal draws) returns zeros."""
    randn = torch.randn

    def zeros(*args, **kwargs):
        drawn = randn(*args, **kwargs)
        return drawn if kwargs.get("generator") is not None else torch.zeros_like(drawn)

    yield from replace(torch, "randn", zeros)


@fault("std-returns-the-variance")
def std_returns_the_variance():
    """Tensor.std returns the variance, the square of the standard deviation: x / x.std() normalizes nothing."""
    std = torch.Tensor.std
    yield from replace(torch.Tensor, "std", lambda self, *args, **kwargs: std(self, *args, **kwargs) ** 2)


@fault("tensor-zero-does-nothing")
def tensor_zero_does_nothing():
    """Tensor.zero_() leaves the tensor's values as they are (params.grad.zero_() resets nothing)."""
    yield from replace(torch.Tensor, "zero_", lambda self: self)


# -- skeptic's faults: pages 114-119 --------------------------------------------------------------------------


@skeptic("model-has-one-parameter")
def model_has_one_parameter():
    """The models whose gradients are counted have one parameter: the rate of change costs no more than autograd."""
    yield from replace("tests.ch05.test_p114_analytic_gradient", "PARAMETER_COUNTS", (1,))


@skeptic("large-rate-small-enough-to-converge")
def large_rate_small_enough_to_converge():
    """The "too large" learning rate on the raw t_u is 1e-4 instead of 1e-2: below 2 / 5884, where descent is stable."""
    yield from replace("tests.ch05.test_p118_learning_rate", "LARGE_LR", 1e-4)


@skeptic("small-rate-above-the-stability-limit")
def small_rate_above_the_stability_limit():
    """The "small" learning rate on the raw t_u is 5e-4 instead of 1e-4: above 2 / 5884, the largest curvature."""
    yield from replace("tests.ch05.test_p118_learning_rate", "SMALL_LR", 5e-4)


@skeptic("normalized-input-rate-too-large")
def normalized_input_rate_too_large():
    """The rate tried on t_un is 1e-1 instead of 1e-2: above 2 / 61, t_un's largest curvature, as 1e-2 is on t_u."""
    yield from replace("tests.ch05.test_p119_normalization", "NORMALIZED_LR", 1e-1)


@skeptic("inputs-of-one-scale")
def inputs_of_one_scale():
    """The per-parameter experiments' inputs are of one scale: the many inputs all 1, the thermometer's t_un."""
    settings = importlib.import_module("tests.ch05.test_p119_normalization")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(settings, "DECADES", 0.0)
        mp.setattr(settings, "THERMOMETER_RAW", "t_un")  # w's and b's gradients within 10x: lr=1e-2 serves both
        yield


@skeptic("adam-eps-as-large-as-the-gradients")
def adam_eps_as_large_as_the_gradients():
    """Adam's eps is 1 instead of 1e-8: as large as the gradients, so its step g / (|g| + eps) scales with g."""
    yield from replace("tests.ch05.test_p130_adam_scale", "ADAM_EPS", 1.0)


@skeptic("raw-input-already-normalized")
def raw_input_already_normalized():
    """The "raw" input given to SGD and Adam is t_un: an input whose scale already suits lr=1e-2."""
    yield from replace("tests.ch05.test_p130_adam", "RAW_INPUT", "t_un")


# -- skeptic's faults: page 131, the settings of tests/ch05/test_p131_overfitting.py ---------------------------

P131 = "tests.ch05.test_p131_overfitting"


@skeptic("overfitting-net-has-2-units")
def overfitting_net_has_2_units():
    """The network that should overfit has 2 hidden units, too few to chase the noise of its 16 points."""
    yield from replace(P131, "BASELINE", {"hidden": 2})


@skeptic("more-data-is-the-same-points-repeated")
def more_data_is_the_same_points_repeated():
    """The 64 training samples of "more data" are the 16 points, each 4 times: more samples, no new data."""
    yield from replace(P131, "MORE_DATA", {"n_train": 16, "repeats": 4})


@skeptic("weight-decay-so-strong-it-underfits")
def weight_decay_so_strong_it_underfits():
    """The L2 penalty is Adam's weight_decay 10 instead of 2e-3: the curve is flattened below the line's slope."""
    yield from replace(P131, "REGULARIZATION", {"weight_decay": 10.0})


@skeptic("weight-decay-too-weak-to-stop-the-turn")
def weight_decay_too_weak_to_stop_the_turn():
    """The L2 penalty is Adam's weight_decay 2e-4 instead of 2e-3: the validation loss falls, and still turns up."""
    yield from replace(P131, "REGULARIZATION", {"weight_decay": 2e-4})


@skeptic("input-noise-so-strong-it-underfits")
def input_noise_so_strong_it_underfits():
    """The augmenting noise on the inputs has std 0.6 instead of 0.15, as wide as the inputs' own spread."""
    yield from replace(P131, "NOISE_AUGMENTATION", {"input_noise": 0.6, "noisy_copies": 4})


@skeptic("dropout-so-strong-it-underfits")
def dropout_so_strong_it_underfits():
    """Dropout drops 90% of the hidden units while training instead of 50%."""
    yield from replace(P131, "DROPOUT", {"dropout": 0.9})


@skeptic("smaller-model-so-small-it-underfits")
def smaller_model_so_small_it_underfits():
    """The simpler model keeps 1 hidden unit instead of 4: after 150 epochs it fits the line's points worse than the
    noise at most seeds (training loss 0.078-0.170 over data seeds 0-49, below the noise variance 0.09 at 4)."""
    yield from replace(P131, "SMALLER_MODEL", {"hidden": 1})


@skeptic("scaled-down-only-to-4-units")
def scaled_down_only_to_4_units():
    """Step 2 of sizing keeps 4 hidden units instead of 2: its validation loss still turns up at 22 of data seeds
    0-49 (at the step's seed 28 it ends 7.0% above its minimum)."""
    yield from replace(P131, "SCALED_DOWN", {"hidden": 4})


@skeptic("scaled-down-so-far-it-underfits")
def scaled_down_so_far_it_underfits():
    """Step 2 of sizing keeps 1 hidden unit instead of 2: fewer networks turn up, and after 150 epochs it fits the
    line's points worse than the noise at most seeds (46 of data seeds 0-49; at the step's seed 28 0.130 for 0.09)."""
    yield from replace(P131, "SCALED_DOWN", {"hidden": 1})


@skeptic("curve-is-a-line-one-unit-fits")
def curve_is_a_line_one_unit_fits():
    """Step 1's data are the straight line's instead of sin(pi x): a relation one tanh unit already fits."""
    yield from replace(P131, "CURVE", "line")


@skeptic("translations-change-the-label")
def translations_change_the_label():
    """The label is the half of the signal its bump sits in: a task where translating a signal changes its label."""
    yield from replace("tests.ch05.test_p131_translations", "TASK", "where")
