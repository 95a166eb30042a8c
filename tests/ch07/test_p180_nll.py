"""Chapter 7, page 180: negative log-likelihood in theory, and PyTorch's NLLLoss, which takes no log."""

import pytest
import torch
import torch.nn as nn

from claims.compat import assert_close

NLL = "ch07.nll-is-minus-log-p-of-the-true-class-added-over-the-batch"
TAKES_NO_LOG = "ch07.nllloss-takes-log-probabilities-so-the-model-ends-in-logsoftmax"


@pytest.mark.claim(NLL)
def test_nll_adds_minus_log_p_of_the_correct_class_over_the_batch(device, evidence):
    """p.180: for each sample take the probability p the model gave the correct class (0.7, 0.6, 0.2
    here), compute -log p, and add these up for the batch: NLLLoss on the log-probabilities gives that
    sum with reduction='sum', and by default the mean (the sum over 3)."""
    probs = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.3, 0.2]], device=device)
    correct = torch.tensor([0, 2, 1], device=device)
    p_correct = torch.tensor([0.7, 0.6, 0.3], device=device)  # probs[i, correct[i]], read off by hand
    by_hand = -torch.log(p_correct).sum()
    summed = nn.NLLLoss(reduction="sum")(torch.log(probs), correct)
    averaged = nn.NLLLoss()(torch.log(probs), correct)
    evidence.record(by_hand=by_hand, summed=summed, averaged=averaged)
    assert_close(summed, by_hand, rtol=1e-6, atol=0)
    assert_close(averaged, by_hand / 3, rtol=1e-6, atol=0)


@pytest.mark.claim(NLL)
def test_minus_log_p_is_high_when_p_is_low(device, evidence):
    """p.180: -log p is high when the probability of the correct class is low and falls to 0 as it nears
    1: 6.9 at p = 0.001, 2.3 at 0.1, 0.69 at 0.5, 0.105 at 0.9, 0 at 1."""
    p = torch.tensor([0.001, 0.1, 0.5, 0.9, 1.0], device=device)
    log_probs = torch.log(torch.stack([p, 1 - p], dim=1))  # two classes; the correct one is class 0
    nll = nn.NLLLoss(reduction="none")(log_probs, torch.zeros(5, dtype=torch.long, device=device))
    evidence.record(p=p, nll=nll)
    assert_close(nll, torch.tensor([6.9078, 2.3026, 0.6931, 0.1054, 0.0], device=device), rtol=0, atol=1e-4)
    assert (nll[:-1] > nll[1:]).all(), f"-log p should fall as p rises, measured {nll.tolist()}"


@pytest.mark.claim(TAKES_NO_LOG)
def test_nllloss_does_not_take_the_log(device):
    """p.180: NLLLoss(p, y) is -mean(p[i, y_i]): it takes its input as log-probabilities and applies no
    log itself, so fed probabilities it does not compute -log p; fed their log, it does."""
    p = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]], device=device)
    y = torch.tensor([0, 2], device=device)
    loss = nn.NLLLoss()(p, y)
    true_nll = -torch.log(torch.tensor([0.7, 0.6], device=device)).mean()
    assert_close(loss, -(0.7 + 0.6) / 2 * torch.ones((), device=device), rtol=1e-6, atol=0)
    assert not torch.isclose(loss, true_nll), f"NLLLoss of probabilities is {loss}, not -log p = {true_nll}"
    assert_close(nn.NLLLoss()(p.log(), y), true_nll, rtol=1e-6, atol=0)


@pytest.mark.claim(TAKES_NO_LOG)
def test_model_ends_in_log_softmax_which_does_not_underflow(device):
    """p.180: so the model's last layer is nn.LogSoftmax, not nn.Softmax: it computes the log directly.
    log(softmax(x)) would not do: softmax([0, 104]) rounds to [0, 1] in float32, so its log is
    [-inf, 0]; LogSoftmax gives [-104, 0], and NLLLoss of it is the true -log p, 104 for class 0."""
    x = torch.tensor([[0.0, 104.0]], device=device)
    assert_close(nn.Softmax(dim=1)(x), torch.tensor([[0.0, 1.0]], device=device), rtol=0, atol=0)
    assert_close(torch.log(nn.Softmax(dim=1)(x)), torch.tensor([[-float("inf"), 0.0]], device=device), rtol=0, atol=0)
    log_probs = nn.LogSoftmax(dim=1)(x)
    assert_close(log_probs, torch.tensor([[-104.0, 0.0]], device=device), rtol=0, atol=0)
    assert_close(
        nn.NLLLoss()(log_probs, torch.tensor([0], device=device)), torch.tensor(104.0, device=device), rtol=0, atol=0
    )
