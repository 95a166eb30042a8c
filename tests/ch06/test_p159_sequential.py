"""Chapter 6, pages 159-160: nn.Sequential, parameters(), named_parameters() and OrderedDict names."""

import types

import pytest
import torch
import torch.nn as nn

from claims.book.models import thermometer_named_seq, thermometer_seq
from claims.compat import assert_close

IN_ORDER = "ch06.sequential-applies-its-modules-in-order"
PARAMETERS = "ch06.parameters-is-a-generator-of-the-books-shapes"
NAMES = "ch06.named-parameters-use-module-names"


@pytest.mark.claim(IN_ORDER)
def test_sequential_calls_modules_in_the_given_order(device):
    """p.159: nn.Sequential(a, b, c)(x) is c(b(a(x))): the modules run in the order given
    (recorded by hooks), and swapping two non-commuting modules changes the result."""
    order = []
    parts = [nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2)]
    for i, part in enumerate(parts):
        part.register_forward_hook(lambda module, args, out, i=i: order.append(i))
    model = nn.Sequential(*parts).to(device)
    x = torch.randn(5, 2, device=device)
    out = model(x)
    assert order == [0, 1, 2], f"expected modules 0, 1, 2 in order, ran {order}"
    assert_close(out, parts[2](parts[1](parts[0](x))), rtol=0, atol=0)

    shift = nn.Linear(2, 2).to(device)
    with torch.no_grad():
        shift.weight.copy_(torch.eye(2))
        shift.bias.fill_(-10.0)
    relu_then_shift = nn.Sequential(nn.ReLU(), shift)(x)
    shift_then_relu = nn.Sequential(shift, nn.ReLU())(x)
    assert_close(shift_then_relu, torch.zeros_like(x), rtol=0, atol=0)
    assert (relu_then_shift < 0).all(), "order matters: ReLU then shift by -10 is negative everywhere"


@pytest.mark.claim(PARAMETERS)
def test_parameters_is_a_generator_with_the_books_shapes(device):
    """p.159-160: model.parameters() returns a generator; listed, the thermometer model's parameters
    have the book's shapes [13, 1], [13], [1, 13], [1]; they are the tensors the optimizer updates."""
    model = thermometer_seq().to(device)
    params = model.parameters()
    assert isinstance(params, types.GeneratorType), f"expected a generator, got {type(params).__name__}"
    shapes = [list(p.shape) for p in params]
    assert shapes == [[13, 1], [13], [1, 13], [1]], f"the book's shapes, measured {shapes}"
    assert list(params) == [], "a generator is spent after one pass"
    assert all(p.requires_grad for p in model.parameters())
    assert sum(p.numel() for p in model.parameters()) == 13 + 13 + 13 + 1


@pytest.mark.claim(NAMES)
def test_named_parameters_of_plain_sequential_are_indices(device):
    """p.160: named_parameters() of nn.Sequential(Linear, Tanh, Linear) names them by position:
    '0.weight', '0.bias', '2.weight', '2.bias' (Tanh, at 1, has none)."""
    model = thermometer_seq().to(device)
    names = [(name, list(p.shape)) for name, p in model.named_parameters()]
    assert names == [("0.weight", [13, 1]), ("0.bias", [13]), ("2.weight", [1, 13]), ("2.bias", [1])]


@pytest.mark.claim(NAMES)
def test_ordereddict_names_and_attribute_access(device):
    """p.160: built from an OrderedDict, the book's model has parameters hidden_linear.weight,
    hidden_linear.bias, output_linear.weight, output_linear.bias (8 hidden units), and each submodule
    is an attribute: seq_model.output_linear.bias is the parameter named 'output_linear.bias'."""
    seq_model = thermometer_named_seq().to(device)
    names = {name: list(p.shape) for name, p in seq_model.named_parameters()}
    assert names == {
        "hidden_linear.weight": [8, 1],
        "hidden_linear.bias": [8],
        "output_linear.weight": [1, 8],
        "output_linear.bias": [1],
    }, names
    assert [name for name, _ in seq_model.named_children()] == ["hidden_linear", "hidden_activation", "output_linear"]
    assert seq_model.output_linear.bias is dict(seq_model.named_parameters())["output_linear.bias"]
    assert isinstance(seq_model.hidden_activation, nn.Tanh)
