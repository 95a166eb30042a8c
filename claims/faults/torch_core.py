"""Faults in the PyTorch behaviours that several chapters' claims rest on."""

from __future__ import annotations

import inspect

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from claims.faults import fault, replace


@fault("view-copies")
def view_copies():
    """Tensor.view returns a copy instead of a view that shares the tensor's storage."""
    view = torch.Tensor.view
    yield from replace(torch.Tensor, "view", lambda self, *shape: view(self, *shape).clone())


def _zero_grad_default_is_none() -> bool:
    """Whether ``optimizer.zero_grad()`` sets ``.grad`` to None by default on this torch (2.0 on)."""
    parameter = inspect.signature(torch.optim.Optimizer.zero_grad).parameters.get("set_to_none")
    return parameter is not None and parameter.default is True


@fault("zero-grad-flips-set-to-none")
def zero_grad_flips_set_to_none():
    """optimizer.zero_grad() does the other side of the 2.0 change: zeros .grad where it sets None, and the reverse."""
    zero_grad = torch.optim.Optimizer.zero_grad
    default_none = _zero_grad_default_is_none()

    def flipped(self, *args, **kwargs):
        if args or kwargs:
            return zero_grad(self, *args, **kwargs)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if default_none:
                    p.grad.detach_()
                    p.grad.zero_()
                else:
                    p.grad = None

    yield from replace(torch.optim.Optimizer, "zero_grad", flipped)


@fault("cross-entropy-off-by-1e-3")
def cross_entropy_off():
    """F.cross_entropy (and nn.CrossEntropyLoss) returns the loss times 1.001."""
    cross_entropy = F.cross_entropy
    yield from replace(F, "cross_entropy", lambda *args, **kwargs: cross_entropy(*args, **kwargs) * (1 + 1e-3))


@fault("nll-loss-takes-the-log")
def nll_loss_takes_the_log():
    """F.nll_loss (and nn.NLLLoss) takes the log of its input itself, as the notes say it does not."""
    nll_loss = F.nll_loss
    yield from replace(F, "nll_loss", lambda input, *args, **kwargs: nll_loss(torch.log(input), *args, **kwargs))


@fault("log-softmax-underflows")
def log_softmax_underflows():
    """F.log_softmax (and nn.LogSoftmax) computes log(softmax(x)), which underflows to -inf."""
    softmax = F.softmax
    yield from replace(F, "log_softmax", lambda input, dim=None, *args, **kwargs: torch.log(softmax(input, dim)))


@fault("conv2d-flips-its-kernel")
def conv2d_flips_its_kernel():
    """F.conv2d (and nn.Conv2d) flips the kernel: a true convolution instead of a cross-correlation."""
    conv2d = F.conv2d
    yield from replace(
        F, "conv2d", lambda input, weight, *args, **kwargs: conv2d(input, weight.flip(-2, -1), *args, **kwargs)
    )


@fault("dropout-forgets-the-rescale")
def dropout_forgets_the_rescale():
    """Dropout and Dropout2d in train mode zero elements but do not scale the survivors by 1 / (1 - p)."""
    with pytest.MonkeyPatch.context() as mp:
        for name in ("dropout", "dropout2d"):
            original = getattr(F, name)

            def unscaled(input, p=0.5, training=True, inplace=False, _original=original):
                out = _original(input, p, training, inplace)
                return out * (1 - p) if training and p > 0 else out

            mp.setattr(F, name, unscaled)
        yield


@fault("batchnorm-uses-running-stats-in-train-mode")
def batchnorm_uses_running_stats_in_train_mode():
    """BatchNorm in train mode normalizes with its running statistics instead of the batch's."""
    batch_norm = F.batch_norm

    def running(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
        training = training and running_mean is None
        return batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)

    yield from replace(F, "batch_norm", running)


@fault("randperm-repeats-an-index")
def randperm_repeats_an_index():
    """torch.randperm(n) returns its first index again in place of its last, so one index is missing."""
    randperm = torch.randperm

    def repeating(n, *args, **kwargs):
        perm = randperm(n, *args, **kwargs)
        if perm.numel() > 1:
            perm[-1] = perm[0]
        return perm

    yield from replace(torch, "randperm", repeating)


def _leaves(tensor: torch.Tensor) -> list[torch.Tensor]:
    """The leaf tensors that a backward from ``tensor`` accumulates into."""
    found, seen, visited, todo = [], set(), [], [tensor.grad_fn]
    while todo:
        node = todo.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        visited.append(node)  # keeps each node alive: torch 1.4 frees the wrappers and would reuse their ids
        if hasattr(node, "variable"):  # AccumulateGrad
            found.append(node.variable)
        todo.extend(next_node for next_node, _ in node.next_functions)
    return found


@fault("backward-replaces-grad")
def backward_replaces_grad():
    """Tensor.backward() replaces each leaf's .grad instead of adding to it."""
    backward = torch.Tensor.backward

    def replacing(self, *args, **kwargs):
        for leaf in _leaves(self):
            leaf.grad = None
        return backward(self, *args, **kwargs)

    yield from replace(torch.Tensor, "backward", replacing)


@fault("adam-step-scales-with-the-gradient")
def adam_step_scales_with_the_gradient():
    """optim.Adam's step is plain SGD's, params -= lr * grad: its update scales with the gradient."""

    def sgd_step(self, closure=None):
        loss = closure() if closure is not None else None
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.sub_(group["lr"] * p.grad)
        return loss

    yield from replace(torch.optim.Adam, "step", sgd_step)


@fault("dataloader-always-drops-the-last-batch")
def dataloader_always_drops_the_last_batch():
    """DataLoader leaves out the last, smaller batch even when drop_last=False."""
    init = DataLoader.__init__

    def dropping(self, *args, **kwargs):
        kwargs["drop_last"] = True
        init(self, *args, **kwargs)

    yield from replace(DataLoader, "__init__", dropping)
