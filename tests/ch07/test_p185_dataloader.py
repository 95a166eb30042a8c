"""Chapter 7, page 185: DataLoader batches a Dataset and reshuffles it every epoch.

A DataLoader works on the host (it stacks samples before anything moves to a device), so these tests
take no device: the claim is recorded under cpu."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.utils.data import DataLoader, TensorDataset
from torchvision import transforms

from fixtures.cifar import open_cifar10

CLAIM = "ch07.dataloader-batches-and-shuffles"


@pytest.mark.claim(CLAIM)
@given(n=st.integers(1, 40), batch_size=st.integers(1, 12), drop_last=st.booleans())
def test_batch_sizes_with_and_without_drop_last(one_cpu_thread, n, batch_size, drop_last):
    """p.185: DataLoader(ds, batch_size) yields full batches and then one smaller batch with the
    remainder; drop_last=True leaves the remainder out."""
    loader = DataLoader(TensorDataset(torch.arange(n)), batch_size=batch_size, drop_last=drop_last)
    sizes = [len(batch) for (batch,) in loader]
    expected = [batch_size] * (n // batch_size)
    if n % batch_size and not drop_last:
        expected.append(n % batch_size)
    assert sizes == expected, f"n={n}, batch_size={batch_size}, drop_last={drop_last}: got {sizes}"
    assert len(loader) == len(expected)


@pytest.mark.claim(CLAIM)
def test_shuffle_visits_every_sample_once_per_epoch_in_a_new_order(evidence):
    """p.185: shuffle=True gives, each epoch, every sample exactly once in a fresh random order
    (three epochs, three different permutations of 0..19); shuffle=False keeps 0, 1, ..., 19. (The order
    comes from torch's global generator, which the suite seeds from the test's id.)"""
    data = TensorDataset(torch.arange(20))
    shuffled = DataLoader(data, batch_size=6, shuffle=True)
    epochs = [torch.cat([batch for (batch,) in shuffled]).tolist() for _ in range(3)]
    evidence.record(first_epoch_order=epochs[0])
    for order in epochs:
        assert sorted(order) == list(range(20)), f"each sample once per epoch, got {order}"
    assert len({tuple(order) for order in epochs} | {tuple(range(20))}) == 4, f"orders repeat: {epochs}"

    in_order = DataLoader(data, batch_size=6, shuffle=False)
    assert torch.cat([batch for (batch,) in in_order]).tolist() == list(range(20))


@pytest.mark.claim(CLAIM)
def test_dataloader_stacks_images_and_labels(cifar10_generated, one_cpu_thread):
    """p.185: over the generated CIFAR-10 with ToTensor, DataLoader(batch_size=16) stacks images into
    [16, 3, 32, 32] and the int labels into a [16] int64 tensor; 40 images give batches 16, 16, 8."""
    gen = cifar10_generated
    ds = open_cifar10(gen.root, transform=transforms.ToTensor(), dataset_class=gen.dataset_class())
    batches = list(DataLoader(ds, batch_size=16, shuffle=False))
    assert [imgs.shape[0] for imgs, _ in batches] == [16, 16, 8]
    imgs, labels = batches[0]
    assert imgs.shape == (16, 3, 32, 32) and labels.dtype == torch.int64
    assert labels.tolist() == gen.train_labels[:16]
    assert torch.equal(imgs[5], ds[5][0]), "batch row 5 is the dataset's item 5"
