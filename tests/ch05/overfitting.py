"""The experiment behind the page-131 claims: many small networks overfitting noisy points, trained at once.

The data are noisy readings of a straight line, like the thermometer's: x uniform in [-1, 1],
y = x + 0.3 * noise (``curved=True``: y = sin(pi x) + 0.1 * noise). Each of ``n_seeds`` networks has
its own sample of training points, its own 128 validation points and its own initialization; they
are trained together as one batched network: every weight has a leading seed dimension (W1 is
[seeds, 1, hidden]) and the objective is the sum of the seeds' losses, so each network gets exactly
the gradient it would get alone, and Adam (element-wise) treats each exactly as it would alone.

The network is 1 -> hidden -> 1 with tanh, full-batch Adam (lr 3e-2). The first layer starts wide,
uniform in [-5, 5], so that its tanh units can bend sharply enough to chase the noise within 150
epochs; the output layer starts as nn.Linear does, uniform in [-1/sqrt(hidden), 1/sqrt(hidden)].
Every remedy reuses the baseline's points and initialization (the smaller model keeps its first
units), so each comparison is paired, seed by seed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from claims.book.threads import one_cpu_thread

N_SEEDS = 24
N_TRAIN = 16
N_MAX = 64  # the "more data" remedy's sample; the others use its first N_TRAIN points
N_VAL = 128
HIDDEN = 32
EPOCHS = 150
EVERY = 10  # record the losses every 10 epochs


@dataclass
class Curves:
    """Training and validation loss (mean squared error, without dropout or noise) of every network,
    recorded every ``EVERY`` epochs: tensors of shape [checkpoints, seeds]."""

    train: torch.Tensor
    val: torch.Tensor

    @property
    def gap(self) -> torch.Tensor:
        """Validation minus training loss at the end, per seed."""
        return self.val[-1] - self.train[-1]


def make_data(device, seed: int, n_train: int, curved: bool):
    """Per-seed training and validation points, drawn on the CPU so every device sees the same."""
    g = torch.Generator().manual_seed(seed)
    truth, sigma = (lambda x: torch.sin(math.pi * x), 0.1) if curved else (lambda x: x, 0.3)
    x = (torch.rand(N_SEEDS, N_MAX, 1, generator=g) * 2 - 1)
    x_val = torch.rand(N_SEEDS, N_VAL, 1, generator=g) * 2 - 1
    y = truth(x) + sigma * torch.randn(x.shape, generator=g)
    y_val = truth(x_val) + sigma * torch.randn(x_val.shape, generator=g)
    return [t.to(device) for t in (x[:, :n_train], y[:, :n_train], x_val, y_val)]


def init_params(device, seed: int):
    """[W1, b1, W2, b2] for every seed."""
    g = torch.Generator().manual_seed(seed + 1)
    uniform = lambda *shape, bound: (torch.rand(*shape, generator=g) * 2 - 1) * bound  # noqa: E731
    params = [uniform(N_SEEDS, 1, HIDDEN, bound=5.0), uniform(N_SEEDS, 1, HIDDEN, bound=5.0),
              uniform(N_SEEDS, HIDDEN, 1, bound=HIDDEN**-0.5), uniform(N_SEEDS, 1, 1, bound=HIDDEN**-0.5)]
    return [p.to(device) for p in params]


def train(device, settings: dict[str, dict], n_train: int = N_TRAIN, curved: bool = False,
          seed: int = 0) -> dict[str, Curves]:
    """Train ``N_SEEDS`` networks per entry of ``settings`` (name -> changes from the baseline: ``hidden``,
    ``l2``, ``input_noise``, ``dropout``) for ``EPOCHS`` epochs, all in one batch; their Curves by name.

    A smaller ``hidden`` masks the units past it: they give nothing to the output and get no gradient
    (so Adam never moves them), which is the smaller network with the first units of the full one.
    """
    with one_cpu_thread():  # tensors of ~60k elements: on the CPU the thread pool costs 5x more than it saves
        return _train(device, settings, n_train, curved, seed)


def _train(device, settings, n_train, curved, seed):
    names = list(settings)
    knob = lambda key, default: torch.tensor(  # noqa: E731
        [settings[n].get(key, default) for n in names], dtype=torch.float32, device=device
    ).repeat_interleave(N_SEEDS).view(-1, 1, 1)
    hidden, l2 = knob("hidden", HIDDEN), knob("l2", 0.0)
    input_noise, dropout = knob("input_noise", 0.0), knob("dropout", 0.0)
    unit_mask = (torch.arange(HIDDEN, device=device).view(1, 1, HIDDEN) < hidden).float()

    x, y, x_val, y_val = (t.repeat(len(names), 1, 1) for t in make_data(device, seed, n_train, curved))
    params = [p.repeat(len(names), 1, 1).requires_grad_() for p in init_params(device, seed)]
    optimizer = torch.optim.Adam(params, lr=3e-2)
    noise = torch.Generator(device=device).manual_seed(seed + 2)

    def forward(x, training=False):
        w1, b1, w2, b2 = params
        h = torch.tanh(torch.baddbmm(b1, x, w1)) * unit_mask  # [networks, points, hidden]
        if training:  # nn.Dropout's training behaviour: zero units with probability p, scale the rest
            h = h * (torch.rand(h.shape, generator=noise, device=device) >= dropout) / (1 - dropout)
        return torch.baddbmm(b2, h, w2)

    def mse(x, y):
        return ((forward(x) - y) ** 2).mean(dim=(1, 2))  # one loss per network

    train_curve, val_curve = [], []
    for epoch in range(1, EPOCHS + 1):
        x_in = x + input_noise * torch.randn(x.shape, generator=noise, device=device)
        losses = ((forward(x_in, training=True) - y) ** 2).mean(dim=(1, 2))
        penalty = l2.view(-1) * ((params[0] ** 2).sum(dim=(1, 2)) + (params[2] ** 2).sum(dim=(1, 2)))
        optimizer.zero_grad()
        (losses + penalty).sum().backward()
        optimizer.step()
        if epoch % EVERY == 0:
            with torch.no_grad():
                train_curve.append(mse(x, y).view(len(names), N_SEEDS))
                val_curve.append(mse(x_val, y_val).view(len(names), N_SEEDS))
    train_curve, val_curve = torch.stack(train_curve), torch.stack(val_curve)
    return {n: Curves(train_curve[:, i], val_curve[:, i]) for i, n in enumerate(names)}


# The remedies of p.131, each one change from the baseline (more data is a run of its own).
REMEDIES = {
    "baseline": {},
    "regularization": {"l2": 1e-3},
    "noise_augmentation": {"input_noise": 0.2},
    "smaller_model": {"hidden": 3},
    "dropout": {"dropout": 0.5},
}
