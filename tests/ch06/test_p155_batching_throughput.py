"""Chapter 6, page 155: one sample at a time does not saturate the CPU or GPU, so we batch.

Each test runs a model on 64 samples (the book's batch size) as one batch and, alternately, on 16 of
them one at a time (``x.unsqueeze(0)``), and compares samples per second (``claims.bench.one_vs_batched``:
the best of 3 rounds; on the CPU one thread, timed by that thread's CPU time so that other processes on
a shared machine do not decide the verdict). The full picture, every batch size from 1 to 4096 and a
training step too, is in the benchmarks: ``python -m pytest tests/benchmarks --benchmark-only``.

Margins, from 38 runs of this measurement (3 and 5 rounds) on this 2-core CPU while other test runs
shared it (load 3-6): batched/one-at-a-time was 4.1-6.6x for fc_deep, 1.2-2.1x for Net and NetResDeep.
(Timed by wall clock instead, the same runs swung 1.3-5.6x for fc_deep and 0.3-1.8x for the conv nets.)
The line the suite draws between "one sample saturates" and "it does not" is 3x, which leaves 1.4x of
margin on each side. On a GPU a batch of 64 costs about what one sample costs (each call is a few
kernel launches), so its bound is 10x (expected: several tens; not measured yet: no GPU here).
"""
import pytest

from claims import bench

CLAIM = "ch06.batching-multiplies-throughput"
CONV_NETS_ON_CPU = "ch06.batching-multiplies-small-conv-net-throughput-on-a-cpu"
BATCH = 64  # the book's DataLoader batch size (chapters 7 and 8)
AT_LEAST = {"cpu": 3.0, "cuda": 10.0, "mps": 3.0}  # batched / one-at-a-time samples per second


def measure(name: str, device, evidence) -> dict[str, float]:
    model = bench.build(name, device)
    inputs, _ = bench.example_batch(name, BATCH, device)
    rates = bench.one_vs_batched(model, inputs, device)
    evidence.record(model=name, batch=BATCH, **{k: round(v, 3) for k, v in rates.items() if v is not None})
    return rates


@pytest.mark.claim(CLAIM)
def test_batching_multiplies_the_mlps_throughput(device, evidence):
    """p.155: the chapter-7 MLP (3072-1024-512-128-2, p.187) one sample at a time reads all 3.7 million
    weights per sample (a matrix-vector product); a batch of 64 reads them once for all 64, and gets
    several times the samples per second."""
    rates = measure("fc_deep", device, evidence)
    bound = AT_LEAST[device.type]
    assert rates["ratio"] >= bound, (
        f"expected a batch of {BATCH} to give at least {bound}x the one-at-a-time throughput on {device}, "
        f"measured {rates['batched']:.0f} vs {rates['one_at_a_time']:.0f} samples/s ({rates['ratio']:.2f}x)")


@pytest.mark.claim(CLAIM)
@pytest.mark.devices("cuda", "mps", reason="on a CPU these conv nets gain little from batching: "
                                           "see ch06.batching-multiplies-small-conv-net-throughput-on-a-cpu")
@pytest.mark.parametrize("name", ["Net", "NetResDeep"])
def test_batching_multiplies_the_conv_nets_throughput_on_a_gpu(name, device, evidence):
    """p.155: on a GPU a conv net run on one image is a handful of kernel launches that leave most of
    the chip idle; 64 images cost about as much time, so batching multiplies the throughput."""
    rates = measure(name, device, evidence)
    bound = AT_LEAST[device.type]
    assert rates["ratio"] >= bound, (
        f"expected {name} on a batch of {BATCH} to give at least {bound}x the one-at-a-time throughput on "
        f"{device}, measured {rates['batched']:.0f} vs {rates['one_at_a_time']:.0f} samples/s ({rates['ratio']:.2f}x)")


@pytest.mark.claim(CONV_NETS_ON_CPU)
@pytest.mark.devices("cpu", reason="the refutation is about CPUs; on a GPU batching multiplies these nets' "
                                   "throughput (ch06.batching-multiplies-throughput)")
@pytest.mark.parametrize("name", ["Net", "NetResDeep"])
def test_small_conv_nets_gain_little_from_batching_on_a_cpu(name, device, evidence):
    """p.155, too broad: on a CPU one 32x32 image already makes each convolution a matrix product over
    its 1,024 pixel positions, so the book's Net (p.208) and NetResDeep (p.227) gain less than the 3x
    that the MLP gets: one sample already keeps the core nearly as busy as a batch."""
    rates = measure(name, device, evidence)
    assert rates["ratio"] < AT_LEAST["cpu"], (
        f"expected {name} on a batch of {BATCH} to stay under {AT_LEAST['cpu']}x the one-at-a-time "
        f"throughput on the CPU, measured {rates['batched']:.0f} vs {rates['one_at_a_time']:.0f} samples/s "
        f"({rates['ratio']:.2f}x)")
