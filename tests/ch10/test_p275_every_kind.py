"""Chapter 10, page 275: why both the training and the validation set should represent every kind of input.

A small experiment in the book's setting, away from the CT scans: candidates described by two features, of three
kinds, each a cloud of points (spread 0.5) around its centre: the non-nodules (class 0) at (0, 0), and two kinds
of nodule (class 1), kind A at (3, 0) and kind B at (0, 3), as the nodules of different sizes are kinds of their
own. The model is chapter 7's classifier at its smallest, ``nn.Linear(2, 1)`` with the binary cross-entropy,
trained by gradient descent on 100 points of each kind it is given; each kind also has 100 validation points.

- A training set that lacks a kind: the model trained without kind B never learns where it lies, and calls most of
  its points non-nodules, where the model trained on every kind gets each kind about right.
- A validation set that lacks a kind: for that model, the validation points of the non-nodules and kind A report
  almost no error, which misses that it gets nearly all of kind B wrong.

Where the left-out "kind" lies beside one the model sees (the skeptic's ``missing-kind-like-a-seen-one``), it is no
kind of its own to the model, and leaving it out costs nothing: the effect needs a kind that differs. Margins
measured by ``test_every_kind_margins_over_50_seeds`` (``-m sweep``), CPU: the same ranges on torch 2.14.1 and 1.4.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

REPRESENT = "ch10.both-splits-represent-every-kind-of-input"
NON_NODULE, KIND_A, KIND_B = (0.0, 0.0), (3.0, 0.0), (0.0, 3.0)  # the kinds' centres; class 0, 1 and 1
SPREAD = 0.5  # the standard deviation of each feature around its kind's centre
N = 100  # points of each kind, in the training set and again in the validation set
STEPS, LR = 100, 1.0  # gradient descent on the whole training set
# Margins, as error rates (the share of a kind's validation points classified wrong), over seeds 0-49:
KIND_SEEN = 0.2  # trained on every kind, its error on each kind is at most this (0.00-0.11, the worst kind)
KIND_MISSED = 0.5  # trained without kind B, its error on kind B is at least this (0.94-1.00)
MISSES = 0.1  # a validation set without kind B reports at most this share of the error on kind B (0.00-0.01)
pytestmark = pytest.mark.usefixtures("one_cpu_thread")


def kinds_of_input(seed: int) -> dict:
    """{kind: (training points, validation points, class)}, N points each around the kind's centre, on the CPU."""
    g = torch.Generator().manual_seed(seed)
    kinds = {"non-nodule": (NON_NODULE, 0), "nodule A": (KIND_A, 1), "nodule B": (KIND_B, 1)}
    return {
        kind: (*(torch.tensor(centre) + SPREAD * torch.randn(2, N, 2, generator=g)), label)
        for kind, (centre, label) in kinds.items()
    }


def train(data: dict, kinds, seed: int, device) -> nn.Module:
    """nn.Linear(2, 1) trained on the training points of ``kinds`` (binary cross-entropy, gradient descent),
    initialized from ``seed``."""
    x = torch.cat([data[kind][0] for kind in kinds]).to(device)
    y = torch.cat([torch.full((N,), float(data[kind][2])) for kind in kinds]).to(device)
    torch.manual_seed(seed)
    model = nn.Linear(2, 1).to(device)
    for _ in range(STEPS):  # chapter 5's step, by hand (torch.optim.SGD does the same, but imports a lot at first)
        loss = F.binary_cross_entropy_with_logits(model(x).squeeze(1), y)
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= LR * param.grad
    return model


def validation_errors(model: nn.Module, data: dict, device) -> dict:
    """{kind: the share of its validation points the model classifies wrong}."""
    with torch.no_grad():
        return {
            kind: ((model(val.to(device)).squeeze(1) > 0).float() != label).float().mean().item()
            for kind, (_, val, label) in data.items()
        }


def without_kind_b(seed: int, device) -> tuple[dict, dict]:
    """The validation errors of the model trained on every kind, and of the one trained without kind B."""
    data = kinds_of_input(seed)
    every_kind = validation_errors(train(data, ["non-nodule", "nodule A", "nodule B"], seed, device), data, device)
    return every_kind, validation_errors(train(data, ["non-nodule", "nodule A"], seed, device), data, device)


@pytest.mark.claim(REPRESENT)
def test_a_model_trained_without_a_kind_errs_on_it(seed, device, evidence):
    """p.275, the training set: the model trained on every kind classifies each about right; trained without
    kind B, it has never seen where kind B lies, and gets most of kind B wrong."""
    every_kind, without_b = without_kind_b(seed, device)
    evidence.record(trained_on_every_kind=every_kind, trained_without_kind_b=without_b)
    worst = max(every_kind, key=every_kind.get)
    assert every_kind[worst] <= KIND_SEEN, f"trained on every kind: {every_kind[worst]:.2f} of {worst} wrong"
    assert without_b["nodule B"] >= KIND_MISSED, (
        f"trained without kind B: {without_b['nodule B']:.2f} of kind B wrong, expected at least {KIND_MISSED}"
    )


@pytest.mark.claim(REPRESENT)
def test_a_validation_set_without_a_kind_misses_the_error_on_it(seed, device, evidence):
    """p.275, the validation set: the model trained without kind B gets most of kind B wrong, and a validation set
    of the other two kinds reports almost no error (its mean error over them), a small share of that error."""
    data = kinds_of_input(seed)
    errors = validation_errors(train(data, ["non-nodule", "nodule A"], seed, device), data, device)
    reported = (errors["non-nodule"] + errors["nodule A"]) / 2
    evidence.record(errors=errors, reported_without_kind_b=reported)
    assert errors["nodule B"] >= KIND_MISSED, f"it gets {errors['nodule B']:.2f} of kind B wrong: no error to miss"
    assert reported <= MISSES * errors["nodule B"], (
        f"a validation set without kind B reports {reported:.3f}, the error on kind B is {errors['nodule B']:.3f}: "
        f"expected at most {MISSES} of it"
    )


@pytest.mark.sweep
def test_every_kind_margins_over_50_seeds(device):
    """The margins above over seeds 0-49 (python -m pytest tests/ch10 -m sweep -s)."""
    runs = [without_kind_b(seed, device) for seed in range(50)]
    seen = [max(every_kind.values()) for every_kind, _ in runs]
    missed = [without_b["nodule B"] for _, without_b in runs]
    share = [(e["non-nodule"] + e["nodule A"]) / 2 / e["nodule B"] for _, e in runs]
    print(
        f"\n50 seeds: trained on every kind, worst kind {min(seen):.2f}-{max(seen):.2f}; without kind B, on kind B "
        f"{min(missed):.2f}-{max(missed):.2f}; reported without kind B over the error on it {min(share):.3f}-"
        f"{max(share):.3f}"
    )
    assert max(seen) <= KIND_SEEN and min(missed) >= KIND_MISSED and max(share) <= MISSES
