"""Deep stacks for the vanishing-gradient claims of page 224.

``TanhBlock`` is a conv + tanh layer, with BatchNorm between the two when ``batch_norm``, initialised one of
two ways (``init``):

- ``"default"``: what ``nn.Conv2d`` does by itself, PyTorch's own choice (``kaiming_uniform_`` with
  ``a=sqrt(5)``): a uniform weight of variance 1 / (3 fan_in) and a uniform bias in +-1 / sqrt(fan_in). It is
  neither Glorot's nor He's init, and it shrinks the signal a conv + tanh layer passes back by about half.
- ``"glorot"``: Glorot and Bengio's normalized initialization (2010), ``xavier_normal_`` with gain ``gain``
  (variance gain**2 * 2 / (fan_in + fan_out), here gain**2 / fan_in) and a zero bias.

The book's ``ResBlock`` is in ``claims.book.models``. Both take ``skip`` so the same stack can be measured
with and without its ``+ x``.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from claims.book.models import ResBlock

INITS = ("default", "glorot")


class TanhBlock(nn.Module):
    """``tanh(conv(x))`` (``tanh(batch_norm(conv(x)))`` with ``batch_norm``), plus ``x`` when ``skip``."""

    def __init__(self, n_chans: int, skip: bool, init: str = "default", batch_norm: bool = False, gain: float = 1.0):
        super().__init__()
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        self.skip = skip
        self.conv = nn.Conv2d(n_chans, n_chans, kernel_size=3, padding=1)
        self.norm = nn.BatchNorm2d(n_chans) if batch_norm else nn.Identity()
        if init == "glorot":
            nn.init.xavier_normal_(self.conv.weight, gain=gain)
            nn.init.zeros_(self.conv.bias)

    def forward(self, x):
        out = torch.tanh(self.norm(self.conv(x)))
        return out + x if self.skip else out


def stack(block: str, depth: int, n_chans: int, skip: bool, **options) -> nn.Sequential:
    """``depth`` distinct blocks ("tanh", with ``TanhBlock``'s ``options``, or the book's "resblock"),
    built on the CPU."""
    if block == "tanh":
        return nn.Sequential(*(TanhBlock(n_chans, skip, **options) for _ in range(depth)))
    return nn.Sequential(*(ResBlock(n_chans, skip=skip, **options) for _ in range(depth)))


def layer_grad_norms(model: nn.Sequential, x: torch.Tensor) -> list[float]:
    """For each block, first to last: the norm of d mean(model(x)) / d (its conv weight), in train mode.

    The norm is taken in float64 on the CPU: a float32 norm squares gradients of 1e-30 to 1e-60, below what
    float32 holds, and reads them as 0."""
    model.train()
    for p in model.parameters():
        p.grad = None
    model(x).mean().backward()
    return [block.conv.weight.grad.cpu().double().norm().item() for block in model]
