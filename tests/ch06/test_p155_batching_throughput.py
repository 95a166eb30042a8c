"""Chapter 6, page 155: one sample at a time does not saturate the CPU or GPU, so we batch.

Each test runs one of the book's models on the same 64 samples (the book's batch size) as one batch and one
sample at a time (``x.unsqueeze(0)``, 64 calls), alternating, for up to nine rounds (``timing.timed_rounds``,
a warm-up call first); each round's ratio of the two times is its factor, the batch's samples per second over
the single samples'. On a CPU it is measured on one thread by that thread's CPU time, and the factor is the
median round; where that falls short of the bound, on torch's normal threads too, by wall time, which other
processes inflate at random on either side: there the factor is the round least favourable to batching
(``timing.py`` says why both). On a GPU it is the median round. The full picture, batch sizes 1 to 4096 and a
training step too, is in the benchmarks: ``python -m pytest tests/benchmarks --benchmark-only``.

The CPU bound is the suite's, set from measurements on this 2-core CPU. The MLP's factor on one thread was
1.3-2.2x on torch 1.4 and 4.7-6.2x on 2.14 with the machine otherwise idle or lightly used, 2.3-3.0x and
5.9-7.5x with six other processes busy; on two threads of an idle machine 2.5-3.8x and 3.7-8.5x. Re-measured
with five to eight other processes busy: one thread 1.65-2.21x on torch 1.4 and 3.2-5.2x on 2.14 (8 runs each).
Where batching can gain nothing, with every batch run one sample at a time (the fault
``modules-run-a-batch-one-sample-at-a-time``) or a batch of one sample, the same call both ways (the skeptic's
fault ``a-batch-of-one-sample``), it measured at most 1.17x (24 runs, torch 1.4 and 2.14: one thread
0.76-1.17x, the least favourable round on two threads 0.02-1.01x; the median round on two threads, which the
test once used, read up to 1.96x there, so it passed under that fault in 3 of 6 runs). The bound, 1.5x, sits
between the two. The conv nets gain less on a CPU, 1.2-2.4x on one thread here, too close to that noise to
draw a line, so they are measured on GPUs only.

On a GPU no bound has been measured yet (no GPU has run this suite): there the tests record each model's
factor and assert only what the statement says without a number, more samples per second batched than one
at a time. A GPU run's factors are what a bound for GPUs will be set from.
"""

import statistics

import pytest
import torch

from claims.book.models import Net, NetResDeep, fc_deep
from claims.experiments.timing import timed_rounds

CLAIM = "ch06.batching-multiplies-throughput"
BATCH = 64  # the book's DataLoader batch size (chapters 7 and 8)
MODELS = {  # the model, and the shape of one sample
    "fc_deep": (fc_deep, (3 * 32 * 32,)),  # p.187: the chapter-7 MLP takes a flattened 3x32x32 image
    "Net": (Net, (3, 32, 32)),  # p.208
    "NetResDeep": (NetResDeep, (3, 32, 32)),  # p.227, 10 blocks
}
# batched / one-at-a-time samples per second, the suite's bound, measured on the CPU (module docstring); on a GPU
# none is measured yet: the test asserts only "more samples per second" there, a factor above 1.
AT_LEAST = {"cpu": 1.5}
MORE = 1.0
ON_GPUS_ONLY = pytest.mark.devices(
    "cuda",
    "mps",
    reason="a conv net's gain from batching on a CPU (1.2-2.4x on one thread) is too close to this measurement's noise",
)


@pytest.mark.claim(CLAIM)
@pytest.mark.parametrize(
    "name", ["fc_deep", pytest.param("Net", marks=ON_GPUS_ONLY), pytest.param("NetResDeep", marks=ON_GPUS_ONLY)]
)
def test_a_batch_processes_more_samples_per_second_than_one_at_a_time(name, device, evidence):
    """p.155: one sample at a time leaves the CPU or GPU partly idle; the same model given the whole
    batch of 64 at once processes more samples per second, on a CPU at least 1.5 times as many (the MLP)."""
    build, sample_shape = MODELS[name]
    model = build().to(device).eval()
    inputs = torch.randn(BATCH, *sample_shape).to(device)
    bound = AT_LEAST.get(device.type, MORE)
    # On a CPU: one thread's CPU time first, steady on a shared machine; where that falls short, torch's normal
    # threads too, which an idle machine's batch spreads over. Each is a lower bound on the gain (see timing.py).
    configurations = [1, torch.get_num_threads()] if device.type == "cpu" else [None]
    factors = {}
    for threads in dict.fromkeys(configurations):
        with torch.no_grad():
            seconds = timed_rounds(
                {"one_at_a_time": lambda: [model(x.unsqueeze(0)) for x in inputs], "batched": lambda: model(inputs)},
                device,
                threads=threads,
            )
        # the same 64 samples both ways: each round's time ratio is its factor in samples per second
        ratios = [a / b for a, b in zip(seconds["one_at_a_time"], seconds["batched"])]
        # One thread's CPU time, and a GPU, give steady rounds: their median. Several CPU threads are timed by the
        # wall clock, which other processes inflate at random on either side: there, the round least favourable
        # to batching (the module docstring has the numbers).
        factors[threads] = min(ratios) if device.type == "cpu" and threads != 1 else statistics.median(ratios)
        if factors[threads] >= bound:
            break
    factor = max(factors.values())
    evidence.record(
        model=name,
        batch=BATCH,
        factor=round(factor, 2),
        factor_by_cpu_threads={str(t): round(f, 2) for t, f in factors.items() if t},
    )

    wanted = f"at least {bound}x" if device.type in AT_LEAST else f"more than {MORE}x"
    assert factor >= bound and factor > MORE, (
        f"expected {name} on a batch of {BATCH} to process {wanted} the samples per second it does one "
        f"at a time on {device}, measured {factor:.2f}x (by number of threads: {factors})"
    )
