"""Faults that reach the claims of chapter 7 (the shared ones are in ``torch_core``, the softmax one in ``ch06``).

torchvision's transforms call ``torchvision.transforms.functional`` (``ToTensor`` its ``to_tensor``,
``Normalize`` its ``normalize``), and torch's loss and pooling modules call ``torch.nn.functional``, so a
fault patches the function there and the class follows, on torch 1.4 / torchvision 0.5 as on the newest.
torchvision's CIFAR10 looks up ``download_and_extract_archive`` and ``check_integrity`` in its own module,
``torchvision.datasets.cifar``, when it runs.

The skeptic's faults at the end change chapter 7's experiments, not PyTorch: each sets a constant that a
test module reads when the test runs.
"""

from __future__ import annotations

import os
import pickle
import warnings

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.datasets.cifar as cifar_module
import torchvision.transforms.functional as TF
from torchvision import transforms
from torchvision.datasets import CIFAR10

from claims.faults import fault, replace, skeptic

VIEW = torch.Tensor.view
STACK = torch.stack
TO_TENSOR = TF.to_tensor
NORMALIZE = TF.normalize
MEAN = torch.Tensor.mean
CIFAR10_INIT = CIFAR10.__init__
NLL_LOSS = F.nll_loss
MAX = torch.max
ADAPTIVE_MAX_POOL2D = F.adaptive_max_pool2d
LINEAR_INIT = nn.Linear.__init__
LINEAR = F.linear
ADD_MODULE = nn.Module.add_module


def _shape_args(args) -> list:
    """``view(2, 3)``, ``view((2, 3))`` and ``view(torch.Size([2, 3]))`` -> [2, 3]."""
    if len(args) == 1 and isinstance(args[0], (tuple, list, torch.Size)):
        return list(args[0])
    return list(args)


@fault("view-accepts-non-contiguous-tensors")
def view_accepts_non_contiguous_tensors():
    """Tensor.view of a layout it cannot express silently returns a copy (as reshape does) instead of raising."""

    def lenient(self, *shape):
        try:
            return VIEW(self, *shape)
        except RuntimeError:
            return self.reshape(*shape)

    yield from replace(torch.Tensor, "view", lenient)


@fault("view-refuses-non-contiguous-tensors")
def view_refuses_non_contiguous_tensors():
    """Tensor.view refuses every non-contiguous tensor, even one whose strides can express the new shape."""

    def contiguous_only(self, *shape):
        if not self.is_contiguous():
            raise RuntimeError("view size is not compatible with input tensor's size and stride")
        return VIEW(self, *shape)

    yield from replace(torch.Tensor, "view", contiguous_only)


@fault("view-reads-column-major")
def view_reads_column_major():
    """Tensor.view lays the elements out in column-major order (numpy's order='F'), not row-major."""

    def column_major(self, *args):
        if len(args) == 1 and isinstance(args[0], torch.dtype):
            return VIEW(self, *args)
        shape = _shape_args(args)
        if -1 in shape:
            known = 1
            for side in shape:
                known *= side if side != -1 else 1
            shape[shape.index(-1)] = self.numel() // known
        reverse = list(range(self.dim()))[::-1]
        flipped = self.permute(*reverse).reshape(shape[::-1])
        return flipped.permute(*list(range(len(shape)))[::-1])

    yield from replace(torch.Tensor, "view", column_major)


@fault("stack-ignores-its-dim")
def stack_ignores_its_dim():
    """torch.stack(tensors, dim) stacks along a new first dim whatever dim says."""
    yield from replace(torch, "stack", lambda tensors, dim=0, *args, **kwargs: STACK(tensors, 0, *args, **kwargs))


@fault("permute-reshapes-instead")
def permute_reshapes_instead():
    """Tensor.permute returns the tensor reshaped to the permuted shape: the sides move, the elements do not."""

    def reshaped(self, *dims):
        return self.reshape([self.shape[d] for d in _shape_args(dims)])

    yield from replace(torch.Tensor, "permute", reshaped)


@fault("to-tensor-skips-the-scaling")
def to_tensor_skips_the_scaling():
    """transforms.ToTensor gives the pixel values 0..255 as floats, without dividing by 255."""
    yield from replace(TF, "to_tensor", lambda pic: TO_TENSOR(pic) * 255)


@fault("to-tensor-keeps-hwc")
def to_tensor_keeps_hwc():
    """transforms.ToTensor keeps the image's H x W x C layout instead of moving the channels first."""
    yield from replace(TF, "to_tensor", lambda pic: TO_TENSOR(pic).permute(1, 2, 0).contiguous())


@fault("to-tensor-warns-that-it-is-deprecated")
def to_tensor_warns_that_it_is_deprecated():
    """transforms.ToTensor warns that it is deprecated (a DeprecationWarning), as transforms.v2.ToTensor does."""

    def deprecated(pic):
        warnings.warn(
            "ToTensor is deprecated: use ToImage and ToDtype(float32, scale=True)", DeprecationWarning, stacklevel=2
        )
        return TO_TENSOR(pic)

    yield from replace(TF, "to_tensor", deprecated)


@fault("v2-to-tensor-is-not-deprecated")
def v2_to_tensor_is_not_deprecated():
    """transforms.v2.ToTensor is built without its deprecation warning (torchvision 0.15 on; before, no v2)."""
    try:
        from torchvision.transforms import v2
    except ImportError:
        pytest.skip("this torchvision has no transforms.v2 (added in torchvision 0.15): no v2.ToTensor to build")
    base = v2.ToTensor.__mro__[1]  # v2's Transform: what ToTensor.__init__ calls after warning
    yield from replace(v2.ToTensor, "__init__", lambda self: base.__init__(self))


FLOAT32_MEAN = "ch07.float32-mean-of-a-cifar10-channel-drifts-in-the-fourth-decimal"
LANES = 32  # torch 1.4-1.6's CPU sum: 4 vectors of 8 floats, each float lane a running float32 sum


def _sums_by_cascade() -> bool:
    """Whether this torch sums float32 by cascade summation (1.7 on): the claim's amended side, from the registry."""
    from claims.registry import load_registry

    return load_registry()[FLOAT32_MEAN].amended_in(torch.__version__)


def _is_a_float32_row_mean(tensor: torch.Tensor, args: tuple, kwargs: dict) -> bool:
    """``tensor.mean(dim=1)`` (or ``dim=-1``) of a float32 matrix on the CPU, the book's per-channel mean."""
    dim = kwargs.get("dim", args[0] if args else None)
    plain = len(args) + len(kwargs) == 1 and dim in (1, -1)
    return plain and tensor.dim() == 2 and tensor.dtype == torch.float32 and tensor.device.type == "cpu"


@fault("mean-adds-float32-in-running-sums")
def mean_adds_float32_in_running_sums():
    """Tensor.mean(dim=1) of a float32 CPU matrix adds each row in 32 running float32 sums, as torch 1.4-1.6 did."""
    if not _sums_by_cascade():
        pytest.skip("before torch 1.7 Tensor.mean adds float32 in 32 running float32 sums already: nothing to plant")

    def running_sums(self, *args, **kwargs):
        if not (_is_a_float32_row_mean(self, args, kwargs) and self.shape[1] % LANES == 0):
            return MEAN(self, *args, **kwargs)
        rows = self.detach().contiguous().numpy().reshape(self.shape[0], -1, LANES)
        # numpy adds an [n, 32] array over axis 0 one row after the other, in float32: 32 running sums, each
        # rounded at every addition (as torch 1.4's vectorised loop, to within 6e-8 of its mean on the test's
        # channel). Only the 32 final sums are added in float64.
        lanes = np.stack([np.add.reduce(row, axis=0) for row in rows])
        return torch.from_numpy(lanes.astype(np.float64).sum(axis=1) / self.shape[1]).float()

    yield from replace(torch.Tensor, "mean", running_sums)


@fault("mean-adds-float32-in-float64")
def mean_adds_float32_in_float64():
    """Tensor.mean(dim=1) of a float32 CPU matrix adds each row in float64: no drift, as cascade sums give from 1.7."""
    if _sums_by_cascade():
        pytest.skip("from torch 1.7 the float32 mean is within 1e-7 of the float64 one already: nothing to plant")

    def in_float64(self, *args, **kwargs):
        if not _is_a_float32_row_mean(self, args, kwargs):
            return MEAN(self, *args, **kwargs)
        rows = self.detach().contiguous().numpy()
        return torch.from_numpy(np.add.reduce(rows, axis=1, dtype=np.float64) / self.shape[1]).float()

    yield from replace(torch.Tensor, "mean", in_float64)


@fault("normalize-uses-the-first-channels-statistics")
def normalize_uses_the_first_channels_statistics():
    """transforms.Normalize subtracts and divides every channel by the first channel's mean and std."""

    def first_channel(tensor, mean, std, inplace=False):
        return NORMALIZE(tensor, [mean[0]] * len(mean), [std[0]] * len(std), inplace)

    yield from replace(TF, "normalize", first_channel)


@fault("compose-applies-in-reverse")
def compose_applies_in_reverse():
    """transforms.Compose applies its transforms from the last listed to the first."""

    def reversed_call(self, img):
        for t in reversed(self.transforms):
            img = t(img)
        return img

    yield from replace(transforms.Compose, "__call__", reversed_call)


@fault("cifar10-reads-only-the-first-batch-file")
def cifar10_reads_only_the_first_batch_file():
    """torchvision's CIFAR10(train=True) reads data_batch_1 only, not the five training files."""

    def first_file_only(self, *args, **kwargs):
        self.train_list = type(self).train_list[:1]
        CIFAR10_INIT(self, *args, **kwargs)

    yield from replace(CIFAR10, "__init__", first_file_only)


@fault("cifar10-skips-the-integrity-check")
def cifar10_skips_the_integrity_check():
    """torchvision's CIFAR10 skips its MD5 check of the batch files and reads whatever files are there."""
    yield from replace(CIFAR10, "_check_integrity", lambda self: True)


@fault("cifar10-skips-the-metadata-check")
def cifar10_skips_the_metadata_check():
    """torchvision's CIFAR10 reads batches.meta without checking that it is there and matches its MD5."""

    def unchecked(self):
        with open(os.path.join(self.root, self.base_folder, self.meta["filename"]), "rb") as infile:
            self.classes = pickle.load(infile, encoding="latin1")[self.meta["key"]]
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    yield from replace(CIFAR10, "_load_meta", unchecked)


@fault("cifar10-downloads-even-with-download-false")
def cifar10_downloads_even_with_download_false():
    """torchvision's CIFAR10 downloads a missing or corrupt copy whatever download= says."""

    def downloading(self, root, train=True, transform=None, target_transform=None, download=False):
        CIFAR10_INIT(self, root, train, transform, target_transform, True)

    yield from replace(CIFAR10, "__init__", downloading)


@fault("cifar10-download-fetches-nothing")
def cifar10_download_fetches_nothing():
    """CIFAR10(download=True) fetches nothing, not even when the copy under root is missing or corrupt."""
    yield from replace(CIFAR10, "download", lambda self: None)


@fault("cifar10-download-fetches-every-time")
def cifar10_download_fetches_every_time():
    """CIFAR10(download=True) fetches and extracts the archive again even over an intact copy."""

    def every_time(self):
        cifar_module.download_and_extract_archive(self.url, self.root, filename=self.filename, md5=self.tgz_md5)

    yield from replace(CIFAR10, "download", every_time)


@fault("nll-loss-reads-the-first-class")
def nll_loss_reads_the_first_class():
    """F.nll_loss (and nn.NLLLoss) reads every sample's class-0 entry instead of its target class's."""

    def class_0(input, target, *args, **kwargs):
        return NLL_LOSS(input, torch.zeros_like(target), *args, **kwargs)

    yield from replace(F, "nll_loss", class_0)


@fault("nll-loss-mean-reduction-sums")
def nll_loss_mean_reduction_sums():
    """F.nll_loss (and nn.NLLLoss) with the default reduction='mean' returns the sum over the batch."""

    def summing(input, target, *args, reduction="mean", **kwargs):
        return NLL_LOSS(input, target, *args, reduction="sum" if reduction == "mean" else reduction, **kwargs)

    yield from replace(F, "nll_loss", summing)


@fault("max-over-a-dim-returns-the-smallest")
def max_over_a_dim_returns_the_smallest():
    """torch.max(x, dim) returns the smallest values and their indices (what torch.min gives)."""

    def smallest(input, *args, **kwargs):
        if "dim" in kwargs or (args and isinstance(args[0], int)):
            return torch.min(input, *args, **kwargs)
        return MAX(input, *args, **kwargs)

    yield from replace(torch, "max", smallest)


@fault("adaptive-max-pool-sees-only-the-top-left")
def adaptive_max_pool_sees_only_the_top_left():
    """F.adaptive_max_pool2d (and nn.AdaptiveMaxPool2d) pools only the top-left quarter of its input."""

    def top_left(input, output_size, *args, **kwargs):
        h, w = input.shape[-2:]
        return ADAPTIVE_MAX_POOL2D(input[..., : (h + 1) // 2, : (w + 1) // 2], output_size, *args, **kwargs)

    yield from replace(F, "adaptive_max_pool2d", top_left)


@fault("linear-ties-its-weight-across-its-inputs")
def linear_ties_its_weight_across_its_inputs():
    """F.linear (so nn.Linear) gives each output one weight, its weights' mean, for every input: it sees their sum."""

    def tied(input, weight, bias=None):
        return LINEAR(input, weight.mean(dim=1, keepdim=True).expand_as(weight), bias)

    yield from replace(F, "linear", tied)


@fault("linear-is-built-without-bias")
def linear_is_built_without_bias():
    """nn.Linear(n_in, n_out) is built without its bias, whatever bias= says."""

    def without_bias(self, in_features, out_features, bias=True, *args, **kwargs):
        LINEAR_INIT(self, in_features, out_features, False, *args, **kwargs)

    yield from replace(nn.Linear, "__init__", without_bias)


@fault("add-module-accepts-anything")
def add_module_accepts_anything():
    """nn.Module.add_module (so nn.Sequential) keeps an object that is no Module instead of refusing it."""

    def anything(self, name, module):
        self._modules[name] = module

    yield from replace(nn.Module, "add_module", anything)


# Skeptic's faults: the experiments of chapter 7 changed so that the statement, as written, would be false.


@skeptic("scores-too-close-to-underflow")
def scores_too_close_to_underflow():
    """The scores [0, 104] become [0, 10]: exp(-10) is a float32, so log(softmax(x)) no longer underflows."""
    yield from replace("tests.ch07.test_p180_nll", "SCORE_GAP", 10.0)


@skeptic("cross-entropy-model-ends-in-softmax")
def cross_entropy_model_ends_in_softmax():
    """The network trained with CrossEntropyLoss ends in nn.Softmax(dim=1): its outputs are probabilities then."""
    yield from replace("tests.ch07.test_p185_nllloss", "LAST_LAYER", lambda: nn.Softmax(dim=1))


@skeptic("fully-connected-net-trained-at-both-places")
def fully_connected_net_trained_at_both_places():
    """The nets are trained on the pattern at the top-left and at the shifted place: nothing is new when shifted."""
    yield from replace("tests.ch07.test_p189_fully_connected", "TRAINED_AT", (0, 8))


@skeptic("shifted-images-hold-the-pattern-in-place")
def shifted_images_hold_the_pattern_in_place():
    """The 'shifted' test images hold the pattern where the training images do: a shift that cannot show."""
    yield from replace("tests.ch07.test_p189_fully_connected", "SHIFTED_TO", 0)


@skeptic("image-of-a-single-pixel")
def image_of_a_single_pixel():
    """The images shrink to 1 x 1 pixel: one position only, so there is no other position to take into account."""
    yield from replace("tests.ch07.test_p189_fully_connected", "IMAGE_SIDE", 1)
