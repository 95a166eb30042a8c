"""Timing for the p.155 batching claim: alternating rounds, each call timed once per round, and the machine
the times come from.

Each round times every call once, in turn, so that within a round all of them see the same machine, and
every other round in the reverse order, so that no call always runs first (right after the slowest call of
the round before, with its cache). A comparison is made round by round, one call's time over another's:
other work on a shared machine slows a whole round, not one side of it, so that ratio is steadier than
either time. Its estimate is the median over the rounds. Every call has one untimed warm-up call first
(first calls allocate memory and pick kernels).

The clock:
- on a CPU, one thread (``threads=1``) and that thread's CPU time (``time.thread_time``), which other
  processes on a shared machine do not inflate;
- on a GPU, wall time from the call's start until the device has finished (``claims.devices.synchronize``).

The p.155 tests (``batching_factors``) time, in the same rounds, a control where the two calls do the same
work, and assert that the batch's factor clears the control's by a margin: 4 on one CPU thread, and the same
4 on a GPU, carried over until a GPU run measures one. On one thread of this project's 2-core CPU, where
batching could gain nothing, the factor cleared the control 0.68-1.03 times (torch 1.4 and 2.14; the test's
docstring has the runs).

Not torch's normal CPU threads by the wall clock: on this project's busy 2-core machine every parallel
region waits for a thread that another process holds, and a single round of two calls that did the same
work read anywhere from 0.02x to 1.96x (an earlier design of the test, torch 1.4 and 2.14, 24 runs). What
spreading a batch over more cores gains is for the benchmarks (``tests/benchmarks``) on a machine of one's own.

A time is only as good as the machine's arithmetic: the same matrix product can be several times slower
on one BLAS than another (torch 1.4's MKL 2019 takes a slow code path on this project's AMD EPYC: one
thread's 64x3072 by 3072x1024 product ran at 39-45 GFLOP/s, and at 102-112 GFLOP/s with
``MKL_DEBUG_CPU_TYPE=5``, where torch 2.14's MKL 2024 reaches 91-101). ``cpu_and_blas`` says, in one line
for the evidence, which CPU and BLAS a measurement ran on.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from contextlib import nullcontext
from typing import Callable

import torch

from claims.devices import synchronize
from claims.experiments.threads import cpu_threads


def timed_rounds(
    calls: dict[str, Callable[[], object]],
    device,
    threads: int | None = None,
    rounds: int = 15,
    min_rounds: int = 5,
    budget_s: float = 1.5,
) -> dict[str, list[float]]:
    """Seconds each of ``calls`` took in each of up to ``rounds`` alternating rounds, on ``threads`` CPU
    threads (None: torch's current number; see the module docstring for the clock). Past ``min_rounds``,
    no new round starts once ``budget_s`` seconds of wall time have gone by, so a slow machine costs a
    little time, not minutes."""
    on_cpu = torch.device(device).type == "cpu"
    threads = threads or torch.get_num_threads()
    clock = time.thread_time if on_cpu and threads == 1 else time.perf_counter
    times: dict[str, list[float]] = {name: [] for name in calls}
    order = list(calls.items())
    with cpu_threads(threads) if on_cpu else nullcontext():
        for _, call in order:
            call()
        synchronize(device)
        started = time.perf_counter()
        for done in range(rounds):
            if done >= min_rounds and time.perf_counter() - started > budget_s:
                break
            for name, call in order if done % 2 == 0 else order[::-1]:
                start = clock()
                call()
                synchronize(device)
                times[name].append(clock() - start)
    return times


def batching_factors(model: torch.nn.Module, inputs: torch.Tensor, device) -> dict[str, float]:
    """The p.155 measurement: ``model`` given ``inputs`` as one batch against one sample at a time
    (``x.unsqueeze(0)`` for each row), beside the control where batching can gain nothing (a batch of one
    sample, ``inputs[:1]``, against that sample alone), in the same alternating rounds (on a CPU, one thread).
    ``factor`` is the batch's samples per second over one at a time, ``no_gain`` the control's."""
    one = inputs[:1]
    with torch.no_grad():
        seconds = timed_rounds(
            {
                "one_at_a_time": lambda: [model(x.unsqueeze(0)) for x in inputs],
                "batched": lambda: model(inputs),
                "control_one_at_a_time": lambda: [model(x.unsqueeze(0)) for x in one],
                "control_batched": lambda: model(one),
            },
            device,
            threads=1 if torch.device(device).type == "cpu" else None,
        )
    # the same samples both ways: a round's time ratio is its factor in samples per second
    return {
        "factor": median_ratio(seconds, "one_at_a_time", "batched"),
        "no_gain": median_ratio(seconds, "control_one_at_a_time", "control_batched"),
        "rounds": len(seconds["batched"]),
    }


def median_ratio(seconds: dict[str, list[float]], slower: str, faster: str) -> float:
    """The median over the rounds of ``slower``'s time over ``faster``'s in the same round."""
    return statistics.median(a / b for a, b in zip(seconds[slower], seconds[faster]))


def cpu_and_blas() -> str:
    """One line: the CPU (model name, logical CPUs), the BLAS torch was built with, its CPU capability (torch
    2.x says it), its parallel backend, and MKL_DEBUG_CPU_TYPE where it is set; from
    ``torch.__config__.show()`` and ``parallel_info()``."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    config = [
        line.strip(" -\t")
        for text in (torch.__config__.show(), torch.__config__.parallel_info())
        for line in text.splitlines()
    ]

    def line_with(*keys: str) -> str | None:
        return next((line for line in config for key in keys if key in line), None)

    blas = line_with("Math Kernel Library", "OpenBLAS")
    if blas is None:  # another BLAS: the build setting that names it (BLAS_INFO=... on 2.x, BLAS=... on 1.x)
        setting = line_with("BLAS_INFO=", "BLAS=") or ""
        blas = next((part.strip() for part in setting.split(",") if "BLAS" in part and "=" in part), "BLAS unknown")
    parts = [f"{model}, {os.cpu_count()} logical CPUs", blas.replace(" for Intel(R) 64 architecture applications", "")]
    parts += [line for line in (line_with("CPU capability"), line_with("ATen parallel backend")) if line]
    if os.environ.get("MKL_DEBUG_CPU_TYPE"):
        parts.append(f"MKL_DEBUG_CPU_TYPE={os.environ['MKL_DEBUG_CPU_TYPE']}")
    return "; ".join(parts)
