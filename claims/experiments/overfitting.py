"""The experiment behind the page-131 claims: small tanh networks overfitting a few noisy points.

**Not the book's loop, for speed.** Each setting trains ``N_NETS`` networks at once as one batched
network: every weight has a leading network dimension (W1 is [networks, 1, hidden]), the forward pass
is ``torch.baddbmm`` instead of ``nn.Linear``, and the objective is the sum of the networks' mean squared
errors, so each network gets exactly the gradient it would get alone, and Adam (element-wise) treats it
exactly as it would alone. ``runs`` goes further: the settings whose networks fit as many points per epoch
are one batch (a smaller model's missing units are weights held at 0; a setting with weight decay has its
weights in an Adam group of their own), which costs a third less than training them one after the other.
What one of them computes is the book's loop (pages 129 and 133) on
``nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, 1))``::

    optimizer = optim.Adam(model.parameters(), lr=3e-2)
    for epoch in range(1, EPOCHS + 1):
        train_loss = loss_fn(model(train_x), train_y)
        optimizer.zero_grad()
        train_loss.backward()
        optimizer.step()
        with torch.no_grad():
            val_loss = loss_fn(model(val_x), val_y)

``book_loop`` in this module is that loop, and ``test_batched_networks_train_as_the_book_loop`` checks
that network 0 of a batch follows it epoch by epoch.

The data are noisy readings of a straight line, like the thermometer's: x uniform in [-1, 1],
y = x + 0.3 * noise (``truth="sine"``: y = sin(pi x) + 0.1 * noise, a curve). Each network has its own
training points, its own 128 validation points and its own initialization. The first layer starts wide,
uniform in [-5, 5], so that its tanh units can bend sharply enough to chase the noise within 150 epochs of
full-batch Adam (lr 3e-2); the output layer starts as nn.Linear(32, 1) does, uniform in
[-1/sqrt(32), 1/sqrt(32)]. Every remedy reuses the baseline's points and initialization (the smaller
model keeps the first units of the full one, the larger sample the first 16 points), so each comparison
is paired, network by network. ``repeats`` trains on the same points repeated (more samples, no new data);
``input_noise`` augments the data: every epoch ``noisy_copies`` copies of each point, each with fresh noise
on its input.

Every random number (data, initialization, input noise, dropout masks) is drawn on the CPU and moved to
the device, so a CUDA run sees the same numbers as the CPU run; the training is in full float32 (no TF32).
What still differs on CUDA is the rounding of the reductions, which moves each network's trajectory a
little; the margins of the claims leave room for that (see the measured ranges in the tests).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from claims.compat import full_float32
from claims.experiments.threads import one_cpu_thread

N_NETS = 24  # networks per setting and data seed
N_TRAIN = 16
N_MAX = 64  # the "more data" remedy's sample; the others use its first N_TRAIN points
N_VAL = 128
HIDDEN = 32
EPOCHS = 150
EVERY = 10  # record the losses every 10 epochs
LR = 3e-2
GRID = 201  # points of [-1, 1] on which the fitted curves are compared

TRUTHS = {  # the relation the points are drawn from, and the noise's standard deviation
    "line": (lambda x: x, 0.3),
    "sine": (lambda x: torch.sin(math.pi * x), 0.1),
}


@dataclass
class Curves:
    """Training and validation loss (mean squared error, without dropout or noise) of every network,
    recorded every ``EVERY`` epochs: tensors of shape [checkpoints, networks]; and ``total_variation``,
    per network, how far its final curve rises and falls over [-1, 1] (the true line's is 2)."""

    train: torch.Tensor
    val: torch.Tensor
    total_variation: torch.Tensor

    @property
    def gap(self) -> torch.Tensor:
        """Validation minus training loss at the end, per network."""
        return self.val[-1] - self.train[-1]

    @property
    def final_train(self) -> float:
        """The networks' mean training loss at the end."""
        return self.train[-1].mean().item()

    @property
    def final_val(self) -> float:
        """The networks' mean validation loss at the end: the error on new data."""
        return self.val[-1].mean().item()

    @property
    def mean_gap(self) -> float:
        return self.gap.mean().item()

    @property
    def mean_total_variation(self) -> float:
        return self.total_variation.mean().item()


def make_data(seed: int, n_train: int = N_TRAIN, truth: str = "line", repeats: int = 1):
    """Every network's training and validation points, on the CPU: x [networks, points, 1] and y; the first
    ``n_train`` points, each ``repeats`` times."""
    g = torch.Generator().manual_seed(seed)
    relation, sigma = TRUTHS[truth]
    x = torch.rand(N_NETS, N_MAX, 1, generator=g) * 2 - 1
    x_val = torch.rand(N_NETS, N_VAL, 1, generator=g) * 2 - 1
    y = relation(x) + sigma * torch.randn(x.shape, generator=g)
    y_val = relation(x_val) + sigma * torch.randn(x_val.shape, generator=g)
    return x[:, :n_train].repeat(1, repeats, 1), y[:, :n_train].repeat(1, repeats, 1), x_val, y_val


def init_params(seed: int, hidden: int = HIDDEN):
    """[W1, b1, W2, b2] of every network, on the CPU: the first ``hidden`` units of the full network's."""
    g = torch.Generator().manual_seed(seed + 1)
    uniform = lambda *shape, bound: (torch.rand(*shape, generator=g) * 2 - 1) * bound  # noqa: E731
    full = [
        uniform(N_NETS, 1, HIDDEN, bound=5.0),
        uniform(N_NETS, 1, HIDDEN, bound=5.0),
        uniform(N_NETS, HIDDEN, 1, bound=HIDDEN**-0.5),
        uniform(N_NETS, 1, 1, bound=HIDDEN**-0.5),
    ]
    return [full[0][:, :, :hidden], full[1][:, :, :hidden], full[2][:, :hidden], full[3]]


def forward(params, x):
    """Every network at once: tanh(x @ W1 + b1) @ W2 + b2, with x [networks, points, 1]."""
    w1, b1, w2, b2 = params
    return torch.baddbmm(b2, torch.tanh(torch.baddbmm(b1, x, w1)), w2)


def least_squares_line(seed: int = 0, **setting: Any) -> tuple:
    """The least-squares straight line through each network's training points (the data of ``setting``, train's
    keywords), in float64 on the CPU: its training and validation loss, each the mean over the networks. What a
    model that does not overfit reaches: a line has the truth's shape and 2 parameters, too few to chase the noise
    (its expected training loss is the noise variance times (n - 2) / n, 0.079 for 16 points of the line)."""
    setting = {**DEFAULTS, **setting}
    x, y, x_val, y_val = (t.double() for t in make_data(seed, setting["n_train"], setting["truth"], setting["repeats"]))
    x_mean, y_mean = x.mean(dim=1, keepdim=True), y.mean(dim=1, keepdim=True)
    slope = ((x - x_mean) * (y - y_mean)).sum(dim=1, keepdim=True) / ((x - x_mean) ** 2).sum(dim=1, keepdim=True)
    train_loss = ((y_mean + slope * (x - x_mean) - y) ** 2).mean().item()
    val_loss = ((y_mean + slope * (x_val - x_mean) - y_val) ** 2).mean().item()
    return train_loss, val_loss


DEFAULTS = {  # train's keywords: the baseline
    "hidden": HIDDEN,
    "n_train": N_TRAIN,
    "truth": "line",
    "repeats": 1,
    "weight_decay": 0.0,
    "input_noise": 0.0,
    "noisy_copies": 1,
    "dropout": 0.0,
    "linear": False,  # the control: y = w x + b from w = b = 0 instead of a network (n_train, truth, repeats only)
}


def train(device, seed: int = 0, draw: int = 0, **setting) -> Curves:
    """Train ``N_NETS`` networks on data seed ``seed`` for ``EPOCHS`` epochs with one setting, the baseline
    changed by ``setting`` (keywords of DEFAULTS: ``hidden`` units, ``n_train`` points of ``truth`` each seen
    ``repeats`` times, Adam's ``weight_decay`` on the weights, ``input_noise`` on ``noisy_copies`` copies of
    the points every epoch, ``dropout`` on the hidden units; ``linear``: a straight line y = w x + b, starting at
    w = b = 0, instead of a network: the truth's shape, with 2 parameters as little as a model can chase the
    noise); their Curves. ``draw`` picks the draws of the input noise and the dropout masks (``train_together``)."""
    return train_together(device, [setting], seed, draw)[0]


def runs(device, settings: dict, seed: int = 0, draw: int = 0) -> dict:
    """Curves by name, one per setting of ``settings`` (name -> ``train``'s keywords). For speed, settings
    whose networks fit as many points per epoch are trained together, as one batch."""
    batches: dict = {}
    for name, setting in settings.items():
        full = {**DEFAULTS, **setting}
        batches.setdefault((_points(full), full["linear"]), []).append(name)
    found = {}
    for names in batches.values():
        found.update(zip(names, train_together(device, [settings[name] for name in names], seed, draw)))
    return {name: found[name] for name in settings}


def _points(setting: dict) -> int:
    """The points each network fits every epoch."""
    return setting["n_train"] * setting["repeats"] * (setting["noisy_copies"] if setting["input_noise"] else 1)


def train_together(device, settings: list, seed: int = 0, draw: int = 0) -> list:
    """``train`` for several settings at once, as one batch of ``N_NETS`` networks per setting: each network
    gets the gradient and the Adam step it would get alone (a setting with fewer hidden units has the others
    at 0, where they stay: no gradient reaches them). Their Curves, in the order of ``settings``.

    The input noise and the dropout masks come from the CPU's global stream seeded with ``seed + 2 + 1000 *
    draw``: draw 0 is the one the suite runs; other draws give the same data and initialization other noise
    and masks (distinct streams for data seeds below 998)."""
    settings = [{**DEFAULTS, **setting} for setting in settings]
    unknown = set().union(*settings) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown settings {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    if len({(_points(setting), setting["linear"]) for setting in settings}) > 1:
        raise ValueError("settings trained together must fit as many points per epoch, and be all lines or none")
    # networks of the same weight decay side by side: their weights are one tensor, in Adam's group for it
    order = sorted(range(len(settings)), key=lambda i: settings[i]["weight_decay"])
    with one_cpu_thread(), full_float32(), torch.random.fork_rng(devices=[]):
        # tensors of a few thousand elements: on the CPU the thread pool costs more than it saves
        torch.manual_seed(seed + 2 + 1000 * draw)  # the CPU stream of the input noise and the dropout masks
        trainer = _train_lines if settings[0]["linear"] else _train
        curves = trainer(device, seed, [settings[i] for i in order])
    return [curves[order.index(i)] for i in range(len(settings))]


def _train(device, seed, settings) -> list:
    data, params = [], []
    for setting in settings:
        x, y, x_val, y_val = make_data(seed, setting["n_train"], setting["truth"], setting["repeats"])
        copies = setting["noisy_copies"] if setting["input_noise"] else 1
        data.append((x.repeat(1, copies, 1), y.repeat(1, copies, 1), x_val, y_val))
        params.append(_padded(init_params(seed, setting["hidden"])))
    x, y, x_val, y_val = (torch.cat(part).to(device) for part in zip(*data))
    b1, b2 = (torch.cat(part).to(device).requires_grad_() for part in list(zip(*params))[1::2])
    groups = [{"params": [b1, b2]}]
    w1_parts, w2_parts = [], []
    for decay in sorted({setting["weight_decay"] for setting in settings}):
        rows = [i for i, setting in enumerate(settings) if setting["weight_decay"] == decay]
        w1, w2 = (torch.cat([params[i][k] for i in rows]).to(device).requires_grad_() for k in (0, 2))
        groups.append({"params": [w1, w2], "weight_decay": decay})
        w1_parts.append(w1)
        w2_parts.append(w2)
    optimizer = torch.optim.Adam(groups, lr=LR)
    train_curve, val_curve = [], []
    for epoch in range(1, EPOCHS + 1):
        weights = [torch.cat(w1_parts), b1, torch.cat(w2_parts), b2]
        x_in = x + _input_noise(settings, x.shape).to(device) if any(s["input_noise"] for s in settings) else x
        h = torch.tanh(torch.baddbmm(b1, x_in, weights[0]))
        if any(s["dropout"] for s in settings):
            h = h * _dropout_masks(settings, h.shape).to(device)
        losses = ((torch.baddbmm(b2, h, weights[2]) - y) ** 2).mean(dim=(1, 2))  # one loss per network
        optimizer.zero_grad()
        losses.sum().backward()
        optimizer.step()
        if epoch % EVERY == 0:
            with torch.no_grad():
                weights = [torch.cat(w1_parts), b1, torch.cat(w2_parts), b2]  # as updated by the step
                train_curve.append(((forward(weights, x) - y) ** 2).mean(dim=(1, 2)))
                val_curve.append(((forward(weights, x_val) - y_val) ** 2).mean(dim=(1, 2)))
    with torch.no_grad():
        grid = torch.linspace(-1, 1, GRID, device=device).view(1, -1, 1).expand(len(x), GRID, 1)
        curve = forward([torch.cat(w1_parts), b1, torch.cat(w2_parts), b2], grid).squeeze(2)
        total_variation = (curve[:, 1:] - curve[:, :-1]).abs().sum(dim=1)
    train_curve, val_curve = torch.stack(train_curve).cpu(), torch.stack(val_curve).cpu()
    return [
        Curves(train_curve[:, part], val_curve[:, part], total_variation.cpu()[part])
        for part in (slice(i * N_NETS, (i + 1) * N_NETS) for i in range(len(settings)))
    ]


def _train_lines(device, seed, settings) -> list:
    """The control, trained as the networks are (same points, Adam lr LR, EPOCHS epochs, losses every EVERY):
    y = w x + b per network, from w = b = 0."""
    if any(s["hidden"] != HIDDEN or s["weight_decay"] or s["input_noise"] or s["dropout"] for s in settings):
        raise ValueError("a line takes only n_train, truth and repeats")
    data = [make_data(seed, s["n_train"], s["truth"], s["repeats"]) for s in settings]
    x, y, x_val, y_val = (torch.cat(part).to(device) for part in zip(*data))
    w, b = (torch.zeros(len(x), 1, 1, device=device, requires_grad=True) for _ in range(2))
    optimizer = torch.optim.Adam([w, b], lr=LR)
    train_curve, val_curve = [], []
    for epoch in range(1, EPOCHS + 1):
        losses = ((x * w + b - y) ** 2).mean(dim=(1, 2))
        optimizer.zero_grad()
        losses.sum().backward()
        optimizer.step()
        if epoch % EVERY == 0:
            with torch.no_grad():
                train_curve.append(((x * w + b - y) ** 2).mean(dim=(1, 2)))
                val_curve.append(((x_val * w + b - y_val) ** 2).mean(dim=(1, 2)))
    train_curve, val_curve = torch.stack(train_curve).cpu(), torch.stack(val_curve).cpu()
    total_variation = 2 * w.detach().abs().view(-1).cpu()  # a line over [-1, 1]
    return [
        Curves(train_curve[:, part], val_curve[:, part], total_variation[part])
        for part in (slice(i * N_NETS, (i + 1) * N_NETS) for i in range(len(settings)))
    ]


def _input_noise(settings, shape) -> torch.Tensor:
    """Noise augmentation, drawn on the CPU afresh every epoch: for the networks of a setting with input
    noise, normal noise of that standard deviation on every input; zeros for the others."""
    noise = torch.zeros(shape)
    for i, setting in enumerate(settings):
        if setting["input_noise"]:
            noise[i * N_NETS : (i + 1) * N_NETS] = setting["input_noise"] * torch.randn(N_NETS, *shape[1:])
    return noise


def _dropout_masks(settings, shape) -> torch.Tensor:
    """nn.Dropout's masks, drawn on the CPU: for the networks of a setting with dropout p, zeros with
    probability p and 1 / (1 - p) elsewhere; ones for the others."""
    mask = torch.ones(shape)
    for i, setting in enumerate(settings):
        if setting["dropout"]:
            ones = torch.ones(N_NETS, *shape[1:])
            mask[i * N_NETS : (i + 1) * N_NETS] = F.dropout(ones, p=setting["dropout"], training=True)
    return mask


def _padded(params):
    """[W1, b1, W2, b2] of networks with fewer than HIDDEN units, with the missing units' weights at 0."""
    w1, b1, w2, b2 = params
    missing = HIDDEN - w1.shape[2]
    return [
        F.pad(w1, (0, missing)),
        F.pad(b1, (0, missing)),
        torch.cat([w2, torch.zeros(w2.shape[0], missing, 1)], dim=1),
        b2,
    ]


def book_loop(net: int, seed: int = 0, hidden: int = HIDDEN) -> list[tuple[float, float]]:
    """Network ``net`` of data seed ``seed`` trained alone by the book's loop (see the module docstring)
    on the CPU: its (training, validation) loss every ``EVERY`` epochs."""
    with one_cpu_thread():
        return _book_loop(net, seed, hidden)


def _book_loop(net, seed, hidden):
    x, y, x_val, y_val = (t[net] for t in make_data(seed))
    w1, b1, w2, b2 = (p[net] for p in init_params(seed, hidden))
    model = torch.nn.Sequential(torch.nn.Linear(1, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 1))
    with torch.no_grad():  # nn.Linear keeps its weight as [out, in]: the transpose of the batched W
        for layer, w, b in ((model[0], w1, b1), (model[2], w2, b2)):
            layer.weight.copy_(w.t())
            layer.bias.copy_(b.view(-1))
    loss_fn = torch.nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    curve = []
    for epoch in range(1, EPOCHS + 1):
        train_loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        train_loss.backward()
        optimizer.step()
        if epoch % EVERY == 0:
            with torch.no_grad():
                curve.append((loss_fn(model(x), y).item(), loss_fn(model(x_val), y_val).item()))
    return curve
