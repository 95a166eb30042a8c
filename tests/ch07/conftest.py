"""Chapter 7's data: a tiny generated CIFAR-10 directory, and the user's real one.

``cifar10_generated`` is written once per session by ``fixtures/cifar.py`` (40 training and 10 test
images in CIFAR-10's own pickle layout). ``real_cifar10`` opens the directory given with
``--cifar10-root`` or ``$CIFAR10_ROOT`` with torchvision's CIFAR10 (download=False), and skips with the
reason otherwise; ``real_cifar10_stacked`` is the book's ``torch.stack([img_t for img_t, _ in
tensor_cifar10], dim=3)`` over the 50,000 training images. Both are computed once per session and kept
apart per planted fault (``--plant``, ``--falsify``): a fault in torchvision or torch.stack must reach them.
"""

from __future__ import annotations

import pytest
import torch
from torchvision import transforms

from fixtures.cifar import GeneratedCifar10, open_cifar10, write_cifar10


@pytest.fixture(scope="session")
def cifar10_generated(tmp_path_factory) -> GeneratedCifar10:
    return write_cifar10(tmp_path_factory.mktemp("cifar10"), per_batch=8, n_test=10, seed=0)


@pytest.fixture
def real_cifar10(cifar10_root, session_cache) -> dict:
    """{"train": ..., "val": ...}: the real CIFAR-10 as PIL images; a broken directory is one DataFileError."""
    return session_cache(
        "real-cifar10",
        lambda: {"train": open_cifar10(cifar10_root, train=True), "val": open_cifar10(cifar10_root, train=False)},
    )


@pytest.fixture
def real_cifar10_stacked(cifar10_root, session_cache) -> torch.Tensor:
    """The 50,000 training images through ToTensor, stacked along dim 3: [3, 32, 32, 50000]."""

    def stack():
        tensor_cifar10 = open_cifar10(cifar10_root, train=True, transform=transforms.ToTensor())
        return torch.stack([img_t for img_t, _ in tensor_cifar10], dim=3)

    return session_cache("real-cifar10-stacked", stack)
