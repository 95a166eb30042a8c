"""Chapter 6, page 151: torch.nn's building blocks are modules, subclasses of nn.Module that hold
Parameters and track the parameters of their submodules."""

import pytest
import torch
import torch.nn as nn

from claims.book.models import SubclassFunctionalModel, SubclassModel

CLAIM = "ch06.torch-nn-building-blocks-are-modules-with-parameters"

# p1ch6/3_nn_module_subclassing.ipynb, as printed: the subclass (In[4]) and the one that calls torch.tanh (In[6])
BOOK_SUBCLASS_MODEL = """\
SubclassModel(
  (hidden_linear): Linear(in_features=1, out_features=13, bias=True)
  (hidden_activation): Tanh()
  (output_linear): Linear(in_features=13, out_features=1, bias=True)
)"""
BOOK_SUBCLASS_FUNCTIONAL_MODEL = """\
SubclassFunctionalModel(
  (hidden_linear): Linear(in_features=1, out_features=14, bias=True)
  (output_linear): Linear(in_features=14, out_features=1, bias=True)
)"""


@pytest.mark.claim(CLAIM)
def test_layers_are_modules_holding_parameters():
    """p.151: torch.nn's layers (Linear, Conv2d, Tanh, ...) are classes deriving from nn.Module; a Linear
    holds its w and b as nn.Parameter attributes, tensors that require grad; Tanh holds none."""
    for layer in (nn.Linear, nn.Conv2d, nn.Tanh, nn.ReLU, nn.Softmax, nn.Sequential):
        assert issubclass(layer, nn.Module), f"{layer.__name__} should derive from nn.Module"
    linear = nn.Linear(3, 2)
    params = dict(linear.named_parameters())
    assert list(params) == ["weight", "bias"], f"expected weight and bias, found {list(params)}"
    assert params["weight"] is linear.weight and params["bias"] is linear.bias
    for name, p in params.items():
        assert isinstance(p, nn.Parameter) and p.requires_grad, name
    assert list(nn.Tanh().parameters()) == []


class TwoLayers(nn.Module):
    """Submodules as attributes: two top-level Linears, and one buried in a plain Python list."""

    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(1, 4)
        self.output = nn.Linear(4, 1)
        self.buried = [nn.Linear(4, 4)]  # the book's warning: not top-level, so not tracked

    def forward(self, x):
        return self.output(torch.tanh(self.hidden(x)))


@pytest.mark.claim(CLAIM)
def test_module_tracks_its_submodules_parameters_and_the_optimizer_updates_them(device):
    """p.151: a module tracks the parameters of the submodules assigned as its attributes (not of one
    buried in a plain list: nn.ModuleList is for that), and those are what an optimizer given
    model.parameters() updates during training."""
    model = TwoLayers().to(device)
    names = [name for name, _ in model.named_parameters()]
    assert names == ["hidden.weight", "hidden.bias", "output.weight", "output.bias"], names
    listed = nn.ModuleList(model.buried)
    assert [name for name, _ in listed.named_parameters()] == ["0.weight", "0.bias"]

    before = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(8, 1, device=device), torch.randn(8, 1, device=device)
    ((model(x) - y) ** 2).mean().backward()
    opt.step()
    moved = [bool((p.detach() != b).any()) for p, b in zip(model.parameters(), before)]
    assert moved == [True] * 4, f"every tracked parameter should move in one SGD step, moved: {moved}"


@pytest.mark.claim(CLAIM)
def test_the_books_subclass_tracks_the_modules_assigned_as_its_attributes():
    """p.151 (p1ch6/3_nn_module_subclassing.ipynb): the book's SubclassModel assigns its Linear, Tanh and
    Linear as attributes in __init__, and the module tracks all three, in that order, as printed; its
    parameters are theirs. SubclassFunctionalModel calls torch.tanh in forward: a function, no submodule,
    so the module tracks two."""
    model, functional = SubclassModel(), SubclassFunctionalModel()
    assert repr(model) == BOOK_SUBCLASS_MODEL, f"as printed:\n{BOOK_SUBCLASS_MODEL}\nmeasured:\n{model!r}"
    assert repr(functional) == BOOK_SUBCLASS_FUNCTIONAL_MODEL, f"measured:\n{functional!r}"
    names = [name for name, _ in model.named_parameters()]
    assert names == ["hidden_linear.weight", "hidden_linear.bias", "output_linear.weight", "output_linear.bias"]
    assert [name for name, _ in functional.named_children()] == ["hidden_linear", "output_linear"]
