"""Chapter 8, pages 214-215, across releases: a checkpoint the book's torch 1.4 wrote, loaded by the book's
call on the torch installed here.

The book saved with torch.save(model.state_dict(), path) on torch 1.4, which wrote the legacy format (a
pickle stream; torch 1.6 made a zip archive the default). A reader who kept such a file loads it on
today's torch, whose torch.load defaults to weights_only=True since 2.6. The files are in fixtures/
(fixtures/torch14_checkpoints.py says how torch 1.4 made them) with what the models computed there.
"""

from __future__ import annotations

import pickle
import zipfile

import pytest
import torch

from claims.book.checkpoints import LEGACY_START, LOAD_HAS_WEIGHTS_ONLY
from claims.book.models import Net, NetBatchNorm
from claims.compat import assert_close, full_float32
from fixtures import torch14_checkpoints

CLAIM = "ch08.legacy-checkpoints-load-on-every-release"
CHECKPOINTS = torch14_checkpoints.CHECKPOINTS  # {"Net": path, "NetBatchNorm": path}, written by torch 1.4
# The records that open a legacy file, before the pickled state_dict: torch.serialization's magic number,
# its protocol version, and the writer's system information (byte order, sizes of short, int and long).
LEGACY_MAGIC_NUMBER, LEGACY_PROTOCOL_VERSION = 0x1950A86A20F9469CFC6C, 1001
# float32 against torch 1.4's logits: measured gaps 0 (Net) and 4.5e-8 (NetBatchNorm) on torch 1.10.2, 1.13.1,
# 2.5.1, 2.6.0 and 2.14.1 (0 and 0 on 1.4);
# a load that rounds the weights through float16 moves them by 8e-5 and more.
RTOL, ATOL = 1e-5, 1e-6


def book_model(name: str):
    return Net() if name == "Net" else NetBatchNorm(n_chans1=torch14_checkpoints.N_CHANS1)


def legacy_header(path) -> list:
    """The three records a legacy file starts with (magic number, protocol version, system info)."""
    with open(path, "rb") as f:
        return [pickle.load(f) for _ in range(3)]


def loaded_and_computed(name: str, device, **load_options):
    """The book's In[39]: loaded_model = Model().to(device); loaded_model.load_state_dict(torch.load(path,
    map_location=device)); returns what load_state_dict reports and the model's logits for the probe images."""
    loaded_model = book_model(name).to(device=device)
    report = loaded_model.load_state_dict(torch.load(CHECKPOINTS[name], map_location=device, **load_options))
    with torch.no_grad(), full_float32():  # TF32 on cuda would round the float32 inputs to 10 mantissa bits
        logits = loaded_model.eval()(torch14_checkpoints.probe_images().to(device))
    return repr(report), logits.cpu()


@pytest.mark.claim(CLAIM)
def test_the_books_torch_1_4_wrote_the_legacy_format():
    """p.214: torch 1.4's torch.save(model.state_dict(), path) wrote a pickle stream (protocol 2), not a
    zip archive: it opens with the legacy magic number, protocol version 1001 and the writer's system
    information, then the state_dict."""
    for name, path in CHECKPOINTS.items():
        start = path.read_bytes()[:2]
        assert start == LEGACY_START and not zipfile.is_zipfile(path), (
            f"{path.name}: expected the legacy pickle format, found a file starting {start!r} (zip: "
            f"{zipfile.is_zipfile(path)})"
        )
        magic, version, sys_info = legacy_header(path)
        assert (magic, version) == (LEGACY_MAGIC_NUMBER, LEGACY_PROTOCOL_VERSION), f"{name}: {magic:#x} {version}"
        assert sys_info["little_endian"] and sys_info["protocol_version"] == LEGACY_PROTOCOL_VERSION, sys_info


@pytest.mark.claim(CLAIM)
def test_a_torch_1_4_checkpoint_loads_and_computes_what_it_computed_there(device, evidence):
    """p.215: with torch.load's defaults (weights_only=True since torch 2.6), the book's call loads each
    torch 1.4 checkpoint into the book's Net and NetBatchNorm: all keys match, and the models compute
    the logits they computed on torch 1.4."""
    for name in CHECKPOINTS:
        report, logits = loaded_and_computed(name, device)
        evidence.record(**{name: logits.tolist()})
        assert report == "<All keys matched successfully>", f"{name}: load_state_dict reported {report}"
        assert_close(logits, torch.tensor(torch14_checkpoints.TORCH14_LOGITS[name]), rtol=RTOL, atol=ATOL)


@pytest.mark.claim(CLAIM)
def test_a_torch_1_4_checkpoint_loads_the_same_under_weights_only(device):
    """p.215, from torch 1.13 (where torch.load has weights_only): the torch 1.4 files hold only names,
    tensors and an OrderedDict, so they load under weights_only=True too, into models that compute
    torch 1.4's logits."""
    if not LOAD_HAS_WEIGHTS_ONLY:
        pytest.skip("torch.load has no weights_only before torch 1.13")
    for name in CHECKPOINTS:
        report, logits = loaded_and_computed(name, device, weights_only=True)
        assert report == "<All keys matched successfully>", f"{name}: load_state_dict reported {report}"
        assert_close(logits, torch.tensor(torch14_checkpoints.TORCH14_LOGITS[name]), rtol=RTOL, atol=ATOL)


@pytest.mark.claim(CLAIM)
def test_torch_save_still_writes_that_format_when_asked(tmp_path, evidence):
    """p.214: torch.save(state, path, _use_new_zipfile_serialization=False) still writes the legacy format
    (torch 1.4 has the switch too, and writes it by default): the file opens like torch 1.4's, and loads
    to the same names in the same order, each tensor bit for bit."""
    formats = {}
    for name, path in CHECKPOINTS.items():
        state = torch.load(path, map_location="cpu")
        resaved = tmp_path / path.name
        torch.save(state, resaved, _use_new_zipfile_serialization=False)
        torch.save(state, tmp_path / "default.pt")
        formats[name] = "zip" if zipfile.is_zipfile(tmp_path / "default.pt") else "legacy"

        assert not zipfile.is_zipfile(resaved), f"{name}: asked for the legacy format, torch.save wrote a zip"
        magic, version, sys_info = legacy_header(resaved)
        assert (magic, version) == (LEGACY_MAGIC_NUMBER, LEGACY_PROTOCOL_VERSION), f"{name}: {magic:#x} {version}"
        again = torch.load(resaved, map_location="cpu")
        assert list(again) == list(state), f"{name}: expected the keys {list(state)}, loaded {list(again)}"
        assert all(torch.equal(again[k], v) for k, v in state.items()), f"{name}: tensors changed"
    evidence.record(default_format=formats)
