"""Faults that reach the claims of chapter 8, pages 218-230 (the shared ones are in ``torch_core``).

The planted faults break one behaviour of PyTorch or of the book's code as ``claims.book`` rebuilds it
(models, the training loop's L2 penalty, validate(), the regularization solvers, the deep stacks). Patches of
``claims.book`` go through the names the code looks up when it runs (a module's function, a class's method),
so they reach tests that imported the function or class before the fault was planted.

The skeptic's faults keep PyTorch and the book's code right and change an experiment's setting, a constant or
a small function of its test module that the test reads when it runs.
"""

from __future__ import annotations

import importlib

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from claims.book import models, training
from claims.experiments import depth, regularization
from claims.faults import fault, replace, replace_code, skeptic

# Models: page 218 (NetWidth), page 227 (ResBlock, NetResDeep) ------------------------------------

CONV2D_INIT = nn.Conv2d.__init__


def _biasless_conv2d(self, *args, **kwargs):
    kwargs["bias"] = False
    CONV2D_INIT(self, *args, **kwargs)


@fault("conv2d-drops-its-bias")
def conv2d_drops_its_bias():
    """nn.Conv2d is built without a bias whatever its bias argument says (bias=True is the default)."""
    yield from replace(nn.Conv2d, "__init__", _biasless_conv2d)


NETRESDEEP_INIT = models.NetResDeep.__init__


def _netresdeep_with_distinct_blocks(self, n_chans1=32, n_blocks=10):
    NETRESDEEP_INIT(self, n_chans1, n_blocks)
    self.resblocks = nn.Sequential(*[models.ResBlock(n_chans=n_chans1) for _ in range(n_blocks)])


@fault("netresdeep-builds-distinct-blocks")
def netresdeep_builds_distinct_blocks():
    """The book's NetResDeep builds n_blocks distinct ResBlocks instead of repeating one block object."""
    yield from replace(models.NetResDeep, "__init__", _netresdeep_with_distinct_blocks)


@fault("resblock-drops-its-skip")
def resblock_drops_its_skip():
    """The book's ResBlock returns relu(batch_norm(conv(x))) without adding its input x."""
    yield from replace(models.ResBlock, "forward", lambda self, x: torch.relu(self.batch_norm(self.conv(x))))


def _resblock_with_default_init(self, n_chans, skip=True):
    nn.Module.__init__(self)
    self.skip = skip
    self.conv = nn.Conv2d(n_chans, n_chans, kernel_size=3, padding=1, bias=False)
    self.batch_norm = nn.BatchNorm2d(num_features=n_chans)


@fault("resblock-keeps-pytorch-default-init")
def resblock_keeps_pytorch_default_init():
    """The book's ResBlock skips its own initialization: default (uniform) conv weight, BatchNorm weight 1."""
    yield from replace(models.ResBlock, "__init__", _resblock_with_default_init)


KAIMING_NORMAL = nn.init.kaiming_normal_


def _kaiming_normal_with_gain_one(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", *args, **kwargs):
    return KAIMING_NORMAL(tensor, a, mode, "linear", *args, **kwargs)


@fault("kaiming-normal-ignores-the-relu-gain")
def kaiming_normal_ignores_the_relu_gain():
    """nn.init.kaiming_normal_ uses gain 1 (std 1 / sqrt(fan_in)) instead of ReLU's sqrt(2)."""
    yield from replace(nn.init, "kaiming_normal_", _kaiming_normal_with_gain_one)


@fault("init-zeros-leaves-the-tensor-unchanged")
def init_zeros_leaves_the_tensor_unchanged():
    """nn.init.zeros_ returns its tensor as it was: a conv's bias keeps PyTorch's default uniform draw."""
    yield from replace(nn.init, "zeros_", lambda tensor: tensor)


# Page 219: the L2 penalty of the book's loop, SGD's weight decay, the regularization solvers ---------


@fault("book-l2-penalty-sums-absolute-values")
def book_l2_penalty_sums_absolute_values():
    """The book's training-loop penalty sums p.abs() (an L1 penalty) instead of p.pow(2)."""
    yield from replace(training, "l2_penalty", lambda model: sum(p.abs().sum() for p in model.parameters()))


SGD_INIT = torch.optim.SGD.__init__


def _sgd_with_doubled_weight_decay(self, params, *args, **kwargs):
    if "weight_decay" in kwargs:
        kwargs["weight_decay"] = 2 * kwargs["weight_decay"]
    SGD_INIT(self, params, *args, **kwargs)


@fault("sgd-weight-decay-applied-twice")
def sgd_weight_decay_applied_twice():
    """optim.SGD decays the weights twice per step: weight_decay=wd acts as 2 * wd."""
    yield from replace(torch.optim.SGD, "__init__", _sgd_with_doubled_weight_decay)


@fault("lasso-proximal-step-skipped")
def lasso_proximal_step_skipped():
    """The L1 solvers skip the soft-threshold step: no weight is ever set to exactly zero."""
    yield from replace(regularization, "soft_threshold", lambda v, t: v)


@fault("ridge-shrink-step-skipped")
def ridge_shrink_step_skipped():
    """Proximal gradient skips the L2 penalty's shrink step, 1 / (1 + 2 t l2): it ignores the L2 part."""
    yield from replace(regularization, "ridge_shrink", lambda v, t, l2: v)


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


# Pages 221-223: dropout, batch normalization, train() and eval(), the book's validate() --------------

DROPOUT = F.dropout


@fault("dropout2d-drops-elements")
def dropout2d_drops_elements():
    """F.dropout2d (and nn.Dropout2d) zeros single elements, as Dropout does, instead of whole channels."""
    yield from replace(
        F, "dropout2d", lambda input, p=0.5, training=True, inplace=False: DROPOUT(input, p, training, inplace)
    )


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


BATCH_NORM = F.batch_norm


def _batch_norm_with_unbiased_variance(
    input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5
):
    out = BATCH_NORM(input, running_mean, running_var, weight, bias, training, momentum, eps)
    if not training:
        return out  # the call above also updated the running statistics, as it should
    dims, shape = (0,) + tuple(range(2, input.dim())), (1, -1) + (1,) * (input.dim() - 2)
    mean, var = input.mean(dims, keepdim=True), input.var(dims, unbiased=True, keepdim=True)
    out = (input - mean) / torch.sqrt(var + eps)
    if weight is not None:
        out = out * weight.view(shape)
    return out + bias.view(shape) if bias is not None else out


@fault("batchnorm-normalizes-with-unbiased-variance")
def batchnorm_normalizes_with_unbiased_variance():
    """BatchNorm in train mode divides by the unbiased batch variance (n - 1) instead of the biased one (n)."""
    yield from replace(F, "batch_norm", _batch_norm_with_unbiased_variance)


def _batch_norm_without_bias(
    input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5
):
    return BATCH_NORM(input, running_mean, running_var, weight, None, training, momentum, eps)


@fault("batchnorm-drops-its-bias")
def batchnorm_drops_its_bias():
    """BatchNorm (affine=True) leaves out its own bias, beta: it scales by its weight and shifts by nothing."""
    yield from replace(F, "batch_norm", _batch_norm_without_bias)


def _train_only_itself(self, mode=True):
    self.training = mode
    return self


@fault("module-train-does-not-recurse")
def module_train_does_not_recurse():
    """nn.Module.train() and eval() set the training flag of the module itself only, not its children."""
    yield from replace(nn.Module, "train", _train_only_itself)


accuracy = training.accuracy  # the free name of the code below, which runs as training.validate's (its globals)


def _validate_in_eval_mode(model, train_loader, val_loader, device=None):
    model.eval()
    return {name: accuracy(model, loader, device) for name, loader in (("train", train_loader), ("val", val_loader))}


@fault("book-validate-calls-eval")
def book_validate_calls_eval():
    """The book's validate() made right: it calls model.eval() before measuring the accuracies."""
    yield from replace_code(training.validate, _validate_in_eval_mode)  # tests import it by name


# Pages 224-230: the deep stacks, softmax -------------------------------------------------------------


def _tanh_block_with_its_skip_inverted(self, x):
    out = torch.tanh(self.norm(self.conv(x)))
    return out if self.skip else out + x


@fault("tanh-block-skip-inverted")
def tanh_block_skip_inverted():
    """The deep stacks' conv + tanh block adds its input when built without a skip, and not when built with."""
    yield from replace(depth.TanhBlock, "forward", _tanh_block_with_its_skip_inverted)


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


# Skeptic's faults: the experiments changed the way a doubting reader would ---------------------------

P218 = "tests.ch08.test_p218_width"
P219_SPARSITY = "tests.ch08.test_p219_sparsity"
P219_CORRELATED = "tests.ch08.test_p219_correlated_inputs"
P221 = "tests.ch08.test_p221_dropout"
P222 = "tests.ch08.test_p222_batchnorm"
P224 = "tests.ch08.test_p224_vanishing_gradient"
P227 = "tests.ch08.test_p227_resnet_deep"
P228 = "tests.ch08.test_p228_initialization"
P230 = "tests.ch08.test_p230_overgeneralization"


class _NetWidthWithANarrowSecondConv(models.NetWidth):
    """NetWidth whose second conv stays at 16 output channels whatever the first conv's width."""

    def __init__(self, n_chans1: int = 32):
        super().__init__(n_chans1)
        self.conv2 = nn.Conv2d(n_chans1, 16, kernel_size=3, padding=1)
        self.fc1 = nn.Linear(8 * 8 * 16, 32)


@skeptic("width-sweep-widens-the-first-conv-only")
def width_sweep_widens_the_first_conv_only():
    """The width sweep widens only NetWidth's first conv; the second stays at 16 channels (so fc1 stays too)."""
    yield from replace(P218, "widened", _NetWidthWithANarrowSecondConv)


@skeptic("lasso-a-hundred-times-weaker")
def lasso_a_hundred_times_weaker():
    """The sparsity experiment's lasso penalty is l1 = 0.002 instead of 0.2: almost least squares."""
    yield from replace(P219_SPARSITY, "LASSO_L1", 0.002)


@skeptic("ridge-penalty-removed")
def ridge_penalty_removed():
    """The correlated-inputs experiments run L2 with l2 = 0: plain least squares, which never chooses a split."""
    yield from replace(P219_CORRELATED, "L2", 0.0)


@skeptic("duplicate-input-made-a-near-copy")
def duplicate_input_made_a_near_copy():
    """The duplicated input is z plus 1% noise of its own instead of z itself: the two are no longer identical."""
    yield from replace(P219_CORRELATED, "DUPLICATE_NOISE", 0.01)


@skeptic("near-copies-made-independent")
def near_copies_made_independent():
    """The near-copies get noise of std 1 of their own instead of 0.01: two half-independent inputs."""
    yield from replace(P219_CORRELATED, "NEAR_COPY_NOISE", 1.0)


@skeptic("elastic-net-without-its-l2-part")
def elastic_net_without_its_l2_part():
    """The sparse Elastic Net experiment drops the L2 part (l2 = 0): it is the lasso."""
    yield from replace(P219_CORRELATED, "ELASTIC_SPARSE", {"l1": 0.2, "l2": 0.0})


@skeptic("elastic-net-without-its-l1-part")
def elastic_net_without_its_l1_part():
    """The sparse Elastic Net experiment drops the L1 part (l1 = 0): it is ridge."""
    yield from replace(P219_CORRELATED, "ELASTIC_SPARSE", {"l1": 0.0, "l2": 0.1})


@skeptic("elastic-net-on-two-inputs-without-its-l1-part")
def elastic_net_on_two_inputs_without_its_l1_part():
    """The Elastic Net on the identical inputs and on the scaled copy drops the L1 part (l1 = 0): it is ridge."""
    yield from replace(P219_CORRELATED, "ELASTIC", {"l1": 0.0, "l2": 0.05})


@skeptic("dropout-measured-in-eval-mode")
def dropout_measured_in_eval_mode():
    """The dropout experiments put their layers in eval mode, where dropout is off."""
    yield from replace(P221, "TRAINING", False)


@skeptic("batchnorm-measured-in-eval-mode")
def batchnorm_measured_in_eval_mode():
    """The batch normalization experiments put BatchNorm in eval mode, fresh running statistics (0 and 1)."""
    yield from replace(P222, "TRAINING", False)


@skeptic("conv-bias-added-after-the-batchnorm")
def conv_bias_added_after_the_batchnorm():
    """The conv-bias experiments add the bias after the BatchNorm instead of before it."""
    yield from replace(P222, "BIAS_AFTER_BATCHNORM", True)


@skeptic("deep-stack-at-glorot-init")
def deep_stack_at_glorot_init():
    """The 100-layer conv + tanh stack starts at Glorot's variance (xavier_normal_, zero bias), not PyTorch's init."""
    yield from replace(P224, "STACK", {"init": "glorot", "batch_norm": False})


@skeptic("deep-stack-with-batchnorm-between-layers")
def deep_stack_with_batchnorm_between_layers():
    """The 100-layer conv + tanh stack has BatchNorm between each conv and its tanh."""
    yield from replace(P224, "STACK", {"init": "default", "batch_norm": True})


@skeptic("default-init-with-zero-biases")
def default_init_with_zero_biases():
    """The stack measured at Glorot's init starts at PyTorch's default weights with zero biases instead."""
    yield from replace(P224, "NORMALIZED_INIT", {"init": "default-zero-bias", "batch_norm": False})


@skeptic("deep-stack-at-twice-glorot-init")
def deep_stack_at_twice_glorot_init():
    """The 100-layer stack starts at Glorot's init with gain 2: every block's branch twice as strong."""
    yield from replace(P224, "STACK", {"init": "glorot", "gain": 2.0, "batch_norm": False})


@skeptic("netresdeep-gradient-measured-in-eval-mode")
def netresdeep_gradient_measured_in_eval_mode():
    """NetResDeep's gradient is measured in eval mode (fresh running statistics), not in train mode."""
    yield from replace(P227, "TRAINING", False)


@skeptic("relu-stack-four-units-wide")
def relu_stack_four_units_wide():
    """The deep ReLU stack of the init experiment is 4 units wide instead of 256."""
    yield from replace(P228, "WIDTH", 4)


def _bars_and_images_of_neither_class(generator):
    """The training batches with 32 images of each kind of neither class mixed in, labelled -1."""
    test = importlib.import_module(P230)
    imgs, labels = test.bars(128, generator)
    neither = torch.cat(list(test.neither_class(32, torch.Generator().manual_seed(2**20)).values()))
    imgs, labels = torch.cat([imgs, neither]), torch.cat([labels, torch.full((len(neither),), -1, dtype=torch.long)])
    order = torch.randperm(len(imgs), generator=torch.Generator().manual_seed(2**20))
    return list(zip(imgs[order].split(16), labels[order].split(16)))


def _cross_entropy_with_uniform_targets_for_neither(outputs, labels):
    """Cross-entropy for the labelled images, and against (1/2, 1/2) for the images labelled -1."""
    known = labels >= 0
    labelled = F.cross_entropy(outputs[known], labels[known], reduction="sum") if known.any() else 0.0
    uniform = -F.log_softmax(outputs[~known], dim=1).mean(dim=1).sum()
    return (labelled + uniform) / len(labels)


@skeptic("two-class-net-shown-neither-class-as-uniform")
def two_class_net_shown_neither_class_as_uniform():
    """The two-class net also trains on images of neither class with target (1/2, 1/2) (outlier exposure)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(importlib.import_module(P230), "training_batches", _bars_and_images_of_neither_class)
        mp.setattr(importlib.import_module(P230), "loss_fn", _cross_entropy_with_uniform_targets_for_neither)
        yield
