"""Chapter 6, pages 145-147: without a nonlinearity stacked Linear layers collapse to one linear map.

The fit of y = x^2 is statistical (Adam from a random start): ``test_sweeps.py`` runs it for 50 seeds
(``python -m pytest tests/ch06 -m sweep``); the margins are written beside the assertions.
"""

import pytest
import torch
import torch.nn as nn

from claims.compat import assert_close, full_float32, lstsq

CLAIM = "ch06.linear-layers-without-activation-collapse-to-one"


@pytest.mark.claim(CLAIM)
def test_two_linear_layers_are_one_linear_map(device):
    """p.145: Linear(4, 8) then Linear(8, 3) with nothing between computes x @ W.T + b with the single
    weight W = W2 @ W1 and bias b = W2 @ b1 + b2: the extra layer adds no expressive power."""
    first, second = nn.Linear(4, 8).to(device), nn.Linear(8, 3).to(device)
    x = torch.randn(16, 4, device=device)
    with full_float32():  # TF32 on CUDA would round the two routes differently
        stacked = second(first(x))
        weight = second.weight @ first.weight  # [3, 4]
        bias = second.weight @ first.bias + second.bias
        one_map = x @ weight.T + bias
    assert_close(stacked, one_map, rtol=1e-5, atol=1e-5)


def fit(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int = 100) -> float:
    """Adam (lr=0.1) on the mean squared error for ``steps`` steps; the final MSE."""
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    for _ in range(steps):
        loss = ((model(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return ((model(x) - y) ** 2).mean().item()


def bend(y: torch.Tensor) -> float:
    """The largest second difference y[i+1] - 2 y[i] + y[i-1] along a grid: 0 for a line."""
    return (y[2:] - 2 * y[1:-1] + y[:-2]).abs().max().item()


def fit_x_squared(device, seed: int) -> dict:
    """y = x^2 on 64 points of [-1, 1]: the same two layers, with and without Tanh between them, each
    trained by ``fit`` from a start drawn on the CPU from ``seed``; and the best line, in closed form."""
    torch.manual_seed(seed)
    with_tanh = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1)).to(device)
    without_tanh = nn.Sequential(nn.Linear(1, 8), nn.Linear(8, 1)).to(device)
    x = torch.linspace(-1, 1, 64).unsqueeze(1)
    y = x**2
    design = torch.cat([x, torch.ones_like(x)], dim=1)  # the best w * x + b, by least squares
    best_line_mse = ((design @ lstsq(design, y) - y) ** 2).mean().item()
    x, y = x.to(device), y.to(device)
    result = {
        "best_line_mse": best_line_mse,
        "tanh_stack_mse": fit(with_tanh, x, y),
        "no_tanh_stack_mse": fit(without_tanh, x, y),
    }
    with torch.no_grad():
        result.update(
            x_squared_bend=bend(y), tanh_stack_bend=bend(with_tanh(x)), no_tanh_stack_bend=bend(without_tanh(x))
        )
    return result


@pytest.mark.claim(CLAIM)
def test_tanh_between_layers_fits_what_no_linear_map_can(device, seed, evidence):
    """p.145/147: with tanh between them two layers fit y = x^2 on [-1, 1], which no line can (the best
    line's MSE is 0.094); trained the same way without tanh, the two layers stay a line: their output
    does not bend at all, where x^2 bends by 2h^2 = 0.001 per grid step."""
    result = fit_x_squared(device, seed)
    evidence.record(**result)

    assert result["best_line_mse"] > 0.08, f"no line fits x^2: expected MSE > 0.08, measured {result}"
    # 50 seeds on the CPU (torch 2.14 and 1.4 alike): tanh-stack MSE 0.0001-0.0028; the test asks < 0.01
    assert result["tanh_stack_mse"] < 0.01, f"the tanh stack should fit x^2: expected MSE < 0.01, measured {result}"
    # 50 seeds: bend 0-3e-7, float32 rounding; x^2's is 1e-3
    assert result["no_tanh_stack_bend"] < 1e-5, f"without tanh the output should be a line, measured {result}"
