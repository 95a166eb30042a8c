"""Chapter 6, page 152: call the module, not its forward: __call__ runs the hooks."""

import pytest
import torch
import torch.nn as nn

from claims.compat import assert_close

CLAIM = "ch06.calling-a-module-runs-its-hooks-forward-skips-them"


@pytest.mark.claim(CLAIM)
def test_call_runs_pre_hooks_and_hooks_forward_does_not(device, evidence):
    """p.152: model(x) goes through nn.Module.__call__, which runs the forward pre-hooks, then
    forward, then the forward hooks; model.forward(x) computes the same output and skips all of them."""
    model = nn.Linear(3, 2).to(device)
    calls = []
    model.register_forward_pre_hook(lambda module, args: calls.append("pre"))
    model.register_forward_hook(lambda module, args, output: calls.append("post"))
    x = torch.randn(4, 3, device=device)

    through_call = model(x)
    run_by_call = list(calls)
    calls.clear()
    direct = model.forward(x)
    run_by_forward = list(calls)
    evidence.record(hooks_run_by_call=run_by_call, hooks_run_by_forward=run_by_forward)
    assert run_by_call == ["pre", "post"], f"model(x) should run the pre-hook then the hook, ran {run_by_call}"
    assert run_by_forward == [], f"model.forward(x) should run no hook, ran {run_by_forward}"
    assert_close(direct, through_call, rtol=0, atol=0)


@pytest.mark.claim(CLAIM)
def test_hooks_can_change_what_call_returns(device):
    """p.152: the difference is not cosmetic: a forward hook that returns a value replaces the output
    of model(x), while model.forward(x) returns forward's own result."""
    model = nn.Linear(3, 2).to(device)
    model.register_forward_hook(lambda module, args, output: output * 0)
    x = torch.randn(4, 3, device=device)
    assert_close(model(x), torch.zeros(4, 2, device=device), rtol=0, atol=0)
    assert model.forward(x).abs().sum() > 0, "forward() should bypass the hook and return Linear's output"
