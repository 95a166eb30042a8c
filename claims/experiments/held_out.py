"""The experiment behind the page-131 claim that training, validation and test sets are kept apart.

The book splits its readings two ways (p.134, ``claims.book.thermometer.split_indices``: training and
validation); the notes name a third set, the test set. ``three_way_split`` extends the book's split the same way:
torch.randperm's shuffled indices, the last 20% for the test set, the 20% before them for validation, the rest for
training (7, 2 and 2 of the 11 readings). ``fit_and_choose`` is the procedure the three sets serve: the book's
hand-written descent (p.117, lr=1e-2 on t_un) fits the line to the training set; of the epochs in CHECKPOINTS the
one with the lowest validation loss is chosen (a setting chosen on the validation set); the test loss is measured
there, once.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from claims.book.thermometer import loss_fn, model, train_by_hand

CHECKPOINTS = (3, 10, 30, 100)  # the numbers of epochs the validation set chooses from


def three_way_split(n_samples: int, generator: torch.Generator | None = None, device=None):
    """Shuffle the sample indices and keep the last 20% for the test set and the 20% before them for
    validation: ``(train_indices, val_indices, test_indices)``."""
    n_val = n_test = int(0.2 * n_samples)
    shuffled_indices = torch.randperm(n_samples, generator=generator, device=device)
    n_train = n_samples - n_val - n_test
    return shuffled_indices[:n_train], shuffled_indices[n_train : n_train + n_val], shuffled_indices[n_train + n_val :]


@dataclass
class Chosen:
    """What ``fit_and_choose`` learned and chose: the params after every epoch [epochs, 2], the validation loss
    at each of CHECKPOINTS, the number of epochs chosen and the test loss there."""

    params_after: torch.Tensor
    val_losses: list[float]
    epochs: int
    test_loss: float


def fit_and_choose(t_u, t_c, split, learning_rate: float = 1e-2) -> Chosen:
    """Fit on the training set, choose the number of epochs on the validation set, measure the test set."""
    train, val, test = split
    run = train_by_hand(
        max(CHECKPOINTS), learning_rate, torch.tensor([1.0, 0.0], device=t_u.device), t_u[train], t_c[train]
    )
    val_losses = [loss_fn(model(t_u[val], *run.params_after[epochs - 1]), t_c[val]).item() for epochs in CHECKPOINTS]
    chosen = CHECKPOINTS[val_losses.index(min(val_losses))]
    test_loss = loss_fn(model(t_u[test], *run.params_after[chosen - 1]), t_c[test]).item()
    return Chosen(run.params_after, val_losses, chosen, test_loss)
