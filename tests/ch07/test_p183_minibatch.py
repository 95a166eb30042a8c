"""Chapter 7, page 183: sample, mini-batch and full-batch gradients are means of the same terms."""

import pytest
import torch
import torch.nn as nn

from claims.compat import assert_close, full_float32

CLAIM = "ch07.minibatch-gradient-is-mean-of-sample-gradients"


def grads(model, loss_fn, x, y):
    """The gradient of loss_fn(model(x), y) with respect to every parameter, flattened into one vector."""
    model.zero_grad()
    with full_float32():  # TF32 on CUDA would round each batch size's matmuls differently
        loss_fn(model(x), y).backward()
    return torch.cat([p.grad.flatten() for p in model.parameters()])


@pytest.mark.claim(CLAIM)
def test_minibatch_gradient_is_the_mean_of_per_sample_gradients(device, evidence, one_cpu_thread):
    """p.183: for a mean-reduced loss (the default), the gradient of a mini-batch of 8 is the mean of
    the 8 one-sample gradients, and the full batch of 32's gradient is the mean of its four mini-batch
    gradients: mini-batches estimate the full gradient from fewer samples. The mean comes from the
    reduction: with reduction='sum' the mini-batch gradient is the sum, 8 times the mean."""
    model = nn.Sequential(nn.Linear(12, 6), nn.Tanh(), nn.Linear(6, 3), nn.LogSoftmax(dim=1)).to(device)
    loss_fn = nn.NLLLoss()
    x, y = torch.randn(32, 12).to(device), torch.randint(3, (32,)).to(device)

    per_sample = torch.stack([grads(model, loss_fn, x[i : i + 1], y[i : i + 1]) for i in range(8)])
    assert_close(grads(model, loss_fn, x[:8], y[:8]), per_sample.mean(dim=0), rtol=1e-5, atol=1e-6)
    summed = grads(model, nn.NLLLoss(reduction="sum"), x[:8], y[:8])
    assert_close(summed, per_sample.sum(dim=0), rtol=1e-5, atol=1e-6)

    minibatches = torch.stack([grads(model, loss_fn, x[i : i + 8], y[i : i + 8]) for i in range(0, 32, 8)])
    full = grads(model, loss_fn, x, y)
    assert_close(full, minibatches.mean(dim=0), rtol=1e-5, atol=1e-6)
    evidence.record(minibatch_relative_deviation=(minibatches - full).norm(dim=1) / full.norm())
