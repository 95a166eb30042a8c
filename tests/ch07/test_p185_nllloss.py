"""Chapter 7, page 185: LogSoftmax + NLLLoss is CrossEntropyLoss; without the softmax the outputs are no
probabilities."""

import pytest
import torch
import torch.nn as nn
from hypothesis import given
from hypothesis import strategies as st

from claims.book.models import fc_small
from claims.compat import assert_close, full_float32
from claims.devices import dtype_or_skip
from fixtures.images import bars
from tests.strategies import rounding_tolerance

SAME_LOSS = "ch07.nllloss-of-logsoftmax-equals-cross-entropy"
NOT_PROBABILITIES = "ch07.cross-entropy-model-outputs-are-not-probabilities"


@pytest.mark.claim(SAME_LOSS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@given(
    batch=st.integers(1, 8),
    n_classes=st.integers(2, 10),
    scale=st.sampled_from([1e-3, 1.0, 30.0, 1e3]),
    reduction=st.sampled_from(["mean", "sum", "none"]),
    weighted=st.booleans(),
    data=st.data(),
)
def test_nllloss_of_log_softmax_equals_cross_entropy(
    device, one_cpu_thread, dtype, batch, n_classes, scale, reduction, weighted, data
):
    """p.185: nn.NLLLoss(nn.LogSoftmax(dim=1)(logits)) == nn.CrossEntropyLoss(logits), for class-index
    targets, any reduction, with and without class weights, for logits up to 1e3 in magnitude, in float32
    and float64 (skipped on a device without float64)."""
    dtype = dtype_or_skip(device, dtype)
    g = torch.Generator().manual_seed(data.draw(st.integers(0, 2**31 - 1), label="seed"))
    logits = (scale * torch.randn(batch, n_classes, generator=g, dtype=dtype)).to(device)
    target = torch.randint(n_classes, (batch,), generator=g).to(device)
    weight = (torch.rand(n_classes, generator=g, dtype=dtype) + 0.1).to(device) if weighted else None

    two_steps = nn.NLLLoss(weight=weight, reduction=reduction)(nn.LogSoftmax(dim=1)(logits), target)
    one_step = nn.CrossEntropyLoss(weight=weight, reduction=reduction)(logits, target)
    tol = rounding_tolerance(dtype)
    assert_close(two_steps, one_step, rtol=tol, atol=tol)


@pytest.mark.claim(NOT_PROBABILITIES)
def test_outputs_without_softmax_are_scores_not_probabilities(device, seed, evidence, one_cpu_thread):
    """p.185: the book's model without its LogSoftmax, trained with nn.CrossEntropyLoss (3 SGD steps on 16
    images), outputs raw scores: their exp does not sum to 1 per image, so they are neither probabilities
    nor log-probabilities; the same weights ending in LogSoftmax output log-probabilities, and softmax of
    the scores gives them back."""
    imgs, labels = bars(16, torch.Generator().manual_seed(seed))
    x, labels = imgs.view(16, -1).to(device), labels.to(device)
    with_log_softmax = fc_small().to(device)
    scores_only = with_log_softmax[:-1]  # the same layers and weights, LogSoftmax removed
    optimizer = torch.optim.SGD(scores_only.parameters(), lr=1e-2)
    for _ in range(3):
        loss = nn.CrossEntropyLoss()(scores_only(x), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad(), full_float32():  # the two forward passes round alike on CUDA
        scores, log_probs = scores_only(x[:8]), with_log_softmax(x[:8])
    ones = torch.ones(8, device=device)
    evidence.record(exp_scores_row_sums=scores.exp().sum(dim=1), exp_log_probs_row_sums=log_probs.exp().sum(dim=1))
    assert not torch.allclose(scores.exp().sum(dim=1), ones, atol=1e-3), f"exp of scores should not sum to 1: {scores}"
    assert_close(log_probs.exp().sum(dim=1), ones, rtol=0, atol=1e-5)
    assert_close(nn.Softmax(dim=1)(scores), log_probs.exp(), rtol=1e-5, atol=1e-6)
