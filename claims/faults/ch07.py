"""Faults that reach the claims of chapter 7 (the shared ones are in ``torch_core``, the softmax one in ``ch06``).

torchvision's transforms call ``torchvision.transforms.functional`` (``ToTensor`` its ``to_tensor``,
``Normalize`` its ``normalize``), and torch's loss and pooling modules call ``torch.nn.functional``, so a
fault patches the function there and the class follows, on torch 1.4 / torchvision 0.5 as on the newest.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.transforms.functional as TF
from torchvision import transforms
from torchvision.datasets import CIFAR10

from claims.faults import fault


def _shape_args(args) -> list:
    """``view(2, 3)``, ``view((2, 3))`` and ``view(torch.Size([2, 3]))`` -> [2, 3]."""
    if len(args) == 1 and isinstance(args[0], (tuple, list, torch.Size)):
        return list(args[0])
    return list(args)


@fault("view-accepts-non-contiguous-tensors")
def view_accepts_non_contiguous_tensors():
    """Tensor.view of a layout it cannot express silently returns a copy (as reshape does) instead of raising."""
    view = torch.Tensor.view

    def lenient(self, *shape):
        try:
            return view(self, *shape)
        except RuntimeError:
            return self.reshape(*shape)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch.Tensor, "view", lenient)
        yield


@fault("view-reads-column-major")
def view_reads_column_major():
    """Tensor.view lays the elements out in column-major order (numpy's order='F'), not row-major."""
    view = torch.Tensor.view

    def column_major(self, *args):
        if len(args) == 1 and isinstance(args[0], torch.dtype):
            return view(self, *args)
        shape = _shape_args(args)
        if -1 in shape:
            known = 1
            for side in shape:
                known *= side if side != -1 else 1
            shape[shape.index(-1)] = self.numel() // known
        reverse = list(range(self.dim()))[::-1]
        flipped = self.permute(*reverse).reshape(shape[::-1])
        return flipped.permute(*list(range(len(shape)))[::-1])

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch.Tensor, "view", column_major)
        yield


@fault("stack-ignores-its-dim")
def stack_ignores_its_dim():
    """torch.stack(tensors, dim) stacks along a new first dim whatever dim says."""
    stack = torch.stack
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch, "stack", lambda tensors, dim=0, *args, **kwargs: stack(tensors, 0, *args, **kwargs))
        yield


@fault("permute-reshapes-instead")
def permute_reshapes_instead():
    """Tensor.permute returns the tensor reshaped to the permuted shape: the sides move, the elements do not."""

    def reshaped(self, *dims):
        return self.reshape([self.shape[d] for d in _shape_args(dims)])

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch.Tensor, "permute", reshaped)
        yield


@fault("to-tensor-skips-the-scaling")
def to_tensor_skips_the_scaling():
    """transforms.ToTensor gives the pixel values 0..255 as floats, without dividing by 255."""
    to_tensor = TF.to_tensor
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(TF, "to_tensor", lambda pic: to_tensor(pic) * 255)
        yield


@fault("to-tensor-keeps-hwc")
def to_tensor_keeps_hwc():
    """transforms.ToTensor keeps the image's H x W x C layout instead of moving the channels first."""
    to_tensor = TF.to_tensor
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(TF, "to_tensor", lambda pic: to_tensor(pic).permute(1, 2, 0).contiguous())
        yield


@fault("normalize-uses-the-first-channels-statistics")
def normalize_uses_the_first_channels_statistics():
    """transforms.Normalize subtracts and divides every channel by the first channel's mean and std."""
    normalize = TF.normalize

    def first_channel(tensor, mean, std, inplace=False):
        return normalize(tensor, [mean[0]] * len(mean), [std[0]] * len(std), inplace)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(TF, "normalize", first_channel)
        yield


@fault("compose-applies-in-reverse")
def compose_applies_in_reverse():
    """transforms.Compose applies its transforms from the last listed to the first."""

    def reversed_call(self, img):
        for t in reversed(self.transforms):
            img = t(img)
        return img

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(transforms.Compose, "__call__", reversed_call)
        yield


@fault("cifar10-reads-only-the-first-batch-file")
def cifar10_reads_only_the_first_batch_file():
    """torchvision's CIFAR10(train=True) reads data_batch_1 only, not the five training files."""
    init = CIFAR10.__init__

    def first_file_only(self, *args, **kwargs):
        self.train_list = type(self).train_list[:1]
        init(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(CIFAR10, "__init__", first_file_only)
        yield


@fault("cifar10-skips-the-integrity-check")
def cifar10_skips_the_integrity_check():
    """torchvision's CIFAR10 skips its MD5 check of the directory and reads whatever files are there."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(CIFAR10, "_check_integrity", lambda self: True)
        yield


@fault("nll-loss-reads-the-first-class")
def nll_loss_reads_the_first_class():
    """F.nll_loss (and nn.NLLLoss) reads every sample's class-0 entry instead of its target class's."""
    nll_loss = F.nll_loss
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(
            F,
            "nll_loss",
            lambda input, target, *args, **kwargs: nll_loss(input, torch.zeros_like(target), *args, **kwargs),
        )
        yield


@fault("nll-loss-mean-reduction-sums")
def nll_loss_mean_reduction_sums():
    """F.nll_loss (and nn.NLLLoss) with the default reduction='mean' returns the sum over the batch."""
    nll_loss = F.nll_loss

    def summing(input, target, *args, reduction="mean", **kwargs):
        return nll_loss(input, target, *args, reduction="sum" if reduction == "mean" else reduction, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(F, "nll_loss", summing)
        yield


@fault("max-over-a-dim-returns-the-smallest")
def max_over_a_dim_returns_the_smallest():
    """torch.max(x, dim) returns the smallest values and their indices (what torch.min gives)."""
    max_ = torch.max

    def smallest(input, *args, **kwargs):
        if "dim" in kwargs or (args and isinstance(args[0], int)):
            return torch.min(input, *args, **kwargs)
        return max_(input, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch, "max", smallest)
        yield


@fault("adaptive-max-pool-sees-only-the-top-left")
def adaptive_max_pool_sees_only_the_top_left():
    """F.adaptive_max_pool2d (and nn.AdaptiveMaxPool2d) pools only the top-left quarter of its input."""
    pool = F.adaptive_max_pool2d

    def top_left(input, output_size, *args, **kwargs):
        h, w = input.shape[-2:]
        return pool(input[..., : (h + 1) // 2, : (w + 1) // 2], output_size, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(F, "adaptive_max_pool2d", top_left)
        yield


@fault("linear-is-built-without-bias")
def linear_is_built_without_bias():
    """nn.Linear(n_in, n_out) is built without its bias, whatever bias= says."""
    init = nn.Linear.__init__

    def without_bias(self, in_features, out_features, bias=True, *args, **kwargs):
        init(self, in_features, out_features, False, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(nn.Linear, "__init__", without_bias)
        yield
