"""Chapter 7, page 165: torchvision's CIFAR-10 is a Dataset of (PIL image, label) pairs, read offline.

Three claims: what torchvision's CIFAR10 class does, checked on small files written in CIFAR-10's own
layout (``fixtures/cifar.py``); what the real data set holds, checked only with ``--cifar10-root`` (skipped
without it); and how torchvision refuses a missing or corrupt directory. The suite's own one-line errors
for a bad ``--cifar10-root`` are tested in ``tests/harness/test_cifar_root.py``.
"""

import numpy as np
import pytest
from PIL import Image
from torch.utils.data import Dataset
from torchvision.datasets import CIFAR10

from fixtures.cifar import BASE_FOLDER, write_cifar10

PROTOCOL = "ch07.torchvision-datasets-are-datasets-of-image-label-pairs"
SIZES = "ch07.cifar10-has-50000-training-and-10000-validation-images"
OFFLINE = "ch07.dataset-directory-must-be-present-offline"

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
REFUSAL = "Dataset not found or corrupted"  # torchvision's RuntimeError, 0.5 to today


@pytest.mark.claim(PROTOCOL)
def test_cifar10_dataset_protocol_on_generated_files(cifar10_generated):
    """p.165: torchvision.datasets.CIFAR10 is a torch Dataset: len() counts the images and dataset[i] is
    (PIL RGB image 32x32, int label), the pixels and labels of the pickle files it read."""
    gen = cifar10_generated
    cifar10 = gen.dataset_class()
    train = cifar10(str(gen.root), train=True, download=False)
    val = cifar10(str(gen.root), train=False, download=False)
    assert isinstance(train, Dataset)
    assert (len(train), len(val)) == (40, 10), f"expected 40 and 10 images, found {len(train)}, {len(val)}"
    img, label = train[13]
    assert isinstance(img, Image.Image) and img.mode == "RGB" and img.size == (32, 32)
    assert type(label) is int and label == gen.train_labels[13]
    assert np.array_equal(np.array(img), gen.train_images[13]), "the pixels (H x W x C, as PIL holds them) differ"
    assert [train[i][1] for i in range(len(train))] == gen.train_labels
    assert train.classes == CLASSES, f"the class names of batches.meta, found {train.classes}"


@pytest.mark.claim(PROTOCOL)
def test_dataset_length_is_what_the_batch_files_hold(tmp_path):
    """p.165: the dataset's length is the number of rows in the five data_batch files (the real ones hold
    10,000 each) or in test_batch: generated with 3 rows per file, CIFAR10 has 15 training images."""
    cifar10 = write_cifar10(tmp_path, per_batch=3, n_test=2, seed=1).dataset_class()
    assert len(cifar10(str(tmp_path), train=True, download=False)) == 5 * 3
    assert len(cifar10(str(tmp_path), train=False, download=False)) == 2


@pytest.mark.claim(SIZES)
def test_real_cifar10_has_50000_and_10000_images(real_cifar10, evidence):
    """p.165: CIFAR-10 holds 50,000 training and 10,000 validation images, 5,000 and 1,000 per class."""
    train, val = real_cifar10["train"], real_cifar10["val"]
    evidence.record(train=len(train), val=len(val))
    assert (len(train), len(val)) == (50000, 10000), f"expected 50,000/10,000, found {len(train)}/{len(val)}"
    assert np.bincount(train.targets).tolist() == [5000] * 10
    assert np.bincount(val.targets).tolist() == [1000] * 10


@pytest.mark.claim(SIZES)
def test_real_cifar10_items_are_32x32_rgb_in_ten_classes(real_cifar10):
    """p.165: on the real CIFAR-10 each item is a 32x32 RGB PIL image and an int label in 0..9; the
    classes are airplane, automobile, bird, ... truck; CIFAR-2 keeps labels 0 and 2: 10,000 images."""
    train = real_cifar10["train"]
    img, label = train[99]
    assert isinstance(img, Image.Image) and img.mode == "RGB" and img.size == (32, 32)
    assert type(label) is int and 0 <= label <= 9
    assert train.classes == CLASSES
    cifar2 = [label for label in train.targets if label in (0, 2)]
    assert len(cifar2) == 10000, f"CIFAR-2 has 5,000 airplanes + 5,000 birds, found {len(cifar2)}"


def _truncate(path):
    path.write_bytes(path.read_bytes()[:100])


BREAKS = {  # how to break a generated directory, in place
    "missing directory": lambda root: None,
    "missing batch file": lambda root: (root / BASE_FOLDER / "data_batch_3").unlink(),
    "truncated batch file": lambda root: _truncate(root / BASE_FOLDER / "data_batch_2"),
}


@pytest.mark.claim(OFFLINE)
@pytest.mark.parametrize("broken", sorted(BREAKS))
def test_torchvision_refuses_a_missing_or_corrupt_directory(tmp_path, broken):
    """p.165: with download=False, CIFAR10 checks the directory before it reads anything: a missing
    directory, a missing file or one whose MD5 checksum does not match is torchvision's RuntimeError
    "Dataset not found or corrupted", not a failure halfway through reading, and nothing is downloaded."""
    root = tmp_path / "cifar"
    cifar10 = write_cifar10(tmp_path / "intact", per_batch=2, n_test=2).dataset_class()  # its checksums
    if broken != "missing directory":
        cifar10 = write_cifar10(root, per_batch=2, n_test=2).dataset_class()
    BREAKS[broken](root)
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    with pytest.raises(Exception) as raised:
        cifar10(str(root), train=True, download=False)
    assert isinstance(raised.value, RuntimeError) and REFUSAL in str(raised.value), (
        f"expected torchvision's RuntimeError '{REFUSAL}', got {type(raised.value).__name__}: {raised.value}"
    )
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before, "download=False must not fetch or write anything"


@pytest.mark.claim(OFFLINE)
def test_generated_files_are_not_the_real_cifar10(cifar10_generated):
    """p.165: with the real archive's checksums (torchvision's CIFAR10 as it is) the generated files are
    refused, though every one is a well-formed CIFAR-10 pickle: the MD5 check is what makes a directory
    the real data set."""
    with pytest.raises(Exception) as raised:
        CIFAR10(str(cifar10_generated.root), train=True, download=False)
    assert isinstance(raised.value, RuntimeError) and REFUSAL in str(raised.value), (
        f"expected torchvision's RuntimeError '{REFUSAL}', got {type(raised.value).__name__}: {raised.value}"
    )
