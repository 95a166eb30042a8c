"""Chapter 8, pages 214-215: saving a model's state_dict, loading it back, torch.load's defaults,
map_location, and one clear error for a bad checkpoint file."""
import pickle

import pytest
import torch
from claims.compat import assert_close

from claims import torch_at_least
from claims.book.checkpoints import load_state_dict_file
from claims.book.models import Net, NetBatchNorm
from claims.errors import DataFileError


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
    """p.214: torch.save(model.state_dict(), path) writes a file holding every parameter and buffer of
    the model (for NetBatchNorm its running statistics too), by name, bit for bit."""
    model = trained_a_little(NetBatchNorm().to(device), device)
    path = tmp_path / "birds_vs_airplanes.pt"
    torch.save(model.state_dict(), path)
    saved = torch.load(path, map_location=device)
    evidence.record(file_bytes=path.stat().st_size, keys=len(saved))

    names = [n for n, _ in model.named_parameters()] + [n for n, _ in model.named_buffers()]
    assert sorted(saved) == sorted(names), f"expected {sorted(names)}, file holds {sorted(saved)}"
    for name, tensor in model.state_dict().items():
        assert torch.equal(saved[name], tensor), f"{name} differs after the round trip"


@pytest.mark.claim("ch08.load-state-dict-restores-a-saved-model")
def test_a_fresh_model_loaded_from_the_file_computes_the_same_outputs(device, tmp_path):
    """p.215: loaded_model = Net(); loaded_model.load_state_dict(torch.load(path)) gives a model whose
    outputs equal the saved model's bit for bit (a fresh Net alone does not)."""
    model = trained_a_little(Net().to(device), device)
    path = tmp_path / "birds_vs_airplanes.pt"
    torch.save(model.state_dict(), path)
    x = torch.randn(4, 3, 32, 32, device=device)

    loaded_model = Net().to(device)
    assert not torch.equal(loaded_model(x), model(x)), "a fresh Net should differ before loading"
    loaded_model.load_state_dict(torch.load(path, map_location=device))
    assert_close(loaded_model(x), model(x), rtol=0, atol=0)


@pytest.mark.claim("ch08.load-state-dict-restores-a-saved-model")
@pytest.mark.parametrize("damage", ["missing", "truncated", "not-a-checkpoint", "a-list", "whole-model"])
def test_a_missing_or_corrupt_checkpoint_is_one_clear_error(device, tmp_path, damage):
    """p.215, for bad files: the suite's loader (claims.book.checkpoints) raises one DataFileError that
    names the file and says what is wrong, for a missing file, a truncated one, a text file, a file
    that holds no state_dict, and a whole pickled model."""
    path = tmp_path / "birds_vs_airplanes.pt"
    torch.save(Net().state_dict(), path)
    assert len(load_state_dict_file(path, map_location=device)) == 8  # the good file loads
    if damage == "missing":
        path.unlink()
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
    elif damage == "not-a-checkpoint":
        path.write_text("conv1.weight,0.1,0.2\n")
    elif damage == "a-list":
        torch.save([torch.ones(2)], path)
    else:
        torch.save(Net(), path)
    problems = {"missing": "no such checkpoint file", "truncated": "not a readable PyTorch checkpoint",
                "not-a-checkpoint": "not a PyTorch checkpoint", "a-list": "not a state_dict",
                "whole-model": "save model.state_dict() instead"}

    with pytest.raises(DataFileError) as caught:
        load_state_dict_file(path, map_location=device)
    message = str(caught.value)
    assert message.startswith(str(path)) and problems[damage] in message and "\n" not in message, message


@pytest.mark.claim("ch08.torch-load-unpickles-whatever-was-saved")
def test_a_plain_state_dict_loads_with_the_default_and_with_weights_only(device, tmp_path):
    """p.215: the book's torch.load(path) of a state_dict works on every version, and under
    weights_only=True too: a state_dict is only names and tensors."""
    model = Net().to(device)
    path = tmp_path / "state.pt"
    torch.save(model.state_dict(), path)
    for loaded in (torch.load(path, map_location=device), torch.load(path, map_location=device, weights_only=True)):
        assert all(torch.equal(loaded[k], v) for k, v in model.state_dict().items()), "state_dict changed on load"


@pytest.mark.claim("ch08.torch-load-unpickles-whatever-was-saved")
def test_a_pickled_whole_model_loads_by_default_only_before_2_6(device, tmp_path, evidence):
    """p.215, amended: torch.save(model) pickles the whole module. Before torch 2.6, torch.load(path)
    unpickled it; since 2.6 the default weights_only=True refuses it with an UnpicklingError, and
    weights_only=False (trusted files only) still loads it."""
    model = Net().to(device)
    path = tmp_path / "whole_model.pt"
    torch.save(model, path)
    x = torch.randn(2, 3, 32, 32, device=device)

    if torch_at_least("2.6"):
        with pytest.raises(pickle.UnpicklingError, match="weights_only"):
            torch.load(path, map_location=device)
        evidence.record(default_refuses_whole_model=True)
    else:
        assert_close(torch.load(path, map_location=device)(x), model(x), rtol=0, atol=0)
        evidence.record(default_refuses_whole_model=False)
    assert_close(torch.load(path, map_location=device, weights_only=False)(x), model(x), rtol=0, atol=0)


@pytest.mark.claim("ch08.map-location-loads-onto-another-device")
def test_map_location_places_the_tensors_where_asked(device, tmp_path, evidence):
    """p.215: each saved tensor carries its device's location tag ('cpu', 'cuda:0'); torch.load with
    map_location=device puts every tensor on that device, and map_location='cpu' brings a checkpoint
    saved on any device to the CPU."""
    model = Net().to(device)
    path = tmp_path / "state.pt"
    torch.save(model.state_dict(), path)

    tags = []
    torch.load(path, map_location=lambda storage, location: tags.append(location) or storage)
    evidence.record(location_tags=sorted(set(tags)))
    expected_tag = "cpu" if device.type == "cpu" else f"{device.type}:{torch.empty(0, device=device).device.index}"
    assert set(tags) == {expected_tag}, f"expected tag {expected_tag}, file has {set(tags)}"
    for target in (device, torch.device("cpu")):
        loaded = torch.load(path, map_location=target)
        assert {t.device for t in loaded.values()} == {torch.empty(0, device=target).device}, f"not all on {target}"


@pytest.mark.claim("ch08.map-location-loads-onto-another-device")
def test_a_cuda_checkpoint_needs_map_location_where_there_is_no_cuda(device, tmp_path, monkeypatch):
    """p.215: a checkpoint whose tensors are tagged 'cuda:0' (forged here by tagging CPU tensors so, which
    is what torch.save writes for a model on the first GPU) loads on a CPU-only machine only with
    map_location: without it torch.load raises and points at map_location; with it the tensors land
    on the given device."""
    state = Net().state_dict()
    path = tmp_path / "trained_on_gpu.pt"
    with monkeypatch.context() as patch:
        patch.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
        torch.save(state, path)

    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="map_location"):
            torch.load(path)
    loaded = torch.load(path, map_location=device)
    for name, tensor in state.items():
        assert loaded[name].device.type == device.type and torch.equal(loaded[name].cpu(), tensor), name


@pytest.mark.claim("ch08.map-location-loads-onto-another-device")
@pytest.mark.devices("cuda", reason="moves a checkpoint between a GPU and the CPU; needs CUDA")
def test_a_model_saved_on_the_gpu_loads_on_the_cpu_and_back(device, tmp_path):
    """p.215: a state_dict saved from a model on the GPU loads into a CPU model with map_location='cpu',
    and a CPU checkpoint loads onto the GPU with map_location=device; the values are unchanged."""
    gpu_model = Net().to(device)
    torch.save(gpu_model.state_dict(), tmp_path / "gpu.pt")
    cpu_model = Net()
    cpu_model.load_state_dict(torch.load(tmp_path / "gpu.pt", map_location="cpu"))
    for (name, a), b in zip(gpu_model.state_dict().items(), cpu_model.state_dict().values()):
        assert b.device.type == "cpu" and torch.equal(a.cpu(), b), name

    torch.save(cpu_model.state_dict(), tmp_path / "cpu.pt")
    back = torch.load(tmp_path / "cpu.pt", map_location=device)
    assert all(t.device.type == "cuda" and torch.equal(t, gpu_model.state_dict()[k]) for k, t in back.items())
