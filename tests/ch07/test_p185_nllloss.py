"""Chapter 7, pages 180 and 185: NLLLoss on LogSoftmax output is CrossEntropyLoss."""
import pytest
import torch
import torch.nn as nn
from hypothesis import given
from hypothesis import strategies as st
from claims.compat import assert_close

from tests.strategies import float_dtypes

CLAIM = "ch07.nllloss-of-logsoftmax-equals-cross-entropy"


@pytest.mark.claim(CLAIM)
@given(
    batch=st.integers(1, 8), n_classes=st.integers(2, 10), scale=st.sampled_from([1e-3, 1.0, 30.0, 1e3]),
    dtype=float_dtypes, reduction=st.sampled_from(["mean", "sum", "none"]), weighted=st.booleans(),
    data=st.data(),
)
def test_nllloss_of_log_softmax_equals_cross_entropy(device, batch, n_classes, scale, dtype, reduction,
                                                      weighted, data):
    """p.185: nn.NLLLoss(nn.LogSoftmax(dim=1)(logits)) == nn.CrossEntropyLoss(logits), for class-index
    targets, any reduction, with and without class weights, for logits up to 1e3 in magnitude."""
    g = torch.Generator().manual_seed(data.draw(st.integers(0, 2**31 - 1), label="seed"))
    logits = (scale * torch.randn(batch, n_classes, generator=g, dtype=dtype)).to(device)
    target = torch.randint(n_classes, (batch,), generator=g).to(device)
    weight = (torch.rand(n_classes, generator=g, dtype=dtype) + 0.1).to(device) if weighted else None

    two_steps = nn.NLLLoss(weight=weight, reduction=reduction)(nn.LogSoftmax(dim=1)(logits), target)
    one_step = nn.CrossEntropyLoss(weight=weight, reduction=reduction)(logits, target)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    assert_close(two_steps, one_step, rtol=tol, atol=tol)


@pytest.mark.claim(CLAIM)
def test_log_of_softmax_underflows_where_log_softmax_does_not(device):
    """p.180: the reason for LogSoftmax: softmax([0, 104]) rounds to [0, 1] in float32, so its log is
    [-inf, 0]; log_softmax computes [-104, 0] directly."""
    x = torch.tensor([[0.0, 104.0]], device=device)
    assert_close(torch.softmax(x, dim=1), torch.tensor([[0.0, 1.0]], device=device), rtol=0, atol=0)
    assert_close(torch.log(torch.softmax(x, dim=1)), torch.tensor([[-torch.inf, 0.0]], device=device),
                 rtol=0, atol=0)
    assert_close(torch.log_softmax(x, dim=1), torch.tensor([[-104.0, 0.0]], device=device), rtol=0, atol=0)


@pytest.mark.claim(CLAIM)
def test_nllloss_does_not_take_the_log(device):
    """p.180: NLLLoss(p, y) is -mean(p[i, y_i]): it takes the log-probabilities as given and applies
    no log itself, so fed probabilities it does not compute -log(p)."""
    p = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]], device=device)
    y = torch.tensor([0, 2], device=device)
    loss = nn.NLLLoss()(p, y)
    assert_close(loss, -(0.7 + 0.6) / 2 * torch.ones((), device=device), rtol=1e-6, atol=0)
    true_nll = -torch.log(torch.tensor([0.7, 0.6], device=device)).mean()
    assert not torch.isclose(loss, true_nll), f"NLLLoss of probabilities is {loss}, not -log p = {true_nll}"
    assert_close(nn.NLLLoss()(p.log(), y), true_nll, rtol=1e-6, atol=0)
