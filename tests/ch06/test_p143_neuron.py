"""Chapter 6, pages 143-144: a neuron is w * x + b followed by an activation; a network composes them.

Where the book's notebooks printed the numbers (p1ch6/1_neural_networks.ipynb, 2_activation_functions.ipynb),
the printed text is kept here verbatim and read back with ``claims.experiments.printed``.
"""

import math

import pytest
import torch
import torch.nn as nn
from hypothesis import given
from hypothesis import strategies as st

from claims.book.models import thermometer_seq
from claims.compat import assert_close, full_float32
from claims.devices import dtype_or_skip
from claims.experiments.printed import HALF_A_UNIT_OF_4_DECIMALS, last_digits_that_differ, printed_tensor
from tests.strategies import float_dtypes, rounding_tolerance

NEURON = "ch06.linear-layer-computes-x-times-weight-transposed-plus-bias"
NETWORK = "ch06.multilayer-network-is-a-composition-of-layers"

# p1ch6/1_neural_networks.ipynb: nn.Linear(1, 1)'s weight (In[6]) and bias (In[7]), drawn unseeded, the validation
# indices of the unseeded split (In[3]), and linear_model(t_un_val) (In[5]), as printed on torch 1.4; beside them
# the second edition's re-run of the same cells on torch 2.x (dlwpt-code-2e).
BOOK_LINEAR_MODEL = {
    "1st edition": {
        "weight": "Parameter containing:\ntensor([[-0.0674]], requires_grad=True)",
        "bias": "Parameter containing:\ntensor([0.7488], requires_grad=True)",
        "val_indices": "tensor([ 7, 10])",
        "linear_model(t_un_val)": "tensor([[0.6018],\n        [0.2877]], grad_fn=<AddmmBackward>)",
    },
    "2nd edition": {
        "weight": "Parameter containing:\ntensor([[0.5747]], requires_grad=True)",
        "bias": "Parameter containing:\ntensor([0.6126], requires_grad=True)",
        "val_indices": "tensor([2, 4])",
        "linear_model(t_un_val)": "tensor([[3.9576],\n        [3.8484]], grad_fn=<AddmmBackward0>)",
    },
}

# p1ch6/2_activation_functions.ipynb In[4]: the sum of two tanh neurons of the sum of two others, over the grid
# input_t = torch.arange(-3, 3.1, 0.1) (In[2]). Its cell titles D "tanh(-3 * x - 1.5)"; its code, which printed
# this, computes tanh(-3 * x + 1.5).
BOOK_C_OF_A_PLUS_B_PLUS_D_OF_A_PLUS_B = """\
tensor([1.6885, 1.6924, 1.6967, 1.7015, 1.7064, 1.7112, 1.7155, 1.7184,
        1.7190, 1.7158, 1.7069, 1.6901, 1.6629, 1.6229, 1.5685, 1.5005,
        1.4238, 1.3486, 1.2913, 1.2713, 1.3060, 1.4017, 1.5384, 1.6643,
        1.7191, 1.6667, 1.5191, 1.3410, 1.2022, 1.1303, 1.1191, 1.1508,
        1.2075, 1.2744, 1.3414, 1.4024, 1.4547, 1.4979, 1.5328, 1.5605,
        1.5824, 1.5997, 1.6132, 1.6239, 1.6324, 1.6391, 1.6444, 1.6487,
        1.6521, 1.6549, 1.6571, 1.6589, 1.6604, 1.6615, 1.6625, 1.6633,
        1.6639, 1.6644, 1.6649, 1.6652, 1.6655])"""


@pytest.mark.claim(NEURON)
@given(batch=st.integers(1, 6), n_in=st.integers(1, 7), n_out=st.integers(1, 7), dtype=float_dtypes)
def test_linear_is_x_weight_transposed_plus_bias(device, batch, n_in, n_out, dtype):
    """p.143: nn.Linear(n_in, n_out) holds weight [n_out, n_in] and bias [n_out] and computes
    x @ W.T + b for every row of x: one neuron's w * x + b per output."""
    dtype = dtype_or_skip(device, dtype)
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
    """p.143: a neuron with an activation outputs f(w * x + b); the book's neuron A
    (p1ch6/2_activation_functions.ipynb), w = -2 and b = -1.25 with tanh, is tanh(-2 x - 1.25): on the
    notebook's grid -3 ... 3 it agrees with the formula computed in Python floats."""
    neuron = nn.Sequential(nn.Linear(1, 1), nn.Tanh()).to(device)
    with torch.no_grad():
        neuron[0].weight.fill_(-2.0)
        neuron[0].bias.fill_(-1.25)
    grid = [i / 10 for i in range(-30, 31)]
    expected = torch.tensor([[math.tanh(-2 * x - 1.25)] for x in grid], device=device)
    with full_float32():  # TF32 (CUDA's default in 1.7-1.11) would round x to ~1e-4
        measured = neuron(torch.tensor(grid, device=device).unsqueeze(1))
    assert_close(measured, expected, rtol=0, atol=1e-6)


@pytest.mark.claim(NEURON)
@pytest.mark.parametrize("edition", list(BOOK_LINEAR_MODEL))
def test_the_books_linear_model_printed_w_times_x_plus_b(edition, thermometer, device, evidence):
    """p.153: the book's nn.Linear(1, 1), with the weight and bias it printed, gives linear_model(t_un_val)
    as printed: w * 0.1 t_u + b for each validation reading (1st edition: readings 7 and 10 -> [[0.6018],
    [0.2877]]; the second edition's re-run on torch 2.x, another layer and split: [[3.9576], [3.8484]])."""
    book = BOOK_LINEAR_MODEL[edition]
    linear_model = nn.Linear(1, 1).to(device)
    with torch.no_grad():
        linear_model.weight.copy_(printed_tensor(book["weight"]))
        linear_model.bias.copy_(printed_tensor(book["bias"]))
    val_indices = printed_tensor(book["val_indices"]).long().to(device)
    t_un_val = 0.1 * thermometer.t_u[val_indices].unsqueeze(1)
    out = linear_model(t_un_val)
    printed = printed_tensor(book["linear_model(t_un_val)"])
    evidence.record(out=out, off_by=(out.cpu() - printed).abs().max().item())
    # The printed weight and bias are themselves rounded to 4 decimals (off by up to half a unit each), so
    # w * x + b from them is off by up to that times (|x| + 1), plus the printed output's own rounding.
    tolerance = HALF_A_UNIT_OF_4_DECIMALS * (t_un_val.abs().max().item() + 2) + 1e-6
    assert_close(out.cpu(), printed, rtol=0, atol=tolerance)


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


@pytest.mark.claim(NETWORK)
def test_the_books_tanh_neurons_compose_into_a_three_layer_sequential(device, evidence):
    """p.144-149: the book composes four tanh neurons, A = tanh(-2x - 1.25), B = tanh(x + 0.75),
    C = tanh(4x + 1), D = tanh(-3x + 1.5), into C(A + B) + D(A + B) and printed it over the grid -3 ... 3.
    That is a network of layers: Linear(1, 2) [A, B] -> Tanh -> Linear(2, 2) [C, D of A + B] -> Tanh ->
    Linear(2, 1) [their sum], which gives the printed numbers."""
    model = nn.Sequential(nn.Linear(1, 2), nn.Tanh(), nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1)).to(device)
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[-2.0], [1.0]]))  # A, B
        model[0].bias.copy_(torch.tensor([-1.25, 0.75]))
        model[2].weight.copy_(torch.tensor([[4.0, 4.0], [-3.0, -3.0]]))  # C and D, each of A + B
        model[2].bias.copy_(torch.tensor([1.0, 1.5]))
        model[4].weight.fill_(1.0)  # C(A + B) + D(A + B)
        model[4].bias.zero_()
    input_t = torch.arange(-3, 3.1, 0.1, device=device)  # In[2]: 61 points
    with full_float32():
        out = model(input_t.unsqueeze(1)).squeeze(1)
    book = printed_tensor(BOOK_C_OF_A_PLUS_B_PLUS_D_OF_A_PLUS_B)
    evidence.record(last_digits_that_differ=last_digits_that_differ(out, book))
    # printed to 4 decimals: today's value within half a unit of the last digit (and float32 rounding)
    assert_close(out.cpu(), book, rtol=0, atol=HALF_A_UNIT_OF_4_DECIMALS + 1e-6)
