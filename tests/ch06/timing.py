"""Timing for the p.155 batching claim: the best of several alternating rounds, the same for every side.

Each round times every call once, in turn, so that all of them see the same machine; the estimate of each
is its best (shortest) round: other work on the machine only ever adds time, so the best round is the
closest to an undisturbed one, and taking it for every side keeps the comparison fair. Every call has one
untimed warm-up call first (first calls allocate memory and pick kernels).

The clock:
- on a GPU, wall time from the call's start until the device has finished (``claims.devices.synchronize``);
- on a CPU, the CPU time of the one thread doing the work (``torch.set_num_threads(1)``,
  ``time.thread_time``). With torch's normal threads the measurement is the scheduler's on a shared
  machine: on this 2-core CPU under the other test runs (load 8-9), two threads gave factors of
  0.6-4.2x for the MLP and 7.8-14.6x for Net in runs of 2-50 s, because every parallel region waits for
  a thread that another process holds. One thread's CPU time is steady, and it is a lower bound on the
  gain: a batch spreads over more cores at least as well as one sample does (at load 1-2, two threads
  gave 5.3-8.2x for the MLP and 2.1-3.5x for Net; one thread gives 4.4-8.7x and 1.2-2.4x).
"""
from __future__ import annotations

import time
from contextlib import nullcontext
from typing import Callable, Dict

import torch

from claims.book.threads import one_cpu_thread
from claims.devices import synchronize


def best_seconds(calls: Dict[str, Callable[[], object]], device, rounds: int = 5, min_rounds: int = 3,
                 budget_s: float = 1.0) -> Dict[str, float]:
    """The best time of each of ``calls`` over up to ``rounds`` alternating rounds (see the module
    docstring for the clock). Past ``min_rounds``, no new round starts once ``budget_s`` seconds of wall
    time have gone by, so a slow machine costs a little time, not minutes."""
    on_cpu = torch.device(device).type == "cpu"
    clock = time.thread_time if on_cpu else time.perf_counter
    with one_cpu_thread() if on_cpu else nullcontext():
        for call in calls.values():
            call()
        synchronize(device)
        best = {name: float("inf") for name in calls}
        started = time.perf_counter()
        for done in range(rounds):
            if done >= min_rounds and time.perf_counter() - started > budget_s:
                break
            for name, call in calls.items():
                start = clock()
                call()
                synchronize(device)
                best[name] = min(best[name], clock() - start)
    return best
