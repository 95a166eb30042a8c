"""The suite's own errors for a CIFAR-10 directory (``claims.book.cifar``): ``check_cifar10_root``, which the
plugin runs on ``--cifar10-root`` at start-up, and ``open_cifar10``. Every problem is one DataFileError, one
line naming the directory or file and what is wrong. (What torchvision itself does with such a directory
is a claim of chapter 7: ``tests/ch07/test_p165_datasets.py``.)"""

from __future__ import annotations

import hashlib
import pickle

import pytest

from claims.book.cifar import check_cifar10_root, open_cifar10
from claims.errors import DataFileError
from fixtures.cifar import BASE_FOLDER, META_FILE, write_cifar10


def _truncate(path):
    path.write_bytes(path.read_bytes()[:100])


def _generated(tmp_path, *remove: str):
    """A generated CIFAR-10 directory tmp_path/cifar, with the named files of its batches folder removed."""
    gen = write_cifar10(tmp_path / "cifar", per_batch=2, n_test=2)
    for name in remove:
        (gen.directory / name).unlink()
    return gen


def _folder(tmp_path, *files: str):
    folder = tmp_path / "cifar"
    folder.mkdir()
    for name in files:
        (folder / name).touch()
    return folder


def _file(tmp_path):
    path = tmp_path / "cifar"
    path.write_text("not a directory")
    return path


# name -> (make the path to check under tmp_path, the path the error must name, words it must say)
BROKEN = {
    "missing directory": (lambda tmp: tmp / "cifar", "cifar", "no such directory"),
    "a file, not a directory": (_file, "cifar", "is a file, not a directory"),
    "empty directory": (_folder, "cifar", "the directory is empty"),
    "other files only": (lambda tmp: _folder(tmp, "readme.txt"), "cifar", f"no {BASE_FOLDER}/ folder in it"),
    "the batches folder itself": (
        lambda tmp: _generated(tmp).directory,
        f"cifar/{BASE_FOLDER}",
        f"is the {BASE_FOLDER} folder itself",
    ),
    "missing batch file": (
        lambda tmp: _generated(tmp, "data_batch_3").root,
        f"cifar/{BASE_FOLDER}/data_batch_3",
        "is missing",
    ),
    "missing meta file": (
        lambda tmp: _generated(tmp, META_FILE).root,
        f"cifar/{BASE_FOLDER}/{META_FILE}",
        "is missing",
    ),
}


@pytest.mark.parametrize("broken", sorted(BROKEN))
def test_check_cifar10_root_names_the_path_and_the_problem(tmp_path, broken):
    make, named, words = BROKEN[broken]
    root = make(tmp_path)
    with pytest.raises(DataFileError) as raised:
        check_cifar10_root(root)
    message = str(raised.value)
    assert message.startswith(f"{tmp_path / named}: ") and words in message, message
    assert "\n" not in message


def test_check_cifar10_root_refuses_files_that_are_not_the_real_archive(tmp_path):
    """Well-formed generated files fail the real archive's MD5 sums: the first file is named as corrupt."""
    write_cifar10(tmp_path, per_batch=2, n_test=2)
    with pytest.raises(DataFileError, match=r"data_batch_1: is corrupt: its MD5 checksum is not the one"):
        check_cifar10_root(tmp_path)


def test_check_cifar10_root_accepts_a_directory_whose_checksums_match(tmp_path):
    gen = write_cifar10(tmp_path, per_batch=2, n_test=2)
    assert check_cifar10_root(str(tmp_path), dataset_class=gen.dataset_class()) == tmp_path


def test_check_cifar10_root_names_a_truncated_file(tmp_path):
    gen = write_cifar10(tmp_path, per_batch=2, n_test=2)
    _truncate(gen.directory / "data_batch_2")
    with pytest.raises(DataFileError) as raised:
        check_cifar10_root(tmp_path, dataset_class=gen.dataset_class())
    assert str(raised.value) == (
        f"{gen.directory / 'data_batch_2'}: is corrupt: its MD5 checksum is not the one in CIFAR-10's archive"
    )


def test_open_cifar10_turns_torchvisions_refusal_into_one_line(tmp_path):
    gen = write_cifar10(tmp_path, per_batch=2, n_test=2)
    (gen.directory / "test_batch").unlink()
    with pytest.raises(DataFileError) as raised:
        open_cifar10(tmp_path, train=True, dataset_class=gen.dataset_class())
    assert str(raised.value).startswith(f"{gen.directory / 'test_batch'}: is missing"), str(raised.value)


def test_open_cifar10_names_an_unreadable_pickle(tmp_path):
    """A batch file that is not a pickled dict of data and labels, its checksum registered so that torchvision
    reads it: one DataFileError, not a KeyError traceback."""
    gen = write_cifar10(tmp_path, per_batch=2, n_test=2)
    (gen.directory / "data_batch_1").write_bytes(pickle.dumps({"nothing": 1}))
    gen.md5["data_batch_1"] = hashlib.md5((gen.directory / "data_batch_1").read_bytes()).hexdigest()
    with pytest.raises(DataFileError, match="not a readable CIFAR-10 batch file") as raised:
        open_cifar10(tmp_path, dataset_class=gen.dataset_class())
    assert "\n" not in str(raised.value)


def test_open_cifar10_of_generated_files_with_the_real_checksums(cifar10_tmp):
    with pytest.raises(DataFileError, match="data_batch_1: is corrupt"):
        open_cifar10(cifar10_tmp)


@pytest.fixture
def cifar10_tmp(tmp_path):
    write_cifar10(tmp_path, per_batch=2, n_test=2)
    return tmp_path
