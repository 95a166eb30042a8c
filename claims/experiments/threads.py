"""Run small CPU models on one thread.

Deep stacks of tiny layers (100 conv layers on a few 8x8 or 16x16 images) are hundreds of small ops;
on a busy machine two OpenMP threads spin at every op's barrier and such a test took 5-8 s where one
thread takes 0.1-0.3 s. The results do not depend on the thread count beyond rounding.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch


@contextmanager
def cpu_threads(n: int):
    """``with cpu_threads(n): ...`` runs the block with ``torch.set_num_threads(n)``, then restores it."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def one_cpu_thread():
    """``with one_cpu_thread(): ...``: the block on one CPU thread."""
    return cpu_threads(1)
