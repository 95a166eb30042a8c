"""The book's models for chapters 6, 7 and 8, as printed (see book-reference.md).

Each is written the way the book writes it, so a parameter count or a forward pass checked here is
the book's. ``ResBlock(skip=False)`` is the one addition: the same block without its ``+ x``, for the
claims that compare deep stacks with and without skip connections.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

# Chapter 6 -------------------------------------------------------------------------------------


def thermometer_seq(hidden: int = 13) -> nn.Sequential:
    """Page 159: ``Linear(1, 13) -> Tanh -> Linear(13, 1)``."""
    return nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, 1))


def thermometer_named_seq(hidden: int = 8) -> nn.Sequential:
    """Page 160: the same network built from an OrderedDict, so its parts have names."""
    return nn.Sequential(
        OrderedDict(
            [
                ("hidden_linear", nn.Linear(1, hidden)),
                ("hidden_activation", nn.Tanh()),
                ("output_linear", nn.Linear(hidden, 1)),
            ]
        )
    )


class SubclassModel(nn.Module):
    """p1ch6/3_nn_module_subclassing.ipynb In[4]: the thermometer network as an nn.Module subclass, its
    layers assigned as attributes (13 hidden units)."""

    def __init__(self):
        super().__init__()

        self.hidden_linear = nn.Linear(1, 13)
        self.hidden_activation = nn.Tanh()
        self.output_linear = nn.Linear(13, 1)

    def forward(self, input):
        hidden_t = self.hidden_linear(input)
        activated_t = self.hidden_activation(hidden_t)
        output_t = self.output_linear(activated_t)

        return output_t


class SubclassFunctionalModel(nn.Module):
    """p1ch6/3_nn_module_subclassing.ipynb In[6]: the same with torch.tanh called in forward instead of a Tanh
    module (14 hidden units)."""

    def __init__(self):
        super().__init__()

        self.hidden_linear = nn.Linear(1, 14)
        self.output_linear = nn.Linear(14, 1)

    def forward(self, input):
        hidden_t = self.hidden_linear(input)
        activated_t = torch.tanh(hidden_t)
        output_t = self.output_linear(activated_t)

        return output_t


# Chapter 7 -------------------------------------------------------------------------------------


def fc_small() -> nn.Sequential:
    """Page 181: ``Linear(3072, 512) -> Tanh -> Linear(512, 2) -> LogSoftmax``, 1,574,402 parameters."""
    return nn.Sequential(nn.Linear(3072, 512), nn.Tanh(), nn.Linear(512, 2), nn.LogSoftmax(dim=1))


def seeded_notebook_classifiers() -> dict:
    """The untrained ``Linear(3072, 512) -> Tanh -> Linear(512, 2)`` classifiers the notebooks build after
    ``torch.manual_seed(123)``, in their order, so each draws the weights it drew there:
    2_birds_airplanes.ipynb's three (In[6] without an output layer, In[11] ending in Softmax, In[30] in
    LogSoftmax, all after In[1]'s seed) and p1ch6.ipynb's two (In[32] Softmax, In[41] LogSoftmax, after
    In[31]'s seed). Reseeds torch's global generator, as the notebooks do."""

    def classifier(*last: nn.Module) -> nn.Sequential:
        return nn.Sequential(nn.Linear(3072, 512), nn.Tanh(), nn.Linear(512, 2), *last)

    torch.manual_seed(123)
    birds = [classifier(), classifier(nn.Softmax(dim=1)), classifier(nn.LogSoftmax(dim=1))]
    torch.manual_seed(123)
    p1ch6 = [classifier(nn.Softmax(dim=1)), classifier(nn.LogSoftmax(dim=1))]
    return {"2_birds_airplanes": birds, "p1ch6": p1ch6}


def fc_deep() -> nn.Sequential:
    """Page 187: ``3072 -> 1024 -> 512 -> 128 -> 2`` with Tanh between, 3,737,474 parameters."""
    return nn.Sequential(
        nn.Linear(3072, 1024),
        nn.Tanh(),
        nn.Linear(1024, 512),
        nn.Tanh(),
        nn.Linear(512, 128),
        nn.Tanh(),
        nn.Linear(128, 2),
    )


# Chapter 8 -------------------------------------------------------------------------------------


class Net(nn.Module):
    """Page 210 (dlwpt-code p1ch8/1_convolution.ipynb In[28]): two conv stages and two linear layers,
    18,090 parameters, with tanh and max-pooling as functional calls in ``forward``."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(16, 8, kernel_size=3, padding=1)
        self.fc1 = nn.Linear(8 * 8 * 8, 32)
        self.fc2 = nn.Linear(32, 2)

    def forward(self, x):
        out = F.max_pool2d(torch.tanh(self.conv1(x)), 2)
        out = F.max_pool2d(torch.tanh(self.conv2(out)), 2)
        out = out.view(-1, 8 * 8 * 8)
        out = torch.tanh(self.fc1(out))
        return self.fc2(out)


def book_sequential() -> nn.Sequential:
    """Page 205 as printed (dlwpt-code p1ch8/1_convolution.ipynb In[23]): Net's layers in an
    ``nn.Sequential`` with nothing between the second pool and the first Linear.

    It cannot run: the Linear(512, 32) receives the pool's [N, 8, 8, 8] output and multiplies its last
    dimension (8) by 512 rows (In[25]: ``size mismatch, m1: [64 x 8], m2: [512 x 32]``), which is why the
    book goes on to write ``forward`` by hand. ``net_as_sequential`` adds the missing ``nn.Flatten``.
    """
    return nn.Sequential(
        nn.Conv2d(3, 16, kernel_size=3, padding=1),
        nn.Tanh(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 8, kernel_size=3, padding=1),
        nn.Tanh(),
        nn.MaxPool2d(2),
        # ... <1>  (the book's callout: the step from [N, 8, 8, 8] to [N, 512] is missing here)
        nn.Linear(8 * 8 * 8, 32),
        nn.Tanh(),
        nn.Linear(32, 2),
    )


def net_as_sequential() -> nn.Sequential:
    """The book's ``nn.Sequential`` of page 205 (``book_sequential``) with the ``nn.Flatten`` that page
    names for the gap, before the linear part: the Sequential that runs.

    Its parameters come in the same order and shapes as ``Net``'s, so ``load_state_dict`` of one
    into the other only needs the names mapped (``claims.book.net_styles.sequential_state_from_net``).
    """
    return nn.Sequential(
        nn.Conv2d(3, 16, kernel_size=3, padding=1),
        nn.Tanh(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 8, kernel_size=3, padding=1),
        nn.Tanh(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 8 * 8, 32),
        nn.Tanh(),
        nn.Linear(32, 2),
    )


class NetWidth(nn.Module):
    """Page 218: Net with ``n_chans1`` channels in the first conv, 38,386 parameters at 32."""

    def __init__(self, n_chans1: int = 32):
        super().__init__()
        self.n_chans1 = n_chans1
        self.conv1 = nn.Conv2d(3, n_chans1, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(n_chans1, n_chans1 // 2, kernel_size=3, padding=1)
        self.fc1 = nn.Linear(8 * 8 * n_chans1 // 2, 32)
        self.fc2 = nn.Linear(32, 2)

    def forward(self, x):
        out = F.max_pool2d(torch.tanh(self.conv1(x)), 2)
        out = F.max_pool2d(torch.tanh(self.conv2(out)), 2)
        out = out.view(-1, 8 * 8 * self.n_chans1 // 2)
        out = torch.tanh(self.fc1(out))
        return self.fc2(out)


class NetDropout(nn.Module):
    """Page 221: NetWidth with ``Dropout2d(p=0.4)`` after each pooled conv stage."""

    def __init__(self, n_chans1: int = 32):
        super().__init__()
        self.n_chans1 = n_chans1
        self.conv1 = nn.Conv2d(3, n_chans1, kernel_size=3, padding=1)
        self.conv1_dropout = nn.Dropout2d(p=0.4)
        self.conv2 = nn.Conv2d(n_chans1, n_chans1 // 2, kernel_size=3, padding=1)
        self.conv2_dropout = nn.Dropout2d(p=0.4)
        self.fc1 = nn.Linear(8 * 8 * n_chans1 // 2, 32)
        self.fc2 = nn.Linear(32, 2)

    def forward(self, x):
        out = F.max_pool2d(torch.tanh(self.conv1(x)), 2)
        out = self.conv1_dropout(out)
        out = F.max_pool2d(torch.tanh(self.conv2(out)), 2)
        out = self.conv2_dropout(out)
        out = out.view(-1, 8 * 8 * self.n_chans1 // 2)
        out = torch.tanh(self.fc1(out))
        return self.fc2(out)


class NetBatchNorm(nn.Module):
    """Page 222: NetWidth with ``BatchNorm2d`` on each conv's output, before tanh."""

    def __init__(self, n_chans1: int = 32):
        super().__init__()
        self.n_chans1 = n_chans1
        self.conv1 = nn.Conv2d(3, n_chans1, kernel_size=3, padding=1)
        self.conv1_batchnorm = nn.BatchNorm2d(num_features=n_chans1)
        self.conv2 = nn.Conv2d(n_chans1, n_chans1 // 2, kernel_size=3, padding=1)
        self.conv2_batchnorm = nn.BatchNorm2d(num_features=n_chans1 // 2)
        self.fc1 = nn.Linear(8 * 8 * n_chans1 // 2, 32)
        self.fc2 = nn.Linear(32, 2)

    def forward(self, x):
        out = self.conv1_batchnorm(self.conv1(x))
        out = F.max_pool2d(torch.tanh(out), 2)
        out = self.conv2_batchnorm(self.conv2(out))
        out = F.max_pool2d(torch.tanh(out), 2)
        out = out.view(-1, 8 * 8 * self.n_chans1 // 2)
        out = torch.tanh(self.fc1(out))
        return self.fc2(out)


class NetRes(nn.Module):
    """Page 225: three convs with ReLU; the third's output plus its input (a skip) before pooling."""

    def __init__(self, n_chans1: int = 32):
        super().__init__()
        self.n_chans1 = n_chans1
        self.conv1 = nn.Conv2d(3, n_chans1, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(n_chans1, n_chans1 // 2, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2d(n_chans1 // 2, n_chans1 // 2, kernel_size=3, padding=1)
        self.fc1 = nn.Linear(4 * 4 * n_chans1 // 2, 32)
        self.fc2 = nn.Linear(32, 2)

    def forward(self, x):
        out = F.max_pool2d(torch.relu(self.conv1(x)), 2)
        out = F.max_pool2d(torch.relu(self.conv2(out)), 2)
        out1 = out
        out = F.max_pool2d(torch.relu(self.conv3(out)) + out1, 2)
        out = out.view(-1, 4 * 4 * self.n_chans1 // 2)
        out = torch.relu(self.fc1(out))
        return self.fc2(out)


class ResBlock(nn.Module):
    """Page 227: conv (no bias) -> BatchNorm -> ReLU, plus the input.

    Initialised as the book does: kaiming-normal conv weight for ReLU, BatchNorm weight 0.5, bias 0.
    ``skip=False`` drops the ``+ x`` and leaves everything else as it is.
    """

    def __init__(self, n_chans: int, skip: bool = True):
        super().__init__()
        self.skip = skip
        self.conv = nn.Conv2d(n_chans, n_chans, kernel_size=3, padding=1, bias=False)
        self.batch_norm = nn.BatchNorm2d(num_features=n_chans)
        torch.nn.init.kaiming_normal_(self.conv.weight, nonlinearity="relu")
        torch.nn.init.constant_(self.batch_norm.weight, 0.5)
        torch.nn.init.zeros_(self.batch_norm.bias)

    def forward(self, x):
        out = torch.relu(self.batch_norm(self.conv(x)))
        return out + x if self.skip else out


class NetResDeep(nn.Module):
    """Page 227: a conv, ``n_blocks`` ResBlocks, two linear layers; built exactly as the book does.

    Note the book's ``n_blocks * [ResBlock(...)]``: a list holding *one* block ``n_blocks`` times.
    """

    def __init__(self, n_chans1: int = 32, n_blocks: int = 10):
        super().__init__()
        self.n_chans1 = n_chans1
        self.conv1 = nn.Conv2d(3, n_chans1, kernel_size=3, padding=1)
        self.resblocks = nn.Sequential(*(n_blocks * [ResBlock(n_chans=n_chans1)]))
        self.fc1 = nn.Linear(8 * 8 * n_chans1, 32)
        self.fc2 = nn.Linear(32, 2)

    def forward(self, x):
        out = F.max_pool2d(torch.relu(self.conv1(x)), 2)
        out = self.resblocks(out)
        out = F.max_pool2d(out, 2)
        out = out.view(-1, 8 * 8 * self.n_chans1)
        out = torch.relu(self.fc1(out))
        return self.fc2(out)


def n_parameters(model: nn.Module) -> int:
    """The book's count: ``sum(p.numel() for p in model.parameters())``."""
    return sum(p.numel() for p in model.parameters())
