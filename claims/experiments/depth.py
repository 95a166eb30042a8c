"""Deep stacks for the vanishing-gradient claims of page 224.

``TanhBlock`` is the classic pre-2015 layer (conv + tanh, PyTorch's default init, no normalization); the
book's ``ResBlock`` is in ``models``. Both take ``skip`` so the same stack can be measured with and without.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from claims.book.models import ResBlock


class TanhBlock(nn.Module):
    """``tanh(conv(x))``, plus ``x`` when ``skip``."""

    def __init__(self, n_chans: int, skip: bool):
        super().__init__()
        self.skip = skip
        self.conv = nn.Conv2d(n_chans, n_chans, kernel_size=3, padding=1)

    def forward(self, x):
        out = torch.tanh(self.conv(x))
        return out + x if self.skip else out


def stack(block: str, depth: int, n_chans: int, skip: bool) -> nn.Sequential:
    """``depth`` distinct blocks ("tanh" or the book's "resblock"), built on the CPU."""
    make = {"tanh": lambda: TanhBlock(n_chans, skip), "resblock": lambda: ResBlock(n_chans, skip=skip)}[block]
    return nn.Sequential(*(make() for _ in range(depth)))


def layer_grad_norms(model: nn.Sequential, x: torch.Tensor) -> list[float]:
    """For each block, first to last: the norm of d mean(model(x)) / d (its conv weight), in train mode."""
    model.train()
    for p in model.parameters():
        p.grad = None
    model(x).mean().backward()
    return [block.conv.weight.grad.norm().item() for block in model]
