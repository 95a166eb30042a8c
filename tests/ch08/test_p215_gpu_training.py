"""Chapter 8, page 215: training on the GPU: model.to(device), inputs on the same device, and the same
training steps as on the CPU."""
import pytest
import torch
import torch.nn as nn
from claims.compat import assert_close
from torch.utils.data import DataLoader, TensorDataset

from claims.book.models import Net, NetBatchNorm
from claims.book.training import training_loop
from fixtures.images import bars

LR = 0.3


@pytest.mark.claim("ch08.model-to-moves-every-parameter-and-buffer")
def test_model_to_moves_every_parameter_and_buffer_in_place(device):
    """p.215: model.to(device) moves every parameter and every buffer (NetBatchNorm's running statistics
    and counters) and returns the same module. With a dtype too, floating tensors convert while the
    integer counter num_batches_tracked keeps int64, so the CPU run checks the same walk over the tensors."""
    model = NetBatchNorm()
    assert model.to(device=device, dtype=torch.float64) is model, "to() should return the module itself"
    tensors = dict(model.named_parameters()) | dict(model.named_buffers())
    misplaced = {n: (t.device.type, t.dtype) for n, t in tensors.items() if t.device.type != device.type}
    not_converted = {n: t.dtype for n, t in tensors.items()
                     if t.dtype != (torch.int64 if n.endswith("num_batches_tracked") else torch.float64)}
    assert len(tensors) == 18 and not misplaced and not not_converted, (
        f"expected all 18 tensors on {device} (floats as float64), misplaced {misplaced}, wrong dtype {not_converted}")
    assert model(torch.randn(2, 3, 32, 32, device=device, dtype=torch.float64)).device.type == device.type


@pytest.mark.claim("ch08.model-to-moves-every-parameter-and-buffer")
@pytest.mark.devices("cuda", reason="needs a second device: a model on the GPU given an input on the CPU")
def test_an_input_left_on_the_cpu_is_a_clear_runtime_error(device):
    """p.215: forgetting imgs.to(device) is an error, not a silent copy: a model on the GPU given a CPU
    batch raises a RuntimeError that names the mismatch."""
    model = Net().to(device)
    with pytest.raises(RuntimeError, match="(?i)device|type"):
        model(torch.randn(2, 3, 32, 32))
    assert model(torch.randn(2, 3, 32, 32).to(device)).device.type == "cuda"


def book_steps(device, dtype, state, images, labels, lr: float, n_epochs: int = 3):
    """The book's training_loop for n_epochs over 2 batches of 32 (6 SGD steps at lr) from the given
    weights, moving the model and each batch to device; returns the epoch losses and the parameter
    updates (final - initial), on the CPU in float64."""
    model = Net().to(device=device, dtype=dtype)
    model.load_state_dict(state)
    loader = DataLoader(TensorDataset(images.to(dtype), labels), batch_size=32)
    losses = training_loop(n_epochs, torch.optim.SGD(model.parameters(), lr=lr), model, nn.CrossEntropyLoss(),
                           loader, device=device)
    updates = torch.cat([(p.detach().cpu().double() - state[n].double()).flatten()
                         for n, p in model.named_parameters()])
    return torch.tensor(losses, dtype=torch.float64), updates


@pytest.mark.claim("ch08.training-on-the-gpu-matches-the-cpu")
def test_a_few_training_steps_on_the_device_match_the_cpu(device, seed, evidence):
    """p.215: six SGD steps of the book's loop (lr=0.3, so the updates stand well above float32 rounding
    of the weights) in float32 on the test's device take the same steps as in float64 on the CPU: the
    epoch losses and the parameter updates agree within float32 rounding. On the CPU this compares
    float32 with float64; on cuda, cuDNN's TF32 convolutions are switched off for the comparison (TF32
    keeps 10 mantissa bits and would need about a 1e-2 tolerance). Margin: on the CPU in float32, seeds
    0-9 gave relative update errors 1.7e-6 to 1.6e-5 against float64 and loss errors below 3e-7; the
    tolerances are 2e-4 and 1e-5."""
    images, labels = bars(64, torch.Generator().manual_seed(seed))
    state = {k: v.clone() for k, v in Net().state_dict().items()}
    ref_losses, ref_updates = book_steps(torch.device("cpu"), torch.float64, state, images, labels, lr=LR)
    with torch.backends.cudnn.flags(enabled=True, allow_tf32=False):
        losses, updates = book_steps(device, torch.float32, state, images, labels, lr=LR)
    rel_error = ((updates - ref_updates).norm() / ref_updates.norm()).item()
    evidence.record(losses=losses.tolist(), reference_losses=ref_losses.tolist(), update_norm=ref_updates.norm().item(),
                    relative_update_error=rel_error)

    assert ref_updates.norm() > 0.05, f"the steps should move the weights, moved {ref_updates.norm()}"
    assert ref_losses[-1] < ref_losses[0], f"the loss should fall over the steps: {ref_losses.tolist()}"
    assert_close(losses, ref_losses, rtol=1e-5, atol=0)
    assert rel_error < 2e-4, f"expected the updates within 2e-4 (relative) of float64, measured {rel_error:.2e}"
