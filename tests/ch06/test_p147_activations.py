"""Chapter 6, pages 145-147: softmax gives probabilities; ReLU's kink at 0 does not stop training."""
import pytest
import torch
import torch.nn as nn
from hypothesis import given
from hypothesis import strategies as st
from claims.compat import assert_close

from tests.strategies import logit_rows

SOFTMAX = "ch06.softmax-outputs-are-probabilities"
RELU = "ch06.relu-point-discontinuity-is-fine-for-training"


@pytest.mark.claim(SOFTMAX)
@given(rows=logit_rows(), shift=st.floats(-100.0, 100.0, width=32))
def test_softmax_is_a_probability_vector_invariant_to_shifts(device, rows, shift):
    """p.145/147: softmax's outputs lie in [0, 1] and sum to 1 along the dim, and adding the same
    constant to every logit of a row leaves them unchanged (softmax(x + c) = softmax(x))."""
    x = torch.tensor(rows, device=device)
    p = nn.Softmax(dim=1)(x)
    assert ((p >= 0) & (p <= 1)).all(), f"probabilities outside [0, 1]: {p}"
    assert_close(p.sum(dim=1), torch.ones(len(rows), device=device), rtol=0, atol=1e-5)
    assert_close(torch.softmax(x + shift, dim=1), p, rtol=0, atol=1e-5)


@pytest.mark.claim(SOFTMAX)
def test_softmax_of_1_2_3_is_the_books(device):
    """p.147: the book's softmax([1., 2., 3.]) = [0.0900, 0.2447, 0.6652], along dim=1 for a batch."""
    x = torch.tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], device=device)
    expected = torch.tensor([0.0900, 0.2447, 0.6652], device=device).expand(2, 3)
    assert_close(nn.Softmax(dim=1)(x), expected, rtol=0, atol=5e-5)
    assert_close(nn.Softmax(dim=1)(x).sum(dim=1), torch.ones(2, device=device), rtol=0, atol=1e-6)


@pytest.mark.claim(RELU)
def test_relu_gradient_at_zero_is_zero(device):
    """p.147: ReLU is not differentiable at 0, and PyTorch uses 0 there: the gradient of relu at
    [-1, 0, 2] is [0, 0, 1], a finite number, so backward never fails on the kink."""
    x = torch.tensor([-1.0, 0.0, 2.0], device=device, requires_grad=True)
    torch.relu(x).sum().backward()
    assert_close(x.grad, torch.tensor([0.0, 0.0, 1.0], device=device), rtol=0, atol=0)


@pytest.mark.claim(RELU)
def test_training_through_relu_works(device, evidence):
    """p.147: "point discontinuities are fine": a Linear -> ReLU -> Linear net fits y = |x| on [-1, 1]
    (itself a kink) by gradient descent. Margin: seeds 0-9 (100 Adam steps) ended at MSE
    at most 0.0026, from 0.1-0.5; we require MSE < 0.01 and a tenfold drop."""
    x = torch.linspace(-1, 1, 64, device=device).unsqueeze(1)
    y = x.abs()
    model = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    first = None
    for _ in range(100):
        loss = ((model(x) - y) ** 2).mean()
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    final = ((model(x) - y) ** 2).mean().item()
    evidence.record(initial_mse=first, final_mse=final)
    assert final < 0.01 and final < first / 10, f"expected MSE < 0.01 and 10x below {first}, measured {final}"
