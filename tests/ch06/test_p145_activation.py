"""Chapter 6, page 145: without a nonlinearity stacked Linear layers collapse to one linear map."""
import pytest
import torch
import torch.nn as nn
from claims.compat import assert_close

CLAIM = "ch06.linear-layers-without-activation-collapse-to-one"


@pytest.mark.claim(CLAIM)
def test_two_linear_layers_equal_one(device):
    """p.145: Linear(4, 8) then Linear(8, 3) with nothing between is the single Linear(4, 3) with
    W = W2 @ W1 and b = W2 @ b1 + b2: the extra layer adds no expressive power."""
    first, second = nn.Linear(4, 8).to(device), nn.Linear(8, 3).to(device)
    single = nn.Linear(4, 3).to(device)
    with torch.no_grad():
        single.weight.copy_(second.weight @ first.weight)
        single.bias.copy_(second.weight @ first.bias + second.bias)
    x = torch.randn(16, 4, device=device)
    assert_close(second(first(x)), single(x), rtol=1e-5, atol=1e-5)


def _fit(model, x, y, steps=100):
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    for _ in range(steps):
        loss = ((model(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return ((model(x) - y) ** 2).mean().item()


@pytest.mark.claim(CLAIM)
def test_tanh_between_layers_fits_what_no_linear_map_can(device, evidence):
    """p.145: with tanh between them the same two layers fit y = x^2 on [-1, 1]; the best single
    linear map (least squares) cannot, whatever its weights. Margin: seeds 0-9 (100 Adam steps)
    gave tanh-stack MSE up to 0.0017 against the least-squares optimum 0.094; we require 0.01 and 0.08."""
    x = torch.linspace(-1, 1, 64, device=device).unsqueeze(1)
    y = x ** 2
    stack = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1)).to(device)
    stack_mse = _fit(stack, x, y)
    design = torch.cat([x, torch.ones_like(x)], dim=1)  # the best w * x + b, in closed form
    coef = torch.linalg.lstsq(design.cpu(), y.cpu()).solution.to(device)
    best_linear_mse = ((design @ coef - y) ** 2).mean().item()
    evidence.record(tanh_stack_mse=stack_mse, best_linear_mse=best_linear_mse)

    assert best_linear_mse > 0.08, f"no line fits x^2: expected MSE > 0.08, measured {best_linear_mse}"
    assert stack_mse < 0.01, f"the tanh stack should fit x^2: expected MSE < 0.01, measured {stack_mse}"
    no_tanh = nn.Sequential(nn.Linear(1, 8), nn.Linear(8, 1)).to(device)
    no_tanh_mse = _fit(no_tanh, x, y)
    evidence.record(stack_without_tanh_mse=no_tanh_mse)
    assert no_tanh_mse > best_linear_mse - 1e-4, (
        f"without tanh the stack is a line: expected MSE >= {best_linear_mse:.4f}, measured {no_tanh_mse}")
