"""Faults that reach the claims of chapter 6 (the shared ones are in ``torch_core``).

Planted faults patch one behaviour of ``torch.nn`` where the book's code reaches it: ``nn.Linear`` calls
``F.linear``, ``nn.ReLU`` calls ``F.relu``, ``nn.Softmax`` calls ``F.softmax``, ``nn.Conv2d`` calls
``F.conv2d``, so patching the function in ``torch.nn.functional`` changes the module too (on torch 1.4
as on the newest).

The skeptic's faults at the end keep PyTorch right and change a setting the chapter's tests read when they
run (a module-level constant of the test module), so that the claim's statement would be false.
"""

from __future__ import annotations

import importlib

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from claims.faults import fault, replace, skeptic


@fault("linear-forgets-the-bias")
def linear_forgets_the_bias():
    """F.linear (and nn.Linear) computes x @ W.T and leaves out the bias."""
    linear = F.linear
    yield from replace(F, "linear", lambda input, weight, bias=None: linear(input, weight))


@fault("tanh-module-is-the-identity")
def tanh_module_is_the_identity():
    """nn.Tanh returns its input unchanged: a network's tanh layer adds no nonlinearity."""
    yield from replace(nn.Tanh, "forward", lambda self, input: input * 1)


@fault("leaky-relu-takes-the-default-slope")
def leaky_relu_takes_the_default_slope():
    """F.leaky_relu (and nn.LeakyReLU) scales negative inputs by the default 0.01, whatever slope it is given."""
    leaky_relu = F.leaky_relu
    yield from replace(
        F, "leaky_relu", lambda input, negative_slope=0.01, inplace=False: leaky_relu(input, 0.01, inplace)
    )


@fault("softmax-skips-the-normalization")
def softmax_skips_the_normalization():
    """F.softmax returns exp(x) and F.log_softmax returns x (and their modules): no division by the sum."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(F, "softmax", lambda input, dim=None, *args, **kwargs: torch.exp(input))
        mp.setattr(F, "log_softmax", lambda input, dim=None, *args, **kwargs: input * 1)
        yield


def _relu_with_backward(backward):
    """F.relu whose forward is ReLU's and whose backward is ``backward(grad_output, input)``."""

    class Relu(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return input.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            return backward(grad_output, input)

    def relu(input, inplace=False):  # in place or not, a new tensor (the tests that use these faults don't care)
        return Relu.apply(input)

    return relu


def _nan_at_zero(grad_output, input):
    grad = grad_output * (input > 0).to(grad_output.dtype)
    return torch.where(input == 0, torch.full_like(grad, float("nan")), grad)


@fault("relu-gradient-is-nan-at-zero")
def relu_gradient_is_nan_at_zero():
    """F.relu (and nn.ReLU) has no gradient at its kink: backward gives NaN where the input is exactly 0."""
    yield from replace(F, "relu", _relu_with_backward(_nan_at_zero))


@fault("relu-passes-no-gradient")
def relu_passes_no_gradient():
    """F.relu (and nn.ReLU) is treated as not differentiable: its backward passes a zero gradient."""
    yield from replace(F, "relu", _relu_with_backward(lambda grad_output, input: torch.zeros_like(grad_output)))


@fault("relu-leaks-negative-inputs")
def relu_leaks_negative_inputs():
    """F.relu (and nn.ReLU) lets negative inputs through scaled by 0.01 (a leaky ReLU)."""
    yield from replace(F, "relu", lambda input, inplace=False: F.leaky_relu(input, 0.01, inplace))


class _StraightThroughSign(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        return input.sign()

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


@fault("sign-passes-its-gradient-straight-through")
def sign_passes_its_gradient_straight_through():
    """torch.sign's backward passes the incoming gradient on unchanged (a straight-through estimator), not 0."""
    yield from replace(torch, "sign", _StraightThroughSign.apply)


@fault("module-setattr-skips-registration")
def module_setattr_skips_registration():
    """nn.Module stores a Parameter or submodule assigned as an attribute without registering it."""
    setattr_ = nn.Module.__setattr__

    def unregistered(self, name, value):
        if isinstance(value, (nn.Parameter, nn.Module)):
            object.__setattr__(self, name, value)
        else:
            setattr_(self, name, value)

    yield from replace(nn.Module, "__setattr__", unregistered)


@fault("module-call-skips-hooks")
def module_call_skips_hooks():
    """Calling a module (model(x)) runs forward directly, without the forward pre-hooks and hooks."""
    yield from replace(nn.Module, "__call__", lambda self, *args, **kwargs: self.forward(*args, **kwargs))


def _conv2d_takes_unbatched_input() -> bool:
    """Whether this torch's F.conv2d accepts a [C, H, W] input (1.11 on)."""
    try:
        F.conv2d(torch.zeros(1, 3, 3), torch.zeros(1, 1, 1, 1))
    except RuntimeError:
        return False
    return True


@fault("conv2d-flips-unbatched-support")
def conv2d_flips_unbatched_support():
    """F.conv2d (and nn.Conv2d) flips the 1.11 change: refuses [C, H, W] input where torch takes it, and the reverse."""
    conv2d = F.conv2d
    takes_unbatched = _conv2d_takes_unbatched_input()

    def flipped(input, weight, *args, **kwargs):
        if input.dim() != 3:
            return conv2d(input, weight, *args, **kwargs)
        if takes_unbatched:
            raise RuntimeError(
                f"Expected 4-dimensional input for 4-dimensional weight {list(weight.shape)}, "
                f"but got 3-dimensional input of size {list(input.shape)} instead"
            )
        return conv2d(input.unsqueeze(0), weight, *args, **kwargs)[0]

    yield from replace(F, "conv2d", flipped)


@fault("linear-reads-a-1d-input-as-a-batch")
def linear_reads_a_1d_input_as_a_batch():
    """F.linear (and nn.Linear) with one input feature takes a 1-D input of n values as n samples, [n] as [n, 1]."""
    linear = F.linear

    def lenient(input, weight, bias=None):
        if input.dim() == 1 and weight.shape[1] == 1 and input.shape[0] != 1:
            input = input.unsqueeze(1)
        return linear(input, weight, bias)

    yield from replace(F, "linear", lenient)


@fault("linear-refuses-a-single-sample")
def linear_refuses_a_single_sample():
    """F.linear (and nn.Linear) refuses a 1-D input [in_features]: only a batch [n, in_features] is taken."""
    linear = F.linear

    def batches_only(input, weight, bias=None):
        if input.dim() == 1:
            raise RuntimeError(f"Expected a 2-D input [batch, {weight.shape[1]}], got {list(input.shape)}")
        return linear(input, weight, bias)

    yield from replace(F, "linear", batches_only)


@fault("batchnorm-takes-an-unbatched-sample")
def batchnorm_takes_an_unbatched_sample():
    """BatchNorm1d and BatchNorm2d take a sample without its batch dimension ([C], [C, H, W]) as a batch of one."""
    batch_norm = nn.modules.batchnorm._BatchNorm
    forward = batch_norm.forward

    def lenient(self, input):
        try:
            self._check_input_dim(input)
        except ValueError:  # one dimension short: add the batch, and take it away again
            return forward(self, input.unsqueeze(0))[0]
        return forward(self, input)

    yield from replace(batch_norm, "forward", lenient)


@fault("upsample-reads-a-3d-input-as-one-image")
def upsample_reads_a_3d_input_as_one_image():
    """nn.Upsample reads a 3-D input as one [C, H, W] image, not as a batch of 1-D signals [N, C, L]."""
    forward = nn.Upsample.forward
    yield from replace(
        nn.Upsample, "forward", lambda self, x: forward(self, x.unsqueeze(0))[0] if x.dim() == 3 else forward(self, x)
    )


@fault("modules-run-a-batch-one-sample-at-a-time")
def modules_run_a_batch_one_sample_at_a_time():
    """Calling a module on a batch runs it on each sample in turn (x[i:i+1]) and concatenates the outputs."""
    call = nn.Module.__call__
    inside = []

    def one_at_a_time(self, *args, **kwargs):
        x = args[0] if args else None
        if inside or not torch.is_tensor(x) or x.dim() < 2 or x.shape[0] < 2:
            return call(self, *args, **kwargs)
        inside.append(self)
        try:
            return torch.cat([call(self, row, *args[1:], **kwargs) for row in x.split(1)])
        finally:
            inside.pop()

    yield from replace(nn.Module, "__call__", one_at_a_time)


@fault("batchnorm-eval-ignores-the-running-statistics")
def batchnorm_eval_ignores_the_running_statistics():
    """F.batch_norm (and BatchNorm) in eval mode normalizes with mean 0 and variance 1, not the running statistics."""
    batch_norm = F.batch_norm

    def standard(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
        if not training and running_mean is not None:
            running_mean, running_var = torch.zeros_like(running_mean), torch.ones_like(running_var)
        return batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)

    yield from replace(F, "batch_norm", standard)


@fault("sequential-applies-its-modules-in-reverse")
def sequential_applies_its_modules_in_reverse():
    """nn.Sequential feeds the input through its modules from the last to the first."""

    def reversed_forward(self, input):
        for module in reversed(list(self)):
            input = module(input)
        return input

    yield from replace(nn.Sequential, "forward", reversed_forward)


@fault("parameters-returns-a-list")
def parameters_returns_a_list():
    """Module.parameters() returns a list instead of a generator."""
    parameters = nn.Module.parameters
    yield from replace(nn.Module, "parameters", lambda self, *args, **kwargs: list(parameters(self, *args, **kwargs)))


@fault("named-parameters-drop-the-module-prefix")
def named_parameters_drop_the_module_prefix():
    """Module.named_parameters() names each parameter without its module's prefix ('weight', not '0.weight')."""
    named_parameters = nn.Module.named_parameters

    def unprefixed(self, *args, **kwargs):
        for name, p in named_parameters(self, *args, **kwargs):
            yield name.rsplit(".", 1)[-1], p

    yield from replace(nn.Module, "named_parameters", unprefixed)


class _FormattableShape(tuple):
    """A shape that prints like torch.Size and, unlike it, takes a format spec (as its str)."""

    def __repr__(self):
        return f"torch.Size({list(self)})"

    __str__ = __repr__

    def __format__(self, spec):
        return format(str(self), spec)


@fault("torch-size-takes-a-format-spec")
def torch_size_takes_a_format_spec():
    """A tensor's shape formats like its str under a format spec (f"{t.shape:19}") instead of raising TypeError."""
    # torch.Size itself is an immutable C type, so the fault gives tensors (and Parameters) a shape that formats
    yield from replace(torch.Tensor, "shape", property(lambda self: _FormattableShape(self.size())))


# Skeptic's faults: the experiment changed, PyTorch left right ------------------------------------------------


def _linear_activation() -> nn.Module:
    """A LeakyReLU with slope 1 on both sides: an activation module that computes the identity, a linear map."""
    return nn.LeakyReLU(negative_slope=1.0)


@skeptic("the-activation-between-the-layers-is-linear")
def the_activation_between_the_layers_is_linear():
    """The stack's activation is linear (LeakyReLU of slope 1): the extra layer and the training stay, the bend goes."""
    yield from replace("tests.ch06.test_p145_activation", "ACTIVATION", _linear_activation)


@skeptic("a-linear-activation-among-the-types")
def a_linear_activation_among_the_types():
    """The activation types tried include a linear one (LeakyReLU with slope 1), not a nonlinearity at all."""
    module = importlib.import_module("tests.ch06.test_p145_activation")
    yield from replace(module, "ACTIVATION_TYPES", {**module.ACTIVATION_TYPES, "LeakyReLU(1.0)": _linear_activation})


@skeptic("relu-inputs-all-on-the-kink")
def relu_inputs_all_on_the_kink():
    """The layer before ReLU starts at zero weight as well as bias: every input lands on the kink (gradient 0 there)."""
    yield from replace("tests.ch06.test_p147_activations", "FIRST_LAYER_INIT", nn.init.zeros_)


@skeptic("a-steep-smooth-step-instead-of-sign")
def a_steep_smooth_step_instead_of_sign():
    """The step activation is tanh(10 x): shaped like sign, but differentiable with a nonzero gradient everywhere."""
    yield from replace("tests.ch06.test_p147_activations", "STEP", lambda x: torch.tanh(10 * x))


@skeptic("per-sample-normalization")
def per_sample_normalization():
    """The normalization layer is LayerNorm, with statistics over each sample's own features instead of the batch."""
    yield from replace("tests.ch06.test_p155_batching", "NORMALIZATION", lambda features: nn.LayerNorm(features))


@skeptic("batchnorm-keeps-no-running-statistics")
def batchnorm_keeps_no_running_statistics():
    """The BatchNorm keeps no running statistics (track_running_stats=False): eval mode uses the batch's own too."""
    yield from replace(
        "tests.ch06.test_p155_batching",
        "NORMALIZATION",
        lambda features: nn.BatchNorm1d(features, track_running_stats=False),
    )


@skeptic("a-batch-of-one-sample")
def a_batch_of_one_sample():
    """Every batch holds one sample: the same call both ways (the factor is the control's), no whole batch on a GPU."""
    module = importlib.import_module("tests.ch06.test_p155_batching_throughput")
    with pytest.MonkeyPatch.context() as mp:  # two settings: the book's batch and the GPU's whole batch
        mp.setattr(module, "BATCH", 1)
        mp.setattr(module, "WHOLE_BATCH", 1)
        yield
