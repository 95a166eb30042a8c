"""The experiment behind the page-131 claim that training, validation and test sets are kept apart.

The book splits its readings two ways (p.134, ``claims.book.thermometer.split_indices``: training and
validation); the notes name a third set, the test set. ``three_way_split`` extends the book's split the same way:
torch.randperm's shuffled indices, the last 20% for the test set, the 20% before them for validation, the rest for
training (7, 2 and 2 of the 11 readings). What the sets are then used for (training on the first, choosing settings
on the second, measuring the third once) is a practice the code that uses them follows, not something a split can
be measured to do: the registry says so.
"""

from __future__ import annotations

import torch


def three_way_split(n_samples: int, generator: torch.Generator | None = None, device=None):
    """Shuffle the sample indices and keep the last 20% for the test set and the 20% before them for
    validation: ``(train_indices, val_indices, test_indices)``."""
    n_val = n_test = int(0.2 * n_samples)
    shuffled_indices = torch.randperm(n_samples, generator=generator, device=device)
    n_train = n_samples - n_val - n_test
    return shuffled_indices[:n_train], shuffled_indices[n_train : n_train + n_val], shuffled_indices[n_train + n_val :]
