"""Chapter 7, page 170: per-channel mean and std with view(3, -1); Normalize; Compose.

The book's printed mean and std are a claim about the real CIFAR-10 (``--cifar10-root``; skipped without it);
why the printed mean changed in torch 1.7 is shown without the data in ``test_p170_float32_mean.py``. How
view(3, -1) gives per-channel statistics is checked on generated files in CIFAR-10's layout.
"""

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms

from claims.compat import assert_close
from fixtures.cifar import open_cifar10

PER_CHANNEL = "ch07.view-3-minus-1-gives-per-channel-statistics"
BOOK_STATS = "ch07.cifar10-mean-and-std-are-the-books"
NORMALIZE = "ch07.normalize-gives-zero-mean-unit-std-per-channel"
COMPOSE = "ch07.compose-applies-transforms-in-order"

BOOK_MEAN = (0.4915, 0.4823, 0.4468)
BOOK_STD = (0.2470, 0.2435, 0.2616)


def stacked(dataset) -> torch.Tensor:
    """The book's code: torch.stack([img_t for img_t, _ in tensor_cifar10], dim=3) -> [3, 32, 32, N]."""
    return torch.stack([img_t for img_t, _ in dataset], dim=3)


@pytest.mark.claim(PER_CHANNEL)
def test_view_3_minus_1_gives_per_channel_statistics(cifar10_generated, device, one_cpu_thread):
    """p.170: imgs.view(3, -1) keeps the channel first and lays every pixel of every image out after
    it, so .mean(dim=1) and .std(dim=1) are per-channel statistics (checked against numpy on the
    generated files, whose channels have different ranges)."""
    gen = cifar10_generated
    imgs = stacked(open_cifar10(gen.root, transform=transforms.ToTensor(), dataset_class=gen.dataset_class()))
    imgs = imgs.to(device)
    assert imgs.shape == (3, 32, 32, 40)
    pixels = gen.train_images.reshape(-1, 3) / 255.0  # numpy, float64: one row per pixel
    assert_close(imgs.view(3, -1).mean(dim=1).cpu().double(), torch.from_numpy(pixels.mean(axis=0)), rtol=0, atol=1e-6)
    assert_close(
        imgs.view(3, -1).std(dim=1).cpu().double(), torch.from_numpy(pixels.std(axis=0, ddof=1)), rtol=0, atol=1e-6
    )


@pytest.mark.claim(BOOK_STATS)
def test_real_cifar10_mean_and_std_print_as_the_books(real_cifar10_stacked, amended, evidence, one_cpu_thread):
    """p.170: on the 50,000 real training images, stacked as the book does into torch.Size([3, 32, 32,
    50000]), the book's cells imgs.view(3, -1).mean(dim=1) and .std(dim=1), on the CPU, print the book's
    tensor([0.4915, 0.4823, 0.4468]) and tensor([0.2470, 0.2435, 0.2616]) before torch 1.7; from 1.7, whose
    float32 sum is exact to about 1e-7 (test_p170_float32_mean.py), the mean prints as the second edition's,
    tensor([0.4914, 0.4822, 0.4465]), the exact mean's digits, and the std as before."""
    imgs = real_cifar10_stacked
    assert imgs.shape == torch.Size([3, 32, 32, 50000]), (
        f"the book printed torch.Size([3, 32, 32, 50000]): {imgs.shape}"
    )
    mean, std = imgs.view(3, -1).mean(dim=1), imgs.view(3, -1).std(dim=1)
    printed = (str(mean), str(std))
    evidence.record(mean=mean.tolist(), std=std.tolist(), printed=list(printed))
    book_mean = "tensor([0.4914, 0.4822, 0.4465])" if amended else "tensor([0.4915, 0.4823, 0.4468])"
    assert printed == (book_mean, "tensor([0.2470, 0.2435, 0.2616])"), f"expected ({book_mean}, the std): {printed}"


@pytest.mark.claim(NORMALIZE)
def test_normalize_with_the_data_statistics_gives_mean_0_std_1(cifar10_generated, device, evidence, one_cpu_thread):
    """p.170: transforms.Normalize(mean, std) given the per-channel mean and std of the images (computed the
    book's way, view(3, -1)) gives, per channel, mean 0 and std 1 over the same images: each image normalized
    on the device, as a dataset's transform normalizes each item."""
    gen = cifar10_generated
    imgs = stacked(open_cifar10(gen.root, transform=transforms.ToTensor(), dataset_class=gen.dataset_class()))
    imgs = imgs.to(device)  # [3, 32, 32, 40]
    mean, std = imgs.view(3, -1).mean(dim=1), imgs.view(3, -1).std(dim=1)
    normalize = transforms.Normalize(mean.tolist(), std.tolist())
    normalized = torch.stack([normalize(img_t) for img_t in imgs.permute(3, 0, 1, 2)], dim=3)
    flat = normalized.view(3, -1)
    evidence.record(raw_mean=mean, normalized_mean=flat.mean(dim=1), normalized_std=flat.std(dim=1))
    assert (mean.max() - mean.min()) > 0.1, "the raw channels differ, so the check is per channel"
    assert_close(flat.mean(dim=1), torch.zeros(3, device=device), rtol=0, atol=1e-5)
    assert_close(flat.std(dim=1), torch.ones(3, device=device), rtol=0, atol=1e-5)


@pytest.mark.claim(NORMALIZE)
def test_normalize_is_per_channel_subtract_and_divide(device):
    """p.170: the book's transforms.Normalize((0.4915, 0.4823, 0.4468), (0.2470, 0.2435, 0.2616)), which
    prints as Normalize(mean=(0.4915, 0.4823, 0.4468), std=(0.247, 0.2435, 0.2616)), computes
    (x[c] - mean[c]) / std[c], channel by channel."""
    normalize = transforms.Normalize((0.4915, 0.4823, 0.4468), (0.2470, 0.2435, 0.2616))
    assert repr(normalize) == "Normalize(mean=(0.4915, 0.4823, 0.4468), std=(0.247, 0.2435, 0.2616))", repr(normalize)
    x = torch.rand(3, 4, 5, device=device)
    mean, std = torch.tensor(BOOK_MEAN, device=device), torch.tensor(BOOK_STD, device=device)
    assert_close(normalize(x), (x - mean[:, None, None]) / std[:, None, None], rtol=1e-6, atol=1e-6)


@pytest.mark.claim(COMPOSE)
def test_compose_applies_transforms_in_the_listed_order():
    """p.170: Compose([a, b])(x) is b(a(x)): two Normalize steps give different results in the two
    orders, each matching the composition by hand (on the host, where a dataset applies its transforms)."""
    x = torch.rand(3, 4, 4)
    a, b = transforms.Normalize([0.5] * 3, [0.25] * 3), transforms.Normalize([1.0] * 3, [2.0] * 3)
    assert_close(transforms.Compose([a, b])(x), b(a(x)), rtol=0, atol=0)
    assert_close(transforms.Compose([b, a])(x), a(b(x)), rtol=0, atol=0)
    assert not torch.allclose(b(a(x)), a(b(x))), "the order must matter for these two transforms"


@pytest.mark.claim(COMPOSE)
def test_compose_needs_to_tensor_before_normalize(rng):
    """p.170: the book's Compose([ToTensor(), Normalize(...)]) works on a PIL image; in the other order
    Normalize receives the PIL image and refuses it."""
    img = Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))
    normalize = transforms.Normalize(list(BOOK_MEAN), list(BOOK_STD))
    with pytest.raises(TypeError, match="(?i)tensor"):
        transforms.Compose([normalize, transforms.ToTensor()])(img)
    out = transforms.Compose([transforms.ToTensor(), normalize])(img)
    assert out.shape == (3, 8, 8) and out.dtype == torch.float32
    assert_close(
        out,
        (transforms.ToTensor()(img) - torch.tensor(BOOK_MEAN)[:, None, None]) / torch.tensor(BOOK_STD)[:, None, None],
        rtol=1e-6,
        atol=1e-6,
    )
