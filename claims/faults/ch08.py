"""Faults that reach the claims of chapter 8, pages 194-215 (the shared ones are in ``torch_core``).

Each planted fault breaks one behaviour of PyTorch that a claim of those pages rests on: what a
convolution or a pooling layer computes, how ``nn.Flatten`` and ``numel`` work, what ``state_dict``,
``torch.save``, ``torch.load`` and ``Module.to`` do. Each skeptic's fault, at the end, keeps PyTorch
right and changes a setting of the experiment (a constant of the test module) so that the claim, as
stated, would be false. Every one of them works on torch 1.4 as on the newest release.
"""

from __future__ import annotations

import inspect
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from claims.faults import fault, replace, skeptic


def _pair(value) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _patched_conv2d(change):
    """F.conv2d with its arguments passed through ``change(weight, stride, padding, dilation)``, which
    returns the (stride, padding, dilation) to use."""
    conv2d = F.conv2d

    def patched(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        stride, padding, dilation = change(weight, stride, padding, dilation)
        return conv2d(input, weight, bias, stride, padding, dilation, groups)

    return patched


@fault("conv2d-ignores-padding")
def conv2d_ignores_padding():
    """F.conv2d (and nn.Conv2d) ignores its padding argument: it never pads."""
    yield from replace(F, "conv2d", _patched_conv2d(lambda weight, stride, padding, dilation: (stride, 0, dilation)))


@fault("conv2d-pads-same-by-default")
def conv2d_pads_same_by_default():
    """F.conv2d (and nn.Conv2d) with padding=0 pads by half the kernel, as if the default were 'same'."""

    def same(weight, stride, padding, dilation):
        if padding in (0, (0, 0), [0, 0]):
            padding = tuple(d * (k - 1) // 2 for d, k in zip(_pair(dilation), weight.shape[-2:]))
        return stride, padding, dilation

    yield from replace(F, "conv2d", _patched_conv2d(same))


@fault("conv2d-ignores-stride")
def conv2d_ignores_stride():
    """F.conv2d (and nn.Conv2d) ignores its stride argument: every convolution has stride 1."""
    yield from replace(F, "conv2d", _patched_conv2d(lambda weight, stride, padding, dilation: (1, padding, dilation)))


@fault("conv2d-reads-stride-as-dilation")
def conv2d_reads_stride_as_dilation():
    """F.conv2d (and nn.Conv2d) spreads its kernel's taps by the stride (dilation) and moves by 1 pixel."""
    yield from replace(F, "conv2d", _patched_conv2d(lambda weight, stride, padding, dilation: (1, padding, stride)))


@fault("conv2d-sees-the-whole-image")
def conv2d_sees_the_whole_image():
    """F.conv2d (and nn.Conv2d) adds 0.01 times the sum of the whole input image to every output pixel."""
    conv2d = F.conv2d

    def global_(input, *args, **kwargs):
        out = conv2d(input, *args, **kwargs)
        if input.dim() != 4:
            return out
        return out + 0.01 * input.sum(dim=(1, 2, 3)).view(-1, 1, 1, 1)

    yield from replace(F, "conv2d", global_)


@fault("conv2d-kernel-drifts-across-the-image")
def conv2d_kernel_drifts_across_the_image():
    """F.conv2d (and nn.Conv2d) scales its kernel by 1 + 0.01 * column / width: not one kernel everywhere."""
    conv2d = F.conv2d

    def drifting(input, *args, **kwargs):
        out = conv2d(input, *args, **kwargs)
        width = out.shape[-1]
        return out * (1 + 0.01 * torch.arange(width, device=out.device, dtype=out.dtype) / width)

    yield from replace(F, "conv2d", drifting)


@fault("max-pool2d-takes-the-mean")
def max_pool2d_takes_the_mean():
    """F.max_pool2d (and nn.MaxPool2d) returns the mean of each window instead of its largest value."""
    avg_pool2d = F.avg_pool2d

    def mean(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
        return avg_pool2d(input, kernel_size, stride, padding, ceil_mode)

    yield from replace(F, "max_pool2d", mean)


@fault("max-pool2d-keeps-the-top-left-pixel")
def max_pool2d_keeps_the_top_left_pixel():
    """F.max_pool2d (and nn.MaxPool2d) keeps the top-left pixel of each window instead of the largest."""
    max_pool2d = F.max_pool2d

    def top_left(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
        stride = kernel_size if stride is None or stride == [] or stride == () else stride
        return max_pool2d(input, 1, stride, 0, 1, ceil_mode, return_indices)

    yield from replace(F, "max_pool2d", top_left)


@fault("max-pool2d-module-uses-ceil-mode")
def max_pool2d_module_uses_ceil_mode():
    """nn.MaxPool2d rounds its output size up (ceil_mode=True) where F.max_pool2d rounds it down."""

    def ceil(self, input):
        return F.max_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=True,
            return_indices=self.return_indices,
        )

    yield from replace(nn.MaxPool2d, "forward", ceil)


@fault("avg-pool2d-sums-the-block")
def avg_pool2d_sums_the_block():
    """F.avg_pool2d (and nn.AvgPool2d) returns the sum of each window: it forgets to divide by its size."""
    avg_pool2d = F.avg_pool2d

    def summed(input, kernel_size, *args, **kwargs):
        height, width = _pair(kernel_size)
        return avg_pool2d(input, kernel_size, *args, **kwargs) * (height * width)

    yield from replace(F, "avg_pool2d", summed)


@fault("max-pool3d-pools-only-height-and-width")
def max_pool3d_pools_only_height_and_width():
    """F.max_pool3d (and nn.MaxPool3d) reads a 4-D tensor as a batch of images, pooling height and width only."""
    max_pool2d, max_pool3d = F.max_pool2d, F.max_pool3d

    def as_2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
        if input.dim() != 4:
            return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)

        def last_two(v):
            return tuple(v)[-2:] if isinstance(v, (tuple, list)) else v

        stride = None if stride is None else last_two(stride)
        return max_pool2d(
            input, last_two(kernel_size), stride, last_two(padding), last_two(dilation), ceil_mode, return_indices
        )

    yield from replace(F, "max_pool3d", as_2d)


@fault("numel-ignores-the-first-dimension")
def numel_ignores_the_first_dimension():
    """Tensor.numel() counts the elements of one slice along the first dimension, not of the whole tensor."""
    numel = torch.Tensor.numel

    def one_slice(self):
        n = numel(self)
        return n // self.shape[0] if self.dim() and self.shape[0] else n

    yield from replace(torch.Tensor, "numel", one_slice)


@fault("flatten-orders-channels-last")
def flatten_orders_channels_last():
    """nn.Flatten flattens an [N, C, H, W] batch in (H, W, C) order instead of the tensor's own (C, H, W)."""
    forward = nn.Flatten.forward

    def channels_last(self, input):
        if input.dim() == 4:
            input = input.permute(0, 2, 3, 1)
        return forward(self, input)

    yield from replace(nn.Flatten, "forward", channels_last)


@fault("linear-flattens-trailing-dimensions")
def linear_flattens_trailing_dimensions():
    """F.linear (and nn.Linear) flattens an input whose last dimension does not fit, instead of refusing it."""
    linear = F.linear

    def flattening(input, weight, bias=None):
        if input.dim() > 2 and input.shape[-1] != weight.shape[-1] and input[0].numel() == weight.shape[-1]:
            input = input.reshape(input.shape[0], -1)
        return linear(input, weight, bias)

    yield from replace(F, "linear", flattening)


@fault("tanh-module-registers-a-parameter")
def tanh_module_registers_a_parameter():
    """nn.Tanh registers a (unit) scale parameter, so the activation module holds state of its own."""
    init = nn.Tanh.__init__

    def with_parameter(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.register_parameter("scale", nn.Parameter(torch.ones(())))

    yield from replace(nn.Tanh, "__init__", with_parameter)


@fault("tanh-module-computes-tanh-by-its-formula")
def tanh_module_computes_tanh_by_its_formula():
    """nn.Tanh computes (1 - exp(-2x)) / (1 + exp(-2x)): tanh in value, not torch.tanh's numbers bit for bit."""
    yield from replace(
        nn.Tanh, "forward", lambda self, input: (1 - torch.exp(-2 * input)) / (1 + torch.exp(-2 * input))
    )


@fault("state-dict-drops-buffers")
def state_dict_drops_buffers():
    """Module.state_dict() leaves out the module's buffers (BatchNorm's running statistics and counter)."""
    state_dict = nn.Module.state_dict

    def parameters_only(self, *args, **kwargs):
        state = state_dict(self, *args, **kwargs)
        if not args and kwargs.get("destination") is None and not kwargs.get("prefix"):  # the outermost call
            for name, _ in self.named_buffers():
                state.pop(name, None)
        return state

    yield from replace(nn.Module, "state_dict", parameters_only)


@fault("state-dict-keeps-non-persistent-buffers")
def state_dict_keeps_non_persistent_buffers():
    """Module.state_dict() holds the buffers registered with persistent=False too, as if every buffer were saved."""
    if "persistent" not in inspect.signature(nn.Module.register_buffer).parameters:
        pytest.skip("before torch 1.6 every buffer is persistent: there is no buffer for state_dict() to keep")
    state_dict = nn.Module.state_dict

    def every_buffer(self, *args, **kwargs):
        kept = [(m, m._non_persistent_buffers_set) for m in self.modules() if hasattr(m, "_non_persistent_buffers_set")]
        try:
            for module, _ in kept:
                module._non_persistent_buffers_set = set()
            return state_dict(self, *args, **kwargs)
        finally:
            for module, names in kept:
                module._non_persistent_buffers_set = names

    yield from replace(nn.Module, "state_dict", every_buffer)


def _rounded_to_half(value):
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.half().to(value.dtype)
    if isinstance(value, dict):
        rounded = type(value)()
        for key, item in value.items():
            rounded[key] = _rounded_to_half(item)
        return rounded
    return value


@fault("torch-load-rounds-floats-to-half")
def torch_load_rounds_floats_to_half():
    """torch.load rounds every floating-point tensor it reads through float16."""
    load = torch.load

    def rounding(*args, **kwargs):
        return _rounded_to_half(load(*args, **kwargs))

    yield from replace(torch, "load", rounding)


@fault("torch-load-drops-map-location")
def torch_load_drops_map_location():
    """torch.load ignores map_location: every tensor goes back to the device it was saved from."""
    load = torch.load

    def dropped(f, map_location=None, *args, **kwargs):
        return load(f, None, *args, **kwargs)

    yield from replace(torch, "load", dropped)


@fault("module-to-leaves-running-var-behind")
def module_to_leaves_running_var_behind():
    """Module.to(...) moves and converts every tensor but BatchNorm's running_var buffer, which stays as it was."""
    to = nn.Module.to

    def leaving(self, *args, **kwargs):
        kept = [
            (module, module._buffers["running_var"])
            for module in self.modules()
            if module._buffers.get("running_var") is not None
        ]
        result = to(self, *args, **kwargs)
        for module, buffer in kept:
            module._buffers["running_var"] = buffer
        return result

    yield from replace(nn.Module, "to", leaving)


@fault("to-rounds-its-copies-through-half")
def to_rounds_its_copies_through_half():
    """Tensor.to rounds floating-point values through float16 whenever it copies them (to another device or dtype)."""
    to = torch.Tensor.to

    def lossy(self, *args, **kwargs):
        out = to(self, *args, **kwargs)
        if out is not self and out.is_floating_point():
            out = to(to(out, torch.float16), out.dtype)
        return out

    yield from replace(torch.Tensor, "to", lossy)


def _tf32(x: torch.Tensor) -> torch.Tensor:
    """x rounded to TF32's 10 mantissa bits (11 significant bits), with x's gradient passed through unchanged."""
    scale = torch.pow(2.0, torch.floor(torch.log2(x.detach().abs().clamp(min=1e-30)))) / 1024
    return x + (torch.round(x.detach() / scale) * scale - x.detach())


@fault("conv2d-rounds-float32-to-tf32")
def conv2d_rounds_float32_to_tf32() -> Iterator[None]:
    """F.conv2d rounds float32 inputs and weights to TF32's 10 mantissa bits on every device, allow_tf32 or not."""
    conv2d = F.conv2d

    def rounded(input: torch.Tensor, weight: torch.Tensor, bias: Any = None, *args: Any, **kwargs: Any) -> torch.Tensor:
        if input.dtype == torch.float32:
            input, weight = _tf32(input), _tf32(weight)
        return conv2d(input, weight, bias, *args, **kwargs)

    yield from replace(F, "conv2d", rounded)


@fault("torch-save-writes-zip-whatever-it-is-asked")
def torch_save_writes_zip_whatever_it_is_asked():
    """torch.save writes the zip format even when asked for the legacy one (_use_new_zipfile_serialization=False)."""
    save = torch.save

    def zip_always(obj, f, *args, **kwargs):
        kwargs["_use_new_zipfile_serialization"] = True
        return save(obj, str(f) if isinstance(f, Path) else f, *args, **kwargs)  # torch 1.4's zip writer: str only

    yield from replace(torch, "save", zip_always)


# Skeptic's faults: PyTorch stays right; the experiment changes so that the statement, as written, is false.


@skeptic("kernel-taps-spread-apart")
def kernel_taps_spread_apart():
    """The convolution's kernel is dilated (dilation=2): its taps lie 2 pixels apart, beyond a k x k neighbourhood."""
    yield from replace("tests.ch08.test_p194_convolution", "DILATION", 2)


@skeptic("pattern-does-not-move")
def pattern_does_not_move():
    """The second copy of the pattern lies where the first does: there is no shift for a map to follow."""
    yield from replace("tests.ch08.test_p194_convolution", "SHIFT", (0, 0))


@skeptic("kernel-as-big-as-the-image")
def kernel_as_big_as_the_image():
    """The convolution's kernel is as big as the 32x32 image: it no longer looks at a small neighbourhood."""
    yield from replace("tests.ch08.test_p194_convolution", "KERNEL", 32)


@skeptic("padding-1-under-a-5x5-kernel")
def padding_1_under_a_5x5_kernel():
    """The convolutions get 5x5 kernels but keep padding=1, less than half the kernel."""
    yield from replace("tests.ch08.test_p198_padding", "KERNEL", 5)


@skeptic("pools-that-do-not-downsample")
def pools_that_do_not_downsample():
    """The 2x2 max-pools step 1 pixel instead of 2: they pool, but do not downsample."""
    yield from replace("tests.ch08.test_p205_receptive_field", "POOL_STRIDE", 1)


@skeptic("bigger-kernel-that-is-not-bigger")
def bigger_kernel_that_is_not_bigger():
    """The 'bigger' conv2 kernel is the book's 3x3."""
    yield from replace("tests.ch08.test_p205_receptive_field", "BIG_KERNEL", 3)


@skeptic("checkpoint-written-in-todays-zip-format")
def checkpoint_written_in_todays_zip_format():
    """The torch 1.4 checkpoints are swapped for their tensors saved by this torch in the zip format."""
    from fixtures.torch14_checkpoints import CHECKPOINTS

    with tempfile.TemporaryDirectory() as folder:
        swapped = {}
        for name, path in CHECKPOINTS.items():
            swapped[name] = Path(folder) / path.name
            torch.save(torch.load(path), str(swapped[name]), _use_new_zipfile_serialization=True)
        yield from replace("tests.ch08.test_p215_legacy_checkpoints", "CHECKPOINTS", swapped)
