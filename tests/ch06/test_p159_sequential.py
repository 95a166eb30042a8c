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

# What the book's notebooks printed: p1ch6/1_neural_networks.ipynb (nb1) In[11], In[16]-[20], and
# p1ch6/3_nn_module_subclassing.ipynb (nb3) In[2]-[3], the same networks with 11 and 12 hidden units.
BOOK_SEQ_MODEL = """\
Sequential(
  (0): Linear(in_features=1, out_features=13, bias=True)
  (1): Tanh()
  (2): Linear(in_features=13, out_features=1, bias=True)
)"""  # nb1 In[16]
BOOK_PARAMETERS_GENERATOR = "<generator object Module.parameters"  # nb1 In[11], then the object's address
BOOK_PARAMETER_SHAPES = "[torch.Size([13, 1]), torch.Size([13]), torch.Size([1, 13]), torch.Size([1])]"  # nb1 In[17]
BOOK_NAMED_PARAMETERS = """\
0.weight torch.Size([13, 1])
0.bias torch.Size([13])
2.weight torch.Size([1, 13])
2.bias torch.Size([1])
"""  # nb1 In[18]
BOOK_NAMED_SEQ_MODEL = """\
Sequential(
  (hidden_linear): Linear(in_features=1, out_features=8, bias=True)
  (hidden_activation): Tanh()
  (output_linear): Linear(in_features=8, out_features=1, bias=True)
)"""  # nb1 In[19]
BOOK_NAMED_SEQ_PARAMETERS = """\
hidden_linear.weight torch.Size([8, 1])
hidden_linear.bias torch.Size([8])
output_linear.weight torch.Size([1, 8])
output_linear.bias torch.Size([1])
"""  # nb1 In[20]
BOOK_SEQ_MODEL_11 = """\
Sequential(
  (0): Linear(in_features=1, out_features=11, bias=True)
  (1): Tanh()
  (2): Linear(in_features=11, out_features=1, bias=True)
)"""  # nb3 In[2]
BOOK_NAMED_SEQ_MODEL_12 = """\
Sequential(
  (hidden_linear): Linear(in_features=1, out_features=12, bias=True)
  (hidden_activation): Tanh()
  (output_linear): Linear(in_features=12, out_features=1, bias=True)
)"""  # nb3 In[3]


def printed_names(model: nn.Module) -> str:
    """What the book's ``for name, param in model.named_parameters(): print(name, param.shape)`` prints."""
    return "".join(f"{name} {param.shape}\n" for name, param in model.named_parameters())


@pytest.mark.claim(IN_ORDER)
def test_sequential_calls_modules_in_the_given_order(device):
    """p.159: nn.Sequential(a, b, c)(x) is c(b(a(x))): the modules run in the order given
    (recorded by hooks), and swapping two non-commuting modules changes the result. It lists them in that
    order, numbered from 0, as the book printed its Sequential(Linear(1, 13), Tanh(), Linear(13, 1))."""
    assert repr(thermometer_seq()) == BOOK_SEQ_MODEL, f"as printed:\n{BOOK_SEQ_MODEL}\nmeasured:\n{thermometer_seq()}"
    assert repr(thermometer_seq(11)) == BOOK_SEQ_MODEL_11, f"measured:\n{thermometer_seq(11)}"
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
def test_parameters_is_a_generator_with_the_books_shapes():
    """p.159-160: model.parameters() returns a generator, as the book printed it; listed, the thermometer
    model's parameters have the book's shapes [13, 1], [13], [1, 13], [1]; they require grad."""
    model = thermometer_seq()
    params = model.parameters()
    assert isinstance(params, types.GeneratorType), f"expected a generator, got {type(params).__name__}"
    assert repr(params).startswith(BOOK_PARAMETERS_GENERATOR), f"the book printed {BOOK_PARAMETERS_GENERATOR}..."
    shapes = [p.shape for p in params]
    assert str(shapes) == BOOK_PARAMETER_SHAPES, f"the book's shapes {BOOK_PARAMETER_SHAPES}, measured {shapes}"
    assert list(params) == [], "a generator is spent after one pass"
    assert all(p.requires_grad for p in model.parameters())
    assert sum(p.numel() for p in model.parameters()) == 13 + 13 + 13 + 1


@pytest.mark.claim(NAMES)
def test_named_parameters_of_plain_sequential_are_indices():
    """p.160: named_parameters() of nn.Sequential(Linear, Tanh, Linear) names them by position:
    '0.weight', '0.bias', '2.weight', '2.bias' (Tanh, at 1, has none), as the book printed them."""
    model = thermometer_seq()
    names = [(name, list(p.shape)) for name, p in model.named_parameters()]
    assert names == [("0.weight", [13, 1]), ("0.bias", [13]), ("2.weight", [1, 13]), ("2.bias", [1])]
    assert printed_names(model) == BOOK_NAMED_PARAMETERS, f"the book printed:\n{BOOK_NAMED_PARAMETERS}"


@pytest.mark.claim(NAMES)
def test_ordereddict_names_and_attribute_access():
    """p.160: built from an OrderedDict, the book's model has parameters hidden_linear.weight,
    hidden_linear.bias, output_linear.weight, output_linear.bias (8 hidden units), and each submodule
    is an attribute: seq_model.output_linear.bias is the parameter named 'output_linear.bias'. It lists
    and prints them under those names, as the book printed them (with 8 and with 12 hidden units)."""
    seq_model = thermometer_named_seq()
    assert repr(seq_model) == BOOK_NAMED_SEQ_MODEL, f"as printed:\n{BOOK_NAMED_SEQ_MODEL}\nmeasured:\n{seq_model}"
    assert repr(thermometer_named_seq(12)) == BOOK_NAMED_SEQ_MODEL_12, f"measured:\n{thermometer_named_seq(12)}"
    assert printed_names(seq_model) == BOOK_NAMED_SEQ_PARAMETERS, f"the book printed:\n{BOOK_NAMED_SEQ_PARAMETERS}"
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
