"""Chapter 5, page 131: data augmentation by translations reduces overfitting.

The experiment is in ``claims/experiments/translation.py`` (read its docstring): 12 fully connected networks
16-32-2 (tanh), each telling two motifs apart in its own 16 noisy 1-D signals, 100 epochs of full-batch Adam,
once on the signals as drawn and once with every signal's 16 circular translations added. Statistics are
paired ratios of the 12 networks' means (augmented / plain: same signals, same initialization) at data seed
0; the margins were set from data seeds 0-49 on the CPU (``-m sweep`` measures them again), the range measured
there written beside each.
"""

from __future__ import annotations

import pytest
import torch

from claims.experiments import translation
from claims.experiments.sweep import missed_bounds

TASK = "which"  # the label is which motif a signal holds, wherever it sits (read at run time: a skeptic's fault)

# margins, each with the range that data seeds 0-49 gave
TRANSLATED_VAL = 0.3  # validation loss, with translations / without: 0.091-0.199
TRANSLATED_ERROR = 0.65  # validation error rate, with translations / without: 0.355-0.576
OVERFITS = 100  # the plain networks' validation loss / their training loss: 2150-3368


@pytest.fixture
def trained(device, session_cache):
    """The plain and the augmented networks of data seed 0 on the test's device, once per session."""
    task = TASK
    return session_cache(
        ("translations", str(device), task),
        lambda: {augment: translation.train(device, seed=0, task=task, augment=augment) for augment in (False, True)},
    )


def statistics(trained) -> dict:
    plain, augmented = trained[False], trained[True]
    return {
        "plain val / train": plain.final_val / plain.final_train,
        "val ratio": augmented.final_val / plain.final_val,
        "error ratio": augmented.error_rate / plain.error_rate,
    }


@pytest.mark.claim("ch05.translation-augmentation-reduces-overfitting")
def test_translated_copies_lower_the_error_on_new_signals(trained, evidence):
    """p.131: the plain networks overfit their 16 signals (training loss near 0, validation loss thousands
    of times higher: they learned each motif only where it sat); trained with every signal's 16 translations
    as well, the same networks make less error on new signals, in validation loss and in error rate."""
    found = statistics(trained)
    evidence.record(
        val_loss={"plain": trained[False].final_val, "translated": trained[True].final_val},
        error_rate={"plain": trained[False].error_rate, "translated": trained[True].error_rate},
        **found,
    )

    assert found["plain val / train"] > OVERFITS, f"the plain networks should overfit: {found}"
    assert found["val ratio"] < TRANSLATED_VAL, f"validation loss with translations / without: {found}"
    assert found["error ratio"] < TRANSLATED_ERROR, f"validation error rate with translations / without: {found}"


@pytest.mark.sweep
def test_translation_margins_hold_for_50_data_seeds():
    """The margins above at data seeds 0-49 on the CPU (the suite runs seed 0)."""
    measured: dict = {}
    for seed in range(50):
        runs = {augment: translation.train(torch.device("cpu"), seed, TASK, augment) for augment in (False, True)}
        for name, value in statistics(runs).items():
            measured.setdefault(name, []).append(value)
    bounds = {"plain val / train": (OVERFITS, None), "val ratio": (None, TRANSLATED_VAL)}
    bounds["error ratio"] = (None, TRANSLATED_ERROR)
    missed = missed_bounds(measured, bounds)
    assert not missed, f"margins missed at some seed: {missed}"
