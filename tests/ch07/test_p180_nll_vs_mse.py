"""Chapter 7, page 180: NLL, not MSE, for classification: it keeps punishing confident mistakes."""
import math

import pytest
import torch
import torch.nn as nn
from claims.compat import assert_close

CLAIM = "ch07.nll-penalizes-confident-mistakes-more-than-mse"
P_TRUE = [0.9, 0.5, 0.1, 0.01, 0.001]  # predicted probability of the true class (two classes)


def losses_and_grads(loss_name, device):
    """Loss and |d loss / d logit of the true class| for two-class predictions p_true = P_TRUE."""
    p = torch.tensor(P_TRUE, device=device)
    logits = torch.stack([torch.log(p), torch.log1p(-p)], dim=1).requires_grad_()  # softmax gives [p, 1-p]
    target = torch.zeros(len(P_TRUE), dtype=torch.long, device=device)
    probs = torch.softmax(logits, dim=1)
    if loss_name == "nll":
        per_sample = nn.NLLLoss(reduction="none")(torch.log_softmax(logits, dim=1), target)
    else:
        per_sample = nn.MSELoss(reduction="none")(probs, nn.functional.one_hot(target, 2).float()).mean(dim=1)
    per_sample.sum().backward()
    return per_sample.detach(), logits.grad[:, 0].abs()


@pytest.mark.claim(CLAIM)
def test_nll_grows_without_bound_while_mse_saturates(device, evidence):
    """p.180: as the probability p of the true class falls from 0.9 to 0.001, NLL = -log p goes from
    0.105 to 6.9 and keeps growing; MSE against the one-hot target is (1 - p)^2, never above 1. Among
    wrong predictions (p from 0.1 down to 0.001) NLL rises by 4.6 and MSE by only 0.19."""
    nll, _ = losses_and_grads("nll", device)
    mse, _ = losses_and_grads("mse", device)
    evidence.record(p_true=P_TRUE, nll=nll, mse=mse)
    assert_close(nll, -torch.log(torch.tensor(P_TRUE, device=device)), rtol=1e-5, atol=1e-6)
    assert_close(mse, (1 - torch.tensor(P_TRUE, device=device)) ** 2, rtol=1e-5, atol=1e-6)
    assert (mse <= 1).all() and nll[-1] > 6.9
    nll_rise, mse_rise = (nll[-1] - nll[2]).item(), (mse[-1] - mse[2]).item()  # from p=0.1 to p=0.001
    assert nll_rise > 10 * mse_rise, f"NLL should rise much faster: NLL +{nll_rise:.3f}, MSE +{mse_rise:.3f}"


@pytest.mark.claim(CLAIM)
def test_mse_gradient_vanishes_for_confident_mistakes(device, evidence):
    """p.180: through softmax, MSE's gradient for a confidently wrong prediction (p = 0.001) is about
    0.002, a thousand times smaller than NLL's, which stays near 1: MSE stops correcting exactly the
    samples that need it most."""
    _, nll_grad = losses_and_grads("nll", device)
    _, mse_grad = losses_and_grads("mse", device)
    evidence.record(p_true=P_TRUE, nll_grad=nll_grad, mse_grad=mse_grad)
    assert_close(nll_grad, 1 - torch.tensor(P_TRUE, device=device), rtol=1e-5, atol=1e-6)  # d(-log p)/dz = p - 1
    assert nll_grad[-1] > 0.99 and mse_grad[-1] < 0.003, f"NLL {nll_grad[-1]:.4f}, MSE {mse_grad[-1]:.5f}"
    assert math.isclose(mse_grad[-1].item(), 2 * 0.001 * 0.999 ** 2, rel_tol=1e-3)
