"""The experiment behind the page-131 claim on data augmentation by translations.

A fully connected network is not translation invariant (the book says so on p.189): a pattern it learned at
one place tells it nothing about the same pattern elsewhere. So a small training set, whose patterns sit at a
few places only, leaves it unable to classify them at the others; adding the training signals' translations
to the training set teaches it every place.

The task: 1-D signals of ``LENGTH`` samples, zero but for one short motif at a random place (circularly), plus
noise. With ``task="which"`` the label is which of two motifs it is, ``[+1, -1]`` or ``[-1, +1]``: of equal sum
and energy, so no feature that ignores the place (the signal's sum, its energy) tells them apart. With
``task="where"`` the motif is a bump ``[+1, +1]`` and the label is the half of the signal it sits in: a task
where translating a signal changes what its label should be.

Each setting trains ``N_NETS`` networks ``LENGTH``-``HIDDEN``-2 (tanh) at once, as ``claims.experiments.
overfitting`` does (one batched network: every weight has a leading network dimension, the objective is the
sum of the networks' mean cross-entropies, so each gets the gradient it would get alone), each on its own
``N_TRAIN`` signals with its own ``N_VAL`` validation signals, by full-batch Adam. The augmented training set
holds every training signal at every one of its ``LENGTH`` circular translations (``torch.roll``), with the
signal's label: ``LENGTH`` times the samples, made from the same signals. Everything random is drawn on the
CPU from the seed, so every device sees the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from claims.compat import full_float32
from claims.experiments.threads import one_cpu_thread

N_NETS = 12
LENGTH = 16
N_TRAIN = 16
N_VAL = 256
HIDDEN = 32
NOISE = 0.3
EPOCHS = 100
LR = 1e-2
# task: (the two motifs, what the label is)
TASKS = {
    "which": (torch.tensor([[1.0, -1.0], [-1.0, 1.0]]), "motif"),  # which of two motifs of equal sum and energy
    "where": (torch.tensor([[1.0, 1.0], [1.0, 1.0]]), "half"),  # in which half a bump sits
}


@dataclass
class Result:
    """Per network, at the end of training: the mean cross-entropy on the training signals (as given, not
    translated) and on the validation signals, and the validation accuracy."""

    train: torch.Tensor
    val: torch.Tensor
    val_accuracy: torch.Tensor

    @property
    def final_train(self) -> float:
        return self.train.mean().item()

    @property
    def final_val(self) -> float:
        return self.val.mean().item()

    @property
    def error_rate(self) -> float:
        """The networks' mean share of validation signals misclassified: the error on new data."""
        return 1.0 - self.val_accuracy.mean().item()


def make_signals(generator: torch.Generator, n: int, task: str):
    """``n`` signals per network, [networks, n, LENGTH], and their labels [networks, n]."""
    motifs, labelled_by = TASKS[task]
    motif = torch.randint(0, 2, (N_NETS, n), generator=generator)
    place = torch.randint(0, LENGTH, (N_NETS, n), generator=generator)
    x = NOISE * torch.randn(N_NETS, n, LENGTH, generator=generator)
    rows = torch.arange(N_NETS).view(-1, 1)
    for i in range(motifs.shape[1]):  # the motif's i-th sample, at place + i (circularly)
        x[rows, torch.arange(n).view(1, -1), (place + i) % LENGTH] += motifs[motif, i]
    label = motif if labelled_by == "motif" else (place >= LENGTH // 2).long()
    return x, label


def translations(x: torch.Tensor, y: torch.Tensor):
    """Every signal at each of its ``LENGTH`` circular translations, with its label: [networks, LENGTH * n, ...]."""
    shifted = torch.cat([torch.roll(x, shifts=s, dims=2) for s in range(LENGTH)], dim=1)
    return shifted, y.repeat(1, LENGTH)


def init_params(generator: torch.Generator):
    """[W1, b1, W2, b2] of every network, uniform in +-1/sqrt(fan_in) as nn.Linear's."""
    uniform = lambda *shape, fan_in: (torch.rand(*shape, generator=generator) * 2 - 1) / math.sqrt(fan_in)  # noqa: E731
    return [
        uniform(N_NETS, LENGTH, HIDDEN, fan_in=LENGTH),
        uniform(N_NETS, 1, HIDDEN, fan_in=LENGTH),
        uniform(N_NETS, HIDDEN, 2, fan_in=HIDDEN),
        uniform(N_NETS, 1, 2, fan_in=HIDDEN),
    ]


def forward(params, x):
    """Every network at once: tanh(x @ W1 + b1) @ W2 + b2, the logits [networks, signals, 2]."""
    w1, b1, w2, b2 = params
    return torch.baddbmm(b2, torch.tanh(torch.baddbmm(b1, x, w1)), w2)


def cross_entropy(logits, y):
    """The mean cross-entropy of each network, [networks]."""
    return F.cross_entropy(logits.reshape(-1, 2), y.reshape(-1), reduction="none").view(y.shape).mean(dim=1)


def train(device, seed: int = 0, task: str = "which", augment: bool = False) -> Result:
    """Train ``N_NETS`` networks on data seed ``seed``, on the training signals as drawn or (``augment``)
    with all their translations; their Result."""
    with one_cpu_thread(), full_float32():  # small tensors: one thread is faster on a CPU
        g = torch.Generator().manual_seed(seed)
        x, y = make_signals(g, N_TRAIN, task)
        x_val, y_val = make_signals(g, N_VAL, task)
        params = [p.to(device).requires_grad_() for p in init_params(g)]
        x_fit, y_fit = translations(x, y) if augment else (x, y)
        x, y, x_val, y_val, x_fit, y_fit = (t.to(device) for t in (x, y, x_val, y_val, x_fit, y_fit))
        optimizer = torch.optim.Adam(params, lr=LR)
        for _ in range(EPOCHS):
            loss = cross_entropy(forward(params, x_fit), y_fit).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            logits = forward(params, x_val)
            accuracy = (logits.argmax(dim=2) == y_val).float().mean(dim=1)
            train_loss = cross_entropy(forward(params, x), y)
            return Result(train_loss.cpu(), cross_entropy(logits, y_val).cpu(), accuracy.cpu())
