"""Chapter 7, page 189: the limits of nn.Linear: no translation invariance, and many parameters.

The translation experiment is statistical (random data, random starts): ``test_sweeps.py`` runs it for 50
seeds (``python -m pytest tests/ch07 -m sweep``); the margins are written beside the assertions.
"""

import pytest
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from claims.book.models import fc_deep, fc_small, n_parameters
from claims.book.training import accuracy, training_loop
from claims.experiments.threads import one_cpu_thread
from fixtures.images import bars

INVARIANCE = "ch07.fully-connected-is-not-translation-invariant"
COUNTS = "ch07.fully-connected-models-have-the-books-parameter-counts"


def placed(n, generator, at):
    """n 3x16x16 images on faint noise with one of the `bars` patterns (8x8: a horizontal or a
    vertical bar) pasted with its top-left corner at (at, at)."""
    patch, labels = bars(n, generator, size=8, bar_length=6, bar_width=2, noise=0.0)
    imgs = 0.1 * torch.rand(n, 3, 16, 16, generator=generator)
    window = imgs[:, :, at : at + 8, at : at + 8]
    imgs[:, :, at : at + 8, at : at + 8] = torch.max(window, patch)
    return imgs, labels


def trained(model, imgs, labels, device):
    model = model.to(device)
    loader = DataLoader(TensorDataset(imgs, labels), batch_size=32, shuffle=True)
    # These nets are tiny: one CPU thread trains them in about 0.3 s, while two OpenMP threads on a busy
    # machine spin on every small op and took up to 14 s.
    with one_cpu_thread():
        training_loop(12, torch.optim.Adam(model.parameters(), lr=1e-2), model, nn.NLLLoss(), loader, device=device)
    return model


def translation_scores(device, seed: int) -> dict:
    """Trained on bars in the top-left 8x8 corner of 16x16 images (256 images, 12 epochs of Adam, starts
    and data drawn on the CPU from ``seed``): each net's accuracy on new top-left images ("in_place") and
    on the same patterns moved to the bottom-right ("shifted")."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    train, same, shifted = placed(256, g, 0), placed(256, g, 0), placed(256, g, 8)
    fully_connected = nn.Sequential(
        nn.Flatten(), nn.Linear(3 * 16 * 16, 32), nn.Tanh(), nn.Linear(32, 2), nn.LogSoftmax(dim=1)
    )
    conv = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveMaxPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 2),
        nn.LogSoftmax(dim=1),
    )
    scores = {}
    for name, model in [("fully_connected", fully_connected), ("conv", conv)]:
        model = trained(model, *train, device)
        scores[name] = {
            "in_place": accuracy(model, [same], device=device),
            "shifted": accuracy(model, [shifted], device=device),
        }
    return scores


@pytest.mark.claim(INVARIANCE)
def test_fully_connected_fails_on_shifted_pattern_where_conv_does_not(device, seed, evidence):
    """p.189: trained on bars in the top-left 8x8 corner, a fully connected net (Linear -> Tanh ->
    Linear -> LogSoftmax) classifies new top-left images but is near chance on the same patterns moved
    to the bottom-right: what it learned in one place does not carry over. A conv net with max pooling
    over the image, trained the same way, recognizes them anywhere (so the shifted task is learnable)."""
    scores = translation_scores(device, seed)
    evidence.record(**scores)

    fc, cv = scores["fully_connected"], scores["conv"]
    # 50 seeds on the CPU, torch 2.14 | 1.4: fully connected 0.95-1.0 | 0.92-1.0 in place and 0.39-0.60 |
    # 0.36-0.61 shifted; conv net 0.95-1.0 shifted. The test asks >= 0.85, <= 0.7 and >= 0.9.
    assert fc["in_place"] >= 0.85, f"the fully connected net should learn the pattern in place: {fc}"
    assert fc["shifted"] <= 0.7, f"expected the fully connected net near chance when shifted: {fc}"
    assert cv["shifted"] >= 0.9, f"expected the conv net to recognize the shifted pattern: {cv}"


@pytest.mark.claim(COUNTS)
def test_book_fully_connected_parameter_counts(evidence):
    """p.187-189: the book's counts: 3,737,474 for 3072 -> 1024 -> 512 -> 128 -> 2, 1,574,402 for
    3072 -> 512 -> 2 (per tensor 1572864, 512, 1024, 2), and the first layers alone 1,573,376
    (Linear(3072, 512)) and 3,146,752 (Linear(3072, 1024)): 3072 weights per output, plus its bias."""
    deep, small = fc_deep(), fc_small()
    counts = {
        "fc_deep": n_parameters(deep),
        "fc_small": n_parameters(small),
        "linear_3072_512": n_parameters(nn.Linear(3072, 512)),
        "linear_3072_1024": n_parameters(nn.Linear(3072, 1024)),
    }
    evidence.record(**counts)
    assert counts == {
        "fc_deep": 3737474,
        "fc_small": 1574402,
        "linear_3072_512": 1573376,
        "linear_3072_1024": 3146752,
    }, counts
    assert [p.numel() for p in small.parameters()] == [1572864, 512, 1024, 2]
    assert [p.numel() for p in deep.parameters()] == [3145728, 1024, 524288, 512, 65536, 128, 256, 2]
