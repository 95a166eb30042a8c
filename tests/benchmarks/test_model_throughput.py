"""Benchmarks: samples per second of the book's models against batch size, on every device.

For each model (the chapter-7 MLP fc_deep, the chapter-8 Net and NetResDeep), inference (a forward pass
under no_grad) and one training step (forward, cross-entropy, backward, SGD step), batch sizes 1 to
4096. Each timed call ends with a synchronize, so on a GPU it counts finished work; the first calls are
warm-up rounds, not timed. ``extra_info`` holds samples/s, FLOP/s (counted from the Linear and Conv2d
layers, ``claims.experiments.throughput.layer_flops``) and its fraction of the device's fp32 matmul rate measured in the
same run (``conftest.py``: the best of several rounds, with the same clock and threads, over shapes that
include the models' own largest layers, measured again at the end of the session). Groups are
"<model> on <device>": one table per model and device. The ceiling is not a benchmark of its own, so a
regression gate (``--benchmark-compare-fail``) compares the models only.

Rounds: at least ``--benchmark-min-rounds`` (default 5), more while they fit in ``--benchmark-max-time``
(default 1 s), as pytest-benchmark itself would.
"""

from __future__ import annotations

import statistics
import time

import pytest
import torch
from pytest_benchmark.utils import load_timer

from claims.experiments import throughput

BATCH_SIZES, CPU_LARGEST = throughput.BATCH_SIZES, throughput.CPU_LARGEST
WARMUP = {"cpu": 1}  # untimed calls first; 3 on a GPU (kernel selection, lazy loading, caches)


def rounds_for(config, seconds_per_call: float) -> int:
    max_time = float(config.getoption("benchmark_max_time"))
    return max(int(config.getoption("benchmark_min_rounds")), min(int(max_time / seconds_per_call), 1000))


def timed(benchmark, request, device, step) -> tuple[float, float] | None:
    """Warm up, then benchmark ``step``, timing ``claims.experiments.throughput.reference_step``
    with the same clock before every round (untimed by pytest-benchmark, as a round's setup); returns the median
    seconds per call of the step and of the reference (None when disabled)."""
    warmup = WARMUP.get(device.type, 3)
    start = time.perf_counter()
    step()  # the first warm-up round, timed to choose the number of rounds
    rounds = rounds_for(request.config, time.perf_counter() - start)
    clock, reference, reference_seconds = (
        load_timer(request.config.getoption("benchmark_timer")).target,
        throughput.reference_step(device),
        [],
    )

    def time_the_reference():
        start = clock()
        reference()
        reference_seconds.append(clock() - start)

    benchmark.pedantic(step, setup=time_the_reference, rounds=rounds, warmup_rounds=warmup - 1, iterations=1)
    if not benchmark.stats:
        return None
    return benchmark.stats.stats.median, statistics.median(reference_seconds[warmup - 1 :])


def precision_info(device) -> dict:
    if device.type != "cuda":
        return {"cpu_threads": torch.get_num_threads()}
    return {
        "gpu": torch.cuda.get_device_name(device),
        "tf32_matmul": getattr(torch.backends.cuda.matmul, "allow_tf32", False),  # torch < 1.7: no TF32
        "tf32_conv": getattr(torch.backends.cudnn, "allow_tf32", False),
    }


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
@pytest.mark.parametrize("mode", ["inference", "training"])
@pytest.mark.parametrize("model", list(throughput.MODELS))
def test_throughput(benchmark, request, model, mode, batch_size, device, matmul_ceiling):
    if device.type == "cpu" and batch_size > CPU_LARGEST[model, mode]:
        pytest.skip(f"{model} {mode} at batch {batch_size} takes more than a few seconds per step on a CPU")
    benchmark.group = f"{model} on {device.type}"
    net = throughput.build(model, device)
    flop_per_sample = throughput.layer_flops(
        net, throughput.example_batch(model, 1, device)[0], train=mode == "training"
    )
    inputs, labels = throughput.example_batch(model, batch_size, device)
    step = (
        throughput.inference_step(net, inputs, device)
        if mode == "inference"
        else throughput.training_step(net, inputs, labels, device)
    )

    measured = timed(benchmark, request, device, step)
    if measured is None:  # --benchmark-disable: ran once, nothing measured
        return
    seconds, reference_seconds = measured
    flop_per_s = flop_per_sample * batch_size / seconds
    benchmark.extra_info.update(
        model=model,
        mode=mode,
        batch_size=batch_size,
        device=device.type,
        samples_per_s=batch_size / seconds,
        flop_per_step=flop_per_sample * batch_size,
        flop_per_s=flop_per_s,
        matmul_ceiling_flop_per_s=matmul_ceiling,
        fraction_of_ceiling=flop_per_s / matmul_ceiling,
        reference_seconds=reference_seconds,
        relative_time=seconds / reference_seconds,
        **precision_info(device),
    )
