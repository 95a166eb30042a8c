"""Chapter 6, pages 143-144: a neuron is w * x + b followed by an activation; a network composes them."""

import pytest
import torch
import torch.nn as nn
from hypothesis import given
from hypothesis import strategies as st

from claims.book.models import thermometer_seq
from claims.compat import assert_close, full_float32
from tests.strategies import float_dtypes, rounding_tolerance

NEURON = "ch06.linear-layer-computes-x-times-weight-transposed-plus-bias"
NETWORK = "ch06.multilayer-network-is-a-composition-of-layers"


@pytest.mark.claim(NEURON)
@given(batch=st.integers(1, 6), n_in=st.integers(1, 7), n_out=st.integers(1, 7), dtype=float_dtypes)
def test_linear_is_x_weight_transposed_plus_bias(device, batch, n_in, n_out, dtype):
    """p.143: nn.Linear(n_in, n_out) holds weight [n_out, n_in] and bias [n_out] and computes
    x @ W.T + b for every row of x: one neuron (w * x + b) per output."""
    linear = nn.Linear(n_in, n_out).to(device=device, dtype=dtype)
    x = torch.randn(batch, n_in, device=device, dtype=dtype)
    assert linear.weight.shape == (n_out, n_in) and linear.bias.shape == (n_out,)

    with full_float32():  # on CUDA, TF32 would round the matmul's inputs to 10 mantissa bits
        out = linear(x)
        by_hand = x @ linear.weight.T + linear.bias
    # addmm and matmul-then-add may sum in different orders: float32 rounding, no more
    tol = rounding_tolerance(dtype)
    assert_close(out, by_hand, rtol=tol, atol=tol)
    # neuron j alone: sum_i w_ji * x_i + b_j
    j = n_out - 1
    assert_close(out[:, j], (linear.weight[j] * x).sum(dim=1) + linear.bias[j], rtol=tol, atol=tol)


@pytest.mark.claim(NEURON)
def test_neuron_with_activation_is_tanh_of_affine(device):
    """p.143: a neuron with an activation outputs f(w * x + b); with tanh and the book's one-input
    neuron, w=2, b=-1: x = [0, 0.5, 1] gives tanh([-1, 0, 1])."""
    neuron = nn.Sequential(nn.Linear(1, 1), nn.Tanh()).to(device)
    with torch.no_grad():
        neuron[0].weight.fill_(2.0)
        neuron[0].bias.fill_(-1.0)
    x = torch.tensor([[0.0], [0.5], [1.0]], device=device)
    expected = torch.tensor([[-0.761594], [0.0], [0.761594]], device=device)
    assert_close(neuron(x), expected, rtol=0, atol=1e-6)


@pytest.mark.claim(NETWORK)
def test_thermometer_network_is_linear_tanh_linear(device):
    """p.144: the book's network Linear(1, 13) -> Tanh -> Linear(13, 1) is the composition
    W2 @ tanh(W1 @ x + b1) + b2, layer after layer."""
    model = thermometer_seq().to(device)
    first, _, second = model
    x = torch.randn(11, 1, device=device)
    with full_float32():  # TF32 on CUDA would round the two matmuls differently from the layers'
        out = model(x)
        by_hand = torch.tanh(x @ first.weight.T + first.bias) @ second.weight.T + second.bias
    assert out.shape == (11, 1)
    assert_close(out, by_hand, rtol=1e-5, atol=1e-6)
