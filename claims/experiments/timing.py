"""Timing for the p.155 batching claim: several alternating rounds, every call timed once per round.

Each round times every call once, in turn, so that within a round all of them see the same machine; the
comparison is made round by round (one call's time over the other's). Other work on a shared machine slows a
whole round, not one side of it, so the ratio of the two is steadier than either time. Every call has one
untimed warm-up call first (first calls allocate memory and pick kernels).

Which round to believe: with one thread's CPU time (or on a GPU) the rounds are steady, and the median ratio is
the estimate. With the wall clock and several threads on a busy CPU a round's ratio swings either way: where
the two calls did the same work it read 0.02-1.96x, the median round up to 1.96x. A caller that must not
report a gain where there is none takes the round least favourable to it there (0.02-1.01x in those runs).

The clock:
- on a GPU, wall time from the call's start until the device has finished (``claims.devices.synchronize``);
- on a CPU with several threads, wall time: samples per second is what batching is for;
- on a CPU with one thread (``threads=1``), that thread's CPU time (``time.thread_time``), which other
  processes on a shared machine do not inflate.

Why a CPU claim may be measured both ways: one thread's CPU time is steady on a busy machine, where torch's
normal threads measure the scheduler. On this 2-core CPU with six other processes busy, one thread gave the
MLP a factor of 2.4-3.0x on torch 1.4 and 5.9-7.5x on 2.14; two threads gave 0.7-21x in runs of up to 20 s,
because every parallel region waits for a thread that another process holds. With the machine otherwise
idle, one thread gave 1.3-2.2x on torch 1.4 (its single-thread matrix products are slow) and 4.7-6.2x on
2.14, two threads 2.5-3.8x and 3.7-8.5x. A batch spreads over more cores at least as well as one sample
does, so each is a fair lower bound on what batching gains.
"""

from __future__ import annotations

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
    rounds: int = 9,
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
    with cpu_threads(threads) if on_cpu else nullcontext():
        for call in calls.values():
            call()
        synchronize(device)
        started = time.perf_counter()
        for done in range(rounds):
            if done >= min_rounds and time.perf_counter() - started > budget_s:
                break
            for name, call in calls.items():
                start = clock()
                call()
                synchronize(device)
                times[name].append(clock() - start)
    return times
