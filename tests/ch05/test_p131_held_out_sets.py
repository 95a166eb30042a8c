"""Chapter 5, page 131: a data set is separated into training, validation and test sets.

The book's code splits its readings two ways (p.134); ``claims/experiments/held_out.py`` splits them three ways
the same way and runs the procedure the three sets serve (read its docstring): fit on the training set, choose
the number of epochs on the validation set, measure the test set once.
"""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from claims.book.thermometer import model
from claims.experiments.held_out import CHECKPOINTS, fit_and_choose, three_way_split

CLAIM = "ch05.training-validation-and-test-sets-are-kept-apart"


@pytest.mark.claim(CLAIM)
@given(n=st.integers(5, 300), seed=st.integers(0, 2**31 - 1))
def test_three_way_split_is_disjoint_and_covers_every_sample(device, n, seed):
    """p.131: for any n from 5 the three sets hold n - 2k, k and k samples (k = int(0.2 * n)), share none,
    and together hold every index 0..n-1."""
    train, val, test = three_way_split(n, generator=torch.Generator(device=device).manual_seed(seed), device=device)
    k = int(0.2 * n)
    assert (len(train), len(val), len(test)) == (n - 2 * k, k, k), f"n={n}: {len(train)}, {len(val)}, {len(test)}"
    assert torch.equal(torch.cat([train, val, test]).sort().values, torch.arange(n, device=device)), "disjoint, all"


@pytest.mark.claim(CLAIM)
def test_the_test_set_is_held_out_of_training_and_of_the_choice(thermometer, device, generator, evidence):
    """p.131: the 11 readings, shuffled, give 7 for training, 2 for validation and 2 for test. The validation
    set makes the choice of epochs and nothing else: given as targets what the line predicts after 3 epochs,
    it chooses 3, after 100 epochs, 100, and the params after every epoch stay as they were. The test set is
    held out of both: given as targets what the line predicts after the epochs not chosen, it changes neither
    the params nor the choice; only the test loss moves."""
    x, y = thermometer.t_un, thermometer.t_c
    split = three_way_split(len(x), generator=generator, device=device)
    found = fit_and_choose(x, y, split)

    def predicted(part, epochs):
        """The targets, those of ``part`` replaced by what the line predicts there after ``epochs`` epochs."""
        targets = y.clone()
        targets[part] = model(x[part], *found.params_after[epochs - 1])
        return targets

    first, last = CHECKPOINTS[0], CHECKPOINTS[-1]
    by_validation = {epochs: fit_and_choose(x, predicted(split[1], epochs), split) for epochs in (first, last)}
    not_chosen = first if found.epochs != first else last
    by_test = fit_and_choose(x, predicted(split[2], not_chosen), split)
    evidence.record(
        split=[part.tolist() for part in split],
        val_losses=dict(zip(CHECKPOINTS, found.val_losses)),
        chosen_epochs=found.epochs,
        test_loss=found.test_loss,
        chosen_with_validation_targets_from={epochs: run.epochs for epochs, run in by_validation.items()},
        test_loss_with_test_targets_from={not_chosen: by_test.test_loss},
    )

    assert [len(part) for part in split] == [7, 2, 2], f"sizes: {split}"
    assert not torch.equal(torch.cat(split), torch.arange(11, device=device)), f"not shuffled: {split}"
    for epochs, run in by_validation.items():
        assert run.epochs == epochs, f"validation targets from epoch {epochs}: chose {run.epochs}"
        assert torch.equal(run.params_after, found.params_after), "the validation set should not touch training"
    assert torch.equal(by_test.params_after, found.params_after), "the test set should not touch training"
    assert by_test.epochs == found.epochs, f"the test set should not choose: {by_test.epochs} for {found.epochs}"
    assert by_test.test_loss != found.test_loss, f"the test loss should move: {by_test.test_loss}"
