"""Chapter 8, page 215: training on the GPU: model.to(device), inputs on the same device, and the same
training steps as on the CPU.

The GPU run is compared with a CPU run, both in float32 (TF32 off). Each differs from the exact steps by
float32 rounding, summed in another order on each device, so their gap is at most about twice the
rounding that the seed sweep below measures on the CPU against float64 (seeds 0-49). One effect of
rounding is not small: where two pixels of a max-pool window are (nearly) equal, as inside a bar of
one colour, rounding can flip which one the window picks, and that window's gradient then flows to
another pixel. That moves the updates of the conv layers, before the pools, by up to 3.5e-4 (relative),
while the linear layers after the pools stay within 4.3e-6. Hence one tolerance for each. The GPU's own gap
to the CPU has not been measured yet (no GPU was at hand): the test records it in the ledger, and the ranges
below are to be checked against it on the first GPU run.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

from claims.book.models import Net, NetBatchNorm
from claims.book.training import training_loop
from claims.compat import full_float32
from claims.devices import dtype_or_skip
from fixtures.images import bars

LR = 0.3  # large, so six steps move the weights well above float32 rounding of the weights
# Relative gaps the test allows (GPU against CPU: at most about twice one device's rounding); beside each, float32
# against float64 on the CPU over seeds 0-49, torch 2.14.1 (1.4.0 where it differs), which the sweep checks at
# half the tolerance.
TOLERANCE = {
    # conv1 and conv2 updates: 1.8e-6 to 3.5e-4 (1.7e-4), from max-pool picks that rounding flips. 5e-3 is 7 times
    # twice that: the GPU's own rounding (cuDNN's summation orders, the picks they flip) is not measured yet
    "conv": 5e-3,
    "fc": 1e-4,  # fc1 and fc2 updates: 7.9e-7 to 3.7e-6 (4.3e-6)
    "loss": 1e-5,  # each epoch's mean loss: 1.0e-8 to 1.2e-7 (2.5e-8 to 2.0e-7)
}


@pytest.mark.claim("ch08.model-to-moves-every-parameter-and-buffer")
def test_model_to_moves_every_parameter_and_buffer_in_place(device):
    """p.215: model.to(device) moves every parameter and every buffer (NetBatchNorm's running statistics
    and counters) and returns the same module. With a dtype too, floating tensors convert while the
    integer counter num_batches_tracked keeps int64, so the CPU run checks the same walk over the tensors."""
    dtype = dtype_or_skip(device)  # float64: a conversion every device but MPS can make
    model = NetBatchNorm()
    assert model.to(device=device, dtype=dtype) is model, "to() should return the module itself"
    tensors = {**dict(model.named_parameters()), **dict(model.named_buffers())}
    misplaced = {n: (t.device.type, t.dtype) for n, t in tensors.items() if t.device.type != device.type}
    not_converted = {
        n: t.dtype
        for n, t in tensors.items()
        if t.dtype != (torch.int64 if n.endswith("num_batches_tracked") else dtype)
    }
    assert len(tensors) == 18 and not misplaced and not not_converted, (
        f"expected all 18 tensors on {device} (floats as float64), misplaced {misplaced}, wrong dtype {not_converted}"
    )
    assert model(torch.randn(2, 3, 32, 32, device=device, dtype=dtype)).device.type == device.type


@pytest.mark.claim("ch08.model-to-moves-every-parameter-and-buffer")
@pytest.mark.devices("cuda", reason="needs a second device: a model on the GPU given an input on the CPU")
def test_on_the_gpu_every_tensor_moves_and_an_input_left_on_the_cpu_is_an_error(device):
    """p.215: NetBatchNorm().to(device) puts all 18 parameters and buffers on the GPU; forgetting
    imgs.to(device) is then an error, not a silent copy: a CPU batch raises a RuntimeError."""
    model = NetBatchNorm().to(device).eval()
    tensors = {**dict(model.named_parameters()), **dict(model.named_buffers())}
    left_behind = [n for n, t in tensors.items() if t.device.type != "cuda"]
    assert len(tensors) == 18 and not left_behind, f"expected all 18 tensors on the GPU, left behind {left_behind}"
    with pytest.raises(RuntimeError, match="(?i)device|type"):
        model(torch.randn(2, 3, 32, 32))
    assert model(torch.randn(2, 3, 32, 32).to(device)).device.type == "cuda"


def book_steps(device, dtype, state, images, labels, n_epochs: int = 3) -> dict:
    """The book's training_loop for n_epochs over 2 batches of 32 (6 SGD steps at LR) from the given
    weights, with the model and each batch moved to device; returns the epoch losses and the updates
    (final - initial weights) of the conv layers and of the linear layers, on the CPU in float64."""
    model = Net()
    model.load_state_dict(state)
    model.to(device=device, dtype=dtype)
    loader = DataLoader(TensorDataset(images.to(dtype), labels), batch_size=32)
    with full_float32():  # TF32 keeps 10 mantissa bits and would need about a 1e-2 tolerance everywhere
        losses = training_loop(
            n_epochs, torch.optim.SGD(model.parameters(), lr=LR), model, nn.CrossEntropyLoss(), loader, device=device
        )
    updates = {n: (p.detach().cpu().double() - state[n].double()).flatten() for n, p in model.named_parameters()}
    return {
        "loss": torch.tensor(losses, dtype=torch.float64, device="cpu"),
        "conv": torch.cat([u for n, u in updates.items() if n.startswith("conv")]),
        "fc": torch.cat([u for n, u in updates.items() if n.startswith("fc")]),
    }


def relative_gaps(measured: dict, reference: dict) -> dict:
    """For each part, |measured - reference| / |reference| (norms; the largest per epoch for the losses)."""
    gaps = {
        part: ((measured[part] - reference[part]).norm() / reference[part].norm()).item() for part in ("conv", "fc")
    }
    gaps["loss"] = ((measured["loss"] - reference["loss"]).abs() / reference["loss"].abs()).max().item()
    return gaps


@pytest.mark.claim("ch08.training-on-the-gpu-matches-the-cpu")
@pytest.mark.devices("cuda", reason="compares a training run on the GPU with one on the CPU; needs CUDA")
def test_a_few_training_steps_on_the_gpu_match_the_cpu(device, seed, evidence):
    """p.215: six SGD steps of the book's loop, from the same weights on the same batches, in float32 on
    the GPU and on the CPU: the epoch losses and the parameter updates agree within float32 rounding."""
    images, labels = bars(64, torch.Generator().manual_seed(seed))
    state = {k: v.clone() for k, v in Net().state_dict().items()}
    cpu = book_steps(torch.device("cpu"), torch.float32, state, images, labels)
    gpu = book_steps(device, torch.float32, state, images, labels)
    gaps = relative_gaps(gpu, cpu)
    evidence.record(
        gpu_losses=gpu["loss"].tolist(),
        cpu_losses=cpu["loss"].tolist(),
        relative_gaps=gaps,
        update_norms={part: cpu[part].norm().item() for part in ("conv", "fc")},
    )

    assert cpu["fc"].norm() > 0.05, f"the steps should move the weights, moved {cpu['fc'].norm()}"
    assert cpu["loss"][-1] < cpu["loss"][0], f"the loss should fall over the steps: {cpu['loss'].tolist()}"
    too_far = {part: gap for part, gap in gaps.items() if gap >= TOLERANCE[part]}
    assert not too_far, f"expected the GPU within {TOLERANCE} of the CPU, measured {gaps}"


@pytest.mark.sweep
def test_sweep_float32_rounding_of_six_book_steps(one_cpu_thread):
    """Measures the margins above: float32 against float64 on the CPU, seeds 0-49."""
    gaps = []
    for seed in range(50):
        torch.manual_seed(seed)
        images, labels = bars(64, torch.Generator().manual_seed(seed))
        state = {k: v.clone() for k, v in Net().state_dict().items()}
        exact = book_steps(torch.device("cpu"), torch.float64, state, images, labels)
        gaps.append(relative_gaps(book_steps(torch.device("cpu"), torch.float32, state, images, labels), exact))
    ranges = {part: (min(g[part] for g in gaps), max(g[part] for g in gaps)) for part in TOLERANCE}
    print("float32 against float64, seeds 0-49:", {part: f"{lo:.1e}-{hi:.1e}" for part, (lo, hi) in ranges.items()})
    assert all(hi < TOLERANCE[part] / 2 for part, (lo, hi) in ranges.items()), f"margins too thin: {ranges}"
