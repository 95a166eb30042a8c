"""Chapter 7, page 165: torchvision's CIFAR-10 is a Dataset of (PIL image, label) pairs, downloaded once.

Four claims: what torchvision's CIFAR10 class does, checked on small files written in CIFAR-10's own
layout (``fixtures/cifar.py``); what the real data set holds, checked only with ``--cifar10-root`` (skipped
without it); how torchvision refuses a missing or corrupt directory with download=False; and what
download=True fetches. No test reaches the network: torchvision's download function is replaced by one
that records the call. The suite's own one-line errors for a bad ``--cifar10-root`` are tested in
``tests/harness/test_cifar_root.py``.
"""

import shutil
from pathlib import Path

import numpy as np
import pytest
import torchvision.datasets.cifar as cifar_module
from PIL import Image
from torch.utils.data import Dataset
from torchvision import transforms
from torchvision.datasets import CIFAR10

from fixtures.cifar import BASE_FOLDER, META_FILE, tamper, write_cifar10

PROTOCOL = "ch07.torchvision-datasets-are-datasets-of-image-label-pairs"
SIZES = "ch07.cifar10-has-50000-training-and-10000-validation-images"
OFFLINE = "ch07.dataset-directory-must-be-present-offline"
DOWNLOAD = "ch07.download-true-fetches-only-a-missing-or-corrupt-copy"

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
REFUSAL = "Dataset not found or corrupted"  # torchvision's RuntimeError for the batch files, 0.5 to today
META_REFUSAL = "Dataset metadata file not found or corrupted"  # ... and for batches.meta
# What CIFAR10(download=True) fetches: (url, file name, MD5 of the archive), torchvision 0.5 to today.
ARCHIVE = (
    "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    "cifar-10-python.tar.gz",
    "c58f30108f718f92721af3b95e74349a",
)


def record_fetches(monkeypatch, extracts=None) -> list:
    """Replace torchvision's download_and_extract_archive (as CIFAR10 calls it) by a recorder: each call
    appends (url, filename, md5) to the list returned, and copies the folder ``extracts`` (if given) where
    the archive would have been extracted. Nothing is downloaded."""
    fetched = []

    def fetch(url, download_root, *args, filename=None, md5=None, **kwargs):
        fetched.append((url, filename, md5))
        if extracts is not None:
            shutil.copytree(str(extracts), str(Path(download_root) / BASE_FOLDER), dirs_exist_ok=True)

    monkeypatch.setattr(cifar_module, "download_and_extract_archive", fetch)
    return fetched


def class_names(classes) -> list:
    """``module.Name`` of each class, as IPython prints a type."""
    return [f"{c.__module__}.{c.__qualname__}".replace("builtins.", "") for c in classes]


@pytest.mark.claim(PROTOCOL)
def test_cifar10_dataset_protocol_on_generated_files(cifar10_generated, amended):
    """p.165: torchvision.datasets.CIFAR10 is a torch Dataset: the notebook's type(cifar10).__mro__ printed
    (CIFAR10, VisionDataset, Dataset, object); from torch 1.7, whose Dataset is a typing.Generic, typing.Generic
    comes between Dataset and object, as the second edition printed. len() counts the images and dataset[i] is
    (PIL RGB image 32x32, int label), the pixels and labels of the pickle files it read."""
    printed = class_names(CIFAR10.__mro__)
    book = [
        "torchvision.datasets.cifar.CIFAR10",
        "torchvision.datasets.vision.VisionDataset",
        "torch.utils.data.dataset.Dataset",
        "object",
    ]
    expected = book[:3] + ["typing.Generic", "object"] if amended else book
    assert printed == expected, f"type(cifar10).__mro__ on this torch should print {expected}, got {printed}"
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
def test_dataset_length_and_class_names_are_what_the_files_hold(tmp_path):
    """p.165: the dataset's length is the number of rows in the five data_batch files (the real ones hold
    10,000 each) or in test_batch, and its class names are those batches.meta lists: generated with 3 rows
    per file and the names "class 0" .. "class 9", CIFAR10 has 15 training images with those names."""
    names = [f"class {i}" for i in range(10)]
    cifar10 = write_cifar10(tmp_path, per_batch=3, n_test=2, seed=1, label_names=names).dataset_class()
    train = cifar10(str(tmp_path), train=True, download=False)
    assert len(train) == 5 * 3
    assert len(cifar10(str(tmp_path), train=False, download=False)) == 2
    assert train.classes == names, f"the names in batches.meta, found {train.classes}"


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
    """p.165: on the real CIFAR-10 each item is a 32x32 RGB PIL image and an int label in 0..9 (the arrays
    the items are made from are 50,000 and 10,000 images of 32 x 32 x 3 bytes); the classes are airplane,
    automobile, bird, ... truck; CIFAR-2 keeps labels 0 and 2: 10,000 images."""
    train, val = real_cifar10["train"], real_cifar10["val"]
    shapes = (train.data.shape, str(train.data.dtype), val.data.shape, str(val.data.dtype))
    assert shapes == ((50000, 32, 32, 3), "uint8", (10000, 32, 32, 3), "uint8"), f"the images' arrays: {shapes}"
    assert set(train.targets) == set(val.targets) == set(range(10))
    img, label = train[99]
    assert isinstance(img, Image.Image) and img.mode == "RGB" and img.size == (32, 32)
    assert type(label) is int and 0 <= label <= 9
    assert train.classes == CLASSES
    cifar2 = [label for label in train.targets if label in (0, 2)]
    assert len(cifar2) == 10000, f"CIFAR-2 has 5,000 airplanes + 5,000 birds, found {len(cifar2)}"


@pytest.mark.claim(SIZES)
def test_the_books_sample_is_an_automobile_spanning_0_to_1(real_cifar10):
    """p.166-168: the book's sample, cifar10[99], prints as a 32x32 RGB PIL image with label 1,
    'automobile'; through ToTensor its darkest and brightest values are exactly 0 and 1, as printed."""
    img, label = real_cifar10["train"][99]
    assert repr(img).startswith("<PIL.Image.Image image mode=RGB size=32x32"), repr(img)
    assert (label, CLASSES[label]) == (1, "automobile"), f"cifar10[99] has label {label}"
    img_t = transforms.ToTensor()(img)
    printed = (str(img_t.min()), str(img_t.max()))
    assert printed == ("tensor(0.)", "tensor(1.)"), f"the book printed (tensor(0.), tensor(1.)), got {printed}"


def one_pixel_changed(entry: dict) -> None:
    entry["data"][0, 0] ^= 1  # the first red value of the first image, one step brighter or darker


def first_class_renamed(entry: dict) -> None:
    entry["label_names"][0] = "aeroplane"


def one_key_added(entry: dict) -> None:
    entry["extra"] = 1


BREAKS = {  # how to break a copy of a generated directory, in place, and the refusal torchvision gives
    "missing directory": (lambda folder: shutil.rmtree(str(folder.parent)), REFUSAL),
    "missing batch file": (lambda folder: (folder / "data_batch_3").unlink(), REFUSAL),
    "truncated batch file": (lambda folder: (folder / "data_batch_2").write_bytes(b"\x80\x02}"), REFUSAL),
    "one pixel changed in a batch file": (lambda folder: tamper(folder / "data_batch_4", one_pixel_changed), REFUSAL),
    "missing batches.meta": (lambda folder: (folder / META_FILE).unlink(), META_REFUSAL),
    "one class renamed in batches.meta": (lambda folder: tamper(folder / META_FILE, first_class_renamed), META_REFUSAL),
    "batches.meta and a batch file corrupt": (  # the batch files are checked first, before reading
        lambda folder: [tamper(folder / name, one_key_added) for name in (META_FILE, "test_batch")],
        REFUSAL,
    ),
}


@pytest.mark.claim(OFFLINE)
@pytest.mark.parametrize("broken", list(BREAKS))
def test_torchvision_refuses_a_missing_or_corrupt_directory(cifar10_generated, tmp_path, monkeypatch, broken):
    """p.165: with download=False, CIFAR10 checks the MD5 of the five data_batch files and test_batch
    before it reads anything: a missing directory, a missing file, or a corrupt one (even one that still
    reads, with one pixel changed) is torchvision's RuntimeError "Dataset not found or corrupted", and nothing
    is downloaded. batches.meta it checks after reading the batches: a missing or changed batches.meta is
    "Dataset metadata file not found or corrupted", unless a batch file is corrupt too."""
    break_it, refusal = BREAKS[broken]
    folder = tmp_path / "cifar" / BASE_FOLDER
    shutil.copytree(str(cifar10_generated.directory), str(folder))
    break_it(folder)
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    fetched = record_fetches(monkeypatch)
    with pytest.raises(Exception) as raised:
        cifar10_generated.dataset_class()(str(tmp_path / "cifar"), train=True, download=False)
    assert isinstance(raised.value, RuntimeError) and str(raised.value).startswith(refusal), (
        f"expected torchvision's RuntimeError '{refusal}', got {type(raised.value).__name__}: {raised.value}"
    )
    assert fetched == [], f"download=False must download nothing, it fetched {fetched}"
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before, "download=False must not write anything"


@pytest.mark.claim(OFFLINE)
def test_generated_files_are_not_the_real_cifar10(cifar10_generated):
    """p.165: with the real archive's checksums (torchvision's CIFAR10 as it is) the generated files are
    refused, though every one is a well-formed CIFAR-10 pickle: the MD5 check is what makes a directory
    the real data set."""
    with pytest.raises(Exception) as raised:
        CIFAR10(str(cifar10_generated.root), train=True, download=False)
    assert isinstance(raised.value, RuntimeError) and str(raised.value).startswith(REFUSAL), (
        f"expected torchvision's RuntimeError '{REFUSAL}', got {type(raised.value).__name__}: {raised.value}"
    )


@pytest.mark.claim(DOWNLOAD)
@pytest.mark.parametrize("copy", ["missing", "corrupt batch file", "intact", "corrupt batches.meta"])
def test_download_true_fetches_the_archive_unless_the_batch_files_are_intact(
    cifar10_generated, tmp_path, monkeypatch, capsys, amended, copy
):
    """p.165: datasets.CIFAR10(root, train=True, download=True), the book's call, fetches CIFAR-10's archive
    when the copy under root is missing or one of its batch files fails its MD5 check (one pixel changed in
    data_batch_4), then reads it; a copy whose five data_batch files and test_batch are intact it does not
    fetch again, and says so: "Files already downloaded and verified", the book's printout (up to torchvision
    0.20; from 0.21, released with torch 2.6, it says nothing). batches.meta is not among the files it checks:
    with one class renamed there, nothing is fetched and the constructor refuses the copy ("Dataset metadata
    file not found or corrupted"). The recorded download "extracts" the generated files."""
    root = tmp_path / "cifar"
    if copy != "missing":
        shutil.copytree(str(cifar10_generated.directory), str(root / BASE_FOLDER))
    if copy == "corrupt batch file":
        tamper(root / BASE_FOLDER / "data_batch_4", one_pixel_changed)
    if copy == "corrupt batches.meta":
        tamper(root / BASE_FOLDER / META_FILE, first_class_renamed)
    fetched = record_fetches(monkeypatch, extracts=cifar10_generated.directory)
    capsys.readouterr()
    try:
        opened = len(cifar10_generated.dataset_class()(str(root), train=True, download=True))
    except RuntimeError as error:
        opened = f"refused: {error}"
    said = capsys.readouterr().out

    batches_intact = copy in ("intact", "corrupt batches.meta")
    expected = [] if batches_intact else [ARCHIVE]
    assert fetched == expected, f"expected to fetch {expected}, fetched {fetched}"
    if copy == "corrupt batches.meta":
        assert str(opened).startswith(f"refused: {META_REFUSAL}"), f"expected '{META_REFUSAL}', got {opened}"
    else:
        assert opened == 40, f"expected to read the 40 images, got {opened}"
    if batches_intact:
        expected_said = "" if amended else "Files already downloaded and verified\n"
        assert said == expected_said, f"over intact batch files it should print {expected_said!r}, got {said!r}"
