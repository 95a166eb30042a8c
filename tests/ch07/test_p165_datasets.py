"""Chapter 7, page 165: torchvision's CIFAR-10 is a Dataset of (PIL image, label) pairs, read offline."""
import hashlib
import pickle

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import Dataset

from claims.errors import DataFileError
from fixtures.cifar import BASE_FOLDER, META_FILE, open_cifar10, write_cifar10

PROTOCOL = "ch07.torchvision-datasets-are-datasets-of-image-label-pairs"
SIZES = "ch07.cifar10-has-50000-training-and-10000-validation-images"
OFFLINE = "ch07.dataset-directory-must-be-present-offline"


@pytest.mark.claim(PROTOCOL)
def test_cifar10_dataset_protocol_on_generated_files(cifar10_generated, device):
    """p.165: torchvision.datasets.CIFAR10 is a torch Dataset: len() counts the images and
    dataset[i] is (PIL RGB image 32x32, int label), here read from pickles in CIFAR-10's layout."""
    gen = cifar10_generated
    train = open_cifar10(gen.root, train=True, dataset_class=gen.dataset_class())
    val = open_cifar10(gen.root, train=False, dataset_class=gen.dataset_class())
    assert isinstance(train, Dataset) and hasattr(train, "__len__") and hasattr(train, "__getitem__")
    assert (len(train), len(val)) == (40, 10), f"expected 40 and 10 images, found {len(train)}, {len(val)}"
    img, label = train[13]
    assert isinstance(img, Image.Image) and img.mode == "RGB" and img.size == (32, 32)
    assert type(label) is int and label == gen.train_labels[13]
    pixels = torch.tensor(np.array(img), device=device)  # H x W x C, as PIL holds it
    assert torch.equal(pixels, torch.from_numpy(gen.train_images[13]).to(device)), "pixels differ from the file"
    assert [train[i][1] for i in range(len(train))] == gen.train_labels
    assert train.classes[0] == "airplane" and train.classes[2] == "bird"


@pytest.mark.claim(PROTOCOL)
def test_real_cifar10_items_are_image_label_pairs(real_cifar10, device):
    """p.165: on the real CIFAR-10 each item is a 32x32 RGB PIL image and an int label in 0..9;
    the classes are airplane, automobile, bird, ... truck; CIFAR-2 keeps labels 0 and 2."""
    train = real_cifar10["train"]
    img, label = train[99]
    assert isinstance(img, Image.Image) and img.mode == "RGB" and img.size == (32, 32)
    assert type(label) is int and 0 <= label <= 9
    assert train.classes == ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                             "ship", "truck"]
    labels = torch.tensor(train.targets, device=device)
    assert int(((labels == 0) | (labels == 2)).sum()) == 10000, "CIFAR-2 has 5,000 airplanes + 5,000 birds"


@pytest.mark.claim(SIZES)
def test_real_cifar10_has_50000_and_10000_images(real_cifar10, evidence):
    """p.165: CIFAR-10 holds 50,000 training and 10,000 validation images, 5,000 and 1,000 per class."""
    train, val = real_cifar10["train"], real_cifar10["val"]
    evidence.record(train=len(train), val=len(val))
    assert (len(train), len(val)) == (50000, 10000), f"expected 50,000/10,000, found {len(train)}/{len(val)}"
    assert np.bincount(train.targets).tolist() == [5000] * 10
    assert np.bincount(val.targets).tolist() == [1000] * 10


@pytest.mark.claim(SIZES)
def test_dataset_length_is_what_the_batch_files_hold(tmp_path):
    """p.165: the dataset's length is the number of rows in the five data_batch files (the real ones
    hold 10,000 each); generated with 3 rows per file, CIFAR10 has 15 training images."""
    gen = write_cifar10(tmp_path, per_batch=3, n_test=2, seed=1)
    assert len(open_cifar10(tmp_path, train=True, dataset_class=gen.dataset_class())) == 15
    assert len(open_cifar10(tmp_path, train=False, dataset_class=gen.dataset_class())) == 2


def _truncate(path):
    path.write_bytes(path.read_bytes()[:100])


BREAKS = {
    "missing directory": (lambda d: None, "the directory does not exist"),
    "no batches folder": (lambda d: (d / "x").mkdir(), f"no {BASE_FOLDER}/ folder"),
    "missing batch": (lambda d: (d / BASE_FOLDER / "data_batch_3").unlink(), "data_batch_3 is missing"),
    "truncated batch": (lambda d: _truncate(d / BASE_FOLDER / "data_batch_2"), "data_batch_2 is corrupt"),
    "missing meta": (lambda d: (d / BASE_FOLDER / META_FILE).unlink(), f"{META_FILE} is missing"),
}


@pytest.mark.claim(OFFLINE)
@pytest.mark.parametrize("broken", sorted(BREAKS))
def test_broken_directory_gives_one_clear_error(tmp_path, broken):
    """p.165: with download=False torchvision only reads an intact cifar-10-batches-py directory;
    a missing or corrupt one is one DataFileError naming the directory and what is wrong."""
    make_broken, problem = BREAKS[broken]
    root = tmp_path / "cifar"
    if broken == "missing directory":
        dataset_class = write_cifar10(tmp_path / "elsewhere", per_batch=2, n_test=2).dataset_class()
    elif broken == "no batches folder":
        root.mkdir()
        dataset_class = write_cifar10(tmp_path / "elsewhere", per_batch=2, n_test=2).dataset_class()
    else:
        dataset_class = write_cifar10(root, per_batch=2, n_test=2).dataset_class()
    make_broken(root)
    with pytest.raises(DataFileError) as err:
        open_cifar10(root, dataset_class=dataset_class)
    message = str(err.value)
    assert str(root) in message and problem in message, f"expected {root} and {problem!r} in {message!r}"
    assert "\n" not in message


@pytest.mark.claim(OFFLINE)
def test_unreadable_pickle_gives_one_clear_error(tmp_path):
    """p.165: a batch file that is not a pickled dict of data and labels (its checksum registered, so
    torchvision reads it) is one DataFileError too, not a pickle traceback."""
    gen = write_cifar10(tmp_path, per_batch=2, n_test=2)
    (tmp_path / BASE_FOLDER / "data_batch_1").write_bytes(pickle.dumps({"nothing": 1}))
    gen.md5["data_batch_1"] = hashlib.md5((tmp_path / BASE_FOLDER / "data_batch_1").read_bytes()).hexdigest()
    with pytest.raises(DataFileError, match="not a readable CIFAR-10 batch file"):
        open_cifar10(tmp_path, dataset_class=gen.dataset_class())


@pytest.mark.claim(OFFLINE)
def test_generated_files_are_not_the_real_cifar10(cifar10_generated):
    """p.165: download=False with the real archive's checksums refuses files that are not CIFAR-10's
    (here the generated ones): torchvision's integrity check is what makes a directory trustworthy."""
    with pytest.raises(DataFileError, match="data_batch_1 is corrupt: its MD5 checksum does not match"):
        open_cifar10(cifar10_generated.root)
