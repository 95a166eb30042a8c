"""Opening a CIFAR-10 directory as the book does (torchvision's ``CIFAR10``, ``download=False``), and
checking one: every problem is one ``DataFileError`` naming the directory or file and what is wrong.

torchvision checks every file against the real archive's MD5 sums; ``check_cifar10_root`` runs the
same checks once, up front (the plugin calls it at start-up for ``--cifar10-root``), and
``open_cifar10`` turns a failure while reading into the same one-line error.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from torchvision import transforms
from torchvision.datasets import CIFAR10
from torchvision.datasets.utils import check_integrity

from claims.errors import DataFileError

BASE_FOLDER = CIFAR10.base_folder  # "cifar-10-batches-py"
TRAIN_FILES = [name for name, _ in CIFAR10.train_list]
TEST_FILE = CIFAR10.test_list[0][0]
META_FILE = CIFAR10.meta["filename"]
# The book's CIFAR-2 (2_birds_airplanes.ipynb In[3]-In[5], p1ch6.ipynb In[23]-In[26]): CIFAR-10's airplanes
# (label 0) and birds (label 2) as labels 0 and 1, normalized with the mean and std 1_datasets.ipynb printed.
CIFAR2_LABELS = {0: 0, 2: 1}
BOOK_MEAN = (0.4915, 0.4823, 0.4468)
BOOK_STD = (0.2470, 0.2435, 0.2616)
LAYOUT = f"a directory holding {BASE_FOLDER}/ (data_batch_1..5, {TEST_FILE}, {META_FILE}), as torchvision downloads it"


def _files(dataset_class: type) -> list:
    """[(file name, expected MD5)] of every file ``dataset_class`` reads."""
    return [tuple(entry) for entry in dataset_class.train_list + dataset_class.test_list] + [
        (dataset_class.meta["filename"], dataset_class.meta["md5"])
    ]


def find_problem(root: Path, dataset_class: type = CIFAR10) -> DataFileError | None:
    """The first thing wrong with ``root`` as a CIFAR-10 directory for ``dataset_class`` (torchvision's
    CIFAR10: the real archive's checksums), as the error to raise; None when every file checks out."""
    root = Path(root)
    if not root.exists():
        return DataFileError(root, f"no such directory (it should be {LAYOUT})")
    if not root.is_dir():
        return DataFileError(root, f"is a file, not a directory (it should be {LAYOUT})")
    folder = root / BASE_FOLDER
    if not folder.exists():
        if (root / TRAIN_FILES[0]).exists():
            return DataFileError(root, f"is the {BASE_FOLDER} folder itself: pass the directory that holds it")
        if not any(root.iterdir()):
            return DataFileError(root, f"the directory is empty (it should be {LAYOUT}; nothing is downloaded)")
        return DataFileError(root, f"no {BASE_FOLDER}/ folder in it (it should be {LAYOUT})")
    if not folder.is_dir():
        return DataFileError(folder, "is a file, not a folder")
    files = _files(dataset_class)
    for name, _ in files:
        if not (folder / name).is_file():
            return DataFileError(
                folder / name,
                f"is missing (a CIFAR-10 directory has all of data_batch_1..5, {TEST_FILE} and {META_FILE})",
            )
    for name, md5 in files:
        if not check_integrity(str(folder / name), md5):
            return DataFileError(folder / name, "is corrupt: its MD5 checksum is not the one in CIFAR-10's archive")
    return None


def check_cifar10_root(root, dataset_class: type = CIFAR10) -> Path:
    """``root`` as a Path when it holds CIFAR-10 (every file present and matching its checksum), else one
    DataFileError naming the directory or file and the problem."""
    problem = find_problem(Path(root), dataset_class)
    if problem is not None:
        raise problem
    return Path(root)


def open_cifar10(root, train: bool = True, transform=None, dataset_class: type = CIFAR10) -> CIFAR10:
    """``dataset_class(root, train=train, transform=transform, download=False)``, or one DataFileError."""
    root = Path(root)
    try:
        return dataset_class(str(root), train=train, transform=transform, download=False)
    except (RuntimeError, OSError, EOFError, pickle.UnpicklingError, KeyError, ValueError) as err:
        problem = find_problem(root, dataset_class)
        if problem is None:  # every checksum matches, yet reading failed: a file that is no CIFAR-10 batch
            problem = DataFileError(
                root / BASE_FOLDER,
                f"not a readable CIFAR-10 batch file ({type(err).__name__}: "
                f"{str(err).splitlines()[0] if str(err) else ''})",
            )
        raise problem from err


def first_cifar2_image(cifar10: CIFAR10) -> tuple:
    """The book's ``img, label = cifar2[0]`` from a CIFAR-10 training set opened without a transform: its first
    airplane or bird, through ``transforms.Compose([ToTensor(), Normalize(BOOK_MEAN, BOOK_STD)])``, and its
    CIFAR-2 label. The notebooks build the whole list, ``cifar2 = [(img, label_map[label]) for img, label in
    cifar10 if label in [0, 2]]``; its first item is this one, found by the labels alone."""
    first = next(i for i, label in enumerate(cifar10.targets) if label in CIFAR2_LABELS)
    img, label = cifar10[first]
    to_normalized_tensor = transforms.Compose([transforms.ToTensor(), transforms.Normalize(BOOK_MEAN, BOOK_STD)])
    return to_normalized_tensor(img), CIFAR2_LABELS[label]
