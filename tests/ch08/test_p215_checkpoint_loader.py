"""The suite's checkpoint loader (claims.book.checkpoints), beside pages 214-215: a harness test, not a
claim. The book loads with plain ``torch.load``; the loader adds one clear error for a bad file, and
must never call a good file corrupt because this torch lacks a keyword (``weights_only`` came in 1.13).
"""

from __future__ import annotations

import pytest
import torch

from claims.book.checkpoints import LEGACY_START, load_state_dict_file
from claims.book.models import Net
from claims.errors import DataFileError

PROBLEMS = {
    "missing": "no such checkpoint file",
    "cut-short": "not a readable PyTorch checkpoint",
    "cut-in-half": "not a readable PyTorch checkpoint",
    "not-a-checkpoint": "not a PyTorch checkpoint",
    "a-list": "not a state_dict",
    "whole-model": "save model.state_dict() instead",
}


def test_a_good_checkpoint_loads_on_every_torch(tmp_path):
    """The book's file, torch.save(model.state_dict(), path), loads whether or not torch.load has weights_only."""
    model = Net()
    torch.save(model.state_dict(), tmp_path / "birds_vs_airplanes.pt")
    state = load_state_dict_file(tmp_path / "birds_vs_airplanes.pt", map_location="cpu")
    assert list(state) == list(model.state_dict()), f"expected Net's keys, loaded {list(state)}"
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items()), "tensors changed on load"


@pytest.mark.parametrize("damage", list(PROBLEMS))
def test_a_missing_or_damaged_checkpoint_is_one_clear_error(tmp_path, damage):
    """A missing file, one cut short or in half, a text file, a file that holds no state_dict and a whole
    pickled model each raise one DataFileError whose one-line message names the file and the problem."""
    path = tmp_path / "birds_vs_airplanes.pt"
    torch.save(Net().state_dict(), path)
    if damage == "missing":
        path.unlink()
    elif damage == "cut-short":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "cut-in-half":
        if path.read_bytes().startswith(LEGACY_START):
            pytest.skip(
                "this torch saves the legacy format, and torch 1.4 aborts the whole process on a legacy "
                "checkpoint cut inside its tensor data"
            )
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "not-a-checkpoint":
        path.write_text("conv1.weight,0.1,0.2\n")
    elif damage == "a-list":
        torch.save([torch.ones(2)], path)
    else:
        torch.save(Net(), path)

    with pytest.raises(DataFileError) as caught:
        load_state_dict_file(path, map_location="cpu")
    message = str(caught.value)
    assert message.startswith(str(path)) and PROBLEMS[damage] in message and "\n" not in message, message
