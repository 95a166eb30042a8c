"""The book's training and validation loops for chapters 7 and 8 (pages 186, 212, 216, 220).

``training_loop`` is the book's loop: per epoch, for each mini-batch, forward, loss, optional L2
penalty (page 220: ``loss + l2_lambda * l2_norm`` with ``l2_norm = sum(p.pow(2.0).sum() for p in
model.parameters())``, here ``l2_penalty``), zero_grad, backward, step. It returns the mean training
loss of each epoch (the loss with its penalty, as the book's loop sums it) so a test can read the curve.
"""

from __future__ import annotations

import torch


def l2_penalty(model) -> torch.Tensor:
    """Page 220, the book's L2 norm of the parameters: ``sum(p.pow(2.0).sum() for p in model.parameters())``."""
    return sum(p.pow(2.0).sum() for p in model.parameters())


def training_loop(
    n_epochs: int, optimizer, model, loss_fn, train_loader, device=None, l2_lambda: float = 0.0
) -> list[float]:
    epoch_losses = []
    for _ in range(n_epochs):
        loss_train = torch.zeros((), device=device, dtype=torch.float64)
        n_batches = 0
        for imgs, labels in train_loader:
            if device is not None:
                imgs, labels = imgs.to(device), labels.to(device)
            outputs = model(imgs)
            loss = loss_fn(outputs, labels)
            if l2_lambda:
                loss = loss + l2_lambda * l2_penalty(model)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_train += loss.detach()
            n_batches += 1
        epoch_losses.append((loss_train / max(n_batches, 1)).item())
    return epoch_losses


@torch.no_grad()
def accuracy(model, loader, device=None) -> float:
    """Page 186: the fraction of samples whose highest-scoring class (max over dim 1) is the label."""
    correct = total = 0
    for imgs, labels in loader:
        if device is not None:
            imgs, labels = imgs.to(device), labels.to(device)
        _, predicted = torch.max(model(imgs), dim=1)
        total += labels.shape[0]
        correct += int((predicted == labels).sum())
    return correct / total


def validate(model, train_loader, val_loader, device=None) -> dict:
    """Chapter 8's validate() (p1ch8/1_convolution.ipynb In[38]): the accuracy on the training and on the
    validation set, ``{"train": ..., "val": ...}``, computed as above under ``torch.no_grad()``.

    Like the book's, it never calls ``model.eval()``: it measures the model in whatever mode it is in, and
    after the book's training loop (which never calls ``model.train()`` or ``model.eval()`` either) that is
    the train mode a module is built in.
    """
    return {name: accuracy(model, loader, device) for name, loader in (("train", train_loader), ("val", val_loader))}
