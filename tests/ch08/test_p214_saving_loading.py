"""Chapter 8, pages 214-215: saving a model's state_dict, reading it back with torch.load, loading it
into a fresh model, and map_location. The book's calls (dlwpt-code, p1ch8/1_convolution.ipynb) are
torch.save(model.state_dict(), path), loaded_model.load_state_dict(torch.load(path)) and, on page 215,
torch.load(path, map_location=device)."""

from __future__ import annotations

import inspect

import pytest
import torch
import torch.nn as nn

from claims.book.checkpoints import LOAD_HAS_WEIGHTS_ONLY
from claims.book.models import Net, NetBatchNorm
from claims.compat import assert_close, full_float32

# register_buffer(..., persistent=False), a buffer left out of the state_dict: torch 1.6 on
HAS_NON_PERSISTENT_BUFFERS = "persistent" in inspect.signature(nn.Module.register_buffer).parameters


def trained_a_little(model, device):
    """A forward pass in train mode (moves BatchNorm's running statistics) and a nudge to every weight,
    so the model differs from a fresh one in every tensor it saves."""
    model.train()
    model(torch.randn(8, 3, 32, 32, device=device))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01 * torch.randn_like(p))
    return model.eval()


@pytest.mark.claim("ch08.torch-save-writes-the-state-dict-to-a-file")
def test_torch_save_writes_every_parameter_and_buffer(device, tmp_path, evidence):
    """p.214: torch.save(model.state_dict(), path) writes a file holding every parameter and (persistent)
    buffer of the model (for NetBatchNorm its running statistics too), by name, bit for bit."""
    model = trained_a_little(NetBatchNorm().to(device), device)
    path = tmp_path / "birds_vs_airplanes.pt"
    torch.save(model.state_dict(), path)
    saved = torch.load(path, map_location=device)
    evidence.record(file_bytes=path.stat().st_size, keys=len(saved))

    names = [n for n, _ in model.named_parameters()] + [n for n, _ in model.named_buffers()]
    assert sorted(saved) == sorted(names), f"expected {sorted(names)}, file holds {sorted(saved)}"
    for name, tensor in model.state_dict().items():
        assert torch.equal(saved[name], tensor), f"{name} differs after the round trip"


@pytest.mark.claim("ch08.torch-save-writes-the-state-dict-to-a-file")
def test_torch_save_leaves_out_a_non_persistent_buffer(device, tmp_path):
    """p.214, made precise: the file holds every parameter and every persistent buffer, since it holds
    the state_dict; a buffer registered with persistent=False (torch 1.6 on) is part of the model, moves
    with model.to(), and is not in the state_dict, so torch.save never writes it."""
    if not HAS_NON_PERSISTENT_BUFFERS:
        pytest.skip("register_buffer has no persistent argument before torch 1.6: every buffer is saved")
    model = nn.BatchNorm2d(4)
    model.register_buffer("scratch", torch.arange(4.0), persistent=False)
    model.to(device)
    path = tmp_path / "with_a_scratch_buffer.pt"
    torch.save(model.state_dict(), path)
    saved = torch.load(path, map_location=device)

    buffers = [n for n, _ in model.named_buffers()]
    assert "scratch" in buffers and model.scratch.device.type == torch.device(device).type
    assert sorted(saved) == sorted(n for n in ["weight", "bias"] + buffers if n != "scratch"), (
        f"expected the parameters and every buffer but 'scratch', file holds {sorted(saved)}"
    )


@pytest.mark.claim("ch08.torch-load-reads-back-the-state-dict")
def test_torch_load_gives_back_the_saved_names_and_tensors(device, tmp_path, evidence):
    """p.215: the book's torch.load(path), with torch.load's defaults, gives back the state_dict that
    torch.save wrote: the same names in the same order, each tensor bit for bit, on the device it was
    saved from."""
    state = trained_a_little(NetBatchNorm().to(device), device).state_dict()
    path = tmp_path / "birds_vs_airplanes.pt"
    torch.save(state, path)
    loaded = torch.load(path)
    evidence.record(type=type(loaded).__name__, keys=len(loaded))

    assert list(loaded) == list(state), f"expected the names {list(state)}, loaded {list(loaded)}"
    for name, tensor in state.items():
        assert loaded[name].device == tensor.device, f"{name}: saved on {tensor.device}, back on {loaded[name].device}"
        assert torch.equal(loaded[name], tensor), f"{name} differs after the round trip"


@pytest.mark.claim("ch08.torch-load-reads-back-the-state-dict")
def test_the_state_dict_loads_the_same_under_weights_only(device, tmp_path):
    """p.215, on torch 2.6 and later: torch.load's default became weights_only=True, which unpickles only
    tensors and plain containers. A state_dict is only names and tensors, so the book's file loads
    under weights_only=True exactly as with a full unpickler."""
    if not LOAD_HAS_WEIGHTS_ONLY:
        pytest.skip("torch.load has no weights_only before torch 1.13")
    state = trained_a_little(NetBatchNorm().to(device), device).state_dict()
    path = tmp_path / "birds_vs_airplanes.pt"
    torch.save(state, path)
    loaded = torch.load(path, map_location=device, weights_only=True)

    assert list(loaded) == list(state), f"expected the names {list(state)}, loaded {list(loaded)}"
    for name, tensor in state.items():
        assert torch.equal(loaded[name], tensor), f"{name} differs after a weights_only load"


@pytest.mark.claim("ch08.load-state-dict-restores-a-saved-model")
def test_a_fresh_model_loaded_from_the_file_computes_the_same_outputs(device, tmp_path):
    """p.215: loaded_model = Net(); loaded_model.load_state_dict(torch.load(path)) reports that every key
    matched, as the book's notebook prints (In[34]), and gives a model whose outputs equal the saved
    model's bit for bit (a fresh Net alone does not)."""
    model = trained_a_little(Net().to(device), device)
    path = tmp_path / "birds_vs_airplanes.pt"
    torch.save(model.state_dict(), path)
    x = torch.randn(4, 3, 32, 32, device=device)

    loaded_model = Net().to(device)
    with full_float32(deterministic=True):  # the same kernels for both models: exact on every backend
        assert not torch.equal(loaded_model(x), model(x)), "a fresh Net should differ before loading"
        report = loaded_model.load_state_dict(torch.load(path))  # the book's call: saved on this device
        assert_close(loaded_model(x), model(x), rtol=0, atol=0)
    assert repr(report) == "<All keys matched successfully>", f"load_state_dict reported {report!r}"


@pytest.mark.claim("ch08.map-location-loads-onto-another-device")
def test_torch_load_hands_each_saved_tensor_and_its_device_to_map_location(device, tmp_path, evidence):
    """p.215: the file records each tensor's device ('cpu', 'cuda:0'); torch.load passes every saved
    storage with that tag through map_location and places the tensors where map_location says:
    map_location=device puts them on the device, map_location='cpu' on the CPU."""
    model = Net().to(device)
    path = tmp_path / "state.pt"
    torch.save(model.state_dict(), path)

    tags = []
    torch.load(path, map_location=lambda storage, location: tags.append(location) or storage)
    evidence.record(location_tags=sorted(set(tags)), storages=len(tags))
    expected_tag = "cpu" if device.type == "cpu" else f"{device.type}:{torch.empty(0, device=device).device.index}"
    assert len(tags) == 8 and set(tags) == {expected_tag}, f"expected 8 storages tagged {expected_tag}, got {tags}"
    for target in (device, torch.device("cpu")):
        loaded = torch.load(path, map_location=target)
        assert {t.device.type for t in loaded.values()} == {target.type}, f"not all on {target}"


@pytest.mark.claim("ch08.map-location-loads-onto-another-device")
@pytest.mark.devices("cuda", reason="moves a checkpoint between a GPU and the CPU; needs CUDA")
def test_a_model_saved_on_the_gpu_loads_on_the_cpu_and_back(device, tmp_path):
    """p.215: a state_dict saved from a model on the GPU loads onto the CPU with map_location='cpu', into
    a CPU model; a CPU checkpoint loads onto the GPU with map_location=device; the values are unchanged."""
    gpu_model = Net().to(device)
    torch.save(gpu_model.state_dict(), tmp_path / "gpu.pt")
    on_cpu = torch.load(tmp_path / "gpu.pt", map_location="cpu")
    for name, tensor in gpu_model.state_dict().items():
        assert on_cpu[name].device.type == "cpu" and torch.equal(on_cpu[name], tensor.cpu()), name
    cpu_model = Net()
    cpu_model.load_state_dict(on_cpu)

    torch.save(cpu_model.state_dict(), tmp_path / "cpu.pt")
    back = torch.load(tmp_path / "cpu.pt", map_location=device)
    for name, tensor in gpu_model.state_dict().items():
        assert back[name].device.type == "cuda" and torch.equal(back[name], tensor), name


@pytest.mark.claim("ch08.map-location-loads-onto-another-device")
def test_without_map_location_a_cuda_tagged_checkpoint_needs_cuda(tmp_path, monkeypatch):
    """p.215, without a GPU: the file a GPU model leaves, each tensor tagged 'cuda:0' (written from the CPU with
    torch.serialization.location_tag made to tag every storage so), loaded where CUDA is not available
    (torch.cuda.is_available made to say False, as it does on a CPU-only machine), fails without
    map_location, with an error that points at map_location; with map_location='cpu' it loads."""
    state = Net().state_dict()
    with monkeypatch.context() as patch:
        patch.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
        torch.save(state, tmp_path / "gpu.pt")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)

    with pytest.raises(RuntimeError, match="map_location"):
        torch.load(tmp_path / "gpu.pt")
    try:
        loaded = torch.load(tmp_path / "gpu.pt", map_location="cpu")
    except RuntimeError as error:
        pytest.fail(f"expected map_location='cpu' to load the 'cuda:0' tensors onto the CPU, it raised: {error}")
    assert all(loaded[name].device.type == "cpu" and torch.equal(loaded[name], t) for name, t in state.items())


@pytest.mark.claim("ch08.map-location-loads-onto-another-device")
@pytest.mark.devices("cuda", reason="needs a checkpoint saved on a GPU; needs CUDA")
def test_without_map_location_a_gpu_checkpoint_needs_cuda(device, tmp_path, monkeypatch):
    """p.215: a checkpoint saved on the GPU, loaded where CUDA is not available (torch.cuda.is_available
    made to say False, as on a CPU-only machine), fails without map_location, with an error that points
    at map_location; with map_location='cpu' it loads."""
    state = Net().to(device).state_dict()
    torch.save(state, tmp_path / "gpu.pt")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)

    with pytest.raises(RuntimeError, match="map_location"):
        torch.load(tmp_path / "gpu.pt")
    loaded = torch.load(tmp_path / "gpu.pt", map_location="cpu")
    assert all(loaded[name].device.type == "cpu" and torch.equal(loaded[name], t.cpu()) for name, t in state.items())
