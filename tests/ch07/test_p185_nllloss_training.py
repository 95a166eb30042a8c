"""Chapter 7, page 185: LogSoftmax + NLLLoss and CrossEntropyLoss train a model identically."""

import copy

import pytest
import torch
import torch.nn as nn

from claims.book.models import fc_small
from claims.compat import assert_close
from fixtures.images import bars

CLAIM = "ch07.nllloss-of-logsoftmax-equals-cross-entropy"


@pytest.mark.claim(CLAIM)
def test_both_formulations_follow_the_same_parameter_trajectory(device, seed, evidence, one_cpu_thread):
    """p.185: the book's model ending in LogSoftmax trained with NLLLoss, and the same model without
    its LogSoftmax trained with CrossEntropyLoss, start equal and stay equal over 5 SGD steps
    (lr=1e-2) on the same 16 images: the two formulations are one loss, not just one value."""
    imgs, labels = bars(16, torch.Generator().manual_seed(seed))
    x, labels = imgs.view(16, -1).to(device), labels.to(device)
    with_log_softmax = fc_small().to(device)
    logits_only = copy.deepcopy(with_log_softmax)[:-1]  # the same weights, LogSoftmax removed
    runs = [(with_log_softmax, nn.NLLLoss()), (logits_only, nn.CrossEntropyLoss())]
    optimizers = [torch.optim.SGD(model.parameters(), lr=1e-2) for model, _ in runs]
    losses = [[], []]
    for _ in range(5):
        for k, ((model, loss_fn), opt) in enumerate(zip(runs, optimizers)):
            loss = loss_fn(model(x), labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses[k].append(loss.item())
    evidence.record(nll_losses=losses[0], cross_entropy_losses=losses[1])
    assert_close(losses[0], losses[1], rtol=1e-5, atol=1e-6)
    for p_nll, p_ce in zip(with_log_softmax.parameters(), logits_only.parameters()):
        assert_close(p_nll, p_ce, rtol=1e-5, atol=1e-6)
    assert losses[0][-1] < losses[0][0], f"training should lower the loss: {losses[0]}"
