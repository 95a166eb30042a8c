"""Pages 214-215: the book saves a model's ``state_dict`` with ``torch.save`` and loads it back with
``model.load_state_dict(torch.load(path, map_location=device))``.

``load_state_dict_file`` is that ``torch.load`` with one clear error for a bad file: a missing,
truncated or foreign file raises ``DataFileError`` naming the file and the problem, instead of a
zip-reader or unpickler traceback. It loads with ``weights_only=True`` (the default since torch 2.6),
so a file that holds anything but tensors is refused rather than unpickled.
"""
from __future__ import annotations

from pathlib import Path

import torch

from claims.errors import DataFileError


def load_state_dict_file(path: str | Path, map_location=None) -> dict[str, torch.Tensor]:
    """The ``state_dict`` saved at ``path``, its tensors on ``map_location`` (as torch.load maps them)."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(path, "no such checkpoint file")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises RuntimeError, UnpicklingError, EOFError... depending on the damage
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataFileError(path, f"not a readable PyTorch state_dict checkpoint ({detail[:160]})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise DataFileError(path, f"holds a {type(state).__name__}, not a state_dict of tensors")
    return state
