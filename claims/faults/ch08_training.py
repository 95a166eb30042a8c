"""Faults that reach the claims of chapter 8, pages 218-230 (the shared ones are in ``torch_core``).

Each breaks one behaviour of PyTorch or of the book's code as ``claims.book`` rebuilds it (models, the
training loop's L2 penalty, the regularization solvers, the deep stacks). Patches of ``claims.book`` go
through the names the code looks up when it runs (a module's function, a class's method), so they reach
tests that imported the function or class before the fault was planted.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from claims.book import models, training
from claims.experiments import depth, regularization
from claims.faults import fault

# Models: page 218 (NetWidth), page 227 (ResBlock, NetResDeep) ------------------------------------


@fault("conv2d-drops-its-bias")
def conv2d_drops_its_bias():
    """nn.Conv2d is built without a bias whatever its bias argument says (bias=True is the default)."""
    init = nn.Conv2d.__init__

    def biasless(self, *args, **kwargs):
        kwargs["bias"] = False
        init(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(nn.Conv2d, "__init__", biasless)
        yield


@fault("netresdeep-builds-distinct-blocks")
def netresdeep_builds_distinct_blocks():
    """The book's NetResDeep builds n_blocks distinct ResBlocks instead of repeating one block object."""
    init = models.NetResDeep.__init__

    def distinct(self, n_chans1=32, n_blocks=10):
        init(self, n_chans1, n_blocks)
        self.resblocks = nn.Sequential(*[models.ResBlock(n_chans=n_chans1) for _ in range(n_blocks)])

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(models.NetResDeep, "__init__", distinct)
        yield


@fault("resblock-drops-its-skip")
def resblock_drops_its_skip():
    """The book's ResBlock returns relu(batch_norm(conv(x))) without adding its input x."""

    def no_skip(self, x):
        return torch.relu(self.batch_norm(self.conv(x)))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(models.ResBlock, "forward", no_skip)
        yield


@fault("resblock-keeps-pytorch-default-init")
def resblock_keeps_pytorch_default_init():
    """The book's ResBlock skips its own initialization: default (uniform) conv weight, BatchNorm weight 1."""

    def default_init(self, n_chans, skip=True):
        nn.Module.__init__(self)
        self.skip = skip
        self.conv = nn.Conv2d(n_chans, n_chans, kernel_size=3, padding=1, bias=False)
        self.batch_norm = nn.BatchNorm2d(num_features=n_chans)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(models.ResBlock, "__init__", default_init)
        yield


@fault("kaiming-normal-ignores-the-relu-gain")
def kaiming_normal_ignores_the_relu_gain():
    """nn.init.kaiming_normal_ uses gain 1 (std 1 / sqrt(fan_in)) instead of ReLU's sqrt(2)."""
    kaiming_normal_ = nn.init.kaiming_normal_

    def gain_one(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", *args, **kwargs):
        return kaiming_normal_(tensor, a, mode, "linear", *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(nn.init, "kaiming_normal_", gain_one)
        yield


# Page 219: the L2 penalty of the book's loop, SGD's weight decay, the regularization solvers ---------


@fault("book-l2-penalty-sums-absolute-values")
def book_l2_penalty_sums_absolute_values():
    """The book's training-loop penalty sums p.abs() (an L1 penalty) instead of p.pow(2)."""

    def l1(model):
        return sum(p.abs().sum() for p in model.parameters())

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(training, "l2_penalty", l1)
        yield


@fault("sgd-weight-decay-applied-twice")
def sgd_weight_decay_applied_twice():
    """optim.SGD decays the weights twice per step: weight_decay=wd acts as 2 * wd."""
    init = torch.optim.SGD.__init__

    def doubled(self, params, *args, **kwargs):
        if "weight_decay" in kwargs:
            kwargs["weight_decay"] = 2 * kwargs["weight_decay"]
        init(self, params, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch.optim.SGD, "__init__", doubled)
        yield


@fault("lasso-proximal-step-skipped")
def lasso_proximal_step_skipped():
    """The L1 solvers skip the soft-threshold step: no weight is ever set to exactly zero."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(regularization, "soft_threshold", lambda v, t: v)
        yield


@fault("ridge-shrink-step-skipped")
def ridge_shrink_step_skipped():
    """Proximal gradient skips the L2 penalty's shrink step, 1 / (1 + 2 t l2): it ignores the L2 part."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(regularization, "ridge_shrink", lambda v, t, l2: v)
        yield


@fault("lasso-penalty-acts-as-ridge")
def lasso_penalty_acts_as_ridge():
    """The L1 solvers penalise l1 * sum(w^2) instead of l1 * sum(|w|): they solve ridge."""
    proximal, descent, ridge = (
        regularization.proximal_gradient,
        regularization.coordinate_descent,
        regularization.ridge,
    )

    def as_ridge(solver):
        def solve(X, y, w0, l1=0.0, l2=0.0, **kwargs):
            return solver(X, y, w0, l1=0.0, l2=l2 + l1, **kwargs)

        return solve

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(regularization, "proximal_gradient", as_ridge(proximal))
        mp.setattr(regularization, "coordinate_descent", as_ridge(descent))
        mp.setattr(regularization, "lasso_exact", lambda X, y, l1: ridge(X, y, l1))
        yield


# Pages 221-223: dropout, batch normalization, train() and eval() ------------------------------------


@fault("dropout2d-drops-elements")
def dropout2d_drops_elements():
    """F.dropout2d (and nn.Dropout2d) zeros single elements, as Dropout does, instead of whole channels."""
    dropout = F.dropout
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(
            F, "dropout2d", lambda input, p=0.5, training=True, inplace=False: dropout(input, p, training, inplace)
        )
        yield


@fault("dropout-ignores-eval-mode")
def dropout_ignores_eval_mode():
    """F.dropout and F.dropout2d (and their modules) drop in eval mode too, as if training were True."""
    with pytest.MonkeyPatch.context() as mp:
        for name in ("dropout", "dropout2d"):
            original = getattr(F, name)
            mp.setattr(
                F,
                name,
                lambda input, p=0.5, training=True, inplace=False, _original=original: _original(
                    input, p, True, inplace
                ),
            )
        yield


@fault("batchnorm-normalizes-with-unbiased-variance")
def batchnorm_normalizes_with_unbiased_variance():
    """BatchNorm in train mode divides by the unbiased batch variance (n - 1) instead of the biased one (n)."""
    batch_norm = F.batch_norm

    def unbiased(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
        out = batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
        if not training:
            return out  # the call above also updated the running statistics, as it should
        dims, shape = (0,) + tuple(range(2, input.dim())), (1, -1) + (1,) * (input.dim() - 2)
        mean, var = input.mean(dims, keepdim=True), input.var(dims, unbiased=True, keepdim=True)
        out = (input - mean) / torch.sqrt(var + eps)
        if weight is not None:
            out = out * weight.view(shape)
        return out + bias.view(shape) if bias is not None else out

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(F, "batch_norm", unbiased)
        yield


@fault("module-train-does-not-recurse")
def module_train_does_not_recurse():
    """nn.Module.train() and eval() set the training flag of the module itself only, not its children."""

    def train(self, mode=True):
        self.training = mode
        return self

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(nn.Module, "train", train)
        yield


# Pages 224-230: the deep stacks, softmax -------------------------------------------------------------


@fault("tanh-block-skip-inverted")
def tanh_block_skip_inverted():
    """The deep stacks' conv + tanh block adds its input when built without a skip, and not when built with."""

    def inverted(self, x):
        out = torch.tanh(self.conv(x))
        return out if self.skip else out + x

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(depth.TanhBlock, "forward", inverted)
        yield


@fault("softmax-tempered-by-10")
def softmax_tempered_by_10():
    """torch.softmax and F.softmax compute softmax(x / 10): the same ranking, probabilities pulled to uniform."""
    with pytest.MonkeyPatch.context() as mp:
        for owner in (torch, F):
            original = owner.softmax
            mp.setattr(
                owner,
                "softmax",
                lambda input, dim=None, *args, _original=original, **kwargs: _original(
                    input / 10, dim, *args, **kwargs
                ),
            )
        yield
