"""Opening a CIFAR-10 directory as the book does (torchvision's ``CIFAR10``, ``download=False``), and
checking one: every problem is one ``DataFileError`` naming the directory and what is wrong.

torchvision checks every file against the real archive's MD5 sums; ``check_cifar10_root`` runs the
same checks once, up front (the plugin calls it at start-up for ``--cifar10-root``), and
``open_cifar10`` turns a failure while reading into the same one-line error.
"""
from __future__ import annotations

import pickle
from pathlib import Path

from torchvision.datasets import CIFAR10
from torchvision.datasets.utils import check_integrity

from claims.errors import DataFileError

BASE_FOLDER = CIFAR10.base_folder  # "cifar-10-batches-py"
TRAIN_FILES = [name for name, _ in CIFAR10.train_list]
TEST_FILE = CIFAR10.test_list[0][0]
META_FILE = CIFAR10.meta["filename"]


def diagnose(directory: Path, dataset_class: type = CIFAR10) -> str | None:
    """The first missing or mismatching file under ``directory`` (a ``cifar-10-batches-py`` folder), in
    words; None when every file checks out against ``dataset_class``'s checksums."""
    if not directory.parent.is_dir():
        return "the directory does not exist"
    if not directory.is_dir():
        return f"no {BASE_FOLDER}/ folder in it (download=False never downloads)"
    files = dataset_class.train_list + dataset_class.test_list + [[META_FILE, dataset_class.meta["md5"]]]
    for name, md5 in files:
        if not (directory / name).is_file():
            return f"{BASE_FOLDER}/{name} is missing"
        if not check_integrity(str(directory / name), md5):
            return f"{BASE_FOLDER}/{name} is corrupt: its MD5 checksum does not match"
    return None


def check_cifar10_root(root) -> Path:
    """``root`` as a Path when it holds the real CIFAR-10, else one DataFileError saying what is wrong."""
    root = Path(root)
    problem = diagnose(root / BASE_FOLDER)
    if problem:
        raise DataFileError(root, f"not a usable CIFAR-10 directory: {problem}")
    return root


def open_cifar10(root, train: bool = True, transform=None, dataset_class: type = CIFAR10) -> CIFAR10:
    """``dataset_class(root, train=train, transform=transform, download=False)``, or one DataFileError."""
    root = Path(root)
    try:
        return dataset_class(str(root), train=train, transform=transform, download=False)
    except (RuntimeError, OSError, EOFError, pickle.UnpicklingError, KeyError, ValueError) as err:
        problem = diagnose(root / BASE_FOLDER, dataset_class)
        if problem is None:
            problem = f"not a readable CIFAR-10 batch file ({type(err).__name__}: {err})"
        raise DataFileError(root, f"not a usable CIFAR-10 directory: {problem}") from err
