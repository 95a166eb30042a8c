"""Chapter 5: the thermometer data, the linear model, its loss, and the book's three training loops.

Every loop records the loss of each epoch *before* that epoch's update, as the book prints it.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import torch

from claims.errors import DataFileError


@dataclass(frozen=True)
class Thermometer:
    """The eleven readings: ``t_c`` (Celsius), ``t_u`` (unknown unit), ``t_un = 0.1 * t_u``."""

    t_c: torch.Tensor
    t_u: torch.Tensor

    @property
    def t_un(self) -> torch.Tensor:
        return 0.1 * self.t_u

    def to(self, device) -> Thermometer:
        return Thermometer(self.t_c.to(device), self.t_u.to(device))


def read_thermometer_csv(path: str | Path) -> Thermometer:
    """Read a ``t_c,t_u`` CSV (``#`` lines are comments) into float32 tensors."""
    path = Path(path)
    try:
        lines = [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    except OSError as exc:
        raise DataFileError(path, f"cannot be read ({exc.strerror or exc})") from None
    rows = list(csv.reader(lines))
    if not rows or [c.strip() for c in rows[0]] != ["t_c", "t_u"]:
        raise DataFileError(path, f"the header must be 't_c,t_u', found {','.join(rows[0]) if rows else 'nothing'!r}")
    t_c, t_u = [], []
    for lineno, row in enumerate(rows[1:], start=2):
        try:
            if len(row) != 2:
                raise ValueError(f"{len(row)} fields instead of 2")
            c, u = float(row[0]), float(row[1])
            if not (math.isfinite(c) and math.isfinite(u)):
                raise ValueError("a reading is not finite")
        except ValueError as exc:
            raise DataFileError(path, f"data row {lineno - 1} ({','.join(row)!r}) is malformed: {exc}") from None
        t_c.append(c)
        t_u.append(u)
    if not t_c:
        raise DataFileError(path, "holds no readings")
    return Thermometer(torch.tensor(t_c), torch.tensor(t_u))


def model(t_u: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The book's linear model, ``t_p = w * t_u + b``."""
    return w * t_u + b


def loss_fn(t_p: torch.Tensor, t_c: torch.Tensor) -> torch.Tensor:
    """Mean squared error."""
    squared_diffs = (t_p - t_c) ** 2
    return squared_diffs.mean()


def rate_of_change_step(t_u, t_c, w, b, delta: float = 0.1, learning_rate: float = 1e-2):
    """Pages 113-114 (1_parameter_estimation.ipynb In[8] to In[10]): w moved against the rate of change of the
    loss in w, then b against its rate of change in b, each from the loss at ``delta`` on either side. The new
    ``(w, b)``."""
    loss_rate_of_change_w = (loss_fn(model(t_u, w + delta, b), t_c) - loss_fn(model(t_u, w - delta, b), t_c)) / (
        2.0 * delta
    )
    w = w - learning_rate * loss_rate_of_change_w
    loss_rate_of_change_b = (loss_fn(model(t_u, w, b + delta), t_c) - loss_fn(model(t_u, w, b - delta), t_c)) / (
        2.0 * delta
    )
    b = b - learning_rate * loss_rate_of_change_b
    return w, b


def grad_fn(t_u: torch.Tensor, t_c: torch.Tensor, t_p: torch.Tensor, w, b) -> torch.Tensor:
    """The hand-written gradient of ``loss_fn(model(t_u, w, b), t_c)`` with respect to ``[w, b]``."""
    dloss_dtp = 2 * (t_p - t_c) / t_p.size(0)
    dloss_dw = dloss_dtp * t_u  # d model / d w = t_u
    dloss_db = dloss_dtp * 1.0  # d model / d b = 1
    return torch.stack([dloss_dw.sum(), dloss_db.sum()])


@dataclass
class Run:
    """What a training loop ends with: the final parameters and the loss before each epoch's update; the
    hand-written loop also keeps, per epoch, the gradient and the parameters after the update (what the
    book's In[16] prints as "Grad" and "Params"), rows [epochs, 2]."""

    params: torch.Tensor
    losses: list[float]
    grads: torch.Tensor | None = None
    params_after: torch.Tensor | None = None

    @property
    def final_loss(self) -> float:
        return self.losses[-1]


def train_by_hand(n_epochs: int, learning_rate: float, params: torch.Tensor, t_u, t_c) -> Run:
    """Page 117: gradient descent with the hand-written gradient."""
    losses, grads, params_after = [], [], []
    for _ in range(n_epochs):
        w, b = params
        t_p = model(t_u, w, b)
        losses.append(loss_fn(t_p, t_c))
        grad = grad_fn(t_u, t_c, t_p, w, b)
        params = params - learning_rate * grad
        grads.append(grad)
        params_after.append(params)
    return Run(params, torch.stack(losses).tolist(), torch.stack(grads), torch.stack(params_after))


def train_with_autograd(n_epochs: int, learning_rate: float, params: torch.Tensor, t_u, t_c) -> Run:
    """Page 124: the same descent with the gradient from autograd, zeroed every epoch."""
    params = params.clone().requires_grad_(True)
    losses = []
    for _ in range(n_epochs):
        if params.grad is not None:
            params.grad.zero_()
        loss = loss_fn(model(t_u, *params), t_c)
        loss.backward()
        losses.append(loss.detach())
        with torch.no_grad():
            params -= learning_rate * params.grad
    return Run(params.detach(), torch.stack(losses).tolist())


def train_with_optimizer(n_epochs: int, optimizer_class, params: torch.Tensor, t_u, t_c, **opt_kwargs) -> Run:
    """Page 129: the loop with an optimizer from ``torch.optim`` doing zero_grad and step."""
    params = params.clone().requires_grad_(True)
    optimizer = optimizer_class([params], **opt_kwargs)
    losses = []
    for _ in range(n_epochs):
        loss = loss_fn(model(t_u, *params), t_c)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    return Run(params.detach(), torch.stack(losses).tolist())


def train_with_validation(n_epochs: int, optimizer, params, train_t_u, val_t_u, train_t_c, val_t_c):
    """Page 133 (3_optimizers.ipynb In[14]): the optimizer loop on the training set, with the loss on the
    validation set computed beside it. The training and validation loss of every epoch, before its update."""
    train_losses, val_losses = [], []
    for _ in range(n_epochs):
        train_t_p = model(train_t_u, *params)
        train_loss = loss_fn(train_t_p, train_t_c)

        val_t_p = model(val_t_u, *params)
        val_loss = loss_fn(val_t_p, val_t_c)

        optimizer.zero_grad()
        train_loss.backward()
        optimizer.step()
        train_losses.append(train_loss.detach())
        val_losses.append(val_loss.detach())
    return torch.stack(train_losses).tolist(), torch.stack(val_losses).tolist()


ROUTES = {
    "by_hand": lambda n, lr, p, x, y: train_by_hand(n, lr, p, x, y),
    "autograd": lambda n, lr, p, x, y: train_with_autograd(n, lr, p, x, y),
    "sgd": lambda n, lr, p, x, y: train_with_optimizer(n, torch.optim.SGD, p, x, y, lr=lr),
    "adam": lambda n, lr, p, x, y: train_with_optimizer(n, torch.optim.Adam, p, x, y, lr=lr),
}


def book_run(data: Thermometer, route: str, n_epochs: int, learning_rate: float, inputs: str) -> Run:
    """One of the book's runs from ``w = 1, b = 0``: ``route`` in ROUTES, ``inputs`` "t_u" or "t_un"."""
    x = {"t_u": data.t_u, "t_un": data.t_un}[inputs]
    start = torch.tensor([1.0, 0.0], device=data.t_u.device)
    return ROUTES[route](n_epochs, learning_rate, start, x, data.t_c)


def split_indices(n_samples: int, generator: torch.Generator | None = None, device=None):
    """Page 134 (3_optimizers.ipynb In[12]): shuffle the sample indices and keep the last 20% for validation.

    Returns ``(train_indices, val_indices)`` exactly as the book builds them::

        n_val = int(0.2 * n_samples)
        shuffled_indices = torch.randperm(n_samples)
        train_indices = shuffled_indices[:-n_val]
        val_indices = shuffled_indices[-n_val:]

    (Below 5 samples n_val is 0, and then ``[:-0]`` is empty and ``[-0:]`` is every index.)
    """
    n_val = int(0.2 * n_samples)
    shuffled_indices = torch.randperm(n_samples, generator=generator, device=device)
    train_indices = shuffled_indices[:-n_val]
    val_indices = shuffled_indices[-n_val:]
    return train_indices, val_indices
