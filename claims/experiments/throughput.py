"""Measuring the book's models: throughput in samples per second, FLOPs counted from their layers, and
the device's float32 matrix-multiply rate as the ceiling to compare them with.

Used by the benchmarks (``tests/benchmarks``) and the p.155 claims (``tests/ch06``): the fraction of the
ceiling the chapter-7 MLP reaches at a given batch size (``fractions_of_ceiling``).
Every timing waits for the device (``claims.devices.synchronize``), so a CUDA kernel is counted when it
has run, not when it was queued.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable, Sequence

import torch
import torch.nn as nn

from claims.book.models import Net, NetResDeep, fc_deep
from claims.compat import full_float32
from claims.devices import synchronize
from claims.experiments.timing import timed_rounds

# name -> (constructor, shape of one sample): the chapter-7 MLP takes a flattened 3x32x32 image.
MODELS: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...]]] = {
    "fc_deep": (fc_deep, (3 * 32 * 32,)),
    "Net": (Net, (3, 32, 32)),
    "NetResDeep": (NetResDeep, (3, 32, 32)),
}
BATCH_SIZES = (1, 8, 64, 512, 4096)
# On a CPU (2 cores here) the sizes whose step takes more than a few seconds are left out.
CPU_LARGEST = {
    ("fc_deep", "inference"): 4096,
    ("fc_deep", "training"): 512,
    ("Net", "inference"): 512,
    ("Net", "training"): 512,
    ("NetResDeep", "inference"): 64,
    ("NetResDeep", "training"): 64,
}


def build(name: str, device) -> nn.Module:
    """One of the book's models (``MODELS``), freshly initialised, on ``device``."""
    return MODELS[name][0]().to(device)


def example_batch(name: str, batch_size: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Random inputs of the model's sample shape and two-class labels, on ``device``."""
    inputs = torch.randn(batch_size, *MODELS[name][1], device=device)
    labels = torch.randint(2, (batch_size,), device=device)
    return inputs, labels


def layer_flops(model: nn.Module, inputs: torch.Tensor, train: bool = False) -> int:
    """Floating-point operations of the model's Linear and Conv2d layers on ``inputs``.

    Forward: 2 x multiply-adds per layer (a Linear's in x out per row, a Conv2d's in/groups x kh x kw
    per output element; bias additions and activations are not counted, as in
    ``torch.utils.flop_counter``). A training step (``train=True``) adds the backward pass: one
    forward's worth for the weight gradient and, where the layer's input needs a gradient (every
    layer but the first), one for the input gradient.
    """
    per_layer: list[tuple[int, bool]] = []

    def hook(module, args, output):
        x = args[0]
        if isinstance(module, nn.Linear):
            flops = 2 * x.numel() * module.out_features
        else:
            k = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
            flops = 2 * output.numel() * k
        per_layer.append((flops, x.requires_grad))

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    try:
        with torch.enable_grad() if train else torch.no_grad():
            model(inputs)
    finally:
        for h in handles:
            h.remove()
    if not train:
        return sum(f for f, _ in per_layer)
    return sum(f * (3 if needs_input_grad else 2) for f, needs_input_grad in per_layer)


def inference_step(model: nn.Module, inputs: torch.Tensor, device) -> Callable[[], None]:
    """One forward pass under ``no_grad``, finished on the device when the call returns."""
    model.eval()

    def step():
        with torch.no_grad():
            model(inputs)
        synchronize(device)

    return step


def training_step(
    model: nn.Module, inputs: torch.Tensor, labels: torch.Tensor, device, learning_rate: float = 1e-2
) -> Callable[[], None]:
    """The book's training step (forward, cross-entropy loss, backward, SGD step), finished on return."""
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        loss = loss_fn(model(inputs), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        synchronize(device)

    return step


def gemm_shapes(model: nn.Module, inputs: torch.Tensor) -> list[tuple[int, int, int]]:
    """The matrix products ``(M, K, N)`` the model's Linear and Conv2d layers amount to on ``inputs``: a Linear
    is rows x in_features times in_features x out_features, a Conv2d the same over its unfolded patches."""
    shapes: list[tuple[int, int, int]] = []

    def hook(module, args, output):
        x = args[0]
        if isinstance(module, nn.Linear):
            shapes.append((x.numel() // module.in_features, module.in_features, module.out_features))
        else:
            patch = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
            shapes.append((output.numel() // module.out_channels, patch, module.out_channels))

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    try:
        with torch.no_grad():
            model(inputs)
    finally:
        for h in handles:
            h.remove()
    return shapes


def reference_step(device) -> Callable[[], None]:
    """A fixed workload that each benchmark times before every round of its model (eight 160x160 float32
    products on a CPU, 1024x1024 on a GPU, synchronized): a model's time relative to it is what a regression
    gate compares, since other processes' load slows both alike, and the model alone can change it."""
    device = torch.device(device)
    size = 160 if device.type == "cpu" else 1024
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)

    def step() -> None:
        with full_float32():
            for _ in range(8):
                torch.mm(a, b)
        synchronize(device)

    return step


def matmul_ceiling(device, shapes, rounds: int = 5, clock: Callable[[], float] = time.perf_counter) -> dict:
    """The device's float32 matrix-multiply rate: for each ``(M, K, N)`` in ``shapes``, the best of ``rounds``
    timed ``torch.mm`` calls (full fp32, each synchronized, after one warm-up call), on the threads the caller
    runs with; the fastest shape gives the ceiling. The best, not the median: a ceiling is what the device
    can reach, and other processes only slow it down. Include the models' own largest products in
    ``shapes`` so that no model layer can beat the ceiling it is measured against."""
    device = torch.device(device)
    best = {"flop_per_s": 0.0}
    with full_float32():
        for m, k, n in shapes:
            a, b = torch.randn(m, k, device=device), torch.randn(k, n, device=device)
            torch.mm(a, b)
            synchronize(device)
            seconds = float("inf")
            for _ in range(rounds):
                start = clock()
                torch.mm(a, b)
                synchronize(device)
                seconds = min(seconds, clock() - start)
            rate = 2 * m * k * n / max(seconds, 1e-12)
            if rate > best["flop_per_s"]:
                best = {"flop_per_s": rate, "shape": [m, k, n]}
    best.update(threads=torch.get_num_threads(), rounds=rounds, shapes=[list(s) for s in shapes])
    return best


def square_shapes(device_type: str) -> list[tuple[int, int, int]]:
    """Square products that fill the device: 1024 and 2048 on a CPU, 4096 and 8192 on a GPU."""
    return [(1024, 1024, 1024), (2048, 2048, 2048)] if device_type == "cpu" else [(4096,) * 3, (8192,) * 3]


def largest_product(name: str, batch_size: int, device: torch.device | str = "cpu") -> tuple[int, int, int]:
    """The largest matrix product ``(M, K, N)`` of one of MODELS' layers at ``batch_size`` (``gemm_shapes``)."""
    net = build(name, device)
    return max(gemm_shapes(net, example_batch(name, batch_size, device)[0]), key=lambda s: s[0] * s[1] * s[2])


def fractions_of_ceiling(name: str, batch_sizes: Sequence[int], device: torch.device | str, rounds: int = 15) -> dict:
    """The fraction of the device's float32 matrix-multiply ceiling that one of MODELS reaches in inference
    at each of ``batch_sizes``: the FLOPs of its Linear and Conv2d layers (``layer_flops``) per second of a
    forward pass under no_grad (``inference_step``, full float32 as the ceiling is: no TF32), the median of
    alternating rounds (``claims.experiments.timing.timed_rounds``: on a GPU wall time to the synchronize),
    over ``matmul_ceiling`` measured on ``square_shapes`` and the model's own largest product at the largest
    batch (so that no layer can outrun it). Returns ``{"ceiling_flop_per_s", "fraction": {batch: fraction},
    "flop_per_s": {batch: rate}, "rounds"}``."""
    device = torch.device(device)
    shapes = square_shapes(device.type) + [largest_product(name, max(batch_sizes), device)]
    ceiling = matmul_ceiling(device, shapes)["flop_per_s"]
    net = build(name, device)
    inputs = {batch: example_batch(name, batch, device)[0] for batch in batch_sizes}
    with full_float32():
        seconds = timed_rounds(
            {str(batch): inference_step(net, x, device) for batch, x in inputs.items()}, device, rounds=rounds
        )
    rate = {batch: layer_flops(net, x) / statistics.median(seconds[str(batch)]) for batch, x in inputs.items()}
    return {
        "ceiling_flop_per_s": ceiling,
        "flop_per_s": rate,
        "fraction": {batch: value / ceiling for batch, value in rate.items()},
        "rounds": len(seconds[str(max(batch_sizes))]),
    }
