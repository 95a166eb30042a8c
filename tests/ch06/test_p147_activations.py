"""Chapter 6, pages 145-147: softmax gives probabilities; ReLU is the widely used activation, and its kink
at 0 does not stop training.

The ReLU training run is statistical (Adam from a random start): ``test_sweeps.py`` runs it for 50 seeds
(``python -m pytest tests/ch06 -m sweep``); the margins are written beside the assertions.
"""

import pytest
import torch
import torch.nn as nn
import torchvision.models
from hypothesis import given, settings
from hypothesis import strategies as st

from claims.compat import assert_close
from tests.strategies import logit_rows

SOFTMAX = "ch06.softmax-outputs-are-probabilities"
RELU_KINK = "ch06.relu-point-discontinuity-is-fine-for-training"
RELU_WIDELY_USED = "ch06.relu-is-the-activation-of-state-of-the-art-networks"

# Image classifiers that each set the state of the art in their year, as torchvision builds them
# (all present from torchvision 0.5, the book's, on).
REFERENCE_NETWORKS = {"alexnet": 2012, "vgg11": 2014, "resnet18": 2015, "squeezenet1_0": 2016, "densenet121": 2017}


@pytest.mark.claim(SOFTMAX)
@settings(report_multiple_bugs=False)  # a broken softmax fails as one AssertionError, not a group of them
@given(rows=logit_rows(), shift=st.floats(-100.0, 100.0, width=32))
def test_softmax_is_a_probability_vector_invariant_to_shifts(device, rows, shift):
    """p.145/147: softmax as the last layer gives values in [0, 1] that sum to 1 along the dim, a
    probability per class; adding the same constant to every score of a row leaves them unchanged."""
    x = torch.tensor(rows, device=device)
    softmax = nn.Softmax(dim=1)
    p = softmax(x)
    assert ((p >= 0) & (p <= 1)).all(), f"probabilities outside [0, 1]: {p}"
    assert_close(p.sum(dim=1), torch.ones(len(rows), device=device), rtol=0, atol=1e-5)
    assert_close(softmax(x + shift), p, rtol=0, atol=1e-5)


@pytest.mark.claim(SOFTMAX)
def test_network_ending_in_softmax_outputs_probabilities(device):
    """p.145: put on the last layer, softmax turns a network's unbounded scores into probabilities:
    the scores of Linear(4, 3) are outside [0, 1] and do not sum to 1; after nn.Softmax they do."""
    scores_only = nn.Linear(4, 3).to(device)
    with torch.no_grad():
        scores_only.weight.mul_(10)  # scores of a few units, as a trained classifier gives
    model = nn.Sequential(scores_only, nn.Softmax(dim=1))
    x = torch.randn(8, 4, device=device)
    scores, probs = scores_only(x), model(x)
    assert ((scores < 0) | (scores > 1)).any() and not torch.allclose(scores.sum(dim=1), torch.ones(8, device=device))
    assert ((probs >= 0) & (probs <= 1)).all(), f"softmax output outside [0, 1]: {probs}"
    assert_close(probs.sum(dim=1), torch.ones(8, device=device), rtol=0, atol=1e-6)


@pytest.mark.claim(RELU_KINK)
def test_relu_gradient_at_zero_is_zero(device):
    """p.147: ReLU is not differentiable at 0, and PyTorch uses 0 there: the gradient of nn.ReLU at
    [-1, 0, 2] is [0, 0, 1], a finite number, so backward never fails on the kink."""
    x = torch.tensor([-1.0, 0.0, 2.0], device=device, requires_grad=True)
    nn.ReLU()(x).sum().backward()
    assert_close(x.grad, torch.tensor([0.0, 0.0, 1.0], device=device), rtol=0, atol=0)


def fit_abs(device, seed: int, steps: int = 100) -> dict:
    """Linear(1, 16) -> ReLU -> Linear(16, 1), from a start drawn on the CPU from ``seed``, trained with
    Adam (lr=0.05) to y = |x| (itself a kink) on 64 points of [-1, 1]: the MSE before and after, and how
    far the first layer's weights moved (they get their gradient through the ReLU)."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1)).to(device)
    start = model[0].weight.detach().clone()
    x = torch.linspace(-1, 1, 64, device=device).unsqueeze(1)
    y = x.abs()
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(steps):
        loss = ((model(x) - y) ** 2).mean()
        losses.append(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        final = ((model(x) - y) ** 2).mean().item()
    return {
        "initial_mse": losses[0],
        "final_mse": final,
        "first_layer_moved": (model[0].weight.detach() - start).abs().max().item(),
    }


@pytest.mark.claim(RELU_KINK)
def test_training_through_relu_works(device, seed, evidence):
    """p.147: "point discontinuities are fine": gradient descent through ReLU reaches the layer before it
    and fits y = |x| on [-1, 1]."""
    result = fit_abs(device, seed)
    evidence.record(**result)
    # 50 seeds on the CPU (torch 2.14 and 1.4 alike): the first layer's weights moved by 0.34-1.7 at most,
    # the MSE fell from 0.10-1.6 to at most 0.0004 (a 1,000x-79,000x drop). The test asks > 0.01, < 0.01, 10x.
    assert result["first_layer_moved"] > 1e-2, f"the gradient should reach the first layer through ReLU: {result}"
    assert result["final_mse"] < 0.01 and result["final_mse"] < result["initial_mse"] / 10, (
        f"expected MSE < 0.01 and 10x below the start, measured {result}"
    )


@pytest.mark.claim(RELU_WIDELY_USED)
def test_reference_image_classifiers_use_relu(device, monkeypatch, evidence):
    """p.147: ReLU is widely used and behind state-of-the-art results: AlexNet, VGG, ResNet, SqueezeNet
    and DenseNet, as torchvision builds them, use no other activation module, and every one of their
    activations computes max(x, 0): [-1, 0, 2] -> [0, 0, 2]."""
    # Only the kinds of module matter here: skipping the random initialisation of 200 million weights saves seconds.
    for name in [n for n in dir(torch.nn.init) if n.endswith("_") and not n.startswith("_")]:
        monkeypatch.setattr(torch.nn.init, name, lambda tensor, *args, **kwargs: tensor)
    x = torch.tensor([-1.0, 0.0, 2.0], device=device)
    found = {}
    for name in REFERENCE_NETWORKS:
        activations = [
            m for m in getattr(torchvision.models, name)().modules() if type(m).__module__ == nn.ReLU.__module__
        ]  # torch.nn.modules.activation
        found[name] = sorted({type(m).__name__ for m in activations})
        outputs = {tuple(m.to(device)(x.clone()).tolist()) for m in activations}
        evidence.record(**{name: {"activations": found[name], "count": len(activations)}})
        assert found[name] == ["ReLU"], f"{name}: expected only ReLU, found {found[name]}"
        assert outputs == {(0.0, 0.0, 2.0)}, f"{name}: expected max(x, 0) = [0, 0, 2], measured {outputs}"
