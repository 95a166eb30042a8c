"""Page 208: the book's first ``nn.Module`` subclass of Net, before page 210 moves the parameterless
parts (tanh, max-pooling) into ``forward`` as functional calls (``claims.book.models.Net``).

``NetModules`` holds every step as a submodule; its ``state_dict`` has the same keys as ``Net``'s, so
the weights of one load into the other. ``sequential_state_from_net`` renames ``Net``'s keys for
``net_as_sequential`` (whose layers are numbered).
"""

from __future__ import annotations

import torch
import torch.nn as nn

# Net's layer names -> their index in net_as_sequential (conv, tanh, pool, conv, tanh, pool, flatten, fc, tanh, fc)
SEQUENTIAL_INDEX = {"conv1": 0, "conv2": 3, "fc1": 7, "fc2": 9}


class NetModules(nn.Module):
    """Page 208 (dlwpt-code In[26]): conv1, act1, pool1, conv2, act2, pool2, fc1, act3, fc2, all of them
    modules."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, padding=1)
        self.act1 = nn.Tanh()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(16, 8, kernel_size=3, padding=1)
        self.act2 = nn.Tanh()
        self.pool2 = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(8 * 8 * 8, 32)
        self.act3 = nn.Tanh()
        self.fc2 = nn.Linear(32, 2)

    def forward(self, x):
        out = self.pool1(self.act1(self.conv1(x)))
        out = self.pool2(self.act2(self.conv2(out)))
        out = out.view(-1, 8 * 8 * 8)
        out = self.act3(self.fc1(out))
        return self.fc2(out)


def sequential_state_from_net(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``Net``'s state_dict with ``conv1.weight`` renamed ``0.weight`` and so on, for ``net_as_sequential``."""
    renamed = {}
    for key, value in state.items():
        layer, _, tensor = key.partition(".")
        renamed[f"{SEQUENTIAL_INDEX[layer]}.{tensor}"] = value
    return renamed
