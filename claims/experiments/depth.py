"""Deep stacks for the vanishing-gradient claims of page 224.

``TanhBlock`` is a conv + tanh layer, with BatchNorm between the two when ``batch_norm``, initialised one of
three ways (``init``):

- ``"default"``: what ``nn.Conv2d`` does by itself, PyTorch's own choice (``kaiming_uniform_`` with
  ``a=sqrt(5)``): a uniform weight of variance 1 / (3 fan_in), a third of the 1 / fan_in of LeCun's init and
  of Glorot's (whose 2 / (fan_in + fan_out) is 1 / fan_in here, fan_in = fan_out), and a uniform bias in
  +-1 / sqrt(fan_in). It is neither Glorot's nor He's init.
- ``"default-zero-bias"``: the same weights with zero biases.
- ``"glorot"``: a normal weight with the variance of Glorot and Bengio's normalized initialization (2010,
  which draws it from a uniform distribution), ``xavier_normal_`` with gain ``gain`` (variance
  gain**2 * 2 / (fan_in + fan_out), here gain**2 / fan_in), and a zero bias.

The book's ``ResBlock`` is in ``claims.book.models``. Both take ``skip`` so the same stack can be measured
with and without its ``+ x``.

``backward_profile`` measures what backpropagation hands each layer: the gradient with respect to each
block's output (the backward signal, which a vanishing gradient shrinks layer after layer), each block's
conv-weight gradient (what SGD applies: that signal times the block's input), and the size of each block's
output (the forward signal).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from claims.book.models import ResBlock

INITS = ("default", "default-zero-bias", "glorot")


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
        if init != "default":
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


@dataclass
class Profile:
    """Per block, first to last, in train mode with loss = mean output: the norm of the gradient with respect
    to the block's output, the norm of its conv weight's gradient, and the root mean square of its output."""

    output_grads: list[float]
    weight_grads: list[float]
    activations: list[float]

    def relative(self, which: str) -> list[float]:
        """``output_grads`` or ``weight_grads`` over the last block's."""
        values = getattr(self, which)
        return [value / values[-1] for value in values]

    def factors(self) -> list[float]:
        """What each block multiplies the backward signal by: its output's gradient over the next block's."""
        grads = self.output_grads
        return [grads[k] / grads[k + 1] for k in range(len(grads) - 1)]


def backward_profile(model: nn.Sequential, x: torch.Tensor) -> Profile:
    """One backward pass of mean(model(x)), measured block by block (see ``Profile``).

    The norms are taken in float64 on the CPU: a float32 norm squares gradients of 1e-30 to 1e-60, below what
    float32 holds, and reads them as 0."""
    model.train()
    for p in model.parameters():
        p.grad = None
    outputs, out = [], x
    for block in model:
        out = block(out)
        out.retain_grad()
        outputs.append(out)
    out.mean().backward()

    def norm(t: torch.Tensor) -> float:
        return t.detach().cpu().double().norm().item()

    return Profile(
        output_grads=[norm(o.grad) for o in outputs],
        weight_grads=[norm(block.conv.weight.grad) for block in model],
        activations=[norm(o) / o.numel() ** 0.5 for o in outputs],
    )
