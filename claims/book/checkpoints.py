"""Pages 214-215: the book saves a model's ``state_dict`` with ``torch.save`` and loads it back with
``model.load_state_dict(torch.load(path, map_location=device))``.

``load_state_dict_file`` is that ``torch.load`` with one clear error for a bad file: a missing,
truncated or foreign file raises ``DataFileError`` naming the file and the problem, instead of a
zip-reader or unpickler traceback. Where torch.load has ``weights_only`` (torch 1.13 on; the default
since 2.6) it loads with ``weights_only=True``, so a file that holds anything but tensors is refused
rather than unpickled; an older torch unpickles the file (load only files you trust there) and the
result is checked afterwards. Only the errors a damaged file causes become a ``DataFileError``: a
``TypeError`` from a call this torch does not support is a bug in the loader and propagates.
"""

from __future__ import annotations

import inspect
import pickle
import re
import zipfile
from pathlib import Path

import torch
import torch.nn as nn

from claims.errors import DataFileError

ZIP_START = b"PK\x03\x04"  # torch.save's format since torch 1.6: a zip archive
LEGACY_START = b"\x80\x02"  # torch.save before 1.6, or with _use_new_zipfile_serialization=False: pickle protocol 2
LOAD_HAS_WEIGHTS_ONLY = "weights_only" in inspect.signature(torch.load).parameters  # torch 1.13 on
# Besides the unpickler's UnpicklingError, what torch.load raises for a damaged file, by release and
# damage: the zip reader's RuntimeError, EOFError, an OSError from reading past the end, a ValueError.
DAMAGE = (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile)


def load_state_dict_file(path: str | Path, map_location=None) -> dict[str, torch.Tensor]:
    """The ``state_dict`` saved at ``path``, its tensors on ``map_location`` (as torch.load maps them)."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(path, "no such checkpoint file")
    with path.open("rb") as f:
        start = f.read(4)
    if not start.startswith((ZIP_START, LEGACY_START)):
        raise DataFileError(
            path, "not a PyTorch checkpoint (neither the zip archive torch.save writes nor its legacy pickle format)"
        )
    options = {"weights_only": True} if LOAD_HAS_WEIGHTS_ONLY else {}
    try:
        state = torch.load(path, map_location=map_location, **options)
    except pickle.UnpicklingError as exc:
        if options and "weights" in str(exc).lower():
            raise DataFileError(
                path,
                "holds pickled objects besides tensors (a whole model?), which loading with "
                "weights_only=True refuses; save model.state_dict() instead",
            ) from None
        raise DataFileError(path, f"not a readable PyTorch checkpoint ({_first_sentence(exc)})") from None
    except DAMAGE as exc:
        raise DataFileError(path, f"not a readable PyTorch checkpoint ({_first_sentence(exc)})") from None
    if isinstance(state, nn.Module):
        raise DataFileError(
            path,
            f"holds a whole pickled model ({type(state).__name__}), not a state_dict; save model.state_dict() instead",
        )
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise DataFileError(path, f"holds a {type(state).__name__}, not a state_dict of tensors")
    return state


def _first_sentence(exc: Exception) -> str:
    """The first sentence of an exception's message, without terminal colour codes, for a one-line error."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip().splitlines()
    return (text[0].split(". ")[0] if text else type(exc).__name__)[:160]
